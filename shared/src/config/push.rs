//! Push notifications' configuration: the VAPID key and contact of Web Push, the signed webhook
//! for native devices, what a push shows, and how deliveries are retried.

use std::{path::PathBuf, time::Duration};

use super::{
    duration, flag, number, AppEnv, ConfigError, Storage, MIN_SECRET_BYTES, PLACEHOLDER_PREFIX,
};

/// The file a development VAPID key is kept in when `VAPID_KEY_FILE` is unset and the storage is
/// not a SQLite file (beside which it goes otherwise).
const DEFAULT_KEY_FILE: &str = "./data/vapid-private-key";

#[derive(Debug, Clone)]
pub struct PushConfig {
    /// `PUSH_ENABLED` (true): this realtime node takes part in sending pushes (one node sends at a
    /// time, under a lease). False: it never does, and needs no VAPID key.
    pub enabled: bool,
    /// `VAPID_PRIVATE_KEY`: the application server's P-256 private key, base64url of its 32 bytes
    /// (the format of `npx web-push generate-vapid-keys`). Required in production.
    pub vapid_private_key: Option<String>,
    /// `VAPID_PUBLIC_KEY`: its public key, for a process that only hands it to clients (the
    /// `users` function on AWS, which holds no private key). Derived when the private key is known.
    pub vapid_public_key: Option<String>,
    /// `VAPID_SUBJECT`: how a push service reaches the operator (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// Outside production without `VAPID_PRIVATE_KEY`: the file a key is generated into once and
    /// read from afterwards (`VAPID_KEY_FILE`; default beside the SQLite file).
    pub vapid_key_file: Option<PathBuf>,
    /// `PUSH_PREVIEW` (true): the message text in the push; false: "New message".
    pub preview: bool,
    /// `PUSH_TTL` (1d): how long a push service keeps an undelivered push.
    pub ttl: Duration,
    /// `PUSH_WEBHOOK_URL`: where native devices' pushes go (with `PUSH_WEBHOOK_SECRET`).
    pub webhook_url: Option<String>,
    /// `PUSH_WEBHOOK_SECRET`: the HMAC-SHA256 key of `X-Signature`.
    pub webhook_secret: Option<String>,
    /// `PUSH_ATTEMPTS` (5): tries per push when the receiver answers 429/5xx or cannot be reached.
    pub attempts: u32,
    /// `PUSH_RETRY_BASE` (1s): the first retry's wait; each next one waits twice as long.
    pub retry_base: Duration,
    /// `PUSH_TIMEOUT` (10s): one request to a push service or the webhook.
    pub timeout: Duration,
    /// `PUSH_CONCURRENCY` (32): pushes in flight at once on the node that sends them.
    pub concurrency: usize,
}

