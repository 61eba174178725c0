//! Messenger and Instagram inboxes: Meta's subscription handshake, signed
//! deliveries (applied through [`crate::updates`]: buyers' messages with
//! their files fetched from Meta's CDN, echoes of what the page sent
//! elsewhere, reactions, unsent messages, delivery and read reports), and
//! the connection check, which also subscribes Ferry's app to the page.
//! Sending goes through the delivery engine with
//! `ferry_channels::meta::MetaOutbound`, within the reply windows the
//! compliance gate enforces first.

use crate::updates::{BatchOutcome, MediaFetch};
use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use ferry_channels::meta::{MetaClient, MetaSettings, webhook};
use ferry_channels::update::{Batch, MediaRef, Update};
use ferry_channels::{ChannelError, SendError, WebhookRequest};
use ferry_core::InboxId;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};

/// Buyers' profiles read for one delivery at most.
const MAX_PROFILE_LOOKUPS: usize = 10;

/// What the connection check found.
#[derive(Debug, Clone)]
pub struct MetaCheck {
    /// The page's name or the account's `@username`, or what failed.
    pub page: Result<String, String>,
    /// Whether Ferry's app is subscribed to the page's messages, or what
    /// failed.
    pub subscribed: Result<(), String>,
    /// The URL to give Meta as the webhook's callback.
    pub webhook_url: String,
}

fn invalid(e: ChannelError) -> AppError {
    match e {
        ChannelError::Invalid { field, message } => AppError::invalid(field, message),
        other => AppError::invalid("config", other.to_string()),
    }
}

fn settings_of(inbox: &Inbox) -> AppResult<MetaSettings> {
    MetaSettings::of(inbox).map_err(invalid)?.ok_or_else(|| {
        let name = ferry_channels::meta::settings::section(inbox.channel);
        AppError::invalid("config", format!("this inbox needs its settings under config.{name}"))
    })
}

/// Checks the settings of a Messenger or Instagram inbox being created or
/// changed.
pub(crate) fn check_settings(channel: ChannelKind, config: &InboxConfig) -> AppResult<()> {
    MetaSettings::from_config(channel, config).map_err(invalid)?.ok_or_else(|| {
        let name = ferry_channels::meta::settings::section(channel);
        AppError::invalid("config", format!("this inbox needs its settings under config.{name}"))
    })?;
    Ok(())
}

struct CdnFiles<'a> {
    client: &'a MetaClient,
}

#[async_trait]
impl MediaFetch for CdnFiles<'_> {
    async fn fetch(&self, media: &MediaRef) -> Result<(Vec<u8>, String), SendError> {
        let url = media.url.as_deref().ok_or_else(|| SendError::Permanent("the file has no link".into()))?;
        let (bytes, served) = self.client.fetch(url).await?;
        let content_type =
            if served.is_empty() || served == "application/octet-stream" { media.content_type.clone() } else { served };
        Ok((bytes, content_type))
    }
}

impl App {
    async fn meta_inbox(&self, inbox_id: InboxId, channel: ChannelKind) -> AppResult<std::sync::Arc<Inbox>> {
        let inbox = self.webhook_inbox(inbox_id).await?;
        if inbox.channel != channel {
            return Err(AppError::NotFound("inbox"));
        }
        Ok(inbox)
    }

    /// The URL Meta posts the deliveries of `inbox` to.
    pub fn meta_webhook_url(&self, inbox: &Inbox) -> String {
        let path = if inbox.channel == ChannelKind::Instagram { "instagram" } else { "messenger" };
        format!("{}/webhooks/{path}/{}", self.config.public_url.trim_end_matches('/'), inbox.id)
    }

    /// Meta's subscription handshake for a Messenger or Instagram inbox:
    /// the challenge, echoed when the verify token is the inbox's.
    pub async fn meta_challenge(
        &self,
        channel: ChannelKind,
        inbox_id: InboxId,
        mode: Option<&str>,
        verify_token: Option<&str>,
        challenge: Option<&str>,
    ) -> AppResult<String> {
        let inbox = self.meta_inbox(inbox_id, channel).await?;
        let settings = settings_of(&inbox)?;
        webhook::verify_challenge(&settings, mode, verify_token, challenge).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Forbidden(m),
            other => AppError::invalid("hub.challenge", other.to_string()),
        })
    }

    /// A signed delivery to a Messenger or Instagram inbox's webhook:
    /// verified, read and every event in it committed before it is
    /// acknowledged (a re-delivery changes nothing).
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox_id, channel = %channel))]
    pub async fn ingest_meta(
        &self,
        channel: ChannelKind,
        inbox_id: InboxId,
        request: &WebhookRequest<'_>,
    ) -> AppResult<BatchOutcome> {
        let inbox = self.meta_inbox(inbox_id, channel).await?;
        let settings = settings_of(&inbox)?;
        webhook::verify_signature(&settings, request).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            other => AppError::invalid("signature", other.to_string()),
        })?;
        let batch = webhook::parse(&inbox, &settings, request.body, self.clock.now()).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            ChannelError::Malformed(m) => AppError::Malformed(m),
            ChannelError::Invalid { field, message } => AppError::invalid(field, message),
        })?;
        let client = MetaClient::new(self.http.clone(), &settings);
        let mut batch = batch;
        self.name_new_buyers(&inbox, &client, &mut batch).await?;
        self.apply_updates(&inbox, batch, &CdnFiles { client: &client }).await
    }

    /// Webhooks carry only a buyer's id: a buyer Ferry does not know yet is
    /// named from the platform's profile (once; a profile that cannot be
    /// read leaves the contact nameless rather than holding up the
    /// message).
    async fn name_new_buyers(&self, inbox: &Inbox, client: &MetaClient, batch: &mut Batch) -> AppResult<()> {
        let mut asked = std::collections::HashMap::<String, Option<String>>::new();
        for update in &mut batch.updates {
            let Update::Message(m) = update else { continue };
            let sender = &mut m.inbound.sender;
            if sender.name.is_some() {
                continue;
            }
            let id = sender.identity.value.clone();
            if let Some(known) = asked.get(&id) {
                sender.name = known.clone();
                continue;
            }
            if asked.len() >= MAX_PROFILE_LOOKUPS
                || self.storage.find_contact_by_identity(inbox.account_id, &sender.identity).await?.is_some()
            {
                asked.insert(id, None);
                continue;
            }
            let name = match client.buyer_name(&id).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::info!(error = %e, "a buyer's profile could not be read");
                    None
                }
            };
            sender.name = name.clone();
            asked.insert(id, name);
        }
        Ok(())
    }

    /// Checks a Messenger or Instagram inbox against the Graph API (the
    /// page's or account's name, which proves the token) and subscribes
    /// Ferry's app to the page's messaging events.
    pub async fn check_meta(&self, inbox: &Inbox) -> AppResult<MetaCheck> {
        let settings = settings_of(inbox)?;
        let client = MetaClient::new(self.http.clone(), &settings);
        let page = client.page().await.map(|p| p.name).map_err(|e| e.to_string());
        let subscribed = if page.is_ok() {
            client.subscribe().await.map_err(|e| e.to_string())
        } else {
            Err("the page access token was not accepted".to_owned())
        };
        Ok(MetaCheck { page, subscribed, webhook_url: self.meta_webhook_url(inbox) })
    }
}
