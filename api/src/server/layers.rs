//! What every request meets on its way to the app: the `Host` check (`host.rs`), then the body
//! limit and the request timeout (tower-http's layers), with their refusals answered in the
//! API's body shape.
//!
//! The `Host` check comes first, so a request without a valid authority is refused before
//! anything reads it; on a good request it looks at the headers and allocates nothing.
//!
//! tower-http answers a declared `Content-Length` over the limit with its own `413` and a
//! `text/plain` body, and an elapsed timeout with a bare `408`. This API answers both as
//! `{"message": …}` with `Connection: close` (the rest of the request was not read, so the
//! connection cannot carry another one). So the layers are wrapped in two response mappings:
//! the inner one marks a `408` or `413` that the app itself answered (an extractor tripping
//! over the limited body, the authentication core refusing a form body), and the outer one
//! rewrites an unmarked `408` or `413`, which only the layers can have made. Both look at the
//! status alone on every other response: no allocation, nothing on the path of a `200`.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures_util::future::Either as EitherFuture;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::Either;
use tower::layer::layer_fn;
use tower::{Service, ServiceBuilder};
use tower_http::limit::{RequestBodyLimitLayer, ResponseBody};
use tower_http::timeout::TimeoutLayer;

use super::host::{INVALID_HOST, check_host};
use super::{RequestBody, ServerLimits};
use crate::message::Message;

/// The body of an answer: the app's, as the body limit layer passes it on, or a refusal of
/// the server's own.
pub(crate) type AnswerBody = Either<ResponseBody<Body>, Body>;

/// `app` behind the `Host` check, the body limit and the request timeout of `limits`. Built
/// once per server; each connection serves a clone.
pub(crate) fn with_limits(
    app: axum::Router,
    limits: &ServerLimits,
) -> impl Service<
    Request<RequestBody>,
    Response = Response<AnswerBody>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    ServiceBuilder::new()
        .layer(layer_fn(|inner| RequireHost { inner }))
        .map_response(answer_layer_refusals)
        // A larger `Content-Length` is refused before the app runs; any other body is wrapped
        // so that reading past the limit fails (extractors and the authentication core then
        // answer 413).
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // axum's extractors keep their own default cap (2 MiB) on top of this limit. Lifting
        // it here (a `DefaultBodyLimit` layer) measured about 10% more server CPU per cached
        // protected request; an app that wants bodies over 2 MiB sets it on its own routes.
        .map_response(mark_own_refusal)
        .service(app)
}

/// In a response's extensions: the app answered this `408` or `413` itself.
#[derive(Debug, Clone, Copy)]
struct AppRefusal;

/// Marks a `408` or `413` of the app's own, so that [`answer_layer_refusals`] leaves it as is.
fn mark_own_refusal(mut response: Response) -> Response {
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    ) {
        response.extensions_mut().insert(AppRefusal);
    }
    response
}

/// Answers the layers' own `413` and `408` in the API's shape; passes everything else on.
fn answer_layer_refusals(response: Response<ResponseBody<Body>>) -> Response<AnswerBody> {
    let message = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => "Request body too large",
        StatusCode::REQUEST_TIMEOUT => "Request Timeout",
        _ => return response.map(Either::Left),
    };
    if response.extensions().get::<AppRefusal>().is_some() {
        return response.map(Either::Left);
    }
    refusal(response.status(), message).map(Either::Right)
}

/// A refusal in the API's body shape, closing the connection.
fn refusal(status: StatusCode, message: &'static str) -> Response {
    closing((status, Message::new(message)).into_response())
}

/// `response` with `Connection: close`: the server refused the request before reading all of
/// it, so the connection cannot carry another one.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Refuses a request that breaks the `Host` rules ([`check_host`]) with
/// [`HOST_REFUSAL`](super::host::HOST_REFUSAL), closing the connection; passes every other
/// request to `inner`.
#[derive(Debug, Clone)]
struct RequireHost<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for RequireHost<S>
where
    S: Service<Request<B>, Response = Response<AnswerBody>, Error = Infallible>,
{
    type Response = Response<AnswerBody>;
    type Error = Infallible;
    type Future = EitherFuture<S::Future, Ready<Result<Response<AnswerBody>, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match check_host(request.version(), request.uri(), request.headers()) {
            Ok(()) => EitherFuture::Left(self.inner.call(request)),
            Err(refusal) => {
                tracing::debug!(
                    kind = refusal.kind(),
                    reason = INVALID_HOST,
                    "request refused"
                );
                EitherFuture::Right(ready(Ok(
                    closing(refusal.into_response()).map(Either::Right)
                )))
            }
        }
    }
}
