//! The TCP listener the service accepts on. Its connections turn hyper's own answers to
//! requests it cannot parse (a request target over 64 KiB, a header section over hyper's
//! buffer or with too many fields, bytes that are not HTTP/1.1) into problem documents
//! with an `x-request-id`, like every other answer. hyper writes those answers itself,
//! before any middleware runs, as a bare status line with `content-length: 0`; nothing the
//! router answers has that shape (every error the router sends has a problem body), so the
//! connection recognises them by their first bytes and writes the full answer instead.
//!
//! The connections also close lingeringly: after the last answer, the write side is shut
//! and what the client still sends is read and dropped for a moment. A client whose upload
//! is refused from its `Content-Length` (413) is still sending the body when the answer
//! goes out; closing at once would reset the connection, and the client would see a broken
//! pipe instead of the answer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use progimage_core::problem::{ErrorCode, Problem};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// A [`TcpListener`] whose connections are [`ProblemIo`]s with `TCP_NODELAY` set.
pub struct ProblemListener(pub TcpListener);

impl axum::serve::Listener for ProblemListener {
    type Io = ProblemIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, address) = axum::serve::Listener::accept(&mut self.0).await;
        let _ = stream.set_nodelay(true);
        (ProblemIo::new(stream), address)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// How long a closing connection keeps reading what the client still sends, and how much.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 << 20;

/// A connection that rewrites hyper's bodiless parse-error answers and closes lingeringly
/// (see the module doc).
pub struct ProblemIo<T> {
    inner: T,
    /// The replacement answer still to write, and how much of it is written.
    pending: Vec<u8>,
    written: usize,
    /// Set once the write side is shut: the end of the lingering read, and its bytes.
    linger: Option<Pin<Box<tokio::time::Sleep>>>,
    lingered: usize,
}

impl<T> ProblemIo<T> {
    pub fn new(inner: T) -> ProblemIo<T> {
        ProblemIo { inner, pending: Vec::new(), written: 0, linger: None, lingered: 0 }
    }
}

/// The automatic answers hyper sends, by status line, with the problem each becomes.
fn automatic_answer(bytes: &[u8]) -> Option<Problem> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    // The whole answer is a head with an empty body.
    if head_end + 4 != bytes.len() {
        return None;
    }
    let head = std::str::from_utf8(&bytes[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    if !lines.any(|line| line.eq_ignore_ascii_case("content-length: 0")) {
        return None;
    }
    let problem = match status_line {
        "HTTP/1.1 414 URI Too Long" => Problem::new(
            ErrorCode::UriTooLong,
            "the request target is longer than the limit of 65534 bytes",
        ),
        "HTTP/1.1 431 Request Header Fields Too Large" => Problem::new(
            ErrorCode::HeadersTooLarge,
            "the request's header section is larger than the limit of about 400 KiB, or has \
             more than 100 fields",
        ),
        "HTTP/1.1 400 Bad Request" => {
            Problem::new(ErrorCode::MalformedRequest, "the request is not well-formed HTTP/1.1")
        }
        _ => return None,
    };
    Some(problem)
}

/// The full answer for `problem`: a problem document that closes the connection (hyper
/// closes it after a parse error).
fn answer(mut problem: Problem) -> Vec<u8> {
    let id = Uuid::now_v7().simple().to_string();
    problem.request_id = id.clone();
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let reason = axum::http::StatusCode::from_u16(problem.status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("Bad Request");
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/problem+json\r\n\
         cache-control: no-store\r\nx-request-id: {id}\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n",
        problem.status,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    tracing::info!(request.id = %id, status = problem.status, code = %problem.code, "request refused before routing");
    out
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> ProblemIo<T> {
    /// Reads and drops what the client sends until it closes, errs, or the time or byte
    /// budget is spent.
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut scratch = [0u8; 8192];
        loop {
            let over = self.linger.as_mut().is_none_or(|end| end.as_mut().poll(cx).is_ready());
            if over || self.lingered > LINGER_BYTES {
                return Poll::Ready(());
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf)) {
                Ok(()) if !buf.filled().is_empty() => self.lingered += buf.filled().len(),
                _ => return Poll::Ready(()),
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        // hyper's automatic answers are short: only a short buffer can be one.
        if buf.len() < 512
            && let Some(problem) = automatic_answer(buf)
        {
            self.pending = answer(problem);
            self.written = 0;
            // The replacement stands for the whole of `buf`; what is not written now is
            // written by the next write, flush or shutdown.
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        if self.linger.is_none() {
            ready!(Pin::new(&mut self.inner).poll_shutdown(cx))?;
            self.linger = Some(Box::pin(tokio::time::sleep(LINGER)));
        }
        ready!(self.poll_linger(cx));
        Poll::Ready(Ok(()))
    }

    // Not vectored: hyper then flattens each answer into one buffer, the one judged above.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_parse_error_answers_are_recognised() {
        let hyper_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                          date: Thu, 03 Dec 2026 10:00:00 GMT\r\n\r\n";
        assert_eq!(automatic_answer(hyper_431).unwrap().code, "headers_too_large");
        let hyper_414 = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_answer(hyper_414).unwrap().status, 414);
        let hyper_400 = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_answer(hyper_400).unwrap().code, "malformed_request");
        // The router's own 400s carry a problem body.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n\
                     content-length: 20\r\n\r\n{\"code\":\"invalid\"}..";
        assert!(automatic_answer(ours).is_none());
        // A HEAD answer of ours has a non-zero length and no body.
        let head = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\n\r\n";
        assert!(automatic_answer(head).is_none());
        assert!(
            automatic_answer(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").is_none()
        );
    }

    #[test]
    fn the_answer_is_a_problem_document_with_a_request_id() {
        let bytes = answer(Problem::new(ErrorCode::UriTooLong, "long"));
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        let problem: Problem = serde_json::from_str(body).unwrap();
        assert_eq!(problem.status, 414);
        assert!(head.contains(&format!("x-request-id: {}", problem.request_id)));
        assert!(head.contains(&format!("content-length: {}", body.len())));
    }
}
