#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let ctx = shared::AppContext::from_env().await.map_err(|err| {
        eprintln!("meta: refusing to start: {err}");
        err
    })?;
    lambda_http::run(meta::router(ctx)).await
}
