//! The same change feed, delivered to API Gateway WebSocket connections (the `ws` function's
//! clients) with PostToConnection: the same client events as socket.io (`client_events`), as
//! `{"event", "data"}` frames, to the users `reach::users` names. A 410 forgets the connection.
//! Enabled by `APIGW_WS_ENDPOINT` on every node; exactly one runs it at a time (`service::jobs`:
//! a lease renewed while alive, given up on drain, taken over within `JOB_LEASE_SECONDS` when its
//! holder dies), reading the feed itself from the job's own saved position, so a slow API Gateway
//! never delays socket.io delivery.

use futures_util::{future::join_all, StreamExt};
use shared::{
    apigw::{Delivery, Gateway},
    metrics::{APIGW_LAG, JOB_HOLDER},
    model::SessionId,
    service::{
        jobs::{self, Lease, APIGW_FANOUT},
        realtime::{client_events, feed, gateway, reach, Outbound},
    },
    store::{Change, StoreError},
    AppContext,
};

use crate::drain::Draining;

/// Runs the API Gateway fan-out whenever this node holds its lease, until the node drains.
pub async fn run_job(ctx: AppContext, gateway: Gateway, holder: String, draining: Draining) {
    let every = jobs::renew_every(&ctx);
    while !draining.is_on() {
        match jobs::claim(&ctx, APIGW_FANOUT, &holder).await {
            Ok(Some((lease, saved))) => hold(&ctx, &gateway, lease, saved, &draining).await,
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "cannot claim the API Gateway fan-out"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Delivers the feed from the job's saved position while the lease is held; saves the position
/// with every renewal, and on drain gives the lease up there.
async fn hold(
    ctx: &AppContext,
    gateway: &Gateway,
    mut lease: Lease,
    saved: Option<String>,
    draining: &Draining,
) {
    tracing::info!(token = lease.token, "holding the API Gateway fan-out");
    metrics::gauge!(JOB_HOLDER, "job" => APIGW_FANOUT).set(1.0);
    let mut latest = match saved {
        Some(position) => Some(position),
        None => feed::now(ctx).await.ok(),
    };
    let opened = match feed::changes(ctx, latest.clone()).await {
        Err(StoreError::PositionLost(reason)) => {
            tracing::error!(
                reason,
                "API Gateway fan-out: its position left the feed; going on from now"
            );
            latest = feed::now(ctx).await.ok();
            // Saved, so the next claim does not start from the lost position again.
            let _ = jobs::renew(ctx, &mut lease, latest.as_deref()).await;
            feed::changes(ctx, latest.clone()).await
        }
        opened => opened,
    };
    let mut changes = match opened {
        Ok(changes) => changes,
        Err(err) => {
            tracing::warn!(error = %err, "API Gateway fan-out: cannot open the feed");
            metrics::gauge!(JOB_HOLDER, "job" => APIGW_FANOUT).set(0.0);
            return;
        }
    };
    let mut renewal = tokio::time::interval(jobs::renew_every(ctx));
    loop {
        tokio::select! {
            _ = renewal.tick() => {
                if draining.is_on() {
                    if let Err(err) = jobs::release(ctx, &lease, latest.as_deref()).await {
                        tracing::warn!(error = %err, "cannot give up the API Gateway fan-out");
                    }
                    break;
                }
                match jobs::renew(ctx, &mut lease, latest.as_deref()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("the API Gateway fan-out moved to another node");
                        break;
                    }
                    Err(err) => tracing::warn!(error = %err, "cannot renew the API Gateway fan-out"),
                }
                if !lease.is_held() {
                    break;
                }
            }
            item = changes.next() => match item {
                Some(Ok(event)) => {
                    if let Some(change) = &event.change {
                        deliver(ctx, gateway, change).await;
                        shared::metrics::lag_since(APIGW_LAG, event.committed_at);
                    }
                    latest = Some(event.position);
                }
                Some(Err(err)) => {
                    tracing::warn!(error = %err, "API Gateway fan-out: the feed failed; reclaiming");
                    let _ = jobs::renew(ctx, &mut lease, latest.as_deref()).await;
                    break;
                }
                None => break,
            },
        }
    }
    metrics::gauge!(JOB_HOLDER, "job" => APIGW_FANOUT).set(0.0);
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
