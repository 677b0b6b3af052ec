//! The connections under the router, with the bounds `axum::serve` does not set (docs/api.md#conventions):
//!
//! - a request's headers must arrive within [`HEADER_TIMEOUT`] of its first byte (and a new
//!   connection's first request within that time of the connection), else the connection closes,
//!   with a 408 when part of a request had come;
//! - a kept-alive connection waiting for its next request closes after [`IDLE_TIMEOUT`];
//! - a request must be answered within `LATCHKEY_REQUEST_TIMEOUT` of its headers, body included,
//!   and a body the handler left unread is drained before the answer goes out: both in
//!   `crate::http::request_bounds`, which the one layer every request passes calls.
//!
//! hyper's own `header_read_timeout` is not used: its timer also runs while a kept-alive
//! connection waits for the next request (hyper 1.x restarts it when the connection goes idle), so
//! it cannot close idle connections later than slow headers. [`Bounded`] keeps both clocks instead,
//! told by [`Requests`] when a request is being answered.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::http::request_bounds::TIMEOUT_DETAIL;

/// How long a request's headers may take to arrive, from their first byte.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may wait for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` until `shutdown` resolves, then waits for the requests being
/// answered (idle connections close at once).
pub(crate) async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) {
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                tokio::spawn(connection(stream, peer, router.clone(), stopping.clone()));
            }
            Err(error) => accept_failed(error).await,
        }
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(());
    // Every connection task holds a receiver: this returns when the last one has ended.
    stop.closed().await;
}

/// A connection reset before it was accepted concerns that client only. Anything else (most often
/// running out of file descriptors) would fail again at once, so the loop pauses instead of spinning.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn connection(stream: TcpStream, peer: SocketAddr, router: Router, mut stopping: watch::Receiver<()>) {
    let activity = Arc::new(Mutex::new(Activity::new(Instant::now())));
    let io = TokioIo::new(Bounded::new(stream, activity.clone()));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.header_read_timeout(None);
    let connection = builder.serve_connection(io, Requests { router, peer, activity });
    tokio::pin!(connection);
    let mut stopped = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection closed with an error");
                }
                return;
            }
            _ = stopping.changed(), if !stopped => {
                stopped = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Where a connection is between requests, shared by its socket ([`Bounded`]) and its service
/// ([`Requests`]).
#[derive(Debug)]
struct Activity {
    /// Requests being answered: while there is one, the request timeout is the only clock.
    busy: usize,
    /// When the current wait began: the connection, the last answer or write, or a head's first byte.
    since: Instant,
    /// How long the current wait may last.
    patience: Duration,
    /// Part of a request has arrived: a timeout is then answered with a 408.
    head_started: bool,
    /// The read that found no deadline while a request was answered. Without hyper's header timer,
    /// hyper does not read again when the answer is done (only when the socket wakes it), so the
    /// end of the request wakes this read, which then arms the idle timer.
    parked_reader: Option<Waker>,
}

impl Activity {
    fn new(now: Instant) -> Self {
        Self { busy: 0, since: now, patience: HEADER_TIMEOUT, head_started: false, parked_reader: None }
    }

    fn read(&mut self, now: Instant) {
        if self.busy == 0 && !self.head_started {
            self.head_started = true;
            self.since = now;
            self.patience = HEADER_TIMEOUT;
        }
    }

    /// An answer still being written to a slow reader is not idleness.
    fn wrote(&mut self, now: Instant) {
        if self.busy == 0 && !self.head_started {
            self.since = now;
        }
    }

    fn request_started(&mut self) {
        self.busy += 1;
        self.head_started = false;
    }

    fn request_ended(&mut self, now: Instant) {
        self.busy = self.busy.saturating_sub(1);
        self.since = now;
        self.patience = IDLE_TIMEOUT;
        if let Some(reader) = self.parked_reader.take() {
            reader.wake();
        }
    }

    fn deadline(&self) -> Option<Instant> {
        (self.busy == 0).then(|| self.since + self.patience)
    }
}

fn lock(activity: &Mutex<Activity>) -> MutexGuard<'_, Activity> {
    // The state is a few counters, consistent after any panic: poisoning carries no meaning here.
    activity.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The 408 written straight to the socket when headers stop arriving: hyper has no request to
/// answer then, and the client deserves to know why the connection closes.
fn header_timeout_response() -> String {
    let body = format!(r#"{{"detail":"{TIMEOUT_DETAIL}","code":"request_timeout"}}"#);
    format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A socket whose reads fail once the connection has waited too long (see [`Activity`]); hyper
/// then closes it.
#[derive(Debug)]
struct Bounded {
    stream: TcpStream,
    activity: Arc<Mutex<Activity>>,
    timer: Pin<Box<Sleep>>,
    /// The last write could not complete: part of an answer may still be queued in hyper.
    write_blocked: bool,
}

impl Bounded {
    fn new(stream: TcpStream, activity: Arc<Mutex<Activity>>) -> Self {
        let timer = Box::pin(tokio::time::sleep(HEADER_TIMEOUT));
        Self { stream, activity, timer, write_blocked: false }
    }

    /// Called when a read would wait: arms the timer for the current deadline, and fails the read
    /// once it has passed.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (deadline, head_started) = {
            let mut activity = lock(&self.activity);
            let deadline = activity.deadline();
            if deadline.is_none() {
                activity.parked_reader = Some(cx.waker().clone());
            }
            (deadline, activity.head_started)
        };
        let Some(deadline) = deadline else { return Poll::Pending };
        // The deadline moves later with every request of a kept-alive connection. Re-arming the
        // timer each time would update the timer wheel once per request; instead a timer left on
        // an earlier deadline fires early and is re-armed then, about once a minute.
        if self.timer.deadline() > deadline {
            self.timer.as_mut().reset(deadline);
        }
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if self.timer.deadline() >= deadline {
                break;
            }
            self.timer.as_mut().reset(deadline);
        }
        if head_started && !self.write_blocked {
            // Best effort: the socket is closing either way.
            let _ = self.stream.try_write(header_timeout_response().as_bytes());
        }
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client was too slow or idle too long")))
    }

    /// Notes a write's outcome: progress pushes the idle deadline back.
    fn after_write(&mut self, result: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        self.write_blocked = result.is_pending();
        if let Poll::Ready(Ok(written)) = result {
            if written > 0 {
                lock(&self.activity).wrote(Instant::now());
            }
        }
        result
    }
}

