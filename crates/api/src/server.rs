//! Assembly of a running Ferry node from a store: the use cases, the
//! router, the outbox dispatcher, the job worker, the snooze timer and the
//! commerce detectors' schedule. The binary and the test kit both start
//! Ferry through here.

use crate::{ApiConfig, router};
use axum::Router;
use ferry_app::attachments::AttachmentStore;
use ferry_app::bus::{EventBus, LocalBus};
use ferry_app::delivery::Jobs;
use ferry_app::signals::{PRESENCE_EVERY, Signals};
use ferry_app::{App, AppConfig};
use ferry_core::clock::Clock;
use ferry_jobs::Worker;
use ferry_storage::Storage;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Everything a node runs.
pub struct Node {
    /// The use cases.
    pub app: Arc<App>,
    /// The job worker.
    pub worker: Arc<Worker>,
    /// The HTTP router.
    pub router: Router,
    /// The HTTP settings the router was built with.
    pub api_config: ApiConfig,
}

/// What background loops to run with the HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct Background {
    /// Publish outbox events, and refresh the reports' facts of the
    /// conversations they changed.
    pub dispatcher: bool,
    /// Run jobs (tests drain the worker themselves instead).
    pub worker: bool,
    /// Wake snoozed conversations.
    pub snooze_timer: bool,
    /// Run the commerce detectors at start and then every
    /// `AppConfig::detectors.interval` (tests run them through the API).
    pub detectors: bool,
    /// Delete old published events and finished jobs, hourly.
    pub housekeeping: bool,
    /// Read the mailboxes of e-mail inboxes (IMAP, with IDLE).
    pub mailboxes: bool,
    /// Keep the search index current (searches catch up by themselves
    /// too).
    pub search_indexer: bool,
}

impl Default for Background {
    fn default() -> Self {
        Self {
            dispatcher: true,
            worker: true,
            snooze_timer: true,
            detectors: true,
            housekeeping: true,
            mailboxes: true,
            search_indexer: true,
        }
    }
}

impl Node {
    /// Builds a node on `storage`.
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        attachments: Arc<dyn AttachmentStore>,
        app_config: AppConfig,
        api_config: ApiConfig,
    ) -> Self {
        // The channel keeps its last `capacity` events alive (each holds a
        // message and its conversation), idle or not; a subscriber further
        // behind resyncs.
        let bus: Arc<dyn EventBus> = LocalBus::new(1024);
        Self::with_bus(storage, clock, attachments, app_config, api_config, bus, Signals::new())
    }

    /// Builds a node on `storage` publishing events on `bus` (NATS when
    /// scaled out), whose relay is already attached to `signals`.
    pub fn with_bus(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        attachments: Arc<dyn AttachmentStore>,
        app_config: AppConfig,
        api_config: ApiConfig,
        bus: Arc<dyn EventBus>,
        signals: Arc<Signals>,
    ) -> Self {
        let jobs_wake = Arc::new(tokio::sync::Notify::new());
        let app =
            App::with_signals(storage.clone(), clock.clone(), bus, attachments, app_config, jobs_wake.clone(), signals);
        let handler = Arc::new(Jobs::new(app.clone()));
        let settings = app.config.jobs;
        let worker = Arc::new(
            Worker::new(storage, handler, clock)
                .with_waker(jobs_wake)
                .with_lease(settings.lease)
                .with_concurrency(settings.concurrency),
        );
        let router = router(app.clone(), api_config.clone());
        Self { app, worker, router, api_config }
    }

    /// Starts the background loops on the current runtime.
    pub fn spawn_background(&self, bg: Background) {
        // Histograms collect samples between scrapes; fold them in on a
        // timer so an unscraped node stays small. Once per process: every
        // node shares the recorder.
        static UPKEEP: std::sync::Once = std::sync::Once::new();
        UPKEEP.call_once(|| {
            tokio::spawn(async {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    crate::monitoring::upkeep();
                }
            });
        });
        let signals = self.app.signals.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PRESENCE_EVERY).await;
                signals.heartbeat();
            }
        });
        if bg.dispatcher {
            let d = self.app.dispatcher();
            tokio::spawn(d.run(Duration::from_secs(2)));
            // Reports' facts follow the same events.
            tokio::spawn(self.app.clone().run_facts_refresher(Duration::from_secs(5), Duration::from_secs(1)));
            // So do outgoing webhooks.
            tokio::spawn(self.app.clone().run_webhook_feed());
        }
        if bg.worker {
            tokio::spawn(self.worker.clone().run(Duration::from_secs(1)));
            let app = self.app.clone();
            tokio::spawn(async move { app.warm_bot().await });
        }
        if bg.snooze_timer {
            scheduled(&self.app, "snooze_timer", Duration::from_secs(15), |app| async move {
                app.wake_snoozed().await.map(drop)
            });
        }
        if bg.housekeeping {
            scheduled(&self.app, "housekeeping", Duration::from_secs(3600), |app| async move {
                app.housekeeping().await.map(drop)
            });
        }
        if bg.housekeeping {
            scheduled(&self.app, "prune_events", Duration::from_secs(2), |app| async move {
                app.prune_published_events().await.map(drop)
            });
        }
        if bg.housekeeping {
            // Accounts from before the daily rollups: rebuilt once.
            scheduled(&self.app, "fill_rollups", Duration::from_secs(3600), |app| async move {
                app.fill_pending_rollups().await.map(drop)
            });
        }
        if bg.search_indexer {
            tokio::spawn(self.app.clone().run_search_indexer(Duration::from_secs(30)));
        }
        if bg.mailboxes {
            tokio::spawn(self.app.clone().supervise_mailboxes(Duration::from_secs(30)));
        }
        if bg.detectors {
            let every = self
                .app
                .config
                .detectors
                .interval
                .to_std()
                .unwrap_or(Duration::from_secs(900))
                .max(Duration::from_secs(1));
            scheduled(&self.app, "detectors", every, |app| async move { app.run_all_detectors().await.map(drop) });
        }
    }

    /// Serves HTTP on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Runs `task` once every `period` across all nodes sharing the store, on
/// whichever node takes the lease `name` first, starting now; logs what
/// fails (the next round tries again).
pub fn scheduled<F, Fut>(app: &Arc<App>, name: &'static str, period: Duration, task: F)
where
    F: Fn(Arc<App>) -> Fut + Send + 'static,
    Fut: Future<Output = ferry_app::AppResult<()>> + Send,
{
    let app = app.clone();
    let holder = app.signals.node_name();
    // Nodes look a few times per period, so the task runs soon after the
    // lease runs out, never twice within one.
    let look = (period / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
    let span = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::hours(1));
    tokio::spawn(async move {
        loop {
            // Leases are between processes: wall time, not the app's clock.
            let now = chrono::Utc::now();
            match app.storage.take_lease(name, &holder, now, now + span).await {
                Ok(true) => {
                    if let Err(e) = task(app.clone()).await {
                        tracing::error!(error = %e, task = name, "a scheduled task failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, task = name, "cannot take the lease of a scheduled task"),
            }
            tokio::time::sleep(look).await;
        }
    });
}
