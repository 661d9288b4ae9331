//! Attachments (SPEC §8) as clients use them, on both databases and both object storages (the
//! local directory, and S3 as moto serves it): declare → upload with a third-party HTTP client
//! (Python `requests`, to the signed URL) → send → the other participant receives and downloads;
//! strangers get 404; uploads that do not match their declaration are refused; deleting the
//! message deletes the object; unclaimed uploads are swept; markup is only ever a download.

use std::time::Duration;

use tokio::process::Command;

use chat_tests::{
    process::repo_root, python, realtime::RealtimeNode, s3, socket::connect, spawn_app_with,
    Account, Backend, TestApp,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ATTACHMENTS: &str = "/api/v1/chat/attachments";
const SEND: &str = "/api/v1/chat/message";

/// A 1×1 PNG.
pub const PNG: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0xf8, 0xcf, 0x50,
    0x0f, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5a, 0x34, 0x7d, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    Local,
    S3,
}

/// Runs `test` on every database × object storage, each time on a fresh app (and bucket).
async fn on_each_storage<F, Fut>(overrides: &[(&str, &str)], test: F)
where
    F: Fn(TestApp, Storage) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in Backend::configured() {
        for storage in [Storage::Local, Storage::S3] {
            eprintln!("-- backend: {}, storage: {storage:?}", backend.name());
            test(spawn_on(&backend, storage, overrides).await, storage).await;
        }
    }
}

