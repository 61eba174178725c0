//! The conformance cases of alerts and of the detectors' reads, run by
//! [`crate::conformance::run_all`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::conformance::t0;
use crate::*;
use chrono::{DateTime, Duration, Utc};
use ferry_commerce::detect::{AlertKind, Severity};
use ferry_commerce::{Fulfillment, InventoryLevel, LineItem, MirrorWrite, Order};
use ferry_core::account::Role;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::conversation::Transition;
use ferry_core::event::Event;
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, AlertId, InboxId, ShopConnectionId, UserId};
use std::sync::Arc;

/// Runs every alert case, each on its own fresh store from `fresh`.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    alerts_open_refresh_resolve_and_reopen(fresh().await).await;
    alerts_are_acknowledged_resolved_and_isolated(fresh().await).await;
    detector_reads_stock_orders_and_demand(fresh().await).await;
}

struct Shop {
    account: AccountId,
    inbox: InboxId,
    user: UserId,
    connection: ShopConnectionId,
}

async fn shop(s: &dyn Storage, name: &str) -> Shop {
    let a = s.create_account(NewAccount { name: name.into(), default_language: "en".into() }, t0()).await.unwrap();
    let inbox = s
        .create_inbox(
            a.id,
            NewInbox {
                name: "API".into(),
                channel: ChannelKind::Api,
                config: InboxConfig::default(),
                secret: "s3cret".into(),
            },
            t0(),
        )
        .await
        .unwrap();
    let user = s
        .create_user(
            a.id,
            NewUser {
                name: format!("Admin of {name}"),
                email: format!("admin@{}.alerts.example", name.to_lowercase()),
                password_hash: "x".into(),
                role: Role::Admin,
                languages: vec!["en".into()],
            },
            t0(),
        )
        .await
        .unwrap();
    let new = NewShopConnection {
        platform: ShopPlatform::Shopify,
        name: name.into(),
        shop_domain: format!("{}.myshopify.com", name.to_lowercase()),
        secret: "app-secret".into(),
        api_url: None,
        access_token: None,
    };
    let c = s.create_shop_connection(a.id, new, t0()).await.unwrap();
    Shop { account: a.id, inbox: inbox.id, user: user.id, connection: c.id }
}

fn finding(kind: AlertKind, key: &str, severity: Severity) -> NewAlert {
    NewAlert {
        kind,
        key: key.into(),
        severity,
        title: format!("{key} title"),
        details: serde_json::json!({ "key": key, "n": 1 }),
    }
}

fn keys(list: &[Alert]) -> Vec<(&str, AlertStatus)> {
    list.iter().map(|a| (a.key.as_str(), a.status)).collect()
}

/// A run opens new keys, refreshes known ones, resolves those no longer
/// found (of the kinds that ran only), and a resolved key found again
/// opens again.
pub async fn alerts_open_refresh_resolve_and_reopen(s: Arc<dyn Storage>) {
    let w = shop(&*s, "AlertRun").await;
    let stock = [AlertKind::OutOfStock];
    let t1 = t0() + Duration::minutes(15);
    let out = s
        .record_alerts(
            w.account,
            w.connection,
            &AlertKind::ALL,
            vec![
                finding(AlertKind::OutOfStock, "out_of_stock:A", Severity::Warning),
                finding(AlertKind::OutOfStock, "out_of_stock:B", Severity::Critical),
                finding(AlertKind::LateOrder, "late_order:1", Severity::Warning),
                // The same key twice in one run is one alert.
                finding(AlertKind::LateOrder, "late_order:1", Severity::Warning),
            ],
            t1,
        )
        .await
        .unwrap();
    assert_eq!((out.raised.len(), out.refreshed, out.resolved), (3, 0, 0));
    // One outbox event per alert raised, in the same transaction.
    assert_eq!(s.count_events(w.account).await.unwrap(), 3);
    let raised: Vec<AlertId> = s
        .unpublished_events(None, 10)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            Event::AlertRaised { alert_id, .. } if e.account_id == w.account => Some(alert_id),
            _ => None,
        })
        .collect();
    assert_eq!(raised, out.raised);
    let all = s.list_alerts(w.account, AlertFilter::default()).await.unwrap();
    assert_eq!(
        keys(&all),
        [
            ("late_order:1", AlertStatus::Open),
            ("out_of_stock:B", AlertStatus::Open),
            ("out_of_stock:A", AlertStatus::Open)
        ],
        "newest first"
    );
    let a = all.iter().find(|a| a.key == "out_of_stock:A").unwrap().clone();
    assert_eq!(a.connection_id, Some(w.connection));
    assert_eq!(a.details["key"], "out_of_stock:A");
    assert_eq!((a.first_seen_at, a.last_seen_at, a.resolved_at), (t1, t1, None));

    // Rerun of the stock detector only: A refreshed (now critical), B gone.
    let t2 = t1 + Duration::minutes(15);
    let out = s
        .record_alerts(
            w.account,
            w.connection,
            &stock,
            vec![finding(AlertKind::OutOfStock, "out_of_stock:A", Severity::Critical)],
            t2,
        )
        .await
        .unwrap();
    assert_eq!((out.raised.len(), out.refreshed, out.resolved), (0, 1, 1));
    let a2 = s.get_alert(w.account, a.id).await.unwrap().unwrap();
    assert_eq!(
        (a2.status, a2.severity, a2.first_seen_at, a2.last_seen_at),
        (AlertStatus::Open, Severity::Critical, t1, t2)
    );
    let resolved = s
        .list_alerts(w.account, AlertFilter { status: Some(AlertStatus::Resolved), ..AlertFilter::default() })
        .await
        .unwrap();
    assert_eq!(keys(&resolved), [("out_of_stock:B", AlertStatus::Resolved)]);
    assert_eq!((resolved[0].resolved_at, resolved[0].resolved_by), (Some(t2), None));
    // The late order was not part of that run: untouched.
    let late = s
        .list_alerts(w.account, AlertFilter { kind: Some(AlertKind::LateOrder), ..AlertFilter::default() })
        .await
        .unwrap();
    assert_eq!(keys(&late), [("late_order:1", AlertStatus::Open)]);

    // B is back: the same alert opens again, no duplicate.
    let t3 = t2 + Duration::minutes(15);
    let found = vec![
        finding(AlertKind::OutOfStock, "out_of_stock:A", Severity::Critical),
        finding(AlertKind::OutOfStock, "out_of_stock:B", Severity::Warning),
    ];
    let out = s.record_alerts(w.account, w.connection, &stock, found, t3).await.unwrap();
    assert_eq!((out.raised.len(), out.refreshed, out.resolved), (1, 1, 0));
    assert_eq!(s.count_events(w.account).await.unwrap(), 4, "raised again: one more event; refreshed: none");
    let b = s.get_alert(w.account, out.raised[0]).await.unwrap().unwrap();
    assert_eq!(
        (b.key.as_str(), b.status, b.first_seen_at, b.resolved_at),
        ("out_of_stock:B", AlertStatus::Open, t3, None)
    );
    assert_eq!(s.list_alerts(w.account, AlertFilter::default()).await.unwrap().len(), 3);
    // Limits apply.
    let one = s.list_alerts(w.account, AlertFilter { limit: 1, ..AlertFilter::default() }).await.unwrap();
    assert_eq!(one.len(), 1);
}

