//! Ferry's use cases. HTTP handlers, webhooks, workers and the CLI call
//! these services alike; this is the one place that orchestrates storage,
//! the event bus, jobs and outside calls.

pub mod access_tokens;
pub mod alerts;
pub mod amazon;
pub mod attachments;
pub mod auth;
pub mod bot;
pub mod bus;
pub mod campaigns;
mod canned;
pub mod commerce;
pub mod compliance;
pub mod contacts;
mod conversations;
pub mod csat;
pub mod delivery;
mod directory;
pub mod email;
mod error;
mod facts;
pub mod housekeeping;
mod inbox_cache;
pub mod insights;
pub mod intake;
pub mod invitations;
pub mod journeys;
pub mod limits;
pub mod merges;
pub mod meta_inbox;
pub mod monitoring;
pub mod notices;
pub mod order_actions;
pub mod outgoing;
pub mod passwords;
pub mod platform;
pub mod privacy;
pub mod products;
pub mod profiles;
pub mod questions;
pub mod search;
pub mod security;
pub mod shop_import;
pub mod signals;
pub mod sms_inbox;
pub mod stock;
pub mod telegram;
pub mod translation;
pub mod updates;
pub mod usage;
pub mod webhooks;
pub mod whatsapp;
pub mod widget;

pub use conversations::{ConversationQuery, NewReply};
pub use directory::{NewAgent, NewInboxInput};
pub use error::{AppError, AppResult, BoxError};
pub use ferry_channels::mail::SmtpConfig;
pub use ferry_channels::sms::SmsConfig;

use attachments::AttachmentStore;
use bus::{Dispatcher, EventBus};
use chrono::Duration;
use ferry_core::clock::Clock;
use ferry_storage::Storage;
use std::sync::Arc;
use tokio::sync::Notify;

/// Settings of the use cases.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// A buyer message within this long after resolving reopens the
    /// conversation; later ones open a new one.
    pub reopen_window: Duration,
    /// How long a console login lasts.
    pub session_ttl: Duration,
    /// Public base URL (for links in webhooks and the widget snippet).
    pub public_url: String,
    /// Outgoing mail (one-time codes); `None`: Ferry sends no e-mail.
    pub smtp: Option<SmtpConfig>,
    /// The commerce detectors' settings.
    pub detectors: alerts::DetectorConfig,
    /// How long finished jobs are kept.
    pub retention: Duration,
    /// Outgoing SMS (one-time codes to an order's phone); `None`: Ferry
    /// sends no SMS.
    pub sms: Option<SmsConfig>,
    /// How background jobs run.
    pub jobs: JobSettings,
    /// Largest file an agent may upload as an attachment, in bytes
    /// (streamed to the attachment store, so not bounded by the request
    /// body limit).
    pub max_attachment_bytes: u64,
    /// Where the embedded (SQLite) store's search index lives; in memory,
    /// rebuilt at start, when `None`.
    pub search_dir: Option<std::path::PathBuf>,
    /// Outgoing webhooks.
    pub webhooks: webhooks::WebhookSettings,
}

/// How a node runs background jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// How long a claim holds a job: a node that dies mid-job leaves it to
    /// be claimed again after this.
    pub lease: Duration,
    /// Jobs run at once by a node.
    pub concurrency: usize,
    /// How long a delivery interrupted mid-send waits for the channel's
    /// report (which marks it sent) before it is sent again, on channels
    /// whose reports carry Ferry's message id.
    pub reconcile: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self { lease: Duration::minutes(2), concurrency: 16, reconcile: Duration::minutes(1) }
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            reopen_window: Duration::days(7),
            session_ttl: Duration::days(14),
            public_url: "http://127.0.0.1:8080".to_owned(),
            smtp: None,
            detectors: alerts::DetectorConfig::default(),
            retention: Duration::days(7),
            sms: None,
            jobs: JobSettings::default(),
            max_attachment_bytes: 25 * 1024 * 1024,
            search_dir: None,
            webhooks: webhooks::WebhookSettings::default(),
        }
    }
}

/// The application: every use case hangs off it.
pub struct App {
    /// The store.
    pub storage: Arc<dyn Storage>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Where committed events are published.
    pub bus: Arc<dyn EventBus>,
    /// Files attached to messages.
    pub attachments: Arc<dyn AttachmentStore>,
    /// Settings.
    pub config: AppConfig,
    jobs: Arc<Notify>,
    inbox_cache: inbox_cache::InboxCache,
    bots: bot::Engines,
    /// The Amazon connections' API clients.
    pub amazon: amazon::AmazonClients,
    /// HTTP client for channels' APIs (media, templates, checks).
    pub(crate) http: reqwest::Client,
    /// Rate limits and attempt caps.
    pub limits: limits::Limits,
    /// Typing and presence, across nodes when a relay is attached.
    pub signals: Arc<signals::Signals>,
    /// Search over messages and contacts.
    pub search_index: Arc<dyn ferry_search::SearchIndex>,
    /// Events the webhook feed has handled.
    webhook_fed: tokio::sync::watch::Sender<u64>,
}

impl App {
    /// Builds the application. `jobs` wakes the job worker when a job is
    /// enqueued.
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        bus: Arc<dyn EventBus>,
        attachments: Arc<dyn AttachmentStore>,
        config: AppConfig,
        jobs: Arc<Notify>,
    ) -> Arc<Self> {
        Self::with_signals(storage, clock, bus, attachments, config, jobs, signals::Signals::new())
    }

    /// Builds the application with a signal hub made beforehand (a bus
    /// that relays signals to other nodes is attached to it first).
    pub fn with_signals(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        bus: Arc<dyn EventBus>,
        attachments: Arc<dyn AttachmentStore>,
        config: AppConfig,
        jobs: Arc<Notify>,
        signals: Arc<signals::Signals>,
    ) -> Arc<Self> {
        let search_index = ferry_search::for_storage(storage.clone(), config.search_dir.clone());
        Arc::new(Self {
            search_index,
            storage,
            clock,
            bus,
            attachments,
            config,
            jobs,
            inbox_cache: inbox_cache::InboxCache::default(),
            bots: bot::Engines::default(),
            amazon: amazon::AmazonClients::default(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .connect_timeout(std::time::Duration::from_secs(5))
                .user_agent(concat!("Ferry/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default(),
            limits: limits::Limits::default(),
            signals,
            webhook_fed: tokio::sync::watch::channel(0).0,
        })
    }

    /// The outbox dispatcher of this application; run it once per process.
    /// From now on the store hands it every committed event.
    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(self.storage.clone(), self.bus.clone(), self.clock.clone())
    }

    /// Tells the worker a job was enqueued.
    pub(crate) fn job_enqueued(&self) {
        self.jobs.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_never_prints_its_secrets() {
        let config = AppConfig {
            smtp: Some(SmtpConfig { url: "smtps://codes:hunter2@mail.example:465".into(), from: "Shop <s@x>".into() }),
            sms: Some(SmsConfig {
                base_url: "https://api.twilio.com".into(),
                account_sid: "AC123".into(),
                auth_token: "hunter3".into(),
                from: "+15005550006".into(),
            }),
            ..AppConfig::default()
        };
        let printed = format!("{config:?}");
        assert!(printed.contains("AC123"), "{printed}");
        assert!(!printed.contains("hunter2") && !printed.contains("hunter3"), "{printed}");
    }
}
