//! Trust and safety: roles, an account's standing, reports of messages and users, and the audit
//! log of what moderators did.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AuditId, ReportId, Room, UserId};

/// What a user may do beyond chatting. Checked against the stored user on every admin request.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works the reports queue: removes messages, suspends and bans users, dismisses reports.
    Moderator,
    /// Everything a moderator does, plus granting and revoking roles and reading the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Moderator, Role::Admin];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    /// Whether a holder of this role may do what `needed` allows (an admin may moderate).
    pub fn covers(&self, needed: Role) -> bool {
        *self == needed || *self == Role::Admin
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| "role must be one of: moderator, admin".to_owned())
    }
}

/// Roles as stored in one text column: `moderator,admin`; unknown names are dropped.
pub fn roles_from_text(text: &str) -> Vec<Role> {
    let mut roles: Vec<Role> = text.split(',').filter_map(|r| r.parse().ok()).collect();
    roles.sort();
    roles.dedup();
    roles
}

pub fn roles_to_text(roles: &[Role]) -> String {
    roles.iter().map(Role::as_str).collect::<Vec<_>>().join(",")
}

/// Whether an account may log in, refresh or connect, as moderators left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Standing {
    #[default]
    Good,
    Suspended {
        until: DateTime<Utc>,
    },
    Banned,
}

impl Standing {
    /// From the two stored fields.
    pub fn from_parts(banned: bool, suspended_until: Option<DateTime<Utc>>) -> Self {
        match (banned, suspended_until) {
            (true, _) => Standing::Banned,
            (false, Some(until)) => Standing::Suspended { until },
            (false, None) => Standing::Good,
        }
    }

    pub fn banned(&self) -> bool {
        matches!(self, Standing::Banned)
    }

    pub fn suspended_until(&self) -> Option<DateTime<Utc>> {
        match self {
            Standing::Suspended { until } => Some(*until),
            _ => None,
        }
    }

    /// Why the account is refused at `now`, in words for the client; `None` when it is not.
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<String> {
        match self {
            Standing::Good => None,
            Standing::Suspended { until } if *until <= now => None,
            Standing::Suspended { until } => Some(format!(
                "This account is suspended until {}",
                crate::time::to_iso(until)
            )),
            Standing::Banned => Some("This account has been banned".to_owned()),
        }
    }
}

/// Characters of a reported message kept in its report.
pub const REPORT_EXCERPT_CHARS: usize = 500;

/// Why someone reported a message or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Spam,
    Harassment,
    Hate,
    Violence,
    Sexual,
    SelfHarm,
    Impersonation,
    Other,
}

impl ReportReason {
    pub const ALL: [ReportReason; 8] = [
        ReportReason::Spam,
        ReportReason::Harassment,
        ReportReason::Hate,
        ReportReason::Violence,
        ReportReason::Sexual,
        ReportReason::SelfHarm,
        ReportReason::Impersonation,
        ReportReason::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ReportReason::Spam => "spam",
            ReportReason::Harassment => "harassment",
            ReportReason::Hate => "hate",
            ReportReason::Violence => "violence",
            ReportReason::Sexual => "sexual",
            ReportReason::SelfHarm => "self_harm",
            ReportReason::Impersonation => "impersonation",
            ReportReason::Other => "other",
        }
    }
}

impl std::str::FromStr for ReportReason {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ReportReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == text)
            .ok_or_else(|| format!("unknown report reason {text:?}"))
    }
}

/// Where a report is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    Open,
    /// A moderator acted on it (removed the message, suspended or banned the user).
    Actioned,
    /// A moderator looked and did nothing.
    Dismissed,
}

impl ReportStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Actioned => "actioned",
            ReportStatus::Dismissed => "dismissed",
        }
    }
}

impl std::str::FromStr for ReportStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            ReportStatus::Open,
            ReportStatus::Actioned,
            ReportStatus::Dismissed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| "status must be one of: open, actioned, dismissed".to_owned())
    }
}

/// What was reported: a message (with its conversation and author, so the queue can act on it
/// even once the message is gone) or a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ReportTarget {
    #[serde(rename_all = "camelCase")]
    Message {
        message_id: String,
        #[schema(value_type = String)]
        chat_room_id: Room,
        author: UserId,
        /// The text when it was reported (its first 500 characters), so moderators see what was
        /// reported even if the sender edits or deletes it.
        excerpt: String,
    },
    #[serde(rename_all = "camelCase")]
    User { user_id: UserId },
}

impl ReportTarget {
    /// One string per target: at most one open report per reporter and key.
    pub fn key(&self) -> String {
        match self {
            ReportTarget::Message { message_id, .. } => format!("message:{message_id}"),
            ReportTarget::User { user_id } => format!("user:{user_id}"),
        }
    }

    /// The user a moderator would suspend or ban for this report.
    pub fn offender(&self) -> UserId {
        match self {
            ReportTarget::Message { author, .. } => *author,
            ReportTarget::User { user_id } => *user_id,
        }
    }
}

/// A report as stored and as moderators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub report_id: ReportId,
    pub reporter: UserId,
    pub target: ReportTarget,
    pub reason: ReportReason,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    pub status: ReportStatus,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
    #[serde(
        with = "crate::time::iso_option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolved_by: Option<UserId>,
    /// What the moderator did, as in the audit log (`removeMessage`, `suspend`, `ban`, `dismiss`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolution: Option<String>,
}

/// One thing a moderator or admin did: who, what, to whom, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub audit_id: AuditId,
    pub actor: UserId,
    /// `removeMessage`, `suspend`, `ban`, `restore`, `dismiss`, `grantRole`, `revokeRole`.
    pub action: String,
    /// What it was done to: `user:<id>`, `message:<messageId>`, `report:<id>`.
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub report_id: Option<ReportId>,
    /// The action's particulars (a suspension's end, a role's name).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[serde(with = "crate::time::iso")]
    pub at: DateTime<Utc>,
}
