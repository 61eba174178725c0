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
                notice_send: None,
                conversation_id: first.conversation.id,
                kind: MessageKind::Outgoing,
                sender: ferry_core::message::Sender::System,
                parts: vec![ContentPart::Text { text: "It ships today".into() }],
                delivery: Some(DeliveryStatus::Queued),
                now: app.app.clock.now(),
                transition: None,
                job: None,
                bot_state: None,
                describe: None,
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
        MailOutcome::Bounced { message } => assert_eq!(message.map(|m| m.id), Some(sent.message.id)),
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

mod end_to_end {
    use super::*;
    use ferry_testkit::mail_relay::MailRelay;
    use reqwest::StatusCode;
    use std::time::{Duration, Instant};

    const BUYER: &str = "ana@buyer.example";
    const BUYER_PASSWORD: &str = "buyer-secret";

    on_both!(
        a_reply_reaches_the_buyer_and_the_answer_threads_back,
        amazon_replies_pass_the_compliance_gate,
        copies_reply_all_and_forwarding
    );

    fn smtp(relay: &MailRelay) -> serde_json::Value {
        json!({"host": "localhost", "port": relay.addr.port(), "security": "starttls",
               "username": SHOP, "password": PASSWORD, "ca_pem": relay.ca_pem})
    }

    async fn inbox_with(app: &TestApp, t: &Tenant, channel: ChannelKind, email: serde_json::Value) -> Inbox {
        let actor = app.app.actor_from_token(&t.owner_token).await.unwrap();
        let mut config = InboxConfig::default();
        config.extra.insert("email".into(), email);
        let new = NewInboxInput { name: format!("{channel} inbox"), channel, config };
        app.app.create_inbox(&actor, t.account, new).await.unwrap()
    }

    /// Waits until `check` holds, at most `limit`.
    async fn within<F: AsyncFnMut() -> bool>(limit: Duration, mut check: F) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if check().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn messages(
        app: &TestApp,
        t: &Tenant,
        conv: ferry_core::ConversationId,
    ) -> Vec<ferry_core::message::Message> {
        app.app.storage.list_messages(t.account, conv, None, 100).await.unwrap()
    }

