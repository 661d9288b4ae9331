//! Health: is the database reachable?

use serde::Serialize;

use crate::AppContext;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
    pub storage: &'static str,
    pub version: &'static str,
    pub timestamp: String,
    /// The realtime node's change-feed consumer: `up` while it reads, `down` while it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed: Option<&'static str>,
    /// `true` while a realtime node drains before it stops (the check fails: no new handshakes).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub draining: bool,
}

impl Health {
    pub fn is_up(&self) -> bool {
        self.status == "ok"
    }

    /// Adds the realtime node's feed state; a feed that is down makes the whole check fail.
    pub fn with_feed(mut self, up: bool) -> Self {
        self.feed = Some(if up { "up" } else { "down" });
        if !up {
            self.status = "error";
        }
        self
    }

    /// A draining node fails its check at once, so the load balancer sends it nothing new.
    pub fn draining(mut self, draining: bool) -> Self {
        if draining {
            self.draining = true;
            self.status = "draining";
        }
        self
    }
}

pub async fn check(ctx: &AppContext) -> Health {
    let reachable = ctx.store.ping().await;
    if let Err(err) = &reachable {
        tracing::error!(error = %err, "health check: database unreachable");
    }
    Health {
        status: if reachable.is_ok() { "ok" } else { "error" },
        database: if reachable.is_ok() { "up" } else { "down" },
        storage: ctx.store.kind(),
        version: env!("CARGO_PKG_VERSION"),
        timestamp: crate::time::to_iso(&crate::time::now()),
        feed: None,
        draining: false,
    }
}
