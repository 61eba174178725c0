//! The conformance cases of insights, run by
//! [`crate::conformance::run_all`]: a fixed data set written through the
//! ordinary writes, with figures computed by hand.
//!
//! The account is in Europe/Berlin (UTC+1 in March 2026 until the 29th).
//! The inbox "Desk" is open Monday to Friday 09:00–17:00 Berlin time; the
//! inbox "Bot" has the bot and no business hours.
//!
//! - A (Desk): the buyer writes on Friday 6 March at 16:00; the agent
//!   answers on Monday 9 March at 10:00 (66 h, 2 business hours), the buyer
//!   writes at 10:30 and is answered at 11:00 (30 min), resolved at 12:00
//!   (68 h, 4 business hours). The buyer has an order with SKU `SKU-1`.
//! - B (Desk): Tuesday 10 March 10:00, answered 10:20, resolved 11:00,
//!   reopened by the buyer at 13:00, answered 13:10, resolved 14:00 (4 h).
//! - C (Bot): Wednesday 11 March 09:00, the bot answers, resolved 09:05
//!   without a person: contained.
//! - D (Bot): 11 March 10:00, handed off at 10:01 ("buyer asked for a
//!   person"), answered 10:11 (10 min from the hand-off), tagged `退货`,
//!   left open. The buyer is in CN.
//! - E (Desk): 12 March 00:30 Berlin, which is still 11 March in UTC: it
//!   opens on the 12th.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::conformance::t0;
use crate::*;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ferry_commerce::{LineItem, MirrorWrite, Order};
use ferry_core::account::Role;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::conversation::{Status, Transition};
use ferry_core::csat::{Answer, CsatScale};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::insights::{
    Dimension, Granularity, Metric, OverviewLine, Percentiles, Range, RollupRow, agents, agents_of_rollups, day_number,
    drill_down, handoffs, handoffs_of_rollups, overview, overview_of_rollups,
};
use ferry_core::message::{ContentPart, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId, InboxId, UserId};
use std::sync::Arc;

/// Runs every insights case, each on its own fresh store from `fresh`.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    reports_of_a_fixed_data_set(fresh().await).await;
    satisfaction_and_rollups(fresh().await).await;
}

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).single().unwrap()
}

fn day(d: u32) -> i64 {
    day_number(NaiveDate::from_ymd_opt(2026, 3, d).unwrap())
}

struct Fixture {
    account: AccountId,
    desk: InboxId,
    bot: InboxId,
    agent: UserId,
}

async fn fixture(s: &dyn Storage) -> Fixture {
    let a =
        s.create_account(NewAccount { name: "Insights".into(), default_language: "en".into() }, t0()).await.unwrap();
    assert_eq!(s.account_timezone(a.id).await.unwrap().as_deref(), Some("UTC"), "UTC until set");
    s.set_account_timezone(a.id, "Europe/Berlin", t0()).await.unwrap();
    let mut desk = InboxConfig::default();
    let weekly: Vec<_> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| serde_json::json!({"day": d, "open": "09:00", "close": "17:00"}))
        .collect();
    desk.extra.insert(
        "business_hours".into(),
        serde_json::json!({"timezone": "Europe/Berlin", "weekly": weekly, "holidays": ["2026-04-03"]}),
    );
    let inbox = |name: &str, config: InboxConfig| NewInbox {
        name: name.into(),
        channel: ChannelKind::Api,
        config,
        secret: "s".into(),
    };
    let desk = s.create_inbox(a.id, inbox("Desk", desk), t0()).await.unwrap();
    let bot = s.create_inbox(a.id, inbox("Bot", InboxConfig { bot_enabled: true, ..Default::default() }), t0());
    let bot = bot.await.unwrap();
    let agent = s
        .create_user(
            a.id,
            NewUser {
                name: "Agent".into(),
                email: "agent@insights.example".into(),
                password_hash: "x".into(),
                role: Role::Agent,
                languages: vec!["en".into()],
            },
            t0(),
        )
        .await
        .unwrap();
    Fixture { account: a.id, desk: desk.id, bot: bot.id, agent: agent.id }
}

