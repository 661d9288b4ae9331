//! The serverless WebSocket path: pushes events to API Gateway WebSocket connections with
//! `PostToConnection` (aws-sdk-apigatewaymanagement). Frames are `{"event": <seed event name>,
//! "data": <the same payload socket.io clients get>}`.

use aws_sdk_apigatewaymanagement::{
    config::{Credentials, Region},
    primitives::Blob,
    Client,
};
use serde::Serialize;
use serde_json::json;

const DEFAULT_REGION: &str = "us-east-1";

#[derive(Clone)]
pub struct Gateway {
    client: Client,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// 410: the client is gone; forget the connection.
    Gone,
}

impl Gateway {
    /// Credentials and region from the environment (the Lambda or ECS task role).
    pub async fn from_environment(endpoint: &str) -> Self {
        let shared = aws_config::load_from_env().await;
        let region = shared
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new(DEFAULT_REGION));
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(&shared)
            .endpoint_url(endpoint)
            .region(region)
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// Fixed credentials (tests, or a gateway emulator).
    pub fn with_credentials(endpoint: &str, key: &str, secret: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::new()
            .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(DEFAULT_REGION))
            .credentials_provider(Credentials::new(key, secret, None, None, "static"))
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// Closes a connection (DeleteConnection); one that is already gone counts as closed.
    pub async fn disconnect(&self, connection_id: &str) -> Result<(), String> {
        let deleted = self
            .client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|raw| raw.status().as_u16() == 410) =>
            {
                Ok(())
            }
            Err(err) => Err(format!("{err:?}")),
        }
    }

    pub async fn post(
        &self,
        connection_id: &str,
        event: &str,
        data: &impl Serialize,
    ) -> Result<Delivery, String> {
        let frame = serde_json::to_vec(&json!({ "event": event, "data": data }))
            .map_err(|err| err.to_string())?;
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Delivery::Sent),
            Err(err) => {
                let gone = err
                    .as_service_error()
                    .is_some_and(|service| service.is_gone_exception())
                    || err
                        .raw_response()
                        .is_some_and(|raw| raw.status().as_u16() == 410);
                if gone {
                    Ok(Delivery::Gone)
                } else {
                    Err(format!("{err:?}"))
                }
            }
        }
    }
}
