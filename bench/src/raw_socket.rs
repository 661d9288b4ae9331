//! A minimal socket.io v4 client over one WebSocket (EIO=4): just enough to hold thousands of
//! authenticated connections and read events cheaply. The tests use a full client; this one exists so
//! the load generator is not the bottleneck.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    connect_async, tungstenite::Message as Frame, MaybeTlsStream, WebSocketStream,
};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `/chat` on the node at `port` with `token`; returns once the namespace is joined.
pub async fn connect(port: u16, token: &str) -> Result<Socket, String> {
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let (mut socket, _) = connect_async(url).await.map_err(|e| e.to_string())?;
    let open = next_text(&mut socket).await?;
    if !open.starts_with('0') {
        return Err(format!("unexpected engine.io open: {open}"));
    }
    let auth = serde_json::json!({ "token": token });
    socket
        .send(Frame::Text(format!("40/chat,{auth}")))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let reply = next_text(&mut socket).await?;
        if reply == "2" {
            socket
                .send(Frame::Text("3".into()))
                .await
                .map_err(|e| e.to_string())?;
        } else if reply.starts_with("40/chat") {
            return Ok(socket);
        } else if reply.starts_with("44/chat") {
            return Err(format!("refused: {reply}"));
        }
    }
}

async fn next_text(socket: &mut Socket) -> Result<String, String> {
    loop {
        match socket.next().await {
            Some(Ok(Frame::Text(text))) => return Ok(text),
            Some(Ok(_)) => continue,
            Some(Err(err)) => return Err(err.to_string()),
            None => return Err("closed".into()),
        }
    }
}

/// Reads the next `/chat` event as `(name, data)`, answering engine.io pings on the way.
pub async fn next_event(socket: &mut Socket) -> Result<(String, Value), String> {
    loop {
        let text = next_text(socket).await?;
        if text == "2" {
            socket
                .send(Frame::Text("3".into()))
                .await
                .map_err(|e| e.to_string())?;
            continue;
        }
        if let Some(body) = text.strip_prefix("42/chat,") {
            let parsed: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
            let name = parsed[0].as_str().unwrap_or_default().to_owned();
            return Ok((name, parsed[1].clone()));
        }
    }
}

/// Emits `event` with `data` on `/chat`.
pub async fn emit(socket: &mut Socket, event: &str, data: &Value) -> Result<(), String> {
    let frame = serde_json::json!([event, data]);
    socket
        .send(Frame::Text(format!("42/chat,{frame}")))
        .await
        .map_err(|e| e.to_string())
}
