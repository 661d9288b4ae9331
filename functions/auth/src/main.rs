//! The `auth` function's Lambda entry point: its routes (`auth::api`) served by `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("auth", auth::api).await
}
