//! The push sender: a feed job (`leased`) that turns each new message into pushes
//! (`service::push` decides who and what), claims each, and sends it on a task of its own, at most
//! `PUSH_CONCURRENCY` at once, so a slow push service holds up neither the feed nor other pushes.

use std::sync::Arc;

use shared::{
    metrics::{PUSH_DELIVERIES, PUSH_LAG},
    model::{Message, PushTarget},
    push::Sender,
    service::{jobs::PUSH_SENDER, push},
    store::Change,
    AppContext,
};
use tokio::sync::Semaphore;

use crate::leased::FeedJob;

pub struct PushJob {
    sender: Sender,
    in_flight: Arc<Semaphore>,
}

impl PushJob {
    pub fn new(ctx: &AppContext, sender: Sender) -> Self {
        Self {
            sender,
            in_flight: Arc::new(Semaphore::new(ctx.config.push.concurrency)),
        }
    }
}

fn kind_of(target: &PushTarget) -> &'static str {
    match target {
        PushTarget::WebPush { .. } => "webpush",
        PushTarget::WebhookToken { .. } => "webhook",
    }
}

fn counted(kind: &'static str, result: &'static str) {
    metrics::counter!(PUSH_DELIVERIES, "kind" => kind, "result" => result).increment(1);
}

impl FeedJob for PushJob {
    const NAME: &'static str = PUSH_SENDER;
    const LAG: &'static str = PUSH_LAG;

    async fn handle(&self, ctx: &AppContext, changes: &[&Change]) {
        let messages: Vec<&Message> = changes
            .iter()
            .filter_map(|change| match *change {
                Change::MessageCreated(message) => Some(message),
                _ => None,
            })
            .collect();
        if messages.is_empty() {
            return;
        }
        let pushes = match push::pushes_for(ctx, &messages, self.sender.has_webhook()).await {
            Ok(pushes) => pushes,
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell whom a message is pushed to");
                return;
            }
        };
        for push in pushes {
            let kind = kind_of(&push.subscription.target);
            match push::claim(ctx, &push).await {
                Ok(true) => {}
                Ok(false) => {
                    counted(kind, "repeat");
                    continue;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot record a push");
                    continue;
                }
            }
            let Ok(slot) = self.in_flight.clone().acquire_owned().await else {
                return;
            };
            let (ctx, sender) = (ctx.clone(), self.sender.clone());
            tokio::spawn(async move {
                let delivered = push::deliver(&ctx, &sender, &push).await;
                counted(kind, delivered.label());
                drop(slot);
            });
        }
    }
}
