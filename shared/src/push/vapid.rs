//! The application server's VAPID identity (RFC 8292): a P-256 key whose public half browsers
//! subscribe with (`applicationServerKey`) and whose private half signs, per push, a short JWT for
//! the push service's origin. In production it comes from `VAPID_PRIVATE_KEY`; elsewhere it is
//! generated once into `VAPID_KEY_FILE` (beside the SQLite file) and read back afterwards, so
//! subscriptions survive restarts.

use std::{io::Write, path::Path};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::{pkcs8::EncodePrivateKey, SecretKey};
use serde::Serialize;

use super::{base64url, PushError};
use crate::config::PushConfig;

/// How long one VAPID signature is valid (RFC 8292 allows at most 24 hours).
const SIGNATURE_LIFETIME_SECS: i64 = 12 * 60 * 60;

#[derive(Clone)]
pub struct VapidKey {
    signing: EncodingKey,
    /// The uncompressed public point, base64url (what `k=` and `applicationServerKey` carry).
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl VapidKey {
    /// The key of `VAPID_PRIVATE_KEY`: base64url of the 32-byte private scalar.
    pub fn from_base64url(text: &str) -> Result<Self, PushError> {
        let bytes =
            base64url::decode(text).ok_or_else(|| PushError::InvalidKey("not base64url".into()))?;
        let secret = SecretKey::from_slice(&bytes)
            .map_err(|_| PushError::InvalidKey("not a 32-byte P-256 private key".into()))?;
        Self::from_secret(&secret)
    }

    fn from_secret(secret: &SecretKey) -> Result<Self, PushError> {
        let pkcs8 = secret
            .to_pkcs8_der()
            .map_err(|err| PushError::InvalidKey(err.to_string()))?;
        let public = secret.public_key().to_sec1_bytes();
        Ok(Self {
            signing: EncodingKey::from_ec_der(pkcs8.as_bytes()),
            public: base64url::encode(&public),
        })
    }

    /// A new random key, base64url of its private scalar.
    fn generate() -> String {
        use rand::RngCore;
        loop {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            // Nearly every 32 bytes are a valid scalar; the rest are drawn again.
            if SecretKey::from_slice(&bytes).is_ok() {
                return base64url::encode(&bytes);
            }
        }
    }

    /// The key this process signs with: `VAPID_PRIVATE_KEY`, else (outside production) the key
    /// file's, generated on first use.
    pub fn load(config: &PushConfig) -> Result<Self, PushError> {
        if let Some(key) = &config.vapid_private_key {
            return Self::from_base64url(key);
        }
        match &config.vapid_key_file {
            Some(path) => Self::from_base64url(&read_or_generate(path)?),
            None => Err(PushError::NoKey),
        }
    }

    /// What clients subscribe with (`applicationServerKey`).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header of a push to `endpoint`: `vapid t=<JWT>, k=<public key>`.
    pub fn authorization(&self, endpoint: &str, subject: &str) -> Result<String, PushError> {
        let audience = origin_of(endpoint)
            .ok_or_else(|| PushError::Build(format!("{endpoint} is not an http(s) URL")))?;
        let claims = Claims {
            aud: audience,
            exp: crate::time::now().timestamp() + SIGNATURE_LIFETIME_SECS,
            sub: subject,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing)
            .map_err(|err| PushError::Build(err.to_string()))?;
        Ok(format!("vapid t={token}, k={}", self.public))
    }
}

/// The public key clients subscribe with: `VAPID_PUBLIC_KEY`, else the signing key's.
pub fn public_key(config: &PushConfig) -> Result<String, PushError> {
    match &config.vapid_public_key {
        Some(public) => Ok(public.clone()),
        None => Ok(VapidKey::load(config)?.public),
    }
}

/// `scheme://host[:port]` of an http(s) URL: a VAPID signature's audience.
fn origin_of(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    if !matches!(&url[..scheme_end], "https://" | "http://") {
        return None;
    }
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| scheme_end + at);
    (end > scheme_end).then(|| &url[..end])
}

/// The key file's key; a new one written (readable by its owner only) when there is none. Two
/// processes starting together agree: the file appears whole or not at all (a hard link of a
/// finished file), and the loser reads the winner's.
fn read_or_generate(path: &Path) -> Result<String, PushError> {
    let fail = |detail: String| PushError::KeyFile {
        path: path.display().to_string(),
        detail,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(fail(err.to_string()))
        }
        Err(_) => {}
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|err| fail(err.to_string()))?;
    }
    let draft = path.with_extension(format!("new-{}", std::process::id()));
    let key = VapidKey::generate();
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&draft)?;
        file.write_all(key.as_bytes())?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                "generated a development VAPID key; production needs VAPID_PRIVATE_KEY"
            );
            Ok(key)
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path)
                .map(|text| text.trim().to_owned())
                .map_err(|err| fail(err.to_string()))
        }
        Err(err) => Err(fail(err.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_for_the_endpoints_origin() {
        assert_eq!(
            origin_of("https://fcm.googleapis.com/fcm/send/abc"),
            Some("https://fcm.googleapis.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/push/1?x"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("ftp://x/y"), None);
        assert_eq!(origin_of("https:///y"), None);
    }

    #[test]
    fn a_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys/vapid-private-key");
        let first = read_or_generate(&path).expect("generated");
        let again = read_or_generate(&path).expect("read");
        assert_eq!(first, again);
        let key = VapidKey::from_base64url(&first).expect("valid");
        assert_eq!(
            base64url::decode(key.public_key()).map(|k| k.len()),
            Some(65)
        );
        let header = key
            .authorization("https://push.example/x", "mailto:ops@example.com")
            .expect("signs");
        assert!(header.starts_with("vapid t=ey"), "{header}");
        assert!(header.ends_with(&format!(", k={}", key.public_key())));
    }

    #[test]
    fn a_bad_key_is_refused() {
        assert!(VapidKey::from_base64url("short").is_err());
        assert!(
            VapidKey::from_base64url(&"A".repeat(43)).is_err(),
            "zero scalar"
        );
    }
}
