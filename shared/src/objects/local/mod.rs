//! The local object storage: a directory (by default beside the SQLite file), each object a file
//! with a small JSON sidecar (its type and size). Its signed URLs (`grant.rs`) are served by the
//! realtime node (`serve.rs`, under `/files`), so it needs no setup; every process of the local
//! stack shares the directory, so they must run on one machine.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Delivery, ObjectError, ObjectResult, ObjectStorage, StoredObject, UploadUrl};

mod grant;
mod serve;

pub use grant::{Access, Grant, GrantError};
pub use serve::{router, ROUTE_PREFIX};

#[derive(Clone)]
pub struct LocalObjects {
    root: PathBuf,
    /// Where `serve::router` is reachable, up to and including `/files`.
    public_url: String,
    secret: Arc<[u8]>,
}

/// What the sidecar file records of an object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sidecar {
    content_type: String,
    size: u64,
}

fn unavailable(err: impl std::fmt::Display) -> ObjectError {
    ObjectError::Unavailable(err.to_string())
}

/// A key we mint (`attachments/<uuid>`): letters, digits, `-` and single `/` between parts, so
/// it can never leave the directory.
fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('/').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl LocalObjects {
    pub fn open(root: &Path, public_url: &str, secret: &[u8]) -> ObjectResult<Self> {
        std::fs::create_dir_all(root)
            .map_err(|err| unavailable(format!("cannot create {}: {err}", root.display())))?;
        Ok(Self {
            root: root.to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            secret: Arc::from(secret),
        })
    }

    fn path(&self, key: &str) -> ObjectResult<PathBuf> {
        if is_plain_key(key) {
            Ok(self.root.join(key))
        } else {
            Err(unavailable(format!("not an object key: {key:?}")))
        }
    }

    fn sidecar_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".json");
        PathBuf::from(name)
    }

    fn signed_url(&self, grant: &Grant) -> String {
        format!(
            "{}/{}?{}",
            self.public_url,
            grant.key,
            grant.query(&self.secret)
        )
    }

    fn expiry(expires_in: Duration) -> i64 {
        let seconds = i64::try_from(expires_in.as_secs()).unwrap_or(i64::MAX / 2);
        crate::time::now().timestamp().saturating_add(seconds)
    }

    /// Checks a request's signed query for `access` on `key`.
    pub fn verify(
        &self,
        access: Access,
        key: &str,
        query: &std::collections::HashMap<String, String>,
    ) -> Result<Grant, GrantError> {
        if !is_plain_key(key) {
            return Err(GrantError::Invalid);
        }
        Grant::verify(
            access,
            key,
            query,
            &self.secret,
            crate::time::now().timestamp(),
        )
    }

    /// Where an upload is written before it replaces the object (so a reader never sees half).
    fn staging_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".upload-{}", uuid::Uuid::new_v4()));
        PathBuf::from(name)
    }

    /// Makes `staged` (a complete upload) the object under `key`, with its sidecar.
    async fn commit_upload(
        &self,
        key: &str,
        staged: &Path,
        content_type: &str,
        size: u64,
    ) -> ObjectResult<()> {
        let path = self.path(key)?;
        let sidecar = serde_json::to_vec(&Sidecar {
            content_type: content_type.to_owned(),
            size,
        })
        .map_err(unavailable)?;
        tokio::fs::write(Self::sidecar_path(&path), sidecar)
            .await
            .map_err(unavailable)?;
        tokio::fs::rename(staged, &path).await.map_err(unavailable)
    }
}

#[async_trait]
impl ObjectStorage for LocalObjects {
    fn kind(&self) -> &'static str {
        "local"
    }

    async fn upload_url(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> ObjectResult<UploadUrl> {
        self.path(key)?;
        let grant = Grant {
            access: Access::Put,
            key: key.to_owned(),
            expires: Self::expiry(expires_in),
            content_type: content_type.to_owned(),
            detail: size.to_string(),
        };
        Ok(UploadUrl {
            url: self.signed_url(&grant),
            method: "PUT",
            headers: vec![("Content-Type".into(), content_type.to_owned())],
        })
    }

    async fn stat(&self, key: &str) -> ObjectResult<Option<StoredObject>> {
        let path = self.path(key)?;
        let size = match tokio::fs::metadata(&path).await {
            Ok(meta) => meta.len(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(unavailable(err)),
        };
        let content_type = tokio::fs::read(Self::sidecar_path(&path))
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Sidecar>(&bytes).ok())
            .map(|sidecar| sidecar.content_type);
        Ok(Some(StoredObject { size, content_type }))
    }

    async fn read_start(&self, key: &str, bytes: u64) -> ObjectResult<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let file = tokio::fs::File::open(self.path(key)?)
            .await
            .map_err(unavailable)?;
        let mut start = Vec::new();
        file.take(bytes)
            .read_to_end(&mut start)
            .await
            .map_err(unavailable)?;
        Ok(start)
    }

    async fn mark_attached(&self, _key: &str) -> ObjectResult<()> {
        // Nothing here expires objects by itself: the sweep removes pending ones.
        Ok(())
    }

    async fn download_url(
        &self,
        key: &str,
        delivery: &Delivery,
        expires_in: Duration,
    ) -> ObjectResult<String> {
        self.path(key)?;
        Ok(self.signed_url(&Grant {
            access: Access::Get,
            key: key.to_owned(),
            expires: Self::expiry(expires_in),
            content_type: delivery.content_type.clone(),
            detail: delivery.disposition.clone(),
        }))
    }

    async fn delete(&self, key: &str) -> ObjectResult<()> {
        let path = self.path(key)?;
        for file in [Self::sidecar_path(&path), path] {
            match tokio::fs::remove_file(&file).await {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(unavailable(err)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_plain_key;

    #[test]
    fn keys_cannot_leave_the_directory() {
        assert!(is_plain_key("attachments/0f7c-11"));
        for key in ["", "../x", "a//b", "/a", "a/", "a/../b", "a\\b", "a.b"] {
            assert!(!is_plain_key(key), "{key}");
        }
    }
}
