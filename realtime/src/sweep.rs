//! The sweep of uploads no message claimed in time (`ATTACHMENT_UNATTACHED_EXPIRY`): every
//! `ATTACHMENT_SWEEP_INTERVAL`, on every node. It needs no lease: removing a record is
//! conditional (still pending and expired), so two nodes sweeping at once remove each upload once.

use shared::{service::attachments, AppContext};

pub async fn run(ctx: AppContext) {
    let mut every = tokio::time::interval(ctx.config.attachments.sweep_every);
    loop {
        every.tick().await;
        match attachments::sweep(&ctx).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "swept expired uploads"),
            Err(err) => tracing::warn!(error = %err, "cannot sweep expired uploads"),
        }
    }
}
