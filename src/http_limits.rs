//! Limits every request is held to before a handler sees it: the size of its head and
//! the time its body may take to arrive. Wired by `startup` as a middleware over every
//! route, so no handler (intake, forget, reports, dashboard) can forget them.
//!
//! - **Head size**: the request line and headers may take [`MAX_HEAD_BYTES`] in all;
//!   larger heads get `431` and the connection is closed. (actix-web's own parser stops
//!   at 128 KiB, answering 431 as it closes; between the two, this check answers.)
//! - **Body deadline**: a request whose body has not fully arrived `ingest.body_timeout_ms`
//!   after its head gets `408` and the connection is closed, however slowly the bytes
//!   trickle in. The head has its own timeout (`startup`'s client request timeout).
//!
//! Both answers carry the JSON error body of the rest of the API (`{"error", "field"}`).

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use bytes::Bytes;
use futures_util::Stream;

/// Largest request head (request line and headers, with their separators), in bytes.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// The error kind a body stream reports when its deadline passed; intake maps it to 408.
pub const BODY_TIMEOUT_KIND: io::ErrorKind = io::ErrorKind::TimedOut;

/// Applies both limits to `request` (see the module docs); `body_timeout` is
/// `ingest.body_timeout_ms`.
///
/// # Errors
/// Whatever the inner service returns.
pub async fn enforce(
    body_timeout: Duration,
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if head_bytes(&request) > MAX_HEAD_BYTES {
        let problem = format!(
            "the request line and headers take more than {MAX_HEAD_BYTES} bytes; send fewer or shorter headers"
        );
        let response = refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &problem, "headers");
        return Ok(request.into_response(response).map_into_right_body());
    }
    if !has_body(&request) {
        return next.call(request).await.map(ServiceResponse::map_into_left_body);
    }
    let expired = Rc::new(Cell::new(false));
    let payload = request.take_payload();
    let deadline = BodyDeadline {
        inner: payload,
        deadline: tokio::time::Instant::now() + body_timeout,
        timer: None,
        expired: Rc::clone(&expired),
    };
    request.set_payload(Payload::Stream { payload: Box::pin(deadline) });
    let response = next.call(request).await?;
    if !expired.get() {
        return Ok(response.map_into_left_body());
    }
    let problem = format!("the request body did not arrive within {} ms", body_timeout.as_millis());
    let (request, handler_response) = response.into_parts();
    let response = if handler_response.status() == StatusCode::REQUEST_TIMEOUT {
        // The handler said so itself (intake counts it); only make sure the connection ends.
        let mut response = handler_response.map_into_left_body();
        response.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
        response
    } else {
        refusal(StatusCode::REQUEST_TIMEOUT, &problem, "body").map_into_right_body()
    };
    Ok(ServiceResponse::new(request, response))
}

/// The bytes of the request line and headers as they came (`Name: value\r\n` each).
fn head_bytes(request: &ServiceRequest) -> usize {
    let uri = request.uri();
    let target = uri.path_and_query().map_or(0, |target| target.as_str().len())
        + uri.authority().map_or(0, |authority| authority.as_str().len())
        + uri.scheme_str().map_or(0, |scheme| scheme.len() + 3);
    let line = request.method().as_str().len() + target + 12;
    line + request.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum::<usize>()
}

/// True when the request announces a body (a positive `Content-Length`, or chunks).
fn has_body(request: &ServiceRequest) -> bool {
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length.trim() != "0")
}

/// A JSON error answer that closes the connection.
fn refusal(status: StatusCode, problem: &str, field: &str) -> HttpResponse {
    HttpResponse::build(status)
        .force_close()
        .json(crate::api::ErrorBody { error: problem.to_string(), field: Some(field.to_string()) })
}

/// The request body, ending in a [`BODY_TIMEOUT_KIND`] error once `deadline` passes
/// while a chunk is still awaited. The timer is made only when the body is not there at
/// once: a beacon's body nearly always arrives with its head, and then costs no timer.
struct BodyDeadline {
    inner: Payload,
    deadline: tokio::time::Instant,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for BodyDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.expired.get() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => Poll::Ready(item),
            Poll::Pending => match this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(this.deadline)))
                .as_mut()
                .poll(cx)
            {
                Poll::Ready(()) => {
                    this.expired.set(true);
                    let error = io::Error::new(BODY_TIMEOUT_KIND, "the request body did not arrive in time");
                    Poll::Ready(Some(Err(PayloadError::Io(error))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
