//! The rules of the realtime node: presence across devices and nodes, who gets typing indicators
//! and calls, which rooms a socket may join. Socket handlers call these; nothing here knows about
//! sockets.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::{
    auth::CurrentUser,
    error::AppError,
    model::{group_room_id, private_room_id, GroupId, UserId},
    service::access,
    store::Signal,
    AppContext,
};

/// A node refreshes its connections this often…
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// …and a connection not refreshed for this long belongs to a dead node.
pub const CONNECTION_TTL: Duration = Duration::from_secs(30);

/// The room every socket of one user is in.
pub fn user_room(user: UserId) -> String {
    format!("user_{user}")
}

fn alive_after(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::from_std(CONNECTION_TTL).unwrap_or(chrono::Duration::seconds(30))
}

/// Records a new socket; the user's first live connection anywhere puts `userOnline` on the feed.
pub async fn connected(
    ctx: &AppContext,
    node_id: &str,
    socket_id: &str,
    user: UserId,
) -> Result<(), AppError> {
    let now = crate::time::now();
    ctx.store
        .add_connection(socket_id, node_id, user, now)
        .await?;
    ctx.store.mark_online(user, now).await?;
    Ok(())
}

/// Forgets a socket; the user's last live connection anywhere puts `userOffline` on the feed.
pub async fn disconnected(ctx: &AppContext, socket_id: &str, user: UserId) -> Result<(), AppError> {
    let now = crate::time::now();
    ctx.store.remove_connection(socket_id).await?;
    ctx.store
        .mark_offline_if_gone(user, now, alive_after(now))
        .await?;
    Ok(())
}

/// Keeps this node's connections alive and ends those of dead nodes (marking their users offline
/// when nothing else of theirs is connected).
pub async fn heartbeat(ctx: &AppContext, node_id: &str) -> Result<(), AppError> {
    let now = crate::time::now();
    ctx.store.heartbeat(node_id, now).await?;
    for user in ctx.store.expire_connections(alive_after(now)).await? {
        ctx.store
            .mark_offline_if_gone(user, now, alive_after(now))
            .await?;
    }
    Ok(())
}

/// A node starting under a name it had before drops what its previous life left behind.
pub async fn restarted(ctx: &AppContext, node_id: &str) -> Result<(), AppError> {
    let now = crate::time::now();
    for user in ctx.store.remove_node_connections(node_id).await? {
        ctx.store
            .mark_offline_if_gone(user, now, alive_after(now))
            .await?;
    }
    Ok(())
}

/// Puts an ephemeral event on the feed for every node to deliver.
pub async fn signal(
    ctx: &AppContext,
    room: String,
    event: &str,
    data: Value,
    except: Option<String>,
) -> Result<(), AppError> {
    let signal = Signal {
        room,
        event: event.to_owned(),
        data,
        except,
    };
    ctx.store.publish_signal(signal, crate::time::now()).await?;
    Ok(())
}

/// Where a typing indicator or similar goes: the partner's own room, or the group room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub room: String,
    pub chat_room_id: String,
}

/// Resolves `{receiverId}`, `{groupId}` or `{chatRoomId}` to whom the caller may signal.
pub async fn audience(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: &Value,
) -> Result<Audience, AppError> {
    let id_field = |name: &str| payload.get(name).and_then(Value::as_str).map(str::to_owned);
    let group = match id_field("groupId") {
        Some(raw) => Some(parse::<GroupId>("groupId", &raw)?),
        None => id_field("chatRoomId")
            .and_then(|room| room.strip_prefix("group_").map(str::to_owned))
            .map(|raw| parse::<GroupId>("chatRoomId", &raw))
            .transpose()?,
    };
    if let Some(group) = group {
        access::member_group(ctx, caller, group).await?;
        return Ok(Audience {
            room: group_room_id(group),
            chat_room_id: group_room_id(group),
        });
    }
    let partner = match id_field("receiverId").or_else(|| id_field("partnerId")) {
        Some(raw) => parse::<UserId>("receiverId", &raw)?,
        None => {
            let room = id_field("chatRoomId").ok_or_else(|| {
                AppError::bad_request("name the conversation: receiverId, groupId or chatRoomId")
            })?;
            partner_in_room(caller.id, &room)?
        }
    };
    if partner == caller.id {
        return Err(AppError::bad_request(
            "the other party must be another user",
        ));
    }
    access::existing_user(ctx, partner, "User").await?;
    Ok(Audience {
        room: user_room(partner),
        chat_room_id: private_room_id(caller.id, partner),
    })
}

/// The other user of a private room id `<a>_<b>`; the caller must be one of them.
fn partner_in_room(caller: UserId, room: &str) -> Result<UserId, AppError> {
    let (a, b) = room
        .split_once('_')
        .ok_or_else(|| AppError::bad_request("chatRoomId is not a conversation id"))?;
    let (a, b) = (
        parse::<UserId>("chatRoomId", a)?,
        parse::<UserId>("chatRoomId", b)?,
    );
    if private_room_id(a, b) != room {
        return Err(AppError::bad_request("chatRoomId is not a conversation id"));
    }
    match (a == caller, b == caller) {
        (true, false) => Ok(b),
        (false, true) => Ok(a),
        _ => Err(AppError::forbidden("You are not part of this conversation")),
    }
}

fn parse<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| {
        AppError::Validation(vec![format!("{name} must be a 24-character hex ObjectId")])
    })
}

/// `userTyping` / `userStoppedTyping`: to the other party only (the partner, or the group minus
/// the typist), on every node. Socket.io and API Gateway clients both come through here.
pub async fn typing(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: &Value,
    event: &str,
) -> Result<(), AppError> {
    let audience = audience(ctx, caller, payload).await?;
    let data = about(caller, &audience.chat_room_id);
    signal(ctx, audience.room, event, data, Some(user_room(caller.id))).await
}

/// `{userId, chatRoomId}`: the payload of typing and join/leave notifications.
pub fn about(caller: CurrentUser, chat_room_id: &str) -> Value {
    json!({ "userId": caller.id, "chatRoomId": chat_room_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_room_names_the_partner_only_for_its_members() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let room = private_room_id(a, b);
        assert_eq!(partner_in_room(a, &room).unwrap(), b);
        assert_eq!(partner_in_room(b, &room).unwrap(), a);
        assert!(partner_in_room(c, &room).is_err());
        assert!(partner_in_room(a, "nonsense").is_err());
        let reversed = format!(
            "{}_{}",
            room.split('_').nth(1).unwrap(),
            room.split('_').next().unwrap()
        );
        assert!(
            partner_in_room(a, &reversed).is_err(),
            "only the canonical order"
        );
    }
}
