//! The `users` function's Lambda entry point: its routes (`users::api`) served by `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("users", users::api).await
}
