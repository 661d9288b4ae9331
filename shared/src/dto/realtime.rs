//! Socket payloads that are not REST bodies: what a client may put in them is allow-listed and
//! bounded, because they travel through the feed to other users.

use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::model::{GroupId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallType {
    Audio,
    Video,
}

/// `groupCall`: only these fields; anything else is refused (400) and nothing is sent.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupCallRequest {
    pub group_id: GroupId,
    pub call_type: Option<CallType>,
    /// The caller's own id for the call (e.g. a meeting room), passed on as it is.
    #[validate(length(min = 1, max = 100, message = "callId must be 1 to 100 characters"))]
    pub call_id: Option<String>,
}

/// `groupCallIncoming`, to the other members.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupCallIncoming {
    pub group_id: GroupId,
    pub caller_id: UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_type: Option<CallType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
}
