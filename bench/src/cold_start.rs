//! Function size and cold start (benchmark 4): the release binary of every function, and the time
//! from process start to the first answered invocation, against a local Lambda Runtime API.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue},
    routing::{get, post},
    Json, Router,
};
use chat_tests::process::repo_root;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::setup;

const FUNCTIONS: &[&str] = &[
    "auth", "users", "messages", "groups", "presence", "admin", "meta", "ws",
];
const RUNS: usize = 5;

#[derive(Clone)]
struct Runtime {
    event: Value,
    handed_out: Arc<Mutex<bool>>,
    answered: Arc<Notify>,
}

/// `GET /runtime/invocation/next`: the one event, then nothing (the function waits).
async fn next(State(runtime): State<Runtime>) -> (HeaderMap, Json<Value>) {
    let first = {
        let mut handed_out = runtime.handed_out.lock().unwrap();
        !std::mem::replace(&mut *handed_out, true)
    };
    if !first {
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_static("bench-1"),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_static("9999999999999"),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:000000000000:function:bench"),
    );
    (headers, Json(runtime.event))
}

async fn answered(State(runtime): State<Runtime>) {
    runtime.answered.notify_one();
}

fn http_event() -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": { "host": "localhost", "user-agent": "bench" },
        "requestContext": {
            "accountId": "000000000000", "apiId": "bench", "domainName": "localhost",
            "domainPrefix": "bench", "requestId": "bench-1", "routeKey": "$default",
            "stage": "$default", "time": "25/Nov/2026:00:00:00 +0000", "timeEpoch": 0,
            "http": { "method": "GET", "path": "/", "protocol": "HTTP/1.1",
                      "sourceIp": "127.0.0.1", "userAgent": "bench" }
        },
        "isBase64Encoded": false
    })
}

fn ws_event() -> Value {
    json!({
        "headers": {}, "multiValueHeaders": {}, "queryStringParameters": {},
        "multiValueQueryStringParameters": {}, "isBase64Encoded": false, "body": "{}",
        "requestContext": { "routeKey": "$default", "eventType": "MESSAGE", "connectionId": "bench",
                            "connectedAt": 0, "requestTimeEpoch": 0, "messageId": null, "authorizer": {} }
    })
}

async fn cold_start(
    binary: &std::path::Path,
    name: &str,
    vars: &[(String, String)],
) -> Option<Duration> {
    let runtime = Runtime {
        event: if name == "ws" {
            ws_event()
        } else {
            http_event()
        },
        handed_out: Arc::default(),
        answered: Arc::default(),
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(answered),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(answered))
        .with_state(runtime.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    let address = listener.local_addr().ok()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("APIGW_WS_ENDPOINT", "http://127.0.0.1:9")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let took = tokio::time::timeout(Duration::from_secs(30), runtime.answered.notified())
        .await
        .ok()
        .map(|_| started.elapsed());
    let _ = child.kill().await;
    server.abort();
    took
}

pub async fn run() {
    println!("## Functions: release binary size and cold start (process start → first answer)");
    let status = chat_tests::process::cargo()
        .args(["build", "--release", "--quiet"])
        .args(FUNCTIONS.iter().flat_map(|f| ["-p", f]))
        .current_dir(repo_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "release build of the functions");
    let app = setup::app().await;
    let vars: Vec<(String, String)> = app.vars.clone().into_iter().collect();
    for name in FUNCTIONS {
        let binary = repo_root().join("target/release").join(name);
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        let mut runs = Vec::new();
        for _ in 0..RUNS {
            if let Some(took) = cold_start(&binary, name, &vars).await {
                runs.push(took);
            }
        }
        runs.sort();
        let median = runs.get(runs.len() / 2).copied().unwrap_or_default();
        println!(
            "- {name}: {:.2} MB; cold start median {:.1} ms over {} runs",
            size as f64 / 1_000_000.0,
            median.as_secs_f64() * 1000.0,
            runs.len()
        );
    }
}
