//! The production adapter. Deliberately plain: typed documents (serde structs), single-document
//! operations, and every index declared in `indexes.rs`, created idempotently at start-up.

use async_trait::async_trait;
use bson::doc;
use mongodb::{
    event::{command::CommandEvent, EventHandler},
    options::ClientOptions,
    Client, Database,
};

use super::{Storage, StoreError, StoreResult};

mod attachments;
mod backfill;
mod feed;
mod groups;
mod indexes;
mod leases;
mod messages;
mod moderation;
mod notifications;
mod rate_limits;
mod realtime;
mod sessions;
mod users;

const DEFAULT_DATABASE: &str = "chat_app";
/// "The $changeStream stage is only supported on replica sets".
const CHANGE_STREAMS_NEED_A_REPLICA_SET: i32 = 40573;

#[derive(Clone)]
pub struct MongoStore {
    db: Database,
}

impl MongoStore {
    /// Connects, picks the database (`MONGO_DB`, else the URI's path, else `chat_app`), fills in
    /// what documents of the NestJS service lack (`backfill`) and ensures every index exists.
    pub async fn connect(uri: &str, database: Option<&str>) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(map_err)?;
        options.app_name = Some("chat-backend".into());
        options.command_event_handler = Some(EventHandler::callback(record_command));
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(std::time::Duration::from_secs(10));
        }
        let name = database
            .map(str::to_owned)
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let client = Client::with_options(options).map_err(map_err)?;
        let store = Self {
            db: client.database(&name),
        };
        backfill::run(&store.db).await?;
        indexes::ensure(&store.db).await?;
        Ok(store)
    }

    pub fn database(&self) -> &Database {
        &self.db
    }
}

/// Every command's round trip, on the store latency histogram (labelled by command: the driver
/// sees commands, not port methods).
fn record_command(event: CommandEvent) {
    let (name, elapsed) = match &event {
        CommandEvent::Succeeded(done) => (done.command_name.as_str(), done.duration),
        CommandEvent::Failed(failed) => (failed.command_name.as_str(), failed.duration),
        _ => return,
    };
    crate::metrics::store_operation("mongodb", command_label(name), elapsed);
}

/// A command name as a label from a fixed set.
fn command_label(name: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "find",
        "insert",
        "update",
        "delete",
        "findAndModify",
        "aggregate",
        "getMore",
        "count",
        "distinct",
        "createIndexes",
        "killCursors",
        "ping",
        "hello",
    ];
    KNOWN
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("other")
}

#[async_trait]
impl Storage for MongoStore {
    fn kind(&self) -> &'static str {
        "mongodb"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

/// Maps a driver error onto the port's errors; E11000 names the API field from the index name.
pub(crate) fn map_err(err: mongodb::error::Error) -> StoreError {
    use mongodb::error::{ErrorKind, WriteFailure};
    let duplicate_message = match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == 11000 => {
            Some(write.message.as_str())
        }
        ErrorKind::Command(command) if command.code == 11000 => Some(command.message.as_str()),
        _ => None,
    };
    if let Some(message) = duplicate_message {
        let field = if message.contains(indexes::USERNAME_UNIQUE) {
            "username"
        } else if message.contains(indexes::EMAIL_UNIQUE) {
            "email"
        } else if message.contains(indexes::CLIENT_MESSAGE_ID_UNIQUE) {
            "clientMessageId"
        } else if message.contains(indexes::GROUP_NAME_UNIQUE) {
            "groupName"
        } else {
            "value"
        };
        return StoreError::Duplicate { field };
    }
    match err.kind.as_ref() {
        // ChangeStreamHistoryLost, InvalidResumeToken, ChangeStreamFatalError: the position the
        // feed was asked to resume from is not in the oplog (any more).
        ErrorKind::Command(command) if matches!(command.code, 260 | 280 | 286) => {
            StoreError::PositionLost(format!("{} ({})", command.message, command.code_name))
        }
        ErrorKind::Command(command) if command.code == CHANGE_STREAMS_NEED_A_REPLICA_SET => {
            StoreError::Backend(
                "MongoDB change streams need a replica set, and this server is a standalone \
                 mongod: start it with --replSet and run rs.initiate() once"
                    .into(),
            )
        }
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Backend(err.to_string()),
    }
}

/// `Some(value)` as BSON, `None` as null.
pub(crate) fn nullable(value: Option<String>) -> bson::Bson {
    value.map_or(bson::Bson::Null, bson::Bson::String)
}

pub(crate) fn to_bson_time(at: &chrono::DateTime<chrono::Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(*at)
}
