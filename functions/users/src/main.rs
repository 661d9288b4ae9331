#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let ctx = shared::AppContext::from_env().await.map_err(|err| {
        eprintln!("users: refusing to start: {err}");
        err
    })?;
    lambda_http::run(users::router(ctx)).await
}
