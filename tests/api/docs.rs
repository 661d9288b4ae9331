//! The OpenAPI document and Swagger UI: generated from the code, complete, and usable in a browser.

use std::collections::BTreeSet;

use chat_tests::{functions, normalize_route, process::repo_root, spawn_app, Backend};
use reqwest::StatusCode;
use serde_json::Value;

/// The docs describe the API, not themselves nor the web client.
fn is_docs_route(path: &str) -> bool {
    meta::served_by_catch_all(path)
}

#[tokio::test]
async fn the_document_lists_every_route_and_only_those() {
    let app = spawn_app(&Backend::Sqlite).await;
    let response = app.get("/api/docs/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), normalize_route(path)));
            }
        }
    }
    let served: BTreeSet<(String, String)> = functions()
        .iter()
        .flat_map(|(_, api)| api.table().to_vec())
        .filter(|route| !is_docs_route(route.path))
        .map(|route| (route.method.to_string(), normalize_route(route.path)))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );

    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let send = &doc["paths"]["/api/v1/chat/message"]["post"];
    assert_eq!(send["security"][0]["bearer"], serde_json::json!([]));
    assert!(
        send["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .ends_with("CreateMessageRequest")
    );
    assert!(
        send["responses"]["429"].is_object(),
        "errors are documented"
    );
    let register = &doc["paths"]["/api/v1/auth/register"]["post"];
    assert!(register.get("security").is_none(), "register is public");
}

#[tokio::test]
async fn swagger_ui_is_served_from_vendored_assets() {
    let app = spawn_app(&Backend::Sqlite).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = client.get(app.url("/api/docs")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/api/docs/");
    let index = client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(index.text().await.unwrap().contains("swagger-ui"));
    let init = client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert!(init
        .text()
        .await
        .unwrap()
        .contains("/api/docs/openapi.json"));
    let missing = client
        .get(app.url("/api/docs/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn swagger_ui_lists_the_operations_in_a_real_browser() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .expect(
            "Chromium is needed for this test: run scripts/setup.sh (apt-get install chromium)",
        );
    let app = spawn_app(&Backend::Sqlite).await;
    let profile = tempfile::tempdir().unwrap();
    let screenshot = repo_root().join("target").join("swagger-ui.png");
    let url = app.url("/api/docs/");
    let browse = |extra: Vec<String>| {
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=20000".into(),
            "--window-size=1280,2000".into(),
        ];
        args.extend(extra);
        args.push(url.clone());
        tokio::process::Command::new(chromium).args(args).output()
    };
    let dom = browse(vec!["--dump-dom".into()])
        .await
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("opblock"),
        "Swagger UI rendered no operations:\n{}",
        &dom[..dom.len().min(2000)]
    );
    for operation in [
        "/api/v1/auth/register",
        "/api/v1/chat/message",
        "/api/v1/chat/group-rooms/",
    ] {
        assert!(dom.contains(operation), "{operation} is not listed");
    }
    let shot = browse(vec![format!("--screenshot={}", screenshot.display())])
        .await
        .expect("chromium runs");
    assert!(shot.status.success() || screenshot.exists());
    assert!(
        screenshot.exists(),
        "screenshot saved at {}",
        screenshot.display()
    );
}

/// The message names of the AsyncAPI document's operations with this action.
fn documented_events(doc: &Value, action: &str) -> BTreeSet<String> {
    doc["operations"]
        .as_object()
        .unwrap()
        .values()
        .filter(|operation| operation["action"] == action)
        .map(|operation| {
            let reference = operation["messages"][0]["$ref"].as_str().unwrap();
            let key = reference.rsplit('/').next().unwrap();
            doc["components"]["messages"][key]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_asyncapi_document_lists_every_realtime_event_and_validates() {
    use shared::service::realtime::{actions::ACTIONS, event};
    let app = spawn_app(&Backend::Sqlite).await;
    let response = app.get("/api/docs/asyncapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");

    let received = documented_events(&doc, "receive");
    let dispatched: BTreeSet<String> = ACTIONS.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        received, dispatched,
        "client → server events: the document and the dispatcher's table"
    );
    let sent = documented_events(&doc, "send");
    let emitted: BTreeSet<String> = event::ALL.iter().map(|e| e.to_string()).collect();
    assert_eq!(sent, emitted, "server → client events");

    // Shared payloads are the OpenAPI document's schemas, under the same names.
    let openapi: Value = app
        .get("/api/docs/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    for (name, schema) in openapi["components"]["schemas"].as_object().unwrap() {
        assert_eq!(&doc["components"]["schemas"][name], schema, "{name}");
    }
    assert!(doc["components"]["schemas"]["GroupCallRequest"].is_object());

    // The README's realtime tables name every event.
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    for name in received.iter().chain(sent.iter()) {
        assert!(
            readme.contains(&format!("`{name}")),
            "README does not list the {name} event"
        );
    }

    // And the document is valid AsyncAPI 3 for the reference parser.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &text).unwrap();
    let output =
        chat_tests::node::run("validate-asyncapi.mjs", &[file.path().to_str().unwrap()]).await;
    assert!(output.contains("valid AsyncAPI"), "{output}");
}

#[tokio::test]
async fn swagger_ui_files_are_the_pinned_release_sent_compressed_to_browsers() {
    let app = spawn_app(&Backend::Sqlite).await;
    let dist = chat_tests::node::tools_dir().join("node_modules/swagger-ui-dist");
    for file in [
        "index.html",
        "index.css",
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
    ] {
        // Without Accept-Encoding: the plain file, decompressed by the server where stored gzipped.
        let response = app.get(&format!("/api/docs/{file}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert!(response.headers().get("content-encoding").is_none());
        let served = response.bytes().await.unwrap();
        let released = std::fs::read(dist.join(file)).unwrap();
        assert!(
            served == released,
            "{file} differs from swagger-ui-dist: run scripts/vendor-swagger-ui.sh"
        );
    }
    let compressed = app
        .client
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    assert_eq!(compressed.headers()["vary"], "accept-encoding");
    let gzipped = compressed.bytes().await.unwrap();
    assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(gzipped.len() < 500_000, "{} bytes", gzipped.len());
}
