//! The storage port's contract, held against every adapter: what a service may rely on.

use chat_tests::{open_store, Backend, TestDatabase};
use chrono::Duration;
use shared::{
    model::{NewUser, Session, SessionId, UserId},
    store::{Rotation, Store, StoreError},
    time::now,
};

fn new_user(username: &str, email: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        username: username.into(),
        email: email.into(),
        password_hash: "$2b$04$hash".into(),
        first_name: Some("First".into()),
        last_name: None,
        avatar: None,
        now: now(),
    }
}

fn session_for(user: UserId, hash: &str, expires_in: Duration) -> Session {
    let at = now();
    Session {
        id: SessionId::new(),
        user_id: user,
        token_hash: hash.into(),
        user_agent: Some("test-agent".into()),
        ip: Some("127.0.0.1".into()),
        created_at: at,
        last_used_at: at,
        expires_at: at + expires_in,
    }
}

async fn each_store(test: impl AsyncFn(Store, &TestDatabase)) {
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        let database = TestDatabase::new(&backend);
        let store = open_store(&database).await;
        test(store, &database).await;
    }
}

#[tokio::test]
async fn users_round_trip_and_unique_fields_are_reported_by_name() {
    each_store(async |store, _| {
        let created = store
            .insert_user(new_user("Alice", "alice@example.com"))
            .await
            .unwrap();
        let found = store.find_user_by_id(created.id).await.unwrap().unwrap();
        assert_eq!(found, created, "stored exactly, at millisecond precision");
        let by_email = store.find_user_by_email("ALICE@example.com").await.unwrap();
        assert_eq!(by_email.map(|u| u.id), Some(created.id));
        assert_eq!(store.find_user_by_id(UserId::new()).await.unwrap(), None);

        let err = store
            .insert_user(new_user("alice", "other@example.com"))
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::Duplicate { field: "username" });
        let err = store
            .insert_user(new_user("alice2", "alice@example.com"))
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::Duplicate { field: "email" });
        assert_eq!(
            store.find_user_by_email("other@example.com").await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn session_rotation_is_compare_and_swap() {
    each_store(async |store, _| {
        let user = store
            .insert_user(new_user("bob", "bob@example.com"))
            .await
            .unwrap();
        let session = session_for(user.id, "hash-1", Duration::days(7));
        store.create_session(session.clone()).await.unwrap();
        let later = now() + Duration::days(8);

        let grace_after = now() - Duration::seconds(10);
        assert_eq!(
            store
                .rotate_session(session.id, "wrong", "hash-2", now(), later, grace_after)
                .await
                .unwrap(),
            Rotation::Refused
        );
        assert_eq!(
            store
                .rotate_session(session.id, "hash-1", "hash-2", now(), later, grace_after)
                .await
                .unwrap(),
            Rotation::Rotated
        );
        // Moments later the rotated-out token is a concurrent refresh; after the grace, a replay.
        assert_eq!(
            store
                .rotate_session(session.id, "hash-1", "hash-3", now(), later, grace_after)
                .await
                .unwrap(),
            Rotation::JustRotated
        );
        assert_eq!(
            store
                .rotate_session(session.id, "hash-1", "hash-3", now(), later, now())
                .await
                .unwrap(),
            Rotation::Refused
        );
        let stored = store
            .find_session(session.id, now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.token_hash, "hash-2");
        assert_eq!(stored.expires_at, later);

        assert!(!store
            .delete_session(session.id, UserId::new())
            .await
            .unwrap());
        assert!(store.delete_session(session.id, user.id).await.unwrap());
        assert_eq!(store.find_session(session.id, now()).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn expired_sessions_are_neither_found_nor_rotated() {
    each_store(async |store, _| {
        let user = store
            .insert_user(new_user("carl", "carl@example.com"))
            .await
            .unwrap();
        let session = session_for(user.id, "hash-1", Duration::milliseconds(1));
        store.create_session(session.clone()).await.unwrap();
        let after = now() + Duration::seconds(1);
        assert_eq!(store.find_session(session.id, after).await.unwrap(), None);
        let rotated = store
            .rotate_session(
                session.id,
                "hash-1",
                "hash-2",
                after,
                after + Duration::days(1),
                after - Duration::seconds(10),
            )
            .await
            .unwrap();
        assert_eq!(rotated, Rotation::Refused);
    })
    .await;
}

#[tokio::test]
async fn rate_limit_counters_are_shared_between_processes() {
    each_store(async |store, database| {
        let other_process = open_store(database).await;
        let window_end = now() + Duration::minutes(1);
        assert_eq!(
            store
                .hit("login:1.2.3.4:1", window_end, now())
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            other_process
                .hit("login:1.2.3.4:1", window_end, now())
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .hit("login:1.2.3.4:1", window_end, now())
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            store
                .hit("login:5.6.7.8:1", window_end, now())
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_from_two_processes_lose_nothing() {
    each_store(async |store, database| {
        let other_process = open_store(database).await;
        let writes = |store: Store, prefix: &'static str| async move {
            for i in 0..40 {
                let name = format!("{prefix}{i}");
                store
                    .insert_user(new_user(&name, &format!("{name}@example.com")))
                    .await
                    .expect("no write is refused");
            }
        };
        let window_end = now() + Duration::minutes(1);
        let hits = |store: Store| async move {
            for _ in 0..40 {
                store
                    .hit("shared", window_end, now())
                    .await
                    .expect("hit counted");
            }
        };
        tokio::join!(
            writes(store.clone(), "left"),
            writes(other_process.clone(), "right"),
            hits(store.clone()),
            hits(other_process.clone()),
        );
        for name in ["left0", "left39", "right0", "right39"] {
            let found = store
                .find_user_by_email(&format!("{name}@example.com"))
                .await
                .unwrap();
            assert!(found.is_some(), "{name}");
        }
        assert_eq!(store.hit("shared", window_end, now()).await.unwrap(), 81);
    })
    .await;
}

#[tokio::test]
async fn a_job_lease_has_one_holder_until_it_expires_and_fences_the_old_one() {
    each_store(async |store: Store, database: &TestDatabase| {
        let other_process = open_store(database).await;
        let t0 = now();
        let until = t0 + Duration::seconds(15);
        let first = store
            .claim_lease("job", "node-a", t0, until)
            .await
            .unwrap()
            .expect("a free lease is taken");
        assert_eq!(first.position, None);
        assert_eq!(
            other_process
                .claim_lease("job", "node-b", t0, until)
                .await
                .unwrap(),
            None,
            "held by another until it expires"
        );
        // The holder renews (saving its position) and claims again: same token.
        assert!(store
            .renew_lease("job", "node-a", first.token, until, Some("pos-1"))
            .await
            .unwrap());
        let again = store
            .claim_lease("job", "node-a", t0, until)
            .await
            .unwrap()
            .expect("still ours");
        assert_eq!(again.token, first.token);
        // Expired: another takes it over with a new token and the saved position.
        let later = until + Duration::seconds(1);
        let taken = other_process
            .claim_lease("job", "node-b", later, later + Duration::seconds(15))
            .await
            .unwrap()
            .expect("an expired lease is taken over");
        assert!(taken.token > first.token);
        assert_eq!(taken.position.as_deref(), Some("pos-1"));
        // The old holder is fenced off: it can neither renew nor move the position.
        assert!(!store
            .renew_lease("job", "node-a", first.token, later, Some("stale"))
            .await
            .unwrap());
        assert!(other_process
            .renew_lease("job", "node-b", taken.token, later, None)
            .await
            .unwrap());
        let held = other_process
            .claim_lease("job", "node-b", later, later + Duration::seconds(15))
            .await
            .unwrap()
            .expect("ours");
        assert_eq!(held.position.as_deref(), Some("pos-1"));
        // Another job is independent.
        assert!(store
            .claim_lease("other-job", "node-a", later, later + Duration::seconds(1))
            .await
            .unwrap()
            .is_some());
    })
    .await;
}

#[tokio::test]
async fn a_push_delivery_is_claimed_once_per_device_and_message_until_it_expires() {
    each_store(async |store, _| {
        let device = shared::model::PushSubscriptionId::new();
        let other = shared::model::PushSubscriptionId::new();
        let kept = now() + Duration::days(7);
        assert!(store.claim_push_delivery(device, "m1", kept).await.unwrap());
        assert!(
            !store.claim_push_delivery(device, "m1", kept).await.unwrap(),
            "a repeat"
        );
        assert!(store.claim_push_delivery(device, "m2", kept).await.unwrap());
        assert!(store.claim_push_delivery(other, "m1", kept).await.unwrap());
        // An expired record is forgotten, and only it (MongoDB's TTL index may have been first:
        // the count is not part of the contract).
        let expired = now() - Duration::seconds(1);
        assert!(store
            .claim_push_delivery(device, "m3", expired)
            .await
            .unwrap());
        assert!(store.forget_push_deliveries(now()).await.unwrap() <= 1);
        assert!(store.claim_push_delivery(device, "m3", kept).await.unwrap());
        assert!(!store.claim_push_delivery(device, "m2", kept).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn feed_positions_are_ordered_as_the_feed_yields_them() {
    use futures_util::StreamExt;
    use shared::{model::Room, store::Signal};
    use std::cmp::Ordering;
    each_store(async |store, _| {
        let before = store.feed_position().await.unwrap();
        let signal = Signal {
            room: Room::User(UserId::new()),
            event: "typing".into(),
            data: serde_json::json!({}),
            except: None,
        };
        store.publish_signal(signal, now()).await.unwrap();
        let after = store.feed_position().await.unwrap();
        let mut changes = store.changes(Some(before.clone())).await.unwrap();
        let event = loop {
            let event = tokio::time::timeout(std::time::Duration::from_secs(10), changes.next())
                .await
                .expect("the signal is in the feed")
                .unwrap()
                .unwrap();
            if event.change.is_some() {
                break event;
            }
        };
        let order = |a: &str, b: &str| store.position_order(a, b);
        assert_eq!(order(&before, &after), Some(Ordering::Less));
        assert_eq!(order(&after, &before), Some(Ordering::Greater));
        assert_eq!(order(&event.position, &before), Some(Ordering::Greater));
        assert_ne!(order(&event.position, &after), Some(Ordering::Greater));
        assert_eq!(
            order(&event.position, &event.position),
            Some(Ordering::Equal)
        );
        assert_eq!(order("not a position", &before), None);
    })
    .await;
}