fn buyer(f: &Fixture, inbox: InboxId, ext: &str, handle: &str, at: DateTime<Utc>) -> Inbound {
    Inbound {
        account_id: f.account,
        inbox_id: inbox,
        external_id: ext.into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::ApiHandle, handle, Some(inbox)).unwrap(),
            extra_identities: vec![
                Identity::new(IdentityKind::Email, &format!("{handle}@buyer.example"), None).unwrap(),
            ],
            name: None,
            language: Some("en".into()),
        },
        parts: vec![ContentPart::Text { text: "hello".into() }],
        sent_at: at,
        meta: Default::default(),
    }
}

async fn ingest(s: &dyn Storage, inbound: Inbound, bot: bool) -> ConversationId {
    let at = inbound.sent_at;
    let opts = IntakeOptions {
        bot_enabled: bot,
        reopen_window: Duration::days(7),
        now: at,
        bot_job: None,
        threading: Threading::Latest,
        automatic: false,
    };
    s.ingest(inbound, opts).await.unwrap().conversation.id
}

async fn reply(s: &dyn Storage, f: &Fixture, id: ConversationId, sender: Sender, at: DateTime<Utc>) {
    let transition = match sender {
        Sender::User(by) => Some(Transition::AgentReply { by, at }),
        _ => None,
    };
    let new = NewMessage {
        notice_send: None,
        conversation_id: id,
        kind: MessageKind::Outgoing,
        sender,
        parts: vec![ContentPart::Text { text: "answer".into() }],
        delivery: None,
        now: at,
        transition,
        job: None,
        bot_state: None,
        describe: None,
    };
    s.post_message(f.account, new).await.unwrap();
}

async fn update(s: &dyn Storage, f: &Fixture, id: ConversationId, transition: Transition, at: DateTime<Utc>) {
    let u = ConversationUpdate { jobs: Vec::new(), transition, describe: Box::new(|_| None), now: at };
    s.update_conversation(f.account, id, u).await.unwrap();
}