/// An app on `backend` whose object storage is `storage` (S3: a new bucket on moto).
async fn spawn_on(backend: &Backend, storage: Storage, overrides: &[(&str, &str)]) -> TestApp {
    let mut vars: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if storage == Storage::S3 {
        vars.extend(s3::bucket_vars().await);
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_app_with(backend, &vars).await
}

async fn declare(app: &TestApp, who: &Account, body: Value) -> reqwest::Response {
    app.call(Method::POST, ATTACHMENTS, &who.access_token, Some(&body))
        .await
}

/// Declares a file for the conversation with `to` and returns the ticket.
async fn ticket(
    app: &TestApp,
    who: &Account,
    to: &Account,
    name: &str,
    kind: &str,
    size: usize,
) -> Value {
    let response = declare(
        app,
        who,
        json!({ "fileName": name, "contentType": kind, "size": size, "receiver": to.id }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("ticket")
}

/// PUTs `bytes` as the ticket says, with Python's `requests`; `(status, body)`.
async fn upload(ticket: &Value, bytes: &[u8], replace_headers: Option<Value>) -> (u16, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("upload.bin");
    std::fs::write(&file, bytes).expect("write");
    let mut command = Command::new(python::venv_python());
    command
        .arg(repo_root().join("tests/support/http_upload.py"))
        .arg(ticket["upload"].to_string())
        .arg(&file);
    if let Some(headers) = replace_headers {
        command.arg(headers.to_string());
    }
    // Asynchronously: the app under test answers on this same runtime.
    let output = command.output().await.expect("python runs");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "uploader failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (status, body) = text.split_once('\n').unwrap_or((&text, ""));
    (status.trim().parse().expect("status"), body.to_owned())
}

async fn uploaded(ticket: &Value, bytes: &[u8]) {
    let (status, body) = upload(ticket, bytes, None).await;
    assert_eq!(status, 200, "upload refused: {body}");
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `GET /chat/attachments/{id}` as `who`, without following the redirect.
async fn download_link(app: &TestApp, who: &Account, id: &str) -> reqwest::Response {
    no_redirects()
        .get(app.url(&format!("{ATTACHMENTS}/{id}")))
        .bearer_auth(&who.access_token)
        .send()
        .await
        .expect("request")
}

/// Follows a download as `who`: the storage's response.
async fn download(app: &TestApp, who: &Account, id: &str) -> reqwest::Response {
    let link = download_link(app, who, id).await;
    assert_eq!(link.status(), StatusCode::FOUND, "{:?}", link.text().await);
    let location = link.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    reqwest::get(location).await.expect("storage answers")
}

#[tokio::test]
async fn a_photo_travels_from_upload_to_the_other_participant() {
    on_each_storage(&[], |app, storage| async move {
        let node = RealtimeNode::start(&app).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let bob_socket = connect(&node.url(), Some(&bob.access_token))
            .await
            .expect("connects");
        let alice_socket = connect(&node.url(), Some(&alice.access_token))
            .await
            .expect("connects");

        let ticket = ticket(&app, &alice, &bob, "holiday.png", "image/png", PNG.len()).await;
        assert_eq!(ticket["upload"]["method"], "PUT");
        assert!(ticket["expiresAt"].is_string());
        let id = ticket["attachmentId"].as_str().expect("id").to_owned();
        if storage == Storage::S3 {
            // Uploads start tagged for the bucket's lifecycle rule.
            assert_eq!(
                ticket["upload"]["headers"]["x-amz-tagging"], "state=pending",
                "{ticket}"
            );
        }
        uploaded(&ticket, &PNG).await;
        if storage == Storage::S3 {
            assert_eq!(object_tags(&app, &id).await, ["pending"]);
        }

        let ack = alice_socket
            .emit_ack(
                "sendMessage",
                json!({ "messageData": { "receiver": bob.id, "attachmentId": id, "message": "" } }),
            )
            .await;
        let expected = json!({ "attachmentId": id, "fileName": "holiday.png",
            "contentType": "image/png", "size": PNG.len(), "width": 1, "height": 1 });
        assert_eq!(ack["attachment"], expected, "{ack}");
        let received = bob_socket
            .expect("messageReceived", |m| m["messageId"] == ack["messageId"])
            .await;
        assert_eq!(received["attachment"], expected);
        assert_eq!(received["message"], "");
        if storage == Storage::S3 {
            // Held by a message: the lifecycle rule leaves it alone.
            assert_eq!(object_tags(&app, &id).await, ["attached"]);
        }

        // The rooms list's last message carries it (the client shows "📎 photo").
        let rooms = app.private_rooms(&bob).await;
        assert_eq!(rooms[0]["lastMessage"]["attachment"], expected);

        let served = download(&app, &bob, &id).await;
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(served.headers()["content-type"], "image/png");
        let disposition = served.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("inline;"), "{disposition}");
        if storage == Storage::Local {
            assert_eq!(served.headers()["x-content-type-options"], "nosniff");
        }
        assert_eq!(served.bytes().await.unwrap().as_ref(), &PNG[..]);
        // The sender too; `redirect=false` answers the link itself.
        let link = app
            .get_json(
                &format!("{ATTACHMENTS}/{id}?redirect=false"),
                &alice.access_token,
            )
            .await;
        assert!(
            link["url"]
                .as_str()
                .is_some_and(|url| url.starts_with("http")),
            "{link}"
        );

        // Not a participant: as if it did not exist.
        assert_eq!(
            download_link(&app, &carol, &id).await.status(),
            StatusCode::NOT_FOUND
        );
        let unknown = uuid_text();
        assert_eq!(
            download_link(&app, &bob, &unknown).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            download_link(&app, &bob, "not-an-id").await.status(),
            StatusCode::NOT_FOUND
        );

        // One file, one message.
        let again = app
            .call(
                Method::POST,
                SEND,
                &alice.access_token,
                Some(&json!({ "receiver": bob.id, "attachmentId": id, "message": "again" })),
            )
            .await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);
        bob_socket.disconnect().await;
        alice_socket.disconnect().await;
    })
    .await;
}

/// The `state` tag values of an attachment's object in moto.
async fn object_tags(app: &TestApp, id: &str) -> Vec<String> {
    let url = format!(
        "{}/{}/attachments/{id}?tagging",
        app.vars["S3_ENDPOINT_URL"], app.vars["ATTACHMENTS_BUCKET"]
    );
    // moto wants an Authorization header here, and does not check it.
    let unchecked = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
                     SignedHeaders=host, Signature=0";
    let xml = reqwest::Client::new()
        .get(url)
        .header("authorization", unchecked)
        .send()
        .await
        .expect("moto")
        .text()
        .await
        .expect("body");
    xml.split("<Value>")
        .skip(1)
        .filter_map(|part| part.split("</Value>").next())
        .map(str::to_owned)
        .collect()
}

fn uuid_text() -> String {
    "6f1c2a1e-8c43-4d53-9a50-2c1f0d6c1e11".to_owned()
}

#[tokio::test]
async fn rest_sends_attach_files_in_groups_and_only_members_download_them() {
    on_each_storage(&[], |app, _storage| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let group = app.create_group(&alice, "trip", &[&bob]).await;
        // A non-member cannot even declare one for the group.
        let stranger = declare(
            &app,
            &carol,
            json!({ "fileName": "a.pdf",
            "contentType": "application/pdf", "size": 4, "groupId": group }),
        )
        .await;
        assert_eq!(stranger.status(), StatusCode::FORBIDDEN);

        let response = declare(
            &app,
            &alice,
            json!({ "fileName": "../../plan.pdf",
            "contentType": "application/pdf", "size": 8, "groupId": group }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let ticket: Value = response.json().await.unwrap();
        let id = ticket["attachmentId"].as_str().unwrap().to_owned();
        uploaded(&ticket, b"%PDF-1.4").await;
        let sent = app
            .send(
                &alice,
                json!({ "groupId": group, "message": "the plan", "attachmentId": id }),
            )
            .await;
        assert_eq!(sent["attachment"]["fileName"], "plan.pdf", "{sent}");
        assert!(sent["attachment"].get("width").is_none());
        let served = download(&app, &bob, &id).await;
        let disposition = served.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert_eq!(served.bytes().await.unwrap().as_ref(), b"%PDF-1.4");
        assert_eq!(
            download_link(&app, &carol, &id).await.status(),
            StatusCode::NOT_FOUND
        );

        // The seed's plain URL still works, as a string.
        let linked = app
            .send(
                &alice,
                json!({ "groupId": group, "message": "see",
                "attachment": "https://example.com/a.png" }),
            )
            .await;
        assert_eq!(linked["attachment"], "https://example.com/a.png");
    })
    .await;
}

#[tokio::test]
async fn uploads_that_do_not_match_their_declaration_are_refused() {
    on_each_storage(&[], |app, _storage| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let send = |id: String| {
            let (app, alice, bob) = (&app, &alice, &bob);
            async move {
                app.call(
                    Method::POST,
                    SEND,
                    &alice.access_token,
                    Some(&json!({ "receiver": bob.id, "attachmentId": id })),
                )
                .await
            }
        };

        // Not uploaded at all.
        let missing = ticket(&app, &alice, &bob, "a.png", "image/png", PNG.len()).await;
        let response = send(missing["attachmentId"].as_str().unwrap().to_owned()).await;
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("not been uploaded"),
            "{body}"
        );

        // Bytes that are not the declared image (right size and type header).
        let fake = ticket(&app, &alice, &bob, "a.png", "image/png", 20).await;
        uploaded(&fake, b"<html><script>x</script>"[..20].as_ref()).await;
        let response = send(fake["attachmentId"].as_str().unwrap().to_owned()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("not a image/png image"),
            "{body}"
        );

        // More bytes than declared: refused by storage, or by the send.
        let bigger = ticket(&app, &alice, &bob, "b.txt", "text/plain", 5).await;
        let (status, _) = upload(&bigger, b"0123456789", None).await;
        if status == 200 {
            let response = send(bigger["attachmentId"].as_str().unwrap().to_owned()).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        } else {
            assert!(status >= 400, "{status}");
        }

        // Another type than declared: refused by storage, or by the send.
        let retyped = ticket(&app, &alice, &bob, "c.txt", "text/plain", 4).await;
        let (status, _) = upload(
            &retyped,
            b"abcd",
            Some(json!({ "Content-Type": "text/html" })),
        )
        .await;
        if status == 200 {
            let response = send(retyped["attachmentId"].as_str().unwrap().to_owned()).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        } else {
            assert!(status >= 400, "{status}");
        }
        assert!(
            app.private_rooms(&alice).await.is_empty(),
            "no message was stored"
        );
    })
    .await;
}

#[tokio::test]
async fn an_expired_upload_url_is_refused() {
    on_each_storage(
        &[("ATTACHMENT_UPLOAD_EXPIRY", "1s")],
        |app, storage| async move {
            let alice = app.register("alice").await;
            let bob = app.register("bob").await;
            let ticket = ticket(&app, &alice, &bob, "a.txt", "text/plain", 2).await;
            if storage == Storage::S3 {
                // moto checks neither signatures nor expiry (S3 answers 403 "Request has expired"):
                // what we can check is that the presigned URL asks S3 for this lifetime.
                let url = ticket["upload"]["url"].as_str().unwrap();
                assert!(
                    url.contains("X-Amz-Expires=1&") || url.ends_with("X-Amz-Expires=1"),
                    "{url}"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(2_100)).await;
            let (status, body) = upload(&ticket, b"hi", None).await;
            assert_eq!(status, 403, "{storage:?}: {body}");
            assert!(body.to_lowercase().contains("expired"), "{body}");
            let id = ticket["attachmentId"].as_str().unwrap();
            assert_eq!(
                app.ctx
                    .objects()
                    .stat(&format!("attachments/{id}"))
                    .await
                    .unwrap(),
                None
            );
        },
    )
    .await;
}

#[tokio::test]
async fn deleting_the_message_deletes_the_file() {
    on_each_storage(&[], |app, _storage| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let ticket = ticket(&app, &alice, &bob, "a.png", "image/png", PNG.len()).await;
        let id = ticket["attachmentId"].as_str().unwrap().to_owned();
        uploaded(&ticket, &PNG).await;
        let sent = app
            .send(
                &alice,
                json!({ "receiver": bob.id, "attachmentId": id, "message": "x" }),
            )
            .await;
        let key = format!("attachments/{id}");
        assert!(app.ctx.objects().stat(&key).await.unwrap().is_some());
        let deleted = app
            .call(
                Method::DELETE,
                &format!("{SEND}/{}", sent["messageId"].as_str().unwrap()),
                &alice.access_token,
                None,
            )
            .await;
        assert_eq!(deleted.status(), StatusCode::OK);
        assert_eq!(app.ctx.objects().stat(&key).await.unwrap(), None);
        assert_eq!(
            download_link(&app, &bob, &id).await.status(),
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn uploads_no_message_claims_are_swept() {
    on_each_storage(
        &[("ATTACHMENT_UNATTACHED_EXPIRY", "1s")],
        |app, _storage| async move {
            let alice = app.register("alice").await;
            let bob = app.register("bob").await;
            let ticket = ticket(&app, &alice, &bob, "a.txt", "text/plain", 2).await;
            let id = ticket["attachmentId"].as_str().unwrap().to_owned();
            uploaded(&ticket, b"hi").await;
            let key = format!("attachments/{id}");
            tokio::time::sleep(Duration::from_millis(1_100)).await;
            let removed = shared::service::attachments::sweep(&app.ctx)
                .await
                .expect("sweeps");
            assert_eq!(removed, 1);
            assert_eq!(app.ctx.objects().stat(&key).await.unwrap(), None);
            let late = app
                .call(
                    Method::POST,
                    SEND,
                    &alice.access_token,
                    Some(&json!({ "receiver": bob.id, "attachmentId": id })),
                )
                .await;
            assert_eq!(late.status(), StatusCode::BAD_REQUEST);
            assert_eq!(
                shared::service::attachments::sweep(&app.ctx).await.unwrap(),
                0
            );
        },
    )
    .await;
}

#[tokio::test]
async fn markup_is_refused_or_served_as_a_download_that_cannot_run() {
    on_each_storage(&[], |app, storage| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        for kind in ["text/html", "image/svg+xml", "application/x-msdownload"] {
            let response = declare(
                &app,
                &alice,
                json!({ "fileName": "x", "contentType": kind,
                "size": 10, "receiver": bob.id }),
            )
            .await;
            assert_eq!(
                response.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{kind}"
            );
        }
        let page = b"<html><script>alert(1)</script></html>";
        let ticket = ticket(&app, &alice, &bob, "page.html", "text/plain", page.len()).await;
        let id = ticket["attachmentId"].as_str().unwrap().to_owned();
        uploaded(&ticket, page).await;
        app.send(&alice, json!({ "receiver": bob.id, "attachmentId": id }))
            .await;
        let served = download(&app, &bob, &id).await;
        assert_eq!(served.headers()["content-type"], "text/plain");
        let disposition = served.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"page.html\""),
            "{disposition}"
        );
        if storage == Storage::Local {
            assert_eq!(served.headers()["x-content-type-options"], "nosniff");
            let policy = served.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(policy.contains("sandbox"), "{policy}");
        }
    })
    .await;
}

#[tokio::test]
async fn bad_declarations_and_sends_are_refused_and_change_nothing() {
    for backend in Backend::configured() {
        let app = spawn_app_with(
            &backend,
            &[
                ("ATTACHMENT_MAX_BYTES", "1000"),
                ("ATTACHMENT_RATE_LIMIT_MAX", "8"),
            ],
        )
        .await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let base = json!({ "fileName": "a.txt", "contentType": "text/plain", "size": 10,
            "receiver": bob.id });
        let with = |field: &str, value: Value| {
            let mut body = base.clone();
            body[field] = value;
            body
        };
        for body in [
            with("size", json!(0)),
            with("size", json!(1001)),
            with("size", json!(-1)),
            with("fileName", json!("")),
            with("receiver", json!(alice.id)),
            with("receiver", json!("not-an-id")),
            json!({ "fileName": "a.txt", "contentType": "text/plain", "size": 10 }),
            with("extra", json!(1)),
        ] {
            let response = declare(&app, &alice, body.clone()).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        }
        let nobody = with("receiver", json!("64b7f0c2a1b2c3d4e5f60718"));
        assert_eq!(
            declare(&app, &alice, nobody).await.status(),
            StatusCode::NOT_FOUND
        );

        // An upload for alice–bob cannot go to carol, nor be sent by bob.
        let ticket = ticket(&app, &alice, &bob, "a.txt", "text/plain", 2).await;
        let id = ticket["attachmentId"].as_str().unwrap().to_owned();
        uploaded(&ticket, b"hi").await;
        for (who, body) in [
            (&alice, json!({ "receiver": carol.id, "attachmentId": id })),
            (&bob, json!({ "receiver": alice.id, "attachmentId": id })),
            (
                &alice,
                json!({ "receiver": bob.id, "attachmentId": "nope" }),
            ),
            (
                &alice,
                json!({ "receiver": bob.id, "attachmentId": id,
                "attachment": "https://example.com/x" }),
            ),
            (&alice, json!({ "receiver": bob.id })),
        ] {
            let response = app
                .call(Method::POST, SEND, &who.access_token, Some(&body))
                .await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        }
        assert!(app.private_rooms(&alice).await.is_empty());
        // Still attachable by the right send.
        let sent = app
            .send(&alice, json!({ "receiver": bob.id, "attachmentId": id }))
            .await;
        assert_eq!(sent["attachment"]["attachmentId"], id.as_str());

        // The upload rate limit (8 per window; one used above).
        let mut limited = None;
        for _ in 0..8 {
            let response = declare(&app, &alice, base.clone()).await;
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                limited = Some(response);
                break;
            }
        }
        assert!(limited.is_some(), "the ninth declaration is refused");
    }
}

/// The object storage port itself, the same on both adapters: an upload URL takes the bytes
/// (with its headers, over plain HTTP), `stat` and `read_start` see them, a download URL serves
/// them as granted, `delete` removes them and removing again succeeds.
#[tokio::test]
async fn both_object_storages_keep_the_ports_contract() {
    use shared::objects::Delivery;
    for storage in [Storage::Local, Storage::S3] {
        let app = spawn_on(&Backend::Sqlite, storage, &[]).await;
        let objects = app.ctx.objects();
        assert_eq!(
            objects.kind(),
            if storage == Storage::S3 {
                "s3"
            } else {
                "local"
            }
        );
        let key = "attachments/contract-1";
        assert_eq!(objects.stat(key).await.unwrap(), None, "{storage:?}");

        let upload = objects
            .upload_url(key, "text/plain", 11, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(upload.method, "PUT");
        let mut put = reqwest::Client::new().put(&upload.url).body("hello world");
        for (name, value) in &upload.headers {
            put = put.header(name.as_str(), value.as_str());
        }
        let put = put.send().await.unwrap();
        assert!(
            put.status().is_success(),
            "{storage:?}: {:?}",
            put.text().await
        );

        let stored = objects.stat(key).await.unwrap().expect("stored");
        assert_eq!(stored.size, 11);
        assert_eq!(stored.content_type.as_deref(), Some("text/plain"));
        assert_eq!(objects.read_start(key, 5).await.unwrap(), b"hello");
        assert_eq!(
            objects.read_start(key, 1_000).await.unwrap(),
            b"hello world"
        );
        objects.mark_attached(key).await.unwrap();

        let delivery = Delivery {
            content_type: "text/plain".into(),
            disposition: "attachment; filename=\"a.txt\"".into(),
        };
        let url = objects
            .download_url(key, &delivery, Duration::from_secs(60))
            .await
            .unwrap();
        let served = reqwest::get(&url).await.unwrap();
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(
            served.headers()["content-disposition"],
            "attachment; filename=\"a.txt\""
        );
        assert_eq!(served.text().await.unwrap(), "hello world");

        objects.delete(key).await.unwrap();
        objects.delete(key).await.unwrap();
        assert_eq!(objects.stat(key).await.unwrap(), None);
        if storage == Storage::Local {
            // A tampered URL is refused.
            let tampered = url.replace("attachment%3B", "inline%3B");
            assert_eq!(
                reqwest::get(&tampered).await.unwrap().status(),
                StatusCode::FORBIDDEN
            );
        }
    }
}