/// People acknowledge and resolve; an acknowledged alert stays
/// acknowledged while found; other accounts neither see nor change it.
pub async fn alerts_are_acknowledged_resolved_and_isolated(s: Arc<dyn Storage>) {
    let w = shop(&*s, "AlertAck").await;
    let other = shop(&*s, "AlertOther").await;
    let kinds = [AlertKind::CarrierDelay];
    let f = || vec![finding(AlertKind::CarrierDelay, "carrier_delay:dhl:BR", Severity::Warning)];
    let out = s.record_alerts(w.account, w.connection, &kinds, f(), t0()).await.unwrap();
    let id = out.raised[0];
    let t1 = t0() + Duration::minutes(1);
    let a = s.set_alert_status(w.account, id, AlertStatus::Acknowledged, w.user, t1).await.unwrap();
    assert_eq!((a.status, a.acknowledged_by), (AlertStatus::Acknowledged, Some(w.user)));
    let out = s.record_alerts(w.account, w.connection, &kinds, f(), t1).await.unwrap();
    assert_eq!((out.raised.len(), out.refreshed), (0, 1));
    assert_eq!(s.get_alert(w.account, id).await.unwrap().unwrap().status, AlertStatus::Acknowledged);
    let t2 = t1 + Duration::minutes(1);
    let a = s.set_alert_status(w.account, id, AlertStatus::Resolved, w.user, t2).await.unwrap();
    assert_eq!((a.status, a.resolved_at, a.resolved_by), (AlertStatus::Resolved, Some(t2), Some(w.user)));

    // Isolation.
    assert_eq!(s.get_alert(other.account, id).await.unwrap(), None);
    assert!(s.list_alerts(other.account, AlertFilter::default()).await.unwrap().is_empty());
    assert!(matches!(
        s.set_alert_status(other.account, id, AlertStatus::Open, other.user, t2).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(s.get_alert(w.account, AlertId(id.0 + 1000)).await, Ok(None)));
    assert!(matches!(s.record_alerts(other.account, w.connection, &kinds, f(), t2).await, Err(StorageError::NotFound)));
    assert_eq!(s.get_alert(w.account, id).await.unwrap().unwrap().status, AlertStatus::Resolved);
    // Reopened by hand: open, nobody's.
    let a = s.set_alert_status(w.account, id, AlertStatus::Open, w.user, t2).await.unwrap();
    assert_eq!((a.status, a.resolved_at, a.resolved_by, a.acknowledged_by), (AlertStatus::Open, None, None, None));
}

fn order(id: &str, placed: DateTime<Utc>, sku: &str) -> Order {
    Order {
        external_id: id.into(),
        number: id.into(),
        name: format!("#{id}"),
        email: None,
        phone: None,
        customer_external_id: None,
        customer_name: None,
        financial_status: "paid".into(),
        fulfillment_status: None,
        cancelled_at: None,
        cancel_reason: None,
        currency: "USD".into(),
        total_minor: 100,
        line_items: vec![LineItem {
            external_id: format!("{id}-1"),
            product_external_id: None,
            variant_external_id: None,
            sku: Some(sku.into()),
            title: "T".into(),
            variant_title: None,
            quantity: 2,
            price_minor: 50,
        }],
        shipping_address: None,
        created_at: placed,
        updated_at: placed,
    }
}

fn message(w: &Shop, ext: &str, handle: &str, text: &str, at: DateTime<Utc>) -> Inbound {
    Inbound {
        account_id: w.account,
        inbox_id: w.inbox,
        external_id: ext.into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::ApiHandle, handle, Some(w.inbox)).unwrap(),
            extra_identities: vec![],
            name: None,
            language: None,
        },
        parts: vec![ContentPart::Text { text: text.into() }],
        sent_at: at,
        meta: Default::default(),
    }
}

