//! Every collection's indexes (SPEC §3 plus what the queries need). `create_index` with the same
//! keys and options is a no-op, so every process may run this at start-up.

use std::time::Duration;

use bson::{doc, Document};
use mongodb::{options::IndexOptions, Database, IndexModel};

use super::map_err;
use crate::store::StoreResult;

pub(crate) const USERNAME_UNIQUE: &str = "users_usernameLower_unique";
pub(crate) const EMAIL_UNIQUE: &str = "users_email_unique";

pub(crate) const USERS: &str = "users";
pub(crate) const SESSIONS: &str = "sessions";
pub(crate) const RATE_LIMITS: &str = "rateLimits";
pub(crate) const MESSAGES: &str = "messages";
pub(crate) const GROUPS: &str = "groups";
pub(crate) const CONNECTIONS: &str = "connections";
pub(crate) const SIGNALS: &str = "signals";
pub(crate) const FEED_POSITIONS: &str = "feedPositions";
pub(crate) const WS_CONNECTIONS: &str = "wsConnections";
pub(crate) const JOB_LEASES: &str = "jobLeases";
pub(crate) const ATTACHMENTS: &str = "attachments";
pub(crate) const BLOCKS: &str = "blocks";
pub(crate) const REPORTS: &str = "reports";
pub(crate) const AUDIT_LOG: &str = "auditLog";
pub(crate) const MUTES: &str = "mutes";
pub(crate) const PUSH_SUBSCRIPTIONS: &str = "pushSubscriptions";
pub(crate) const PUSH_DELIVERIES: &str = "pushDeliveries";
pub(crate) const CLIENT_MESSAGE_ID_UNIQUE: &str = "messages_sender_clientMessageId_unique";
pub(crate) const GROUP_NAME_UNIQUE: &str = "groups_groupNameLower_unique";

struct Spec {
    collection: &'static str,
    name: &'static str,
    keys: Document,
    unique: bool,
    expire_at_date: bool,
    /// Only documents matching this are indexed (a unique index over an optional field).
    partial: Option<Document>,
}

