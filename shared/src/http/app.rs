//! `finish`: turns a function's routes into the served router, with the same behaviour on every
//! function: 404/405 in the error shape, body limit, CORS, security headers, request ids, the
//! request log.

use axum::{
    extract::{DefaultBodyLimit, OriginalUri},
    http::Method,
    middleware::{from_fn, from_fn_with_state, map_response},
    Router,
};
use http::{header, HeaderName, HeaderValue};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};

use super::{
    emf::{emit_metrics, FunctionName},
    error_shape::error_shape,
    origin_verify::{require_origin_secret, OriginSecret},
    request_log::request_log,
    security_headers::add_security_headers,
};
use crate::{config::Config, error::AppError, AppContext};

/// Largest request body accepted (JSON bodies here are small; 100 KiB as Express's default).
pub const MAX_BODY_BYTES: usize = 100 * 1024;

pub fn finish(routes: Router<AppContext>, ctx: AppContext) -> Router {
    let cors = cors_layer(&ctx.config);
    let request_id = HeaderName::from_static(super::error_shape::REQUEST_ID_HEADER);
    let origin_secret = ctx.config.origin_verify_secret.clone();
    let emf_function = ctx.config.emf_function.clone();
    let mut router = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ctx);
    if let Some(secret) = origin_secret {
        router = router.layer(from_fn_with_state(
            OriginSecret(secret.into()),
            require_origin_secret,
        ));
    }
    if let Some(function) = emf_function {
        router = router.layer(from_fn_with_state(
            FunctionName(function.into()),
            emit_metrics,
        ));
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(map_response(add_security_headers))
        .layer(cors)
        .layer(from_fn(error_shape))
        .layer(from_fn(request_log))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> AppError {
    AppError::not_found(format!("Cannot {method} {}", uri.path()))
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

/// CORS for `ALLOWED_ORIGINS`: the REST API's, and the realtime node's long-polling answers (as
/// socket.io's `cors` option gave the seed's gateway).
pub fn cors_layer(config: &Config) -> CorsLayer {
    let origins = if config.allows_any_origin() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            HeaderName::from_static(super::error_shape::REQUEST_ID_HEADER),
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(600))
}
