//! The S3 adapter (production): presigned `PutObject`/`GetObject` URLs from `aws-sdk-s3`, and the
//! few calls our processes make themselves (`HeadObject`, a ranged `GetObject` for an image's
//! header, `PutObjectTagging`, `DeleteObject`). Uploads start tagged `state=pending`: the
//! template's lifecycle rule expires pending objects, and attaching one re-tags it.
//! `S3_ENDPOINT_URL` points it at an S3-compatible server (path-style addressing).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::{
    config::{Credentials, Region},
    presigning::PresigningConfig,
    types::{Tag, Tagging},
    Client,
};

use super::{Delivery, ObjectError, ObjectResult, ObjectStorage, StoredObject, UploadUrl};

const DEFAULT_REGION: &str = "us-east-1";
/// The tag an upload carries until a message holds it (the lifecycle rule's filter).
pub const STATE_TAG: &str = "state";
pub const PENDING: &str = "pending";
pub const ATTACHED: &str = "attached";

#[derive(Clone)]
pub struct S3Objects {
    client: Client,
    bucket: String,
}

fn unavailable(what: &str, err: impl std::fmt::Debug) -> ObjectError {
    ObjectError::Unavailable(format!("S3 {what} failed: {err:?}"))
}

fn presigning(expires_in: Duration) -> ObjectResult<PresigningConfig> {
    PresigningConfig::expires_in(expires_in).map_err(|err| unavailable("presigning", err))
}

impl S3Objects {
    /// Credentials and region from the environment (the function's or task's role), or the
    /// static keys `S3_ACCESS_KEY_ID`/`S3_SECRET_ACCESS_KEY` of an S3-compatible server.
    pub async fn connect(
        bucket: &str,
        endpoint: Option<&str>,
        static_keys: Option<(&str, &str)>,
    ) -> Self {
        let mut config = match static_keys {
            // An S3-compatible server: nothing to look up in the AWS environment.
            Some((key, secret)) => aws_sdk_s3::config::Builder::new()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(Region::new(
                    std::env::var("AWS_REGION").unwrap_or_else(|_| DEFAULT_REGION.to_owned()),
                ))
                .credentials_provider(Credentials::new(key, secret, None, None, "static")),
            None => {
                let shared = aws_config::load_from_env().await;
                let region = shared
                    .region()
                    .cloned()
                    .unwrap_or_else(|| Region::new(DEFAULT_REGION));
                aws_sdk_s3::config::Builder::from(&shared).region(region)
            }
        };
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint).force_path_style(true);
        }
        Self {
            client: Client::from_conf(config.build()),
            bucket: bucket.to_owned(),
        }
    }
}

#[async_trait]
impl ObjectStorage for S3Objects {
    fn kind(&self) -> &'static str {
        "s3"
    }

    async fn upload_url(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> ObjectResult<UploadUrl> {
        let length = i64::try_from(size).map_err(|err| unavailable("presigning", err))?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .tagging(format!("{STATE_TAG}={PENDING}"))
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|err| unavailable("presigning PutObject", err))?;
        let mut headers: Vec<(String, String)> = presigned
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), content_type.to_owned()));
        }
        Ok(UploadUrl {
            url: presigned.uri().to_owned(),
            method: "PUT",
            headers,
        })
    }

    async fn stat(&self, key: &str) -> ObjectResult<Option<StoredObject>> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match head {
            Ok(head) => Ok(Some(StoredObject {
                size: head
                    .content_length()
                    .and_then(|length| u64::try_from(length).ok())
                    .unwrap_or_default(),
                content_type: head.content_type().map(str::to_owned),
            })),
            Err(err) if err.as_service_error().is_some_and(|err| err.is_not_found()) => Ok(None),
            Err(err) => Err(unavailable("HeadObject", err)),
        }
    }

    async fn read_start(&self, key: &str, bytes: u64) -> ObjectResult<Vec<u8>> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", bytes.saturating_sub(1)))
            .send()
            .await
            .map_err(|err| unavailable("GetObject", err))?;
        let body = object
            .body
            .collect()
            .await
            .map_err(|err| unavailable("reading GetObject", err))?;
        let mut start = body.into_bytes().to_vec();
        start.truncate(usize::try_from(bytes).unwrap_or(usize::MAX));
        Ok(start)
    }

    async fn mark_attached(&self, key: &str) -> ObjectResult<()> {
        let tag = Tag::builder()
            .key(STATE_TAG)
            .value(ATTACHED)
            .build()
            .map_err(|err| unavailable("building a tag", err))?;
        let tagging = Tagging::builder()
            .tag_set(tag)
            .build()
            .map_err(|err| unavailable("building a tag set", err))?;
        self.client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|err| unavailable("PutObjectTagging", err))?;
        Ok(())
    }

    async fn download_url(
        &self,
        key: &str,
        delivery: &Delivery,
        expires_in: Duration,
    ) -> ObjectResult<String> {
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_type(&delivery.content_type)
            .response_content_disposition(&delivery.disposition)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|err| unavailable("presigning GetObject", err))?;
        Ok(presigned.uri().to_owned())
    }

    async fn delete(&self, key: &str) -> ObjectResult<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| unavailable("DeleteObject", err))?;
        Ok(())
    }
}
