//! Who an outbound event reaches, for both fan-outs: socket.io sockets sit in rooms, API Gateway
//! connections in none (they are found by user). A presence change reaches the user's contacts.

use super::Recipients;
use crate::{
    error::AppError,
    model::{GroupId, Room, UserId},
    AppContext,
};

/// The user's contacts: everyone they have a private conversation or an active group with, minus
/// those they block (presence goes to these only).
pub async fn contacts(ctx: &AppContext, user: UserId) -> Result<Vec<UserId>, AppError> {
    Ok(ctx.store.contacts_of(user).await?)
}

/// The members of a group, or nobody when it is gone or deactivated.
pub async fn active_group_members(
    ctx: &AppContext,
    group: GroupId,
) -> Result<Vec<UserId>, AppError> {
    Ok(match ctx.store.find_group(group).await? {
        Some(group) if group.is_active => group.members,
        _ => Vec::new(),
    })
}

/// The socket.io rooms an event goes to, and the room whose sockets are left out.
pub async fn rooms(
    ctx: &AppContext,
    to: &Recipients,
) -> Result<(Vec<Room>, Option<Room>), AppError> {
    Ok(match to {
        Recipients::ContactsOf(user) => (
            contacts(ctx, *user)
                .await?
                .into_iter()
                .map(Room::User)
                .collect(),
            None,
        ),
        Recipients::Room { room, except } => (vec![*room], *except),
    })
}

/// The users whose API Gateway connections get an event. Those connections join no chat room and
/// a session's are closed by `gateway::end_session`, so a private-chat or session room reaches
/// none of them.
pub async fn users(ctx: &AppContext, to: &Recipients) -> Result<Vec<UserId>, AppError> {
    let (room, except) = match to {
        Recipients::ContactsOf(user) => return contacts(ctx, *user).await,
        Recipients::Room { room, except } => (room, except),
    };
    let mut users = match room {
        Room::User(user) => vec![*user],
        Room::Group(group) => active_group_members(ctx, *group).await?,
        Room::Private(_) | Room::Session(_) => Vec::new(),
    };
    if let Some(Room::User(except)) = except {
        users.retain(|user| user != except);
    }
    Ok(users)
}
