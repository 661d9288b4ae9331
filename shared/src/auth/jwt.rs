//! Access and refresh JWTs: separate secrets and lifetimes, HS256 pinned, and a `type` claim checked
//! so one kind is never accepted as the other. Refresh tokens also name their session (`sid`) and
//! carry a random `jti`, so every rotation yields a different token.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{
    config::Config,
    model::{SessionId, UserId},
};

const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    #[serde(rename = "type")]
    kind: TokenKind,
    iat: i64,
    exp: i64,
    jti: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// The token's `exp`.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token has expired")]
    Expired,
    #[error("token is invalid")]
    Invalid,
    #[error("token is not {0:?} token")]
    WrongKind(TokenKind),
    #[error("token could not be signed")]
    Signing,
}

struct KeyPair {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
}

pub struct TokenKeys {
    access: KeyPair,
    refresh: KeyPair,
    validation: Validation,
}

pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl TokenKeys {
    pub fn from_config(config: &Config) -> Self {
        let pair = |secret: &str, lifetime| KeyPair {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            lifetime,
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            access: pair(&config.jwt_secret, config.jwt_expiration),
            refresh: pair(&config.jwt_refresh_secret, config.jwt_refresh_expiration),
            validation,
        }
    }

    fn keys(&self, kind: TokenKind) -> &KeyPair {
        match kind {
            TokenKind::Access => &self.access,
            TokenKind::Refresh => &self.refresh,
        }
    }

    pub fn lifetime(&self, kind: TokenKind) -> Duration {
        self.keys(kind).lifetime
    }

    pub fn issue(
        &self,
        kind: TokenKind,
        user_id: UserId,
        session_id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, TokenError> {
        let keys = self.keys(kind);
        let lifetime =
            chrono::Duration::from_std(keys.lifetime).map_err(|_| TokenError::Signing)?;
        let expires_at = now + lifetime;
        let mut jti = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut jti);
        let claims = Claims {
            sub: user_id.to_hex(),
            sid: session_id.to_hex(),
            kind,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: hex::encode(jti),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
            .map_err(|_| TokenError::Signing)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Checks signature (with the secret of `kind`), algorithm, expiry and the `type` claim.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<VerifiedToken, TokenError> {
        let data = decode::<Claims>(token, &self.keys(kind).decoding, &self.validation).map_err(
            |err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            },
        )?;
        if data.claims.kind != kind {
            return Err(TokenError::WrongKind(kind));
        }
        Ok(VerifiedToken {
            user_id: data.claims.sub.parse().map_err(|_| TokenError::Invalid)?,
            session_id: data.claims.sid.parse().map_err(|_| TokenError::Invalid)?,
            expires_at: DateTime::from_timestamp(data.claims.exp, 0).ok_or(TokenError::Invalid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(access: &str, refresh: &str) -> TokenKeys {
        let config = Config::from_lookup(|name| match name {
            "JWT_SECRET" => Some(access.to_owned()),
            "JWT_REFRESH_SECRET" => Some(refresh.to_owned()),
            _ => None,
        })
        .expect("config");
        TokenKeys::from_config(&config)
    }

    #[test]
    fn a_token_verifies_only_as_its_own_kind() {
        let same_secret = keys("s".repeat(40).as_str(), "s".repeat(40).as_str());
        let user = UserId::new();
        let session = SessionId::new();
        let refresh = same_secret
            .issue(TokenKind::Refresh, user, session, crate::time::now())
            .unwrap();
        // Even with equal secrets (refused in production), the type claim keeps them apart.
        assert_eq!(
            same_secret.verify(&refresh.token, TokenKind::Access),
            Err(TokenError::WrongKind(TokenKind::Access))
        );
        let verified = same_secret
            .verify(&refresh.token, TokenKind::Refresh)
            .unwrap();
        assert_eq!(verified.user_id, user);
        assert_eq!(verified.session_id, session);
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let ours = keys(&"a".repeat(40), &"b".repeat(40));
        let theirs = keys(&"c".repeat(40), &"d".repeat(40));
        let long_ago = crate::time::now() - chrono::Duration::hours(1);
        let old = ours
            .issue(TokenKind::Access, UserId::new(), SessionId::new(), long_ago)
            .unwrap();
        assert_eq!(
            ours.verify(&old.token, TokenKind::Access),
            Err(TokenError::Expired)
        );
        let foreign = theirs
            .issue(
                TokenKind::Access,
                UserId::new(),
                SessionId::new(),
                crate::time::now(),
            )
            .unwrap();
        assert_eq!(
            ours.verify(&foreign.token, TokenKind::Access),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            ours.verify("not.a.jwt", TokenKind::Access),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn rotation_never_repeats_a_token() {
        let keys = keys(&"a".repeat(40), &"b".repeat(40));
        let (user, session, now) = (UserId::new(), SessionId::new(), crate::time::now());
        let first = keys.issue(TokenKind::Refresh, user, session, now).unwrap();
        let second = keys.issue(TokenKind::Refresh, user, session, now).unwrap();
        assert_ne!(first.token, second.token);
    }
}
