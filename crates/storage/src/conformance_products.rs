//! The conformance cases of product feedback, run by
//! [`crate::conformance::run_all`]: a fixed data set written through the
//! ordinary writes, with figures computed by hand.
//!
//! The account is in Asia/Shanghai (UTC+8); the range is the local days
//! 2–15 March 2026 (weeks starting Monday 2 and Monday 9 March).
//!
//! Orders (placed, in UTC, and local):
//! - o1, buyer 1: `SKU-A` ×2 and `SKU-B` ×1, 3 March 10:00 (3 March 18:00).
//! - o2, buyer 2: `SKU-A` ×1, 8 March 15:30 (8 March 23:30, week 1).
//! - o3, buyer 3: `SKU-A` ×3, 9 March 16:30 (10 March 00:30, week 2).
//! - o4, nobody who writes: `SKU-A` ×1, 1 March 17:00 (2 March 01:00: in
//!   the range, though not in UTC).
//!
//! Conversations (opened, in UTC, and local):
//! - P1, buyer 1 (country DE): 4 March 02:00 (4 March), tagged `Damaged`.
//! - P2, buyer 2: 8 March 17:00 (9 March 01:00, week 2), tagged
//!   `wrong_item`.
//! - P3, buyer 3: 10 March 03:00 (10 March), tagged `vip`.
//!
//! By hand, `SKU-A`: 3 conversations, 2 defect ones (P1, P2), 4 orders, 7
//! units, rate 0.5; week 1: 1 conversation, 1 defect, 3 orders (o4, o1,
//! o2), 4 units, rate 1/3; week 2: 2 conversations, 1 defect, 1 order,
//! 3 units, rate 1. `SKU-B`: 1 conversation, 1 defect, 1 order, 1 unit.
//! Another account with the same SKU, orders and defects counts nowhere
//! here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::conformance::t0;
use crate::*;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ferry_commerce::detect::{AlertKind, Severity};
use ferry_commerce::{LineItem, MirrorWrite, Order};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::conversation::Transition;
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::insights::{
    DefectRules, ProductLine, SkuSale, ValueCount, day_number, defect_rate, local_day, parse_timezone, product_lines,
};
use ferry_core::message::{Attachment, ContentPart};
use ferry_core::{AccountId, ConversationId, InboxId, ShopConnectionId};
use std::sync::Arc;

/// Runs every product feedback case, each on its own fresh store.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    product_feedback_of_a_fixed_data_set(fresh().await).await;
    account_alerts_open_refresh_and_resolve(fresh().await).await;
}

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).single().unwrap()
}

fn day(d: u32) -> i64 {
    day_number(NaiveDate::from_ymd_opt(2026, 3, d).unwrap())
}

struct Shop {
    account: AccountId,
    inbox: InboxId,
    connection: ShopConnectionId,
}

async fn shop(s: &dyn Storage, name: &str) -> Shop {
    let a = s.create_account(NewAccount { name: name.into(), default_language: "en".into() }, t0()).await.unwrap();
    s.set_account_timezone(a.id, "Asia/Shanghai", t0()).await.unwrap();
    let inbox =
        NewInbox { name: "Desk".into(), channel: ChannelKind::Api, config: InboxConfig::default(), secret: "s".into() };
    let inbox = s.create_inbox(a.id, inbox, t0()).await.unwrap();
    let conn = NewShopConnection {
        platform: ShopPlatform::Shopify,
        name: "Shop".into(),
        shop_domain: format!("{}.myshopify.com", name.to_lowercase()),
        secret: "x".into(),
        api_url: None,
        access_token: None,
    };
    let conn = s.create_shop_connection(a.id, conn, t0()).await.unwrap();
    Shop { account: a.id, inbox: inbox.id, connection: conn.id }
}

fn order(id: &str, email: &str, lines: &[(&str, i64)], at: DateTime<Utc>) -> Order {
    Order {
        external_id: id.into(),
        number: id.into(),
        name: format!("#{id}"),
        email: Some(email.into()),
        phone: None,
        customer_external_id: None,
        customer_name: None,
        financial_status: "paid".into(),
        fulfillment_status: None,
        cancelled_at: None,
        cancel_reason: None,
        currency: "EUR".into(),
        total_minor: 100,
        line_items: lines
            .iter()
            .enumerate()
            .map(|(n, (sku, quantity))| LineItem {
                external_id: format!("{id}-{n}"),
                product_external_id: None,
                variant_external_id: None,
                sku: Some((*sku).into()),
                title: "T".into(),
                variant_title: None,
                quantity: *quantity,
                price_minor: 100,
            })
            .collect(),
        shipping_address: None,
        created_at: at,
        updated_at: at,
    }
}

