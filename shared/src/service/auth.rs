//! Accounts and sessions: register, login, refresh (rotating), logout.
//!
//! Each login creates a session (one per device). The session stores only a SHA-256 of its current
//! refresh token; a refresh swaps that hash atomically, so an old refresh token stops working the
//! moment it is used. Presenting a token that was already rotated out means it was copied: the whole
//! session is ended, unless it was rotated out moments ago (`REFRESH_REUSE_GRACE`): two tabs
//! refreshing at once, or a retry after a timeout, get a 409 and the session lives on.

use sha2::{Digest, Sha256};

use crate::{
    auth::{password, CurrentUser, TokenError, TokenKind},
    dto::auth::{AuthResponse, LoginRequest, RegisterRequest},
    error::AppError,
    model::{ClientInfo, NewUser, Session, SessionId, User, UserId, UserRecord},
    service::{moderation, rate_limit},
    store::Rotation,
    AppContext,
};

const INVALID_CREDENTIALS: &str = "Invalid email or password";

pub async fn register(
    ctx: &AppContext,
    input: RegisterRequest,
    client: &ClientInfo,
) -> Result<AuthResponse, AppError> {
    let limit = ctx.config.auth_rate_limit;
    rate_limit::check(ctx, "register", client.rate_limit_key(), limit).await?;
    let password_hash = password::hash(input.password, ctx.config.bcrypt_cost).await?;
    let user = ctx
        .store
        .insert_user(NewUser {
            id: UserId::new(),
            username: input.username,
            email: input.email.trim().to_lowercase(),
            password_hash,
            first_name: input.first_name.map(|name| name.trim().to_owned()),
            last_name: input.last_name.map(|name| name.trim().to_owned()),
            avatar: input.avatar,
            now: crate::time::now(),
        })
        .await?;
    let user = moderation::apply_admin_emails(ctx, user).await?;
    start_session(ctx, &user, client).await
}

pub async fn login(
    ctx: &AppContext,
    input: LoginRequest,
    client: &ClientInfo,
) -> Result<AuthResponse, AppError> {
    let limit = ctx.config.auth_rate_limit;
    rate_limit::check(ctx, "login", client.rate_limit_key(), limit).await?;
    let account = format!("email:{}", input.email.trim().to_lowercase());
    let per_account = ctx.config.login_account_rate_limit;
    rate_limit::check(ctx, "login-account", &account, per_account).await?;
    let Some(user) = ctx.store.find_user_by_email(input.email.trim()).await? else {
        password::verify_against_nothing(input.password, ctx.config.bcrypt_cost).await?;
        return Err(AppError::unauthorized(INVALID_CREDENTIALS));
    };
    if !password::verify(input.password, user.password_hash.clone()).await? {
        return Err(AppError::unauthorized(INVALID_CREDENTIALS));
    }
    if let Some(refusal) = user.standing.refusal(crate::time::now()) {
        return Err(AppError::forbidden(refusal));
    }
    let user = moderation::apply_admin_emails(ctx, user).await?;
    start_session(ctx, &user, client).await
}

