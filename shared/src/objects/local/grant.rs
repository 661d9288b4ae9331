//! What a local signed URL grants: one method on one key until a time, with the type (and size,
//! or the download's disposition) it was granted for, signed with HMAC-SHA256 so only our
//! processes can mint one.

use std::collections::HashMap;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;

/// The two things a local URL can allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Put,
    Get,
}

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Self::Put => "PUT",
            Self::Get => "GET",
        }
    }
}

/// One signed permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub access: Access,
    pub key: String,
    /// Unix seconds after which it is refused.
    pub expires: i64,
    pub content_type: String,
    /// Put: the exact size in bytes; get: the `Content-Disposition` to serve.
    pub detail: String,
}

/// Why a local URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("this link has expired: ask for a new one")]
    Expired,
    #[error("this link is not valid (its signature does not match)")]
    Invalid,
}

#[derive(Serialize)]
struct Query<'a> {
    expires: i64,
    #[serde(rename = "type")]
    content_type: &'a str,
    detail: &'a str,
    sig: &'a str,
}

impl Grant {
    /// The MAC over every field (HMAC takes keys of any length, so `None` never happens).
    fn mac(&self, secret: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).ok()?;
        for part in [
            self.access.as_str(),
            &self.key,
            &self.expires.to_string(),
            &self.content_type,
            &self.detail,
        ] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        Some(mac)
    }

    /// The query string that carries it: `expires`, `type`, `detail` and `sig`.
    pub fn query(&self, secret: &[u8]) -> String {
        let sig = self
            .mac(secret)
            .map(|mac| URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
            .unwrap_or_default();
        serde_urlencoded::to_string(Query {
            expires: self.expires,
            content_type: &self.content_type,
            detail: &self.detail,
            sig: &sig,
        })
        .unwrap_or_default()
    }

    /// The grant a request's query carries for `access` on `key`, if its signature holds and it
    /// has not expired by `now` (Unix seconds).
    pub fn verify(
        access: Access,
        key: &str,
        query: &HashMap<String, String>,
        secret: &[u8],
        now: i64,
    ) -> Result<Self, GrantError> {
        let field = |name: &str| query.get(name).cloned().ok_or(GrantError::Invalid);
        let grant = Self {
            access,
            key: key.to_owned(),
            expires: field("expires")?.parse().map_err(|_| GrantError::Invalid)?,
            content_type: field("type")?,
            detail: field("detail")?,
        };
        let sig = URL_SAFE_NO_PAD
            .decode(field("sig")?)
            .map_err(|_| GrantError::Invalid)?;
        grant
            .mac(secret)
            .ok_or(GrantError::Invalid)?
            .verify_slice(&sig)
            .map_err(|_| GrantError::Invalid)?;
        if now > grant.expires {
            return Err(GrantError::Expired);
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            access: Access::Put,
            key: "attachments/x".into(),
            expires: 100,
            content_type: "image/png".into(),
            detail: "10".into(),
        }
    }

    fn parsed(query: &str) -> HashMap<String, String> {
        serde_urlencoded::from_str(query).expect("query")
    }

    #[test]
    fn a_signed_grant_verifies_until_it_expires() {
        let query = parsed(&grant().query(b"secret"));
        let verified = Grant::verify(Access::Put, "attachments/x", &query, b"secret", 100);
        assert_eq!(verified, Ok(grant()));
        let late = Grant::verify(Access::Put, "attachments/x", &query, b"secret", 101);
        assert_eq!(late, Err(GrantError::Expired));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let query = parsed(&grant().query(b"secret"));
        for (access, key, secret) in [
            (Access::Get, "attachments/x", &b"secret"[..]),
            (Access::Put, "attachments/y", b"secret"),
            (Access::Put, "attachments/x", b"other"),
        ] {
            let verified = Grant::verify(access, key, &query, secret, 0);
            assert_eq!(verified, Err(GrantError::Invalid));
        }
        let mut bigger = query.clone();
        bigger.insert("detail".into(), "11".into());
        assert_eq!(
            Grant::verify(Access::Put, "attachments/x", &bigger, b"secret", 0),
            Err(GrantError::Invalid)
        );
    }
}
