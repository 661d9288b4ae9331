//! What every handler and the realtime node hold: configuration, the store and the token keys.

use std::sync::Arc;

use crate::{
    auth::TokenKeys,
    config::{Config, ConfigError},
    objects::{self, ObjectError, Objects},
    store::{self, Store, StoreError},
};

#[derive(Clone)]
pub struct AppContext {
    pub config: Arc<Config>,
    /// The storage port: only `shared`'s services use it (handlers and transports call those).
    pub(crate) store: Store,
    /// Object storage (attachments' bytes): only `shared`'s services use it.
    pub(crate) objects: Objects,
    pub tokens: Arc<TokenKeys>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Objects(#[from] ObjectError),
    #[error("{0}")]
    Secret(#[from] crate::secrets::SecretError),
}

impl AppContext {
    /// Opens the configured store and prepares the token keys.
    pub async fn from_config(config: Config) -> Result<Self, StartupError> {
        // The one place a process opens its store and object storage (clippy.toml fences both
        // `connect`s elsewhere).
        #[allow(clippy::disallowed_methods)]
        let store = store::connect(&config).await?;
        #[allow(clippy::disallowed_methods)]
        let objects = objects::connect(&config.attachments).await?;
        Ok(Self {
            objects,
            tokens: Arc::new(TokenKeys::from_config(&config)),
            config: Arc::new(config),
            store,
        })
    }

    /// The storage port, for tests and benchmarks that set up or inspect data directly.
    /// `clippy.toml` refuses it everywhere else: a handler or transport calls a service.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Object storage, for tests that look at what was stored.
    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// What a binary does first: read the environment (and the secrets its `*_ARN` variables name,
    /// `secrets`), start logging, log config warnings, open the store. A refused configuration
    /// names the variable.
    pub async fn from_env() -> Result<Self, StartupError> {
        let _ = dotenvy::dotenv();
        let from_secrets_manager = crate::secrets::resolve(|name| std::env::var(name).ok()).await?;
        let config = Config::from_lookup(|name| {
            from_secrets_manager
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        })?;
        crate::telemetry::init(config.log_format);
        for warning in &config.warnings {
            tracing::warn!("{warning}");
        }
        Self::from_config(config).await
    }
}