async fn write(
    s: &dyn Storage,
    w: &Shop,
    ext: &str,
    handle: &str,
    parts: Vec<ContentPart>,
    at: DateTime<Utc>,
) -> ConversationId {
    let inbound = Inbound {
        account_id: w.account,
        inbox_id: w.inbox,
        external_id: ext.into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::ApiHandle, handle, Some(w.inbox)).unwrap(),
            extra_identities: vec![
                Identity::new(IdentityKind::Email, &format!("{handle}@buyer.example"), None).unwrap(),
            ],
            name: None,
            language: Some("en".into()),
        },
        parts,
        sent_at: at,
        meta: Default::default(),
    };
    let opts = IntakeOptions {
        bot_enabled: false,
        reopen_window: Duration::days(7),
        now: at,
        bot_job: None,
        threading: Threading::Latest,
        automatic: false,
    };
    s.ingest(inbound, opts).await.unwrap().conversation.id
}

fn text(t: &str) -> Vec<ContentPart> {
    vec![ContentPart::Text { text: t.into() }]
}

async fn tag(s: &dyn Storage, account: AccountId, id: ConversationId, tags: &[&str], at: DateTime<Utc>) {
    let transition = Transition::SetTags(tags.iter().map(|t| (*t).to_owned()).collect());
    let u = ConversationUpdate { jobs: Vec::new(), transition, describe: Box::new(|_| None), now: at };
    s.update_conversation(account, id, u).await.unwrap();
}

/// Writes one account's data set; returns P1, P2, P3.
async fn data_set(s: &dyn Storage, w: &Shop) -> [ConversationId; 3] {
    let writes = vec![
        MirrorWrite::Order(Box::new(order("o1", "b1@buyer.example", &[("SKU-A", 2), ("SKU-B", 1)], utc(3, 10, 0)))),
        MirrorWrite::Order(Box::new(order("o2", "b2@buyer.example", &[("SKU-A", 1)], utc(8, 15, 30)))),
        MirrorWrite::Order(Box::new(order("o3", "b3@buyer.example", &[("SKU-A", 3)], utc(9, 16, 30)))),
        MirrorWrite::Order(Box::new(order("o4", "other@buyer.example", &[("SKU-A", 1)], utc(1, 17, 0)))),
    ];
    s.apply_mirror_writes(w.account, w.connection, None, writes, t0()).await.unwrap();
    let photo = Attachment {
        url: "files/mug.jpg".into(),
        content_type: "image/jpeg".into(),
        filename: Some("mug.jpg".into()),
        size: Some(10),
    };
    let mut first = text("The mug arrived damaged");
    first.push(ContentPart::Image { attachment: photo });
    let p1 = write(s, w, "p1a", "b1", first, utc(4, 2, 0)).await;
    write(s, w, "p1b", "b1", text("Any news?"), utc(4, 3, 0)).await;
    let contact = s.get_conversation(w.account, p1).await.unwrap().unwrap().contact_id;
    let patch = ContactPatch { country: Some(Some("DE".into())), ..ContactPatch::default() };
    s.update_contact(w.account, contact, patch, utc(4, 2, 0)).await.unwrap();
    tag(s, w.account, p1, &["Damaged"], utc(4, 2, 5)).await;
    let p2 = write(s, w, "p2a", "b2", text("Wrong colour sent"), utc(8, 17, 0)).await;
    tag(s, w.account, p2, &["wrong_item"], utc(8, 17, 5)).await;
    let p3 = write(s, w, "p3a", "b3", text("Where is my parcel?"), utc(10, 3, 0)).await;
    tag(s, w.account, p3, &["vip"], utc(10, 3, 5)).await;
    [p1, p2, p3]
}

