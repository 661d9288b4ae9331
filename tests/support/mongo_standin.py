"""A MongoDB wire-protocol stand-in for the test suite.

mongoeco's OP_MSG server (an in-memory MongoDB written in Python, from PyPI) plus what it lacks for
the Rust driver and our adapter:

- `limit`/`batchSize`/`skip` sent as Int64 are accepted; cursor ids are returned as Int64;
- every error reply carries a `code` (11000 for duplicate keys, 286 ChangeStreamHistoryLost,
  260 InvalidResumeToken, 2 BadValue otherwise);
- the `$not` aggregation expression;
- change streams over the wire: `aggregate` with `$changeStream` at database and collection level
  (`fullDocument`, `resumeAfter`/`startAfter`/`startAtOperationTime`, the rest of the pipeline),
  `getMore` waiting up to `maxTimeMS`, `killCursors`, `postBatchResumeToken` on every batch,
  `clusterTime`/`operationTime` as Timestamps, `updateDescription` on update events (mongoeco's
  engine records only the post-image), and a bounded history (`--history`) that answers 286 for a
  token older than it. One watcher is registered for the server's whole life, so every write
  is in the history (as in an oplog) whether or not a stream is open.

It is started by the test suite (`tests/support/mongo.rs`): `python mongo_standin.py --port 0`
prints `listening on <port>` and serves until its standard input closes (the suite's end).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import sys
from copy import deepcopy
from dataclasses import replace

from bson.int64 import Int64
from bson.timestamp import Timestamp
from mongoeco import AsyncMongoClient
from mongoeco._change_streams.cursor import AsyncChangeStreamCursor
from mongoeco._types.documents import encode_change_stream_token
from mongoeco.core.aggregation.extensions import register_aggregation_expression_operator
from mongoeco.errors import OperationFailure
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

DEFAULT_BATCH = 101
DEFAULT_AWAIT_MS = 1000
INT_OPTIONS = ("limit", "batchSize", "skip", "maxTimeMS", "ntoreturn")


# --- The `$not` aggregation expression --------------------------------------------------------


def truthy(value) -> bool:
    """MongoDB's truthiness: false, null, missing and 0 are false; everything else is true."""
    return value is not None and value is not False and value != 0


def not_expression(document, spec, variables, dialect, context):
    args = context.require_expression_args("$not", spec, 1, 1)
    value = context.evaluate_expression(document, args[0], variables)
    return not (truthy(value) and value is not context.missing_sentinel)


def install_not_expression() -> None:
    register_aggregation_expression_operator("$not", not_expression)


# --- Error codes -------------------------------------------------------------------------------


def error_code(message: str) -> tuple[int, str]:
    text = message.lower()
    if "no longer available" in text or "history is unavailable" in text:
        return 286, "ChangeStreamHistoryLost"
    if "resume token" in text:
        return 260, "InvalidResumeToken"
    if "duplicate key" in text or "e11000" in text:
        return 11000, "DuplicateKey"
    return 2, "BadValue"


def with_code(document: dict) -> dict:
    if document.get("ok") in (0, 0.0) and "code" not in document:
        code, name = error_code(str(document.get("errmsg", "")))
        document["code"] = code
        document.setdefault("codeName", name)
    return document


# --- Change streams ----------------------------------------------------------------------------


def field_changes(before: dict, after: dict) -> dict:
    """An `updateDescription` at top-level granularity: which fields changed, which went away."""
    return {
        "updatedFields": {
            name: value
            for name, value in after.items()
            if name not in before or before[name] != value
        },
        "removedFields": [name for name in before if name not in after],
        "truncatedArrays": [],
    }


def describe_updates(hub) -> None:
    """mongoeco's engine publishes updates with their post-image only: keep the last image of each
    document and give every update event the `updateDescription` MongoDB would."""
    images: dict[tuple, dict] = {}
    append = hub._append_committed_event_locked

    def append_described(event) -> None:
        key = (event.db_name, event.coll_name, repr(event.document_key.get("_id")))
        if event.operation_type in ("insert", "replace") and event.full_document is not None:
            images[key] = deepcopy(event.full_document)
        elif event.operation_type == "update" and event.full_document is not None:
            if event.update_description is None:
                changes = field_changes(images.get(key, {}), event.full_document)
                event = replace(event, update_description=changes)
            images[key] = deepcopy(event.full_document)
        elif event.operation_type == "delete":
            images.pop(key, None)
        append(event)

    hub._append_committed_event_locked = append_described


