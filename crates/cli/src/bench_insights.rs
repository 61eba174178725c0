//! `ferry bench insights`: seeds a store with M conversations and about N
//! messages through the use cases (buyers' messages through intake,
//! agents' replies, bot answers, hand-offs, tags, resolutions and
//! reopenings), spread over D days at the times they happen, keeping the
//! facts and daily rollups current as it goes; then times every report
//! p50/p95 over the whole range, the overview's p95 over the last 30 and
//! the last 365 days (from the rollups, and from one facts row per
//! conversation for comparison; seed with `--days 365` to fill the year),
//! rebuilds the facts from the messages and checks the figures are
//! unchanged. SQLite by default; PostgreSQL with `--database
//! postgres://…` (a fresh database is made on that server).

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use ferry_api::ApiConfig;
use ferry_api::server::Node;
use ferry_app::attachments::MemoryAttachments;
use ferry_app::auth::Actor;
use ferry_app::insights::{DrillTarget, ReportParams};
use ferry_app::{App, AppConfig, NewReply};
use ferry_commerce::{LineItem, MirrorWrite, Order};
use ferry_core::account::{Role, User};
use ferry_core::clock::Clock;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::conversation::Status;
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::insights::{Dimension, Granularity, Metric, day_date, local_day};
use ferry_core::message::{ContentPart, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId};
use ferry_storage::{
    ConversationUpdate, NewAccount, NewInbox, NewMessage, NewShopConnection, NewUser, ShopPlatform, Storage,
};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Options of the insights benchmark.
#[derive(Args, Clone)]
pub struct InsightsArgs {
    /// Messages to seed (about; buyers', agents' and the bot's).
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Conversations to seed.
    #[arg(long, default_value_t = 100_000)]
    conversations: usize,
    /// Days the conversations are spread over (ending yesterday).
    #[arg(long, default_value_t = 90)]
    days: i64,
    /// Concurrent writers while seeding.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Timed calls per report.
    #[arg(long, default_value_t = 40)]
    queries: usize,
    /// A PostgreSQL server (`postgres://…`, allowed to create databases);
    /// SQLite when absent.
    #[arg(long)]
    database: Option<String>,
}

tokio::task_local! {
    /// The time of the seeding task's current step.
    static NOW: Cell<DateTime<Utc>>;
}

/// The clock of the seeding: each task's own step time, else real time.
struct StepClock;

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        NOW.try_with(Cell::get).unwrap_or_else(|_| Utc::now())
    }
}

fn at(t: DateTime<Utc>) {
    let _ = NOW.try_with(|c| c.set(t));
}

/// A tiny deterministic generator (xorshift): the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const COUNTRIES: &[&str] = &["DE", "FR", "US", "GB", "CN", "JP", "ES", "IT", "NL", "PL"];
const LANGUAGES: &[&str] = &["de", "fr", "en", "en", "zh", "ja", "es", "it", "nl", "pl"];
const TAGS: &[&str] = &["delivery", "refund", "退货", "size", "damaged", "invoice"];
const REASONS: &[&str] = &["buyer asked for a person", "low confidence", "negative sentiment", "repeated failure"];
const SKUS: u64 = 50;

struct World {
    app: Arc<App>,
    account: AccountId,
    inboxes: Vec<Inbox>,
    agents: Vec<Actor>,
    owner: Actor,
}

