//! `ferry demo`: a seeded demo shop, served. Seeding happens once per data
//! directory; later runs print the same credentials and serve the same data.
//! The commerce detectors run before serving, so the console shows the
//! shop's alerts (a stock-out buyers ask about, low stock, late orders, a
//! carrier late to Brazil) from the start.

use anyhow::Context;
use chrono::{Duration, Utc};
use ferry_api::server::Background;
use ferry_app::auth::Actor;
use ferry_app::{App, NewAgent, NewInboxInput, NewReply};
use ferry_cli::config::Config;
use ferry_core::account::Role;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::conversation::Status;
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_sandbox::meta_pages::FakePages;
use ferry_sandbox::smtp::SmtpSink;
use ferry_sandbox::whatsapp::FakeGraph;
use ferry_storage::{NewAccount, NewContact};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Password of every demo user.
pub const DEMO_PASSWORD: &str = "ferry-demo";

/// What the demo prints, kept in the data directory.
#[derive(Debug, Serialize, Deserialize)]
struct DemoInfo {
    account_id: i64,
    api_access_token: String,
    api_inbox_id: i64,
    api_inbox_secret: String,
    owner_email: String,
    #[serde(default)]
    widget_inbox_id: Option<i64>,
    #[serde(default)]
    shopify_connection_id: Option<i64>,
    #[serde(default)]
    shopify_secret: Option<String>,
    #[serde(default)]
    email_inbox: Option<(i64, String)>,
    #[serde(default)]
    amazon_inbox: Option<(i64, String)>,
    #[serde(default)]
    whatsapp_inbox: Option<crate::whatsapp::WhatsAppInbox>,
    #[serde(default)]
    meta_inboxes: Option<crate::meta::MetaInboxes>,
    #[serde(default)]
    phone_inboxes: Option<crate::phone::PhoneInboxes>,
}

