//! Tokens, passwords and the `CurrentUser` extractor every protected handler takes.

pub mod extract;
pub mod jwt;
pub mod password;

pub use extract::CurrentUser;
pub use jwt::{TokenError, TokenKeys, TokenKind, VerifiedToken};
