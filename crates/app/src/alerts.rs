//! The commerce detectors at work: read each shop's mirror and the buyers'
//! open conversations, run the pure detectors of `ferry_commerce::detect`,
//! record the findings as alerts for the console, and let people
//! acknowledge and resolve them.
//!
//! Roles: every user of the account sees and acknowledges alerts; only
//! owners and admins run the detectors on demand and resolve alerts by
//! hand (the detectors resolve what they no longer find by themselves).

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use chrono::Duration;
use ferry_commerce::detect::{self, AlertKind, Input, Thresholds};
use ferry_core::{AccountId, AlertId, ShopConnectionId};
use ferry_storage::{Alert, AlertFilter, AlertStatus, NewAlert};
use std::collections::HashMap;

/// Settings of the detectors.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// The rules' thresholds.
    pub thresholds: Thresholds,
    /// How often the scheduled run happens.
    pub interval: Duration,
    /// How far back a buyer's message counts as demand for a stocked-out
    /// variant.
    pub demand_window: Duration,
    /// Most orders read per shop and run.
    pub max_orders: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            thresholds: Thresholds::default(),
            interval: Duration::minutes(15),
            demand_window: Duration::days(14),
            max_orders: 5000,
        }
    }
}

/// What one run of the detectors did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetectorSummary {
    /// Shops looked at.
    pub connections: u32,
    /// Findings of this run.
    pub found: u32,
    /// Alerts newly raised (or raised again).
    pub raised: u32,
    /// Alerts still standing, refreshed.
    pub refreshed: u32,
    /// Alerts resolved because they were no longer found.
    pub resolved: u32,
}

impl DetectorSummary {
    fn add(&mut self, o: &DetectorSummary) {
        self.connections += o.connections;
        self.found += o.found;
        self.raised += o.raised;
        self.refreshed += o.refreshed;
        self.resolved += o.resolved;
    }
}

fn can_manage_alerts(actor: &Actor) -> AppResult<()> {
    if actor.may(ferry_core::account::Permission::ManageInboxes) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only owners and admins can run the detectors and resolve alerts"))
    }
}

impl App {
    /// Runs the detectors on one shop and records the alerts.
    #[tracing::instrument(skip_all, fields(account_id = %account, connection_id = %connection))]
    pub async fn run_detectors_on(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
    ) -> AppResult<DetectorSummary> {
        let cfg = &self.config.detectors;
        let t = &cfg.thresholds;
        let now = self.clock.now();
        let products = self.storage.list_products(account, connection).await?;
        let stock: HashMap<String, i64> = self.storage.stock_levels(account, connection).await?.into_iter().collect();
        let window = t.order_window_days.max(t.sales_window_days).max(1);
        let orders =
            self.storage.orders_placed_since(account, connection, now - Duration::days(window), cfg.max_orders).await?;
        let mut demand = HashMap::new();
        for (p, v, _) in detect::stocked_out(&products, &stock) {
            let mut terms = vec![p.title.clone()];
            terms.extend(v.sku.clone());
            let since = now - cfg.demand_window;
            let n = self.storage.count_conversations_asking(account, &terms, since).await?;
            demand.insert(v.external_id.clone(), n);
            if n > 0 {
                // The buyers who asked are told when it is back.
                self.subscribe_askers(account, connection, p, v, &terms, since).await?;
            }
        }
        let findings = detect::detect(&Input {
            products: &products,
            stock: &stock,
            orders: &orders,
            demand: &demand,
            now,
            thresholds: t,
        });
        let late: Vec<String> = findings
            .iter()
            .filter(|f| f.kind == AlertKind::LateOrder)
            .filter_map(|f| f.details.get("order_external_id").and_then(|v| v.as_str()).map(str::to_owned))
            .collect();
        let found = u32::try_from(findings.len()).unwrap_or(u32::MAX);
        let new: Vec<NewAlert> = findings.into_iter().map(NewAlert::from).collect();
        let out = self.storage.record_alerts(account, connection, &AlertKind::SHOP, new, now).await?;
        if !out.raised.is_empty() {
            tracing::info!(raised = out.raised.len(), resolved = out.resolved, "detectors raised alerts");
        }
        // The buyers of late orders are told (once per order) when the
        // delay notice is on.
        if let Err(e) = self.notices_for_late_orders(account, connection, &late).await {
            tracing::error!(error = %e, "deciding the delay notices failed");
        }
        // Stock that came back through a sync rather than a webhook.
        if let Err(e) = self.notices_for_restock(account, connection).await {
            tracing::error!(error = %e, "deciding the back-in-stock notices failed");
        }
        Ok(DetectorSummary {
            connections: 1,
            found,
            raised: u32::try_from(out.raised.len()).unwrap_or(u32::MAX),
            refreshed: out.refreshed,
            resolved: out.resolved,
        })
    }