/// The demo shop's catalogue: (product id, title, [(variant id, title, sku,
/// price, units in stock)]).
type DemoProduct = (i64, &'static str, &'static [(i64, &'static str, &'static str, &'static str, i64)]);

const PRODUCTS: &[DemoProduct] = &[
    (
        501,
        "Linen Summer Dress",
        &[(5011, "Blue / M", "DRESS-BLU-M", "79.00", 0), (5012, "Blue / S", "DRESS-BLU-S", "79.00", 6)],
    ),
    (
        502,
        "Everyday Tee",
        &[(5021, "White / M", "TEE-WHT-M", "24.00", 140), (5022, "Black / L", "TEE-BLK-L", "24.00", 3)],
    ),
    (503, "Trail Sneakers", &[(5031, "EU 42", "SNKR-42", "119.00", 18)]),
    (504, "Canvas Backpack", &[(5041, "Olive", "BAG-OLV", "59.00", 25)]),
];

/// (order number, buyer index, variant index into PRODUCTS (product, variant),
/// quantity, days ago placed, state: "paid" | "shipped" | "delivered" | "late").
type DemoOrder = (i64, usize, (usize, usize), i64, i64, &'static str);

const ORDERS: &[DemoOrder] = &[
    (1001, 0, (2, 0), 1, 16, "late"),
    (1002, 1, (0, 1), 1, 1, "paid"),
    (1003, 2, (1, 0), 2, 10, "shipped"),
    (1004, 3, (3, 0), 1, 20, "delivered"),
    (1005, 4, (1, 1), 1, 6, "shipped"),
    (1006, 6, (2, 0), 1, 3, "paid"),
    (1007, 10, (0, 0), 1, 2, "paid"),
    (1008, 7, (3, 0), 1, 25, "delivered"),
    // Trail Sneakers bought this week by three buyers who write back about
    // a defect (see DEFECT_CHATS): the product feedback page leads with
    // SNKR-42 and its defect rate jumps.
    (1009, 5, (2, 0), 1, 5, "delivered"),
    (1010, 8, (2, 0), 1, 5, "delivered"),
    (1011, 9, (2, 0), 1, 4, "delivered"),
];

fn demo_shopify_order(
    n: &(i64, usize, (usize, usize), i64, i64, &str),
    now: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    let (number, buyer, (p, v), qty, days, state) = *n;
    let b = &BUYERS[buyer];
    let (product_id, title, variants) = PRODUCTS[p];
    let (variant_id, variant_title, sku, price, _) = variants[v];
    let placed = now - Duration::days(days);
    // Nothing the shop did can be later than now.
    let past = |t: chrono::DateTime<chrono::Utc>| t.min(now);
    let id = 820_000 + number;
    let unit = ferry_commerce::money::parse_minor(price, "USD").unwrap_or_default();
    let total = ferry_commerce::money::format_minor(unit * qty, "USD");
    let shipped = state != "paid";
    let fulfillments = if shipped {
        let delivered = state == "delivered";
        let promised = placed + Duration::days(if state == "late" { 9 } else { 12 });
        let tracking = format!("JJD00{}{}", 39000 + number, buyer);
        serde_json::json!([{
            "id": id * 10, "order_id": id, "status": "success",
            "shipment_status": if delivered { "delivered" } else { "in_transit" },
            "tracking_company": "DHL Express", "tracking_number": tracking,
            "tracking_url": format!("https://www.dhl.com/track?tracking-id={tracking}"),
            "estimated_delivery_at": promised.to_rfc3339(),
            "created_at": past(placed + Duration::days(2)).to_rfc3339(),
            "updated_at": past(placed + Duration::days(3)).to_rfc3339()
        }])
    } else {
        serde_json::json!([])
    };
    let (first, last) = b.name.split_once(' ').unwrap_or((b.name, ""));
    serde_json::json!({
        "id": id, "name": format!("#{number}"), "order_number": number, "email": b.email, "phone": b.phone,
        "currency": "USD", "total_price": total, "financial_status": "paid",
        "fulfillment_status": if shipped { serde_json::json!("fulfilled") } else { serde_json::Value::Null },
        "created_at": placed.to_rfc3339(), "updated_at": past(placed + Duration::days(3)).to_rfc3339(),
        "customer": {"id": 900 + buyer as i64, "first_name": first, "last_name": last, "email": b.email},
        "shipping_address": {"name": b.name, "country_code": b.country, "phone": b.phone},
        "line_items": [{"id": id * 100, "product_id": product_id, "variant_id": variant_id, "sku": sku,
            "title": title, "variant_title": variant_title, "quantity": qty, "price": price}],
        "fulfillments": fulfillments
    })
}

/// Past sales of guests (no seeded contact), so that every detector has
/// something to find: (order number, variant index into PRODUCTS, days ago
/// placed, carrier, ship-to country, days from shipping to the delivery
/// estimate, days from shipping to delivery). TEE-BLK-L sells faster than
/// its 3 units last; YunExpress delivers late to Brazil.
type DemoSale = (i64, (usize, usize), i64, &'static str, &'static str, i64, i64);

const SALES: &[DemoSale] = &[
    (1101, (1, 1), 2, "DHL Express", "GB", 5, 1),
    (1102, (1, 1), 4, "DHL Express", "GB", 5, 2),
    (1103, (1, 1), 5, "DHL Express", "DE", 5, 2),
    (1104, (1, 1), 7, "DHL Express", "FR", 5, 3),
    (1105, (1, 1), 9, "DHL Express", "GB", 5, 3),
    (1106, (1, 1), 11, "DHL Express", "DE", 5, 4),
    (1107, (1, 1), 12, "DHL Express", "US", 5, 4),
    (1111, (3, 0), 40, "YunExpress", "BR", 12, 21),
    (1112, (3, 0), 36, "YunExpress", "BR", 12, 19),
    (1113, (3, 0), 33, "YunExpress", "BR", 12, 25),
    (1114, (3, 0), 29, "YunExpress", "BR", 12, 11),
    (1115, (3, 0), 27, "YunExpress", "BR", 12, 20),
];

fn demo_sale(sale: &DemoSale, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let (number, (p, v), days, carrier, country, eta, delivered) = *sale;
    let (product_id, title, variants) = PRODUCTS[p];
    let (variant_id, variant_title, sku, price, _) = variants[v];
    let placed = now - Duration::days(days);
    let shipped = placed + Duration::days(1);
    let past = |t: chrono::DateTime<chrono::Utc>| t.min(now);
    let id = 820_000 + number;
    let tracking = format!("DS{number}00{country}");
    serde_json::json!({
        "id": id, "name": format!("#{number}"), "order_number": number, "email": format!("guest{number}@example.net"),
        "currency": "USD", "total_price": price, "financial_status": "paid", "fulfillment_status": "fulfilled",
        "created_at": placed.to_rfc3339(), "updated_at": past(shipped + Duration::days(delivered)).to_rfc3339(),
        "shipping_address": {"name": format!("Guest {number}"), "country_code": country},
        "line_items": [{"id": id * 100, "product_id": product_id, "variant_id": variant_id, "sku": sku,
            "title": title, "variant_title": variant_title, "quantity": 1, "price": price}],
        "fulfillments": [{
            "id": id * 10, "order_id": id, "status": "success", "shipment_status": "delivered",
            "tracking_company": carrier, "tracking_number": tracking,
            "estimated_delivery_at": (shipped + Duration::days(eta)).to_rfc3339(),
            "created_at": past(shipped).to_rfc3339(),
            "updated_at": past(shipped + Duration::days(delivered)).to_rfc3339()
        }]
    })
}

/// Connects the demo Shopify shop and fills its mirror with the catalogue,
/// stock and the buyers' orders, through the same parsing as webhooks.
async fn seed_shop(app: &App, owner: &Actor, account: ferry_core::AccountId) -> anyhow::Result<(i64, String)> {
    use ferry_commerce::shopify;
    let conn = app
        .create_shop_connection(
            owner,
            account,
            ferry_app::commerce::NewShopInput {
                platform: ferry_storage::ShopPlatform::Shopify,
                name: "Ferry Demo Shop (Shopify)".into(),
                shop_domain: "ferry-demo.myshopify.com".into(),
                secret: None,
                api_url: None,
                access_token: None,
            },
        )
        .await?;
    let now = app.clock.now();
    let mut writes = Vec::new();
    for (pid, title, variants) in PRODUCTS {
        let product = serde_json::json!({
            "id": pid, "title": title, "status": "active", "updated_at": now.to_rfc3339(),
            "variants": variants.iter().map(|(vid, vt, sku, price, stock)| serde_json::json!({
                "id": vid, "title": vt, "sku": sku, "price": price, "inventory_item_id": vid + 70_000,
                "inventory_quantity": stock
            })).collect::<Vec<_>>()
        });
        writes.push(ferry_commerce::MirrorWrite::Product(shopify::product(&product)?));
        for (vid, _, _, _, stock) in *variants {
            let level = serde_json::json!({"inventory_item_id": vid + 70_000, "location_id": 1, "available": stock,
                "updated_at": now.to_rfc3339()});
            writes.extend(shopify::inventory_level(&level)?.map(ferry_commerce::MirrorWrite::Inventory));
        }
    }
    for o in ORDERS {
        writes.extend(shopify::order_writes(&demo_shopify_order(o, now))?);
    }
    for sale in SALES {
        writes.extend(shopify::order_writes(&demo_sale(sale, now))?);
    }
    app.storage.apply_mirror_writes(account, conn.id, None, writes, now).await?;
    Ok((conn.id.0, conn.secret))
}

struct Buyer {
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    country: &'static str,
    language: &'static str,
    timezone: &'static str,
    vip: bool,
}

const BUYERS: &[Buyer] = &[
    Buyer {
        name: "Emily Johnson",
        email: "emily.johnson@example.com",
        phone: "+14155552671",
        country: "US",
        language: "en",
        timezone: "America/Los_Angeles",
        vip: true,
    },
    Buyer {
        name: "Lukas Schneider",
        email: "lukas.schneider@example.de",
        phone: "+4915123456789",
        country: "DE",
        language: "de",
        timezone: "Europe/Berlin",
        vip: false,
    },
    Buyer {
        name: "Sofía García",
        email: "sofia.garcia@example.es",
        phone: "+34612345678",
        country: "ES",
        language: "es",
        timezone: "Europe/Madrid",
        vip: false,
    },
    Buyer {
        name: "Camille Martin",
        email: "camille.martin@example.fr",
        phone: "+33612345678",
        country: "FR",
        language: "fr",
        timezone: "Europe/Paris",
        vip: false,
    },
    Buyer {
        name: "佐藤 花子",
        email: "hanako.sato@example.jp",
        phone: "+819012345678",
        country: "JP",
        language: "ja",
        timezone: "Asia/Tokyo",
        vip: false,
    },
    Buyer {
        name: "김민준",
        email: "minjun.kim@example.kr",
        phone: "+821012345678",
        country: "KR",
        language: "ko",
        timezone: "Asia/Seoul",
        vip: false,
    },
    Buyer {
        name: "João Silva",
        email: "joao.silva@example.com.br",
        phone: "+5511912345678",
        country: "BR",
        language: "pt",
        timezone: "America/Sao_Paulo",
        vip: false,
    },
    Buyer {
        name: "Giulia Rossi",
        email: "giulia.rossi@example.it",
        phone: "+393123456789",
        country: "IT",
        language: "it",
        timezone: "Europe/Rome",
        vip: true,
    },
    Buyer {
        name: "Daan de Vries",
        email: "daan.devries@example.nl",
        phone: "+31612345678",
        country: "NL",
        language: "nl",
        timezone: "Europe/Amsterdam",
        vip: false,
    },
    Buyer {
        name: "Ahmed Al-Farsi",
        email: "ahmed.alfarsi@example.ae",
        phone: "+971501234567",
        country: "AE",
        language: "ar",
        timezone: "Asia/Dubai",
        vip: false,
    },
    Buyer {
        name: "Olivia Brown",
        email: "olivia.brown@example.co.uk",
        phone: "+447911123456",
        country: "GB",
        language: "en",
        timezone: "Europe/London",
        vip: false,
    },
    Buyer {
        name: "Zeynep Yılmaz",
        email: "zeynep.yilmaz@example.com.tr",
        phone: "+905321234567",
        country: "TR",
        language: "tr",
        timezone: "Europe/Istanbul",
        vip: false,
    },
];

/// (buyer index, messages) of the seeded conversations.
const CHATS: &[(usize, &[&str])] = &[
    (
        0,
        &[
            "Hi, where is my order #1001? It was supposed to arrive last week.",
            "The tracking page hasn't changed in 5 days.",
        ],
    ),
    (1, &["Hallo, ich möchte meine Bestellung #1002 stornieren, bitte."]),
    (2, &["¿Cuándo llegará mi pedido? Lo compré hace diez días."]),
    (3, &["Bonjour, le colis est arrivé endommagé. Comment faire un retour ?"]),
    (4, &["注文した商品はいつ届きますか？"]),
    (6, &["Vocês enviam para o Brasil? Quanto custa o frete?"]),
    (7, &["Is the blue dress in size M back in stock?", "It's the Linen Summer Dress, DRESS-BLU-M."]),
    (10, &["Can I change the delivery address for order #1007?"]),
];

/// (buyer index, message, tags) of defect conversations about the Trail
/// Sneakers (orders 1009–1011), answered and resolved.
const DEFECT_CHATS: &[(usize, &str, &[&str])] = &[
    (5, "운동화 밑창이 하루 만에 떨어졌어요. 교환 가능한가요?", &["damaged"]),
    (8, "Ik heb maat 44 gekregen in plaats van 42.", &["wrong_item"]),
    (9, "The left shoe arrived with a torn seam.", &["damaged", "return"]),
];

async fn seed(app: &App, sink: std::net::SocketAddr) -> anyhow::Result<DemoInfo> {
    let now = app.clock.now();
    let account = app
        .storage
        .create_account(NewAccount { name: "Ferry Demo Shop".into(), default_language: "en".into() }, now)
        .await?;
    let a = account.id;
    let owner_email = "owner@demo.ferry.test".to_owned();
    let owner = app
        .create_user(
            a,
            NewAgent {
                name: "Mei Chen".into(),
                email: owner_email.clone(),
                password: DEMO_PASSWORD.into(),
                role: Role::Owner,
                languages: vec!["zh".into(), "en".into()],
            },
        )
        .await?;
    let li = app
        .create_user(
            a,
            NewAgent {
                name: "Li Wei".into(),
                email: "li.wei@demo.ferry.test".into(),
                password: DEMO_PASSWORD.into(),
                role: Role::Agent,
                languages: vec!["zh".into(), "en".into(), "ja".into()],
            },
        )
        .await?;
    let anna = app
        .create_user(
            a,
            NewAgent {
                name: "Anna Müller".into(),
                email: "anna@demo.ferry.test".into(),
                password: DEMO_PASSWORD.into(),
                role: Role::Agent,
                languages: vec!["de".into(), "en".into(), "fr".into()],
            },
        )
        .await?;
    let token = app.issue_token(&owner, "demo").await?;
    let owner_actor = Actor::new(owner.clone());
    let team = app.create_team(&owner_actor, a, "After-sales", "Returns, refunds and damaged parcels").await?;
    app.set_team_members(&owner_actor, a, team.id, &[li.id, anna.id]).await?;
    let inbox = app
        .create_inbox(
            &owner_actor,
            a,
            NewInboxInput { name: "Shop API".into(), channel: ChannelKind::Api, config: InboxConfig::default() },
        )
        .await?;
    let widget = app
        .create_inbox(
            &owner_actor,
            a,
            NewInboxInput {
                name: "Ferry Demo Shop".into(),
                channel: ChannelKind::WebWidget,
                config: InboxConfig {
                    greeting: Some("Hi! Questions about an order? We usually answer within minutes.".into()),
                    csat: Some(ferry_core::csat::CsatSettings { enabled: true, ..Default::default() }),
                    extra: serde_json::json!({ "office_hours": "Mon–Fri 09:00–18:00 CET" })
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    ..InboxConfig::default()
                },
            },
        )
        .await?;

    for b in BUYERS {
        let ids = vec![
            Identity::new(IdentityKind::Email, b.email, None)?,
            Identity::new(IdentityKind::Phone, b.phone, None)?,
        ];
        app.storage
            .create_contact(
                a,
                NewContact {
                    name: b.name.into(),
                    country: Some(b.country.into()),
                    language: Some(b.language.into()),
                    timezone: Some(b.timezone.into()),
                    vip: b.vip,
                    identities: ids,
                    ..NewContact::default()
                },
                now,
            )
            .await?;
    }

    let mut convs = Vec::new();
    for (n, (idx, lines)) in CHATS.iter().enumerate() {
        let b = &BUYERS[*idx];
        for (k, text) in lines.iter().enumerate() {
            let at = now - Duration::minutes(((CHATS.len() - n) * 37) as i64) + Duration::minutes(k as i64);
            let inbound = Inbound {
                account_id: a,
                inbox_id: inbox.id,
                external_id: format!("demo-{n}-{k}"),
                sender: InboundSender {
                    identity: Identity::new(IdentityKind::ApiHandle, &format!("shop-customer-{idx}"), Some(inbox.id))?,
                    extra_identities: vec![Identity::new(IdentityKind::Email, b.email, None)?],
                    name: Some(b.name.into()),
                    language: Some(b.language.into()),
                },
                parts: vec![ContentPart::Text { text: (*text).into() }],
                sent_at: at,
                meta: Default::default(),
            };
            let out = app.ingest(&inbox, inbound).await?;
            if k == 0 {
                convs.push(out.conversation.id);
            }
        }
    }
    let mut defects = Vec::new();
    for (n, (idx, text, _)) in DEFECT_CHATS.iter().enumerate() {
        let b = &BUYERS[*idx];
        let inbound = Inbound {
            account_id: a,
            inbox_id: inbox.id,
            external_id: format!("demo-defect-{n}"),
            sender: InboundSender {
                identity: Identity::new(IdentityKind::ApiHandle, &format!("shop-customer-{idx}"), Some(inbox.id))?,
                extra_identities: vec![Identity::new(IdentityKind::Email, b.email, None)?],
                name: Some(b.name.into()),
                language: Some(b.language.into()),
            },
            parts: vec![ContentPart::Text { text: (*text).into() }],
            sent_at: now - Duration::hours(30 - n as i64 * 6),
            meta: Default::default(),
        };
        defects.push(app.ingest(&inbox, inbound).await?.conversation.id);
    }
    // From now on the bot answers new API conversations first and hands
    // off to After-sales (the seeded ones above stay with people).
    let bot_config =
        InboxConfig { bot_enabled: true, handoff_team_id: Some(team.id), auto_assign: true, ..InboxConfig::default() };
    app.update_inbox(&owner_actor, a, inbox.id, None, Some(bot_config.clone())).await?;
    // The web chat too: a new visitor's first message gets the bot.
    let widget_config = InboxConfig {
        greeting: widget.config.greeting.clone(),
        csat: widget.config.csat.clone(),
        extra: widget.config.extra.clone(),
        ..bot_config
    };
    app.update_inbox(&owner_actor, a, widget.id, None, Some(widget_config)).await?;
    let mut bot = app.bot_document(&owner_actor, a).await?;
    bot.document.shop.insert("returns_url".into(), format!("{}/returns", app.config.public_url));
    app.edit_bot(&owner_actor, a, ferry_app::bot::BotEdit::Replace(bot.document), bot.version).await?;
    let (shopify_connection_id, shopify_secret) = seed_shop(app, &owner_actor, a).await?;
    let li_actor = Actor::new(li.clone());
    let anna_actor = Actor::new(anna.clone());
    app.assign_conversation(&owner_actor, a, convs[0], Some(Some(li.id)), Some(Some(team.id))).await?;
    app.set_tags(&li_actor, a, convs[0], &["where-is-my-order".into(), "late-delivery".into()]).await?;
    app.reply(
        &li_actor,
        a,
        convs[0],
        NewReply {
            text: Some("Hi Emily, sorry for the wait! Let me check with the carrier right away.".into()),
            ..Default::default()
        },
    )
    .await?;
    app.reply(
        &li_actor,
        a,
        convs[0],
        NewReply {
            text: Some("Carrier says the parcel is held at customs in LA; expect 2–3 days.".into()),
            private: true,
            ..Default::default()
        },
    )
    .await?;
    app.assign_conversation(&owner_actor, a, convs[1], Some(Some(anna.id)), None).await?;
    app.set_tags(&anna_actor, a, convs[1], &["cancel".into()]).await?;
    app.reply(
        &anna_actor,
        a,
        convs[1],
        NewReply {
            text: Some(
                "Hallo Lukas, Ihre Bestellung #1002 ist storniert. Die Erstattung erfolgt in 3–5 Werktagen.".into(),
            ),
            ..Default::default()
        },
    )
    .await?;
    app.set_status(&anna_actor, a, convs[1], Status::Resolved, None).await?;
    app.set_tags(&anna_actor, a, convs[3], &["damaged".into(), "return".into()]).await?;
    app.set_status(&li_actor, a, convs[5], Status::Pending, None).await?;
    app.set_status(&li_actor, a, convs[6], Status::Snoozed, Some(Utc::now() + Duration::hours(20))).await?;
    for (id, (_, _, tags)) in defects.iter().zip(DEFECT_CHATS) {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        app.set_tags(&anna_actor, a, *id, &tags).await?;
        app.set_status(&anna_actor, a, *id, Status::Resolved, None).await?;
    }
    let mail = crate::mail::seed(app, &owner_actor, a, sink).await?;

    Ok(DemoInfo {
        account_id: a.0,
        api_access_token: token,
        api_inbox_id: inbox.id.0,
        api_inbox_secret: inbox.secret,
        owner_email,
        widget_inbox_id: Some(widget.id.0),
        shopify_connection_id: Some(shopify_connection_id),
        shopify_secret: Some(shopify_secret),
        email_inbox: Some(mail.email),
        amazon_inbox: Some(mail.amazon),
        whatsapp_inbox: None,
        meta_inboxes: None,
        phone_inboxes: None,
    })
}

/// Where the demo remembers what it seeded: `demo.json` in the data
/// directory on SQLite; in the database on PostgreSQL, so every demo node
/// sharing it serves the same demo and only one seeds it.
struct Saved {
    storage: Arc<dyn ferry_storage::Storage>,
    path: std::path::PathBuf,
}

impl Saved {
    const KEY: &str = "demo";

    fn shared(&self) -> bool {
        self.storage.backend() == "postgres"
    }

    async fn load(&self) -> anyhow::Result<Option<DemoInfo>> {
        let bytes = if self.shared() {
            self.storage.installation_setting(Self::KEY).await?.map(String::into_bytes)
        } else {
            std::fs::read(&self.path).ok()
        };
        bytes
            .map(|b| serde_json::from_slice(&b))
            .transpose()
            .context("the saved demo is unreadable; remove the data directory (or the database) to start over")
    }

    async fn save(&self, info: &DemoInfo) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(info)?;
        if self.shared() {
            self.storage.put_installation_setting(Self::KEY, &json, Utc::now()).await?;
        } else {
            std::fs::write(&self.path, json)?;
        }
        Ok(())
    }

    /// Whether this node seeds (the others wait for it).
    async fn claim_seeding(&self) -> anyhow::Result<bool> {
        if !self.shared() {
            return Ok(true);
        }
        let now = Utc::now();
        let holder = format!("demo-{}", std::process::id());
        Ok(self.storage.take_lease("demo_seed", &holder, now, now + Duration::minutes(10)).await?)
    }

    async fn wait(&self) -> anyhow::Result<DemoInfo> {
        for _ in 0..1200 {
            if let Some(info) = self.load().await? {
                return Ok(info);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        anyhow::bail!("another demo node is seeding this database and has not finished in 10 minutes")
    }
}

/// Seeds (once) and serves the demo.
pub async fn run(mut cfg: Config) -> anyhow::Result<()> {
    let dir = cfg.data_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Bound first, so the printed URL is reachable as soon as it shows (and
    // names the port the system chose for `--listen 127.0.0.1:0`).
    let listener =
        tokio::net::TcpListener::bind(&cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    cfg.listen = listener.local_addr()?.to_string();
    // Mail the demo's inboxes send is kept here, never delivered.
    let sink = Arc::new(SmtpSink::start().await.context("starting the local SMTP sink")?);
    let storage = ferry_cli::open_storage(&cfg).await?;
    let mut node = ferry_cli::connect_node(&cfg, storage.clone()).await?;
    let saved = Saved { storage, path: dir.join("demo.json") };
    let mut info: DemoInfo = match saved.load().await? {
        Some(info) => info,
        None => match saved.claim_seeding().await? {
            true => {
                let info = seed(&node.app, sink.addr)
                    .await
                    .with_context(|| format!("seeding the demo failed; remove {} and try again", dir.display()))?;
                saved.save(&info).await?;
                info
            }
            false => saved.wait().await?,
        },
    };
    let account = ferry_core::AccountId(info.account_id);
    let owner = node.app.actor_from_token(&info.api_access_token).await.context("the demo's API token")?;
    if info.email_inbox.is_none() || info.amazon_inbox.is_none() {
        // A data directory from before the mail inboxes: add them once.
        let mail =
            crate::mail::seed(&node.app, &owner, account, sink.addr).await.context("seeding the mail inboxes")?;
        info.email_inbox = Some(mail.email);
        info.amazon_inbox = Some(mail.amazon);
        saved.save(&info).await?;
    }
    // WhatsApp's Graph API for this run, signing the webhooks it posts to
    // the demo's WhatsApp inbox.
    let graph = Arc::new(FakeGraph::start().await.context("starting the local WhatsApp Graph API")?);
    let url = format!("http://{}", cfg.listen);
    if info.whatsapp_inbox.is_none() {
        let w = crate::whatsapp::seed(&node.app, &owner, account, &graph).await.context("seeding WhatsApp")?;
        info.whatsapp_inbox = Some(w);
        saved.save(&info).await?;
    }
    if let Some(w) = &info.whatsapp_inbox {
        crate::whatsapp::use_fake(&node.app, &owner, account, w, &graph, &url)
            .await
            .context("pointing the WhatsApp inbox at the local Graph API")?;
    }
    // Messenger's and Instagram's Graph API for this run.
    let pages = Arc::new(FakePages::start().await.context("starting the local Messenger and Instagram Graph API")?);
    if info.meta_inboxes.is_none() {
        let m =
            crate::meta::seed(&node.app, &owner, account, &pages).await.context("seeding Messenger and Instagram")?;
        info.meta_inboxes = Some(m);
        saved.save(&info).await?;
    }
    if let Some(m) = &info.meta_inboxes {
        crate::meta::use_fake(&node.app, &owner, account, m, &pages, &url)
            .await
            .context("pointing the Messenger and Instagram inboxes at the local Graph API")?;
    }
    // Telegram's Bot API and the SMS provider for this run.
    let phone = Arc::new(crate::phone::Phone {
        bot: ferry_sandbox::telegram::FakeBotApi::start().await.context("starting the local Telegram Bot API")?,
        sms: ferry_sandbox::sms::SmsSink::start().await.context("starting the local SMS provider")?,
    });
    if info.phone_inboxes.is_none() {
        let p = crate::phone::seed(&node.app, &owner, account, &phone).await.context("seeding Telegram and SMS")?;
        info.phone_inboxes = Some(p);
        saved.save(&info).await?;
    }
    let mut sms_webhook = String::new();
    if let Some(p) = &info.phone_inboxes {
        sms_webhook = crate::phone::use_fakes(&node.app, &owner, account, p, &phone, &url)
            .await
            .context("pointing the Telegram and SMS inboxes at the local stand-ins")?;
    }
    // Kept for the whole run: the account's translation provider.
    let _translation = crate::translation::use_sandbox(&node.app, &owner, account).await?;
    let mail_inboxes: Vec<i64> = [&info.email_inbox, &info.amazon_inbox].into_iter().flatten().map(|i| i.0).collect();
    crate::mail::use_sink(&node.app, &owner, account, &mail_inboxes, sink.addr)
        .await
        .context("pointing the mail inboxes at the SMTP sink")?;
    // The alerts are there when the console opens; the schedule keeps
    // them current afterwards.
    let found = node.app.run_detectors(account).await.context("running the detectors")?;
    tracing::info!(alerts = found.found, "detectors ran");
    node.router = node.router.merge(crate::mail_page::router(sink.clone()));
    node.router = node.router.merge(crate::whatsapp_page::router(graph.clone()));
    node.router = node.router.merge(crate::meta_page::router(pages.clone()));
    node.router = node.router.merge(crate::phone::router(phone.clone()));
    println!("Ferry demo shop is running at {url}");
    println!(
        "console login: {} / {DEMO_PASSWORD}  (agents: li.wei@demo.ferry.test, anna@demo.ferry.test, same password)",
        info.owner_email
    );
    println!("data dir: {}", dir.display());
    println!("account_id: {}", info.account_id);
    println!("api_access_token: {}", info.api_access_token);
    println!("api_inbox: {} {}", info.api_inbox_id, info.api_inbox_secret);
    if let Some((id, secret)) = &info.email_inbox {
        println!("email_inbox: {id} {secret}");
    }
    if let Some((id, secret)) = &info.amazon_inbox {
        println!("amazon_inbox: {id} {secret}");
    }
    println!("mail_sink: {url}{}", crate::mail_page::PATH);
    if let Some(w) = &info.whatsapp_inbox {
        println!("whatsapp_inbox: {} {} {}", w.id, w.app_secret, w.verify_token);
        println!("whatsapp_phone: {url}{}", crate::whatsapp_page::PATH);
    }
    if let Some(m) = &info.meta_inboxes {
        println!("messenger_inbox: {} {} {}", m.messenger, ferry_sandbox::meta_pages::APP_SECRET, m.verify_token);
        println!("instagram_inbox: {} {} {}", m.instagram, ferry_sandbox::meta_pages::APP_SECRET, m.verify_token);
        println!("meta_app: {url}{}", crate::meta_page::PATH);
    }
    if let Some(p) = &info.phone_inboxes {
        println!("telegram_inbox: {} {}", p.telegram, p.secret_token);
        println!("sms_inbox: {} {} {sms_webhook}", p.sms, ferry_sandbox::sms::AUTH_TOKEN);
        println!("buyer_phone: {url}{}", crate::phone::PATH);
    }
    println!(
        "try: curl -H 'api_access_token: {}' {url}/api/v1/accounts/{}/conversations",
        info.api_access_token, info.account_id
    );
    if let (Some(id), Some(secret)) = (info.shopify_connection_id, &info.shopify_secret) {
        println!("shopify: {id} {secret}");
    }
    if let Some(w) = info.widget_inbox_id {
        println!("demo shop with the chat widget: {url}/widget/{w}/demo");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    node.spawn_background(Background::default());
    tracing::info!(listen = %cfg.listen, "Ferry is serving");
    node.serve(listener, ferry_cli::shutdown_signal()).await?;
    Ok(())
}
