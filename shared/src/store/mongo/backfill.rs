//! Documents written by the NestJS service we replace lack fields this adapter relies on: the
//! lower-cased copies behind case-insensitive uniqueness and indexed search (`usernameLower`,
//! `firstNameLower`, `lastNameLower`, `groupNameLower`) and, on old messages, `readBy`. At start-up,
//! before the unique indexes are built over them, those fields are filled in, each computed exactly
//! as this adapter computes it on writes (`search_key`). A database without such documents costs one
//! indexed count per field.

use bson::{doc, Bson, Document};
use futures_util::TryStreamExt;
use mongodb::Database;

use super::{
    indexes::{GROUPS, MESSAGES, USERS},
    map_err,
};
use crate::{model::search_key, store::StoreResult};

/// `(collection, source field, lower-cased copy)`.
const LOWER_COPIES: &[(&str, &str, &str)] = &[
    (USERS, "username", "usernameLower"),
    (USERS, "firstName", "firstNameLower"),
    (USERS, "lastName", "lastNameLower"),
    (GROUPS, "groupName", "groupNameLower"),
];

pub(crate) async fn run(db: &Database) -> StoreResult<()> {
    for (collection, source, copy) in LOWER_COPIES {
        let collection = db.collection::<Document>(collection);
        let missing = doc! { *source: { "$type": "string" }, *copy: { "$exists": false } };
        let mut cursor = collection
            .find(missing)
            .projection(doc! { *source: 1 })
            .await
            .map_err(map_err)?;
        let mut filled = 0_u64;
        while let Some(document) = cursor.try_next().await.map_err(map_err)? {
            let (Some(id), Ok(value)) = (document.get("_id"), document.get_str(source)) else {
                continue;
            };
            collection
                .update_one(
                    doc! { "_id": id.clone() },
                    doc! { "$set": { *copy: Bson::String(search_key(value)) } },
                )
                .await
                .map_err(map_err)?;
            filled += 1;
        }
        if filled > 0 {
            tracing::info!(
                collection = collection.name(),
                field = copy,
                filled,
                "backfilled documents written before this service"
            );
        }
    }
    let reads = db
        .collection::<Document>(MESSAGES)
        .update_many(
            doc! { "readBy": { "$exists": false } },
            doc! { "$set": { "readBy": [] } },
        )
        .await
        .map_err(map_err)?;
    if reads.modified_count > 0 {
        tracing::info!(
            filled = reads.modified_count,
            "backfilled readBy on messages written before this service"
        );
    }
    Ok(())
}