class Stream:
    def __init__(self, cursor: AsyncChangeStreamCursor, ns: str, hub) -> None:
        self.cursor = cursor
        self.ns = ns
        self.hub = hub

    def resume_token(self) -> dict:
        """The token to resume from: just after everything this cursor has passed."""
        hub = self.hub
        with hub._condition:
            index = self.cursor._offset - hub._base_offset - 1
            if index >= 0:
                token = hub._events[index].token
            elif hub._events:
                token = hub._events[0].token - 1
            else:
                token = hub._next_token - 1
        return {"_data": encode_change_stream_token(token)}

    async def batch(self, size: int, wait_ms: int) -> list[dict]:
        events = []
        self.cursor._max_await_time_ms = wait_ms
        while len(events) < size:
            event = await self.cursor.try_next()
            if event is None:
                break
            events.append(as_wire_event(event))
            # After the first event, take only what is already there.
            self.cursor._max_await_time_ms = 0
        return events


def as_wire_event(event: dict) -> dict:
    event = dict(event)
    token = event.get("clusterTime")
    if isinstance(token, int):
        event["clusterTime"] = Timestamp(token, 1)
    return event


def as_int(value) -> int:
    """An integer as it arrives: a plain int, bson's Int64 or mongoeco's BsonInt32/BsonInt64."""
    return int(getattr(value, "value", value))


def token_of_timestamp(value) -> int:
    if isinstance(value, Timestamp):
        return value.time
    return int(value)


class ChangeStreams:
    def __init__(self, client: AsyncMongoClient, standalone: bool = False) -> None:
        self.client = client
        # Answer like a standalone mongod: no change streams (code 40573).
        self.standalone = standalone
        self.hub = client._change_hub
        self.streams: dict[int, Stream] = {}
        self.ids = itertools.count(secrets.randbelow(1 << 40) + 1)

    def operation_time(self) -> Timestamp:
        return Timestamp(max(self.hub._next_token - 1, 0), 1)

    def owns(self, body: dict) -> bool:
        name = next(iter(body), None)
        if name == "aggregate":
            pipeline = body.get("pipeline") or []
            return bool(pipeline) and "$changeStream" in pipeline[0]
        if name == "getMore":
            return as_int(body["getMore"]) in self.streams
        if name == "killCursors":
            return any(as_int(cursor) in self.streams for cursor in body.get("cursors", []))
        return False

    async def execute(self, body: dict, db_name: str) -> dict:
        name = next(iter(body))
        if name == "aggregate":
            result = await self.open(body, db_name)
        elif name == "getMore":
            result = await self.get_more(body)
        else:
            result = self.kill(body)
        if result.get("ok") == 1.0:
            result["operationTime"] = self.operation_time()
        return result

    async def open(self, body: dict, db_name: str) -> dict:
        if self.standalone:
            return {
                "ok": 0.0,
                "code": 40573,
                "codeName": "Location40573",
                "errmsg": "The $changeStream stage is only supported on replica sets",
            }
        pipeline = list(body["pipeline"])
        options = dict(pipeline.pop(0)["$changeStream"])
        target = body["aggregate"]
        database = self.client[db_name]
        source = database if target == 1 else database[target]
        start_at = options.get("startAtOperationTime")
        cursor = source.watch(
            pipeline or None,
            full_document=options.get("fullDocument", "default"),
            resume_after=options.get("resumeAfter"),
            start_after=options.get("startAfter"),
            start_at_operation_time=None if start_at is None else token_of_timestamp(start_at),
        )
        ns = f"{db_name}.$cmd.aggregate" if target == 1 else f"{db_name}.{target}"
        stream = Stream(cursor, ns, self.hub)
        size = as_int((body.get("cursor") or {}).get("batchSize", DEFAULT_BATCH))
        first = await stream.batch(size, 0) if size > 0 else []
        cursor_id = next(self.ids)
        self.streams[cursor_id] = stream
        return {
            "cursor": {
                "firstBatch": first,
                "postBatchResumeToken": stream.resume_token(),
                "id": Int64(cursor_id),
                "ns": ns,
            },
            "ok": 1.0,
        }

    async def get_more(self, body: dict) -> dict:
        cursor_id = as_int(body["getMore"])
        stream = self.streams[cursor_id]
        size = as_int(body.get("batchSize") or DEFAULT_BATCH)
        wait_ms = as_int(body.get("maxTimeMS") or DEFAULT_AWAIT_MS)
        try:
            events = await stream.batch(size, wait_ms)
        except Exception:
            self.close(cursor_id)
            raise
        alive = stream.cursor.alive
        if not alive:
            self.close(cursor_id)
        return {
            "cursor": {
                "nextBatch": events,
                "postBatchResumeToken": stream.resume_token(),
                "id": Int64(cursor_id if alive else 0),
                "ns": stream.ns,
            },
            "ok": 1.0,
        }

    def kill(self, body: dict) -> dict:
        killed, missing = [], []
        for cursor in map(as_int, body.get("cursors", [])):
            if self.close(cursor):
                killed.append(Int64(cursor))
            else:
                missing.append(Int64(cursor))
        return {
            "cursorsKilled": killed,
            "cursorsNotFound": missing,
            "cursorsAlive": [],
            "cursorsUnknown": [],
            "ok": 1.0,
        }

    def close(self, cursor_id: int) -> bool:
        stream = self.streams.pop(cursor_id, None)
        if stream is None:
            return False
        stream.cursor.close()
        return True


