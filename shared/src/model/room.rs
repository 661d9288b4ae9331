//! Room names: the one place that knows how they are spelled.
//!
//! - `user_<userId>`: every socket of one user (where private messages and status changes go);
//! - `group_<groupId>`: a group conversation (its `chatRoomId`, and the members' sockets);
//! - `<lowId>_<highId>`: a private conversation, the two user ids sorted (its `chatRoomId`, and the
//!   sockets that joined that chat);
//! - `session_<sessionId>`: the sockets of one login session (they close when it ends).
//!
//! Rooms travel as those strings in JSON, in the database and on the change feed.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{GroupId, SessionId, UserId};

const USER_PREFIX: &str = "user_";
const GROUP_PREFIX: &str = "group_";
const SESSION_PREFIX: &str = "session_";

/// The two users of a private conversation, in canonical (sorted) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pair {
    low: UserId,
    high: UserId,
}

impl Pair {
    pub fn new(a: UserId, b: UserId) -> Self {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        Self { low, high }
    }

    pub fn contains(&self, user: UserId) -> bool {
        self.low == user || self.high == user
    }

    /// The other user of the conversation, when `user` is one of its two (and they differ).
    pub fn partner_of(&self, user: UserId) -> Option<UserId> {
        match (self.low == user, self.high == user) {
            (true, false) => Some(self.high),
            (false, true) => Some(self.low),
            _ => None,
        }
    }

    pub fn users(&self) -> [UserId; 2] {
        [self.low, self.high]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Room {
    User(UserId),
    Group(GroupId),
    Private(Pair),
    Session(SessionId),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RoomError {
    #[error("is not a conversation id")]
    NotARoom,
    /// A part that should be an id is not one.
    #[error("must be a 24-character hex ObjectId")]
    BadId,
}

impl Room {
    /// The private conversation of `a` and `b` (whoever sends).
    pub fn private(a: UserId, b: UserId) -> Self {
        Self::Private(Pair::new(a, b))
    }

    /// A conversation (a message's `chatRoomId`), not a user's or a session's own room.
    pub fn is_conversation(&self) -> bool {
        matches!(self, Self::Group(_) | Self::Private(_))
    }

    pub fn group_id(&self) -> Option<GroupId> {
        match self {
            Self::Group(group) => Some(*group),
            _ => None,
        }
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(user) => write!(f, "{USER_PREFIX}{user}"),
            Self::Group(group) => write!(f, "{GROUP_PREFIX}{group}"),
            Self::Private(pair) => write!(f, "{}_{}", pair.low, pair.high),
            Self::Session(session) => write!(f, "{SESSION_PREFIX}{session}"),
        }
    }
}

impl FromStr for Room {
    type Err = RoomError;

    /// Only the canonical spelling parses: a private room with its ids in the other order is not
    /// a room name (clients must not invent their own).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let id = |raw: &str| raw.parse().map_err(|_| RoomError::BadId);
        if let Some(user) = text.strip_prefix(USER_PREFIX) {
            return Ok(Self::User(id(user)?));
        }
        if let Some(session) = text.strip_prefix(SESSION_PREFIX) {
            return Ok(Self::Session(
                session.parse().map_err(|_| RoomError::BadId)?,
            ));
        }
        if let Some(group) = text.strip_prefix(GROUP_PREFIX) {
            return Ok(Self::Group(group.parse().map_err(|_| RoomError::BadId)?));
        }
        let (a, b) = text.split_once('_').ok_or(RoomError::NotARoom)?;
        let (a, b): (UserId, UserId) = (id(a)?, id(b)?);
        if a >= b {
            return Err(RoomError::NotARoom);
        }
        Ok(Self::private(a, b))
    }
}

impl Serialize for Room {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Room {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Room {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A conversation: `<lowUserId>_<highUserId>` (private, the two ids sorted) or \
                 `group_<groupId>`",
            ))
            .examples([serde_json::json!(
                "507f1f77bcf86cd799439011_507f1f77bcf86cd799439012"
            )])
            .into()
    }
}

impl utoipa::ToSchema for Room {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_rooms_do_not_depend_on_who_sends() {
        let (a, b) = (UserId::new(), UserId::new());
        assert_eq!(Room::private(a, b), Room::private(b, a));
        assert_eq!(Room::private(a, b).to_string().len(), 49);
    }

    #[test]
    fn every_room_reads_back_from_its_name() {
        let (a, b, g) = (UserId::new(), UserId::new(), GroupId::new());
        let session = SessionId::new();
        for room in [
            Room::User(a),
            Room::Group(g),
            Room::private(a, b),
            Room::Session(session),
        ] {
            assert_eq!(room.to_string().parse::<Room>(), Ok(room));
        }
        assert_eq!(Room::User(a).to_string(), format!("user_{a}"));
        assert_eq!(Room::Group(g).to_string(), format!("group_{g}"));
    }

    #[test]
    fn a_private_room_names_the_partner_only_for_its_members() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let Room::Private(pair) = Room::private(a, b) else {
            unreachable!()
        };
        assert_eq!(pair.partner_of(a), Some(b));
        assert_eq!(pair.partner_of(b), Some(a));
        assert_eq!(pair.partner_of(c), None);
    }

    #[test]
    fn only_canonical_names_parse() {
        let (a, b) = (UserId::new(), UserId::new());
        let room = Room::private(a, b).to_string();
        let (low, high) = room.split_once('_').unwrap();
        assert_eq!(
            format!("{high}_{low}").parse::<Room>(),
            Err(RoomError::NotARoom)
        );
        assert_eq!(format!("{a}_{a}").parse::<Room>(), Err(RoomError::NotARoom));
        assert_eq!("nonsense".parse::<Room>(), Err(RoomError::NotARoom));
        assert_eq!("group_zz".parse::<Room>(), Err(RoomError::BadId));
        assert_eq!("user1_user2".parse::<Room>(), Err(RoomError::BadId));
    }

    #[test]
    fn rooms_are_plain_strings_in_json() {
        let g = GroupId::new();
        let json = serde_json::to_value(Room::Group(g)).unwrap();
        assert_eq!(json, serde_json::json!(format!("group_{g}")));
        assert_eq!(
            serde_json::from_value::<Room>(json).unwrap(),
            Room::Group(g)
        );
    }
}
