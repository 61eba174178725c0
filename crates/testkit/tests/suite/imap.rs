//! Reading mailboxes over IMAP against a real Dovecot: nothing fetched
//! twice or skipped across reconnects, server restarts and a changed
//! UIDVALIDITY; TLS and STARTTLS; IDLE; clear errors for wrong settings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_channels::email::imap::{FolderCursor, ImapConnection, ImapError, ImapSettings, Security, check};
use ferry_testkit::dovecot::Dovecot;
use std::time::Duration;

const USER: &str = "support@shop.test";
const PASSWORD: &str = "mail-secret";

fn mail(n: u32) -> Vec<u8> {
    format!(
        "From: Buyer {n} <buyer{n}@example.com>\r\nTo: {USER}\r\nSubject: Order question {n}\r\n\
         Message-ID: <q{n}@example.com>\r\nDate: Fri, 4 Dec 2026 10:00:00 +0000\r\n\r\nWhere is order {n}?\r\n"
    )
    .into_bytes()
}

fn settings(d: &Dovecot, security: Security) -> ImapSettings {
    let port = if security == Security::Tls { d.tls_port } else { d.port };
    ImapSettings {
        host: if security == Security::Plain { "127.0.0.1".into() } else { "localhost".into() },
        port,
        security,
        username: USER.into(),
        password: PASSWORD.into(),
        ca_pem: (security != Security::Plain).then(|| d.ca_pem.clone()),
    }
}

