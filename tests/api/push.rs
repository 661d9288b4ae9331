//! SPEC §10 end to end, on both adapters: a realtime node sends Web Push to an independent
//! receiver (`push_receiver.py`: it decrypts with `http-ece` and verifies VAPID with `py-vapid`)
//! and native devices' pushes to a signed webhook (it checks the HMAC); nobody connected, muted,
//! blocking or sending is pushed; each device gets one push per message across retries, two nodes
//! and a killed sender.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use chat_tests::{
    process::free_port, push::PushReceiver, realtime::RealtimeNode, socket, Account, Backend,
    TestApp,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const DEVICES: &str = "/api/v1/users/me/push-subscriptions";
const WEBHOOK_SECRET: &str = "test-push-webhook-secret-0123456789abcdef";

async fn app_for(backend: &Backend, receiver: &PushReceiver) -> TestApp {
    let webhook = receiver.webhook_url();
    chat_tests::spawn_app_with(
        backend,
        &[
            ("JOB_LEASE_SECONDS", "3"),
            ("MESSAGE_RATE_LIMIT_MAX", "100000"),
            ("PUSH_WEBHOOK_URL", &webhook),
            ("PUSH_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ],
    )
    .await
}

async fn node(app: &TestApp, name: &str) -> RealtimeNode {
    RealtimeNode::start_as(app, free_port(), name).await
}

/// A receiver, an app on `backend` whose webhook is the receiver's, one node, alice and bob.
struct Stage {
    receiver: PushReceiver,
    app: TestApp,
    node: RealtimeNode,
    alice: Account,
    bob: Account,
}

async fn stage(backend: &Backend, node_name: &str) -> Stage {
    eprintln!("-- backend: {}", backend.name());
    let receiver = PushReceiver::start(WEBHOOK_SECRET).await;
    let app = app_for(backend, &receiver).await;
    let node = node(&app, node_name).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    Stage {
        receiver,
        app,
        node,
        alice,
        bob,
    }
}

/// Registers one of the receiver's subscriptions for `who`'s session; the receiver's id of it.
async fn subscribe(app: &TestApp, receiver: &PushReceiver, who: &Account) -> String {
    let subscription = receiver.subscription().await;
    let response = app
        .call(
            Method::POST,
            DEVICES,
            &who.access_token,
            Some(&json!({
                "kind": "webpush",
                "endpoint": subscription["endpoint"],
                "keys": subscription["keys"],
            })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    subscription["id"].as_str().unwrap().to_owned()
}

fn subscriptions_of(pushes: &[Value]) -> HashSet<String> {
    pushes
        .iter()
        .map(|push| push["subscription"].as_str().unwrap().to_owned())
        .collect()
}

fn message_id(sent: &Value) -> String {
    sent["messageId"].as_str().unwrap().to_owned()
}

/// Waits until `who` is offline as `asker` sees it (their socket's close was processed).
async fn wait_offline(app: &TestApp, asker: &Account, who: &Account) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.is_online(asker, who).await {
        assert!(Instant::now() < deadline, "{} stays online", who.username);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_message_to_an_offline_user_reaches_each_device_decrypted_once() {
    for backend in Backend::configured() {
        let Stage {
            receiver,
            app,
            node,
            alice,
            bob,
        } = stage(&backend, "push-a").await;
        let carol = app.register("carol").await;
        let bob_phone = subscribe(&app, &receiver, &bob).await;
        let bob_laptop = subscribe(&app, &receiver, &bob).await;
        let alice_laptop = subscribe(&app, &receiver, &alice).await;
        let carol_phone = subscribe(&app, &receiver, &carol).await;
        let key = app
            .get_json(&format!("{DEVICES}/vapid-public-key"), &bob.access_token)
            .await;
        let public_key = key["publicKey"].as_str().expect("publicKey").to_owned();

        // Offline: each of bob's devices gets the push, decrypted and VAPID-signed with our key.
        let first = app.send_private(&alice, &bob, "hello bob").await;
        let pushes = receiver.expect_pushes(&message_id(&first), 2).await;
        assert_eq!(
            subscriptions_of(&pushes),
            HashSet::from([bob_phone.clone(), bob_laptop.clone()])
        );
        for push in &pushes {
            assert_eq!(
                push["payload"],
                json!({
                    "title": "alice",
                    "body": "hello bob",
                    "chatRoomId": first["chatRoomId"],
                    "messageId": first["messageId"],
                })
            );
            assert_eq!(push["urgency"], "high");
            assert_eq!(push["ttl"], "86400");
            assert_eq!(push["topic"].as_str().map(str::len), Some(32));
            assert_eq!(push["vapidKey"], public_key.as_str());
        }

        // Connected (a socket on the node): no push. The feed is in order, so once a later
        // message's push is in, the earlier one was decided.
        let socket = socket::connect(&node.url(), Some(&bob.access_token))
            .await
            .expect("bob connects");
        let while_connected = app.send_private(&alice, &bob, "while connected").await;
        socket
            .expect("messageReceived", |m| {
                m["messageId"] == while_connected["messageId"]
            })
            .await;
        socket.disconnect().await;
        wait_offline(&app, &alice, &bob).await;
        let after = app.send_private(&alice, &bob, "after leaving").await;
        receiver.expect_pushes(&message_id(&after), 2).await;
        assert!(receiver
            .pushes_of(&message_id(&while_connected))
            .await
            .is_empty());

        // Muted: no push; unmuted again: pushes. (A push to carol marks that the feed got past
        // the muted message before bob unmutes.)
        let mute = format!(
            "/api/v1/chat/rooms/{}/mute",
            first["chatRoomId"].as_str().unwrap()
        );
        let muted = app.call(Method::PUT, &mute, &bob.access_token, None).await;
        assert_eq!(muted.status(), StatusCode::OK);
        let while_muted = app.send_private(&alice, &bob, "while muted").await;
        let marker = app.send_private(&alice, &carol, "marker").await;
        receiver.expect_pushes(&message_id(&marker), 1).await;
        let unmuted = app
            .call(Method::DELETE, &mute, &bob.access_token, None)
            .await;
        assert_eq!(unmuted.status(), StatusCode::OK);
        let unmuted_again = app.send_private(&alice, &bob, "unmuted").await;
        receiver.expect_pushes(&message_id(&unmuted_again), 2).await;
        assert!(receiver
            .pushes_of(&message_id(&while_muted))
            .await
            .is_empty());

        // A group: every other member, under the group's name; never the sender.
        let group = app.create_group(&alice, "club", &[&bob, &carol]).await;
        let to_club = app
            .send(&alice, json!({ "groupId": group, "message": "hi club" }))
            .await;
        let pushes = receiver.expect_pushes(&message_id(&to_club), 3).await;
        assert_eq!(
            subscriptions_of(&pushes),
            HashSet::from([bob_phone.clone(), bob_laptop.clone(), carol_phone.clone()])
        );
        assert_eq!(pushes[0]["payload"]["title"], "club");
        assert_eq!(pushes[0]["payload"]["body"], "alice: hi club");

        // Blocking: carol blocks alice, so alice's group messages push carol no more.
        let block = app
            .call(
                Method::PUT,
                &format!("/api/v1/users/me/blocks/{}", alice.id),
                &carol.access_token,
                None,
            )
            .await;
        assert_eq!(block.status(), StatusCode::OK);
        let from_blocked = app
            .send(&alice, json!({ "groupId": group, "message": "still here" }))
            .await;
        let from_bob = app
            .send(&bob, json!({ "groupId": group, "message": "from bob" }))
            .await;
        let pushes = receiver.expect_pushes(&message_id(&from_bob), 2).await;
        assert_eq!(
            subscriptions_of(&pushes),
            HashSet::from([carol_phone.clone(), alice_laptop.clone()])
        );
        let pushes = receiver.pushes_of(&message_id(&from_blocked)).await;
        assert_eq!(
            subscriptions_of(&pushes),
            HashSet::from([bob_phone.clone(), bob_laptop.clone()])
        );

        // Nothing came twice.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mut per_device = HashMap::new();
        for push in receiver.received().await {
            let key = (
                push["subscription"].clone(),
                push["payload"]["messageId"].clone(),
            );
            *per_device.entry(key).or_insert(0) += 1;
        }
        assert!(
            per_device.values().all(|count| *count == 1),
            "{per_device:?}"
        );
        drop(node);
    }
}

#[tokio::test]
async fn gone_devices_are_forgotten_and_failing_pushes_are_retried() {
    for backend in Backend::configured() {
        let Stage {
            receiver,
            app,
            alice,
            bob,
            node: _node,
        } = stage(&backend, "push-retry").await;
        let gone = subscribe(&app, &receiver, &bob).await;
        let flaky = subscribe(&app, &receiver, &bob).await;
        let busy = subscribe(&app, &receiver, &bob).await;
        receiver.answer(&gone, 410, 1, None).await;
        receiver.answer(&flaky, 500, 2, None).await;
        receiver.answer(&busy, 429, 1, Some("1")).await;

        let first = app.send_private(&alice, &bob, "try hard").await;
        let pushes = receiver.expect_pushes(&message_id(&first), 2).await;
        assert_eq!(
            subscriptions_of(&pushes),
            HashSet::from([flaky.clone(), busy.clone()])
        );
        let answers = |records: &[Value], id: &str| -> Vec<u64> {
            records
                .iter()
                .filter(|record| record["subscription"] == id)
                .map(|record| record["status"].as_u64().unwrap())
                .collect()
        };
        let received = receiver.received().await;
        assert_eq!(answers(&received, &flaky), [500, 500, 201]);
        assert_eq!(answers(&received, &busy), [429, 201]);
        assert_eq!(answers(&received, &gone), [410]);

        // The 410 removed the device.
        let devices = app.get_json(DEVICES, &bob.access_token).await;
        assert_eq!(devices.as_array().map(Vec::len), Some(2), "{devices}");
        let second = app.send_private(&alice, &bob, "again").await;
        receiver.expect_pushes(&message_id(&second), 2).await;
        assert_eq!(answers(&receiver.received().await, &gone), [410]);
    }
}

#[tokio::test]
async fn native_devices_get_a_signed_webhook_call_retried_under_one_id() {
    for backend in Backend::configured() {
        let Stage {
            receiver,
            app,
            alice,
            bob,
            node: _node,
        } = stage(&backend, "push-webhook").await;
        let registered = app
            .call(
                Method::POST,
                DEVICES,
                &bob.access_token,
                Some(
                    &json!({ "kind": "webhook-token", "token": "fcm-token-1", "platform": "fcm" }),
                ),
            )
            .await;
        assert_eq!(registered.status(), StatusCode::CREATED);
        receiver.answer("webhook", 500, 1, None).await;

        let sent = app.send_private(&alice, &bob, "to your phone").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let calls = loop {
            let calls: Vec<Value> = receiver
                .received()
                .await
                .into_iter()
                .filter(|record| record["kind"] == "webhook")
                .collect();
            if calls.iter().any(|call| call["status"] == 200) {
                break calls;
            }
            assert!(
                Instant::now() < deadline,
                "no webhook call got through: {calls:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // The receiver checked every signature (a bad one is answered 401 and recorded so).
        let statuses: Vec<&Value> = calls.iter().map(|call| &call["status"]).collect();
        assert_eq!(statuses, [&json!(500), &json!(200)], "{calls:?}");
        assert_eq!(
            calls[0]["webhookId"], calls[1]["webhookId"],
            "one id per push"
        );
        assert_eq!(calls[1]["repeat"], false);
        let webhook_id = calls[1]["webhookId"].clone();
        assert_eq!(
            calls[1]["body"],
            json!({
                "webhookId": webhook_id,
                "deviceToken": "fcm-token-1",
                "platform": "fcm",
                "payload": {
                    "title": "alice",
                    "body": "to your phone",
                    "chatRoomId": sent["chatRoomId"],
                    "messageId": sent["messageId"],
                },
            })
        );
    }
}

/// Two nodes: one sends (the push-sender lease). SIGKILL it and the other takes over from the
/// position it saved; the replay is refused by the delivery records, so every device still gets
/// each message once; the killed node restarts, takes over when the other dies, and the same holds.
#[tokio::test]
async fn two_nodes_push_each_message_once_across_a_killed_sender() {
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        let receiver = PushReceiver::start(WEBHOOK_SECRET).await;
        let app = app_for(&backend, &receiver).await;
        let mut first = node(&app, "push-first").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !first.log_tail().contains("holding the push-sender job") {
            assert!(Instant::now() < deadline, "{}", first.log_tail());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut second = node(&app, "push-second").await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let device = subscribe(&app, &receiver, &bob).await;

        let mut sent = Vec::new();
        for i in 0..3 {
            sent.push(message_id(
                &app.send_private(&alice, &bob, &format!("before {i}")).await,
            ));
        }
        for id in &sent {
            receiver.expect_pushes(id, 1).await;
        }
        first.kill();
        for i in 0..4 {
            sent.push(message_id(
                &app.send_private(&alice, &bob, &format!("during {i}")).await,
            ));
        }
        for id in &sent {
            receiver.expect_pushes(id, 1).await;
        }
        assert!(
            second.log_tail().contains("holding the push-sender job"),
            "{}",
            second.log_tail()
        );

        // The killed node comes back; the other one dies; the first takes over again.
        first.restart(&app).await;
        second.kill();
        for i in 0..3 {
            sent.push(message_id(
                &app.send_private(&alice, &bob, &format!("after {i}")).await,
            ));
        }
        for id in &sent {
            receiver.expect_pushes(id, 1).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let received = receiver.received().await;
        for id in &sent {
            let pushes: Vec<&Value> = received
                .iter()
                .filter(|record| record["payload"]["messageId"] == id.as_str())
                .collect();
            assert_eq!(pushes.len(), 1, "{id}: {pushes:?}");
            assert_eq!(pushes[0]["subscription"], device.as_str());
        }
    }
}

/// `PUSH_ENABLED=false` keeps a node out of sending (it needs no VAPID key): with one such node
/// and one default node, the default one sends, and the message is pushed once.
#[tokio::test]
async fn a_node_with_push_disabled_leaves_sending_to_the_others() {
    let receiver = PushReceiver::start(WEBHOOK_SECRET).await;
    let app = app_for(&Backend::Sqlite, &receiver).await;
    let quiet =
        RealtimeNode::start_with(&app, free_port(), "push-off", &[("PUSH_ENABLED", "false")]).await;
    let sender = node(&app, "push-on").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    subscribe(&app, &receiver, &bob).await;
    let sent = app.send_private(&alice, &bob, "who sends?").await;
    receiver.expect_pushes(&message_id(&sent), 1).await;
    assert!(quiet
        .log_tail()
        .contains("not sending pushes (PUSH_ENABLED=false)"));
    assert!(!quiet.log_tail().contains("holding the push-sender job"));
    assert!(sender.log_tail().contains("holding the push-sender job"));
}
