//! Whom a typing indicator or a join reaches: the conversation a payload names, checked against
//! the caller (a member of the group, or one of the two users of the private chat).

use serde_json::{json, Value};

use crate::{
    auth::CurrentUser,
    error::AppError,
    model::{parse_id, GroupId, Room, RoomError, UserId},
    service::access,
    AppContext,
};

/// Where a signal about a conversation goes, and the conversation it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    /// The partner's own room, or the group room.
    pub room: Room,
    pub chat_room_id: Room,
}

/// Resolves `{receiverId}`, `{groupId}` or `{chatRoomId}` to whom the caller may signal.
pub async fn audience(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: &Value,
) -> Result<Audience, AppError> {
    let id_field = |name: &str| payload.get(name).and_then(Value::as_str).map(str::to_owned);
    let named_room = id_field("chatRoomId");
    let group = match id_field("groupId") {
        Some(raw) => Some(parse_id::<GroupId>("groupId", &raw)?),
        None => named_room
            .as_deref()
            .and_then(|raw| raw.parse::<Room>().ok())
            .and_then(|room| room.group_id()),
    };
    if let Some(group) = group {
        access::member_group(ctx, caller, group).await?;
        return Ok(Audience {
            room: Room::Group(group),
            chat_room_id: Room::Group(group),
        });
    }
    let partner = match id_field("receiverId").or_else(|| id_field("partnerId")) {
        Some(raw) => parse_id::<UserId>("receiverId", &raw)?,
        None => {
            let room = named_room.ok_or_else(|| {
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
        room: Room::User(partner),
        chat_room_id: Room::private(caller.id, partner),
    })
}

/// The other user of a private room named by the client; the caller must be one of them.
fn partner_in_room(caller: UserId, raw: &str) -> Result<UserId, AppError> {
    match raw.parse::<Room>() {
        Ok(Room::Private(pair)) => pair
            .partner_of(caller)
            .ok_or_else(|| AppError::forbidden("You are not part of this conversation")),
        Err(RoomError::BadId) => Err(AppError::Validation(vec![format!(
            "chatRoomId {}",
            RoomError::BadId
        )])),
        Ok(_) | Err(RoomError::NotARoom) => Err(AppError::bad_request(format!(
            "chatRoomId {}",
            RoomError::NotARoom
        ))),
    }
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
    if let Room::Private(pair) = audience.chat_room_id {
        let partner = pair.partner_of(caller.id).unwrap_or(caller.id);
        if !access::shares_a_conversation(ctx, caller.id, partner).await? {
            return Err(AppError::forbidden(
                "You can only type to someone you have a conversation or a group with",
            ));
        }
        if ctx.store.blocks(partner, caller.id).await? {
            return Err(access::blocked_by_receiver());
        }
    }
    let data = about(caller, &audience.chat_room_id);
    super::signal(ctx, audience.room, event, data, Some(Room::User(caller.id))).await
}

/// `{userId, chatRoomId}`: the payload of typing and join/leave notifications.
pub fn about(caller: CurrentUser, chat_room_id: &Room) -> Value {
    json!({ "userId": caller.id, "chatRoomId": chat_room_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_room_names_the_partner_only_for_its_members() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let room = Room::private(a, b).to_string();
        assert_eq!(partner_in_room(a, &room).unwrap(), b);
        assert_eq!(partner_in_room(b, &room).unwrap(), a);
        assert!(partner_in_room(c, &room).is_err());
        assert!(partner_in_room(a, "nonsense").is_err());
        assert!(partner_in_room(a, &Room::User(b).to_string()).is_err());
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
