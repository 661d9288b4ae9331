//! The same change feed, delivered to API Gateway WebSocket connections (the `ws` function's
//! clients) with PostToConnection: the same client events as socket.io (`client_events`), as
//! `{"event", "data"}` frames, to the users `reach::users` names. A 410 forgets the connection.
//! Enabled by `APIGW_WS_ENDPOINT` on every node; exactly one runs it at a time (a `leased` job),
//! so a slow API Gateway never delays socket.io delivery.

use futures_util::future::join_all;
use shared::{
    apigw::{Delivery, Gateway},
    metrics::APIGW_LAG,
    model::SessionId,
    service::{
        jobs::APIGW_FANOUT,
        realtime::{client_events, gateway, reach, Outbound},
    },
    store::Change,
    AppContext,
};

use crate::leased::FeedJob;

/// The API Gateway fan-out as a feed job.
pub struct ApigwFanout(pub Gateway);

impl FeedJob for ApigwFanout {
    const NAME: &'static str = APIGW_FANOUT;
    const LAG: &'static str = APIGW_LAG;

    async fn handle(&self, ctx: &AppContext, changes: &[&Change]) {
        for change in changes {
            deliver(ctx, &self.0, change).await;
        }
    }
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
    let connections = match gateway::end_session(ctx, session).await {
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
    let users = match reach::users(ctx, &outbound.to).await {
        Ok(users) if users.is_empty() => return,
        Ok(users) => users,
        Err(err) => {
            tracing::warn!(error = %err, "cannot tell whom an event reaches");
            return;
        }
    };
    let connections = match gateway::connections_of(ctx, &users).await {
        Ok(connections) => connections,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list API Gateway connections");
            return;
        }
    };
    let posts = connections.iter().map(|connection| async move {
        match gateway
            .post(connection, &outbound.event, &outbound.payload)
            .await
        {
            Ok(Delivery::Sent) => posted("sent"),
            Ok(Delivery::Gone) => {
                posted("gone");
                if let Err(err) = gateway::disconnected(ctx, connection).await {
                    tracing::warn!(error = %err, "cannot forget a gone connection");
                }
            }
            Err(err) => {
                posted("failed");
                tracing::warn!(error = %err, connection, "PostToConnection failed");
            }
        }
    });
    join_all(posts).await;
}

/// The API Gateway posts metric, by result (`sent`, `gone`, `failed`).
fn posted(result: &'static str) {
    metrics::counter!(shared::metrics::APIGW_POSTS, "result" => result).increment(1);
}
