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
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = http.serve_connection(TokioIo::new(JsonErrorIo::new(stream)), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are the client's (reset, timeout, malformed request already answered).
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection over the limit with a 503 envelope and closes it.
async fn refuse(mut stream: TcpStream) {
    tracing::warn!("connection limit reached: refusing a connection");
    let bytes =
        raw_errors::envelope_response(503, "Service temporarily unavailable, please retry.");
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
