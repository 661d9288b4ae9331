//! The users port: accounts, profiles, search and blocks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{NewUser, ProfilePatch, Role, Standing, UserId, UserRecord};

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; `Duplicate { field: "username" | "email" }` when either is taken
    /// (usernames compare case-insensitively, emails are stored lower-case).
    async fn insert_user(&self, user: NewUser) -> StoreResult<UserRecord>;
    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>>;
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    /// Applies the changes present in `patch`; `None` when the user does not exist.
    /// `Duplicate { field: "username" }` when the new username is taken.
    async fn update_user_profile(
        &self,
        id: UserId,
        patch: ProfilePatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
    /// Replaces the password hash; false when the user does not exist.
    async fn set_user_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Users whose username, first name or last name starts with `prefix` (already lower-case),
    /// ordered by username, at most `limit`, never `exclude`. Served by indexes on lower-cased
    /// copies of those fields.
    async fn search_users(
        &self,
        prefix: &str,
        exclude: UserId,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;
    /// The users among `ids` that exist, in no particular order.
    async fn find_users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserRecord>>;
    /// Sets `lastSeen`; the updated user, or `None` when there is none.
    async fn set_last_seen(&self, id: UserId, at: DateTime<Utc>)
        -> StoreResult<Option<UserRecord>>;
    /// `blocker` blocks `blocked`; false when it already did.
    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// False when there was no such block.
    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool>;
    /// Everyone `blocker` blocks, most recent first.
    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>>;
    /// Whether `blocker` blocks `blocked`.
    async fn blocks(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool>;
    /// Replaces the user's roles; the user after, `None` when there is none (or it is deleted).
    async fn set_user_roles(
        &self,
        id: UserId,
        roles: Vec<Role>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
    /// Suspends, bans or restores the user; the user after, `None` when there is none.
    async fn set_user_standing(
        &self,
        id: UserId,
        standing: Standing,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
    /// Turns the account into its tombstone: the email becomes `<id>@deleted.invalid` (so the
    /// address is free), password, names, avatar and roles are removed, `deletedAt` set, and
    /// every block to or from the user goes. The username is kept (held) until
    /// `release_usernames`. False when there was no such (live) user.
    async fn tombstone_user(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Frees the usernames of accounts deleted before `deleted_before` (renamed `deleted-<id>`);
    /// how many.
    async fn release_usernames(&self, deleted_before: DateTime<Utc>) -> StoreResult<u64>;
}
