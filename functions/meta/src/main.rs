//! The `meta` function's Lambda entry point: health, docs, the web client and the API's 404.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("meta", meta::api).await
}
