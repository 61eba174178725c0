//! `ferry-demo bench campaign` (also `ferry bench campaign`): a marketing
//! campaign to a segment of N contacts (100,000 by default) on WhatsApp,
//! sent by a real `ferry serve` node through the delivery engine to the
//! local Graph API stand-in, at the campaign's rate. The node is killed
//! with SIGKILL part-way and started again on the same store; the
//! campaign resumes where it was. Reports planning time, the rate held
//! against the rate asked, how long the resume took, and — counted at the
//! stand-in, which outlives the node — how many buyers got the message
//! twice (must be none) or not at all (must be none).

use anyhow::Context;
use clap::Args;
use ferry_api::ApiConfig;
use ferry_api::server::Node;
use ferry_app::attachments::MemoryAttachments;
use ferry_app::auth::Actor;
use ferry_app::notices::NoticeSettings;
use ferry_app::{AppConfig, NewInboxInput};
use ferry_cli::config::{Config, Secret};
use ferry_core::campaign::{CampaignDefinition, held_out};
use ferry_core::clock::SystemClock;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::notices::{Purpose, SendingPolicy};
use ferry_core::segment::{SegmentCondition, SegmentFilter};
use ferry_sandbox::whatsapp::FakeGraph;
use ferry_storage::{NewAccount, NewContact};
use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of the campaign benchmark.
#[derive(Args, Clone)]
pub struct CampaignArgs {
    /// Contacts in the segment.
    #[arg(long, default_value_t = 100_000)]
    pub contacts: usize,
    /// The campaign's rate, messages a minute.
    #[arg(long, default_value_t = 30_000)]
    pub rate: u32,
    /// Percent of the segment held out.
    #[arg(long, default_value_t = 10)]
    pub holdout: u8,
    /// Share of the expected sends after which the node is killed.
    #[arg(long, default_value_t = 0.4)]
    pub kill_at: f64,
    /// A PostgreSQL database to run on instead of a fresh SQLite file.
    #[arg(long)]
    pub postgres: Option<String>,
}

const APP_SECRET: &str = "bench-campaign-app-secret";
const LANGUAGES: [(&str, &str); 4] = [("en", "GB"), ("es", "ES"), ("de", "DE"), ("fr", "FR")];

