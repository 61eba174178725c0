//! The demo's mail: an e-mail inbox fed by the forwarding webhook and an
//! Amazon buyer-message inbox (an e-mail inbox receiving Amazon's relay),
//! both seeded with buyers' mails through the same intake as real mail.
//! Their replies go out over SMTP to the sandbox's sink, started afresh
//! by every run of the demo, so each start points the inboxes at it.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use ferry_app::auth::Actor;
use ferry_app::email::MailOutcome;
use ferry_app::{App, NewInboxInput, NewReply};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::{AccountId, InboxId};
use std::net::SocketAddr;

/// The e-mail inbox's own address.
pub const SUPPORT_ADDRESS: &str = "support@shop.demo.ferry.test";
/// The address the Amazon relay writes to.
pub const AMAZON_ADDRESS: &str = "amazon-seller@shop.demo.ferry.test";

/// The two mail inboxes, as `demo.json` keeps them.
pub struct MailInboxes {
    /// The e-mail inbox and its webhook secret.
    pub email: (i64, String),
    /// The Amazon inbox and its webhook secret.
    pub amazon: (i64, String),
}

/// SMTP settings sending through the sink at `sink`.
fn smtp_settings(sink: SocketAddr) -> serde_json::Value {
    serde_json::json!({"host": sink.ip().to_string(), "port": sink.port(), "security": "plain"})
}

fn email_config(address: &str, amazon: bool, sink: SocketAddr) -> InboxConfig {
    let mut config = InboxConfig::default();
    config.extra.insert(
        "email".into(),
        serde_json::json!({
            "address": address,
            "from_name": "Ferry Demo Shop",
            "smtp": smtp_settings(sink),
            "amazon": amazon,
        }),
    );
    config
}

/// One seeded buyer mail: (Message-ID, From, To, Subject, body, minutes
/// ago). Written as a mail client would send it, UTF-8 in 8 bits.
type SeedMail = (&'static str, &'static str, &'static str, &'static str, &'static str, i64);

const EMAIL_MAILS: &[SeedMail] = &[
    (
        "c5b1e0a2.1003@mail.example.cn",
        "王芳 <wang.fang@example.cn>",
        SUPPORT_ADDRESS,
        "订单 #1003 什么时候发货？",
        "您好，\n\n我上周下单买了两件 Everyday Tee（白色 M 码），订单号 #1003，\n\
         到现在还没有收到发货通知。请问什么时候能发货？能提供快递单号吗？\n\n谢谢！\n王芳\n",
        95,
    ),
    (
        "7f3e9d21.1002@mail.example.de",
        "Lukas Schneider <lukas.schneider@example.de>",
        SUPPORT_ADDRESS,
        "Rechnung für Bestellung #1002",
        "Guten Tag,\n\nkönnten Sie mir bitte eine Rechnung mit ausgewiesener Mehrwertsteuer \
         für meine Bestellung #1002 schicken? Ich brauche sie für meine Firma.\n\n\
         Mit freundlichen Grüßen\nLukas Schneider\n\n-- \nSchneider Design GmbH, Berlin\n",
        64,
    ),
];

const AMAZON_MAILS: &[SeedMail] = &[(
    "0100018c2e7a.amz-302-1234567@email.amazon.de",
    "\"Markus - Amazon Marketplace\" <8q2fk3lz7nt9xwb@marketplace.amazon.de>",
    AMAZON_ADDRESS,
    "Frage zur Bestellung 302-1234567-7654321 von Kunde",
    "------------- Nachricht: -------------\n\n\
     Hallo, meine Bestellung 302-1234567-7654321 (Trail Sneakers, EU 42) sollte gestern \
     ankommen, aber die Sendungsverfolgung zeigt seit vier Tagen nichts Neues.\n\
     Können Sie bitte nachsehen, wo das Paket ist?\n\n\
     Danke, Markus\n\n\
     ------------- Ende der Nachricht -------------\n",
    30,
)];

fn raw_mail(m: &SeedMail, now: DateTime<Utc>) -> Vec<u8> {
    let (id, from, to, subject, body, minutes_ago) = *m;
    let date = (now - Duration::minutes(minutes_ago)).to_rfc2822();
    let body = body.replace('\n', "\r\n");
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    )
    .into_bytes()
}