    async fn a_reply_reaches_the_buyer_and_the_answer_threads_back(b: Backend) {
        let Some(app) = spawn_app(b).await else { return };
        let Some(d) = Dovecot::start(&[(SHOP, PASSWORD), (BUYER, BUYER_PASSWORD)]) else { return };
        let d = Arc::new(d);
        let relay = MailRelay::start(Some((SHOP, PASSWORD)), Some(d.clone())).await;
        let t = app.tenant("Lumen").await;
        let email = json!({"address": SHOP, "from_name": "Lumen Shop", "smtp": smtp(&relay),
            "imap": {"host": "127.0.0.1", "port": d.port, "security": "plain", "username": SHOP, "password": PASSWORD}});
        let inbox = inbox_with(&app, &t, ChannelKind::Email, email).await;
        let stop = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(app.app.clone().watch_mailbox(inbox.id, stop.clone()));

        // The buyer writes; the watcher (IDLE) turns it into a conversation
        // within five seconds of delivery.
        d.deliver(
            SHOP,
            "INBOX",
            &mail("m1@buyer.example", &format!("Ana <{BUYER}>"), "Order 1001", "Where is my order?", None),
        );
        let mut conv = None;
        let arrived = within(Duration::from_secs(5), async || {
            let filter = ferry_storage::ConversationFilter {
                assignee: ferry_storage::AssigneeFilter::Any,
                ..Default::default()
            };
            conv = app
                .app
                .storage
                .list_conversations(t.account, &filter, None, 10)
                .await
                .unwrap()
                .items
                .first()
                .map(|c| c.id);
            conv.is_some()
        })
        .await;
        assert!(arrived, "the mail did not become a conversation within 5 s");
        let conv = conv.unwrap();

        // The agent answers; the reply reaches the buyer's mailbox, threaded.
        let path = format!("/api/v1/accounts/{}/conversations/{conv}/messages", t.account);
        let r = app.post(&path, &t.agent_token, json!({"content": "It left our warehouse today."})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        app.drain_jobs().await;
        let sent = messages(&app, &t, conv).await.into_iter().find(|m| m.kind == MessageKind::Outgoing).unwrap();
        assert_eq!(sent.delivery, Some(DeliveryStatus::Sent));
        let sent_id = sent.external_id.clone().unwrap();
        assert_eq!(sent_id, format!("ferry.{}.{}@shop.test", t.account, sent.id));
        let buyer = ferry_channels::email::imap::ImapSettings {
            host: "127.0.0.1".into(),
            port: d.port,
            security: ferry_channels::email::imap::Security::Plain,
            username: BUYER.into(),
            password: BUYER_PASSWORD.into(),
            ca_pem: None,
        };
        let mut conn = ferry_channels::email::imap::ImapConnection::connect(&buyer).await.unwrap();
        let inbox_of_buyer = conn.fetch_after("INBOX", None, 10, 1 << 20).await.unwrap();
        assert_eq!(inbox_of_buyer.messages.len(), 1);
        let raw = inbox_of_buyer.messages[0].raw.clone().unwrap();
        let reply = ferry_channels::email::parse(&raw).unwrap();
        assert_eq!(reply.in_reply_to.as_deref(), Some("m1@buyer.example"));
        assert_eq!(reply.message_id, sent_id);
        assert_eq!(reply.subject, "Re: Order 1001");
        assert_eq!(reply.from.address, SHOP);
        assert!(reply.text.contains("It left our warehouse today."));

        // A retried delivery of a sent message sends nothing again.
        assert_eq!(relay.accepted().len(), 1);

        // The buyer answers under another subject; it threads by its headers.
        d.deliver(SHOP, "INBOX", &mail("m2@buyer.example", BUYER, "Thanks", "Great, thank you!", Some(&sent_id)));
        let threaded = within(Duration::from_secs(5), async || {
            messages(&app, &t, conv).await.iter().any(|m| m.external_id.as_deref() == Some("m2@buyer.example"))
        })
        .await;
        assert!(threaded, "the buyer's answer did not join the conversation");
        stop.notify_one();
    }

    async fn amazon_replies_pass_the_compliance_gate(b: Backend) {
        let Some(app) = spawn_app(b).await else { return };
        let relay = MailRelay::start(Some((SHOP, PASSWORD)), None).await;
        let t = app.tenant("Marketplace").await;
        let inbox =
            inbox_with(&app, &t, ChannelKind::Email, json!({"address": SHOP, "smtp": smtp(&relay), "amazon": false}))
                .await;
        let relay_address = "k3x9q2@marketplace.amazon.de";
        let raw = format!(
            "From: \"Jürgen - Amazon Marketplace\" <{relay_address}>\r\nTo: {SHOP}\r\n\
             Subject: Frage zur Bestellung 302-1234567-7654321\r\nMessage-ID: <amz1@amazon.de>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nWo ist mein Paket?\r\n"
        );
        let out = stored(app.app.ingest_email(&inbox, raw.as_bytes()).await.unwrap());
        let contact = app.app.storage.get_contact(t.account, out.conversation.contact_id).await.unwrap().unwrap();
        assert!(contact.identities.iter().any(|i| i.kind == ferry_core::contact::IdentityKind::Amazon));
        let header = out
            .message
            .parts
            .iter()
            .find_map(|p| match p {
                ContentPart::Email { email } => Some(email.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(header.amazon_order_id.as_deref(), Some("302-1234567-7654321"));
        let path = format!("/api/v1/accounts/{}/conversations/{}/messages", t.account, out.conversation.id);

        // A link, an e-mail address, a review request for stars: refused with
        // the findings, nothing stored or sent.
        for (text, rule) in [
            ("Track it at https://myshop.example/track?id=1", "amazon.external_link"),
            ("Write to service@lumen.example for faster help.", "amazon.email_address"),
            ("Bitte geben Sie uns eine 5-Sterne-Bewertung!", "amazon.review_manipulation"),
        ] {
            let r = app.post(&path, &t.agent_token, json!({"content": text})).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "compliance_blocked"),
                "{text}: {:?}",
                r.json
            );
            let findings = r.json["error"]["findings"].as_array().unwrap();
            assert!(findings.iter().any(|f| f["rule"] == rule), "{text}: {findings:?}");
            let span = findings.iter().find(|f| f["rule"] == rule).unwrap()["span"].clone();
            assert!(text.contains(span["excerpt"].as_str().unwrap()), "{span:?}");
        }
        assert!(messages(&app, &t, out.conversation.id).await.iter().all(|m| m.kind != MessageKind::Outgoing));

        // The composer's check says the same before sending.
        let check = app
            .post(
                &format!("/api/v1/accounts/{}/compliance/check", t.account),
                &t.agent_token,
                json!({"conversation_id": out.conversation.id, "text": "Leave us 5 stars and get a refund!"}),
            )
            .await;
        assert_eq!(check.status, StatusCode::OK, "{:?}", check.json);
        assert_eq!(check.json["verdict"], "block");
        let check = app
            .post(
                &format!("/api/v1/accounts/{}/compliance/check", t.account),
                &t.agent_token,
                json!({"channel": "email", "text": "Leave us 5 stars!"}),
            )
            .await;
        assert_ne!(check.json["verdict"], "block", "plain e-mail has no Amazon rules: {:?}", check.json);

        // The account's own words are refused on every channel, once set by
        // an owner (agents may not change them).
        let rules = format!("/api/v1/accounts/{}/compliance/rules", t.account);
        let words = json!({"phrases": [{"phrase": "Sonderangebot", "severity": "block"}], "allowed_link_hosts": ["https://17track.net/"]});
        assert_eq!(
            app.call(reqwest::Method::PUT, &rules, Some(&t.agent_token), Some(words.clone())).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app.call(reqwest::Method::PUT, &rules, Some(&t.owner_token), Some(words)).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        assert_eq!(r.json["allowed_link_hosts"], json!(["17track.net"]));
        assert_eq!(app.get(&rules, &t.agent_token).await.json["phrases"][0]["phrase"], "Sonderangebot");
        let r = app.post(&path, &t.agent_token, json!({"content": "Ein Sonderangebot nur für Sie."})).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "compliance_blocked"));
        assert!(r.json["error"]["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "account.phrase"));
        // A carrier host the account allows may be linked.
        let check = app
            .post(&format!("/api/v1/accounts/{}/compliance/check", t.account), &t.agent_token,
                json!({"conversation_id": out.conversation.id, "text": "Sendungsverfolgung: https://t.17track.net/de#nums=LX123"}))
            .await;
        assert_eq!(check.json["verdict"], "allow", "{:?}", check.json);
        let bad = json!({"phrases": [{"phrase": " ", "severity": "warn"}]});
        assert_eq!(
            app.call(reqwest::Method::PUT, &rules, Some(&t.owner_token), Some(bad)).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );

        // A clean reply goes to the buyer's relay address.
        let r =
            app.post(&path, &t.agent_token, json!({"content": "Ihr Paket ist unterwegs und kommt morgen an."})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        app.drain_jobs().await;
        let accepted = relay.accepted();
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].to, [relay_address]);
        assert!(accepted[0].raw.contains("In-Reply-To: <amz1@amazon.de>"), "{}", accepted[0].raw);
    }

    async fn copies_reply_all_and_forwarding(b: Backend) {
        let Some(app) = spawn_app(b).await else { return };
        let relay = MailRelay::start(Some((SHOP, PASSWORD)), None).await;
        let t = app.tenant("Copies").await;
        let inbox = inbox_with(&app, &t, ChannelKind::Email, json!({"address": SHOP, "smtp": smtp(&relay)})).await;
        let raw = format!(
            "From: Ana <{BUYER}>\r\nTo: {SHOP}, orders@partner.example\r\nCc: Luis <luis@buyer.example>\r\n\
             Subject: Broken lamp\r\nMessage-ID: <c1@buyer.example>\r\n\r\nThe lamp arrived broken.\r\n"
        );
        let conv = stored(app.app.ingest_email(&inbox, raw.as_bytes()).await.unwrap()).conversation.id;
        let path = format!("/api/v1/accounts/{}/conversations/{conv}/messages", t.account);

        // Reply-all copies everyone but the shop and the buyer; a blind copy
        // stays in the envelope.
        let body = json!({"content": "We are sending a new lamp.",
            "email": {"reply_all": true, "bcc": ["quality@shop.test"], "cc": ["Store@Shop.test"]}});
        let r = app.post(&path, &t.agent_token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        app.drain_jobs().await;
        let sent = relay.accepted();
        assert_eq!(sent.len(), 1);
        let mut envelope = sent[0].to.clone();
        envelope.sort();
        assert_eq!(
            envelope,
            [BUYER, "luis@buyer.example", "orders@partner.example", "quality@shop.test", "store@shop.test"]
        );
        assert!(sent[0].raw.contains("luis@buyer.example") && sent[0].raw.contains("orders@partner.example"));
        assert!(!sent[0].raw.contains("quality@shop.test"), "no Bcc header");
        assert!(sent[0].raw.contains("Subject: Re: Broken lamp"), "{}", sent[0].raw);

        // Bad addresses, and recipients on a chat inbox, are refused.
        let r = app.post(&path, &t.agent_token, json!({"content": "x", "email": {"cc": ["not an address"]}})).await;
        assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("email.cc")));
        let chat =
            app.webhook(&t, &buyer_message("w1", "chat-buyer", "hi")).await.json["conversation_id"].as_i64().unwrap();
        let r = app
            .post(
                &format!("/api/v1/accounts/{}/conversations/{chat}/messages", t.account),
                &t.agent_token,
                json!({"content": "x", "email": {"cc": ["a@b.example"]}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);

        // Forwarding sends the conversation to the supplier, not the buyer.
        let fwd = format!("/api/v1/accounts/{}/conversations/{conv}/forward", t.account);
        let r =
            app.post(&fwd, &t.agent_token, json!({"to": ["claims@supplier.example"], "note": "Please replace."})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        app.drain_jobs().await;
        let sent = relay.accepted();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].to, ["claims@supplier.example"]);
        assert!(sent[1].raw.contains("Subject: Fwd: Broken lamp"), "{}", sent[1].raw);
        assert!(sent[1].raw.contains("Please replace.") && sent[1].raw.contains("The lamp arrived broken."));
        let r = app.post(&fwd, &t.agent_token, json!({"to": []})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = app
            .post(
                &format!("/api/v1/accounts/{}/conversations/{chat}/forward", t.account),
                &t.agent_token,
                json!({"to": ["a@b.example"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
