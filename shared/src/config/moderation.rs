//! Trust and safety's configuration: the first admins, the word filter, what an account's
//! deletion does with its messages, and the limits of reports and exports.

use std::{collections::HashSet, time::Duration};

use super::{duration, rate_limit, ConfigError, RateLimit};

/// What the word filter does with a message that contains a listed word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMode {
    /// Refused with a 400 (an `error` event on the socket) naming no word.
    Refuse,
    /// Stored with each listed word replaced by asterisks.
    Mask,
}

#[derive(Debug, Clone)]
pub struct ModerationConfig {
    /// Accounts with these emails (lower-case) are admins: applied at start-up and at
    /// registration (`ADMIN_EMAILS`, comma list; none by default).
    pub admin_emails: Vec<String>,
    /// Lower-cased words, one per line of `MODERATION_WORDS_FILE` (`#` starts a comment); empty:
    /// no filter.
    pub filtered_words: HashSet<String>,
    /// `MODERATION_MODE=refuse|mask` (refuse).
    pub filter_mode: FilterMode,
    /// `ACCOUNT_DELETION_MESSAGES=erase|tombstone` (erase): a deleted account's messages go, or
    /// stay as tombstones.
    pub keep_deleted_accounts_messages: bool,
    /// How long a deleted account's username stays taken (`DELETED_USERNAME_HOLD`, 30d).
    pub deleted_username_hold: Duration,
    /// Reports filed per user (`REPORT_RATE_LIMIT_MAX`/`_WINDOW`, 20 per hour).
    pub report_rate_limit: RateLimit,
    /// Data exports per user (`EXPORT_RATE_LIMIT_MAX`/`_WINDOW`, 3 per hour).
    pub export_rate_limit: RateLimit,
}

pub(super) fn load(get: &impl Fn(&str) -> Option<String>) -> Result<ModerationConfig, ConfigError> {
    let admin_emails = get("ADMIN_EMAILS")
        .unwrap_or_default()
        .split(',')
        .map(|email| email.trim().to_lowercase())
        .filter(|email| !email.is_empty())
        .collect();
    let filtered_words = match get("MODERATION_WORDS_FILE").filter(|path| !path.is_empty()) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|err| ConfigError::Unreadable {
                name: "MODERATION_WORDS_FILE",
                detail: format!("{path}: {err}"),
            })?;
            words_of(&text)
        }
        None => HashSet::new(),
    };
    let filter_mode = match get("MODERATION_MODE").as_deref().map(str::trim) {
        None | Some("refuse") => FilterMode::Refuse,
        Some("mask") => FilterMode::Mask,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "MODERATION_MODE",
                value: other.to_owned(),
                expected: "refuse or mask",
            })
        }
    };
    let keep_deleted_accounts_messages =
        match get("ACCOUNT_DELETION_MESSAGES").as_deref().map(str::trim) {
            None | Some("erase") => false,
            Some("tombstone") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "ACCOUNT_DELETION_MESSAGES",
                    value: other.to_owned(),
                    expected: "erase or tombstone",
                })
            }
        };
    Ok(ModerationConfig {
        admin_emails,
        filtered_words,
        filter_mode,
        keep_deleted_accounts_messages,
        deleted_username_hold: duration(get, "DELETED_USERNAME_HOLD", "30d")?,
        report_rate_limit: rate_limit(
            get,
            ["REPORT_RATE_LIMIT_MAX", "REPORT_RATE_LIMIT_WINDOW"],
            20,
            "1h",
        )?,
        export_rate_limit: rate_limit(
            get,
            ["EXPORT_RATE_LIMIT_MAX", "EXPORT_RATE_LIMIT_WINDOW"],
            3,
            "1h",
        )?,
    })
}

/// The words of a word-list file: one per line, trimmed, lower-cased; blank lines and `#`
/// comments skipped.
fn words_of(text: &str) -> HashSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
}
