//! Groups: create, update, membership, views.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::model::{Group, GroupId, PublicUser, UserId};

#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroupRequest {
    #[validate(custom(function = "super::rules::group_name"))]
    pub group_name: String,
    #[validate(length(max = 500, message = "groupDescription must be at most 500 characters"))]
    pub group_description: Option<String>,
    #[validate(custom(
        function = "super::rules::http_url",
        message = "groupAvatar must be an http:// or https:// URL"
    ))]
    pub group_avatar: Option<String>,
    #[serde(default)]
    #[validate(length(max = 1000, message = "members may list at most 1000 users"))]
    pub members: Vec<UserId>,
}

/// `PUT /chat/group/:groupId`: fields left out are kept; `null` clears description or avatar.
/// `admins` (members only, at least one) hands the admin role over.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGroupRequest {
    #[validate(custom(function = "super::rules::group_name"))]
    pub group_name: Option<String>,
    #[serde(default, deserialize_with = "super::users::present")]
    #[validate(length(max = 500, message = "groupDescription must be at most 500 characters"))]
    pub group_description: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::users::present")]
    #[validate(custom(
        function = "super::rules::http_url",
        message = "groupAvatar must be an http:// or https:// URL"
    ))]
    pub group_avatar: Option<Option<String>>,
    #[validate(length(min = 1, max = 1000, message = "admins must list 1 to 1000 members"))]
    pub admins: Option<Vec<UserId>>,
}

#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMemberRequest {
    pub user_id: UserId,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupSearchQuery {
    /// Part of a group name (case-insensitive, literal).
    #[validate(length(min = 1, max = 100, message = "q must be 1 to 100 characters"))]
    #[param(min_length = 1, max_length = 100)]
    pub q: String,
}

/// A group as its members see it; `groupId` repeats `_id` as the seed's clients expect.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    #[serde(rename = "_id")]
    pub id: GroupId,
    pub group_id: GroupId,
    pub group_name: String,
    pub group_description: Option<String>,
    pub group_avatar: Option<String>,
    pub created_by: UserId,
    pub members: Vec<UserId>,
    pub admins: Vec<UserId>,
    pub is_active: bool,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::iso")]
    pub updated_at: DateTime<Utc>,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        Self {
            id: g.id,
            group_id: g.id,
            group_name: g.group_name,
            group_description: g.group_description,
            group_avatar: g.group_avatar,
            created_by: g.created_by,
            members: g.members,
            admins: g.admins,
            is_active: g.is_active,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// `GET /chat/group/:groupId`: the group with its members' public profiles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupDetails {
    #[serde(flatten)]
    pub group: GroupView,
    pub member_profiles: Vec<PublicUser>,
}

/// What anyone may see of a group (search results, room lists): no member list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    #[serde(rename = "_id")]
    pub id: GroupId,
    pub group_id: GroupId,
    pub group_name: String,
    pub group_description: Option<String>,
    pub group_avatar: Option<String>,
    pub member_count: usize,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
}

impl From<&Group> for GroupSummary {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id,
            group_id: g.id,
            group_name: g.group_name.clone(),
            group_description: g.group_description.clone(),
            group_avatar: g.group_avatar.clone(),
            member_count: g.members.len(),
            created_at: g.created_at,
        }
    }
}
