//! The `meta` function: the health check at `/` (and every path no other function owns, so unknown
//! routes get the API's own 404 shape).

use axum::{extract::State, routing::get, Router};
use shared::{
    service::health::{self, Health},
    AppContext,
};

pub fn routes() -> Router<AppContext> {
    Router::new().route("/", get(health_check))
}

pub fn router(ctx: AppContext) -> Router {
    shared::http::finish(routes(), ctx)
}

async fn health_check(State(ctx): State<AppContext>) -> Health {
    health::check(&ctx).await
}
