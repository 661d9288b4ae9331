//! bcrypt, always on the blocking pool so a hash never stalls the async runtime.
//!
//! bcrypt reads at most 72 bytes of key, and the `bcrypt` crate counts a NUL terminator among them,
//! so its non-truncating functions refuse a password of exactly 72 bytes. Here every password of
//! up to 72 bytes is hashed whole (only the terminator is cut), and a longer one is refused on
//! hashing and never matches on verifying: nothing a user typed is silently ignored.

use tokio::sync::OnceCell;

use crate::error::AppError;

/// The longest password bcrypt uses in full.
pub const MAX_PASSWORD_BYTES: usize = 72;

pub async fn hash(password: String, cost: u32) -> Result<String, AppError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::Validation(vec![format!(
            "password must be at most {MAX_PASSWORD_BYTES} bytes"
        )]));
    }
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// True when `password` matches `hash`. Passwords over bcrypt's 72 bytes never match.
pub async fn verify(password: String, hash: String) -> Result<bool, AppError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
        .await
        .map_err(AppError::internal)
        .map(|result| result.unwrap_or(false))
}

/// Spends the same bcrypt work as a real check, so an unknown email answers as slowly as a wrong
/// password and response times do not reveal which accounts exist.
pub async fn verify_against_nothing(password: String, cost: u32) -> Result<(), AppError> {
    static DUMMY: OnceCell<String> = OnceCell::const_new();
    let dummy = DUMMY
        .get_or_try_init(|| hash("not-a-real-password".into(), cost))
        .await?
        .clone();
    verify(password, dummy).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hashed = hash("correct horse".into(), 4).await.unwrap();
        assert!(verify("correct horse".into(), hashed.clone())
            .await
            .unwrap());
        assert!(!verify("wrong horse".into(), hashed.clone()).await.unwrap());
        assert!(!verify("x".repeat(100), hashed).await.unwrap());
    }

    #[tokio::test]
    async fn every_byte_up_to_72_counts_and_longer_passwords_are_refused() {
        let longest = "p".repeat(71) + "q";
        let hashed = hash(longest.clone(), 4).await.unwrap();
        assert!(verify(longest, hashed.clone()).await.unwrap());
        let last_byte_differs = "p".repeat(72);
        assert!(!verify(last_byte_differs, hashed.clone()).await.unwrap());
        assert!(!verify("p".repeat(71) + "q" + "r", hashed).await.unwrap());
        assert!(matches!(
            hash("p".repeat(73), 4).await,
            Err(AppError::Validation(_))
        ));
    }
}
