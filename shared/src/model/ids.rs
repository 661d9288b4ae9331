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
                self.0.to_hex()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.to_hex())
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
                serializer.serialize_str(&self.0.to_hex())
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
    fn ids_are_plain_strings_in_json() {
        let id: UserId = "507f1f77bcf86cd799439011".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"507f1f77bcf86cd799439011\""
        );
    }
}
