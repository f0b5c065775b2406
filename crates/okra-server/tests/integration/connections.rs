//! Issue 7: what the HTTP layer answers below the application — malformed requests, oversized
//! heads and bodies, slow or idle connections, too many connections — spoken over raw sockets,
//! so nothing a client library normalises hides a non-JSON body or a missing header.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend_tests;
use crate::common::{Backend, TestServer};

/// A response read off a raw socket.
pub struct RawReply {
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status, self.body
            )
        })
    }
}

pub async fn connect(s: &TestServer) -> TcpStream {
    TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads one response (head, then `content-length` bytes of body) from `stream`.
pub async fn read_reply(stream: &mut TcpStream) -> RawReply {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("response within 10 s")
            .expect("read");
        assert!(
            n > 0,
            "connection closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("body within 10 s")
            .expect("read");
        assert!(n > 0, "connection closed inside the body");
        body.extend_from_slice(&chunk[..n]);
    }
    RawReply {
        status,
        headers,
        body: String::from_utf8_lossy(&body[..len]).to_string(),
    }
}

/// Sends `request` on a fresh connection and reads the answer.
pub async fn exchange(s: &TestServer, request: &[u8]) -> RawReply {
    let mut stream = connect(s).await;
    // The server may answer and close before it has read everything (a huge head): a failed
    // write is fine as long as a response comes back.
    let _ = stream.write_all(request).await;
    read_reply(&mut stream).await
}

/// Whether the server closes `stream` (EOF or reset) within `limit`.
pub async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

fn assert_envelope(r: &RawReply, status: u16, message: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "{:?}",
        r.headers
    );
    let v = r.json();
    assert_eq!(v["status"], "error");
    assert_eq!(v["message"], message);
    assert!(r.header("x-request-id").is_some());
}

async fn errors_below_the_application_are_json_envelopes(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();

    // 431: a 1 MB Authorization header.
    let huge = format!(
        "GET /v2/sandbox/banks/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let r = exchange(&s, huge.as_bytes()).await;
    assert_envelope(&r, 431, "Request headers are too large");

    // 414: a 100 KB path.
    let long = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "p".repeat(100 * 1024)
    );
    let r = exchange(&s, long.as_bytes()).await;
    assert_envelope(&r, 414, "Request path is too long");

    // 400: requests hyper cannot parse.
    for bad in [
        "GET /health\r\n\r\n".to_string(),
        format!("POST /v2/sandbox/customers/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{{}}"),
        "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u{1}b\r\n\r\n".to_string(),
    ] {
        let r = exchange(&s, bad.as_bytes()).await;
        assert_envelope(&r, 400, "Bad request: the HTTP request could not be parsed");
    }

    // 505: HTTP/2 with prior knowledge (hyper would close without a word).
    let r = exchange(&s, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    assert_envelope(&r, 505, "HTTP/2 is not supported: use HTTP/1.1");

    // 400, not 413: a body that cannot be read (broken chunked encoding).
    let broken = format!("POST /v2/sandbox/customers/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n");
    let r = exchange(&s, broken.as_bytes()).await;
    assert_envelope(&r, 400, "Bad request: the request body could not be read");

    // JSON nested past serde's own recursion limit gets the documented depth message.
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let r = s
        .request(
            reqwest::Method::POST,
            "/v2/sandbox/customers/list",
            Some(&key),
            Some(&deep),
            Some("application/json"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert_eq!(
        r.json()["message"],
        "Invalid JSON body: nesting is deeper than 32 levels"
    );

    // 413: a 5 MB body announced by Content-Length, refused before it is read, with the real limit.
    let big = format!(
        "POST /v2/sandbox/customers/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        5 * 1024 * 1024
    );
    let r = exchange(&s, big.as_bytes()).await;
    assert_envelope(
        &r,
        413,
        &format!(
            "Request body is too large: the limit is {} bytes",
            s.config.body_limit_bytes
        ),
    );
    assert_eq!(
        r.header("connection"),
        Some("close"),
        "the body was not read"
    );
    s.stop().await;
}

async fn slow_and_idle_connections_are_closed(b: Backend) {
    let s = TestServer::start_with(b, |c| c.header_read_timeout_secs = 1, Default::default()).await;
    // A head that never finishes.
    let mut slow = connect(&s).await;
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(8)).await,
        "a connection whose head never completes stays open"
    );
    // An idle keep-alive connection after one full exchange.
    let mut idle = connect(&s).await;
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_reply(&mut idle).await.status, 200);
    assert!(
        closed_within(&mut idle, Duration::from_secs(8)).await,
        "an idle keep-alive connection stays open"
    );
    // A connection that keeps talking is served throughout.
    let mut busy = connect(&s).await;
    for _ in 0..3 {
        busy.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_reply(&mut busy).await.status, 200);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    s.stop().await;
}

