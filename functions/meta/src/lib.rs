//! The `meta` function: the health check at `/` (and every path no other function owns, so unknown
//! routes get the API's own 404 shape).

use axum::{extract::State, Router};
use shared::{
    http::Api,
    service::health::{self, Health},
    AppContext,
};

pub fn api() -> Api {
    Api::new().get("/", health_check)
}

pub fn routes() -> Router<AppContext> {
    api().into_router()
}

pub fn router(ctx: AppContext) -> Router {
    shared::http::finish(routes(), ctx)
}

async fn health_check(State(ctx): State<AppContext>) -> Health {
    health::check(&ctx).await
}