async fn ingest_all(app: &App, inbox: &Inbox, mails: &[SeedMail]) -> anyhow::Result<Vec<ferry_core::ConversationId>> {
    let now = app.clock.now();
    let mut conversations = Vec::new();
    for m in mails {
        match app.ingest_email(inbox, &raw_mail(m, now)).await.with_context(|| format!("seeding the mail {}", m.0))? {
            MailOutcome::Stored(out) => conversations.push(out.conversation.id),
            MailOutcome::Bounced { .. } => anyhow::bail!("the seeded mail {} reads as a bounce", m.0),
        }
    }
    Ok(conversations)
}

/// Creates the e-mail and Amazon inboxes, seeds their mail and answers the
/// German buyer (that reply leaves for the sink once the demo serves).
pub async fn seed(app: &App, owner: &Actor, account: AccountId, sink: SocketAddr) -> anyhow::Result<MailInboxes> {
    let email = app
        .create_inbox(
            owner,
            account,
            NewInboxInput {
                name: "Support mail".into(),
                channel: ChannelKind::Email,
                config: email_config(SUPPORT_ADDRESS, false, sink),
            },
        )
        .await?;
    let amazon = app
        .create_inbox(
            owner,
            account,
            NewInboxInput {
                name: "Amazon.de buyer messages".into(),
                channel: ChannelKind::Email,
                config: email_config(AMAZON_ADDRESS, true, sink),
            },
        )
        .await?;
    let mail_conversations = ingest_all(app, &email, EMAIL_MAILS).await?;
    ingest_all(app, &amazon, AMAZON_MAILS).await?;
    if let Some(&german) = mail_conversations.get(1) {
        app.reply(
            owner,
            account,
            german,
            NewReply {
                text: Some(
                    "Guten Tag Herr Schneider,\n\ndie Rechnung zu Bestellung #1002 mit ausgewiesener \
                     Mehrwertsteuer ist unterwegs.\n\nViele Grüße\nFerry Demo Shop"
                        .into(),
                ),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(MailInboxes { email: (email.id.0, email.secret), amazon: (amazon.id.0, amazon.secret) })
}

/// Points the mail inboxes' outgoing server at this run's sink.
pub async fn use_sink(
    app: &App,
    owner: &Actor,
    account: AccountId,
    inboxes: &[i64],
    sink: SocketAddr,
) -> anyhow::Result<()> {
    for &id in inboxes {
        let inbox = app.storage.find_inbox(InboxId(id)).await?.with_context(|| format!("inbox {id} is gone"))?;
        let mut config = inbox.config.clone();
        let Some(email) = config.extra.get_mut("email").and_then(|v| v.as_object_mut()) else {
            anyhow::bail!("inbox {id} has no e-mail settings");
        };
        email.insert("smtp".into(), smtp_settings(sink));
        app.update_inbox(owner, account, inbox.id, None, Some(config)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_seeded_mails_parse_as_buyers_mail() {
        let now = Utc::now();
        for m in EMAIL_MAILS.iter().chain(AMAZON_MAILS) {
            let mail = ferry_channels::email::parse(&raw_mail(m, now)).unwrap();
            assert_eq!(mail.kind, ferry_channels::email::EmailKind::Normal, "{}", m.0);
            assert_eq!(mail.message_id, m.0);
            assert!(!mail.reply_or_full_text().trim().is_empty(), "{}", m.0);
        }
        let amazon = ferry_channels::email::parse(&raw_mail(&AMAZON_MAILS[0], now)).unwrap();
        let relay = amazon.amazon.unwrap();
        assert_eq!(relay.order_id.as_deref(), Some("302-1234567-7654321"));
        assert!(relay.relay_address.ends_with("@marketplace.amazon.de"));
        let german = ferry_channels::email::parse(&raw_mail(&EMAIL_MAILS[1], now)).unwrap();
        assert!(!german.reply_text.contains("Schneider Design GmbH"), "the signature is folded away");
    }
}