/// A `ferry serve` child, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(
    program: &std::path::Path,
    db: &str,
    dir: &std::path::Path,
    listen: &str,
    run: usize,
) -> anyhow::Result<Served> {
    let log = std::fs::File::create(dir.join(format!("serve-{run}.log")))?;
    let child = Command::new(program)
        .arg("serve")
        .env("FERRY_DATABASE_URL", db)
        .env("FERRY_DATA_DIR", dir)
        .env("FERRY_LISTEN", listen)
        .env("FERRY_LOG", "warn")
        // A node killed mid-job leaves its jobs leased: short leases and
        // reconcile waits let the next run take them over soon.
        .env("FERRY_JOBS__LEASE_SECONDS", "5")
        .env("FERRY_JOBS__RECONCILE_SECONDS", "5")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    Ok(Served(child))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Runs the benchmark.
pub async fn run(a: CampaignArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.contacts > 0, "--contacts must be at least 1");
    anyhow::ensure!((0.0..1.0).contains(&a.kill_at), "--kill-at is a share from 0 to 1");
    let program = std::env::current_exe()?.with_file_name(format!("ferry{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        program.is_file(),
        "the benchmark runs the `ferry` server next to this program (looked for {}); build it with `cargo build -p ferry`",
        program.display()
    );
    let dir = tempfile::tempdir()?;
    let db = match &a.postgres {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", dir.path().join("campaign.sqlite").display()),
    };
    let backend = if a.postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    let cfg = Config {
        database_url: Secret::from(db.clone()),
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let storage = ferry_cli::open_storage(&cfg).await?;
    let node = Node::new(
        storage.clone(),
        Arc::new(SystemClock),
        Arc::new(MemoryAttachments::default()),
        AppConfig::default(),
        ApiConfig::default(),
    );
    let app = node.app.clone();
    let now = chrono::Utc::now();
    let account = storage
        .create_account(NewAccount { name: "Campaign bench".into(), default_language: "en".into() }, now)
        .await?;
    let owner = app
        .create_user(
            account.id,
            ferry_app::NewAgent {
                name: "Bench".into(),
                email: format!("bench-{}@bench.example", account.id),
                password: "bench-password".into(),
                role: ferry_core::account::Role::Owner,
                languages: vec![],
            },
        )
        .await?;
    let actor = Actor::new(owner);
    let fake = FakeGraph::start().await?;
    let mut settings = fake.settings("bench-verify");
    settings["app_secret"] = serde_json::json!(APP_SECRET);
    // The campaign's rate is the limit here: the number's own is off.
    let config: InboxConfig = serde_json::from_value(
        serde_json::json!({"bot_enabled": false, "whatsapp": settings, "send_rate_per_second": 0.0}),
    )?;
    let inbox = app
        .create_inbox(
            &actor,
            account.id,
            NewInboxInput { name: "WhatsApp".into(), channel: ChannelKind::Whatsapp, config },
        )
        .await?;
    // Every hour of the day allowed, so the figures are the engine's and
    // not the buyers' night; consent is not asked (the buyers are seeded).
    let policy = SendingPolicy {
        quiet_start: chrono::NaiveTime::MIN,
        quiet_end: chrono::NaiveTime::MIN,
        marketing_per_week: 2,
        require_consent: false,
    };
    app.set_notice_settings(&actor, account.id, NoticeSettings { policy, rules: Vec::new() }).await?;

    eprintln!("seeding {} contacts ({backend})…", a.contacts);
    let t = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (storage, next, n) = (storage.clone(), next.clone(), a.contacts);
        let account = account.id;
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(made);
                }
                let (language, country) = LANGUAGES[i % LANGUAGES.len()];
                let mut identities = vec![Identity::new(IdentityKind::Whatsapp, &format!("49171{i:07}"), None)?];
                // One buyer in a hundred came from Amazon: never marketed to.
                let amazon = i % 100 == 99;
                if amazon {
                    identities.push(Identity::new(IdentityKind::Amazon, &format!("A1BENCH{i:08}"), None)?);
                }
                let c = storage
                    .create_contact(
                        account,
                        NewContact {
                            name: format!("Buyer {i}"),
                            country: Some(country.into()),
                            language: Some(language.into()),
                            timezone: None,
                            vip: false,
                            custom_attributes: Default::default(),
                            tags: vec!["newsletter".into()],
                            identities,
                        },
                        chrono::Utc::now(),
                    )
                    .await?;
                made.push((c.id.0, amazon, format!("49171{i:07}")));
            }
        }));
    }
    let mut contacts = Vec::with_capacity(a.contacts);
    for task in tasks {
        contacts.extend(task.await??);
    }
    let seed_secs = t.elapsed().as_secs_f64();
    let segment = storage
        .create_segment(
            account.id,
            "Newsletter".into(),
            SegmentFilter { all: vec![SegmentCondition::Tag { any_of: vec!["newsletter".into()] }] },
            chrono::Utc::now(),
        )
        .await?;
    let definition = CampaignDefinition {
        name: "Spring collection".into(),
        segment_id: segment.id,
        purpose: Purpose::Marketing,
        channels: vec![ChannelKind::Whatsapp],
        texts: LANGUAGES
            .iter()
            .map(|(l, _)| ((*l).to_owned(), format!("[{l}] Hi {{{{ contact.name }}}}, our spring collection is in.")))
            .collect::<BTreeMap<_, _>>(),
        // The buyers never wrote: their windows are closed, so the
        // campaign goes as the approved marketing template.
        whatsapp_template: Some(ferry_core::notices::NoticeTemplate {
            name: "spring_offer".into(),
            languages: BTreeMap::from([("en".into(), "en_US".into()), ("es".into(), "es".into())]),
            body: vec!["{{contact.name}}".into()],
        }),
        send_at: None,
        rate_per_minute: a.rate,
        holdout_percent: a.holdout,
    };
    let campaign = app.create_campaign(&actor, account.id, definition).await?;
    let id = campaign.campaign.id;
    let expected: HashMap<String, i64> = contacts
        .iter()
        .filter(|(c, amazon, _)| !amazon && !held_out(id, *c, a.holdout))
        .map(|(c, _, to)| (to.clone(), *c))
        .collect();
    eprintln!(
        "seeded in {seed_secs:.1}s; campaign {id} to {} contacts: {} to send, the rest held out or Amazon buyers",
        a.contacts,
        expected.len()
    );
    app.launch_campaign(&actor, account.id, id).await?;

    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    fake.set_webhook(&format!("http://{listen}/webhooks/whatsapp/{}", inbox.id), APP_SECRET);
    fake.auto_status(true, Duration::from_millis(250));

    // First run, killed part-way.
    let started = Instant::now();
    let mut node = serve(&program, &db, dir.path(), &listen, 1)?;
    let kill_after = ((expected.len() as f64) * a.kill_at) as usize;
    let mut planning_secs = None;
    loop {
        if fake.sent_count() >= kill_after {
            break;
        }
        if let Some(status) = node.0.try_wait()? {
            anyhow::bail!("ferry serve stopped ({status}); see {}", dir.path().join("serve-1.log").display());
        }
        if planning_secs.is_none() && storage.get_campaign(account.id, id).await?.is_some_and(|c| c.planning_done) {
            planning_secs = Some(started.elapsed().as_secs_f64());
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(3600), "the campaign did not get far within an hour");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node.0.kill()?;
    node.0.wait()?;
    drop(node);
    let killed_at = fake.sent_count();
    let killed = Instant::now();
    eprintln!(
        "killed the node (SIGKILL) after {killed_at} sends, {:.1}s in; starting it again",
        started.elapsed().as_secs_f64()
    );

    // Second run, to the end.
    let mut node = serve(&program, &db, dir.path(), &listen, 2)?;
    let mut resumed_secs = None;
    loop {
        if resumed_secs.is_none() && fake.sent_count() > killed_at {
            resumed_secs = Some(killed.elapsed().as_secs_f64());
        }
        if planning_secs.is_none() && storage.get_campaign(account.id, id).await?.is_some_and(|c| c.planning_done) {
            planning_secs = Some(started.elapsed().as_secs_f64());
        }
        let c = storage.get_campaign(account.id, id).await?.context("the campaign is gone")?;
        if c.state == "done" && storage.list_deliveries(account.id, "queued", None, 1).await?.is_empty() {
            break;
        }
        if let Some(status) = node.0.try_wait()? {
            anyhow::bail!("ferry serve stopped ({status}); see {}", dir.path().join("serve-2.log").display());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(4 * 3600),
            "the campaign did not finish within 4 hours"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total_secs = started.elapsed().as_secs_f64();
    drop(node);

    // What the stand-in received, which outlived both runs.
    let sent = fake.sent();
    let mut per_buyer: HashMap<&str, usize> = HashMap::new();
    for m in &sent {
        *per_buyer.entry(m.to.as_str()).or_default() += 1;
    }
    let duplicates: usize = per_buyer.values().map(|n| n.saturating_sub(1)).sum();
    let missing = expected.keys().filter(|to| !per_buyer.contains_key(to.as_str())).count();
    let unexpected = per_buyer.keys().filter(|to| !expected.contains_key(**to)).count();
    // The rate held: messages per second over the sending span, and the
    // busiest second.
    let first = sent.iter().map(|m| m.received_at).min().context("nothing was sent")?;
    let last = sent.iter().map(|m| m.received_at).max().context("nothing was sent")?;
    let span = (last - first).num_milliseconds().max(1) as f64 / 1000.0;
    let mut by_second: HashMap<i64, usize> = HashMap::new();
    for m in &sent {
        *by_second.entry(m.received_at.timestamp()).or_default() += 1;
    }
    let busiest = by_second.values().copied().max().unwrap_or(0);
    let stats = app.campaign_stats(&actor, account.id, id).await?;
    let asked = f64::from(a.rate) / 60.0;
    let held = f64::from(sent.len() as u32) / span;

    println!(
        "ferry bench campaign: one WhatsApp campaign to a segment of {} contacts, {backend}, `ferry serve` killed \
         with SIGKILL after {killed_at} sends and started again",
        a.contacts
    );
    println!("seeded in {seed_secs:.1}s; segment planned in {:.1}s", planning_secs.unwrap_or(total_secs));
    println!(
        "sent {} of {} expected in {total_secs:.1}s: {held:.1} msg/s held over {span:.1}s against {asked:.1} asked; busiest second {busiest}",
        per_buyer.len(),
        expected.len()
    );
    println!("resumed: first send {:.1}s after the kill", resumed_secs.unwrap_or(0.0));
    println!(
        "buyers who got it twice: {duplicates}; never: {missing}; outside the plan: {unexpected}; held out {}, skipped {:?}",
        stats.held_out, stats.skipped
    );
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "bench_campaign contacts={} expected={} sent={} duplicates={duplicates} missing={missing} unexpected={unexpected} \
         rate_asked={asked:.1} rate_held={held:.1} busiest_second={busiest} planning_secs={:.1} resume_secs={:.1} \
         total_secs={total_secs:.1} killed_at={killed_at} held_out={} backend={backend} build={build}",
        a.contacts,
        expected.len(),
        per_buyer.len(),
        planning_secs.unwrap_or(total_secs),
        resumed_secs.unwrap_or(0.0),
        stats.held_out
    );
    anyhow::ensure!(duplicates == 0, "{duplicates} buyers got the campaign twice");
    anyhow::ensure!(missing == 0, "{missing} buyers never got the campaign");
    anyhow::ensure!(unexpected == 0, "{unexpected} buyers outside the plan got the campaign");
    Ok(())
}