fn subjects(batch: &ferry_channels::email::imap::Batch) -> Vec<String> {
    batch
        .messages
        .iter()
        .map(|m| {
            let raw = String::from_utf8_lossy(m.raw.as_deref().unwrap()).into_owned();
            raw.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn nothing_is_fetched_twice_or_skipped_across_restarts() {
    let Some(mut d) = Dovecot::start(&[(USER, PASSWORD)]) else { return };
    for n in 1..=3 {
        d.deliver(USER, "INBOX", &mail(n));
    }
    let s = settings(&d, Security::Plain);
    let mut conn = ImapConnection::connect(&s).await.unwrap();
    assert!(conn.supports_idle());

    // In batches of two: the first batch says more are waiting.
    let first = conn.fetch_after("INBOX", None, 2, 1 << 20).await.unwrap();
    assert_eq!(subjects(&first), ["Order question 1", "Order question 2"]);
    assert!(first.more && !first.resynced);
    let second = conn.fetch_after("INBOX", Some(first.cursor), 2, 1 << 20).await.unwrap();
    assert_eq!(subjects(&second), ["Order question 3"]);
    assert!(!second.more);
    let cursor = second.cursor;
    assert_eq!(cursor.last_uid, 3);
    assert!(conn.fetch_after("INBOX", Some(cursor), 10, 1 << 20).await.unwrap().messages.is_empty());

    // The server restarts; a new connection resumes exactly after the
    // cursor.
    conn.logout().await;
    d.restart();
    d.deliver(USER, "INBOX", &mail(4));
    let mut conn = ImapConnection::connect(&s).await.unwrap();
    let after = conn.fetch_after("INBOX", Some(cursor), 10, 1 << 20).await.unwrap();
    assert_eq!(subjects(&after), ["Order question 4"]);

    // A rebuilt mailbox (new UIDVALIDITY) is read again from the start.
    d.change_uid_validity(USER, "INBOX", cursor.uid_validity.wrapping_add(17));
    let mut conn = ImapConnection::connect(&s).await.unwrap();
    let again = conn.fetch_after("INBOX", Some(after.cursor), 10, 1 << 20).await.unwrap();
    assert!(again.resynced);
    assert_eq!(again.messages.len(), 4);
    assert_eq!(again.cursor.uid_validity, cursor.uid_validity.wrapping_add(17));
    conn.logout().await;
}

#[tokio::test]
async fn large_messages_are_reported_not_loaded() {
    let Some(d) = Dovecot::start(&[(USER, PASSWORD)]) else { return };
    let mut big = mail(9);
    big.extend(std::iter::repeat_n(b'x', 4096));
    big.extend_from_slice(b"\r\n");
    d.deliver(USER, "INBOX", &big);
    d.deliver(USER, "INBOX", &mail(10));
    let mut conn = ImapConnection::connect(&settings(&d, Security::Plain)).await.unwrap();
    let batch = conn.fetch_after("INBOX", None, 10, 1024).await.unwrap();
    assert_eq!(batch.messages.len(), 2);
    assert!(batch.messages[0].raw.is_none() && batch.messages[0].size > 4096);
    assert!(batch.messages[1].raw.is_some());
    assert_eq!(batch.cursor.last_uid, 2);
}

#[tokio::test]
async fn tls_and_starttls_check_the_certificate() {
    let Some(d) = Dovecot::start(&[(USER, PASSWORD)]) else { return };
    d.deliver(USER, "INBOX", &mail(1));
    for security in [Security::Tls, Security::Starttls] {
        let s = settings(&d, security);
        let report = check(&s, "INBOX").await.unwrap_or_else(|e| panic!("{security:?}: {e}"));
        assert_eq!(report.messages, 1);
        assert!(report.idle);
        // Without trusting the private authority, the connection is refused.
        let untrusted = ImapSettings { ca_pem: None, ..s };
        let e = check(&untrusted, "INBOX").await.unwrap_err();
        assert!(matches!(e, ImapError::Tls { .. }), "{security:?}: {e}");
        assert!(!e.is_transient());
    }
}

#[tokio::test]
async fn wrong_settings_say_what_failed() {
    let Some(d) = Dovecot::start(&[(USER, PASSWORD)]) else { return };
    let s = settings(&d, Security::Plain);
    let e = check(&ImapSettings { password: "wrong".into(), ..s.clone() }, "INBOX").await.unwrap_err();
    assert!(matches!(e, ImapError::Login(_)), "{e}");
    let e = check(&s, "Archive/2019").await.unwrap_err();
    assert!(matches!(e, ImapError::Folder { .. }), "{e}");
    assert!(e.to_string().contains("Archive/2019"));
    let closed = ImapSettings { port: 1, ..s.clone() };
    let e = check(&closed, "INBOX").await.unwrap_err();
    assert!(matches!(e, ImapError::Connect { .. }) && e.is_transient(), "{e}");
    let e = check(&ImapSettings { ca_pem: Some("not a certificate".into()), ..settings(&d, Security::Tls) }, "INBOX")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("PEM"), "{e}");
    // The password never shows in debug output.
    assert!(!format!("{s:?}").contains(PASSWORD));
}

#[tokio::test]
async fn idle_wakes_on_new_mail_and_folders_are_listed() {
    let Some(d) = Dovecot::start(&[(USER, PASSWORD)]) else { return };
    d.create_folder(USER, "Amazon");
    let s = settings(&d, Security::Plain);
    let mut conn = ImapConnection::connect(&s).await.unwrap();
    let mut folders = conn.folders().await.unwrap();
    folders.sort();
    assert_eq!(folders, ["Amazon", "INBOX"]);
    let empty = conn.fetch_after("Amazon", None, 10, 1 << 20).await.unwrap();
    assert!(empty.messages.is_empty());
    let cursor: FolderCursor = empty.cursor;

    // Deliver once the connection is idling; the wait ends on the news, far
    // before its own limit.
    let d = std::sync::Arc::new(d);
    let deliverer = d.clone();
    let delivery = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(300));
        deliverer.deliver(USER, "Amazon", &mail(7));
    });
    let conn = tokio::time::timeout(Duration::from_secs(60), conn.wait(Duration::from_secs(600)))
        .await
        .expect("IDLE reported the new message")
        .unwrap();
    delivery.await.unwrap();
    let mut conn = conn;
    let batch = conn.fetch_after("Amazon", Some(cursor), 10, 1 << 20).await.unwrap();
    assert_eq!(subjects(&batch), ["Order question 7"]);
}

