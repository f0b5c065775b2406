//! The HTTP/1.1 listener: accepts connections, enforces connection hygiene, and hands requests to
//! the router.
//!
//! `axum::serve` offers no header-read timeout, no connection limit and no say over the bodies
//! hyper writes for requests it cannot parse, so connections are served here with hyper directly:
//! - a request head must arrive within `header_read_timeout_secs`; the same timer closes a
//!   keep-alive connection that stays idle that long between requests (hyper starts it as soon as
//!   the connection is ready for the next head);
//! - at most `max_connections` connections are open at once; one more is answered 503 in the
//!   envelope and closed;
//! - heads over `max_header_bytes` get 431, paths over 64 KiB 414, unparsable requests 400 — all
//!   rewritten into JSON envelopes by [`super::raw_errors::JsonErrorIo`];
//! - the peer address travels with each request (`ConnectInfo`) for the failed-auth throttle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::raw_errors::{self, JsonErrorIo};
use crate::config::Config;

/// Listener settings, taken from [`Config`].
#[derive(Clone, Debug)]
pub struct ListenerOptions {
    /// Time allowed for a request head, and for an idle keep-alive connection.
    pub header_read_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Largest request head in bytes.
    pub max_header_bytes: usize,
}

impl ListenerOptions {
    /// The options a configuration asks for.
    pub fn from_config(config: &Config) -> Self {
        ListenerOptions {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
            max_connections: config.max_connections,
            max_header_bytes: config.max_header_bytes,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then lets open connections finish
/// their current request (they are told to close) and returns when all have.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ListenerOptions,
    shutdown: CancellationToken,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(options.max_header_bytes.max(8192))
        .max_header_size(options.max_header_bytes)
        .keep_alive(true);
    let http = Arc::new(http);
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let app = app.clone();
        let http = http.clone();
        let watcher = graceful.watcher();
        let first_head = options.header_read_timeout;
        tokio::spawn(async move {
            match opening(&stream, first_head).await {
                Opening::Http1 => {}
                Opening::Http2 => {
                    // hyper (HTTP/1.1 only here) would close without a word.
                    refuse_with(stream, 505, "HTTP/2 is not supported: use HTTP/1.1").await;
                    return;
                }
                // Nothing within the head timeout (or the peer left): close, as hyper would.
                Opening::Silent => return,
            }
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
            let conn = http.serve_connection(TokioIo::new(JsonErrorIo::new(stream)), service);
            // Errors here are the client's (reset, timeout, malformed request already answered).
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The HTTP/2 connection preface a client with prior knowledge sends first.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// How a connection opens.
enum Opening {
    /// Anything but the HTTP/2 preface: hyper takes it from here.
    Http1,
    /// The HTTP/2 prior-knowledge preface.
    Http2,
    /// No byte within the head timeout, or the peer closed.
    Silent,
}

/// Looks at the first bytes of a connection without consuming them.
async fn opening(stream: &TcpStream, wait: Duration) -> Opening {
    let mut buf = [0u8; H2_PREFACE.len()];
    let peek = async {
        loop {
            match stream.peek(&mut buf).await {
                Ok(0) | Err(_) => return Opening::Silent,
                Ok(n) => {
                    let n = n.min(H2_PREFACE.len());
                    if buf[..n] != H2_PREFACE[..n] {
                        return Opening::Http1;
                    }
                    if n == H2_PREFACE.len() {
                        return Opening::Http2;
                    }
                    // A prefix of the preface so far: wait for more bytes.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
    };
    tokio::time::timeout(wait, peek)
        .await
        .unwrap_or(Opening::Silent)
}

/// Answers a connection over the limit with a 503 envelope and closes it.
async fn refuse(stream: TcpStream) {
    tracing::warn!("connection limit reached: refusing a connection");
    refuse_with(
        stream,
        503,
        "Service temporarily unavailable, please retry.",
    )
    .await;
}

/// Writes one envelope response and closes the connection.
async fn refuse_with(mut stream: TcpStream, status: u16, message: &str) {
    let bytes = raw_errors::envelope_response(status, message);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// The peer address of a request, when it came through [`serve`].
pub fn peer(req: &axum::http::request::Parts) -> Option<SocketAddr> {
    req.extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a)
}