async fn connections_over_the_limit_get_503(b: Backend) {
    let s = TestServer::start_with(b, |c| c.max_connections = 2, Default::default()).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = connect(&s).await;
        c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_reply(&mut c).await.status, 200);
        held.push(c);
    }
    let r = exchange(&s, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_envelope(&r, 503, "Service temporarily unavailable, please retry.");
    drop(held);
    // Slots come back when connections close.
    let mut ok = false;
    for _ in 0..50 {
        if exchange(&s, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .status
            == 200
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "closed connections free their slots");
    s.stop().await;
}

async fn unread_bodies_close_the_connection_explicitly(b: Backend) {
    let s = TestServer::start(b).await;
    let body = r#"{"page":1}"#;
    let post = |key: &str, path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // Refused before the body was read: the server says it will close.
    for (key, path, status) in [
        ("sk_sandbox_forged", "/v2/sandbox/customers/list", 401),
        (s.sandbox_key().as_str(), "/v2/sandbox/no/such/route", 404),
    ] {
        let mut c = connect(&s).await;
        c.write_all(post(key, path).as_bytes()).await.unwrap();
        let r = read_reply(&mut c).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert_eq!(r.header("connection"), Some("close"), "{path}");
        assert!(closed_within(&mut c, Duration::from_secs(5)).await);
    }
    // A request whose body was read keeps the connection for the next request.
    let mut c = connect(&s).await;
    for _ in 0..2 {
        c.write_all(post(&s.sandbox_key(), "/v2/sandbox/customers/list").as_bytes())
            .await
            .unwrap();
        let r = read_reply(&mut c).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("connection"), None);
    }
    s.stop().await;
}

/// A body a little over the limit is read and discarded, the 413 comes whole, and the connection
/// serves the next request: a client still sending is not reset mid-body (which many clients
/// report as a broken pipe instead of the 413). Far over the limit, the server answers at once
/// and closes.
async fn bodies_a_little_over_the_limit_get_their_413_on_a_live_connection(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let mut c = connect(&s).await;
    let head = format!(
        "POST /v2/sandbox/customers/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        huge.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(huge.as_bytes()).await.unwrap();
    let r = read_reply(&mut c).await;
    assert_envelope(
        &r,
        413,
        "Request body is too large: the limit is 1048576 bytes",
    );
    assert_eq!(r.header("connection"), None, "the connection stays open");
    let body = r#"{"page":1}"#;
    let next = format!(
        "POST /v2/sandbox/customers/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.write_all(next.as_bytes()).await.unwrap();
    assert_eq!(read_reply(&mut c).await.status, 200);
    s.stop().await;
}

backend_tests!(
    bodies_a_little_over_the_limit_get_their_413_on_a_live_connection,
    errors_below_the_application_are_json_envelopes,
    slow_and_idle_connections_are_closed,
    connections_over_the_limit_get_503,
    unread_bodies_close_the_connection_explicitly,
);
