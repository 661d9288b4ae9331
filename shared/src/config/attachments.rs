//! Attachments' configuration: which object storage (S3 when `ATTACHMENTS_BUCKET` is set, a local
//! directory otherwise), and every attachment limit with its default.

use std::{path::PathBuf, time::Duration};

use sha2::{Digest, Sha256};

use super::{duration, number, rate_limit, ConfigError, RateLimit, Storage};

#[derive(Debug, Clone)]
pub enum ObjectStorageConfig {
    /// Production: an S3 bucket (`ATTACHMENTS_BUCKET`); `S3_ENDPOINT_URL` for an S3-compatible
    /// server (path-style), with its static keys (`S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`).
    S3 {
        bucket: String,
        endpoint: Option<String>,
        static_keys: Option<(String, String)>,
    },
    /// The zero-setup default: a directory (`ATTACHMENTS_DIR`, default `attachments/` beside the
    /// SQLite file), served by the realtime node at `public_url` (`ATTACHMENTS_PUBLIC_URL`).
    Local { dir: PathBuf, public_url: String },
}

#[derive(Debug, Clone)]
pub struct AttachmentsConfig {
    pub storage: ObjectStorageConfig,
    /// Largest file accepted (`ATTACHMENT_MAX_BYTES`, 25 MiB).
    pub max_bytes: u64,
    /// How long an upload URL works (`ATTACHMENT_UPLOAD_EXPIRY`, 15m).
    pub upload_expiry: Duration,
    /// How long a download URL works (`ATTACHMENT_DOWNLOAD_EXPIRY`, 5m).
    pub download_expiry: Duration,
    /// How long an upload may wait for its message before it is swept
    /// (`ATTACHMENT_UNATTACHED_EXPIRY`, 24h).
    pub unattached_expiry: Duration,
    /// How often the realtime node sweeps expired uploads (`ATTACHMENT_SWEEP_INTERVAL`, 1m).
    pub sweep_every: Duration,
    /// Uploads declared per user (`ATTACHMENT_RATE_LIMIT_MAX`/`_WINDOW`, 30 per 10 minutes).
    pub upload_rate_limit: RateLimit,
    /// Signs the local adapter's URLs: derived from `JWT_SECRET`, so every process of one
    /// deployment agrees without another secret.
    pub url_signing_key: Vec<u8>,
}

impl AttachmentsConfig {
    /// The origins attachments are uploaded to and downloaded from (a page's
    /// Content-Security-Policy allows them): the local URL's origin, the S3-compatible endpoint,
    /// or S3 itself.
    pub fn origins(&self) -> Vec<String> {
        let origin_of = |url: &str| {
            let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
            let host = rest.split('/').next().unwrap_or_default();
            super::is_plain_host(host).then(|| format!("{scheme}://{host}"))
        };
        match &self.storage {
            ObjectStorageConfig::Local { public_url, .. } => {
                origin_of(public_url).into_iter().collect()
            }
            ObjectStorageConfig::S3 {
                endpoint: Some(endpoint),
                ..
            } => origin_of(endpoint).into_iter().collect(),
            ObjectStorageConfig::S3 { endpoint: None, .. } => {
                vec!["https://*.amazonaws.com".to_owned()]
            }
        }
    }
}

pub(super) fn load(
    get: &impl Fn(&str) -> Option<String>,
    storage: &Storage,
    realtime_port: u16,
    jwt_secret: &str,
) -> Result<AttachmentsConfig, ConfigError> {
    let storage = match get("ATTACHMENTS_BUCKET") {
        Some(bucket) => ObjectStorageConfig::S3 {
            bucket,
            endpoint: get("S3_ENDPOINT_URL"),
            static_keys: get("S3_ACCESS_KEY_ID").zip(get("S3_SECRET_ACCESS_KEY")),
        },
        None => ObjectStorageConfig::Local {
            dir: get("ATTACHMENTS_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| beside_database(storage)),
            public_url: get("ATTACHMENTS_PUBLIC_URL")
                .map(|url| url.trim().trim_end_matches('/').to_owned())
                .unwrap_or_else(|| format!("http://localhost:{realtime_port}/files")),
        },
    };
    Ok(AttachmentsConfig {
        storage,
        max_bytes: number(
            get,
            "ATTACHMENT_MAX_BYTES",
            25 * 1024 * 1024,
            1..=5 * 1024 * 1024 * 1024,
        )?,
        upload_expiry: duration(get, "ATTACHMENT_UPLOAD_EXPIRY", "15m")?,
        download_expiry: duration(get, "ATTACHMENT_DOWNLOAD_EXPIRY", "5m")?,
        unattached_expiry: duration(get, "ATTACHMENT_UNATTACHED_EXPIRY", "24h")?,
        sweep_every: duration(get, "ATTACHMENT_SWEEP_INTERVAL", "1m")?,
        upload_rate_limit: rate_limit(
            get,
            ["ATTACHMENT_RATE_LIMIT_MAX", "ATTACHMENT_RATE_LIMIT_WINDOW"],
            30,
            "10m",
        )?,
        url_signing_key: Sha256::new()
            .chain_update(b"chat attachments url signing\n")
            .chain_update(jwt_secret.as_bytes())
            .finalize()
            .to_vec(),
    })
}

/// `attachments/` beside the SQLite file; `./data/attachments` on MongoDB.
fn beside_database(storage: &Storage) -> PathBuf {
    match storage {
        Storage::Sqlite { path } => path
            .parent()
            .map(|dir| dir.join("attachments"))
            .unwrap_or_else(|| PathBuf::from("attachments")),
        Storage::Mongo { .. } => PathBuf::from("./data/attachments"),
    }
}
