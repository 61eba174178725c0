//! SMS inboxes through a provider speaking Twilio's Messages API: the
//! webhook (a buyer's SMS or MMS, or a status callback of a message Ferry
//! sent; refused unless `X-Twilio-Signature` signs the URL and
//! parameters), the MMS files fetched with the inbox's credentials, the
//! STOP / START keywords kept as the contact's opt-out of the SMS channel
//! (which the compliance gate enforces for every sender), and the
//! connection check. Sending goes through the delivery engine with
//! `ferry_channels::sms_inbox::SmsOutbound`.

use crate::updates::{BatchOutcome, MediaFetch};
use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use ferry_channels::sms_inbox::{self, Keyword, SmsSettings};
use ferry_channels::update::MediaRef;
use ferry_channels::{ChannelError, SendError, WebhookRequest};
use ferry_core::InboxId;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_storage::ChannelOptOut;

/// Largest MMS file fetched.
const MAX_MEDIA_BYTES: usize = 10 * 1024 * 1024;

/// What the connection check found.
#[derive(Debug, Clone)]
pub struct SmsCheck {
    /// The account's name at the provider, or what failed.
    pub account: Result<String, String>,
    /// The URL the provider must post to.
    pub webhook_url: String,
}

fn settings_of(inbox: &Inbox) -> AppResult<SmsSettings> {
    SmsSettings::of(inbox)
        .map_err(|e| AppError::invalid("config", e.to_string()))?
        .ok_or_else(|| AppError::invalid("config", "an SMS inbox needs its settings under config.sms"))
}

/// Checks the SMS settings of an inbox being created or changed.
pub(crate) fn check_settings(config: &InboxConfig) -> AppResult<()> {
    SmsSettings::from_config(config)
        .map_err(|e| match e {
            ChannelError::Invalid { field, message } => AppError::invalid(field, message),
            other => AppError::invalid("config", other.to_string()),
        })?
        .ok_or_else(|| AppError::invalid("config", "an SMS inbox needs its settings under config.sms"))?;
    Ok(())
}

struct SmsMedia<'a> {
    http: &'a reqwest::Client,
    settings: &'a SmsSettings,
}

#[async_trait]
impl MediaFetch for SmsMedia<'_> {
    async fn fetch(&self, media: &MediaRef) -> Result<(Vec<u8>, String), SendError> {
        let url = media.url.as_deref().unwrap_or(&media.media_id);
        let resp = self
            .http
            .get(url)
            .basic_auth(&self.settings.account_sid, Some(self.settings.auth_token.expose()))
            .send()
            .await
            .map_err(|e| SendError::Retryable(format!("the MMS file is unreachable: {}", e.without_url())))?;
        let status = resp.status();
        if !status.is_success() {
            let m = format!("the MMS file answered {status}");
            return Err(if status.is_server_error() { SendError::Retryable(m) } else { SendError::Permanent(m) });
        }
        let served = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .filter(|v| v.contains('/') && v != "application/octet-stream");
        let bytes = resp.bytes().await.map_err(|e| SendError::Retryable(format!("the MMS download broke: {e}")))?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(SendError::Permanent("the MMS file is larger than 10 MB".into()));
        }
        Ok((bytes.to_vec(), served.unwrap_or_else(|| media.content_type.clone())))
    }
}

impl App {
    async fn sms_inbox(&self, inbox_id: InboxId) -> AppResult<std::sync::Arc<Inbox>> {
        let inbox = self.webhook_inbox(inbox_id).await?;
        if inbox.channel != ChannelKind::Sms {
            return Err(AppError::NotFound("inbox"));
        }
        Ok(inbox)
    }

    /// The URL the provider posts an SMS inbox's messages and status
    /// callbacks to (what its signature covers): the inbox's
    /// `webhook_url`, else Ferry's own.
    pub fn sms_webhook_url(&self, inbox: &Inbox) -> String {
        SmsSettings::of(inbox)
            .ok()
            .flatten()
            .and_then(|s| s.webhook_url)
            .unwrap_or_else(|| format!("{}/webhooks/sms/{}", self.config.public_url.trim_end_matches('/'), inbox.id))
    }