impl AsyncRead for Bounded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    lock(&this.activity).read(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }
}

impl AsyncWrite for Bounded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.after_write(result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.after_write(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router as hyper calls it, one connection's: adds the peer address handlers read through
/// `ConnectInfo`, and marks the connection busy while a request is answered.
#[derive(Debug, Clone)]
struct Requests {
    router: Router,
    peer: SocketAddr,
    activity: Arc<Mutex<Activity>>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Requests {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut request: hyper::Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let busy = Busy::start(self.activity.clone());
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request).await;
            drop(busy);
            response
        })
    }
}

/// A request being answered; the connection's idle clock starts again when it is dropped, also
/// when hyper drops the answer unfinished.
struct Busy(Arc<Mutex<Activity>>);

impl Busy {
    fn start(activity: Arc<Mutex<Activity>>) -> Self {
        lock(&activity).request_started();
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        lock(&self.0).request_ended(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clocks_follow_the_connection() {
        let start = Instant::now();
        let mut activity = Activity::new(start);
        // A new connection gets the header timeout for its first request.
        assert_eq!(activity.deadline(), Some(start + HEADER_TIMEOUT));
        // The first byte starts the header clock; later bytes do not push it back.
        let first = start + Duration::from_secs(3);
        activity.read(first);
        activity.read(first + Duration::from_secs(5));
        assert_eq!((activity.deadline(), activity.head_started), (Some(first + HEADER_TIMEOUT), true));
        // No clock while answering; then the idle clock, pushed back by writes of the answer.
        activity.request_started();
        assert_eq!(activity.deadline(), None);
        let answered = first + Duration::from_secs(20);
        activity.request_ended(answered);
        assert_eq!((activity.deadline(), activity.head_started), (Some(answered + IDLE_TIMEOUT), false));
        activity.wrote(answered + Duration::from_secs(1));
        assert_eq!(activity.deadline(), Some(answered + Duration::from_secs(1) + IDLE_TIMEOUT));
        // The next request's first byte: ten seconds for its headers, whatever the writes.
        let next = answered + Duration::from_secs(30);
        activity.read(next);
        activity.wrote(next + Duration::from_secs(1));
        assert_eq!(activity.deadline(), Some(next + HEADER_TIMEOUT));
    }

    #[test]
    fn the_header_timeout_answer_is_a_complete_response() {
        let text = header_timeout_response();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(json, serde_json::json!({"detail": "Request timed out.", "code": "request_timeout"}));
    }
}
