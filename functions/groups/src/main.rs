//! The `groups` function's Lambda entry point: its routes (`groups::api`) served by `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("groups", groups::api).await
}