fn spec(collection: &'static str, name: &'static str, keys: Document) -> Spec {
    Spec {
        collection,
        name,
        keys,
        unique: false,
        expire_at_date: false,
        partial: None,
    }
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            unique: true,
            ..spec(USERS, USERNAME_UNIQUE, doc! { "usernameLower": 1 })
        },
        Spec {
            unique: true,
            ..spec(USERS, EMAIL_UNIQUE, doc! { "email": 1 })
        },
        spec(USERS, "users_isOnline", doc! { "isOnline": 1 }),
        spec(USERS, "users_firstNameLower", doc! { "firstNameLower": 1 }),
        spec(USERS, "users_lastNameLower", doc! { "lastNameLower": 1 }),
        spec(
            SESSIONS,
            "sessions_userId_createdAt",
            doc! { "userId": 1, "createdAt": -1 },
        ),
        Spec {
            expire_at_date: true,
            ..spec(SESSIONS, "sessions_expiresAt_ttl", doc! { "expiresAt": 1 })
        },
        Spec {
            expire_at_date: true,
            ..spec(
                RATE_LIMITS,
                "rateLimits_expiresAt_ttl",
                doc! { "expiresAt": 1 },
            )
        },
        Spec {
            unique: true,
            ..spec(
                MESSAGES,
                "messages_messageId_unique",
                doc! { "messageId": 1 },
            )
        },
        spec(
            MESSAGES,
            "messages_chatRoomId_createdAt",
            doc! { "chatRoomId": 1, "createdAt": -1 },
        ),
        // History pages sort on both fields (ties on createdAt are broken by _id).
        spec(
            MESSAGES,
            "messages_chatRoomId_createdAt_id",
            doc! { "chatRoomId": 1, "createdAt": -1, "_id": -1 },
        ),
        // Concurrent resends with one clientMessageId (from any process) store one message.
        Spec {
            unique: true,
            partial: Some(doc! { "clientMessageId": { "$type": "string" } }),
            ..spec(
                MESSAGES,
                CLIENT_MESSAGE_ID_UNIQUE,
                doc! { "sender": 1, "clientMessageId": 1 },
            )
        },
        spec(
            MESSAGES,
            "messages_sender_status",
            doc! { "sender": 1, "status": 1 },
        ),
        // The receiver's side of the rooms query's `$or` (and its unread counts).
        spec(
            MESSAGES,
            "messages_receiver_status",
            doc! { "receiver": 1, "status": 1 },
        ),
        spec(
            MESSAGES,
            "messages_groupId_createdAt",
            doc! { "groupId": 1, "createdAt": -1 },
        ),
        spec(
            MESSAGES,
            "messages_chatType_createdAt",
            doc! { "chatType": 1, "createdAt": -1 },
        ),
        // The replies to a message, whose quotes follow its edits and deletion.
        Spec {
            partial: Some(doc! { "replyTo.messageId": { "$type": "string" } }),
            ..spec(
                MESSAGES,
                "messages_replyTo_messageId",
                doc! { "replyTo.messageId": 1 },
            )
        },
        // Message search (SPEC §7): `$text` over the text of messages.
        spec(
            MESSAGES,
            "messages_message_text",
            doc! { "message": "text" },
        ),
        // One block per pair; `blocked_users` lists a blocker's newest first.
        Spec {
            unique: true,
            ..spec(
                BLOCKS,
                "blocks_blocker_blocked_unique",
                doc! { "blocker": 1, "blocked": 1 },
            )
        },
        spec(
            BLOCKS,
            "blocks_blocker_createdAt",
            doc! { "blocker": 1, "createdAt": -1 },
        ),
        // Group names are unique case-insensitively, as on SQLite ("Team" and "team" collide).
        Spec {
            unique: true,
            ..spec(GROUPS, GROUP_NAME_UNIQUE, doc! { "groupNameLower": 1 })
        },
        spec(
            GROUPS,
            "groups_members_createdAt",
            doc! { "members": 1, "createdAt": -1 },
        ),
        spec(GROUPS, "groups_createdBy", doc! { "createdBy": 1 }),
        spec(GROUPS, "groups_isActive", doc! { "isActive": 1 }),
        spec(
            CONNECTIONS,
            "connections_userId_heartbeatAt",
            doc! { "userId": 1, "heartbeatAt": 1 },
        ),
        spec(CONNECTIONS, "connections_nodeId", doc! { "nodeId": 1 }),
        spec(
            CONNECTIONS,
            "connections_heartbeatAt",
            doc! { "heartbeatAt": 1 },
        ),
        Spec {
            expire_at_date: true,
            ..spec(SIGNALS, "signals_expiresAt_ttl", doc! { "expiresAt": 1 })
        },
        Spec {
            expire_at_date: true,
            ..spec(
                WS_CONNECTIONS,
                "wsConnections_expiresAt_ttl",
                doc! { "expiresAt": 1 },
            )
        },
        spec(
            WS_CONNECTIONS,
            "wsConnections_userId_expiresAt",
            doc! { "userId": 1, "expiresAt": 1 },
        ),
        spec(
            WS_CONNECTIONS,
            "wsConnections_sessionId",
            doc! { "sessionId": 1 },
        ),
        // The sweep's query: pending ones by expiry.
        spec(
            ATTACHMENTS,
            "attachments_messageId_expiresAt",
            doc! { "messageId": 1, "expiresAt": 1 },
        ),
        // Deleted accounts whose username the sweep frees.
        spec(USERS, "users_deletedAt", doc! { "deletedAt": 1 }),
        // One open report per reporter and target; the queue by status; closing a target's
        // reports; a deleted account's reports.
        Spec {
            unique: true,
            ..spec(REPORTS, "reports_openKey_unique", doc! { "openKey": 1 })
        },
        spec(
            REPORTS,
            "reports_status_id",
            doc! { "status": 1, "_id": -1 },
        ),
        spec(
            REPORTS,
            "reports_targetKey_status",
            doc! { "targetKey": 1, "status": 1 },
        ),
        spec(REPORTS, "reports_reporter", doc! { "reporter": 1 }),
        // One mute per user and conversation; one registration per user and device; a session's
        // devices go with it.
        Spec {
            unique: true,
            ..spec(
                MUTES,
                "mutes_userId_chatRoomId_unique",
                doc! { "userId": 1, "chatRoomId": 1 },
            )
        },
        Spec {
            unique: true,
            ..spec(
                PUSH_SUBSCRIPTIONS,
                "pushSubscriptions_userId_targetKey_unique",
                doc! { "userId": 1, "targetKey": 1 },
            )
        },
        spec(
            PUSH_SUBSCRIPTIONS,
            "pushSubscriptions_sessionId",
            doc! { "sessionId": 1 },
        ),
        // One record per device and message (its `_id`); MongoDB deletes it when it expires.
        Spec {
            expire_at_date: true,
            ..spec(
                PUSH_DELIVERIES,
                "pushDeliveries_expiresAt_ttl",
                doc! { "expiresAt": 1 },
            )
        },
    ]
}

pub(crate) async fn ensure(db: &Database) -> StoreResult<()> {
    for spec in specs() {
        let mut options = IndexOptions::builder()
            .name(spec.name.to_owned())
            .unique(spec.unique.then_some(true))
            .build();
        if spec.expire_at_date {
            options.expire_after = Some(Duration::ZERO);
        }
        options.partial_filter_expression = spec.partial;
        // Text indexes: no language, so words are matched as written (case- and
        // diacritic-insensitively), not stemmed, and no word is dropped as a stop word.
        if spec.keys.values().any(|kind| kind.as_str() == Some("text")) {
            options.default_language = Some("none".into());
        }
        let model = IndexModel::builder()
            .keys(spec.keys)
            .options(options)
            .build();
        db.collection::<Document>(spec.collection)
            .create_index(model)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}