async fn world(storage: Arc<dyn Storage>, buyers_with_orders: usize) -> anyhow::Result<World> {
    let clock: Arc<dyn Clock> = Arc::new(StepClock);
    let node = Node::new(
        storage.clone(),
        clock,
        Arc::new(MemoryAttachments::default()),
        AppConfig::default(),
        ApiConfig::default(),
    );
    let app = node.app.clone();
    let now = Utc::now();
    let account =
        storage.create_account(NewAccount { name: "Bench".into(), default_language: "en".into() }, now).await?;
    storage.set_account_timezone(account.id, "Europe/Berlin", now).await?;
    let weekly: Vec<_> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| serde_json::json!({"day": d, "open": "09:00", "close": "18:00"}))
        .collect();
    let hours = serde_json::json!({
        "timezone": "Europe/Berlin",
        "weekly": weekly,
        "holidays": ["2026-12-24", "2026-12-25", "2027-01-01"],
    });
    let mut inboxes = Vec::new();
    for (name, channel, bot, with_hours) in [
        ("Chat", ChannelKind::WebWidget, true, true),
        ("API", ChannelKind::Api, false, true),
        ("Telegram", ChannelKind::Telegram, true, false),
        ("Help page", ChannelKind::WebWidget, false, false),
    ] {
        let mut config = InboxConfig { bot_enabled: bot, ..InboxConfig::default() };
        if with_hours {
            config.extra.insert("business_hours".into(), hours.clone());
        }
        let new = NewInbox { name: name.into(), channel, config, secret: format!("{name}-secret") };
        inboxes.push(storage.create_inbox(account.id, new, now).await?);
    }
    let mut users: Vec<User> = Vec::new();
    for i in 0..21 {
        let new = NewUser {
            name: if i == 0 { "Owner".into() } else { format!("Agent {i}") },
            email: format!("agent{i}@bench-insights.example"),
            password_hash: "x".into(),
            role: if i == 0 { Role::Owner } else { Role::Agent },
            languages: vec!["en".into()],
        };
        users.push(storage.create_user(account.id, new, now).await?);
    }
    let mut teams = Vec::new();
    for name in ["Tier 1", "Tier 2", "Returns"] {
        teams.push(storage.create_team(account.id, name, "", now).await?.id);
    }
    for (i, team) in teams.iter().enumerate() {
        let members: Vec<_> = users[1..].iter().skip(i).step_by(3).map(|u| u.id).collect();
        storage.set_team_members(account.id, *team, &members).await?;
    }
    // Orders of some buyers, so reports break down by product.
    let shop = NewShopConnection {
        platform: ShopPlatform::Shopify,
        name: "Bench".into(),
        shop_domain: "bench.myshopify.com".into(),
        secret: "x".into(),
        api_url: None,
        access_token: None,
    };
    let shop = storage.create_shop_connection(account.id, shop, now).await?;
    let mut rng = Rng(0x0005_eed0_f1a5);
    let mut writes = Vec::new();
    for b in 0..buyers_with_orders {
        let sku = format!("SKU-{:03}", rng.below(SKUS));
        writes.push(MirrorWrite::Order(Box::new(Order {
            external_id: format!("o{b}"),
            number: format!("{}", 10_000 + b),
            name: format!("#{}", 10_000 + b),
            email: Some(format!("buyer{b}@bench.example")),
            phone: None,
            customer_external_id: None,
            customer_name: None,
            financial_status: "paid".into(),
            fulfillment_status: None,
            cancelled_at: None,
            cancel_reason: None,
            currency: "EUR".into(),
            total_minor: 2_000,
            line_items: vec![LineItem {
                external_id: format!("o{b}-1"),
                product_external_id: None,
                variant_external_id: None,
                sku: Some(sku),
                title: "Item".into(),
                variant_title: None,
                quantity: 1,
                price_minor: 2_000,
            }],
            shipping_address: None,
            created_at: now,
            updated_at: now,
        })));
        if writes.len() == 1000 {
            storage.apply_mirror_writes(account.id, shop.id, None, std::mem::take(&mut writes), now).await?;
        }
    }
    if !writes.is_empty() {
        storage.apply_mirror_writes(account.id, shop.id, None, writes, now).await?;
    }
    let owner = Actor::new(users[0].clone());
    let agents = users[1..].iter().map(|u| Actor::new(u.clone())).collect();
    Ok(World { app, account: account.id, inboxes, agents, owner })
}

