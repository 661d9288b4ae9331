//! The hot MongoDB queries are served by indexes, as a real server's query planner sees them
//! (`explain`, queryPlanner verbosity: an IXSCAN, never a COLLSCAN). The stand-in cannot prove this
//! (its planner is not MongoDB's), so this test needs a real server: the GitHub job on `mongo:7` runs
//! it (`cargo test --workspace -- --include-ignored` with `TEST_MONGO_URI` set).

use bson::{doc, oid::ObjectId, Bson, Document};
use chat_tests::{spawn_app, Backend};

fn stages(plan: &Bson, found: &mut Vec<String>) {
    match plan {
        Bson::Document(document) => {
            if let Ok(stage) = document.get_str("stage") {
                found.push(stage.to_owned());
            }
            for value in document.values() {
                stages(value, found);
            }
        }
        Bson::Array(items) => items.iter().for_each(|item| stages(item, found)),
        _ => {}
    }
}

async fn assert_indexed(db: &mongodb::Database, name: &str, command: Document) {
    let explained = db
        .run_command(doc! { "explain": command, "verbosity": "queryPlanner" })
        .await
        .unwrap_or_else(|err| panic!("explain {name}: {err}"));
    let mut found = Vec::new();
    stages(&Bson::Document(explained.clone()), &mut found);
    assert!(
        found.iter().any(|stage| stage == "IXSCAN")
            && !found.iter().any(|stage| stage == "COLLSCAN"),
        "{name} is not served by an index: stages {found:?}\n{explained}"
    );
}

#[tokio::test]
#[ignore = "needs a real MongoDB (TEST_MONGO_URI): the GitHub mongo:7 job runs it"]
async fn the_hot_queries_use_indexes_on_a_real_mongodb() {
    assert!(
        !chat_tests::mongo::is_standin(),
        "set TEST_MONGO_URI to a real MongoDB replica set: the stand-in's planner proves nothing"
    );
    let app = spawn_app(&Backend::mongo()).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.send_private(&alice, &bob, "hello").await;
    let Backend::Mongo { uri } = &app.backend else {
        unreachable!()
    };
    let client = mongodb::Client::with_uri_str(uri).await.expect("connects");
    let db = client.database(&app.vars["MONGO_DB"]);
    let me: ObjectId = alice.id.parse().expect("id");
    let room =
        shared::model::Room::private(alice.id.parse().expect("id"), bob.id.parse().expect("id"))
            .to_string();

    assert_indexed(
        &db,
        "history page",
        doc! {
            "find": "messages", "filter": { "chatRoomId": &room },
            "sort": { "createdAt": -1, "_id": -1 }, "limit": 21,
        },
    )
    .await;
    assert_indexed(&db, "rooms list match", doc! {
        "aggregate": "messages", "cursor": {},
        "pipeline": [{ "$match": { "chatType": "PRIVATE", "$or": [{ "sender": me }, { "receiver": me }] } }],
    })
    .await;
    assert_indexed(&db, "undelivered", doc! {
        "find": "messages", "filter": { "chatType": "PRIVATE", "sender": me, "receiver": me, "status": "SENT" },
    })
    .await;
    assert_indexed(
        &db,
        "clientMessageId lookup",
        doc! {
            "find": "messages", "filter": { "sender": me, "clientMessageId": "c-1" },
        },
    )
    .await;
    assert_indexed(
        &db,
        "user search",
        doc! {
            "find": "users", "filter": { "usernameLower": { "$regex": "^al" } },
            "sort": { "usernameLower": 1 }, "limit": 20,
        },
    )
    .await;
    assert_indexed(&db, "groups of a user", doc! {
        "find": "groups", "filter": { "members": me, "isActive": true }, "sort": { "createdAt": -1 },
    })
    .await;
    assert_indexed(&db, "live connections of a user", doc! {
        "find": "connections", "filter": { "userId": me, "heartbeatAt": { "$gt": bson::DateTime::now() } },
    })
    .await;
    assert_indexed(&db, "API Gateway connections of users", doc! {
        "find": "wsConnections", "filter": { "userId": { "$in": [me] }, "expiresAt": { "$gt": bson::DateTime::now() } },
    })
    .await;
}