    async fn subscribe_askers(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        p: &ferry_commerce::Product,
        v: &ferry_commerce::Variant,
        terms: &[String],
        since: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<()> {
        for contact in self.storage.contacts_asking(account, terms, since).await? {
            let new = ferry_storage::NewStockSubscription {
                contact_id: contact,
                connection_id: connection,
                product_external_id: p.external_id.clone(),
                variant_external_id: v.external_id.clone(),
                sku: v.sku.clone(),
                title: crate::stock::variant_title(p, v),
                source: "asked".into(),
            };
            match self.storage.subscribe_stock(account, new, self.clock.now()).await {
                Ok(_) | Err(ferry_storage::StorageError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Runs the detectors on every shop of the account, and the
    /// account-wide defect-rate detector.
    pub async fn run_detectors(&self, account: AccountId) -> AppResult<DetectorSummary> {
        let mut sum = DetectorSummary::default();
        for c in self.storage.list_shop_connections(account).await? {
            sum.add(&self.run_detectors_on(account, c.id).await?);
        }
        sum.add(&self.run_defect_detector(account).await?);
        Ok(sum)
    }

    /// Runs the detectors on every shop of every account, then the
    /// defect-rate detector on every account (the scheduled run). A shop
    /// or account that fails is logged and the others still run.
    pub async fn run_all_detectors(&self) -> AppResult<DetectorSummary> {
        let mut sum = DetectorSummary::default();
        for (account, connection) in self.storage.detector_targets().await? {
            match self.run_detectors_on(account, connection).await {
                Ok(s) => sum.add(&s),
                Err(e) => tracing::error!(error = %e, %account, %connection, "detectors failed on a shop"),
            }
        }
        for account in self.storage.account_ids().await? {
            match self.run_defect_detector(account).await {
                Ok(s) => sum.add(&s),
                Err(e) => tracing::error!(error = %e, %account, "defect-rate detector failed"),
            }
        }
        Ok(sum)
    }

    /// Runs the detectors now, on behalf of an owner or admin.
    pub async fn run_detectors_now(&self, actor: &Actor, account: AccountId) -> AppResult<DetectorSummary> {
        actor.in_account(account)?;
        can_manage_alerts(actor)?;
        self.run_detectors(account).await
    }

    /// The account's alerts, newest first.
    pub async fn list_alerts(&self, actor: &Actor, account: AccountId, filter: AlertFilter) -> AppResult<Vec<Alert>> {
        actor.in_account(account)?;
        Ok(self.storage.list_alerts(account, filter).await?)
    }

    /// One alert.
    pub async fn get_alert(&self, actor: &Actor, account: AccountId, id: AlertId) -> AppResult<Alert> {
        actor.in_account(account)?;
        self.storage.get_alert(account, id).await?.ok_or(AppError::NotFound("alert"))
    }

    /// Marks an open alert as being looked after (any user of the
    /// account). Acknowledging it again changes nothing; a resolved alert
    /// cannot be acknowledged.
    pub async fn acknowledge_alert(&self, actor: &Actor, account: AccountId, id: AlertId) -> AppResult<Alert> {
        let a = self.get_alert(actor, account, id).await?;
        match a.status {
            AlertStatus::Acknowledged => Ok(a),
            AlertStatus::Resolved => Err(AppError::invalid("status", "the alert is already resolved")),
            AlertStatus::Open => Ok(self
                .storage
                .set_alert_status(account, id, AlertStatus::Acknowledged, actor.user.id, self.clock.now())
                .await?),
        }
    }

    /// Resolves an alert by hand (owners and admins). If the detectors
    /// find it again, it opens again. Resolving it again changes nothing.
    pub async fn resolve_alert(&self, actor: &Actor, account: AccountId, id: AlertId) -> AppResult<Alert> {
        actor.in_account(account)?;
        can_manage_alerts(actor)?;
        let a = self.get_alert(actor, account, id).await?;
        if a.status == AlertStatus::Resolved {
            return Ok(a);
        }
        Ok(self.storage.set_alert_status(account, id, AlertStatus::Resolved, actor.user.id, self.clock.now()).await?)
    }
}