/// Writes one conversation of about `per` messages opened at `opened`;
/// returns how many messages it wrote.
async fn conversation(w: &World, n: usize, opened: DateTime<Utc>, per: u64, rng: &mut Rng) -> anyhow::Result<usize> {
    let app = &w.app;
    let inbox = &w.inboxes[n % w.inboxes.len()];
    let c = rng.below(COUNTRIES.len() as u64) as usize;
    let handle = format!("buyer{n}");
    let mut written = 0;
    let mut t = opened;
    let mut ext = 0;
    let buyer = |t: DateTime<Utc>, ext: usize| -> anyhow::Result<Inbound> {
        Ok(Inbound {
            account_id: w.account,
            inbox_id: inbox.id,
            external_id: format!("{handle}-{ext}"),
            sender: InboundSender {
                identity: Identity::new(IdentityKind::ApiHandle, &handle, Some(inbox.id))?,
                extra_identities: vec![Identity::new(IdentityKind::Email, &format!("{handle}@bench.example"), None)?],
                name: Some(format!("Buyer {n}")),
                language: Some(LANGUAGES[c].into()),
            },
            parts: vec![ContentPart::Text { text: "Where is my order? 我的订单在哪里？".into() }],
            sent_at: t,
            meta: Default::default(),
        })
    };
    at(t);
    let id = app.ingest(inbox, buyer(t, ext)?).await?.conversation.id;
    written += 1;
    if n.is_multiple_of(3) {
        let contact = app.storage.get_conversation(w.account, id).await?.context("conversation")?.contact_id;
        let patch = ferry_storage::ContactPatch { country: Some(Some(COUNTRIES[c].into())), ..Default::default() };
        app.storage.update_contact(w.account, contact, patch, t).await?;
    }
    let agent = &w.agents[rng.below(w.agents.len() as u64) as usize];
    let mut with_people = !inbox.config.bot_enabled;
    if inbox.config.bot_enabled {
        t += Duration::seconds(3);
        bot_answer(app, w.account, id, t).await?;
        written += 1;
        if rng.chance(45) {
            // Contained: the bot resolves it.
            t += Duration::minutes(2 + rng.below(10) as i64);
            at(t);
            resolve(app, w.account, id, t).await?;
            return Ok(written);
        }
        t += Duration::seconds(30 + rng.below(600) as i64);
        at(t);
        let reason = REASONS[rng.below(REASONS.len() as u64) as usize].to_owned();
        app.hand_off(w.account, inbox, id, reason, LANGUAGES[c]).await?;
        with_people = true;
    }
    // Conversations the bot resolves are short; the others are longer so
    // the average stays near `per`.
    let budget = (per * 13 / 10).saturating_sub(written as u64).max(2);
    let mut left = budget;
    let mut first = true;
    while with_people && left >= 2 {
        // The agent answers after minutes to a day, the buyer after a while.
        t += Duration::seconds(if first { 60 + rng.below(8 * 3600) } else { 30 + rng.below(3 * 3600) } as i64);
        at(t);
        let reply =
            NewReply { text: Some("Thanks, looking into it.".into()), parts: vec![], private: false, email: None };
        app.reply(agent, w.account, id, reply).await?;
        first = false;
        written += 1;
        left -= 1;
        if left < 2 {
            break;
        }
        t += Duration::seconds(60 + rng.below(6 * 3600) as i64);
        at(t);
        ext += 1;
        app.ingest(inbox, buyer(t, ext)?).await?;
        written += 1;
        left -= 1;
    }
    if rng.chance(30) {
        at(t);
        let tag = TAGS[rng.below(TAGS.len() as u64) as usize].to_owned();
        app.set_tags(agent, w.account, id, &[tag]).await?;
    }
    if rng.chance(85) {
        t += Duration::minutes(5 + rng.below(120) as i64);
        at(t);
        app.set_status(agent, w.account, id, Status::Resolved, None).await?;
        if rng.chance(10) {
            // The buyer writes again within days: reopened, answered,
            // resolved again.
            t += Duration::hours(1 + rng.below(48) as i64);
            at(t);
            ext += 1;
            app.ingest(inbox, buyer(t, ext)?).await?;
            written += 1;
            t += Duration::minutes(10 + rng.below(240) as i64);
            at(t);
            let reply = NewReply { text: Some("Sorted.".into()), parts: vec![], private: false, email: None };
            app.reply(agent, w.account, id, reply).await?;
            written += 1;
            t += Duration::minutes(5);
            at(t);
            app.set_status(agent, w.account, id, Status::Resolved, None).await?;
        }
    }
    Ok(written)
}

async fn bot_answer(app: &App, account: AccountId, id: ConversationId, t: DateTime<Utc>) -> anyhow::Result<()> {
    let new = NewMessage {
        notice_send: None,
        conversation_id: id,
        kind: MessageKind::Outgoing,
        sender: Sender::Bot,
        parts: vec![ContentPart::Text { text: "Your order is on its way.".into() }],
        delivery: None,
        now: t,
        transition: None,
        job: None,
        bot_state: Some(serde_json::json!({"answered": {"where_is_my_order": 1}})),
        describe: None,
    };
    app.storage.post_message(account, new).await?;
    Ok(())
}

async fn resolve(app: &App, account: AccountId, id: ConversationId, t: DateTime<Utc>) -> anyhow::Result<()> {
    let u = ConversationUpdate {
        jobs: Vec::new(),
        transition: ferry_core::conversation::Transition::Resolve,
        describe: Box::new(|_| None),
        now: t,
    };
    app.storage.update_conversation(account, id, u).await?;
    Ok(())
}

