//! The demo's Messenger and Instagram inboxes: one Facebook Page and its
//! Instagram account, whose Graph API is the sandbox's stand-in, started
//! afresh by every run (so each start points the inboxes and the
//! stand-in's webhooks at each other). The page has the Human Agent
//! permission, so agents may answer for 7 days. Seeded with a Messenger
//! buyer asking about a late order and an Instagram buyer replying to a
//! story.

use anyhow::Context;
use chrono::{Duration, Utc};
use ferry_app::auth::Actor;
use ferry_app::{App, NewInboxInput};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, InboxId};
use ferry_sandbox::meta_pages::FakePages;
use ferry_storage::ConversationFilter;
use serde::{Deserialize, Serialize};

/// The demo's Messenger and Instagram inboxes, as `demo.json` keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaInboxes {
    /// The Messenger inbox's id.
    pub messenger: i64,
    /// The Instagram inbox's id.
    pub instagram: i64,
    /// The webhooks' verify token.
    pub verify_token: String,
}

fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn config(fake: &FakePages, instagram: bool, verify_token: &str, bot: bool) -> InboxConfig {
    let mut config = InboxConfig { bot_enabled: bot, ..InboxConfig::default() };
    let name = if instagram { "instagram" } else { "messenger" };
    config.extra.insert(name.into(), fake.settings(instagram, verify_token, true));
    config
}

/// (platform, buyer id, name, language, hours ago, lines).
type SeedChat = (bool, &'static str, &'static str, &'static str, i64, &'static [&'static str]);

const CHATS: &[SeedChat] = &[
    (false, "7310000000000101", "Sofia Rossi", "it", 3, &["Ciao! Il mio ordine #1002 è in ritardo?"]),
    (
        true,
        "9000000000000202",
        "Mia Schneider",
        "de",
        1,
        &[
            "Replied to your story: https://www.instagram.com/stories/ferry.sandbox.shop/1",
            "Gibt es das Kleid auch in Größe S?",
        ],
    ),
];

/// Creates both inboxes with their first buyers, the bot off while
/// seeding (the seeded buyers wait for people) and on afterwards.
pub async fn seed(app: &App, owner: &Actor, account: AccountId, fake: &FakePages) -> anyhow::Result<MetaInboxes> {
    let verify_token = random_token();
    let mut inboxes = Vec::new();
    for (name, channel, instagram) in
        [("Messenger", ChannelKind::Messenger, false), ("Instagram", ChannelKind::Instagram, true)]
    {
        let inbox = app
            .create_inbox(
                owner,
                account,
                NewInboxInput { name: name.into(), channel, config: config(fake, instagram, &verify_token, false) },
            )
            .await
            .with_context(|| format!("creating the {name} inbox"))?;
        inboxes.push(inbox);
    }
    let now = Utc::now();
    for (n, (instagram, id, name, language, hours, lines)) in CHATS.iter().enumerate() {
        let inbox = &inboxes[usize::from(*instagram)];
        let kind = if *instagram { IdentityKind::Instagram } else { IdentityKind::Messenger };
        for (k, text) in lines.iter().enumerate() {
            let inbound = Inbound {
                account_id: account,
                inbox_id: inbox.id,
                external_id: format!("m_demo-{n}-{k}"),
                sender: InboundSender {
                    identity: Identity::new(kind, id, Some(inbox.id))?,
                    extra_identities: Vec::new(),
                    name: Some((*name).into()),
                    language: Some((*language).into()),
                },
                parts: vec![ContentPart::Text { text: (*text).into() }],
                sent_at: now - Duration::hours(*hours) + Duration::minutes(k as i64),
                meta: Default::default(),
            };
            app.ingest(inbox, inbound).await?;
        }
    }
    for (inbox, instagram) in inboxes.iter().zip([false, true]) {
        let config = config(fake, instagram, &verify_token, true);
        app.update_inbox(owner, account, inbox.id, None, Some(config)).await?;
    }
    Ok(MetaInboxes { messenger: inboxes[0].id.0, instagram: inboxes[1].id.0, verify_token })
}

/// Points both inboxes at this run's stand-in and its webhooks at them,
/// and tells the stand-in (which starts empty) which buyers wrote to the
/// page and when, so their reply windows hold across restarts.
pub async fn use_fake(
    app: &App,
    owner: &Actor,
    account: AccountId,
    inboxes: &MetaInboxes,
    fake: &FakePages,
    public_url: &str,
) -> anyhow::Result<()> {
    fake.grant_human_agent(true);
    let now = Utc::now();
    for (id, instagram) in [(inboxes.messenger, false), (inboxes.instagram, true)] {
        let current = app.get_inbox(owner, account, InboxId(id)).await?;
        let name = if instagram { "instagram" } else { "messenger" };
        let mut c = current.config.clone();
        c.extra.insert(name.into(), fake.settings(instagram, &inboxes.verify_token, true));
        app.update_inbox(owner, account, current.id, None, Some(c)).await?;
        fake.set_webhook(name, &format!("{public_url}/webhooks/{name}/{id}"));
        let filter = ConversationFilter { inbox_id: Some(current.id), ..ConversationFilter::default() };
        let page = app.storage.list_conversations(account, &filter, None, 100).await?;
        let kind = if instagram { IdentityKind::Instagram } else { IdentityKind::Messenger };
        for conv in page.items {
            let (Some(at), Some(contact)) =
                (conv.last_buyer_message_at, app.storage.get_contact(account, conv.contact_id).await?)
            else {
                continue;
            };
            for identity in contact.identities.iter().filter(|i| i.kind == kind) {
                fake.buyer_wrote_ago(name, &identity.value, now - at);
                if let Some((first, last)) = contact.name.split_once(' ') {
                    fake.set_buyer_name(&identity.value, first, last);
                }
            }
        }
    }
    Ok(())
}
