//! E-mail inboxes end to end: mail read from a real Dovecot becomes
//! conversations, threads by its headers, survives server and node
//! restarts without loss or duplicates; bounces and auto-replies are told
//! apart. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_app::email::MailOutcome;
use ferry_app::{App, AppConfig, NewInboxInput};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::{ContentPart, DeliveryStatus, MessageKind};
use ferry_testkit::dovecot::Dovecot;
use ferry_testkit::*;
use serde_json::json;
use std::sync::Arc;

on_both!(mail_from_a_mailbox_becomes_conversations_once, replies_thread_and_machines_stay_quiet);

const SHOP: &str = "support@shop.test";
const PASSWORD: &str = "mail-secret";

fn mail(id: &str, from: &str, subject: &str, body: &str, in_reply_to: Option<&str>) -> Vec<u8> {
    let thread = in_reply_to.map(|r| format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n")).unwrap_or_default();
    format!(
        "From: {from}\r\nTo: {SHOP}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{thread}\
         Date: Fri, 4 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn email_inbox(app: &TestApp, t: &Tenant, d: Option<&Dovecot>) -> Inbox {
    let actor = app.app.actor_from_token(&t.owner_token).await.unwrap();
    let mut email = json!({"address": SHOP, "from_name": "Lumen Shop"});
    if let Some(d) = d {
        email["imap"] =
            json!({"host": "127.0.0.1", "port": d.port, "security": "plain", "username": SHOP, "password": PASSWORD});
    }
    let mut config = InboxConfig::default();
    config.extra.insert("email".into(), email);
    app.app
        .create_inbox(
            &actor,
            t.account,
            NewInboxInput { name: "Support mail".into(), channel: ChannelKind::Email, config },
        )
        .await
        .unwrap()
}

fn stored(o: MailOutcome) -> ferry_storage::IntakeOutcome {
    match o {
        MailOutcome::Stored(o) => *o,
        other => panic!("not stored: {other:?}"),
    }
}

async fn conversation_count(app: &App, t: &Tenant) -> usize {
    let filter = ferry_storage::ConversationFilter {
        assignee: ferry_storage::AssigneeFilter::Any,
        status: None,
        ..Default::default()
    };
    app.storage.list_conversations(t.account, &filter, None, 100).await.unwrap().items.len()
}

async fn mail_from_a_mailbox_becomes_conversations_once(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let Some(mut d) = Dovecot::start(&[(SHOP, PASSWORD)]) else { return };
    let t = app.tenant("Mailbox").await;
    let inbox = email_inbox(&app, &t, Some(&d)).await;
    for n in 1..=3 {
        d.deliver(
            SHOP,
            "INBOX",
            &mail(
                &format!("m{n}@buyer.example"),
                &format!("Buyer {n} <b{n}@buyer.example>"),
                &format!("Order {n}"),
                "Where is it?",
                None,
            ),
        );
    }
    assert_eq!(app.app.read_mailbox(&inbox).await.unwrap(), 3);
    assert_eq!(conversation_count(&app.app, &t).await, 3);
    // Nothing new: nothing read.
    assert_eq!(app.app.read_mailbox(&inbox).await.unwrap(), 0);

    // The mail server restarts; new mail is read once.
    d.restart();
    d.deliver(SHOP, "INBOX", &mail("m4@buyer.example", "b4@buyer.example", "Order 4", "Hello?", None));
    assert_eq!(app.app.read_mailbox(&inbox).await.unwrap(), 1);

    // Ferry restarts (a new node on the same store) and the server rebuilds
    // the folder (new UIDVALIDITY): everything is read again, nothing is
    // stored twice.
    let cursor = app.app.storage.get_channel_state(t.account, inbox.id, "imap:INBOX").await.unwrap().unwrap();
    let validity = cursor["uid_validity"].as_u64().unwrap() as u32;
    d.change_uid_validity(SHOP, "INBOX", validity.wrapping_add(5));
    d.deliver(SHOP, "INBOX", &mail("m5@buyer.example", "b5@buyer.example", "Order 5", "Hi", None));
    let restarted = App::new(
        app.app.storage.clone(),
        app.app.clock.clone(),
        app.app.bus.clone(),
        app.app.attachments.clone(),
        AppConfig::default(),
        Arc::new(tokio::sync::Notify::new()),
    );
    assert_eq!(restarted.read_mailbox(&inbox).await.unwrap(), 5, "all five read again");
    assert_eq!(conversation_count(&app.app, &t).await, 5, "but only the new one stored");
    let cursor = app.app.storage.get_channel_state(t.account, inbox.id, "imap:INBOX").await.unwrap().unwrap();
    assert_eq!(cursor["uid_validity"].as_u64(), Some(u64::from(validity.wrapping_add(5))));
}

async fn replies_thread_and_machines_stay_quiet(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Threads").await;
    let inbox = email_inbox(&app, &t, None).await;
    let first = stored(
        app.app
            .ingest_email(
                &inbox,
                &mail("a1@buyer.example", "Ana <ana@buyer.example>", "Order 1001", "Where is my order?", None),
            )
            .await
            .unwrap(),
    );
    assert!(first.new_conversation);
    // The same mail again (forwarded twice) is one message.
    let again = stored(
        app.app
            .ingest_email(
                &inbox,
                &mail("a1@buyer.example", "Ana <ana@buyer.example>", "Order 1001", "Where is my order?", None),
            )
            .await
            .unwrap(),
    );
    assert!(again.duplicate);
    let parts = &first.message.parts;
    assert!(matches!(&parts[0], ContentPart::Text { text } if text == "Where is my order?"), "{parts:?}");
    let header = parts
        .iter()
        .find_map(|p| match p {
            ContentPart::Email { email } => Some(email.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(header.subject, "Order 1001");
    assert_eq!(header.message_id.as_deref(), Some("a1@buyer.example"));

    // A reply to her own mail joins the conversation; a new subject without
    // references opens another.
    let reply = stored(
        app.app
            .ingest_email(
                &inbox,
                &mail("a2@buyer.example", "ana@buyer.example", "Re: Order 1001", "Any news?", Some("a1@buyer.example")),
            )
            .await
            .unwrap(),
    );
    assert_eq!((reply.conversation.id, reply.new_conversation), (first.conversation.id, false));
    let other = stored(
        app.app
            .ingest_email(
                &inbox,
                &mail("a3@buyer.example", "ana@buyer.example", "Invoice please", "Need an invoice", None),
            )
            .await
            .unwrap(),
    );
    assert!(other.new_conversation);
    assert_eq!(other.conversation.contact_id, first.conversation.contact_id, "one buyer");

    // An out-of-office reply is an activity line; the bot and the
    // conversation's state are untouched.
    let ooo = format!(
        "From: ana@buyer.example\r\nTo: {SHOP}\r\nSubject: Automatic reply: Order 1001\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <ooo1@buyer.example>\r\nIn-Reply-To: <a2@buyer.example>\r\n\r\nI am away until Monday.\r\n"
    );
    let auto = stored(app.app.ingest_email(&inbox, ooo.as_bytes()).await.unwrap());
    assert_eq!((auto.conversation.id, auto.message.kind), (first.conversation.id, MessageKind::Activity));

    // A bounce of a mail Ferry sent marks that message failed.
    let sent = app
        .app
        .storage
        .post_message(
            t.account,
            ferry_storage::NewMessage {
                conversation_id: first.conversation.id,
                kind: MessageKind::Outgoing,
                sender: ferry_core::message::Sender::System,
                parts: vec![ContentPart::Text { text: "It ships today".into() }],
                delivery: Some(DeliveryStatus::Queued),
                now: app.app.clock.now(),
                transition: None,
                job: None,
                bot_state: None,
            },
        )
        .await
        .unwrap();
    app.app
        .storage
        .update_delivery(
            t.account,
            sent.message.id,
            DeliveryStatus::Sent,
            Some("ferry.1.9@shop.test".into()),
            app.app.clock.now(),
        )
        .await
        .unwrap();
    let bounce = format!(
        "From: MAILER-DAEMON@mx.buyer.example\r\nTo: {SHOP}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <b1@mx.buyer.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.buyer.example\r\n\r\n\
         Final-Recipient: rfc822; ana@buyer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <ferry.1.9@shop.test>\r\nSubject: Re: Order 1001\r\n\r\n--B--\r\n"
    );
    match app.app.ingest_email(&inbox, bounce.as_bytes()).await.unwrap() {
        MailOutcome::Bounced { message } => assert_eq!(message, Some(sent.message.id)),
        other => panic!("{other:?}"),
    }
    let failed = app.app.storage.get_message(t.account, sent.message.id).await.unwrap().unwrap();
    match failed.delivery {
        Some(DeliveryStatus::Failed { reason }) => assert!(reason.contains("mailbox unknown"), "{reason}"),
        other => panic!("{other:?}"),
    }

    // Bad input is a clear error.
    let e = app.app.ingest_email(&inbox, b"not a mail at all").await.unwrap_err();
    assert!(matches!(e, ferry_app::AppError::Invalid { .. }), "{e:?}");
}
