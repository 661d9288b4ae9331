//! A real socket.io v4 client (rust_socketio) that records every event it receives, so tests can
//! wait for what a client would see.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use rust_socketio::{
    asynchronous::{Client, ClientBuilder},
    Event, Payload,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

type Log = Arc<Mutex<Vec<(String, Value)>>>;

pub struct SocketClient {
    client: Client,
    log: Log,
}

fn payload_value(payload: Payload) -> Value {
    #[allow(deprecated)]
    match payload {
        Payload::Text(mut values) if !values.is_empty() => values.remove(0),
        Payload::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        _ => Value::Null,
    }
}

fn record(log: &Log, name: &str, payload: Payload) {
    let value = payload_value(payload);
    if let Ok(mut log) = log.lock() {
        log.push((name.to_owned(), value));
    }
}

/// Connects to `/chat` at `base` with `auth: {token}`. `Err` carries the server's refusal.
pub async fn connect(base: &str, token: Option<&str>) -> Result<SocketClient, String> {
    connect_with_headers(base, token, &[]).await
}

/// The same, sending `headers` with the opening request (a browser's `Origin`, say).
pub async fn connect_with_headers(
    base: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<SocketClient, String> {
    let log: Log = Arc::default();
    let mut builder = ClientBuilder::new(base).namespace("/chat").reconnect(false);
    for (name, value) in headers {
        builder = builder.opening_header(*name, *value);
    }
    if let Some(token) = token {
        builder = builder.auth(serde_json::json!({ "token": token }));
    }
    let (any_log, error_log, connect_log) = (log.clone(), log.clone(), log.clone());
    let close_log = log.clone();
    builder = builder
        .on_any(move |event: Event, payload, _| {
            record(&any_log, &String::from(event), payload);
            async {}.boxed()
        })
        .on(Event::Error, move |payload, _| {
            record(&error_log, "error", payload);
            async {}.boxed()
        })
        .on(Event::Connect, move |payload, _| {
            record(&connect_log, "connect", payload);
            async {}.boxed()
        })
        // The server closed this socket (recorded as "close").
        .on(Event::Close, move |payload, _| {
            record(&close_log, "close", payload);
            async {}.boxed()
        });
    let client = builder.connect().await.map_err(|err| err.to_string())?;
    let socket = SocketClient { client, log };
    let outcome = socket
        .wait_for(|name, _| name == "connect" || name == "error")
        .await;
    match outcome {
        Some((name, _)) if name == "connect" => Ok(socket),
        Some((_, refusal)) => {
            let _ = socket.client.disconnect().await;
            Err(refusal.to_string())
        }
        None => Err("no answer to the handshake".into()),
    }
}

impl SocketClient {
    async fn wait_for(&self, matches: impl Fn(&str, &Value) -> bool) -> Option<(String, Value)> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(log) = self.log.lock() {
                if let Some(found) = log.iter().find(|(name, value)| matches(name, value)) {
                    return Some(found.clone());
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for `event` whose payload satisfies `matches`; fails the test after 15 s.
    pub async fn expect(&self, event: &str, matches: impl Fn(&Value) -> bool) -> Value {
        match self
            .wait_for(|name, value| name == event && matches(value))
            .await
        {
            Some((_, value)) => value,
            None => panic!("no {event} arrived; got {:?}", self.events()),
        }
    }

    /// Asserts that no `event` satisfying `matches` arrives within `window`.
    pub async fn expect_none(
        &self,
        event: &str,
        window: Duration,
        matches: impl Fn(&Value) -> bool,
    ) {
        tokio::time::sleep(window).await;
        let log = self.events();
        let hit = log
            .iter()
            .find(|(name, value)| name == event && matches(value));
        assert!(hit.is_none(), "unexpected {event}: {hit:?}");
    }

    pub fn events(&self) -> Vec<(String, Value)> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// How many `event`s satisfying `matches` arrived so far.
    pub fn count(&self, event: &str, matches: impl Fn(&Value) -> bool) -> usize {
        self.events()
            .iter()
            .filter(|(name, value)| name == event && matches(value))
            .count()
    }

    pub async fn emit(&self, event: &str, data: Value) {
        self.client.emit(event, data).await.expect("emit");
    }

    /// Emits and waits for the socket.io acknowledgement.
    pub async fn emit_ack(&self, event: &str, data: Value) -> Value {
        let slot: Arc<Mutex<Option<Value>>> = Arc::default();
        let sink = slot.clone();
        self.client
            .emit_with_ack(event, data, WAIT, move |payload, _| {
                // rust_socketio hands an ack over as the list of its arguments.
                let value = match payload_value(payload) {
                    Value::Array(mut args) if args.len() == 1 => args.remove(0),
                    other => other,
                };
                if let Ok(mut slot) = sink.lock() {
                    *slot = Some(value);
                }
                async {}.boxed()
            })
            .await
            .expect("emit with ack");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(value) = slot.lock().ok().and_then(|mut slot| slot.take()) {
                return value;
            }
            assert!(Instant::now() < deadline, "no ack for {event}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}
