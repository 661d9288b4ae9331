//! The `admin` function's Lambda entry point: its routes (`admin::api`) served by `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("admin", admin::api).await
}