/// The figures the app derives from the storage reads, in Shanghai days.
async fn lines(s: &dyn Storage, account: AccountId, from: i64, until: i64) -> Vec<ProductLine> {
    let tz = parse_timezone("Asia/Shanghai").unwrap();
    let rules = s.defect_rules(account).await.unwrap();
    let convs = s.sku_conversations(account, from, until, None).await.unwrap();
    let mut skus: Vec<String> = convs.iter().flat_map(|c| c.skus.clone()).collect();
    skus.sort();
    skus.dedup();
    let start = |d: i64| {
        let date = ferry_core::insights::day_date(d).and_hms_opt(0, 0, 0).unwrap();
        tz.from_local_datetime(&date).single().unwrap().with_timezone(&Utc)
    };
    let sales: Vec<SkuSale> = s
        .sku_order_lines(account, skus, start(from), start(until + 1))
        .await
        .unwrap()
        .into_iter()
        .map(|l| SkuSale { day: local_day(l.placed_at, tz), sku: l.sku, quantity: l.quantity })
        .collect();
    product_lines(&rules, &convs, &sales, from, until)
}

/// The figures of the data set, by hand; another account's are apart; a
/// change of the rules moves them.
pub async fn product_feedback_of_a_fixed_data_set(s: Arc<dyn Storage>) {
    let w = shop(&*s, "Feedback").await;
    let [p1, p2, p3] = data_set(&*s, &w).await;
    // The same SKUs in another account, all of them defects.
    let other = shop(&*s, "Elsewhere").await;
    let [q1, q2, q3] = data_set(&*s, &other).await;
    for q in [q1, q2, q3] {
        tag(&*s, other.account, q, &["broken"], utc(11, 0, 0)).await;
    }

    assert_eq!(s.defect_rules(w.account).await.unwrap(), DefectRules::default());
    let convs = s.sku_conversations(w.account, day(2), day(15), None).await.unwrap();
    let got: Vec<(ConversationId, i64, Vec<String>)> =
        convs.iter().map(|c| (ConversationId(c.conversation_id), c.opened_day, c.skus.clone())).collect();
    let ab = vec!["SKU-A".to_owned(), "SKU-B".to_owned()];
    let a = vec!["SKU-A".to_owned()];
    assert_eq!(got, vec![(p1, day(4), ab), (p2, day(9), a.clone()), (p3, day(10), a)]);
    assert_eq!(convs[0].tags, vec!["Damaged".to_owned()]);
    assert_eq!(convs[0].country.as_deref(), Some("DE"));
    let only_b = s.sku_conversations(w.account, day(2), day(15), Some("SKU-B".into())).await.unwrap();
    assert_eq!(only_b.iter().map(|c| c.conversation_id).collect::<Vec<_>>(), vec![p1.0]);
    assert!(s.sku_conversations(w.account, day(11), day(15), None).await.unwrap().is_empty());

    let l = lines(&*s, w.account, day(2), day(15)).await;
    assert_eq!(l.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(), vec!["SKU-A", "SKU-B"]);
    let sku_a = &l[0];
    assert_eq!((sku_a.defect_conversations, sku_a.conversations, sku_a.orders, sku_a.units), (2, 3, 4, 7));
    assert_eq!(sku_a.defect_rate, Some(0.5));
    let vc = |v: &str, count| ValueCount { value: v.into(), count };
    assert_eq!(sku_a.reasons, vec![vc("damaged", 1), vc("wrong_item", 1)]);
    assert_eq!(sku_a.countries, vec![vc("DE", 1), vc("unknown", 1)]);
    let weeks: Vec<(String, u64, u64, u64, i64, Option<f64>)> = sku_a
        .weeks
        .iter()
        .map(|w| (w.week.to_string(), w.defect_conversations, w.conversations, w.orders, w.units, w.defect_rate))
        .collect();
    assert_eq!(
        weeks,
        vec![
            ("2026-03-02".to_owned(), 1, 1, 3, 4, defect_rate(1, 3)),
            ("2026-03-09".to_owned(), 1, 2, 1, 3, Some(1.0)),
        ]
    );
    assert_eq!(defect_rate(1, 3), Some(0.3333));
    let sku_b = &l[1];
    assert_eq!((sku_b.defect_conversations, sku_b.orders, sku_b.units, sku_b.defect_rate), (1, 1, 1, Some(1.0)));

    // The first buyer message of each, with its files; not another
    // account's.
    let firsts = s.first_buyer_messages(w.account, vec![p1, p2, q1]).await.unwrap();
    assert_eq!(firsts.len(), 2);
    assert_eq!((firsts[0].conversation_id, firsts[0].sent_at), (p1, utc(4, 2, 0)));
    assert_eq!(ferry_core::message::text_of(&firsts[0].parts), "The mug arrived damaged");
    assert!(matches!(&firsts[0].parts[1], ContentPart::Image { attachment } if attachment.url == "files/mug.jpg"));
    assert_eq!(firsts[1].conversation_id, p2);

    // The other account: all three conversations are defects there.
    let o = lines(&*s, other.account, day(2), day(15)).await;
    assert_eq!((o[0].sku.as_str(), o[0].defect_conversations, o[0].orders), ("SKU-A", 3, 4));

    // New rules: only `vip` marks a defect now.
    let rules = DefectRules { tags: vec!["vip".into()], intents: vec!["complaint".into()] };
    s.set_defect_rules(w.account, rules.clone(), t0()).await.unwrap();
    assert_eq!(s.defect_rules(w.account).await.unwrap(), rules);
    let l = lines(&*s, w.account, day(2), day(15)).await;
    let got: Vec<(&str, u64)> = l.iter().map(|l| (l.sku.as_str(), l.defect_conversations)).collect();
    assert_eq!(got, vec![("SKU-A", 1), ("SKU-B", 0)]);
    assert_eq!(s.defect_rules(other.account).await.unwrap(), DefectRules::default(), "per account");
    assert!(matches!(
        s.set_defect_rules(AccountId(i64::MAX), DefectRules::default(), t0()).await,
        Err(StorageError::NotFound)
    ));
}

