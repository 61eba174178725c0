//! The WhatsApp client and outbound adapter against the local stand-in of
//! the Cloud API: every kind of message, uploads, media downloads with
//! their SHA-256, templates page by page, and the errors Meta answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use chrono::Utc;
use ferry_channels::whatsapp::{
    MediaSource, OutMessage, SendRequest, WhatsAppClient, WhatsAppOutbound, WhatsAppSettings,
};
use ferry_channels::{Files, Outbound, Outgoing, SendError};
use ferry_core::contact::{Contact, Identity, IdentityKind};
use ferry_core::conversation::{Conversation, Priority, Status};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::{
    Attachment, Button, ContentPart, Message, MessageKind, Sender, TemplateButtonValue, TemplateMessage,
};
use ferry_core::{AccountId, ContactId, ConversationId, InboxId, MessageId};
use ferry_sandbox::whatsapp::{self as fake, FakeGraph};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

const BUYER: &str = "4915112345678";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn inbox(graph: &FakeGraph) -> Inbox {
    let mut config = InboxConfig::default();
    config.extra.insert("whatsapp".into(), graph.settings("verify-me"));
    Inbox {
        id: InboxId(7),
        account_id: AccountId(1),
        name: "WhatsApp".into(),
        channel: ChannelKind::Whatsapp,
        config,
        secret: "app-secret".into(),
        created_at: Utc::now(),
    }
}

fn client(graph: &FakeGraph) -> WhatsAppClient {
    let settings = WhatsAppSettings::of(&inbox(graph)).unwrap().unwrap();
    WhatsAppClient::new(http(), &settings)
}

fn request(message: OutMessage) -> SendRequest {
    SendRequest { to: BUYER.into(), message, reply_to: None, reference: Some("501".into()) }
}

/// Stored attachments, by URL.
#[derive(Default)]
struct MemoryFiles(HashMap<String, (Vec<u8>, String)>);

#[async_trait]
impl Files for MemoryFiles {
    async fn read(&self, _account: AccountId, url: &str) -> Result<(Vec<u8>, String), SendError> {
        self.0.get(url).cloned().ok_or_else(|| SendError::Permanent("no such file".into()))
    }
}

fn contact(wa_id: Option<&str>) -> Contact {
    let now = Utc::now();
    Contact {
        id: ContactId(3),
        account_id: AccountId(1),
        name: "Ana".into(),
        email: None,
        phone: None,
        country: None,
        language: Some("en".into()),
        timezone: None,
        vip: false,
        custom_attributes: serde_json::Map::new(),
        tags: Vec::new(),
        identities: wa_id.map(|w| Identity::new(IdentityKind::Whatsapp, w, None).unwrap()).into_iter().collect(),
        created_at: now,
        updated_at: now,
    }
}

fn conversation() -> Conversation {
    let now = Utc::now();
    Conversation {
        id: ConversationId(11),
        account_id: AccountId(1),
        inbox_id: InboxId(7),
        contact_id: ContactId(3),
        status: Status::Open,
        assignee_id: None,
        team_id: None,
        priority: Priority::None,
        language: None,
        tags: Vec::new(),
        snoozed_until: None,
        handoff_reason: None,
        last_buyer_message_at: Some(now),
        first_reply_at: None,
        resolved_at: None,
        last_activity_at: now,
        created_at: now,
        updated_at: now,
    }
}

fn message(id: i64, parts: Vec<ContentPart>) -> Message {
    let now = Utc::now();
    Message {
        id: MessageId(id),
        account_id: AccountId(1),
        inbox_id: InboxId(7),
        conversation_id: ConversationId(11),
        kind: MessageKind::Outgoing,
        sender: Sender::Bot,
        parts,
        external_id: None,
        delivery: None,
        sent_at: now,
        created_at: now,
        meta: Default::default(),
    }
}

