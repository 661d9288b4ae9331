//! The health check as an HTTP answer (the `meta` function's `/` and the realtime node's
//! `/health` both serve it): 200 when the database answers, 503 otherwise; the body says which.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

use crate::service::health::Health;

impl IntoResponse for Health {
    fn into_response(self) -> Response {
        let status = if self.is_up() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, Json(self)).into_response()
    }
}