/// Stock per inventory item, orders placed since a time with their
/// shipments, and the open conversations asking about a term.
pub async fn detector_reads_stock_orders_and_demand(s: Arc<dyn Storage>) {
    let w = shop(&*s, "Detect").await;
    let other = shop(&*s, "DetectOther").await;
    let level = |item: &str, loc: &str, n: i64| {
        MirrorWrite::Inventory(InventoryLevel {
            inventory_item_id: item.into(),
            location_id: loc.into(),
            available: n,
            updated_at: t0(),
        })
    };
    let old = t0() - Duration::days(40);
    let recent = t0() - Duration::days(2);
    let writes = vec![
        level("i1", "l1", 3),
        level("i1", "l2", -1),
        level("i2", "l1", 0),
        MirrorWrite::Order(Box::new(order("o-old", old, "A"))),
        MirrorWrite::Order(Box::new(order("o-new", recent, "A"))),
        MirrorWrite::Fulfillment(Fulfillment {
            external_id: "f1".into(),
            order_external_id: "o-new".into(),
            status: "success".into(),
            shipment_status: Some("in_transit".into()),
            carrier: Some("DHL".into()),
            tracking_number: None,
            tracking_url: None,
            estimated_delivery_at: Some(t0()),
            created_at: recent,
            updated_at: recent,
        }),
    ];
    s.apply_mirror_writes(w.account, w.connection, None, writes, t0()).await.unwrap();
    assert_eq!(s.stock_levels(w.account, w.connection).await.unwrap(), [("i1".to_owned(), 2), ("i2".to_owned(), 0)]);
    assert!(s.stock_levels(other.account, w.connection).await.unwrap().is_empty());
    assert_eq!(s.detector_targets().await.unwrap(), [(w.account, w.connection), (other.account, other.connection)]);
    let since = t0() - Duration::days(14);
    let orders = s.orders_placed_since(w.account, w.connection, since, 100).await.unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].order.external_id, "o-new");
    assert_eq!(orders[0].fulfillments.len(), 1);
    assert_eq!(s.orders_placed_since(w.account, w.connection, old, 100).await.unwrap().len(), 2);
    assert!(s.orders_placed_since(other.account, w.connection, old, 100).await.unwrap().is_empty());

    // Demand: unresolved conversations with a recent buyer message naming
    // the SKU or the product (any case, LIKE wildcards taken literally).
    let opts = |now| IntakeOptions {
        bot_enabled: false,
        reopen_window: Duration::days(7),
        now,
        bot_job: None,
        threading: Threading::Latest,
        automatic: false,
    };
    let at = t0() - Duration::days(1);
    s.ingest(message(&w, "m1", "b1", "Is the DRESS-BLU-M back?", at), opts(at)).await.unwrap();
    s.ingest(message(&w, "m2", "b2", "When will the linen summer dress be back", at), opts(at)).await.unwrap();
    let resolved = s.ingest(message(&w, "m3", "b3", "dress-blu-m please", at), opts(at)).await.unwrap();
    let upd =
        ConversationUpdate { jobs: Vec::new(), transition: Transition::Resolve, describe: Box::new(|_| None), now: at };
    s.update_conversation(w.account, resolved.conversation.id, upd).await.unwrap();
    let long_ago = t0() - Duration::days(30);
    s.ingest(message(&w, "m4", "b4", "DRESS-BLU-M?", long_ago), opts(long_ago)).await.unwrap();
    s.ingest(message(&w, "m5", "b5", "100% cotton?", at), opts(at)).await.unwrap();
    s.ingest(message(&other, "m1", "b1", "DRESS-BLU-M", at), opts(at)).await.unwrap();
    let terms = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let count = |t: Vec<String>| {
        let s = s.clone();
        async move { s.count_conversations_asking(w.account, &t, since).await.unwrap() }
    };
    assert_eq!(count(terms(&["DRESS-BLU-M"])).await, 1);
    assert_eq!(count(terms(&["dress-blu-m", "Linen Summer Dress"])).await, 2);
    assert_eq!(count(terms(&["%"])).await, 1, "only the message with a literal %");
    assert_eq!(count(terms(&["", "  "])).await, 0);
    assert_eq!(count(terms(&["nothing like it"])).await, 0);
}