fn pct(sorted: &[std::time::Duration], p: f64) -> f64 {
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Runs the benchmark.
pub async fn run(a: InsightsArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage: Arc<dyn Storage> = match &a.database {
        None => {
            let path = dir.path().join("bench.sqlite");
            Arc::new(ferry_storage_sqlite::SqliteStorage::open(ferry_storage_sqlite::SqliteOptions::new(&path))?)
        }
        Some(url) => {
            let (name, pg) = ferry_storage_postgres::fresh_test_database(url)
                .await
                .context("cannot make a database for the benchmark on that server")?;
            println!("PostgreSQL database {name} (drop it when done)");
            Arc::new(pg)
        }
    };
    let conversations = a.conversations.max(1);
    let per = (a.messages / conversations).max(2) as u64;
    println!(
        "ferry bench insights: {} conversations, ~{} messages ({per} per conversation) over {} days, {} writers, {}",
        conversations,
        a.messages,
        a.days,
        a.writers,
        storage.backend()
    );
    let w = Arc::new(world(storage.clone(), conversations / 5).await?);
    let end = Utc::now() - Duration::days(1);
    let begin = end - Duration::days(a.days);
    let span = (end - begin).num_seconds().max(1) as u64;
    let next = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for wi in 0..a.writers.max(1) {
        let (w, next, written) = (w.clone(), next.clone(), written.clone());
        tasks.push(tokio::spawn(NOW.scope(Cell::new(begin), async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (wi as u64 + 1));
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= conversations {
                    break;
                }
                // The buyer owning order `n` writes conversation `n`.
                let mut r = Rng(0x2545_f491_4f6c_dd1d ^ (n as u64 + 1));
                let opened = begin + Duration::seconds(r.below(span) as i64);
                let m = conversation(&w, n, opened, per, &mut rng).await?;
                let total = written.fetch_add(m, Ordering::Relaxed) + m;
                if (n + 1) % 10_000 == 0 {
                    println!(
                        "  {:>7} conversations, {:>8} messages, {:>6.0} msg/s",
                        n + 1,
                        total,
                        total as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
            Ok::<_, anyhow::Error>(())
        })));
    }
    for t in tasks {
        t.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = written.load(Ordering::Relaxed);
    println!(
        "seeded {total} messages in {conversations} conversations in {seconds:.0} s: {:.0} msg/s with the facts kept current",
        total as f64 / seconds
    );

    let tz = chrono_tz::Europe::Berlin;
    let (from, until) = (day_date(local_day(begin, tz)), day_date(local_day(end, tz)));
    let whole = move |group_by, by| ReportParams { from: Some(from), until: Some(until), group_by, by };
    let app = w.app.clone();
    let owner = w.owner.clone();
    let account = w.account;
    let bucket = format!("{}", day_date(local_day(begin + Duration::days(a.days / 2), tz)));
    type Call = Box<dyn Fn() -> futures::future::BoxFuture<'static, anyhow::Result<usize>>>;
    let mut calls: Vec<(String, Call)> = Vec::new();
    for (name, g, by) in [
        ("overview", None, None),
        ("overview group_by=day", Some(Granularity::Day), None),
        ("overview group_by=week by=channel", Some(Granularity::Week), Some(Dimension::Channel)),
        ("overview group_by=month by=country", Some(Granularity::Month), Some(Dimension::Country)),
        ("overview by=language", None, Some(Dimension::Language)),
        ("overview by=inbox", None, Some(Dimension::Inbox)),
        ("overview by=intent", None, Some(Dimension::Intent)),
        ("overview by=team", None, Some(Dimension::Team)),
        ("overview by=agent", None, Some(Dimension::Agent)),
        ("overview group_by=week by=tag", Some(Granularity::Week), Some(Dimension::Tag)),
        ("overview by=sku", None, Some(Dimension::Sku)),
    ] {
        let (app, owner) = (app.clone(), owner.clone());
        calls.push((
            name.to_owned(),
            Box::new(move || {
                let (app, owner) = (app.clone(), owner.clone());
                Box::pin(async move {
                    let r = app.report_overview(&owner, account, whole(g, by)).await?;
                    Ok(serde_json::to_vec(&r.lines)?.len())
                })
            }),
        ));
    }
    {
        let (app, owner) = (app.clone(), owner.clone());
        calls.push((
            "agents".into(),
            Box::new(move || {
                let (app, owner) = (app.clone(), owner.clone());
                Box::pin(async move {
                    let r = app.report_agents(&owner, account, whole(None, None)).await?;
                    Ok(serde_json::to_vec(&r.lines)?.len())
                })
            }),
        ));
    }
    {
        let (app, owner) = (app.clone(), owner.clone());
        calls.push((
            "handoffs".into(),
            Box::new(move || {
                let (app, owner) = (app.clone(), owner.clone());
                Box::pin(async move {
                    let r = app.report_handoffs(&owner, account, whole(None, None)).await?;
                    Ok(serde_json::to_vec(&r.lines)?.len())
                })
            }),
        ));
    }
    {
        let (app, owner, bucket) = (app.clone(), owner.clone(), bucket.clone());
        calls.push((
            format!("conversations metric=resolved bucket={bucket}"),
            Box::new(move || {
                let (app, owner, bucket) = (app.clone(), owner.clone(), bucket.clone());
                Box::pin(async move {
                    let p = whole(Some(Granularity::Day), None);
                    let target = DrillTarget { metric: Metric::Resolved, bucket: Some(bucket), key: None, limit: 500 };
                    let r = app.report_conversations(&owner, account, p, target).await?;
                    Ok(r.conversation_ids.len())
                })
            }),
        ));
    }
    println!("reports over {from} … {until} (Europe/Berlin), {} calls each, in-process:", a.queries);
    println!("{:<48} {:>9} {:>9} {:>9}", "report", "p50 ms", "p95 ms", "max ms");
    for (name, call) in &calls {
        call().await?;
        let mut lat = Vec::with_capacity(a.queries);
        for _ in 0..a.queries.max(1) {
            let t = Instant::now();
            call().await?;
            lat.push(t.elapsed());
        }
        lat.sort();
        println!("{name:<48} {:>9.1} {:>9.1} {:>9.1}", pct(&lat, 0.5), pct(&lat, 0.95), pct(&lat, 1.0));
    }

    // The same overview over the last 30 and the last 365 days: read from
    // the daily rollups, then (for comparison) from one facts row per
    // conversation.
    println!("overview p95 by range (ending {until}), {} calls each:", a.queries);
    println!("{:<48} {:>9} {:>9}", "report", "30 days", "365 days");
    for (name, g, by) in [
        ("overview", None, None),
        ("overview group_by=day", Some(Granularity::Day), None),
        ("overview group_by=week by=channel", Some(Granularity::Week), Some(Dimension::Channel)),
        ("overview by=tag", None, Some(Dimension::Tag)),
    ] {
        let mut p95 = Vec::new();
        for (source, days) in [("rollups", 30), ("rollups", 365), ("facts", 30), ("facts", 365)] {
            let params =
                ReportParams { from: Some(until - Duration::days(days - 1)), until: Some(until), group_by: g, by };
            let range = ferry_core::insights::Range {
                from: ferry_core::insights::day_number(until) - (days - 1),
                until: ferry_core::insights::day_number(until),
                group_by: g,
            };
            let mut lat = Vec::with_capacity(a.queries);
            for i in 0..=a.queries.max(1) {
                let t = Instant::now();
                if source == "rollups" {
                    app.report_overview(&owner, account, params).await?;
                } else {
                    let q = ferry_storage::InsightQuery { from: range.from, until: range.until, by };
                    ferry_core::insights::overview(&storage.insight_rows(account, q).await?, &range);
                }
                if i > 0 {
                    lat.push(t.elapsed());
                }
            }
            lat.sort();
            p95.push(pct(&lat, 0.95));
        }
        println!("{:<48} {:>9.1} {:>9.1}", format!("{name} (rollups)"), p95[0], p95[1]);
        println!("{:<48} {:>9.1} {:>9.1}", format!("{name} (one facts row per conversation)"), p95[2], p95[3]);
    }

    let totals = app.report_overview(&owner, account, whole(None, None)).await?;
    if let Some(l) = totals.lines.first() {
        println!(
            "figures: opened {} resolved {} reopened {} contained {}/{} handed off {} first response median {} s \
             (business {} s), resolution median {} s, backlog {}",
            l.opened,
            l.resolved,
            l.reopened,
            l.bot_contained,
            l.bot_started,
            l.handed_off,
            l.first_response.median.unwrap_or(0),
            l.first_response_business.median.unwrap_or(0),
            l.resolution.median.unwrap_or(0),
            l.backlog
        );
    }
    let before = app.report_overview(&owner, account, whole(Some(Granularity::Day), Some(Dimension::Channel))).await?;
    let t = Instant::now();
    let done = app.rebuild_insights(Some(account)).await?;
    println!(
        "rebuild: {} conversations recomputed from their messages in {:.1} s",
        done.conversations,
        t.elapsed().as_secs_f64()
    );
    let after = app.report_overview(&owner, account, whole(Some(Granularity::Day), Some(Dimension::Channel))).await?;
    println!("same figures after the rebuild: {}", if before.lines == after.lines { "yes" } else { "NO" });
    if before.lines != after.lines {
        anyhow::bail!("the rebuild changed the figures");
    }
    Ok(())
}