pub(super) fn load(
    get: &impl Fn(&str) -> Option<String>,
    env: AppEnv,
    storage: &Storage,
) -> Result<PushConfig, ConfigError> {
    let production = env == AppEnv::Production;
    let vapid_private_key = get("VAPID_PRIVATE_KEY").map(|key| key.trim().to_owned());
    let vapid_subject = match get("VAPID_SUBJECT") {
        Some(subject) => {
            let subject = subject.trim().to_owned();
            if !(subject.starts_with("mailto:") || subject.starts_with("https://"))
                || subject.chars().any(char::is_whitespace)
            {
                return Err(ConfigError::Invalid {
                    name: "VAPID_SUBJECT",
                    value: subject,
                    expected: "a mailto: address or an https:// URL",
                });
            }
            subject
        }
        None if production && vapid_private_key.is_some() => {
            return Err(ConfigError::Missing("VAPID_SUBJECT"))
        }
        None => "mailto:push@localhost".to_owned(),
    };
    let vapid_key_file = (!production && vapid_private_key.is_none()).then(|| {
        get("VAPID_KEY_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| match storage {
                Storage::Sqlite { path } => path.with_file_name("vapid-private-key"),
                Storage::Mongo { .. } => PathBuf::from(DEFAULT_KEY_FILE),
            })
    });
    let webhook_url = get("PUSH_WEBHOOK_URL").map(|url| url.trim().to_owned());
    if let Some(url) = &webhook_url {
        let https = url.starts_with("https://");
        if !(https || (!production && url.starts_with("http://"))) {
            return Err(ConfigError::Invalid {
                name: "PUSH_WEBHOOK_URL",
                value: url.clone(),
                expected: "an https:// URL (http:// outside production)",
            });
        }
    }
    let webhook_secret = get("PUSH_WEBHOOK_SECRET");
    match (&webhook_url, &webhook_secret) {
        (Some(_), None) => return Err(ConfigError::Missing("PUSH_WEBHOOK_SECRET")),
        (Some(_), Some(secret)) if production && secret.starts_with(PLACEHOLDER_PREFIX) => {
            return Err(ConfigError::PlaceholderSecret("PUSH_WEBHOOK_SECRET"))
        }
        (Some(_), Some(secret)) if production && secret.len() < MIN_SECRET_BYTES => {
            return Err(ConfigError::WeakSecret("PUSH_WEBHOOK_SECRET"))
        }
        _ => {}
    }
    Ok(PushConfig {
        enabled: flag(get, "PUSH_ENABLED", true)?,
        vapid_private_key,
        vapid_public_key: get("VAPID_PUBLIC_KEY").map(|key| key.trim().to_owned()),
        vapid_subject,
        vapid_key_file,
        preview: flag(get, "PUSH_PREVIEW", true)?,
        ttl: duration(get, "PUSH_TTL", "1d")?,
        webhook_url,
        webhook_secret,
        attempts: number(get, "PUSH_ATTEMPTS", 5, 1..=20)?,
        retry_base: duration(get, "PUSH_RETRY_BASE", "1s")?,
        timeout: duration(get, "PUSH_TIMEOUT", "10s")?,
        concurrency: number(get, "PUSH_CONCURRENCY", 32, 1..=1_000)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{tests::load, ConfigError};

    const PRODUCTION: [(&str, &str); 3] = [
        ("NODE_ENV", "production"),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef-access"),
        (
            "JWT_REFRESH_SECRET",
            "0123456789abcdef0123456789abcdef-refresh",
        ),
    ];

    #[test]
    fn development_keeps_its_key_beside_the_sqlite_file() {
        let config = load(&[("DATABASE_PATH", "/srv/chat/chat.db")]).expect("dev");
        assert_eq!(
            config.push.vapid_key_file.as_deref(),
            Some(std::path::Path::new("/srv/chat/vapid-private-key"))
        );
        assert!(config.push.preview);
        let production = load(&PRODUCTION).expect("production");
        assert_eq!(
            production.push.vapid_key_file, None,
            "never generated there"
        );
    }

    #[test]
    fn the_webhook_needs_a_secret_and_https_in_production() {
        let url = ("PUSH_WEBHOOK_URL", "http://relay.internal/push");
        assert_eq!(
            load(&[url]).unwrap_err(),
            ConfigError::Missing("PUSH_WEBHOOK_SECRET")
        );
        assert!(load(&[url, ("PUSH_WEBHOOK_SECRET", "short")]).is_ok());
        let mut production = PRODUCTION.to_vec();
        production.extend([
            url,
            (
                "PUSH_WEBHOOK_SECRET",
                "a-webhook-secret-of-enough-length-0123456789",
            ),
        ]);
        assert!(matches!(
            load(&production).unwrap_err(),
            ConfigError::Invalid {
                name: "PUSH_WEBHOOK_URL",
                ..
            }
        ));
        production[3] = ("PUSH_WEBHOOK_URL", "https://relay.example.com/push");
        production[4] = ("PUSH_WEBHOOK_SECRET", "short");
        assert_eq!(
            load(&production).unwrap_err(),
            ConfigError::WeakSecret("PUSH_WEBHOOK_SECRET")
        );
    }

    #[test]
    fn a_production_key_needs_a_subject_of_the_right_kind() {
        let mut vars = PRODUCTION.to_vec();
        vars.push((
            "VAPID_PRIVATE_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
        ));
        assert_eq!(
            load(&vars).unwrap_err(),
            ConfigError::Missing("VAPID_SUBJECT")
        );
        vars.push(("VAPID_SUBJECT", "ops@example.com"));
        assert!(matches!(
            load(&vars).unwrap_err(),
            ConfigError::Invalid {
                name: "VAPID_SUBJECT",
                ..
            }
        ));
        vars.pop();
        vars.push(("VAPID_SUBJECT", "mailto:ops@example.com"));
        assert!(load(&vars).is_ok());
    }
}
