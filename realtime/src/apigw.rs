//! The same change feed, delivered to API Gateway WebSocket connections (the `ws` function's
//! clients) with PostToConnection: the same client events as socket.io (`client_events`), as
//! `{"event", "data"}` frames. A 410 forgets the connection. Enabled by `APIGW_WS_ENDPOINT`; run it
//! on one realtime node only, or clients get duplicates.

use futures_util::future::join_all;
use shared::{
    apigw::{Delivery, Gateway},
    model::{GroupId, Room, SessionId, UserId},
    service::realtime::{client_events, Outbound, Recipients},
    store::Change,
    AppContext,
};

async fn group_members(ctx: &AppContext, group: GroupId) -> Vec<UserId> {
    match ctx.store.find_group(group).await {
        Ok(Some(group)) if group.is_active => group.members,
        _ => Vec::new(),
    }
}

/// Whose API Gateway connections get an event.
enum Reach {
    Users(Vec<UserId>),
    /// A room API Gateway connections are never in.
    Nobody,
}

async fn reach(ctx: &AppContext, to: &Recipients) -> Reach {
    let (room, except) = match to {
        Recipients::ContactsOf(user) => {
            return match ctx.store.contacts_of(*user).await {
                Ok(contacts) => Reach::Users(contacts),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot list contacts for a presence change");
                    Reach::Nobody
                }
            };
        }
        Recipients::Room { room, except } => (room, except),
    };
    let mut users = match room {
        Room::User(user) => vec![*user],
        Room::Group(group) => group_members(ctx, *group).await,
        // API Gateway connections join no chat; a session's connections are closed by
        // `end_session`.
        Room::Private(_) | Room::Session(_) => return Reach::Nobody,
    };
    if let Some(Room::User(except)) = except {
        users.retain(|user| user != except);
    }
    Reach::Users(users)
}

/// Posts one change to every API Gateway connection that should see it.
pub async fn deliver(ctx: &AppContext, gateway: &Gateway, change: &Change) {
    if let Change::SessionEnded(session) = change {
        end_session(ctx, gateway, *session).await;
        return;
    }
    for outbound in client_events(change) {
        post(ctx, gateway, &outbound).await;
    }
}

/// The connections of an ended session are told (`sessionEnded`), closed and forgotten.
async fn end_session(ctx: &AppContext, gateway: &Gateway, session: SessionId) {
    let connections = match ctx.store.remove_session_ws_connections(session).await {
        Ok(connections) => connections,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list the API Gateway connections of an ended session");
            return;
        }
    };
    let notice = client_events(&Change::SessionEnded(session));
    for connection in &connections {
        for outbound in &notice {
            let _ = gateway
                .post(connection, &outbound.event, &outbound.payload)
                .await;
        }
        if let Err(err) = gateway.disconnect(connection).await {
            tracing::warn!(error = %err, connection, "DeleteConnection failed");
        }
    }
}

async fn post(ctx: &AppContext, gateway: &Gateway, outbound: &Outbound) {
    let users = match reach(ctx, &outbound.to).await {
        Reach::Users(users) if users.is_empty() => return,
        Reach::Users(users) => users,
        Reach::Nobody => return,
    };
    let connections = match ctx
        .store
        .ws_connections(Some(&users), shared::time::now())
        .await
    {
        Ok(connections) => connections,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list API Gateway connections");
            return;
        }
    };
    let posts = connections.iter().map(|(connection, _)| async move {
        match gateway
            .post(connection, &outbound.event, &outbound.payload)
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
