//! The groups port: groups, their members and admins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{Group, GroupId, GroupPatch, UserId};

/// What `remove_group_member` did.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberRemoval {
    Removed(Group),
    NotMember,
    /// Refused: the user is the group's only admin.
    LastAdmin,
    NoGroup,
}

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// `Duplicate { field: "groupName" }` when the name (case-insensitively) is taken.
    async fn insert_group(&self, group: Group) -> StoreResult<()>;
    async fn find_group(&self, id: GroupId) -> StoreResult<Option<Group>>;
    async fn update_group(
        &self,
        id: GroupId,
        patch: GroupPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>>;
    /// Makes exactly `admins` (all members; the service checks) the group's admins.
    async fn set_group_admins(
        &self,
        id: GroupId,
        admins: &[UserId],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>>;
    /// Adds a member (no-op when already one); the group after, or `None` when there is none.
    async fn add_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>>;
    /// Removes a member (and their admin role), refusing atomically to remove the last admin.
    async fn remove_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<MemberRemoval>;
    /// Soft delete: `isActive = false`.
    async fn deactivate_group(&self, id: GroupId, now: DateTime<Utc>)
        -> StoreResult<Option<Group>>;
    /// Active groups the user is a member of, newest first.
    async fn groups_of_user(&self, user: UserId) -> StoreResult<Vec<Group>>;
    /// How many active groups the user is a member of (an indexed count).
    async fn count_groups_of_user(&self, user: UserId) -> StoreResult<u64>;
    /// Active groups whose name contains `needle` (already lower-case, matched literally), by name.
    async fn search_groups(&self, needle: &str, limit: u32) -> StoreResult<Vec<Group>>;
}
