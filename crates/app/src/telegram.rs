//! Telegram inboxes: deliveries to the bot's webhook (checked against the
//! inbox's secret token, applied through [`crate::updates`], a button
//! press answered with `answerCallbackQuery`), buyers' files fetched with
//! `getFile`, and the connection check, which also points the bot's
//! webhook at Ferry (`setWebhook` with the secret token). Sending goes
//! through the delivery engine with
//! `ferry_channels::telegram::TelegramOutbound`.

use crate::updates::{BatchOutcome, MediaFetch};
use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use ferry_channels::telegram::client::BotInfo;
use ferry_channels::telegram::{TelegramClient, TelegramSettings, webhook};
use ferry_channels::update::MediaRef;
use ferry_channels::{ChannelError, SendError, WebhookRequest};
use ferry_core::InboxId;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};

/// What the connection check found.
#[derive(Debug, Clone)]
pub struct TelegramCheck {
    /// The bot as `getMe` shows it, or what failed.
    pub bot: Result<BotInfo, String>,
    /// The webhook URL set with `setWebhook`, or what failed.
    pub webhook: Result<String, String>,
}

fn settings_of(inbox: &Inbox) -> AppResult<TelegramSettings> {
    TelegramSettings::of(inbox)
        .map_err(|e| AppError::invalid("config", e.to_string()))?
        .ok_or_else(|| AppError::invalid("config", "a Telegram inbox needs its settings under config.telegram"))
}

/// Checks the Telegram settings of an inbox being created or changed.
pub(crate) fn check_settings(config: &InboxConfig) -> AppResult<()> {
    TelegramSettings::from_config(config)
        .map_err(|e| match e {
            ChannelError::Invalid { field, message } => AppError::invalid(field, message),
            other => AppError::invalid("config", other.to_string()),
        })?
        .ok_or_else(|| AppError::invalid("config", "a Telegram inbox needs its settings under config.telegram"))?;
    Ok(())
}

struct TelegramFiles<'a> {
    client: &'a TelegramClient,
}

#[async_trait]
impl MediaFetch for TelegramFiles<'_> {
    async fn fetch(&self, media: &MediaRef) -> Result<(Vec<u8>, String), SendError> {
        let (bytes, served) = self.client.fetch_file(&media.media_id).await?;
        // Telegram serves most files as `application/octet-stream`: the
        // type the update declared says more.
        let content_type =
            if served.is_empty() || served == "application/octet-stream" { media.content_type.clone() } else { served };
        Ok((bytes, content_type))
    }
}

impl App {
    async fn telegram_inbox(&self, inbox_id: InboxId) -> AppResult<std::sync::Arc<Inbox>> {
        let inbox = self.webhook_inbox(inbox_id).await?;
        if inbox.channel != ChannelKind::Telegram {
            return Err(AppError::NotFound("inbox"));
        }
        Ok(inbox)
    }

    /// The URL Telegram posts the updates of `inbox` to.
    pub fn telegram_webhook_url(&self, inbox: InboxId) -> String {
        format!("{}/webhooks/telegram/{inbox}", self.config.public_url.trim_end_matches('/'))
    }

    /// A delivery to a Telegram inbox's webhook: its secret token checked,
    /// the update committed before it is acknowledged (a re-delivery
    /// changes nothing), and a button press answered so the buyer's app
    /// stops waiting.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox_id))]
    pub async fn ingest_telegram(&self, inbox_id: InboxId, request: &WebhookRequest<'_>) -> AppResult<BatchOutcome> {
        let inbox = self.telegram_inbox(inbox_id).await?;
        let settings = settings_of(&inbox)?;
        webhook::verify_secret(&settings, request).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            other => AppError::invalid("secret_token", other.to_string()),
        })?;
        let delivery = webhook::parse(&inbox, request.body, self.clock.now()).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            ChannelError::Malformed(m) => AppError::Malformed(m),
            ChannelError::Invalid { field, message } => AppError::invalid(field, message),
        })?;
        let client = TelegramClient::new(self.http.clone(), &settings);
        let outcome = self.apply_updates(&inbox, delivery.batch, &TelegramFiles { client: &client }).await?;
        if let Some(id) = delivery.callback_query_id {
            // The press is stored; a lost answer only leaves the button
            // spinning a while in the buyer's app.
            if let Err(e) = client.answer_callback_query(&id).await {
                tracing::warn!(error = %e, update_id = delivery.update_id, "answerCallbackQuery failed");
            }
        }
        Ok(outcome)
    }

    /// Checks a Telegram inbox against the Bot API (`getMe`) and points the
    /// bot's webhook at Ferry with the inbox's secret token
    /// (`setWebhook`).
    pub async fn check_telegram(&self, inbox: &Inbox) -> AppResult<TelegramCheck> {
        let settings = settings_of(inbox)?;
        let client = TelegramClient::new(self.http.clone(), &settings);
        let bot = client.get_me().await.map_err(|e| e.to_string());
        let webhook = if bot.is_ok() {
            let url = self.telegram_webhook_url(inbox.id);
            client.set_webhook(&url, settings.secret_token.expose()).await.map(|()| url).map_err(|e| e.to_string())
        } else {
            Err("the bot token was not accepted".to_owned())
        };
        Ok(TelegramCheck { bot, webhook })
    }
}
