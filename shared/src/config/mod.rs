//! Configuration from the environment (and a `.env` file), with the production refusals of the spec:
//! a production process will not start with a missing, short or shared JWT secret.

use std::{path::PathBuf, time::Duration};

use crate::time::parse_duration;

mod attachments;
mod moderation;
mod push;

pub use attachments::{AttachmentsConfig, ObjectStorageConfig};
pub use moderation::{FilterMode, ModerationConfig};
pub use push::PushConfig;

const MIN_SECRET_BYTES: usize = 32;
const DEV_ACCESS_SECRET: &str = "dev-only-INSECURE-access-secret-set-JWT_SECRET";
const DEV_REFRESH_SECRET: &str = "dev-only-INSECURE-refresh-secret-set-JWT_REFRESH_SECRET";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A fixed-window limit: at most `max` requests per `window` per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

#[derive(Debug, Clone)]
pub enum Storage {
    /// Production: a MongoDB deployment (a replica set, for change streams).
    Mongo {
        uri: String,
        database: Option<String>,
    },
    /// The zero-setup default: one SQLite file shared by every local process.
    Sqlite { path: PathBuf },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub storage: Storage,
    pub jwt_secret: String,
    pub jwt_refresh_secret: String,
    pub jwt_expiration: Duration,
    pub jwt_refresh_expiration: Duration,
    /// Browser origins that may call the API and open sockets (`ALLOWED_ORIGINS`; `*` any).
    pub allowed_origins: Vec<String>,
    /// The realtime node sits behind a proxy that sets `X-Forwarded-Proto`/`-Host` (the template's
    /// load balancer): a handshake's own origin is read from them (`TRUST_FORWARDED_HEADERS`).
    pub trust_forwarded_headers: bool,
    pub port: u16,
    pub realtime_port: u16,
    pub bcrypt_cost: u32,
    pub log_format: LogFormat,
    pub auth_rate_limit: RateLimit,
    /// How long a just rotated-out refresh token is answered with 409 (retry with the new pair)
    /// instead of being treated as a replay that ends the session: concurrent refreshes from two
    /// tabs, or a retry after a timeout.
    pub refresh_reuse_grace: Duration,
    /// Login attempts per account (email), whatever address they come from: slows a distributed
    /// guess at one account.
    pub login_account_rate_limit: RateLimit,
    pub message_rate_limit: RateLimit,
    /// Group creations and member additions per user.
    pub group_rate_limit: RateLimit,
    /// Group searches per user.
    pub group_search_rate_limit: RateLimit,
    /// Message searches per user.
    pub message_search_rate_limit: RateLimit,
    /// Members one group may have (at creation and on every addition).
    pub group_members_max: usize,
    /// Active groups one user may be a member of (nobody can be added to thousands).
    pub groups_per_user_max: u64,
    /// Open sockets per user, across nodes; over it a handshake is refused with the reason.
    pub sockets_per_user_max: u64,
    /// Push devices one user may register (`PUSH_SUBSCRIPTIONS_PER_USER_MAX`, 20).
    pub push_subscriptions_per_user_max: usize,
    /// How long a job lease (the API Gateway fan-out) lasts without renewal: a dead holder's job
    /// is taken over by another node within this time (`JOB_LEASE_SECONDS`).
    pub job_lease: Duration,
    /// Typing, join/leave and call signals per user (each is a feed write and a fan-out).
    pub signal_rate_limit: RateLimit,
    /// This realtime node's name: its feed position and connections are stored under it, so a
    /// restarted node resumes where it stopped. Default `realtime-<REALTIME_PORT>`.
    pub realtime_node_id: String,
    /// How long a starting realtime node lets clients reconnect before it replays what it missed.
    pub realtime_resume_delay: Duration,
    /// The API Gateway WebSocket management endpoint (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
    /// When set, the realtime node also fans out to API Gateway connections. Unset: that path is off.
    pub apigw_ws_endpoint: Option<String>,
    /// The value the CDN in front of the REST API adds to every request as `x-origin-verify`
    /// (`ORIGIN_VERIFY_SECRET`, on AWS from Secrets Manager). When set, a request without it came
    /// around the CDN and its web ACL, and is refused with 403. Unset (local stack): no check.
    pub origin_verify_secret: Option<String>,
    /// Where the web client (`/app`) opens its socket (`APP_REALTIME_URL`, e.g.
    /// `https://realtime.example.com`). Unset: the page's own host name on `REALTIME_PORT`.
    pub app_realtime_url: Option<String>,
    /// Where the realtime node serves `/metrics` (Prometheus text format); `None`: no metrics.
    /// `METRICS_PORT` (`off` turns it off); default 9464 in development, off elsewhere.
    pub metrics_port: Option<u16>,
    /// The name CloudWatch EMF lines carry (`METRICS_EMF`, default on when running on Lambda;
    /// `METRICS_EMF_NAME`, else `AWS_LAMBDA_FUNCTION_NAME`): a function's requests, the realtime
    /// node's open sockets. `None`: no EMF lines.
    pub emf_function: Option<String>,
    /// A bearer token `/metrics` requires (`METRICS_TOKEN`); unset: none.
    pub metrics_token: Option<String>,
    /// How long a draining realtime node spreads the closing of its sockets over (`DRAIN_SECONDS`).
    pub drain: Duration,
    /// Object storage and the limits of attachments.
    pub attachments: AttachmentsConfig,
    /// Roles, the word filter, account deletion, reports and exports.
    pub moderation: ModerationConfig,
    /// Web Push, the push webhook and their retries.
    pub push: PushConfig,
    /// Warnings found while loading (development fallbacks); logged once tracing is up.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} must be set in production")]
    Missing(&'static str),
    #[error("{0} must be at least {MIN_SECRET_BYTES} bytes long in production")]
    WeakSecret(&'static str),
    #[error("JWT_SECRET and JWT_REFRESH_SECRET must be different")]
    SharedSecret,
    #[error(
        "{0} must be set: the built-in development secret is public and is refused on AWS \
         (Lambda or ECS) and whenever MONGO_URI is set"
    )]
    DevelopmentSecretRefused(&'static str),
    #[error("{0} still holds the .env.example placeholder: set a random secret of at least {MIN_SECRET_BYTES} bytes")]
    PlaceholderSecret(&'static str),
    #[error("{name} cannot be read: {detail}")]
    Unreadable { name: &'static str, detail: String },
    #[error("{name} has an invalid value {value:?}: {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// A host name or address with an optional port (`rt.example.com`, `localhost:3002`, `[::1]`): the
/// only text from configuration or a `Host` header that may go into a header or a page.
pub fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// `APP_REALTIME_URL`: an http(s) origin (it goes into the web client's Content-Security-Policy).
fn app_realtime_url(get: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(raw) = get("APP_REALTIME_URL") else {
        return Ok(None);
    };
    let url = raw.trim().trim_end_matches('/');
    if url.is_empty() {
        return Ok(None);
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    if !rest.is_some_and(is_plain_host) {
        return Err(ConfigError::Invalid {
            name: "APP_REALTIME_URL",
            value: raw,
            expected: "an http:// or https:// origin such as https://realtime.example.com",
        });
    }
    Ok(Some(url.to_owned()))
}

impl Config {
    /// Builds the configuration from any variable source: the environment (with `.env` and the
    /// secrets of `secrets`, in `AppContext::from_env`) and tests both use it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let env = match get("APP_ENV").or_else(|| get("NODE_ENV")).as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some("test") => AppEnv::Test,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "NODE_ENV",
                    value: other.to_owned(),
                    expected: "one of development, production, test",
                })
            }
        };
        let mut warnings = Vec::new();

        let storage = match get("MONGO_URI") {
            Some(uri) => Storage::Mongo {
                uri,
                database: get("MONGO_DB"),
            },
            None => Storage::Sqlite {
                path: PathBuf::from(
                    get("DATABASE_PATH").unwrap_or_else(|| "./data/chat.db".to_owned()),
                ),
            },
        };

        // A process on AWS, or on a MongoDB (which holds real users), never signs tokens with a
        // secret that is in the source.
        let hosted = on_aws(&get) || matches!(storage, Storage::Mongo { .. });
        let policy = SecretPolicy { env, hosted };
        let jwt_secret = secret(&get, "JWT_SECRET", DEV_ACCESS_SECRET, policy, &mut warnings)?;
        // A process that never issues or verifies refresh tokens (every function but `auth`, the
        // realtime node) need not hold the refresh secret: without one it gets a random key of
        // its own, so a refresh token presented to it cannot verify.
        let issues_refresh_tokens = flag(&get, "ISSUES_REFRESH_TOKENS", true)?;
        let jwt_refresh_secret = if !issues_refresh_tokens && get("JWT_REFRESH_SECRET").is_none() {
            unknowable_secret()
        } else {
            secret(
                &get,
                "JWT_REFRESH_SECRET",
                DEV_REFRESH_SECRET,
                policy,
                &mut warnings,
            )?
        };
        if jwt_secret == jwt_refresh_secret {
            if env == AppEnv::Production {
                return Err(ConfigError::SharedSecret);
            }
            warnings.push(
                "JWT_SECRET and JWT_REFRESH_SECRET are equal; they must differ in production"
                    .into(),
            );
        }

        let log_format = match get("LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            None if env == AppEnv::Production => LogFormat::Json,
            None => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    value: other.to_owned(),
                    expected: "json or pretty",
                })
            }
        };

        let realtime_port = number(&get, "REALTIME_PORT", 3002, 1..=65_535)?;
        let port = number(&get, "PORT", 3000, 1..=65_535)?;
        let allowed_origins = match get("ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                .filter(|origin| !origin.is_empty())
                .collect(),
            // Production names its origins; elsewhere the web client's own addresses work.
            None if env == AppEnv::Production => Vec::new(),
            None => local_origins(port),
        };
        let attachments = attachments::load(&get, &storage, realtime_port, &jwt_secret)?;
        let push = push::load(&get, env, &storage)?;
        Ok(Self {
            env,
            storage,
            jwt_secret,
            jwt_refresh_secret,
            jwt_expiration: duration(&get, "JWT_EXPIRATION", "15m")?,
            jwt_refresh_expiration: duration(&get, "JWT_REFRESH_EXPIRATION", "7d")?,
            allowed_origins,
            trust_forwarded_headers: flag(&get, "TRUST_FORWARDED_HEADERS", false)?,
            port,
            realtime_port,
            realtime_node_id: get("REALTIME_NODE_ID")
                .or_else(|| ecs_task_id(&get).map(|task| format!("realtime-{task}")))
                .unwrap_or_else(|| format!("realtime-{realtime_port}")),
            realtime_resume_delay: duration(&get, "REALTIME_RESUME_DELAY", "2s")?,
            apigw_ws_endpoint: get("APIGW_WS_ENDPOINT"),
            origin_verify_secret: get("ORIGIN_VERIFY_SECRET").filter(|value| !value.is_empty()),
            app_realtime_url: app_realtime_url(&get)?,
            metrics_port: metrics_port(&get, env)?,
            metrics_token: get("METRICS_TOKEN"),
            emf_function: flag(&get, "METRICS_EMF", get("LAMBDA_TASK_ROOT").is_some())?
                .then(|| get("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "unknown".to_owned())),
            drain: Duration::from_secs(number(&get, "DRAIN_SECONDS", 20, 0..=3_600)?),
            attachments,
            moderation: moderation::load(&get)?,
            push,
            bcrypt_cost: number(&get, "BCRYPT_COST", 12, 4..=31)?,
            log_format,
            auth_rate_limit: rate_limit(
                &get,
                ["AUTH_RATE_LIMIT_MAX", "AUTH_RATE_LIMIT_WINDOW"],
                10,
                "60s",
            )?,
            refresh_reuse_grace: duration(&get, "REFRESH_REUSE_GRACE", "10s")?,
            login_account_rate_limit: rate_limit(
                &get,
                [
                    "LOGIN_ACCOUNT_RATE_LIMIT_MAX",
                    "LOGIN_ACCOUNT_RATE_LIMIT_WINDOW",
                ],
                20,
                "15m",
            )?,
            message_rate_limit: rate_limit(
                &get,
                ["MESSAGE_RATE_LIMIT_MAX", "MESSAGE_RATE_LIMIT_WINDOW"],
                120,
                "60s",
            )?,
            group_rate_limit: rate_limit(
                &get,
                ["GROUP_RATE_LIMIT_MAX", "GROUP_RATE_LIMIT_WINDOW"],
                30,
                "60s",
            )?,
            group_search_rate_limit: rate_limit(
                &get,
                [
                    "GROUP_SEARCH_RATE_LIMIT_MAX",
                    "GROUP_SEARCH_RATE_LIMIT_WINDOW",
                ],
                60,
                "60s",
            )?,
            message_search_rate_limit: rate_limit(
                &get,
                [
                    "MESSAGE_SEARCH_RATE_LIMIT_MAX",
                    "MESSAGE_SEARCH_RATE_LIMIT_WINDOW",
                ],
                60,
                "60s",
            )?,
            group_members_max: number(&get, "GROUP_MEMBERS_MAX", 1_000, 2..=1_000)?,
            groups_per_user_max: number(&get, "GROUPS_PER_USER_MAX", 500, 1..=1_000_000)?,
            sockets_per_user_max: number(&get, "SOCKETS_PER_USER_MAX", 20, 1..=1_000_000)?,
            push_subscriptions_per_user_max: number(
                &get,
                "PUSH_SUBSCRIPTIONS_PER_USER_MAX",
                20,
                1..=1_000,
            )?,
            job_lease: Duration::from_secs(number(&get, "JOB_LEASE_SECONDS", 15, 3..=600)?),
            signal_rate_limit: rate_limit(
                &get,
                ["SIGNAL_RATE_LIMIT_MAX", "SIGNAL_RATE_LIMIT_WINDOW"],
                60,
                "10s",
            )?,
            warnings,
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }

    /// `ALLOWED_ORIGINS` holds `*`: any browser origin.
    pub fn allows_any_origin(&self) -> bool {
        self.allowed_origins.iter().any(|origin| origin == "*")
    }

    /// Whether a browser page on `origin` may call the API or open a socket.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        self.allows_any_origin() || self.allowed_origins.iter().any(|allowed| allowed == origin)
    }
}

/// `METRICS_PORT`: a port, or `off`; unset: 9464 in development, off in production and tests.
fn metrics_port(
    get: &impl Fn(&str) -> Option<String>,
    env: AppEnv,
) -> Result<Option<u16>, ConfigError> {
    match get("METRICS_PORT").as_deref().map(str::trim) {
        Some("off") => Ok(None),
        Some(_) => number(get, "METRICS_PORT", 9464, 1..=65_535).map(Some),
        None if env == AppEnv::Development => Ok(Some(9464)),
        None => Ok(None),
    }
}

/// The default `ALLOWED_ORIGINS` outside production: the web client served by the local stack on
/// `PORT` at each name a newcomer types (`localhost`, `127.0.0.1`, `[::1]`), and the seed's
/// front-end port 3001.
fn local_origins(port: u16) -> Vec<String> {
    let mut origins: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .map(|host| format!("http://{host}:{port}"))
        .collect();
    let seed_frontend = "http://localhost:3001".to_owned();
    if !origins.contains(&seed_frontend) {
        origins.push(seed_frontend);
    }
    origins
}

/// The ECS task's id (the last segment of its metadata endpoint), unique per task: several tasks
/// of one service never share a node name.
fn ecs_task_id(get: &impl Fn(&str) -> Option<String>) -> Option<String> {
    let uri = get("ECS_CONTAINER_METADATA_URI_V4")?;
    let id = uri.trim_end_matches('/').rsplit('/').next()?;
    is_plain_host(id).then(|| id.to_owned())
}

/// Lambda sets `LAMBDA_TASK_ROOT` for every runtime (`cargo lambda watch`, which emulates Lambda
/// locally, sets `AWS_LAMBDA_FUNCTION_NAME` but not this); ECS sets its task metadata endpoint.
fn on_aws(get: &impl Fn(&str) -> Option<String>) -> bool {
    [
        "LAMBDA_TASK_ROOT",
        "ECS_CONTAINER_METADATA_URI_V4",
        "ECS_CONTAINER_METADATA_URI",
    ]
    .iter()
    .any(|name| get(name).is_some())
}

/// The `.env.example` values (`change-me-…`).
const PLACEHOLDER_PREFIX: &str = "change-me";

#[derive(Debug, Clone, Copy)]
struct SecretPolicy {
    env: AppEnv,
    /// On AWS, or on a MongoDB: never the built-in development secrets.
    hosted: bool,
}

fn secret(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    dev_fallback: &str,
    policy: SecretPolicy,
    warnings: &mut Vec<String>,
) -> Result<String, ConfigError> {
    let SecretPolicy { env, hosted } = policy;
    match get(name) {
        Some(value)
            if value.starts_with(PLACEHOLDER_PREFIX) && (env != AppEnv::Development || hosted) =>
        {
            Err(ConfigError::PlaceholderSecret(name))
        }
        Some(value) if value.len() >= MIN_SECRET_BYTES => Ok(value),
        Some(_) if env == AppEnv::Production => Err(ConfigError::WeakSecret(name)),
        Some(value) => {
            warnings.push(format!(
                "{name} is shorter than {MIN_SECRET_BYTES} bytes; production would refuse it"
            ));
            Ok(value)
        }
        None if env == AppEnv::Production => Err(ConfigError::Missing(name)),
        None if hosted => Err(ConfigError::DevelopmentSecretRefused(name)),
        None => {
            warnings.push(format!(
                "{name} is not set: using a built-in DEVELOPMENT secret (never use this in production)"
            ));
            Ok(dev_fallback.to_owned())
        }
    }
}

/// A random secret nobody else knows (64 hex characters).
fn unknowable_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            name,
            value: other.to_owned(),
            expected: "true or false",
        }),
    }
}