async fn send_with(
    outbound: &WhatsAppOutbound,
    graph: &FakeGraph,
    m: &Message,
    who: Option<&Contact>,
) -> Result<ferry_channels::Sent, SendError> {
    let inbox = inbox(graph);
    let conv = conversation();
    outbound.send(Outgoing { inbox: &inbox, conversation: &conv, message: m, contact: who }).await
}

fn outbound(files: MemoryFiles) -> WhatsAppOutbound {
    WhatsAppOutbound::new(http(), Arc::new(files))
}

#[tokio::test]
async fn text_with_a_link_gets_a_preview_and_the_reference() {
    let graph = FakeGraph::start().await.unwrap();
    let out = outbound(MemoryFiles::default());
    let buyer = contact(Some(BUYER));
    let sent = send_with(
        &out,
        &graph,
        &message(501, vec![ContentPart::Text { text: "Track: https://shop.example/t/1".into() }]),
        Some(&buyer),
    )
    .await
    .unwrap();
    let accepted = graph.sent();
    assert_eq!(accepted.len(), 1);
    assert_eq!(sent.external_id.as_deref(), Some(accepted[0].wamid.as_str()));
    assert_eq!((accepted[0].to.as_str(), accepted[0].kind.as_str()), (BUYER, "text"));
    assert_eq!(accepted[0].reference.as_deref(), Some("501"));
    assert_eq!(accepted[0].body["text"]["preview_url"], json!(true));
    assert_eq!(graph.count_by_reference()["501"], 1);
}

#[tokio::test]
async fn buttons_become_interactive_and_many_choices_a_list() {
    let graph = FakeGraph::start().await.unwrap();
    let out = outbound(MemoryFiles::default());
    let buyer = contact(Some(BUYER));
    let choices = |n: usize| ContentPart::Buttons {
        text: "Anything else?".into(),
        buttons: (0..n).map(|i| Button { title: format!("Choice {i}"), payload: format!("/choice_{i}") }).collect(),
    };
    send_with(&out, &graph, &message(1, vec![choices(2)]), Some(&buyer)).await.unwrap();
    send_with(&out, &graph, &message(2, vec![choices(7)]), Some(&buyer)).await.unwrap();
    send_with(&out, &graph, &message(3, vec![choices(12)]), Some(&buyer)).await.unwrap();
    let sent = graph.sent();
    assert_eq!(sent[0].body["interactive"]["type"], json!("button"));
    assert_eq!(sent[0].body["interactive"]["action"]["buttons"][1]["reply"]["id"], json!("/choice_1"));
    assert_eq!(sent[1].body["interactive"]["type"], json!("list"));
    assert_eq!(sent[1].body["interactive"]["action"]["sections"][0]["rows"].as_array().unwrap().len(), 7);
    assert_eq!(sent[2].kind, "text");
    assert!(sent[2].body["text"]["body"].as_str().unwrap().contains("12. Choice 11"));
}

#[tokio::test]
async fn templates_are_sent_with_their_parameters_and_checked() {
    let graph = FakeGraph::start().await.unwrap();
    let out = outbound(MemoryFiles::default());
    let buyer = contact(Some(BUYER));
    let template = |body: Vec<&str>| ContentPart::Template {
        template: Box::new(TemplateMessage {
            name: "order_update".into(),
            language: "en_US".into(),
            header: vec![],
            body: body.into_iter().map(str::to_owned).collect(),
            buttons: vec![TemplateButtonValue { index: 0, sub_type: "url".into(), value: "1001".into() }],
            text: "Hi Ana, your order #1001 has shipped".into(),
        }),
    };
    // The text part repeats the template: only the template goes out.
    let parts = vec![ContentPart::Text { text: "Hi Ana".into() }, template(vec!["Ana", "#1001", "Friday"])];
    send_with(&out, &graph, &message(9, parts), Some(&buyer)).await.unwrap();
    let sent = graph.sent();
    assert_eq!(sent.len(), 1);
    let t = &sent[0].body["template"];
    assert_eq!(t["name"], json!("order_update"));
    assert_eq!(t["components"][0]["parameters"][2]["text"], json!("Friday"));
    assert_eq!(t["components"][1]["sub_type"], json!("url"));
    // A parameter missing: Meta's 132000, for good.
    let refused = send_with(&out, &graph, &message(10, vec![template(vec!["Ana"])]), Some(&buyer)).await;
    assert!(matches!(refused, Err(SendError::Permanent(r)) if r.contains("132000")));
}

