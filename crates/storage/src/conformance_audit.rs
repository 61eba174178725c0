//! Conformance cases of the audit log (kept apart from the rest of the
//! suite; [`super::run_all`] calls them).

use super::{t0, world};
use crate::*;
use chrono::Duration;
use serde_json::json;
use std::sync::Arc;

fn new_entry(actor: Option<ferry_core::UserId>, action: &str, target: &str, outcome: AuditOutcome) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: actor,
        actor_name: "Maria".into(),
        action: action.into(),
        target_kind: "order".into(),
        target_id: target.into(),
        details: json!({ "reason": "customer", "nested": { "amount": "10.00" } }),
        outcome,
        error: (outcome == AuditOutcome::Failed).then(|| "order #1001 has been fulfilled".to_owned()),
    }
}

/// Entries come back newest first, filtered by action and target, paged
/// by an id cursor, and never across accounts; deleting the actor keeps
/// the entry with the actor's name.
pub async fn audit_log_appends_filters_and_pages(s: Arc<dyn Storage>) {
    let a = world(&*s, "Alpha").await;
    let b = world(&*s, "Beta").await;
    let first =
        s.append_audit(a.account, new_entry(Some(a.agent), "order.cancel", "1", AuditOutcome::Ok), t0()).await.unwrap();
    assert_eq!(first.account_id, a.account);
    assert_eq!(first.actor_id, Some(a.agent));
    assert_eq!(first.details["nested"]["amount"], "10.00");
    assert_eq!((first.outcome, first.error.as_deref()), (AuditOutcome::Ok, None));
    assert_eq!(first.created_at, t0());
    let failed = s
        .append_audit(
            a.account,
            new_entry(Some(a.agent), "order.cancel", "2", AuditOutcome::Failed),
            t0() + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(failed.error.as_deref(), Some("order #1001 has been fulfilled"));
    let refund = s
        .append_audit(a.account, new_entry(None, "order.refund", "1", AuditOutcome::Ok), t0() + Duration::seconds(2))
        .await
        .unwrap();
    assert!(first.id < failed.id && failed.id < refund.id);
    s.append_audit(b.account, new_entry(Some(b.agent), "order.cancel", "1", AuditOutcome::Ok), t0()).await.unwrap();

    let all = s.list_audit(a.account, AuditQuery { limit: 50, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), vec![refund.id, failed.id, first.id]);
    assert_eq!(all[1], failed);
    let cancels = s
        .list_audit(a.account, AuditQuery { action: Some("order.cancel".into()), limit: 50, ..AuditQuery::default() })
        .await
        .unwrap();
    assert_eq!(cancels.len(), 2);
    let of_one = s
        .list_audit(
            a.account,
            AuditQuery {
                target_kind: Some("order".into()),
                target_id: Some("1".into()),
                limit: 50,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(of_one.iter().map(|e| e.id).collect::<Vec<_>>(), vec![refund.id, first.id]);
    let page1 = s.list_audit(a.account, AuditQuery { limit: 2, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(page1.len(), 2);
    let page2 = s
        .list_audit(a.account, AuditQuery { before: Some(page1[1].id), limit: 2, ..AuditQuery::default() })
        .await
        .unwrap();
    assert_eq!(page2.iter().map(|e| e.id).collect::<Vec<_>>(), vec![first.id]);
    let theirs = s.list_audit(b.account, AuditQuery { limit: 50, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert!(theirs.iter().all(|e| e.account_id == b.account));

    s.delete_user(a.account, a.agent).await.unwrap();
    let kept = s.list_audit(a.account, AuditQuery { limit: 50, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(kept.len(), 3);
    assert!(kept.iter().all(|e| e.actor_id.is_none() && e.actor_name == "Maria"));
}
