//! bcrypt, always on the blocking pool so a hash never stalls the async runtime.

use tokio::sync::OnceCell;

use crate::error::AppError;

pub async fn hash(password: String, cost: u32) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || bcrypt::non_truncating_hash(password, cost))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// True when `password` matches `hash`. Passwords over bcrypt's 72 bytes never match.
pub async fn verify(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || bcrypt::non_truncating_verify(password, &hash))
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
}
