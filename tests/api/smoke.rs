//! End to end, the way the README says: `./scripts/dev.sh` starts `cargo lambda watch` (every
//! function, real paths) and the realtime node on a fresh database; a client then goes through
//! register → login → refresh → old refresh refused → logout (and a users call) over plain HTTP.

use std::time::{Duration, Instant};

use chat_tests::{
    base_vars,
    process::{free_port, Stack},
    Account, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

const STARTUP_BUDGET: Duration = Duration::from_secs(900);

async fn wait_until_up(client: &reqwest::Client, url: &str, stack: &mut Stack) {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(url).send().await {
            if response.status() == StatusCode::OK {
                return;
            }
        }
        assert!(
            stack.is_running(),
            "stack exited early:\n{}",
            stack.log_tail()
        );
        assert!(
            started.elapsed() < STARTUP_BUDGET,
            "{url} not up after {STARTUP_BUDGET:?}:\n{}",
            stack.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_readme_stack_serves_the_auth_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (port, realtime_port) = (free_port(), free_port());
    // As a newcomer runs it: development, no secrets (the built-in development ones, which must
    // work under `cargo lambda watch`), only ports and a fresh database chosen here.
    let mut vars: Vec<(String, String)> = base_vars()
        .into_iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "NODE_ENV" | "JWT_SECRET" | "JWT_REFRESH_SECRET"
            )
        })
        .collect();
    vars.extend([
        ("PORT".into(), port.to_string()),
        ("REALTIME_PORT".into(), realtime_port.to_string()),
        (
            "DATABASE_PATH".into(),
            dir.path().join("chat.db").display().to_string(),
        ),
        // The functions write their CloudWatch EMF lines here as on Lambda (read at the end).
        ("METRICS_EMF".into(), "true".into()),
    ]);
    let mut stack = Stack::start("./scripts/dev.sh", &[], &vars, dir.path().join("stack.log"));

    let client = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port}");
    wait_until_up(&client, &format!("{api}/"), &mut stack).await;
    wait_until_up(
        &client,
        &format!("http://127.0.0.1:{realtime_port}/health"),
        &mut stack,
    )
    .await;

    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{api}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let registered = post(
        "/api/v1/auth/register",
        None,
        json!({ "username": "smoke", "email": "smoke@example.com", "password": PASSWORD,
                "firstName": "Smoke" }),
    )
    .await
    .unwrap();
    assert_eq!(
        registered.status(),
        StatusCode::CREATED,
        "{}",
        stack.log_tail()
    );
    let registered = Account::from_auth_body(&registered.json().await.unwrap());

    let login = post(
        "/api/v1/auth/login",
        None,
        json!({ "email": "smoke@example.com", "password": PASSWORD }),
    )
    .await
    .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let session = Account::from_auth_body(&login.json().await.unwrap());
    assert_eq!(session.id, registered.id);

    let refreshed = post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refreshToken": session.refresh_token }),
    )
    .await
    .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed = Account::from_auth_body(&refreshed.json().await.unwrap());

    let replay = post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refreshToken": session.refresh_token }),
    )
    .await
    .unwrap();
    // Refused; moments after its rotation the old token is taken for a concurrent refresh (409:
    // retry with the new pair) rather than a replay that would end the session.
    assert_eq!(replay.status(), StatusCode::CONFLICT);
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["statusCode"], 409);
    assert_eq!(body["path"], "/api/v1/auth/refresh");

    let logout = post(
        "/api/v1/auth/logout",
        Some(&registered.access_token),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    let after_logout = post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refreshToken": registered.refresh_token }),
    )
    .await
    .unwrap();
    assert_eq!(after_logout.status(), StatusCode::UNAUTHORIZED);

    // The users function is routed too.
    let me = client
        .get(format!("{api}/api/v1/users/me"))
        .bearer_auth(&refreshed.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "smoke");

    seed_readme_examples(&client, &api).await;

    // Unknown paths reach our own 404, not the emulator's.
    let unknown = client
        .get(format!("{api}/api/v1/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["path"], "/api/v1/unknown");

    // Every function wrote an EMF line per request: requests, latency and cold starts by
    // function, route and status class.
    let log = std::fs::read_to_string(&stack.log).unwrap();
    let emf: Vec<Value> = log
        .lines()
        .filter_map(|line| line.find("{\"_aws\"").map(|at| &line[at..]))
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect();
    let register = emf
        .iter()
        .find(|line| line["Route"] == "POST /api/v1/auth/register")
        .unwrap_or_else(|| panic!("no EMF line for register in:\n{}", stack.log_tail()));
    assert_eq!(register["Function"], "auth");
    assert_eq!(register["StatusClass"], "2xx");
    assert_eq!(register["Requests"], 1);
    assert!(register["Latency"].as_f64().unwrap() > 0.0);
    let metrics = &register["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(metrics["Namespace"], "ChatApi");
    assert!(register["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    let cold: Vec<&Value> = emf.iter().filter(|line| line["ColdStart"] == 1).collect();
    assert!(
        cold.iter().any(|line| line["Function"] == "auth")
            && cold.iter().any(|line| line["Function"] == "users"),
        "one cold start per function process: {cold:?}"
    );
    assert!(emf
        .iter()
        .any(|line| line["Route"] == "POST /api/v1/auth/refresh" && line["StatusClass"] == "4xx"));
}

/// The seed README's curl examples, with real ids and tokens, through every chat function.
async fn seed_readme_examples(client: &reqwest::Client, api: &str) {
    let call = |method: reqwest::Method, path: String, token: String, body: Option<Value>| {
        let mut request = client
            .request(method, format!("{api}{path}"))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let register = |name: &str| {
        call(
            reqwest::Method::POST,
            "/api/v1/auth/register".into(),
            String::new(),
            Some(
                json!({ "username": name, "email": format!("{name}@example.com"),
                         "password": PASSWORD, "firstName": name }),
            ),
        )
    };
    let (_, john) = register("johndoe").await;
    let john = Account::from_auth_body(&john);
    let (_, jane) = register("janedoe").await;
    let jane = Account::from_auth_body(&jane);
    let (_, jim) = register("jimdoe").await;
    let jim = Account::from_auth_body(&jim);
    let token = john.access_token.clone();
    use reqwest::Method as M;

    let (status, message) = call(
        M::POST,
        "/api/v1/chat/message".into(),
        token.clone(),
        Some(json!({
        "chatRoomId": "user1_user2", "chatType": "PRIVATE", "receiver": jane.id,
        "message": "Hello, how are you?" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert_eq!(message["sender"], john.id.as_str());

    let (status, group) = call(
        M::POST,
        "/api/v1/chat/group".into(),
        token.clone(),
        Some(json!({
        "groupName": "Project Developers", "groupDescription": "Discussion group for project team",
        "members": [jane.id] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group_id = group["groupId"].as_str().unwrap().to_owned();
    assert_eq!(group["admins"], json!([john.id]));

    let (status, _) = call(
        M::POST,
        "/api/v1/chat/message".into(),
        token.clone(),
        Some(json!({
        "chatRoomId": format!("group_{group_id}"), "chatType": "GROUP", "groupId": group_id,
        "message": "Great work on the feature!" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, group) = call(
        M::POST,
        format!("/api/v1/chat/group/{group_id}/member"),
        token.clone(),
        Some(json!({ "userId": jim.id })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{group}");
    assert_eq!(group["members"].as_array().unwrap().len(), 3);

    let (status, page) = call(M::POST, "/api/v1/chat/messages/fetch".into(), token.clone(), Some(json!({
        "currentUserId": john.id, "senderId": john.id, "receiverId": jane.id, "page": 1, "limit": 20 }))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 1);
    let (status, page) = call(
        M::POST,
        "/api/v1/chat/messages/fetch".into(),
        token.clone(),
        Some(json!({
        "currentUserId": john.id, "groupId": group_id, "page": 1, "limit": 20 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["messages"][0]["message"], "Great work on the feature!");

    let (status, groups) = call(
        M::GET,
        format!("/api/v1/chat/user/{}/groups", john.id),
        token.clone(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(groups.as_array().unwrap().len(), 1);
    let (status, rooms) = call(
        M::GET,
        format!("/api/v1/chat/rooms/{}", jane.id),
        jane.access_token.clone(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rooms[0]["unreadCount"], 1);
    let (status, rooms) = call(
        M::GET,
        format!("/api/v1/chat/group-rooms/{}", jim.id),
        jim.access_token.clone(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rooms[0]["unreadCount"], 1);
    let (status, _) = call(
        M::PUT,
        format!("/api/v1/chat/user/{}/last-seen", john.id),
        token.clone(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, found) = call(
        M::GET,
        "/api/v1/chat/groups/search?q=project".into(),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found[0]["groupId"], group_id.as_str());
}
