//! A realtime node's view of the change feed: where "now" is, the changes after a position, and
//! the position the node saved under its name (so a restarted node resumes where it stopped).
//! Errors stay the port's, since a reader must tell a lost position (`PositionLost`) from a
//! failure.

use std::cmp::Ordering;

use crate::{
    store::{ChangeStream, SavedPosition, StoreResult},
    AppContext,
};

/// The position of "now": a stream opened from it yields only later changes.
pub async fn now(ctx: &AppContext) -> StoreResult<String> {
    ctx.store.feed_position().await
}

/// Every change after `position` (from now when `None`), in order, without end.
pub async fn changes(ctx: &AppContext, position: Option<String>) -> StoreResult<ChangeStream> {
    ctx.store.changes(position).await
}

/// Whether a reader at `delivered` has passed `target` (`Greater`), stands at it (`Equal`), or
/// not yet (`Less`); `None` when either position cannot be read.
pub fn order(ctx: &AppContext, delivered: &str, target: &str) -> Option<Ordering> {
    ctx.store.position_order(delivered, target)
}

/// The position `node_id` saved last, and when.
pub async fn saved_position(ctx: &AppContext, node_id: &str) -> StoreResult<Option<SavedPosition>> {
    ctx.store.load_feed_position(node_id).await
}

/// Saves `node_id`'s position.
pub async fn save_position(ctx: &AppContext, node_id: &str, position: &str) -> StoreResult<()> {
    ctx.store
        .save_feed_position(node_id, position, crate::time::now())
        .await
}
