//! The one Origin rule for socket handshakes (socket.io on both transports, API Gateway `$connect`):
//! no `Origin` (not a browser page) or the request's own origin passes; any other origin must be in
//! `ALLOWED_ORIGINS`.
//!
//! Sockets authenticate with a bearer token, never a cookie, so this check is not what keeps an
//! account safe: it stops a page on another site from opening a socket with a token it got hold
//! of. Clients outside browsers either send no `Origin` or (websocket-client, used by
//! python-socketio) the server's own address, which is the request's own origin.

use http::{header, HeaderMap};

use crate::config::Config;

/// Longest origin quoted back in a refusal (a header can be long; the reason stays readable).
const QUOTED_ORIGIN_MAX: usize = 200;

/// Where a handshake's own origin comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnOrigin {
    /// Served directly over plain HTTP: `http://` and the `Host` header.
    Direct,
    /// Behind a proxy that sets `X-Forwarded-Proto` (and may set `X-Forwarded-Host`): the
    /// template's load balancer, or API Gateway.
    Forwarded,
}

impl OwnOrigin {
    /// `Forwarded` when the process is told its proxy sets the forwarded headers
    /// (`TRUST_FORWARDED_HEADERS`), `Direct` otherwise.
    pub fn from_config(config: &Config) -> Self {
        if config.trust_forwarded_headers {
            Self::Forwarded
        } else {
            Self::Direct
        }
    }
}

/// A browser page on an origin that may not open sockets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Origin not allowed: {origin} (add it to ALLOWED_ORIGINS on the server)")]
pub struct OriginRefused {
    pub origin: String,
}

/// Admits a handshake by its `Origin` header, or says which origin was refused.
pub fn admit(config: &Config, headers: &HeaderMap, own: OwnOrigin) -> Result<(), OriginRefused> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes());
    let origin = origin.trim();
    if config.allows_origin(origin) {
        return Ok(());
    }
    let same_origin = request_origin(headers, own)
        .zip(normalized(origin))
        .is_some_and(|(own, theirs)| own == theirs);
    if same_origin {
        return Ok(());
    }
    Err(OriginRefused {
        origin: origin.chars().take(QUOTED_ORIGIN_MAX).collect(),
    })
}

/// The request's own origin (`scheme://host[:port]`, normalized), when its headers say it.
fn request_origin(headers: &HeaderMap, own: OwnOrigin) -> Option<String> {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            // A proxy that appends (`a, b`): the first is what the client asked for.
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let host = match own {
        OwnOrigin::Forwarded => value("x-forwarded-host").or_else(|| value(header::HOST.as_str())),
        OwnOrigin::Direct => value(header::HOST.as_str()),
    }?;
    let scheme = match own {
        OwnOrigin::Forwarded => value("x-forwarded-proto").unwrap_or("https"),
        OwnOrigin::Direct => "http",
    };
    normalized(&format!("{scheme}://{host}"))
}

/// `scheme://host[:port]` in lower case with the scheme's default port left out, or `None` for
/// anything that is not an http(s) origin.
fn normalized(origin: &str) -> Option<String> {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    if authority.is_empty() || !crate::config::is_plain_host(authority) {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(allowed: &str) -> Config {
        Config::from_lookup(|name| match name {
            "ALLOWED_ORIGINS" => Some(allowed.to_owned()),
            _ => None,
        })
        .expect("config")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn no_origin_is_not_a_browser_page() {
        let config = config("https://chat.example.com");
        assert_eq!(admit(&config, &headers(&[]), OwnOrigin::Direct), Ok(()));
    }

    #[test]
    fn the_request_s_own_origin_passes() {
        let config = config("https://chat.example.com");
        let own = headers(&[
            ("host", "127.0.0.1:3002"),
            ("origin", "http://127.0.0.1:3002"),
        ]);
        assert_eq!(admit(&config, &own, OwnOrigin::Direct), Ok(()));
        let other_port = headers(&[
            ("host", "127.0.0.1:3002"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(admit(&config, &other_port, OwnOrigin::Direct).is_err());
    }

    #[test]
    fn behind_a_proxy_the_forwarded_scheme_counts_and_default_ports_match() {
        let config = config("https://chat.example.com");
        let alb = headers(&[
            ("host", "rt.example.com"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://RT.example.com:443"),
        ]);
        assert_eq!(admit(&config, &alb, OwnOrigin::Forwarded), Ok(()));
        // Served directly, the same headers mean plain http: not the page's https origin.
        assert!(admit(&config, &alb, OwnOrigin::Direct).is_err());
        let forwarded_host = headers(&[
            ("host", "internal:3002"),
            ("x-forwarded-host", "rt.example.com"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://rt.example.com"),
        ]);
        assert_eq!(
            admit(&config, &forwarded_host, OwnOrigin::Forwarded),
            Ok(())
        );
        assert!(admit(&config, &forwarded_host, OwnOrigin::Direct).is_err());
    }

    #[test]
    fn listed_and_wildcard_origins_pass_and_a_refusal_names_origin_and_variable() {
        let listed = headers(&[
            ("host", "rt.example.com"),
            ("origin", "https://chat.example.com/"),
        ]);
        assert_eq!(
            admit(
                &config("https://chat.example.com"),
                &listed,
                OwnOrigin::Direct
            ),
            Ok(())
        );
        let foreign = headers(&[
            ("host", "rt.example.com"),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(admit(&config("*"), &foreign, OwnOrigin::Direct), Ok(()));
        let refused = admit(
            &config("https://chat.example.com"),
            &foreign,
            OwnOrigin::Direct,
        )
        .expect_err("foreign origin");
        let reason = refused.to_string();
        assert!(reason.contains("https://evil.example"), "{reason}");
        assert!(reason.contains("ALLOWED_ORIGINS"), "{reason}");
    }

    #[test]
    fn odd_origins_are_refused_not_matched() {
        let config = config("https://chat.example.com");
        for origin in ["null", "file://", "http://", "ftp://rt.example.com"] {
            let odd = headers(&[("host", "rt.example.com"), ("origin", origin)]);
            assert!(admit(&config, &odd, OwnOrigin::Direct).is_err(), "{origin}");
        }
    }
}
