//! Field rules shared by several DTOs, as `validator` custom functions.

use std::borrow::Cow;

use validator::ValidationError;

fn invalid(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Borrowed(message))
}

/// 3–30 characters: letters, digits, `_`, `.` and `-`.
pub fn username(value: &str) -> Result<(), ValidationError> {
    let length_ok = (3..=30).contains(&value.chars().count());
    let charset_ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if length_ok && charset_ok {
        Ok(())
    } else {
        Err(invalid(
            "username",
            "username must be 3 to 30 characters of letters, digits, '_', '.' or '-'",
        ))
    }
}

/// bcrypt reads 72 bytes, so a longer password would silently lose its tail: refuse it instead.
pub fn new_password(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() >= 8 && value.len() <= 72 {
        Ok(())
    } else {
        Err(invalid(
            "password",
            "password must be at least 8 characters and at most 72 bytes",
        ))
    }
}

/// An absolute http(s) URL without spaces, at most 2048 characters.
pub fn http_url(value: &str) -> Result<(), ValidationError> {
    let has_scheme = value.starts_with("https://") || value.starts_with("http://");
    let host_present = value
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if has_scheme && host_present && value.len() <= 2048 && !value.chars().any(char::is_whitespace)
    {
        Ok(())
    } else {
        Err(invalid("url", "must be an http:// or https:// URL"))
    }
}

/// A message's text (sent or edited): 1 to `MAX_MESSAGE_CHARS` characters, not only spaces.
pub fn message_text(value: &str) -> Result<(), ValidationError> {
    let count = value.chars().count();
    if count == 0 || count > super::chat::MAX_MESSAGE_CHARS as usize {
        Err(
            ValidationError::new("length").with_message(Cow::Owned(format!(
                "message must be 1 to {} characters",
                super::chat::MAX_MESSAGE_CHARS
            ))),
        )
    } else if value.trim().is_empty() {
        Err(invalid("blank", "message must not be blank"))
    } else {
        Ok(())
    }
}

/// A sent message's text: as `message_text`, or empty (a file without a caption; the request
/// checks that it carries a file then).
pub fn caption(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        Ok(())
    } else {
        message_text(value)
    }
}

/// Optional display names: 1–50 characters, not only spaces.
pub fn display_name(value: &str) -> Result<(), ValidationError> {
    if !value.trim().is_empty() && value.chars().count() <= 50 {
        Ok(())
    } else {
        Err(invalid("name", "must be 1 to 50 characters"))
    }
}

pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(invalid("blank", "must not be blank"))
    } else {
        Ok(())
    }
}

/// 1–100 characters, not only spaces.
pub fn group_name(value: &str) -> Result<(), ValidationError> {
    if !value.trim().is_empty() && value.chars().count() <= 100 {
        Ok(())
    } else {
        Err(invalid(
            "groupName",
            "groupName must be 1 to 100 characters",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(username("john_doe.1-x").is_ok());
        assert!(username("jo").is_err());
        assert!(username("john doe").is_err());
        assert!(username("jöhn").is_err());
        assert!(username(&"a".repeat(31)).is_err());
    }

    #[test]
    fn passwords_fit_bcrypt() {
        assert!(new_password("SecurePass123!").is_ok());
        assert!(new_password("short").is_err());
        assert!(new_password(&"p".repeat(73)).is_err());
    }

    #[test]
    fn urls() {
        assert!(http_url("https://cdn.example.com/a.png").is_ok());
        assert!(http_url("javascript:alert(1)").is_err());
        assert!(http_url("https://").is_err());
        assert!(http_url("https://a b").is_err());
    }
}