fn finding(key: &str) -> NewAlert {
    NewAlert {
        kind: AlertKind::DefectRate,
        key: key.into(),
        severity: Severity::Warning,
        title: key.into(),
        details: serde_json::json!({}),
    }
}

/// Account-wide alerts (on no shop) open once per key, refresh, resolve
/// when not found, and leave the shop's alerts alone.
pub async fn account_alerts_open_refresh_and_resolve(s: Arc<dyn Storage>) {
    let w = shop(&*s, "DefectAlerts").await;
    let t1 = t0() + Duration::hours(1);
    let stock = NewAlert { kind: AlertKind::OutOfStock, ..finding("out_of_stock:A") };
    s.record_alerts(w.account, w.connection, &AlertKind::SHOP, vec![stock], t1).await.unwrap();
    let kinds = [AlertKind::DefectRate];
    let out = s
        .record_account_alerts(w.account, &kinds, vec![finding("defect_rate:A"), finding("defect_rate:B")], t1)
        .await
        .unwrap();
    assert_eq!((out.raised.len(), out.refreshed, out.resolved), (2, 0, 0));
    let out = s.record_account_alerts(w.account, &kinds, vec![finding("defect_rate:A")], t1).await.unwrap();
    assert_eq!((out.raised.len(), out.refreshed, out.resolved), (0, 1, 1));
    let filter = AlertFilter { kind: Some(AlertKind::DefectRate), ..Default::default() };
    let all = s.list_alerts(w.account, filter).await.unwrap();
    let got: Vec<(&str, AlertStatus, Option<ShopConnectionId>)> =
        all.iter().map(|a| (a.key.as_str(), a.status, a.connection_id)).collect();
    assert_eq!(got, vec![("defect_rate:B", AlertStatus::Resolved, None), ("defect_rate:A", AlertStatus::Open, None)]);
    // The account's run left the shop's alert open, and the shop's run
    // leaves the account's.
    let open = AlertFilter { status: Some(AlertStatus::Open), ..Default::default() };
    let keys = |v: Vec<Alert>| v.into_iter().map(|a| a.key).collect::<Vec<_>>();
    assert_eq!(keys(s.list_alerts(w.account, open.clone()).await.unwrap()), vec!["defect_rate:A", "out_of_stock:A"]);
    s.record_alerts(w.account, w.connection, &AlertKind::SHOP, vec![], t1).await.unwrap();
    assert_eq!(keys(s.list_alerts(w.account, open.clone()).await.unwrap()), vec!["defect_rate:A"]);
    let other = shop(&*s, "NoAlerts").await;
    assert!(s.list_alerts(other.account, open).await.unwrap().is_empty());
}
