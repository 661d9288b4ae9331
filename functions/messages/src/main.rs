//! The `messages` function's Lambda entry point: its routes (`messages::api`) served by `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("messages", messages::api).await
}
