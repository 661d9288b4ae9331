//! The `ws` function's Lambda entry point: API Gateway WebSocket events to `ws::handle`.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_runtime::{service_fn, LambdaEvent};
use shared::{apigw::Gateway, AppContext};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let ctx = AppContext::from_env().await.map_err(|err| {
        eprintln!("ws: refusing to start: {err}");
        err
    })?;
    let endpoint = ctx.config.apigw_ws_endpoint.clone().ok_or_else(|| {
        eprintln!("ws: refusing to start: APIGW_WS_ENDPOINT must be set");
        "APIGW_WS_ENDPOINT must be set"
    })?;
    let gateway = Gateway::from_environment(&endpoint).await;
    let (ctx, gateway) = (&ctx, &gateway);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            Ok::<_, lambda_runtime::Error>(ws::handle(ctx, gateway, event.payload).await)
        },
    ))
    .await
}