mod smtp {
    use super::*;
    use ferry_channels::email::send::{Address, OutgoingEmail, SmtpError, SmtpSettings, check, send};
    use ferry_testkit::mail_relay::MailRelay;
    use std::sync::Arc;

    const BUYER: &str = "ana@example.com";

    fn reply(n: u32) -> OutgoingEmail {
        OutgoingEmail {
            from: Address { name: Some("Lumen Shop".into()), email: USER.into() },
            reply_to: None,
            to: vec![Address::new(BUYER)],
            cc: vec![],
            bcc: vec![],
            subject: "Re: Order question 1".into(),
            text: format!("Your parcel left yesterday ({n})."),
            html: None,
            message_id: format!("ferry.1.{n}@shop.test"),
            in_reply_to: Some("q1@example.com".into()),
            references: vec!["q1@example.com".into()],
            attachments: vec![],
            list_unsubscribe: None,
        }
    }

    fn smtp(relay: &MailRelay, security: Security, login: bool) -> SmtpSettings {
        SmtpSettings {
            host: "localhost".into(),
            port: if security == Security::Tls { relay.tls_addr.port() } else { relay.addr.port() },
            security,
            username: login.then(|| USER.to_owned()),
            password: login.then(|| PASSWORD.to_owned()),
            ca_pem: Some(relay.ca_pem.clone()),
        }
    }

    #[tokio::test]
    async fn a_reply_reaches_the_buyers_mailbox_with_its_thread() {
        let Some(d) = Dovecot::start(&[(USER, PASSWORD), (BUYER, "buyer-pass")]) else { return };
        let d = Arc::new(d);
        let relay = MailRelay::start(Some((USER, PASSWORD)), Some(d.clone())).await;
        for (n, security) in [(1, Security::Starttls), (2, Security::Tls)] {
            check(&smtp(&relay, security, true)).await.unwrap_or_else(|e| panic!("{security:?}: {e}"));
            let id = send(&smtp(&relay, security, true), &reply(n)).await.unwrap();
            assert_eq!(id, format!("ferry.1.{n}@shop.test"));
        }
        let accepted = relay.accepted();
        assert!(accepted.iter().all(|m| m.secure && m.login.as_deref() == Some(USER)));

        let buyer =
            ImapSettings { username: BUYER.into(), password: "buyer-pass".into(), ..settings(&d, Security::Plain) };
        let mut conn = ImapConnection::connect(&buyer).await.unwrap();
        let batch = conn.fetch_after("INBOX", None, 10, 1 << 20).await.unwrap();
        assert_eq!(batch.messages.len(), 2);
        let raw = String::from_utf8_lossy(batch.messages[0].raw.as_deref().unwrap()).into_owned();
        assert!(raw.contains("In-Reply-To: <q1@example.com>"), "{raw}");
        assert!(raw.contains("Message-ID: <ferry.1.1@shop.test>"), "{raw}");
        assert!(raw.contains("Your parcel left yesterday (1)."), "{raw}");
    }

    #[tokio::test]
    async fn refusals_are_told_apart_from_temporary_failures() {
        let relay = MailRelay::start(Some((USER, PASSWORD)), None).await;
        let s = smtp(&relay, Security::Starttls, true);
        relay.fail_next(1);
        let e = send(&s, &reply(1)).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
        send(&s, &reply(1)).await.unwrap();
        relay.refuse(BUYER);
        let e = send(&s, &reply(2)).await.unwrap_err();
        assert!(matches!(e, SmtpError::Refused(_)) && !e.is_transient(), "{e}");
        let wrong = SmtpSettings { password: Some("nope".into()), ..s.clone() };
        assert!(matches!(check(&wrong).await.unwrap_err(), SmtpError::Refused(_)));
        let untrusted = SmtpSettings { ca_pem: None, ..s.clone() };
        assert!(check(&untrusted).await.is_err());
        assert_eq!(relay.accepted().len(), 1);
    }
}
