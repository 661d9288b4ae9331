//! Housekeeping every node runs on a timer, needing no lease (each step is conditional, so two
//! nodes at once do it once): uploads no message claimed in time (`ATTACHMENT_UNATTACHED_EXPIRY`),
//! every `ATTACHMENT_SWEEP_INTERVAL`; and on the same beat, the usernames of accounts deleted
//! longer than `DELETED_USERNAME_HOLD` ago are freed, and push delivery records past their
//! keeping time forgotten.

use shared::{
    service::{account, attachments, push},
    AppContext,
};

pub async fn run(ctx: AppContext) {
    let mut every = tokio::time::interval(ctx.config.attachments.sweep_every);
    loop {
        every.tick().await;
        match attachments::sweep(&ctx).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "swept expired uploads"),
            Err(err) => tracing::warn!(error = %err, "cannot sweep expired uploads"),
        }
        match account::release_usernames(&ctx).await {
            Ok(0) => {}
            Ok(freed) => tracing::info!(freed, "freed usernames of deleted accounts"),
            Err(err) => tracing::warn!(error = %err, "cannot free deleted accounts' usernames"),
        }
        if let Err(err) = push::forget_old_deliveries(&ctx).await {
            tracing::warn!(error = %err, "cannot forget old push delivery records");
        }
    }
}