#[tokio::test]
async fn attachments_are_uploaded_then_sent_before_the_text() {
    let graph = FakeGraph::start().await.unwrap();
    let mut files = MemoryFiles::default();
    files.0.insert("store/a.png".into(), (b"\x89PNG fake".to_vec(), "image/png".into()));
    files.0.insert("store/b.pdf".into(), (b"%PDF-1.4 fake".to_vec(), "application/pdf".into()));
    let out = outbound(files);
    let buyer = contact(Some(BUYER));
    let att = |url: &str, ct: &str, name: &str| Attachment {
        url: url.into(),
        content_type: ct.into(),
        filename: Some(name.into()),
        size: None,
    };
    let parts = vec![
        ContentPart::Text { text: "Your invoice and the photo".into() },
        ContentPart::Image { attachment: att("store/a.png", "image/png", "a.png") },
        ContentPart::File { attachment: att("store/b.pdf", "application/pdf", "invoice.pdf") },
    ];
    let result = send_with(&out, &graph, &message(20, parts), Some(&buyer)).await.unwrap();
    let sent = graph.sent();
    let kinds: Vec<&str> = sent.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["image", "document", "text"]);
    assert_eq!(result.external_id.as_deref(), Some(sent[2].wamid.as_str()));
    let id = sent[0].body["image"]["id"].as_str().unwrap();
    assert_eq!(graph.media(id), Some((b"\x89PNG fake".to_vec(), "image/png".to_owned())));
    assert_eq!(sent[1].body["document"]["filename"], json!("invoice.pdf"));
    assert_eq!(graph.count_by_reference()["20"], 3);
    // One picture and a short text: the text is its caption.
    let parts = vec![
        ContentPart::Text { text: "Here".into() },
        ContentPart::Image { attachment: att("store/a.png", "image/png", "a.png") },
    ];
    send_with(&out, &graph, &message(21, parts), Some(&buyer)).await.unwrap();
    assert_eq!(graph.sent()[3].body["image"]["caption"], json!("Here"));
}

#[tokio::test]
async fn a_retry_after_a_partial_failure_sends_only_the_rest() {
    let graph = FakeGraph::start().await.unwrap();
    let out = outbound(MemoryFiles::default());
    let buyer = contact(Some(BUYER));
    let m = message(
        31,
        vec![
            ContentPart::Location { latitude: 52.52, longitude: 13.40, name: Some("Shop".into()) },
            ContentPart::Text { text: "We are here".into() },
        ],
    );
    // The location goes out; the text meets an outage.
    graph.pass_next();
    graph.fail_next(131_000);
    assert!(matches!(send_with(&out, &graph, &m, Some(&buyer)).await, Err(SendError::Retryable(_))));
    assert_eq!(graph.count_by_reference()["31"], 1);
    let sent = send_with(&out, &graph, &m, Some(&buyer)).await.unwrap();
    let mine: Vec<_> = graph.sent().into_iter().filter(|s| s.reference.as_deref() == Some("31")).collect();
    let kinds: Vec<&str> = mine.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["location", "text"], "each piece exactly once");
    assert_eq!(sent.external_id.as_deref(), Some(mine[1].wamid.as_str()));
    // Done: a later send of the same message starts from the beginning.
    send_with(&out, &graph, &m, Some(&buyer)).await.unwrap();
    assert_eq!(graph.count_by_reference()["31"], 4);
}