/// `max` hits per `window`, from the variables `[max_name, window_name]`, with their defaults.
fn rate_limit(
    get: &impl Fn(&str) -> Option<String>,
    [max_name, window_name]: [&'static str; 2],
    max: u32,
    window: &str,
) -> Result<RateLimit, ConfigError> {
    Ok(RateLimit {
        max: number(get, max_name, max, 1..=1_000_000)?,
        window: duration(get, window_name, window)?,
    })
}

fn duration(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let value = get(name).unwrap_or_else(|| default.to_owned());
    parse_duration(&value).ok_or(ConfigError::Invalid {
        name,
        value,
        expected: "a positive duration like 30s, 15m, 12h, 7d",
    })
}

fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd,
{
    let Some(value) = get(name) else {
        return Ok(default);
    };
    match value.trim().parse::<T>() {
        Ok(parsed) if range.contains(&parsed) => Ok(parsed),
        _ => Err(ConfigError::Invalid {
            name,
            value,
            expected: "a whole number in the allowed range (see .env.example)",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(super) fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    const GOOD: &str = "0123456789abcdef0123456789abcdef-access";
    const GOOD_REFRESH: &str = "0123456789abcdef0123456789abcdef-refresh";

    #[test]
    fn the_web_clients_realtime_url_is_an_http_origin() {
        assert_eq!(load(&[]).expect("default").app_realtime_url, None);
        let set = load(&[("APP_REALTIME_URL", "https://rt.example.com/")]).expect("valid");
        assert_eq!(
            set.app_realtime_url.as_deref(),
            Some("https://rt.example.com")
        );
        for bad in [
            "rt.example.com",
            "https://a b",
            "http://x;script-src *",
            "ws://x",
        ] {
            assert!(
                matches!(
                    load(&[("APP_REALTIME_URL", bad)]),
                    Err(ConfigError::Invalid {
                        name: "APP_REALTIME_URL",
                        ..
                    })
                ),
                "{bad} is refused"
            );
        }
    }

    #[test]
    fn development_runs_without_secrets_and_says_so() {
        let config = load(&[]).expect("dev config");
        assert_eq!(config.env, AppEnv::Development);
        assert!(config.warnings.iter().any(|w| w.contains("JWT_SECRET")));
        assert!(matches!(config.storage, Storage::Sqlite { .. }));
        assert_eq!(config.jwt_expiration, Duration::from_secs(900));
        assert_eq!(config.bcrypt_cost, 12);
    }

    #[test]
    fn the_development_secrets_are_refused_on_aws_and_with_mongodb() {
        for hosted in [
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x"),
            ("MONGO_URI", "mongodb://localhost:27017"),
        ] {
            assert_eq!(
                load(&[hosted]).unwrap_err(),
                ConfigError::DevelopmentSecretRefused("JWT_SECRET"),
                "{hosted:?}"
            );
        }
    }

    #[test]
    fn the_example_placeholders_are_refused_outside_development() {
        let placeholder = (
            "JWT_SECRET",
            "change-me-to-a-random-string-of-at-least-32-bytes-access",
        );
        let refresh = (
            "JWT_REFRESH_SECRET",
            "a-real-refresh-secret-0123456789abcdef0123",
        );
        assert_eq!(
            load(&[("NODE_ENV", "test"), placeholder, refresh]).unwrap_err(),
            ConfigError::PlaceholderSecret("JWT_SECRET")
        );
        assert_eq!(
            load(&[("LAMBDA_TASK_ROOT", "/var/task"), placeholder, refresh]).unwrap_err(),
            ConfigError::PlaceholderSecret("JWT_SECRET")
        );
        assert!(
            load(&[placeholder, refresh]).is_ok(),
            "development may use them"
        );
    }

    #[test]
    fn a_process_that_issues_no_refresh_tokens_needs_no_refresh_secret() {
        let access = ("JWT_SECRET", "an-access-secret-of-enough-length-0123456789");
        let production = ("NODE_ENV", "production");
        assert_eq!(
            load(&[production, access]).unwrap_err(),
            ConfigError::Missing("JWT_REFRESH_SECRET")
        );
        let config = load(&[production, access, ("ISSUES_REFRESH_TOKENS", "false")])
            .expect("no refresh secret needed");
        let other = load(&[production, access, ("ISSUES_REFRESH_TOKENS", "false")]).unwrap();
        assert_ne!(
            config.jwt_refresh_secret, other.jwt_refresh_secret,
            "random per process"
        );
        assert!(config.jwt_refresh_secret.len() >= MIN_SECRET_BYTES);
    }

    #[test]
    fn production_refuses_a_missing_secret_by_name() {
        let err = load(&[
            ("NODE_ENV", "production"),
            ("JWT_REFRESH_SECRET", GOOD_REFRESH),
        ])
        .unwrap_err();
        assert_eq!(err, ConfigError::Missing("JWT_SECRET"));
        assert!(err.to_string().contains("JWT_SECRET"));
    }

    #[test]
    fn production_refuses_a_short_secret() {
        let err = load(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", GOOD),
            ("JWT_REFRESH_SECRET", "short"),
        ])
        .unwrap_err();
        assert_eq!(err, ConfigError::WeakSecret("JWT_REFRESH_SECRET"));
    }

    #[test]
    fn production_refuses_equal_secrets() {
        let err = load(&[
            ("NODE_ENV", "production"),
            ("JWT_SECRET", GOOD),
            ("JWT_REFRESH_SECRET", GOOD),
        ])
        .unwrap_err();
        assert_eq!(err, ConfigError::SharedSecret);
    }

    #[test]
    fn production_with_good_secrets_starts_and_logs_json() {
        let config = load(&[
            ("NODE_ENV", "production"),
            ("JWT_SECRET", GOOD),
            ("JWT_REFRESH_SECRET", GOOD_REFRESH),
            ("MONGO_URI", "mongodb://db.internal:27017/chat"),
        ])
        .expect("prod config");
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(config.warnings.is_empty());
        assert!(matches!(config.storage, Storage::Mongo { .. }));
    }

    #[test]
    fn bad_numbers_and_durations_name_the_variable() {
        let err = load(&[("BCRYPT_COST", "99")]).unwrap_err();
        assert!(err.to_string().starts_with("BCRYPT_COST"), "{err}");
        let err = load(&[("JWT_EXPIRATION", "soon")]).unwrap_err();
        assert!(err.to_string().starts_with("JWT_EXPIRATION"), "{err}");
    }

    #[test]
    fn local_defaults_allow_the_web_client_at_every_local_name_and_production_only_its_list() {
        let local = load(&[("PORT", "4000")]).expect("dev config");
        for origin in [
            "http://localhost:4000",
            "http://127.0.0.1:4000",
            "http://[::1]:4000",
        ] {
            assert!(local.allows_origin(origin), "{origin}");
        }
        assert!(!local.allows_origin("http://evil.example"));
        let production = load(&[
            ("NODE_ENV", "production"),
            ("JWT_SECRET", GOOD),
            ("JWT_REFRESH_SECRET", GOOD_REFRESH),
        ])
        .expect("prod config");
        assert!(production.allowed_origins.is_empty());
        assert!(!production.allows_origin("http://localhost:3000"));
        let listed =
            load(&[("ALLOWED_ORIGINS", "https://a.example/, https://b.example")]).expect("listed");
        assert_eq!(
            listed.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert!(!listed.trust_forwarded_headers);
        assert!(
            load(&[("TRUST_FORWARDED_HEADERS", "true")])
                .expect("flag")
                .trust_forwarded_headers
        );
    }

    #[test]
    fn a_node_on_ecs_is_named_after_its_task() {
        assert_eq!(load(&[]).expect("dev").realtime_node_id, "realtime-3002");
        // On ECS the development secrets are refused: give real ones.
        let named = load(&[
            (
                "ECS_CONTAINER_METADATA_URI_V4",
                "http://169.254.170.2/v4/a1b2c3d4e5-1234567890",
            ),
            ("JWT_SECRET", GOOD),
            ("JWT_REFRESH_SECRET", GOOD_REFRESH),
        ])
        .expect("ecs config")
        .realtime_node_id;
        assert_eq!(named, "realtime-a1b2c3d4e5-1234567890");
    }
}
