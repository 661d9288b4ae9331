//! The health answers of the REST API and what they report about the database.

use chat_tests::on_each_backend;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_reports_the_database() {
    on_each_backend(|app| async move {
        let response = app.get("/").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], "up");
        assert_eq!(body["storage"], app.backend.name());
    })
    .await;
}
