//! The demo's WhatsApp inbox: its Graph API is the sandbox's stand-in,
//! started afresh by every run of the demo (so each start points the inbox
//! and the stand-in's webhook at each other), with Meta's status reports
//! switched on. Seeded with a conversation inside the 24-hour window and
//! one outside it, where only a template can go.

use anyhow::Context;
use chrono::{Duration, Utc};
use ferry_app::auth::Actor;
use ferry_app::{App, NewInboxInput};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, InboxId};
use ferry_sandbox::whatsapp::FakeGraph;
use serde::{Deserialize, Serialize};

/// The demo WhatsApp inbox, as `demo.json` keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhatsAppInbox {
    /// Its id.
    pub id: i64,
    /// The Meta app secret the stand-in signs webhooks with.
    pub app_secret: String,
    /// The webhook verify token.
    pub verify_token: String,
}

/// (WhatsApp id, name, language, hours ago, lines).
type SeedChat = (&'static str, &'static str, &'static str, i64, &'static [&'static str]);

const CHATS: &[SeedChat] = &[
    (
        "5215512345678",
        "Carlos Méndez",
        "es",
        2,
        &["Hola, compré una mochila la semana pasada.", "¿Dónde está mi pedido #1004? No tengo número de seguimiento."],
    ),
    ("919812345678", "Priya Sharma", "en", 30, &["Hi, can I still change the size of my order to L?"]),
    ("33612345678", "Camille Laurent", "fr", 1, &["Bonjour ! Le colis est arrivé abîmé, je peux le retourner ?"]),
];

fn settings(fake: &FakeGraph, inbox: &WhatsAppInbox) -> serde_json::Value {
    let mut s = fake.settings(&inbox.verify_token);
    s["app_secret"] = serde_json::json!(inbox.app_secret);
    s
}

fn random_hex() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the WhatsApp inbox with its conversations, the bot off while
/// seeding (the seeded buyers wait for people) and on afterwards.
pub async fn seed(app: &App, owner: &Actor, account: AccountId, fake: &FakeGraph) -> anyhow::Result<WhatsAppInbox> {
    let mut info = WhatsAppInbox { id: 0, app_secret: random_hex(), verify_token: random_hex() };
    let mut config = InboxConfig::default();
    config.extra.insert("whatsapp".into(), settings(fake, &info));
    let inbox = app
        .create_inbox(owner, account, NewInboxInput { name: "WhatsApp".into(), channel: ChannelKind::Whatsapp, config })
        .await
        .context("creating the WhatsApp inbox")?;
    info.id = inbox.id.0;
    let now = Utc::now();
    for (n, (wa_id, name, language, hours, lines)) in CHATS.iter().enumerate() {
        for (k, text) in lines.iter().enumerate() {
            let inbound = Inbound {
                account_id: account,
                inbox_id: inbox.id,
                external_id: format!("wamid.demo-{n}-{k}"),
                sender: InboundSender {
                    identity: Identity::new(IdentityKind::Whatsapp, wa_id, None)?,
                    // WhatsApp ids are not always dialable numbers (Mexico's
                    // keep a mobile `1`): the phone identity only when valid.
                    extra_identities: Identity::new(IdentityKind::Phone, &format!("+{wa_id}"), None)
                        .into_iter()
                        .collect(),
                    name: Some((*name).into()),
                    language: Some((*language).into()),
                },
                parts: vec![ContentPart::Text { text: (*text).into() }],
                sent_at: now - Duration::hours(*hours) + Duration::minutes(k as i64),
                meta: Default::default(),
            };
            app.ingest(&inbox, inbound).await?;
        }
    }
    let mut config = inbox.config.clone();
    config.bot_enabled = true;
    app.update_inbox(owner, account, inbox.id, None, Some(config)).await?;
    Ok(info)
}

/// Points the inbox at this run's stand-in, and the stand-in's webhook
/// (with its status reports) at the inbox.
pub async fn use_fake(
    app: &App,
    owner: &Actor,
    account: AccountId,
    inbox: &WhatsAppInbox,
    fake: &FakeGraph,
    public_url: &str,
) -> anyhow::Result<()> {
    let current = app.get_inbox(owner, account, InboxId(inbox.id)).await?;
    let mut config = current.config.clone();
    config.extra.insert("whatsapp".into(), settings(fake, inbox));
    app.update_inbox(owner, account, current.id, None, Some(config)).await?;
    fake.set_webhook(&format!("{public_url}/webhooks/whatsapp/{}", inbox.id), &inbox.app_secret);
    fake.auto_status(true, std::time::Duration::from_millis(500));
    app.sync_whatsapp_templates(owner, account, current.id).await.context("syncing the WhatsApp templates")?;
    Ok(())
}
