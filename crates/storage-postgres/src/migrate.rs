//! Embedded migrations, with the same versions and names as the SQLite
//! backend's, recorded in `schema_migrations`; applied migrations are never
//! edited. Processes starting together take turns on an advisory lock.

use crate::db_err;
use ferry_storage::{StorageError, StorageResult};
use sqlx::{Connection, PgConnection, PgPool};

/// (version, name, SQL) of every migration, in order.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "canned_responses", include_str!("../migrations/0002_canned_responses.sql")),
    (3, "bot", include_str!("../migrations/0003_bot.sql")),
    (4, "commerce", include_str!("../migrations/0004_commerce.sql")),
    (5, "shop_sync", include_str!("../migrations/0005_shop_sync.sql")),
    (6, "alerts", include_str!("../migrations/0006_alerts.sql")),
    (7, "audit_log", include_str!("../migrations/0007_audit_log.sql")),
    (8, "order_customers", include_str!("../migrations/0008_order_customers.sql")),
    (9, "foreign_key_indexes", include_str!("../migrations/0009_foreign_key_indexes.sql")),
    (10, "channel_state", include_str!("../migrations/0010_channel_state.sql")),
    (11, "compliance_rules", include_str!("../migrations/0011_compliance_rules.sql")),
    (12, "delivery_engine", include_str!("../migrations/0012_delivery_engine.sql")),
    (13, "slim_outbox", include_str!("../migrations/0013_slim_outbox.sql")),
    (14, "search", include_str!("../migrations/0014_search.sql")),
    (15, "leases", include_str!("../migrations/0015_leases.sql")),
    (16, "search_vector", include_str!("../migrations/0016_search_vector.sql")),
    (17, "insights", include_str!("../migrations/0017_insights.sql")),
    (18, "csat", include_str!("../migrations/0018_csat.sql")),
    (19, "insight_rollups", include_str!("../migrations/0019_insight_rollups.sql")),
    (20, "contact_profiles", include_str!("../migrations/0020_contact_profiles.sql")),
    (22, "order_search", include_str!("../migrations/0022_order_search.sql")),
    (23, "facts_pending", include_str!("../migrations/0023_facts_pending.sql")),
    (24, "product_feedback", include_str!("../migrations/0024_product_feedback.sql")),
    (25, "two_factor", include_str!("../migrations/0025_two_factor.sql")),
    (26, "invitations", include_str!("../migrations/0026_invitations.sql")),
    (27, "roles_privacy", include_str!("../migrations/0027_roles_privacy.sql")),
    (28, "platform", include_str!("../migrations/0028_platform.sql")),
    (30, "contact_channel_opt_outs", include_str!("../migrations/0030_contact_channel_opt_outs.sql")),
    (31, "contact_merges", include_str!("../migrations/0031_contact_merges.sql")),
    (32, "translation", include_str!("../migrations/0032_translation.sql")),
    (34, "notices", include_str!("../migrations/0034_notices.sql")),
    (35, "contact_consents", include_str!("../migrations/0035_contact_consents.sql")),
    (36, "campaigns", include_str!("../migrations/0036_campaigns.sql")),
    (37, "unsubscribe_links", include_str!("../migrations/0037_unsubscribe_links.sql")),
    (38, "stock_subscriptions", include_str!("../migrations/0038_stock_subscriptions.sql")),
    (39, "journeys", include_str!("../migrations/0039_journeys.sql")),
    (40, "per_contact_indexes", include_str!("../migrations/0040_per_contact_indexes.sql")),
];

/// Key of the session advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x6665_7272_795f_6d67; // "ferry_mg"

/// Applies the migrations not yet applied, each in its own transaction.
pub async fn run(pool: &PgPool) -> StorageResult<()> {
    // A connection of its own, closed afterwards, so the session lock can
    // never stay behind in the pool.
    let mut conn = pool.acquire().await.map_err(db_err)?.detach();
    let out = run_locked(&mut conn).await;
    if let Err(e) = conn.close().await {
        // The server releases the lock with the session anyway.
        tracing::debug!(error = %e, "closing the migration connection failed");
    }
    out
}

async fn run_locked(conn: &mut PgConnection) -> StorageResult<()> {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await.map_err(db_err)?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    if let Some(max) = applied.last()
        && *max > MIGRATIONS.last().map_or(0, |m| m.0)
    {
        return Err(StorageError::Corrupt(format!(
            "the database is at schema version {max}, newer than this Ferry knows; upgrade Ferry"
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let mut tx = conn.begin().await.map_err(db_err)?;
        sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(db_err)?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        tracing::info!(version, name, "applied migration");
    }
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await.map_err(db_err)?;
    Ok(())
}
