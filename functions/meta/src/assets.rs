//! Files built into the binary (the web client, Swagger UI) and how they are answered: the large
//! ones are stored gzip-compressed and sent that way to clients that accept it (every browser),
//! decompressed here for the others.

use std::io::Read;

use axum::{
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use shared::AppError;

pub struct Asset {
    /// The path under its prefix (`""` is the index).
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// `bytes` is gzip-compressed.
    pub gzipped: bool,
}

/// The asset called `name`, or the API's 404 for `prefix/name`.
pub fn find<'a>(assets: &'a [Asset], prefix: &str, name: &str) -> Result<&'a Asset, AppError> {
    assets
        .iter()
        .find(|asset| asset.name == name)
        .ok_or_else(|| AppError::not_found(format!("Cannot GET {prefix}/{name}")))
}

impl Asset {
    /// 200 with the file and `extra` headers.
    pub fn respond(
        &self,
        request: &HeaderMap,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<Response, AppError> {
        let mut response = if !self.gzipped {
            (StatusCode::OK, self.bytes).into_response()
        } else if accepts_gzip(request) {
            let mut response = (StatusCode::OK, self.bytes).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        } else {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(self.bytes)
                .read_to_end(&mut plain)
                .map_err(AppError::internal)?;
            (StatusCode::OK, plain).into_response()
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if self.gzipped {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        Ok(response)
    }
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*`, without `q=0`).
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_take_it() {
        assert!(accepts_gzip(&with("gzip, deflate, br")));
        assert!(accepts_gzip(&with("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&with("*")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
