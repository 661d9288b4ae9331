//! Ids are MongoDB ObjectIds on both adapters and travel in JSON as 24-hex strings.

use std::{fmt, str::FromStr};

use bson::oid::ObjectId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("must be a 24-character hex ObjectId")]
pub struct ObjectIdError;

/// Reads an id from a path parameter or a socket payload field: a bad one is a 400 naming `field`.
pub fn parse_id<T: FromStr>(field: &str, raw: &str) -> Result<T, crate::AppError> {
    raw.parse()
        .map_err(|_| crate::AppError::Validation(vec![format!("{field} {ObjectIdError}")]))
}

/// The 24 lower-case hex digits of an id, written into a buffer (the `hex` crate's encoder
/// builds its string one `char` at a time; ids are formatted for every row and every payload).
fn hex_digits(id: &ObjectId) -> [u8; 24] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 24];
    for (i, byte) in id.bytes().iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}

/// `hex_digits` as text (always ASCII).
fn with_hex<R>(id: &ObjectId, use_text: impl FnOnce(&str) -> R) -> R {
    let digits = hex_digits(id);
    use_text(std::str::from_utf8(&digits).unwrap_or_default())
}

macro_rules! object_id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub ObjectId);

        impl $name {
            pub fn new() -> Self {
                Self(ObjectId::new())
            }
            pub fn to_hex(&self) -> String {
                with_hex(&self.0, str::to_owned)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                with_hex(&self.0, |text| f.write_str(text))
            }
        }

        impl FromStr for $name {
            type Err = ObjectIdError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                // ObjectId::parse_str accepts upper-case hex too; ids are canonical lower-case.
                if text.len() != 24 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(ObjectIdError);
                }
                ObjectId::parse_str(text).map(Self).map_err(|_| ObjectIdError)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                with_hex(&self.0, |text| serializer.serialize_str(text))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some("^[0-9a-f]{24}$"))
                    .examples([serde_json::json!("507f1f77bcf86cd799439011")])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

object_id_type!(
    /// A user's `_id`.
    UserId
);
object_id_type!(
    /// A login session (one per device); the refresh token names it.
    SessionId
);
object_id_type!(
    /// A group's `_id`.
    GroupId
);
object_id_type!(
    /// A message document's `_id` (clients address messages by their `messageId` string).
    MessageOid
);
object_id_type!(
    /// A report of a message or a user, in the moderation queue.
    ReportId
);
object_id_type!(
    /// One entry of the moderators' audit log.
    AuditId
);
object_id_type!(
    /// A registered push device.
    PushSubscriptionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_hex_ids_parse() {
        assert!("507f1f77bcf86cd799439011".parse::<UserId>().is_ok());
        assert_eq!(
            "507F1F77BCF86CD799439011".parse::<UserId>(),
            Err(ObjectIdError)
        );
        assert_eq!(
            "507f1f77bcf86cd79943901".parse::<UserId>(),
            Err(ObjectIdError)
        );
        assert_eq!(
            "zzzf1f77bcf86cd799439011".parse::<UserId>(),
            Err(ObjectIdError)
        );
    }

    #[test]
    fn ids_format_as_the_driver_formats_them() {
        for _ in 0..100 {
            let id = UserId::new();
            assert_eq!(id.to_hex(), id.0.to_hex());
            assert_eq!(id.to_string(), id.0.to_hex());
        }
    }

    #[test]
    fn ids_are_plain_strings_in_json() {
        let id: UserId = "507f1f77bcf86cd799439011".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"507f1f77bcf86cd799439011\""
        );
    }
}
