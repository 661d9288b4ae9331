//! The object storage port: where attachments' bytes live. Clients send and fetch the bytes
//! straight to and from storage through short-lived signed URLs; our processes only sign URLs,
//! look at what was uploaded, and delete. Two adapters, one contract suite (`tests/`): S3 in
//! production (`s3.rs`, presigned by `aws-sdk-s3`) and a local directory by default (`local.rs`,
//! its signed URLs served by the realtime node).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;

use crate::config::{AttachmentsConfig, ObjectStorageConfig};

pub mod local;
pub mod s3;

/// Where and how a client sends an object's bytes: `method` to `url` with exactly these headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadUrl {
    pub url: String,
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
}

/// What storage holds under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub size: u64,
    /// The `Content-Type` it was uploaded with.
    pub content_type: Option<String>,
}

/// How a download is served: the type it is served as and its `Content-Disposition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub content_type: String,
    pub disposition: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object storage is unavailable: {0}")]
    Unavailable(String),
}

pub type ObjectResult<T> = Result<T, ObjectError>;

#[async_trait]
pub trait ObjectStorage: Send + Sync {
    /// `"s3"` or `"local"`.
    fn kind(&self) -> &'static str;
    /// A URL that lets its holder put one object of `content_type` and `size` bytes under `key`
    /// until `expires_in` has passed; the object starts out pending (swept unless attached).
    async fn upload_url(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> ObjectResult<UploadUrl>;
    /// The object under `key`, if one was uploaded.
    async fn stat(&self, key: &str) -> ObjectResult<Option<StoredObject>>;
    /// Its first `bytes` bytes (fewer when it is shorter): enough to read an image's header.
    async fn read_start(&self, key: &str, bytes: u64) -> ObjectResult<Vec<u8>>;
    /// The object now belongs to a message: storage's own expiry of pending uploads (S3's
    /// lifecycle rule) must leave it alone.
    async fn mark_attached(&self, key: &str) -> ObjectResult<()>;
    /// A URL that serves the object as `delivery` says until `expires_in` has passed.
    async fn download_url(
        &self,
        key: &str,
        delivery: &Delivery,
        expires_in: Duration,
    ) -> ObjectResult<String>;
    /// Removes the object; removing one that is not there succeeds.
    async fn delete(&self, key: &str) -> ObjectResult<()>;
}

pub type Objects = Arc<dyn ObjectStorage>;

/// Opens the configured adapter: S3 when `ATTACHMENTS_BUCKET` is set, the local directory
/// otherwise.
pub async fn connect(config: &AttachmentsConfig) -> ObjectResult<Objects> {
    match &config.storage {
        ObjectStorageConfig::S3 {
            bucket,
            endpoint,
            static_keys,
        } => Ok(Arc::new(
            s3::S3Objects::connect(
                bucket,
                endpoint.as_deref(),
                static_keys
                    .as_ref()
                    .map(|(key, secret)| (key.as_str(), secret.as_str())),
            )
            .await,
        )),
        ObjectStorageConfig::Local { dir, public_url } => Ok(Arc::new(local::LocalObjects::open(
            dir,
            public_url,
            &config.url_signing_key,
        )?)),
    }
}

/// The routes that serve the local adapter's signed URLs (the realtime node mounts them), when
/// the local adapter is the configured one.
pub fn local_router(config: &AttachmentsConfig) -> ObjectResult<Option<axum::Router>> {
    match &config.storage {
        ObjectStorageConfig::Local { dir, public_url } => Ok(Some(local::router(
            local::LocalObjects::open(dir, public_url, &config.url_signing_key)?,
        ))),
        ObjectStorageConfig::S3 { .. } => Ok(None),
    }
}
