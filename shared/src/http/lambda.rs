//! What every function's `main` does: build the context from the environment (refusing to start, with
//! the reason, on bad configuration) and serve its router through the Lambda runtime.

use axum::Router;

use crate::AppContext;

pub async fn run_function(
    name: &str,
    router: fn(AppContext) -> Router,
) -> Result<(), lambda_http::Error> {
    let ctx = AppContext::from_env().await.map_err(|err| {
        eprintln!("{name}: refusing to start: {err}");
        err
    })?;
    lambda_http::run(router(ctx)).await
}
