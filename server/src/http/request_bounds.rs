//! The bounds of one request (docs/api.md#conventions), kept by the one layer every request passes
//! (`crate::http::every_request`):
//!
//! - it must be answered within `LATCHKEY_REQUEST_TIMEOUT` of its headers, body included, else 408;
//! - a body the handler left unread (one over the limit, most often) is read and discarded, up to a
//!   bound, before the answer goes out: a client still sending would otherwise have its connection
//!   reset and never see the 413.
//!
//! The connections' own bounds (slow headers, idle keep-alive) are in `crate::http::transport`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// The most of an unread body discarded before answering; a client sending more is cut off.
const DRAIN_BYTES: u64 = 1024 * 1024;
/// The longest wait for an unread body to be sent in full before answering anyway.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The `detail` of a 408, here and in the one `crate::http::transport` writes to the socket.
pub(crate) const TIMEOUT_DETAIL: &str = "Request timed out.";

/// The request bounds every request is answered within (called by the one layer every request
/// passes, `crate::http::every_request`): 408 when the request, body included, is not answered by
/// `deadline`; and when the handler answered without reading the whole body (a body over the
/// limit, most often, after the extractor stopped at the limit), the rest is read and discarded
/// before the answer goes out, up to [`DRAIN_BYTES`] and [`DRAIN_TIME`]. A client that sends its
/// whole body before reading the answer (browsers do) would otherwise be reset mid-upload by the
/// close, and report a network error instead of the 413. A 413 always closes the connection.
///
/// The timer is made only when the answer is not ready at once: most authenticated reads are
/// answered from memory in one poll. `tokio::time::timeout_at` would register its timer just as
/// late, but builds it for every request: measured in-process, `/me` took 6.24-6.31 µs with it
/// against 5.95-6.17 µs with this.
pub(crate) async fn within_bounds<S>(deadline: Instant, request: Request, inner: S) -> Response
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    let answer = drain_unread_body(request, inner);
    tokio::pin!(answer);
    let mut timer: Option<Pin<Box<Sleep>>> = None;
    let answered = std::future::poll_fn(|cx| {
        if let Poll::Ready(response) = answer.as_mut().poll(cx) {
            return Poll::Ready(Some(response));
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await;
    answered.unwrap_or_else(|| {
        let body = serde_json::json!({ "detail": TIMEOUT_DETAIL, "code": "request_timeout" });
        let mut response = (StatusCode::REQUEST_TIMEOUT, Json(body)).into_response();
        // The unread rest of the body would be taken for the next request: the connection ends.
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    })
}

async fn drain_unread_body<S>(request: Request, inner: S) -> Response
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    let answer = |request| async move {
        match inner.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    };
    // Most requests (every GET) have no body: nothing can be left unread, and nothing is wrapped.
    if http_body::Body::size_hint(request.body()).exact() == Some(0) {
        return answer(request).await;
    }
    // Such a client sends nothing until it hears `100 Continue`, which reading the body would send.
    let waits_for_continue =
        request.headers().get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let unread = Arc::new(Mutex::new(None));
    let slot = unread.clone();
    let request =
        request.map(|body| Body::new(Watched { inner: Some(body), polled: false, ended: false, unread: slot }));
    let mut response = answer(request).await;
    let rest = unread.lock().unwrap_or_else(PoisonError::into_inner).take();
    let finished = match rest {
        Some(Unread { body, polled }) if polled || !waits_for_continue => drain(body).await,
        Some(_) => false,
        None => true,
    };
    if !finished || response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads and discards `body` to its end, within the bounds; whether the end was reached.
async fn drain(mut body: Body) -> bool {
    use http_body::Body as _;
    if body.size_hint().lower() > DRAIN_BYTES {
        return false;
    }
    let read = async {
        let mut discarded: u64 = 0;
        loop {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                None => return true,
                Some(Ok(frame)) => {
                    let length = frame.data_ref().map_or(0, Bytes::len);
                    discarded = discarded.saturating_add(u64::try_from(length).unwrap_or(u64::MAX));
                    if discarded > DRAIN_BYTES {
                        return false;
                    }
                }
                Some(Err(_)) => return false,
            }
        }
    };
    tokio::time::timeout(DRAIN_TIME, read).await.unwrap_or(false)
}

/// What a handler left of a request body.
struct Unread {
    body: Body,
    /// Whether anything read it at all (and so had hyper send `100 Continue`).
    polled: bool,
}

/// A request body that, dropped before its end, leaves the rest for [`within_bounds`].
struct Watched {
    inner: Option<Body>,
    polled: bool,
    ended: bool,
    unread: Arc<Mutex<Option<Unread>>>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        this.polled = true;
        let frame = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.ended = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else { return };
        if !self.ended && !http_body::Body::is_end_stream(&body) {
            let unread = Unread { body, polled: self.polled };
            *self.unread.lock().unwrap_or_else(PoisonError::into_inner) = Some(unread);
        }
    }
}
