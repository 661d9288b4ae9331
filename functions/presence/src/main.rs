//! The `presence` function's Lambda entry point: its routes (`presence::api`) served by `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("presence", presence::api).await
}
