//! JSON envelopes for the errors hyper answers by itself.
//!
//! When a request cannot be parsed (HTTP/0.9 request line, duplicate `Content-Length`, a space in
//! the path, a control character in a header), its path is over 64 KiB or its head over the limit,
//! hyper writes a bare `400`/`414`/`431` with an empty body and closes the connection; the
//! application never sees the request. The contract says no request may get a non-JSON error
//! body, and hyper has no hook for that response, so [`JsonErrorIo`] sits under hyper on the
//! socket and swaps such a response for the same status with an envelope body.
//!
//! It recognises hyper's automatic response by shape: a 4xx/5xx status line and a head with
//! `content-length: 0`, nothing after the head, and no `x-request-id` header — every response
//! the application produces carries `x-request-id` (the outer middleware sets it), so none of
//! them can be mistaken for it.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A socket whose bare hyper error responses are rewritten into JSON envelopes.
pub struct JsonErrorIo<T> {
    inner: T,
    /// A replacement being written, how much of it is out, and the length hyper asked to write.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> JsonErrorIo<T> {
    /// Wraps a socket.
    pub fn new(inner: T) -> Self {
        JsonErrorIo {
            inner,
            pending: None,
        }
    }
}

/// The message for a status hyper answers on its own.
fn message(status: u16) -> &'static str {
    match status {
        400 => "Bad request: the HTTP request could not be parsed",
        408 => "Request timed out",
        413 => "Request body is too large",
        414 => "Request path is too long",
        431 => "Request headers are too large",
        s if s >= 500 => "Service temporarily unavailable, please retry.",
        _ => "Bad request",
    }
}

/// A whole HTTP/1.1 response with the envelope `{"status":"error","message":…,"data":{}}`,
/// closing the connection.
pub fn envelope_response(status: u16, message: &str) -> Vec<u8> {
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let body = serde_json::json!({"status": "error", "message": message, "data": {}}).to_string();
    let request_id = okra_core::id::new_id();
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\
         x-request-id: {request_id}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The replacement for `buf` when it is exactly one of hyper's bare error responses.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || !matches!(code[0], b'4' | b'5') {
        return None;
    }
    let status = std::str::from_utf8(code).ok()?.parse::<u16>().ok()?;
    // The head must end the buffer: nothing (no body) after it.
    if !buf.ends_with(b"\r\n\r\n")
        || buf.windows(4).position(|w| w == b"\r\n\r\n")? != buf.len() - 4
    {
        return None;
    }
    let head = String::from_utf8_lossy(buf).to_ascii_lowercase();
    if head.contains("\r\nx-request-id:") || !head.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    Some(envelope_response(status, message(status)))
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonErrorIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonErrorIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            match rewrite(buf) {
                Some(replacement) => this.pending = Some((replacement, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        let (bytes, written, asked) = this.pending.as_mut().expect("pending replacement");
        while *written < bytes.len() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        let asked = *asked;
        this.pending = None;
        // Tell hyper its whole response went out: it then closes the connection as it meant to.
        Poll::Ready(Ok(asked))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map(|b| &**b);
        let this = self.get_mut();
        match first {
            // Either is handled as a plain write of the first slice (a legal partial write).
            Some(first) if this.pending.is_some() || rewrite(first).is_some() => {
                Pin::new(this).poll_write(cx, first)
            }
            _ => Pin::new(&mut this.inner).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn only_bare_error_heads_are_rewritten() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 00:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(bare).expect("rewritten")).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(out.contains("content-type: application/json\r\n"));
        let body = out.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["message"], "Request headers are too large");
        assert_eq!(v["status"], "error");

        // The application's own responses carry x-request-id, or a body, or succeed.
        let app = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-request-id: abc\r\n\r\n";
        assert!(rewrite(app).is_none());
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert!(rewrite(with_body).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ok).is_none());
        assert!(rewrite(b"{\"status\":\"error\"}").is_none());
    }
}
