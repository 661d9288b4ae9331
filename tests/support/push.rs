//! The independent push receiver (`push_receiver.py`) as a process: it plays a browser's push
//! service (decrypting with `http-ece`, verifying VAPID with `py-vapid`) and the operator's push
//! webhook (checking the HMAC signature), and tells the test what it received.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{process::repo_root, python::venv_python};

pub struct PushReceiver {
    pub url: String,
    client: reqwest::Client,
    _child: tokio::process::Child,
}

impl PushReceiver {
    /// Starts a receiver whose webhook checks signatures made with `webhook_secret`.
    pub async fn start(webhook_secret: &str) -> Self {
        let script = repo_root().join("tests/support/push_receiver.py");
        let mut child = tokio::process::Command::new(venv_python())
            .arg(script)
            .args(["--webhook-secret", webhook_secret])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the push receiver starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the push receiver says where it listens")
            .expect("reads")
            .expect("a line");
        let port = first
            .strip_prefix("listening ")
            .expect("listening <port>")
            .to_owned();
        Self {
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            _child: child,
        }
    }

    /// The webhook's URL (`PUSH_WEBHOOK_URL`).
    pub fn webhook_url(&self) -> String {
        format!("{}/webhook", self.url)
    }

    /// The receiver's JSON answer to `request`.
    async fn answer_of(request: reqwest::RequestBuilder) -> Value {
        request
            .send()
            .await
            .expect("receiver answers")
            .json()
            .await
            .expect("json")
    }

    /// A new browser subscription: `{id, endpoint, keys: {p256dh, auth}}`.
    pub async fn subscription(&self) -> Value {
        Self::answer_of(self.client.post(format!("{}/subscriptions", self.url))).await
    }

    /// The next `times` requests to subscription `id` (or `"webhook"`) are answered `status`.
    pub async fn answer(&self, id: &str, status: u16, times: u32, retry_after: Option<&str>) {
        self.client
            .post(format!("{}/behave/{id}", self.url))
            .json(&json!({ "status": status, "times": times, "retryAfter": retry_after }))
            .send()
            .await
            .expect("receiver answers");
    }

    /// Everything received so far, in order.
    pub async fn received(&self) -> Vec<Value> {
        let all = Self::answer_of(self.client.get(format!("{}/received", self.url))).await;
        all.as_array().cloned().unwrap_or_default()
    }

    /// The pushes decrypted and verified so far whose payload names `message_id`.
    pub async fn pushes_of(&self, message_id: &str) -> Vec<Value> {
        self.received()
            .await
            .into_iter()
            .filter(|record| {
                record["status"] == 201 && record["payload"]["messageId"] == message_id
            })
            .collect()
    }

    /// Waits (up to 20 s) until `count` verified pushes name `message_id`; they.
    pub async fn expect_pushes(&self, message_id: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let received = self.received().await;
            let failed: Vec<&Value> = received
                .iter()
                .filter(|record| record["status"] == 400 || record["status"] == 401)
                .collect();
            assert!(failed.is_empty(), "the receiver refused pushes: {failed:?}");
            let pushes = self.pushes_of(message_id).await;
            if pushes.len() >= count {
                return pushes;
            }
            assert!(
                Instant::now() < deadline,
                "{count} pushes of {message_id} expected, got: {received:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