    /// A delivery to an SMS inbox's webhook: signature checked, then the
    /// buyer's message (its MMS files fetched and stored first) or the
    /// status report committed before it is acknowledged; a re-delivery
    /// (same `MessageSid`) changes nothing. STOP and START change the
    /// buyer's opt-out of SMS.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox_id))]
    pub async fn ingest_sms(&self, inbox_id: InboxId, request: &WebhookRequest<'_>) -> AppResult<BatchOutcome> {
        let inbox = self.sms_inbox(inbox_id).await?;
        let settings = settings_of(&inbox)?;
        let url = self.sms_webhook_url(&inbox);
        sms_inbox::verify_signature(&settings, &url, request).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            other => AppError::invalid("signature", other.to_string()),
        })?;
        let params = sms_inbox::form(request.body);
        let delivery = sms_inbox::parse(&inbox, &params, self.clock.now()).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            ChannelError::Malformed(m) => AppError::Malformed(m),
            ChannelError::Invalid { field, message } => AppError::invalid(field, message),
        })?;
        let from = params.iter().find(|(n, _)| n == "From").map(|(_, v)| v.clone()).unwrap_or_default();
        let outcome =
            self.apply_updates(&inbox, delivery.batch, &SmsMedia { http: &self.http, settings: &settings }).await?;
        if let (Some(keyword @ (Keyword::Stop | Keyword::Start)), Some((_, _, contact))) =
            (delivery.keyword, outcome.last)
        {
            let opted_out = keyword == Keyword::Stop;
            let choice = ChannelOptOut {
                contact_id: contact,
                channel: ChannelKind::Sms,
                address: from,
                opted_out,
                keyword: params
                    .iter()
                    .find(|(n, _)| n == "Body")
                    .map(|(_, v)| v.trim().to_uppercase())
                    .unwrap_or_default(),
                updated_at: self.clock.now(),
            };
            self.storage.set_channel_opt_out(inbox.account_id, choice).await?;
            tracing::info!(opted_out, "a buyer changed their SMS opt-out");
        }
        Ok(outcome)
    }

    /// Checks an SMS inbox's account at the provider.
    pub async fn check_sms(&self, inbox: &Inbox) -> AppResult<SmsCheck> {
        let settings = settings_of(inbox)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}.json",
            settings.api_base,
            url::form_urlencoded::byte_serialize(settings.account_sid.as_bytes()).collect::<String>()
        );
        let account =
            match self.http.get(url).basic_auth(&settings.account_sid, Some(settings.auth_token.expose())).send().await
            {
                Err(e) => Err(format!("the SMS provider is unreachable: {}", e.without_url())),
                Ok(r) if r.status().is_success() => {
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    Ok(v["friendly_name"].as_str().unwrap_or_default().to_owned())
                }
                Ok(r) => {
                    let status = r.status();
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    Err(format!(
                        "the SMS provider answered {status}: {}",
                        v["message"].as_str().unwrap_or("the account sid or auth token is wrong")
                    ))
                }
            };
        Ok(SmsCheck { account, webhook_url: self.sms_webhook_url(inbox) })
    }
}

impl App {
    /// The encoding and segments of an SMS text, for the composer.
    pub fn sms_segments(
        &self,
        actor: &crate::auth::Actor,
        account: ferry_core::AccountId,
        text: &str,
    ) -> AppResult<ferry_core::compliance::channels::SmsSegmentInfo> {
        actor.in_account(account)?;
        if text.len() > 64 * 1024 {
            return Err(AppError::invalid("text", "the text is longer than 64 KB"));
        }
        Ok(ferry_core::compliance::channels::sms_segment_info(text))
    }
}