/// Exchanges a refresh token for a new pair; the presented token stops working.
pub async fn refresh(
    ctx: &AppContext,
    refresh_token: Option<&str>,
    client: &ClientInfo,
) -> Result<AuthResponse, AppError> {
    let limit = ctx.config.auth_rate_limit;
    rate_limit::check(ctx, "refresh", client.rate_limit_key(), limit).await?;
    let refresh_token =
        refresh_token.ok_or_else(|| AppError::unauthorized("Missing refresh token"))?;
    let verified = ctx
        .tokens
        .verify(refresh_token, TokenKind::Refresh)
        .map_err(|err| match err {
            TokenError::Expired => AppError::unauthorized("Refresh token has expired"),
            _ => AppError::unauthorized("Invalid refresh token"),
        })?;
    let now = crate::time::now();
    let session = ctx
        .store
        .find_session(verified.session_id, now)
        .await?
        .filter(|session| session.user_id == verified.user_id)
        .ok_or_else(|| AppError::unauthorized("Session has ended; log in again"))?;
    let user = ctx
        .store
        .find_user_by_id(session.user_id)
        .await?
        .filter(|user| !user.is_deleted())
        .ok_or_else(|| AppError::unauthorized("Session has ended; log in again"))?;
    if let Some(refusal) = user.standing.refusal(now) {
        return Err(AppError::forbidden(refusal));
    }

    let access = ctx
        .tokens
        .issue(TokenKind::Access, user.id, session.id, now)?;
    let refresh = ctx
        .tokens
        .issue(TokenKind::Refresh, user.id, session.id, now)?;
    let grace = chrono::Duration::from_std(ctx.config.refresh_reuse_grace)
        .unwrap_or(chrono::Duration::seconds(10));
    let rotation = ctx
        .store
        .rotate_session(
            session.id,
            &token_hash(refresh_token),
            &token_hash(&refresh.token),
            now,
            refresh.expires_at,
            now - grace,
        )
        .await?;
    match rotation {
        Rotation::Rotated => {}
        Rotation::JustRotated => {
            return Err(AppError::conflict(
                "This refresh token was just exchanged by another request (another tab, or a \
                 retry): use the tokens that request received",
            ));
        }
        Rotation::Refused => {
            ctx.store.delete_session(session.id, user.id).await?;
            tracing::warn!(user = %user.id, session = %session.id, "rotated-out refresh token reused; session ended");
            return Err(AppError::unauthorized(
                "Refresh token was already used; the session has been ended",
            ));
        }
    }
    Ok(AuthResponse {
        access_token: access.token,
        refresh_token: refresh.token,
        user: User::from(&user),
    })
}

/// Whether the caller's login session still exists: an access token outlives a logout, a ban or
/// an account's deletion by up to `JWT_EXPIRATION`, so every REST request and every handshake
/// asks (one read by primary key). When it has ended, the error says why: the account was
/// banned, suspended or deleted, or the session was ended.
pub async fn ensure_session(ctx: &AppContext, caller: CurrentUser) -> Result<(), AppError> {
    let now = crate::time::now();
    let session = ctx.store.find_session(caller.session_id, now).await?;
    if session.is_some_and(|session| session.user_id == caller.id) {
        return Ok(());
    }
    let user = ctx.store.find_user_by_id(caller.id).await?;
    match user {
        Some(user) if user.is_deleted() => {
            Err(AppError::unauthorized("This account has been deleted"))
        }
        Some(user) => match user.standing.refusal(now) {
            Some(refusal) => Err(AppError::forbidden(refusal)),
            None => Err(AppError::unauthorized(SESSION_ENDED)),
        },
        None => Err(AppError::unauthorized(SESSION_ENDED)),
    }
}

/// What a token of an ended session is told.
pub const SESSION_ENDED: &str = "Session has ended; log in again";

/// Ends the caller's current session (other devices stay logged in).
pub async fn logout(ctx: &AppContext, caller: CurrentUser) -> Result<(), AppError> {
    ctx.store
        .delete_session(caller.session_id, caller.id)
        .await?;
    Ok(())
}

async fn start_session(
    ctx: &AppContext,
    user: &UserRecord,
    client: &ClientInfo,
) -> Result<AuthResponse, AppError> {
    let now = crate::time::now();
    let session_id = SessionId::new();
    let access = ctx
        .tokens
        .issue(TokenKind::Access, user.id, session_id, now)?;
    let refresh = ctx
        .tokens
        .issue(TokenKind::Refresh, user.id, session_id, now)?;
    ctx.store
        .create_session(Session {
            id: session_id,
            user_id: user.id,
            token_hash: token_hash(&refresh.token),
            user_agent: client.user_agent.clone(),
            ip: client.ip.clone(),
            created_at: now,
            last_used_at: now,
            expires_at: refresh.expires_at,
        })
        .await?;
    Ok(AuthResponse {
        access_token: access.token,
        refresh_token: refresh.token,
        user: User::from(user),
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
