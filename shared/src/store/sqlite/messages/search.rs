//! Full-text search (SPEC §7) on the FTS5 index: match expressions over words and the
//! conversations a user takes part in.

use rusqlite::{params, Connection};

use super::{
    super::{
        all,
        engine::{defer, run_deferred},
        execute,
    },
    messages, MessageRow, COLUMNS,
};
use crate::{
    model::{Message, Room},
    store::{MessageSearch, StoreResult},
};

/// The search of `search_messages` (public for the query-plan test and benchmark): `?1` the FTS5
/// match expression (words and conversations, see `match_expression`), `?2` the limit.
pub fn search_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM messages_fts f JOIN messages m ON m.rowid = f.rowid \
         WHERE messages_fts MATCH ?1 AND m.deleted_at IS NULL \
         ORDER BY m.created_at DESC, m.id DESC LIMIT ?2"
    )
}

fn quoted(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// Every term as a prefix of a word of the text, and the conversation among `conversations`
/// (each a list of participant tokens that must all be there).
fn match_expression(terms: &[String], conversations: &[Vec<String>]) -> String {
    let words = terms
        .iter()
        .map(|term| format!("{}*", quoted(term)))
        .collect::<Vec<_>>()
        .join(" ");
    let within = conversations
        .iter()
        .map(|tokens| {
            let all: Vec<String> = tokens.iter().map(|token| quoted(token)).collect();
            format!("({})", all.join(" AND "))
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    format!("message : ({words}) AND participants : ({within})")
}

/// The conversations a search covers, as participant tokens: one room, or the user's private
/// chats (their own id is in every one of them) and active groups.
fn search_scope(conn: &Connection, search: &MessageSearch) -> StoreResult<Vec<Vec<String>>> {
    Ok(match search.room {
        Some(Room::Private(pair)) => {
            let [a, b] = pair.users();
            vec![vec![a.to_hex(), b.to_hex()]]
        }
        Some(Room::Group(group)) => vec![vec![group.to_hex()]],
        Some(_) => Vec::new(),
        None => {
            let mut scope = vec![vec![search.user.to_hex()]];
            let groups = all(
                conn,
                "SELECT gm.group_id FROM group_members gm JOIN groups g ON g.id = gm.group_id \
                 WHERE gm.user_id = ? AND g.is_active = 1",
                [search.user.to_hex()],
                |row| row.get::<_, String>(0),
            )?;
            scope.extend(groups.into_iter().map(|group| vec![group]));
            scope
        }
    })
}

/// Indexes messages: their text, and their conversation as participant tokens (the group, or
/// the two users of a private chat). The schema's update trigger indexes the same way.
macro_rules! index_messages {
    () => {
        "INSERT INTO messages_fts (rowid, message, participants) \
         SELECT rowid, message, COALESCE(group_id, sender || ' ' || receiver) FROM messages"
    };
}

/// Indexes one new message (by rowid) at the end of the writer's batch, with its text as it is
/// then: in the same transaction, so a committed message is searchable at once, and all the
/// batch's messages in one statement and one FTS5 segment (see `engine::defer`).
pub(super) fn index_at_commit(conn: &Connection, rowid: i64) -> StoreResult<()> {
    defer(
        conn,
        concat!(
            index_messages!(),
            " WHERE rowid IN (SELECT value FROM json_each(?))"
        ),
        rowid,
    )
}

/// Indexes the batch's new messages now: called before a message's text changes or a message
/// goes, so the index triggers find what they replace.
pub(super) fn index_pending(conn: &Connection) -> StoreResult<()> {
    run_deferred(conn)
}

/// Indexes every message already in the file (a file from before the search index, or one a
/// bulk load filled; public for the benchmark's seeding).
pub fn index_for_search(conn: &Connection) -> StoreResult<()> {
    execute(conn, index_messages!(), [])?;
    Ok(())
}

/// The messages `search` finds, newest first.
pub(super) fn search(conn: &Connection, search: &MessageSearch) -> StoreResult<Vec<Message>> {
    let scope = search_scope(conn, search)?;
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let expression = match_expression(&search.terms, &scope);
    messages(all(
        conn,
        &search_sql(),
        params![expression, i64::from(search.limit)],
        MessageRow::read,
    )?)
}
