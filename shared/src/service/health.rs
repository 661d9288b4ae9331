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
}

impl Health {
    pub fn is_up(&self) -> bool {
        self.status == "ok"
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
    }
}