# --- The executor around mongoeco's --------------------------------------------------------------


class OwnCommand:
    """A request the stand-in answers itself (looks enough like mongoeco's request context)."""

    def __init__(self, body: dict, db_name: str) -> None:
        self.body = body
        self.db_name = db_name
        self.command_name = next(iter(body))
        self.raw_body = body


def plain_ints(body: dict) -> dict:
    """`limit: Int64(20)` and the like, as the plain integers mongoeco accepts."""
    body = dict(body)
    for key in INT_OPTIONS:
        if key in body and not isinstance(body[key], (bool, float)):
            body[key] = as_int(body[key])
    cursor = body.get("cursor")
    if isinstance(cursor, dict) and "batchSize" in cursor:
        body["cursor"] = {**cursor, "batchSize": as_int(cursor["batchSize"])}
    return body


def int64_cursor_ids(result: dict) -> dict:
    cursor = result.get("cursor")
    if isinstance(cursor, dict) and isinstance(cursor.get("id"), int):
        cursor["id"] = Int64(cursor["id"])
    return result


class Executor:
    def __init__(self, inner, streams: ChangeStreams) -> None:
        self.inner = inner
        self.streams = streams

    def _build_request_context(self, body, *, connection, db_name=None, on_normalized=None):
        database = db_name or body.get("$db") or "admin"
        if self.streams.owns(body):
            return OwnCommand(body, database)
        return self.inner._build_request_context(
            plain_ints(body),
            connection=connection,
            db_name=db_name,
            on_normalized=on_normalized,
        )

    async def execute_prepared(self, context):
        if isinstance(context, OwnCommand):
            return await self.streams.execute(context.body, context.db_name)
        result = await self.inner.execute_prepared(context)
        return int64_cursor_ids(result)

    def error_document(self, exc: Exception) -> dict:
        return with_code(self.inner.error_document(exc))

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def serve(port: int, history: int, standalone: bool) -> None:
    install_not_expression()
    async with AsyncMongoClient(change_stream_history_size=history) as client:
        # One watcher for the server's life: every write goes into the history, as into an oplog.
        client._change_hub.register_watcher()
        describe_updates(client._change_hub)
        server = AsyncMongoEcoProxyServer(client=client, host="127.0.0.1", port=port)
        server._executor = Executor(server._executor, ChangeStreams(client, standalone))
        address = await server.start()
        print(f"listening on {address.port}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.buffer.read)
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--history", type=int, default=100_000, help="change events kept")
    parser.add_argument(
        "--standalone", action="store_true", help="refuse change streams, as a standalone mongod"
    )
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.history, args.standalone))


if __name__ == "__main__":
    main()