#[tokio::test]
async fn meta_errors_are_sorted() {
    let graph = FakeGraph::start().await.unwrap();
    let c = client(&graph);
    let text = || request(OutMessage::Text("hi".into()));

    graph.fail_recipient(BUYER, 131_047);
    let e = c.send(&text()).await.unwrap_err();
    assert!(
        matches!(&e, SendError::Permanent(r) if r.contains("24 hours") && r.contains("template") && r.contains("131047")),
        "{e:?}"
    );
    graph.fail_recipient(BUYER, 131_026);
    assert!(matches!(c.send(&text()).await, Err(SendError::Permanent(r)) if r.contains("131026")));
    graph.clear_failures();

    graph.fail_next(130_429);
    assert!(
        matches!(c.send(&text()).await, Err(SendError::Throttled { retry_after, .. }) if retry_after.as_secs() == 1)
    );
    graph.rate_limit_once(80_007);
    assert!(
        matches!(c.send(&text()).await, Err(SendError::Throttled { retry_after, .. }) if retry_after.as_secs() == 60)
    );
    graph.fail_next(131_000);
    assert!(matches!(c.send(&text()).await, Err(SendError::Retryable(_))));

    // The throughput limit of the number.
    graph.set_throughput(Some(2));
    let results = burst(&c, 3).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    assert!(results.iter().any(|r| matches!(r, Err(SendError::Throttled { .. }))));
    graph.set_throughput(None);

    // A wrong token: 401 with code 190, for good, and the token is never told.
    let mut settings = WhatsAppSettings::of(&inbox(&graph)).unwrap().unwrap();
    settings.access_token = "EAAG-wrong-token".into();
    let wrong = WhatsAppClient::new(http(), &settings);
    let e = wrong.send(&text()).await.unwrap_err();
    assert!(matches!(&e, SendError::Permanent(r) if r.contains("190")));
    assert!(!e.to_string().contains("EAAG"));
    assert_eq!(graph.sent().len(), 2);
}

async fn burst(c: &WhatsAppClient, n: usize) -> Vec<Result<String, SendError>> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(c.send(&request(OutMessage::Text("burst".into()))).await);
    }
    out
}

#[tokio::test]
async fn no_recipient_or_no_settings_fail_for_good() {
    let graph = FakeGraph::start().await.unwrap();
    let out = outbound(MemoryFiles::default());
    let m = message(40, vec![ContentPart::Text { text: "hi".into() }]);
    let nobody = contact(None);
    assert!(
        matches!(send_with(&out, &graph, &m, Some(&nobody)).await, Err(SendError::Permanent(r)) if r.contains("WhatsApp number"))
    );
    assert!(matches!(send_with(&out, &graph, &m, None).await, Err(SendError::Permanent(_))));
    assert!(graph.sent().is_empty());
}

#[tokio::test]
async fn media_is_fetched_and_checked() {
    let graph = FakeGraph::start().await.unwrap();
    let c = client(&graph);
    let id = graph.add_media(b"a photo of a broken mug".to_vec(), "image/jpeg");
    let info = c.media_info(&id).await.unwrap();
    assert_eq!((info.mime_type.as_str(), info.file_size), ("image/jpeg", Some(23)));
    let bytes = c.download(&info.url, 1024, info.sha256.as_deref()).await.unwrap();
    assert_eq!(bytes, b"a photo of a broken mug");
    assert_eq!(c.fetch_media(&id).await.unwrap(), (bytes.clone(), "image/jpeg".to_owned()));
    // Too large for the caller's limit.
    assert!(matches!(c.download(&info.url, 10, None).await, Err(SendError::Permanent(_))));
    // Bytes that do not match the declared hash.
    graph.tamper_media(&id);
    let e = c.download(&info.url, 1024, info.sha256.as_deref()).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent(r) if r.contains("SHA-256")));
    // An unknown medium.
    assert!(matches!(c.media_info("777").await, Err(SendError::Permanent(_))));
}

