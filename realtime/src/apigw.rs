//! The same change feed, delivered to API Gateway WebSocket connections (the `ws` function's
//! clients) with PostToConnection: same event names, same payloads. A 410 forgets the connection.
//! Enabled by `APIGW_WS_ENDPOINT`; run it on one realtime node only, or clients get duplicates.

use futures_util::future::join_all;
use serde_json::{json, Value};
use shared::{
    apigw::{Delivery, Gateway},
    model::{ChatType, GroupId, UserId},
    store::Change,
    AppContext,
};

/// Who gets a change: `None` is everyone connected.
struct Targets {
    event: String,
    data: Value,
    users: Option<Vec<UserId>>,
}

async fn group_members(ctx: &AppContext, group: GroupId) -> Vec<UserId> {
    match ctx.store.find_group(group).await {
        Ok(Some(group)) if group.is_active => group.members,
        _ => Vec::new(),
    }
}

/// The users behind a socket.io room name (`user_<id>` or `group_<id>`).
async fn room_users(ctx: &AppContext, room: &str) -> Option<Vec<UserId>> {
    if let Some(user) = room.strip_prefix("user_") {
        return user.parse().ok().map(|user| vec![user]);
    }
    let group = room.strip_prefix("group_")?.parse().ok()?;
    Some(group_members(ctx, group).await)
}

async fn targets(ctx: &AppContext, change: &Change) -> Option<Targets> {
    let to_value = |value| serde_json::to_value(value).ok();
    match change {
        Change::MessageCreated(message) => {
            match (message.chat_type, message.receiver, message.group_id) {
                (ChatType::Private, Some(receiver), _) => Some(Targets {
                    event: "messageReceived".into(),
                    data: to_value(message)?,
                    users: Some(vec![receiver]),
                }),
                (ChatType::Group, _, Some(group)) => {
                    let mut members = group_members(ctx, group).await;
                    members.retain(|member| *member != message.sender);
                    Some(Targets {
                        event: "groupMessageReceived".into(),
                        data: to_value(message)?,
                        users: Some(members),
                    })
                }
                _ => None,
            }
        }
        Change::MessageUpdated(message) => Some(Targets {
            event: "messageStatus".into(),
            data: to_value(message)?,
            users: Some(vec![message.sender]),
        }),
        Change::Presence(presence) => Some(Targets {
            event: if presence.is_online {
                "userOnline"
            } else {
                "userOffline"
            }
            .into(),
            data: if presence.is_online {
                json!({ "userId": presence.user_id })
            } else {
                json!({ "userId": presence.user_id, "lastSeen": shared::time::to_iso(&presence.last_seen) })
            },
            users: None,
        }),
        Change::Signal(signal) => {
            let mut users = room_users(ctx, &signal.room).await?;
            if let Some(except) = signal
                .except
                .as_deref()
                .and_then(|room| room.strip_prefix("user_"))
            {
                users.retain(|user| user.to_hex() != except);
            }
            Some(Targets {
                event: signal.event.clone(),
                data: signal.data.clone(),
                users: Some(users),
            })
        }
        Change::GroupChanged(_) => None,
    }
}

/// Posts one change to every API Gateway connection that should see it.
pub async fn deliver(ctx: &AppContext, gateway: &Gateway, change: &Change) {
    let Some(targets) = targets(ctx, change).await else {
        return;
    };
    let connections = match ctx
        .store
        .ws_connections(targets.users.as_deref(), shared::time::now())
        .await
    {
        Ok(connections) => connections,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list API Gateway connections");
            return;
        }
    };
    let targets = &targets;
    let posts = connections.iter().map(|(connection, _)| async move {
        match gateway
            .post(connection, &targets.event, &targets.data)
            .await
        {
            Ok(Delivery::Sent) => {}
            Ok(Delivery::Gone) => {
                if let Err(err) = ctx.store.remove_ws_connection(connection).await {
                    tracing::warn!(error = %err, "cannot forget a gone connection");
                }
            }
            Err(err) => tracing::warn!(error = %err, connection, "PostToConnection failed"),
        }
    });
    join_all(posts).await;
}
