//! Feed jobs that exactly one node runs at a time (the API Gateway fan-out, the push sender):
//! each reads the change feed itself from the position saved on its lease (`service::jobs`), so a
//! slow job never delays socket.io delivery. The lease is renewed while the node lives, given up on
//! drain (another node takes over at once, from where this one stopped) and taken over within
//! `JOB_LEASE_SECONDS` when its holder dies.

use std::future::Future;

use futures_util::StreamExt;
use shared::{
    metrics::JOB_HOLDER,
    service::{
        jobs::{self, Lease},
        realtime::feed,
    },
    store::{Change, StoreError},
    AppContext,
};

use crate::drain::Draining;

/// Changes a job is handed at once at most: what the feed has ready, so a job can read the
/// database once for many changes (under load a group commit carries many sends).
const BATCH: usize = 256;

/// What a feed job does with the changes, in feed order.
pub trait FeedJob: Send + Sync + 'static {
    /// The job's name: its lease, its logs and its metric label.
    const NAME: &'static str;
    /// The histogram of commit → handled.
    const LAG: &'static str;
    fn handle(&self, ctx: &AppContext, changes: &[&Change]) -> impl Future<Output = ()> + Send;
}

/// Runs `job` whenever this node holds its lease, until the node drains.
pub async fn run<J: FeedJob>(ctx: AppContext, job: J, holder: String, draining: Draining) {
    let every = jobs::renew_every(&ctx);
    while !draining.is_on() {
        match jobs::claim(&ctx, J::NAME, &holder).await {
            Ok(Some((lease, saved))) => hold(&ctx, &job, lease, saved, &draining).await,
            Ok(None) => {}
            Err(err) => tracing::warn!(job = J::NAME, error = %err, "cannot claim the job"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Handles the feed from the job's saved position while the lease is held; saves the position
/// with every renewal, and on drain gives the lease up there.
async fn hold<J: FeedJob>(
    ctx: &AppContext,
    job: &J,
    mut lease: Lease,
    saved: Option<String>,
    draining: &Draining,
) {
    tracing::info!(token = lease.token, "holding the {} job", J::NAME);
    metrics::gauge!(JOB_HOLDER, "job" => J::NAME).set(1.0);
    let mut latest = match saved {
        Some(position) => Some(position),
        None => feed::now(ctx).await.ok(),
    };
    let opened = match feed::changes(ctx, latest.clone()).await {
        Err(StoreError::PositionLost(reason)) => {
            tracing::error!(
                job = J::NAME,
                reason,
                "the job's position left the feed; going on from now"
            );
            latest = feed::now(ctx).await.ok();
            // Saved, so the next claim does not start from the lost position again.
            let _ = jobs::renew(ctx, &mut lease, latest.as_deref()).await;
            feed::changes(ctx, latest.clone()).await
        }
        opened => opened,
    };
    let mut changes = match opened {
        Ok(changes) => changes.ready_chunks(BATCH),
        Err(err) => {
            tracing::warn!(job = J::NAME, error = %err, "cannot open the feed");
            metrics::gauge!(JOB_HOLDER, "job" => J::NAME).set(0.0);
            return;
        }
    };
    let mut renewal = tokio::time::interval(jobs::renew_every(ctx));
    loop {
        tokio::select! {
            _ = renewal.tick() => {
                if draining.is_on() {
                    if let Err(err) = jobs::release(ctx, &lease, latest.as_deref()).await {
                        tracing::warn!(job = J::NAME, error = %err, "cannot give the job up");
                    }
                    break;
                }
                match jobs::renew(ctx, &mut lease, latest.as_deref()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = J::NAME, "the job moved to another node");
                        break;
                    }
                    Err(err) => tracing::warn!(job = J::NAME, error = %err, "cannot renew the job"),
                }
                if !lease.is_held() {
                    break;
                }
            }
            items = changes.next() => {
                let Some(items) = items else { break };
                let mut ready = Vec::with_capacity(items.len());
                let mut failed = None;
                for item in items {
                    match item {
                        Ok(event) => ready.push(event),
                        Err(err) => {
                            failed = Some(err);
                            break;
                        }
                    }
                }
                let batch: Vec<&Change> =
                    ready.iter().filter_map(|event| event.change.as_ref()).collect();
                if !batch.is_empty() {
                    job.handle(ctx, &batch).await;
                }
                for event in &ready {
                    shared::metrics::lag_since(J::LAG, event.committed_at);
                }
                if let Some(last) = ready.pop() {
                    latest = Some(last.position);
                }
                if let Some(err) = failed {
                    tracing::warn!(job = J::NAME, error = %err, "the feed failed; reclaiming");
                    let _ = jobs::renew(ctx, &mut lease, latest.as_deref()).await;
                    break;
                }
            },
        }
    }
    metrics::gauge!(JOB_HOLDER, "job" => J::NAME).set(0.0);
}