#[tokio::test]
async fn uploads_and_sends_by_id_or_link() {
    let graph = FakeGraph::start().await.unwrap();
    let c = client(&graph);
    let id = c.upload(b"OggS voice".to_vec(), "audio/ogg", Some("v.ogg")).await.unwrap();
    assert_eq!(graph.media(&id).unwrap().1, "audio/ogg");
    let audio = OutMessage::Media {
        kind: ferry_channels::whatsapp::MediaKind::Audio,
        source: MediaSource::Id(id),
        caption: Some("ignored for audio".into()),
        filename: None,
    };
    c.send(&request(audio)).await.unwrap();
    let linked = OutMessage::Media {
        kind: ferry_channels::whatsapp::MediaKind::Image,
        source: MediaSource::Link("https://shop.example/mug.jpg".into()),
        caption: Some("Mug".into()),
        filename: None,
    };
    let mut quoted = request(linked);
    quoted.reply_to = Some("wamid.buyer1".into());
    c.send(&quoted).await.unwrap();
    let reaction = OutMessage::Reaction { message_id: "wamid.buyer1".into(), emoji: "\u{1f44d}".into() };
    c.send(&request(reaction)).await.unwrap();
    let sent = graph.sent();
    assert!(sent[0].body["audio"].get("caption").is_none());
    assert_eq!(sent[1].body["context"]["message_id"], json!("wamid.buyer1"));
    assert_eq!(sent[2].body["reaction"]["emoji"], json!("\u{1f44d}"));
    // An unknown media id is Meta's media error.
    let bad = OutMessage::Media {
        kind: ferry_channels::whatsapp::MediaKind::Image,
        source: MediaSource::Id("123".into()),
        caption: None,
        filename: None,
    };
    assert!(matches!(c.send(&request(bad)).await, Err(SendError::Permanent(r)) if r.contains("131053")));
    c.mark_read("wamid.buyer1").await.unwrap();
    assert_eq!(graph.marked_read(), ["wamid.buyer1"]);
}

#[tokio::test]
async fn templates_are_read_page_by_page() {
    let graph = FakeGraph::start().await.unwrap();
    graph.set_max_page(Some(2));
    let c = client(&graph);
    let templates = c.templates(fake::BUSINESS_ACCOUNT_ID).await.unwrap();
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "order_update",
            "delivery_delay",
            "back_in_stock",
            "order_shipped",
            "order_shipped",
            "hello_world",
            "summer_sale",
            "spring_offer",
            "spring_offer"
        ]
    );
    let order = &templates[0];
    assert_eq!(
        (order.language.as_str(), order.category.as_str(), order.status.as_str()),
        ("en_US", "UTILITY", "APPROVED")
    );
    assert_eq!(order.quality.as_deref(), Some("GREEN"));
    assert_eq!(order.component("BODY").unwrap().parameters, 3);
    let buttons = &order.component("BUTTONS").unwrap().buttons;
    assert_eq!((buttons[0].kind.as_str(), buttons[0].parameters), ("URL", 1));
    assert_eq!(templates[1].language, "de");
    let number = c.phone_number().await.unwrap();
    assert_eq!(number.verified_name.as_deref(), Some("Ferry Demo Shop"));
}

