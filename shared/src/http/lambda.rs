//! What every function's `main` does: build the context from the environment (refusing to start, with
//! the reason, on bad configuration) and serve its routes, finished with the shared layers, through
//! the Lambda runtime.

use super::{finish, Api};
use crate::AppContext;

pub async fn run_function(name: &str, api: fn() -> Api) -> Result<(), lambda_http::Error> {
    let ctx = AppContext::from_env().await.map_err(|err| {
        eprintln!("{name}: refusing to start: {err}");
        err
    })?;
    lambda_http::run(finish(api().into_router(), ctx)).await
}
