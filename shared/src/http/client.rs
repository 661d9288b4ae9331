//! Who is calling: the client address (from API Gateway's request context under Lambda, from the
//! socket locally) and user agent, read from a request. Used for rate limits, session records and
//! the request log.

use std::{convert::Infallible, net::SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{request::Parts, Extensions, HeaderMap},
};
use http::header::USER_AGENT;
use lambda_http::request::RequestContext;

const MAX_USER_AGENT: usize = 256;

pub use crate::model::ClientInfo;

impl ClientInfo {
    pub fn from_request(extensions: &Extensions, headers: &HeaderMap) -> Self {
        Self {
            ip: client_ip(extensions, headers),
            user_agent: headers
                .get(USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(|agent| agent.chars().take(MAX_USER_AGENT).collect()),
        }
    }
}

fn client_ip(extensions: &Extensions, headers: &HeaderMap) -> Option<String> {
    if let Some(context) = extensions.get::<RequestContext>() {
        return match context {
            RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
            RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
            // An ALB appends the peer it saw as the last X-Forwarded-For entry.
            RequestContext::Alb(_) => headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|list| list.rsplit(',').next())
                .map(|ip| ip.trim().to_owned()),
            #[allow(unreachable_patterns)]
            _ => None,
        };
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_request(&parts.extensions, &parts.headers))
    }
}
