//! Tokens, passwords, and `authenticate`: the one way an access token becomes the caller.

pub mod caller;
pub mod extract;
pub mod jwt;
pub mod password;

pub use caller::{authenticate, authenticate_until, CurrentUser, Unauthenticated};
pub use jwt::{TokenError, TokenKeys, TokenKind, VerifiedToken};
