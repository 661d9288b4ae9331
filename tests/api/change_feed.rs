//! The storage port's change feed, on every adapter: what the realtime node fans out.

use std::time::Duration;

use chat_tests::{on_each_backend, TestApp};
use futures_util::StreamExt;
use serde_json::json;
use shared::store::{Change, ChangeStream};

/// A change and the position after it (checkpoints, which carry no change, are passed over).
struct Event {
    position: String,
    change: Change,
}

async fn next(stream: &mut ChangeStream) -> Event {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a change arrives")
            .expect("stream goes on")
            .expect("change reads");
        if let Some(change) = event.change {
            return Event {
                position: event.position,
                change,
            };
        }
    }
}

async fn open(app: &TestApp, position: Option<String>) -> ChangeStream {
    app.ctx.store().changes(position).await.expect("feed opens")
}

#[tokio::test]
async fn every_change_to_fan_out_is_on_the_feed_in_order() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let start = app.ctx.store().feed_position().await.unwrap();
        let mut feed = open(&app, Some(start)).await;

        let sent = app.send_private(&alice, &bob, "hello").await;
        let event = next(&mut feed).await;
        let Change::MessageCreated(message) = event.change else {
            panic!("{:?}", event.change)
        };
        assert_eq!(message.message_id, sent["messageId"].as_str().unwrap());

        let path = format!(
            "/api/v1/chat/message/{}/status",
            sent["messageId"].as_str().unwrap()
        );
        app.call(
            reqwest::Method::PUT,
            &path,
            &bob.access_token,
            Some(&json!({ "status": "READ" })),
        )
        .await;
        let Change::MessageUpdated(message) = next(&mut feed).await.change else {
            panic!("update")
        };
        assert_eq!(message.status, shared::model::MessageStatus::Read);

        let group = app.create_group(&alice, "Team", &[&bob]).await;
        let Change::GroupChanged(created) = next(&mut feed).await.change else {
            panic!("group")
        };
        assert_eq!(created.id.to_hex(), group);
        assert_eq!(created.members.len(), 2);

        let member = format!("/api/v1/chat/group/{group}/member/{}", bob.id);
        app.call(reqwest::Method::DELETE, &member, &alice.access_token, None)
            .await;
        let Change::GroupChanged(after) = next(&mut feed).await.change else {
            panic!("removal")
        };
        assert_eq!(
            after.members.len(),
            1,
            "a removal carries the new member list"
        );

        app.call(
            reqwest::Method::DELETE,
            &format!("/api/v1/chat/group/{group}"),
            &alice.access_token,
            None,
        )
        .await;
        let Change::GroupChanged(deleted) = next(&mut feed).await.change else {
            panic!("delete")
        };
        assert!(!deleted.is_active);
    })
    .await;
}

#[tokio::test]
async fn a_reader_resumes_from_its_position_without_loss() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let start = app.ctx.store().feed_position().await.unwrap();
        let mut feed = open(&app, Some(start)).await;
        app.send_private(&alice, &bob, "first").await;
        let first = next(&mut feed).await;
        drop(feed);

        // Written while nobody reads.
        for text in ["second", "third"] {
            app.send_private(&alice, &bob, text).await;
        }
        let mut resumed = open(&app, Some(first.position.clone())).await;
        for expected in ["second", "third"] {
            let Change::MessageCreated(message) = next(&mut resumed).await.change else {
                panic!()
            };
            assert_eq!(message.message, expected);
        }
    })
    .await;
}
