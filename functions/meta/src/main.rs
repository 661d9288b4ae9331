#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_function("meta", meta::api).await
}
