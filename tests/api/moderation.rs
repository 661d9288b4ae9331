//! SPEC §9 trust and safety, on both adapters: reports reach the queue, moderators remove
//! messages and ban users (their sockets close at once, login and handshakes are refused), every
//! admin route checks the stored role, the word filter on every send path.

use chat_tests::{
    assert_error, realtime::RealtimeNode, socket::connect, spawn_app_with, Account, Backend,
    TestApp,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The account `ADMIN_EMAILS` names in these tests.
pub const ROOT: &str = "root";

pub async fn app_with_admin(backend: &Backend, extra: &[(&str, &str)]) -> TestApp {
    let admin_email = format!("{ROOT}@example.com");
    let mut vars = vec![("ADMIN_EMAILS", admin_email.as_str())];
    vars.extend_from_slice(extra);
    spawn_app_with(backend, &vars).await
}

pub async fn report_message(app: &TestApp, who: &Account, message_id: &str) -> reqwest::Response {
    app.call(
        Method::POST,
        &format!("/api/v1/chat/message/{message_id}/report"),
        &who.access_token,
        Some(&json!({ "reason": "spam", "note": "selling pills" })),
    )
    .await
}

pub async fn resolve(
    app: &TestApp,
    who: &Account,
    report_id: &str,
    body: Value,
) -> reqwest::Response {
    app.call(
        Method::POST,
        &format!("/api/v1/admin/reports/{report_id}/resolve"),
        &who.access_token,
        Some(&body),
    )
    .await
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn grant(app: &TestApp, admin: &Account, user: &Account, role: &str) {
    let (status, body) = json_of(
        app.call(
            Method::PUT,
            &format!("/api/v1/admin/users/{}/roles/{role}", user.id),
            &admin.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["roles"].as_array().unwrap().contains(&json!(role)),
        "{body}"
    );
}

/// An app with its admin (`ROOT`) and a moderator the admin appointed.
async fn staffed(backend: &Backend) -> (TestApp, Account, Account) {
    let app = app_with_admin(backend, &[]).await;
    let root = app.register(ROOT).await;
    let moderator = app.register("mod").await;
    grant(&app, &root, &moderator, "moderator").await;
    (app, root, moderator)
}

#[tokio::test]
async fn a_report_reaches_the_queue_and_a_removed_message_reaches_both_sockets() {
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        let app = app_with_admin(&backend, &[]).await;
        let root = app.register(ROOT).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let sent = app.send_private(&alice, &bob, "buy cheap pills").await;
        let id = sent["messageId"].as_str().unwrap().to_owned();
        let node = RealtimeNode::start(&app).await;
        let alice_socket = connect(&node.url(), Some(&alice.access_token))
            .await
            .unwrap();
        let bob_socket = connect(&node.url(), Some(&bob.access_token)).await.unwrap();

        let (status, receipt) = json_of(report_message(&app, &bob, &id).await).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        assert_eq!(receipt["status"], "open");
        let (status, again) = json_of(report_message(&app, &bob, &id).await).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "one open report per reporter and target"
        );
        assert_eq!(again["reportId"], receipt["reportId"]);
        let path = format!("/api/v1/chat/message/{id}/report");
        assert_error(
            report_message(&app, &alice, &id).await,
            StatusCode::BAD_REQUEST,
            &path,
        )
        .await;
        assert_error(
            report_message(&app, &carol, &id).await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        let bad_reason = app
            .call(
                Method::POST,
                &path,
                &bob.access_token,
                Some(&json!({ "reason": "meh" })),
            )
            .await;
        assert_error(bad_reason, StatusCode::BAD_REQUEST, &path).await;

        let queue = app
            .get_json("/api/v1/admin/reports", &root.access_token)
            .await;
        let reports = queue["reports"].as_array().expect("reports");
        assert_eq!(reports.len(), 1, "{queue}");
        let report = &reports[0];
        assert_eq!(report["reportId"], receipt["reportId"]);
        assert_eq!(report["reason"], "spam");
        assert_eq!(report["reporter"], json!(bob.id));
        assert_eq!(report["target"]["kind"], "message");
        assert_eq!(report["target"]["author"], json!(alice.id));
        assert_eq!(report["target"]["excerpt"], "buy cheap pills");

        let report_id = receipt["reportId"].as_str().unwrap();
        let (status, resolved) = json_of(
            resolve(
                &app,
                &root,
                report_id,
                json!({ "action": "removeMessage", "note": "spam" }),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{resolved}");
        assert_eq!(resolved["status"], "actioned");
        assert_eq!(resolved["resolution"], "removeMessage");
        for socket in [&alice_socket, &bob_socket] {
            let deleted = socket
                .expect("messageDeleted", |event| event["messageId"] == json!(id))
                .await;
            assert!(deleted["deletedAt"].is_string(), "{deleted}");
            assert_eq!(deleted["removedByModerator"], true, "{deleted}");
        }
        let page = app
            .fetch_history(&bob, json!({ "senderId": bob.id, "receiverId": alice.id }))
            .await;
        let tombstone = &page["messages"][0];
        assert_eq!(tombstone["deleted"], true, "{page}");
        assert_eq!(tombstone["removedByModerator"], true, "{page}");
        assert_eq!(tombstone["message"], "");

        let resolve_path = format!("/api/v1/admin/reports/{report_id}/resolve");
        let twice = resolve(&app, &root, report_id, json!({ "action": "dismiss" })).await;
        assert_error(twice, StatusCode::CONFLICT, &resolve_path).await;
        let open = app
            .get_json("/api/v1/admin/reports", &root.access_token)
            .await;
        assert_eq!(open["reports"], json!([]), "{open}");
        let closed = app
            .get_json("/api/v1/admin/reports?status=actioned", &root.access_token)
            .await;
        assert_eq!(closed["reports"][0]["reportId"], receipt["reportId"]);

        let audit = app
            .get_json("/api/v1/admin/audit", &root.access_token)
            .await;
        let latest = &audit["entries"][0];
        assert_eq!(latest["action"], "removeMessage", "{audit}");
        assert_eq!(latest["actor"], json!(root.id));
        assert_eq!(latest["target"], json!(format!("message:{id}")));
        assert_eq!(latest["reason"], "spam");
        assert_eq!(latest["reportId"], receipt["reportId"]);
        assert!(latest["at"].is_string());
    }
}

#[tokio::test]
async fn a_banned_user_is_disconnected_and_refused_until_restored() {
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        let (app, root, moderator) = staffed(&backend).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let node = RealtimeNode::start(&app).await;
        let alice_socket = connect(&node.url(), Some(&alice.access_token))
            .await
            .unwrap();

        let (status, receipt) = json_of(
            app.call(
                Method::POST,
                &format!("/api/v1/users/{}/report", alice.id),
                &bob.access_token,
                Some(&json!({ "reason": "harassment" })),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        let report_id = receipt["reportId"].as_str().unwrap();
        let removing_a_user = resolve(
            &app,
            &moderator,
            report_id,
            json!({ "action": "removeMessage" }),
        )
        .await;
        assert_error(
            removing_a_user,
            StatusCode::BAD_REQUEST,
            &format!("/api/v1/admin/reports/{report_id}/resolve"),
        )
        .await;
        let (status, banned) =
            json_of(resolve(&app, &moderator, report_id, json!({ "action": "ban" })).await).await;
        assert_eq!(status, StatusCode::OK, "{banned}");

        alice_socket.expect("sessionEnded", |_| true).await;
        alice_socket.expect("close", |_| true).await;
        let login = app.login(&alice.email).await;
        let body = assert_error(login, StatusCode::FORBIDDEN, "/api/v1/auth/login").await;
        assert!(
            body["message"].as_str().unwrap().contains("banned"),
            "{body}"
        );
        let old_token = app
            .call(Method::GET, "/api/v1/users/me", &alice.access_token, None)
            .await;
        let body = assert_error(old_token, StatusCode::FORBIDDEN, "/api/v1/users/me").await;
        assert!(
            body["message"].as_str().unwrap().contains("banned"),
            "{body}"
        );
        let handshake = connect(&node.url(), Some(&alice.access_token)).await;
        assert!(
            handshake
                .as_ref()
                .err()
                .is_some_and(|err| err.contains("banned")),
            "{:?}",
            handshake.err()
        );

        // A moderator cannot restrict an admin (nor themself); an admin lifts the ban.
        let on_root = app
            .call(
                Method::POST,
                &format!("/api/v1/admin/users/{}/ban", root.id),
                &moderator.access_token,
                Some(&json!({})),
            )
            .await;
        assert_error(
            on_root,
            StatusCode::FORBIDDEN,
            &format!("/api/v1/admin/users/{}/ban", root.id),
        )
        .await;
        let restore = format!("/api/v1/admin/users/{}/restore", alice.id);
        let (status, restored) = json_of(
            app.call(
                Method::POST,
                &restore,
                &root.access_token,
                Some(&json!({ "note": "appeal" })),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{restored}");
        assert_eq!(app.login(&alice.email).await.status(), StatusCode::OK);

        // A suspension ends at a time in the future, and says when.
        let suspend = format!("/api/v1/admin/users/{}/suspend", alice.id);
        let past = app
            .call(
                Method::POST,
                &suspend,
                &moderator.access_token,
                Some(&json!({ "until": "2020-01-01T00:00:00Z" })),
            )
            .await;
        assert_error(past, StatusCode::BAD_REQUEST, &suspend).await;
        let until = (shared::time::now() + chrono::Duration::days(2)).to_rfc3339();
        let suspended = app
            .call(
                Method::POST,
                &suspend,
                &moderator.access_token,
                Some(&json!({ "until": until })),
            )
            .await;
        assert_eq!(suspended.status(), StatusCode::OK);
        let login = app.login(&alice.email).await;
        let body = assert_error(login, StatusCode::FORBIDDEN, "/api/v1/auth/login").await;
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("suspended until"),
            "{body}"
        );

        let audit = app
            .get_json("/api/v1/admin/audit", &root.access_token)
            .await;
        let actions: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions[..4],
            ["suspend", "restore", "ban", "grantRole"],
            "{audit}"
        );
    }
}

/// Every admin route, with what it needs: a plain user gets 403 on all of them, a moderator on the
/// admin-only ones, and a revoked role stops working at the next request (same token).
/// Whether `path` is an instance of `template` (`{…}` segments match any one segment).
fn matches_template(path: &str, template: &str) -> bool {
    let (path, template): (Vec<&str>, Vec<&str>) =
        (path.split('/').collect(), template.split('/').collect());
    path.len() == template.len()
        && path
            .iter()
            .zip(&template)
            .all(|(segment, pattern)| pattern.starts_with('{') || segment == pattern)
}

#[tokio::test]
async fn every_admin_route_checks_the_stored_role() {
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        let (app, root, moderator) = staffed(&backend).await;
        let plain = app.register("plain").await;
        let target = app.register("target").await;
        let some_report = shared::model::ReportId::new();
        let routes: Vec<(Method, String, Option<Value>, &str)> = vec![
            (
                Method::GET,
                "/api/v1/admin/reports".into(),
                None,
                "moderator",
            ),
            (
                Method::POST,
                format!("/api/v1/admin/reports/{some_report}/resolve"),
                Some(json!({ "action": "dismiss" })),
                "moderator",
            ),
            (
                Method::POST,
                format!("/api/v1/admin/users/{}/suspend", target.id),
                Some(json!({ "until": "2099-01-01T00:00:00Z" })),
                "moderator",
            ),
            (
                Method::POST,
                format!("/api/v1/admin/users/{}/ban", target.id),
                Some(json!({})),
                "moderator",
            ),
            (
                Method::POST,
                format!("/api/v1/admin/users/{}/restore", target.id),
                Some(json!({})),
                "moderator",
            ),
            (
                Method::PUT,
                format!("/api/v1/admin/users/{}/roles/moderator", target.id),
                None,
                "admin",
            ),
            (
                Method::DELETE,
                format!("/api/v1/admin/users/{}/roles/moderator", target.id),
                None,
                "admin",
            ),
            (Method::GET, "/api/v1/admin/audit".into(), None, "admin"),
        ];
        // The table covers every admin route the functions serve.
        let served: Vec<shared::http::routes::Route> = chat_tests::functions()
            .into_iter()
            .find(|(name, _)| *name == "admin")
            .map(|(_, api)| api.table().to_vec())
            .unwrap_or_default();
        assert_eq!(served.len(), routes.len());
        for route in &served {
            assert!(
                routes
                    .iter()
                    .any(|(method, path, _, _)| *method == route.method
                        && matches_template(path, route.path)),
                "{} {} is not in the table",
                route.method,
                route.path
            );
        }
        for (method, path, body, needed) in &routes {
            let response = app
                .call(method.clone(), path, &plain.access_token, body.as_ref())
                .await;
            let refused = assert_error(response, StatusCode::FORBIDDEN, path).await;
            assert!(
                refused["message"].as_str().unwrap().contains("role"),
                "{refused}"
            );
            let as_moderator = app
                .call(method.clone(), path, &moderator.access_token, body.as_ref())
                .await;
            if *needed == "admin" {
                assert_error(as_moderator, StatusCode::FORBIDDEN, path).await;
            } else {
                assert_ne!(
                    as_moderator.status(),
                    StatusCode::FORBIDDEN,
                    "{method} {path}"
                );
            }
        }
        let revoke = format!("/api/v1/admin/users/{}/roles/moderator", moderator.id);
        let revoked = app
            .call(Method::DELETE, &revoke, &root.access_token, None)
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let after = app
            .call(
                Method::GET,
                "/api/v1/admin/reports",
                &moderator.access_token,
                None,
            )
            .await;
        assert_error(after, StatusCode::FORBIDDEN, "/api/v1/admin/reports").await;
        let own_admin = format!("/api/v1/admin/users/{}/roles/admin", root.id);
        let lockout = app
            .call(Method::DELETE, &own_admin, &root.access_token, None)
            .await;
        assert_error(lockout, StatusCode::BAD_REQUEST, &own_admin).await;
        let unknown_role = format!("/api/v1/admin/users/{}/roles/owner", target.id);
        let unknown = app
            .call(Method::PUT, &unknown_role, &root.access_token, None)
            .await;
        assert_error(unknown, StatusCode::BAD_REQUEST, &unknown_role).await;
    }
}

/// `MODERATION_WORDS_FILE` on REST sends, socket sends and edits: refused in one mode, masked in
/// the other.
#[tokio::test]
async fn the_word_filter_refuses_or_masks_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    std::fs::write(&words, "# test list\ndarn\nHECK\n").unwrap();
    let words = words.display().to_string();
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        for mode in ["refuse", "mask"] {
            let app = spawn_app_with(
                &backend,
                &[("MODERATION_WORDS_FILE", &words), ("MODERATION_MODE", mode)],
            )
            .await;
            let alice = app.register("alice").await;
            let bob = app.register("bob").await;
            let node = RealtimeNode::start(&app).await;
            let socket = connect(&node.url(), Some(&alice.access_token))
                .await
                .unwrap();
            let rest = app
                .call(
                    Method::POST,
                    "/api/v1/chat/message",
                    &alice.access_token,
                    Some(&json!({ "receiver": bob.id, "message": "oh darn it" })),
                )
                .await;
            let ack = socket
                .emit_ack(
                    "sendMessage",
                    json!({ "messageData": { "receiver": bob.id, "message": "what the Heck" } }),
                )
                .await;
            let clean = app.send_private(&alice, &bob, "all good").await;
            let edit_path = format!(
                "/api/v1/chat/message/{}",
                clean["messageId"].as_str().unwrap()
            );
            let edit = app
                .call(
                    Method::PATCH,
                    &edit_path,
                    &alice.access_token,
                    Some(&json!({ "message": "darn" })),
                )
                .await;
            if mode == "refuse" {
                let body =
                    assert_error(rest, StatusCode::BAD_REQUEST, "/api/v1/chat/message").await;
                assert!(
                    body["message"].as_str().unwrap().contains("not allowed"),
                    "{body}"
                );
                assert!(ack.to_string().contains("not allowed"), "{ack}");
                assert_error(edit, StatusCode::BAD_REQUEST, &edit_path).await;
            } else {
                let (status, stored) = json_of(rest).await;
                assert_eq!(status, StatusCode::CREATED);
                assert_eq!(stored["message"], "oh **** it");
                assert!(ack.to_string().contains("what the ****"), "{ack}");
                let (status, edited) = json_of(edit).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(edited["message"], "****");
            }
            drop(node);
        }
    }
    // An unreadable list stops the process with a message naming the variable.
    let err = shared::config::Config::from_lookup(|name| {
        (name == "MODERATION_WORDS_FILE").then(|| "/nonexistent/words.txt".to_owned())
    })
    .expect_err("refused");
    assert!(err.to_string().contains("MODERATION_WORDS_FILE"), "{err}");
}