fn order(id: &str, email: &str, sku: &str) -> Order {
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
        line_items: vec![LineItem {
            external_id: format!("{id}-1"),
            product_external_id: None,
            variant_external_id: None,
            sku: Some(sku.into()),
            title: "T".into(),
            variant_title: None,
            quantity: 1,
            price_minor: 100,
        }],
        shipping_address: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn p(count: u64, median: i64, p90: i64) -> Percentiles {
    Percentiles { count, median: Some(median), p90: Some(p90) }
}

/// Writes the data set through the ordinary writes; returns A…E.
async fn data_set(s: &dyn Storage, f: &Fixture) -> [ConversationId; 5] {
    let shop = NewShopConnection {
        platform: ShopPlatform::Shopify,
        name: "Shop".into(),
        shop_domain: "insights.myshopify.com".into(),
        secret: "x".into(),
        api_url: None,
        access_token: None,
    };
    let shop = s.create_shop_connection(f.account, shop, t0()).await.unwrap();
    let writes = vec![MirrorWrite::Order(Box::new(order("1001", "buyer-a@buyer.example", "SKU-1")))];
    s.apply_mirror_writes(f.account, shop.id, None, writes, t0()).await.unwrap();
    let agent = Sender::User(f.agent);

    // A: across the weekend (times in UTC; Berlin is one hour ahead).
    let a = ingest(s, buyer(f, f.desk, "a1", "buyer-a", utc(6, 15, 0)), false).await;
    reply(s, f, a, agent, utc(9, 9, 0)).await;
    ingest(s, buyer(f, f.desk, "a2", "buyer-a", utc(9, 9, 30)), false).await;
    reply(s, f, a, agent, utc(9, 10, 0)).await;
    update(s, f, a, Transition::Resolve, utc(9, 11, 0)).await;

    // B: reopened.
    let b = ingest(s, buyer(f, f.desk, "b1", "buyer-b", utc(10, 9, 0)), false).await;
    reply(s, f, b, agent, utc(10, 9, 20)).await;
    update(s, f, b, Transition::Resolve, utc(10, 10, 0)).await;
    assert_eq!(ingest(s, buyer(f, f.desk, "b2", "buyer-b", utc(10, 12, 0)), false).await, b);
    reply(s, f, b, agent, utc(10, 12, 10)).await;
    update(s, f, b, Transition::Resolve, utc(10, 13, 0)).await;

    // C: contained by the bot.
    let c = ingest(s, buyer(f, f.bot, "c1", "buyer-c", utc(11, 8, 0)), true).await;
    reply(s, f, c, Sender::Bot, utc(11, 8, 0) + Duration::seconds(5)).await;
    update(s, f, c, Transition::Resolve, utc(11, 8, 5)).await;

    // D: handed off, answered, tagged, left open.
    let d = ingest(s, buyer(f, f.bot, "d1", "buyer-d", utc(11, 9, 0)), true).await;
    let contact = s.get_conversation(f.account, d).await.unwrap().unwrap().contact_id;
    let patch = ContactPatch { country: Some(Some("CN".into())), ..ContactPatch::default() };
    s.update_contact(f.account, contact, patch, utc(11, 9, 0)).await.unwrap();
    reply(s, f, d, Sender::Bot, utc(11, 9, 0) + Duration::seconds(5)).await;
    let hand_off = Transition::HandOff {
        reason: "buyer asked for a person".into(),
        team: None,
        assignee: None,
        language: Some("zh-CN".into()),
    };
    update(s, f, d, hand_off, utc(11, 9, 1)).await;
    reply(s, f, d, agent, utc(11, 9, 11)).await;
    update(s, f, d, Transition::SetTags(vec!["退货".into()]), utc(11, 9, 12)).await;

    // E: after midnight in Berlin.
    let e = ingest(s, buyer(f, f.desk, "e1", "buyer-e", utc(11, 23, 30)), false).await;
    [a, b, c, d, e]
}

/// The figures of the data set, by hand; the same after a rebuild.
pub async fn reports_of_a_fixed_data_set(s: Arc<dyn Storage>) {
    let f = fixture(&*s).await;
    let [a, b, c, d, e] = data_set(&*s, &f).await;

    let fa = s.conversation_facts(f.account, a).await.unwrap().unwrap();
    assert_eq!((fa.opened_day, fa.resolved_day), (day(6), Some(day(9))));
    assert_eq!((fa.first_response_secs, fa.first_response_business_secs), (Some(66 * 3600), Some(2 * 3600)));
    assert_eq!((fa.next_response_secs, fa.next_response_business_secs), (Some(1800), Some(1800)));
    assert_eq!((fa.resolution_secs, fa.resolution_business_secs), (Some(68 * 3600), Some(4 * 3600)));
    assert_eq!((fa.agent_replies, fa.buyer_messages, fa.reopen_count), (2, 2, 0));
    assert_eq!(fa.skus, vec!["SKU-1".to_owned()]);
    assert_eq!(fa.replies_by, vec![(f.agent, 2)]);
    let fb = s.conversation_facts(f.account, b).await.unwrap().unwrap();
    assert_eq!((fb.reopen_count, fb.resolution_secs, fb.first_response_secs), (1, Some(4 * 3600), Some(1200)));
    assert_eq!(fb.next_response_secs, Some(600));
    let fc = s.conversation_facts(f.account, c).await.unwrap().unwrap();
    assert!(fc.started_with_bot && fc.bot_contained && !fc.handed_off);
    assert_eq!((fc.bot_replies, fc.resolution_secs, fc.first_response_secs), (1, Some(300), None));
    let fd = s.conversation_facts(f.account, d).await.unwrap().unwrap();
    assert!(fd.started_with_bot && fd.handed_off && !fd.bot_contained);
    assert_eq!(fd.handoff_reason.as_deref(), Some("buyer asked for a person"));
    assert_eq!((fd.first_response_secs, fd.first_response_business_secs), (Some(600), Some(600)));
    assert_eq!((fd.country.as_deref(), fd.language.as_deref()), (Some("CN"), Some("zh")));
    assert_eq!((fd.tags.clone(), fd.assignee_id, fd.status), (vec!["退货".to_owned()], Some(f.agent.0), Status::Open));
    let fe = s.conversation_facts(f.account, e).await.unwrap().unwrap();
    assert_eq!(fe.opened_day, day(12), "the account's time zone sets the day");

    let range = Range { from: day(6), until: day(11), group_by: None };
    let q = |by| InsightQuery { from: range.from, until: range.until, by };
    let rows = s.insight_rows(f.account, q(None)).await.unwrap();
    let all = overview(&rows, &range);
    assert_eq!(all.len(), 1);
    let l = &all[0];
    assert_eq!((l.opened, l.resolved, l.reopened, l.backlog), (4, 3, 1, 1));
    assert_eq!((l.bot_started, l.bot_contained, l.handed_off), (2, 1, 1));
    assert_eq!((l.containment_rate, l.handoff_rate), (Some(0.5), Some(0.5)));
    assert_eq!((l.agent_replies, l.replies_per_conversation), (5, Some(1.25)));
    assert_eq!(l.first_response, p(3, 1200, 66 * 3600));
    assert_eq!(l.first_response_business, p(3, 1200, 7200));
    assert_eq!(l.next_response, p(2, 600, 1800));
    assert_eq!(l.resolution, p(3, 4 * 3600, 68 * 3600));
    assert_eq!(l.resolution_business, p(3, 4 * 3600, 4 * 3600));

    let daily = Range { group_by: Some(Granularity::Day), ..range };
    let lines = overview(&rows, &daily);
    let got: Vec<(String, u64, u64, u64)> =
        lines.iter().map(|l| (l.bucket.clone().unwrap(), l.opened, l.resolved, l.backlog)).collect();
    let want = [
        ("2026-03-06", 1, 0, 1),
        ("2026-03-07", 0, 0, 1),
        ("2026-03-08", 0, 0, 1),
        ("2026-03-09", 0, 1, 0),
        ("2026-03-10", 1, 1, 0),
        ("2026-03-11", 2, 1, 1),
    ];
    assert_eq!(got, want.map(|(b, o, r, k)| (b.to_owned(), o, r, k)));
    assert_eq!(drill_down(&rows, &daily, Metric::Backlog, Some("2026-03-07"), None), vec![a.0]);
    assert_eq!(drill_down(&rows, &range, Metric::Reopened, None, None), vec![b.0]);
    assert_eq!(drill_down(&rows, &range, Metric::BotContained, None, None), vec![c.0]);
    assert_eq!(drill_down(&rows, &range, Metric::Resolved, None, None), vec![a.0, b.0, c.0]);
    let twelfth = Range { from: day(12), until: day(12), group_by: None };
    let late = s.insight_rows(f.account, InsightQuery { from: day(12), until: day(12), by: None }).await.unwrap();
    assert_eq!(drill_down(&late, &twelfth, Metric::Opened, None, None), vec![e.0]);

    let by_tag = s.insight_rows(f.account, q(Some(Dimension::Tag))).await.unwrap();
    let tags: Vec<(Option<String>, u64)> =
        overview(&by_tag, &range).iter().map(|l| (l.key.clone(), l.opened)).collect();
    assert_eq!(tags, vec![(Some("退货".to_owned()), 1), (None, 3)]);
    let by_sku = s.insight_rows(f.account, q(Some(Dimension::Sku))).await.unwrap();
    assert_eq!(drill_down(&by_sku, &range, Metric::Opened, None, Some("SKU-1")), vec![a.0]);
    let by_country = s.insight_rows(f.account, q(Some(Dimension::Country))).await.unwrap();
    let cn = overview(&by_country, &range).into_iter().find(|l| l.key.as_deref() == Some("CN")).unwrap();
    assert_eq!((cn.opened, cn.handed_off, cn.first_response), (1, 1, p(1, 600, 600)));
    let by_inbox = s.insight_rows(f.account, q(Some(Dimension::Inbox))).await.unwrap();
    let inboxes: Vec<(Option<String>, u64, u64)> =
        overview(&by_inbox, &range).iter().map(|l| (l.key.clone(), l.opened, l.bot_started)).collect();
    let mut want = vec![(Some(f.desk.0.to_string()), 2, 0), (Some(f.bot.0.to_string()), 2, 2)];
    want.sort();
    assert_eq!(inboxes, want);

    let replied = s.insight_rows(f.account, q(Some(Dimension::Replier))).await.unwrap();
    let assigned = s.insight_rows(f.account, q(Some(Dimension::Agent))).await.unwrap();
    let people = agents(&replied, &assigned, &range);
    assert_eq!(people.len(), 1);
    let ag = &people[0];
    assert_eq!((ag.agent_id, ag.conversations_handled, ag.replies, ag.resolved), (f.agent.0, 3, 5, 2));
    assert_eq!((ag.first_response, ag.resolution), (p(3, 1200, 66 * 3600), p(2, 4 * 3600, 68 * 3600)));
    let reasons = handoffs(&s.insight_rows(f.account, q(Some(Dimension::HandoffReason))).await.unwrap(), &range);
    assert_eq!(reasons.len(), 1);
    assert_eq!((reasons[0].reason.as_deref(), reasons[0].conversations), (Some("buyer asked for a person"), 1));

    // Another account sees none of it.
    let other = s.create_account(NewAccount { name: "Other".into(), default_language: "en".into() }, t0()).await;
    assert!(s.insight_rows(other.unwrap().id, q(None)).await.unwrap().is_empty());

    // A rebuild from the messages and history gives the same facts.
    let before: Vec<_> = {
        let mut v = Vec::new();
        for id in [a, b, c, d, e] {
            v.push(s.conversation_facts(f.account, id).await.unwrap().unwrap());
        }
        v
    };
    assert_eq!(s.clear_facts(f.account).await.unwrap(), 5);
    assert!(s.insight_rows(f.account, q(None)).await.unwrap().is_empty());
    let ids = s.conversation_ids(f.account, None, 100).await.unwrap();
    assert_eq!(ids, vec![a, b, c, d, e]);
    s.refresh_facts(f.account, ids, t0() + Duration::days(30)).await.unwrap();
    for (id, was) in [a, b, c, d, e].into_iter().zip(before) {
        assert_eq!(s.conversation_facts(f.account, id).await.unwrap().unwrap(), was);
    }
    let again = s.insight_rows(f.account, q(None)).await.unwrap();
    assert_eq!(overview(&again, &daily), lines);
}

async fn rate(s: &dyn Storage, f: &Fixture, id: ConversationId, rating: u8, at: DateTime<Utc>) {
    let conv = s.get_conversation(f.account, id).await.unwrap().unwrap();
    // One survey per conversation: a second rating answers it again.
    let token = format!("token-{}", id.0);
    let new = NewSurvey {
        conversation_id: id,
        contact_id: conv.contact_id,
        inbox_id: conv.inbox_id,
        agent_id: conv.assignee_id,
        token_hash: token.clone(),
        language: "en".into(),
        scale: CsatScale::Stars,
        sent_at: at,
    };
    s.create_survey(f.account, new).await.unwrap();
    s.answer_survey(&token, Answer { rating, comment: None }, at).await.unwrap();
}

/// Every report a store can give of `range`, from its rollups.
async fn rollup_reports(
    s: &dyn Storage,
    f: &Fixture,
    range: &Range,
) -> Vec<(Option<Dimension>, Vec<OverviewLine>, Vec<RollupRow>)> {
    let mut out = Vec::new();
    for by in std::iter::once(None).chain(Dimension::ALL.into_iter().map(Some)) {
        let q = InsightQuery { from: range.from, until: range.until, by };
        let rows = s.rollup_rows(f.account, q, true).await.unwrap();
        let mut sorted = rows.clone();
        sorted.sort_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
        out.push((by, overview_of_rollups(&rows, range), sorted));
    }
    out
}

/// Satisfaction in the breakdowns, by hand; then a sequence of changes
/// (reopen, reassign, retag, ratings) after which the rollups kept
/// current write by write give what the facts give, and what a rebuild
/// gives.
pub async fn satisfaction_and_rollups(s: Arc<dyn Storage>) {
    let f = fixture(&*s).await;
    let [a, b, c, d, _e] = data_set(&*s, &f).await;
    // A (Desk, resolved on the 9th) 5 stars, B (Desk, resolved on the
    // 10th) 2 stars, C (Bot, resolved on the 11th) 4 stars; D is open and
    // its rating counts nowhere until it is resolved.
    rate(&*s, &f, a, 5, utc(9, 12, 0)).await;
    rate(&*s, &f, b, 2, utc(10, 14, 0)).await;
    rate(&*s, &f, c, 4, utc(11, 9, 0)).await;
    rate(&*s, &f, d, 1, utc(11, 10, 0)).await;
    assert_eq!(s.conversation_facts(f.account, a).await.unwrap().unwrap().csat, Some(5));

    let range = Range { from: day(6), until: day(11), group_by: None };
    let q = |by| InsightQuery { from: range.from, until: range.until, by };
    let all = overview_of_rollups(&s.rollup_rows(f.account, q(None), true).await.unwrap(), &range);
    let l = &all[0];
    assert_eq!((l.rated, l.satisfied), (3, 2));
    assert_eq!((l.csat, l.satisfied_rate), (Some(11.0 / 3.0), Some(2.0 / 3.0)));
    let by_inbox =
        overview_of_rollups(&s.rollup_rows(f.account, q(Some(Dimension::Inbox)), true).await.unwrap(), &range);
    type Satisfaction = (Option<String>, u64, Option<f64>, Option<f64>);
    let got: Vec<Satisfaction> = by_inbox.iter().map(|l| (l.key.clone(), l.rated, l.csat, l.satisfied_rate)).collect();
    let mut want = vec![
        (Some(f.desk.0.to_string()), 2, Some(3.5), Some(0.5)),
        (Some(f.bot.0.to_string()), 1, Some(4.0), Some(1.0)),
    ];
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got, want);
    let daily = Range { group_by: Some(Granularity::Day), ..range };
    let lines = overview_of_rollups(&s.rollup_rows(f.account, q(None), true).await.unwrap(), &daily);
    let got: Vec<(u64, Option<f64>)> = lines.iter().map(|l| (l.rated, l.csat)).collect();
    assert_eq!(got, vec![(0, None), (0, None), (0, None), (1, Some(5.0)), (1, Some(2.0)), (1, Some(4.0))]);
    let rows = s.insight_rows(f.account, q(None)).await.unwrap();
    assert_eq!(drill_down(&rows, &range, Metric::Rated, None, None), vec![a.0, b.0, c.0]);
    assert_eq!(drill_down(&rows, &daily, Metric::Rated, Some("2026-03-10"), None), vec![b.0]);
    let replied = s.rollup_rows(f.account, q(Some(Dimension::Replier)), false).await.unwrap();
    let assigned = s.rollup_rows(f.account, q(Some(Dimension::Agent)), false).await.unwrap();
    let people = agents_of_rollups(&replied, &assigned, &range);
    assert_eq!((people.len(), people[0].resolved, people[0].csat), (1, 2, Some(3.5)));

    // Changes: A reopened by the buyer and answered; D given to another
    // agent, retagged, resolved and rated again; C reopened by an agent.
    let other = s
        .create_user(
            f.account,
            NewUser {
                name: "Second".into(),
                email: "second@insights.example".into(),
                password_hash: "x".into(),
                role: Role::Agent,
                languages: vec!["en".into()],
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(ingest(&*s, buyer(&f, f.desk, "a3", "buyer-a", utc(12, 9, 0)), false).await, a);
    reply(&*s, &f, a, Sender::User(other.id), utc(12, 9, 30)).await;
    update(&*s, &f, d, Transition::Assign(Some(other.id)), utc(12, 10, 0)).await;
    update(&*s, &f, d, Transition::SetTags(vec!["物流".into(), "退货".into()]), utc(12, 10, 1)).await;
    update(&*s, &f, d, Transition::Resolve, utc(12, 11, 0)).await;
    rate(&*s, &f, d, 4, utc(12, 12, 0)).await;
    update(&*s, &f, c, Transition::Reopen, utc(13, 8, 0)).await;
    update(&*s, &f, d, Transition::SetTags(vec!["物流".into()]), utc(13, 9, 0)).await;

    // The rollups say what the facts say, for every dimension and
    // grouping, and for ranges that start after some conversations opened.
    for (from, until) in [(1, 20), (9, 12), (12, 13)] {
        for group_by in [None, Some(Granularity::Day), Some(Granularity::Week)] {
            let range = Range { from: day(from), until: day(until), group_by };
            for by in std::iter::once(None).chain(Dimension::ALL.into_iter().map(Some)) {
                let q = InsightQuery { from: range.from, until: range.until, by };
                let facts = overview(&s.insight_rows(f.account, q).await.unwrap(), &range);
                let rolled = overview_of_rollups(&s.rollup_rows(f.account, q, true).await.unwrap(), &range);
                assert_eq!(rolled, facts, "{by:?} {from}..{until} {group_by:?}");
            }
            let q = |by| InsightQuery { from: range.from, until: range.until, by: Some(by) };
            let replied = s.insight_rows(f.account, q(Dimension::Replier)).await.unwrap();
            let assigned = s.insight_rows(f.account, q(Dimension::Agent)).await.unwrap();
            assert_eq!(
                agents_of_rollups(
                    &s.rollup_rows(f.account, q(Dimension::Replier), false).await.unwrap(),
                    &s.rollup_rows(f.account, q(Dimension::Agent), false).await.unwrap(),
                    &range
                ),
                agents(&replied, &assigned, &range)
            );
            let reasons = s.insight_rows(f.account, q(Dimension::HandoffReason)).await.unwrap();
            assert_eq!(
                handoffs_of_rollups(
                    &s.rollup_rows(f.account, q(Dimension::HandoffReason), false).await.unwrap(),
                    &range
                ),
                handoffs(&reasons, &range)
            );
        }
    }
    let wide = Range { from: day(1), until: day(20), group_by: Some(Granularity::Day) };
    let by_tag = overview_of_rollups(
        &s.rollup_rows(f.account, InsightQuery { from: wide.from, until: wide.until, by: Some(Dimension::Tag) }, true)
            .await
            .unwrap(),
        &Range { group_by: None, ..wide },
    );
    let tags: Vec<(Option<String>, u64, u64)> = by_tag.iter().map(|l| (l.key.clone(), l.opened, l.rated)).collect();
    assert_eq!(tags, vec![(Some("物流".to_owned()), 1, 1), (None, 4, 1)], "the old tag is gone");
    let after = overview_of_rollups(
        &s.rollup_rows(f.account, InsightQuery { from: wide.from, until: wide.until, by: None }, true).await.unwrap(),
        &Range { group_by: None, ..wide },
    );
    // A reopened (no longer resolved), C reopened: B and D resolved and
    // rated 2 and 4.
    assert_eq!((after[0].resolved, after[0].rated, after[0].csat), (2, 2, Some(3.0)));

    // Accounts made since the rollups exist need no catch-up rebuild.
    assert!(s.accounts_pending_rollups().await.unwrap().is_empty());
    s.rollups_built(f.account, t0()).await.unwrap();

    // A rebuild from scratch gives the same rollups, row for row.
    let incremental = rollup_reports(&*s, &f, &wide).await;
    assert_eq!(s.clear_facts(f.account).await.unwrap(), 5);
    assert!(
        s.rollup_rows(f.account, InsightQuery { from: wide.from, until: wide.until, by: None }, true)
            .await
            .unwrap()
            .is_empty()
    );
    let ids = s.conversation_ids(f.account, None, 100).await.unwrap();
    s.refresh_facts(f.account, ids, t0() + Duration::days(30)).await.unwrap();
    assert_eq!(rollup_reports(&*s, &f, &wide).await, incremental);

    // Deleting an inbox takes its conversations out of the rollups.
    s.delete_inbox(f.account, f.bot).await.unwrap();
    let q = InsightQuery { from: wide.from, until: wide.until, by: None };
    let facts = overview(&s.insight_rows(f.account, q).await.unwrap(), &wide);
    assert_eq!(overview_of_rollups(&s.rollup_rows(f.account, q, true).await.unwrap(), &wide), facts);
    let q = InsightQuery { by: Some(Dimension::Inbox), ..q };
    let rows = s.rollup_rows(f.account, q, true).await.unwrap();
    assert!(rows.iter().all(|r| r.key != Some(f.bot.0.to_string())));
}
