//! The local object storage's HTTP face, mounted on the realtime node under `/files`: a signed
//! `PUT` stores exactly the declared bytes, a signed `GET` serves them with the granted type and
//! disposition, `nosniff` and a sandboxing CSP (so an uploaded page can never run script here).

use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::put,
    Router,
};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::{Access, GrantError, LocalObjects};
use crate::error::AppError;

/// Where the routes live; `ATTACHMENTS_PUBLIC_URL` names this path on the node.
pub const ROUTE_PREFIX: &str = "/files";

/// `PUT` and `GET /files/{key}` for signed URLs of `objects`, refusals in the API's error shape.
pub fn router(objects: LocalObjects) -> Router {
    Router::new()
        .route(
            &format!("{ROUTE_PREFIX}/{{*key}}"),
            put(upload).get(download),
        )
        .with_state(objects)
        .layer(axum::middleware::from_fn(
            crate::http::error_shape::error_shape,
        ))
}

fn refused(err: GrantError) -> AppError {
    AppError::Forbidden(err.to_string())
}

async fn upload(
    State(objects): State<LocalObjects>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, AppError> {
    let grant = objects.verify(Access::Put, &key, &query).map_err(refused)?;
    let sent_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if sent_type != grant.content_type {
        return Err(AppError::BadRequest(format!(
            "Content-Type must be {} (as declared)",
            grant.content_type
        )));
    }
    let size: u64 = grant
        .detail
        .parse()
        .map_err(|_| refused(GrantError::Invalid))?;
    let path = objects
        .path(&key)
        .map_err(|_| refused(GrantError::Invalid))?;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|err| AppError::internal(format!("cannot create {}: {err}", dir.display())))?;
    }
    let staged = LocalObjects::staging_path(&path);
    let written = write_exactly(&staged, body, size).await;
    if let Err(err) = written {
        let _ = tokio::fs::remove_file(&staged).await;
        return Err(err);
    }
    objects
        .commit_upload(&key, &staged, &grant.content_type, size)
        .await
        .map_err(|err| AppError::internal(err.to_string()))?;
    Ok(StatusCode::OK)
}

/// Streams `body` into `path`, refusing it as soon as it passes `size` bytes or when it ends short.
async fn write_exactly(path: &std::path::Path, body: Body, size: u64) -> Result<(), AppError> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|err| AppError::internal(format!("cannot write an upload: {err}")))?;
    let mut stream = body.into_data_stream();
    let mut received: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::bad_request("the upload was interrupted"))?;
        received += chunk.len() as u64;
        if received > size {
            return Err(AppError::bad_request(format!(
                "the upload is larger than the declared {size} bytes"
            )));
        }
        file.write_all(&chunk)
            .await
            .map_err(|err| AppError::internal(format!("cannot write an upload: {err}")))?;
    }
    if received != size {
        return Err(AppError::bad_request(format!(
            "the upload has {received} bytes, not the declared {size}"
        )));
    }
    file.flush()
        .await
        .map_err(|err| AppError::internal(format!("cannot write an upload: {err}")))
}

async fn download(
    State(objects): State<LocalObjects>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let grant = objects.verify(Access::Get, &key, &query).map_err(refused)?;
    let path = objects
        .path(&key)
        .map_err(|_| refused(GrantError::Invalid))?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::not_found("Attachment not found"))
        }
        Err(err) => return Err(AppError::internal(format!("cannot read an object: {err}"))),
    };
    let header_value =
        |text: &str| HeaderValue::from_str(text).map_err(|_| refused(GrantError::Invalid));
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header_value(&grant.content_type)?);
    headers.insert(header::CONTENT_DISPOSITION, header_value(&grant.detail)?);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}
