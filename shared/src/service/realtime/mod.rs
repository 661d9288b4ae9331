//! The rules of the realtime channels (socket.io and API Gateway WebSocket clients alike):
//! presence across devices and nodes, the rooms a new socket joins, what a client may ask
//! (`actions`), whom a typing indicator or a join reaches (`audience`), which client events a feed
//! change becomes (`outbound`) and whom they reach (`reach`), API Gateway connections (`gateway`)
//! and a node's change feed (`feed`). Nothing here knows about sockets; the transports call these,
//! never the storage port.

pub mod actions;
pub mod audience;
pub mod event;
pub mod feed;
pub mod gateway;
pub mod outbound;
pub mod reach;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{
    auth::CurrentUser,
    error::AppError,
    model::{Room, UserId},
    store::Signal,
    AppContext,
};

pub use audience::{audience, typing, Audience};
pub use outbound::{client_events, Outbound, Recipients};

/// A node refreshes its connections this often…
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// …and a connection not refreshed for this long belongs to a dead node.
pub const CONNECTION_TTL: Duration = Duration::from_secs(30);

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

/// Whether the user may open one more socket: `SOCKETS_PER_USER_MAX` across every node.
pub async fn has_room_for_a_socket(ctx: &AppContext, user: UserId) -> Result<bool, AppError> {
    let now = crate::time::now();
    let open = ctx
        .store
        .count_live_connections(user, alive_after(now))
        .await?;
    Ok(open < ctx.config.sockets_per_user_max)
}

/// Whether the user has a live connection anywhere: a socket on any node, or an API Gateway
/// WebSocket connection (such a user hears of a message without a push).
pub async fn is_connected(ctx: &AppContext, user: UserId) -> Result<bool, AppError> {
    let now = crate::time::now();
    if ctx
        .store
        .count_live_connections(user, alive_after(now))
        .await?
        > 0
    {
        return Ok(true);
    }
    Ok(!ctx
        .store
        .ws_connections(Some(&[user]), now)
        .await?
        .is_empty())
}

/// The rooms a new socket of `caller` joins: the user's own, the login session's (so ending the
/// session closes it) and each active group's.
pub async fn socket_rooms(ctx: &AppContext, caller: CurrentUser) -> Result<Vec<Room>, AppError> {
    let groups = ctx.store.groups_of_user(caller.id).await?;
    let mut rooms = vec![Room::User(caller.id), Room::Session(caller.session_id)];
    rooms.extend(groups.into_iter().map(|group| Room::Group(group.id)));
    Ok(rooms)
}

/// Puts an ephemeral event on the feed for every node to deliver to `room`, minus `except`.
pub async fn signal(
    ctx: &AppContext,
    room: Room,
    event: &str,
    data: Value,
    except: Option<Room>,
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