/// A webhook receiver answering 503 to its first `refuse` requests, and
/// handing over every signed body it accepts.
async fn receiver(refuse: usize) -> (String, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    use axum::http::{HeaderMap, StatusCode};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/webhooks/whatsapp",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (tx, seen) = (tx.clone(), seen.clone());
            async move {
                if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < refuse {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let sig = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or_default();
                let pairs = [("X-Hub-Signature-256", sig)];
                let request = ferry_channels::WebhookRequest { headers: &pairs, body: &body };
                if ferry_channels::whatsapp::verify_signature("app-secret", &request).is_err() {
                    return StatusCode::UNAUTHORIZED;
                }
                let _ = tx.send(body.to_vec());
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/whatsapp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) -> Vec<u8> {
    tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await.unwrap().unwrap()
}

#[tokio::test]
async fn webhooks_of_the_stand_in_are_signed_and_read() {
    use ferry_channels::update::Update;
    let graph = FakeGraph::start().await.unwrap();
    let (url, mut rx) = receiver(0).await;
    graph.set_webhook(&url, "app-secret");
    let inbox = inbox(&graph);

    let posted = graph.buyer_text(BUYER, "Ana", "Where is my order?").await;
    assert_eq!(posted.status, 200);
    let batch = ferry_channels::whatsapp::parse(&inbox, &next(&mut rx).await, Utc::now()).unwrap();
    let Update::Message(m) = &batch.updates[0] else { panic!("{batch:?}") };
    assert_eq!(
        (m.inbound.external_id.as_str(), m.inbound.sender.name.as_deref()),
        (posted.message_id.as_str(), Some("Ana"))
    );
    assert_eq!(m.inbound.parts, [ContentPart::Text { text: "Where is my order?".into() }]);

    graph.buyer_image(BUYER, "Ana", b"jpeg bytes".to_vec(), "image/jpeg").await;
    let batch = ferry_channels::whatsapp::parse(&inbox, &next(&mut rx).await, Utc::now()).unwrap();
    let Update::Message(m) = &batch.updates[0] else { panic!("{batch:?}") };
    let media = &m.media[0];
    let c = client(&graph);
    let info = c.media_info(&media.media_id).await.unwrap();
    // The webhook's base64 hash checks the bytes as well as the hex one.
    let bytes = c.download(&info.url, 1024, media.sha256.as_deref()).await.unwrap();
    assert_eq!(bytes, b"jpeg bytes");

    graph.buyer_button_reply(BUYER, "/human", "Talk to a person", "wamid.ours").await;
    let batch = ferry_channels::whatsapp::parse(&inbox, &next(&mut rx).await, Utc::now()).unwrap();
    let Update::Message(m) = &batch.updates[0] else { panic!("{batch:?}") };
    assert_eq!(m.button_payload.as_deref(), Some("/human"));
    assert_eq!(m.reply_to.as_deref(), Some("wamid.ours"));
}

#[tokio::test]
async fn statuses_follow_each_send_and_survive_a_receiver_outage() {
    use ferry_channels::update::Update;
    use ferry_core::message::DeliveryStatus;
    let graph = FakeGraph::start().await.unwrap();
    let (url, mut rx) = receiver(2).await;
    graph.set_webhook(&url, "app-secret");
    graph.auto_status(true, std::time::Duration::from_millis(10));
    let inbox = inbox(&graph);
    let wamid = client(&graph).send(&request(OutMessage::Text("hi".into()))).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let batch = ferry_channels::whatsapp::parse(&inbox, &next(&mut rx).await, Utc::now()).unwrap();
        let Update::Status(s) = &batch.updates[0] else { panic!("{batch:?}") };
        assert_eq!((s.external_id.as_str(), s.reference.as_deref()), (wamid.as_str(), Some("501")));
        seen.push(s.status.clone());
    }
    assert_eq!(seen, [DeliveryStatus::Sent, DeliveryStatus::Delivered]);
    let refused = graph.webhook_attempts().iter().filter(|a| a.status == Some(503)).count();
    assert_eq!(refused, 2);
    // A failure report names Meta's error.
    graph.status_with_error(&wamid, "failed", Some(131_026)).await;
    let batch = ferry_channels::whatsapp::parse(&inbox, &next(&mut rx).await, Utc::now()).unwrap();
    let Update::Status(s) = &batch.updates[0] else { panic!("{batch:?}") };
    assert!(matches!(&s.status, DeliveryStatus::Failed { reason } if reason.contains("131026")));
}
