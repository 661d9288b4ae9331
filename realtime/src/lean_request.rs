//! socketioxide keeps each connection's HTTP request parts (headers, URI) for the socket's whole
//! life. hyper parses them as slices of the connection's read buffer, so those few hundred bytes
//! would keep the whole buffer (8–16 KiB) alive per socket: ~17 KB of every idle connection, the
//! largest item of the heap profile at 10k sockets (README, *Benchmarks*). This layer copies the
//! head into allocations of its own size before socketioxide sees it, and the buffer is freed.

use axum::{
    extract::{OriginalUri, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Uri},
};

/// The request with its URI and headers copied out of hyper's read buffer.
pub async fn detach_head(request: Request) -> Request {
    let (mut parts, body) = request.into_parts();
    parts.headers = copy_headers(&parts.headers);
    if let Ok(uri) = Uri::try_from(parts.uri.to_string()) {
        parts.uri = uri;
    }
    // The router's copy of the URI (a clone shares the buffer too).
    if parts.extensions.get::<OriginalUri>().is_some() {
        parts.extensions.insert(OriginalUri(parts.uri.clone()));
    }
    Request::from_parts(parts, body)
}

fn copy_headers(headers: &HeaderMap) -> HeaderMap {
    let mut copy = HeaderMap::with_capacity(headers.len());
    for (name, original) in headers {
        let name = HeaderName::from_bytes(name.as_str().as_bytes());
        let value = HeaderValue::from_bytes(original.as_bytes());
        if let (Ok(name), Ok(mut value)) = (name, value) {
            value.set_sensitive(original.is_sensitive());
            copy.append(name, value);
        }
    }
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_copy_keeps_every_header_and_the_uri() {
        let request = Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket")
            .header("authorization", "Bearer abc")
            .header("x-custom", "1")
            .header("x-custom", "2")
            .body(axum::body::Body::empty())
            .unwrap();
        let copied = detach_head(request).await;
        assert_eq!(copied.uri(), "/socket.io/?EIO=4&transport=websocket");
        assert_eq!(copied.headers()["authorization"], "Bearer abc");
        assert_eq!(copied.headers().get_all("x-custom").iter().count(), 2);
    }
}
