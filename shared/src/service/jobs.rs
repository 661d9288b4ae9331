//! Jobs that exactly one process runs at a time, whatever the number of nodes (the API Gateway
//! fan-out and the push sender): a lease in the database with a holder, an
//! expiry (`JOB_LEASE_SECONDS`) and a fencing token. The holder renews it while alive, saving the
//! job's own feed position on it; a renewal after the lease changed hands fails, so a holder that
//! stalled stops; a dead holder's lease expires and another node takes the job over from the
//! position it saved.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{error::AppError, AppContext};

/// The API Gateway fan-out.
pub const APIGW_FANOUT: &str = "apigw-fanout";
/// The push sender.
pub const PUSH_SENDER: &str = "push-sender";

/// A lease this process holds.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job: &'static str,
    pub holder: String,
    pub token: u64,
    /// Until when this process may act on it (from its last successful claim or renewal, by the
    /// local clock).
    pub held_until: DateTime<Utc>,
}

impl Lease {
    /// Whether the lease may still be acted on: it was renewed recently enough that nobody else
    /// can have taken it.
    pub fn is_held(&self) -> bool {
        crate::time::now() < self.held_until
    }
}

fn lease_length(ctx: &AppContext) -> chrono::Duration {
    chrono::Duration::from_std(ctx.config.job_lease).unwrap_or(chrono::Duration::seconds(15))
}

/// How often a holder renews (and a waiting node tries to claim): a third of the lease, at most a
/// second, so little work is repeated after a takeover.
pub fn renew_every(ctx: &AppContext) -> Duration {
    (ctx.config.job_lease / 3).min(Duration::from_secs(1))
}

/// Claims `job` for `holder`: the lease and the position the job saved last, or `None` while
/// another process holds it.
pub async fn claim(
    ctx: &AppContext,
    job: &'static str,
    holder: &str,
) -> Result<Option<(Lease, Option<String>)>, AppError> {
    let now = crate::time::now();
    let until = now + lease_length(ctx);
    let claimed = ctx.store.claim_lease(job, holder, now, until).await?;
    Ok(claimed.map(|claimed| {
        let lease = Lease {
            job,
            holder: holder.to_owned(),
            token: claimed.token,
            held_until: until,
        };
        (lease, claimed.position)
    }))
}

/// Renews the lease and saves the job's position; false once another process holds it.
pub async fn renew(
    ctx: &AppContext,
    lease: &mut Lease,
    position: Option<&str>,
) -> Result<bool, AppError> {
    let until = crate::time::now() + lease_length(ctx);
    let renewed = ctx
        .store
        .renew_lease(lease.job, &lease.holder, lease.token, until, position)
        .await?;
    if renewed {
        lease.held_until = until;
    }
    Ok(renewed)
}

/// Gives the lease up (a draining node) with the job's position saved, so another node takes the
/// job at once and resumes exactly there.
pub async fn release(
    ctx: &AppContext,
    lease: &Lease,
    position: Option<&str>,
) -> Result<(), AppError> {
    ctx.store
        .renew_lease(
            lease.job,
            &lease.holder,
            lease.token,
            crate::time::now(),
            position,
        )
        .await?;
    Ok(())
}
