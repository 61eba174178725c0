//! Product feedback: the defect rules kept on the account, and the reads
//! of conversations per SKU (from their facts), order lines per SKU and
//! first buyer messages, each one statement on an index.

use super::insights::flush_pending;
use crate::args;
use crate::db::{Backend, Db};
use crate::error::{StorageError, StorageResult};
use crate::products::{FirstBuyerMessage, ProductFeedbackRepo, SkuOrderLine};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::insights::{DefectRules, SkuConversation};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, ConversationId};

async fn defect_rules<D: Db>(db: &mut D, account: AccountId) -> StorageResult<DefectRules> {
    let r = db
        .row("SELECT defect_tags, defect_intents FROM accounts WHERE id = $1", args![account.0])
        .await?
        .ok_or(StorageError::NotFound)?;
    Ok(DefectRules { tags: r.json(0, "accounts.defect_tags")?, intents: r.json(1, "accounts.defect_intents")? })
}

fn to_json(names: &[String]) -> String {
    // A list of strings always serialises.
    serde_json::to_string(names).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl<B: Backend> ProductFeedbackRepo for B {
    async fn defect_rules(&self, account: AccountId) -> StorageResult<DefectRules> {
        self.read(move |db| Box::pin(defect_rules(db, account))).await
    }

    async fn set_defect_rules(&self, account: AccountId, rules: DefectRules, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE accounts SET defect_tags = $2, defect_intents = $3, updated_at = $4 WHERE id = $1",
                        args![account.0, to_json(&rules.tags), to_json(&rules.intents), now],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn sku_conversations(
        &self,
        account: AccountId,
        from: i64,
        until: i64,
        sku: Option<String>,
    ) -> StorageResult<Vec<SkuConversation>> {
        flush_pending(self).await?;
        self.read(move |db| {
            Box::pin(async move {
                // One row per tag and SKU of each conversation opened in the
                // range (facts by day; values by their key), grouped here.
                let (filter, args) = match sku {
                    None => (
                        "EXISTS (SELECT 1 FROM conversation_fact_values s WHERE s.conversation_id = f.conversation_id \
                         AND s.dimension = 'sku')",
                        args![account.0, from, until],
                    ),
                    Some(sku) => (
                        "f.conversation_id IN (SELECT s.conversation_id FROM conversation_fact_values s \
                         WHERE s.account_id = $1 AND s.dimension = 'sku' AND s.value = $4)",
                        args![account.0, from, until, sku],
                    ),
                };
                let sql = format!(
                    "SELECT f.conversation_id, f.opened_day, f.opened_at, f.intent, f.country, f.language, \
                     v.dimension, v.value FROM conversation_facts f \
                     JOIN conversation_fact_values v ON v.conversation_id = f.conversation_id \
                     AND v.dimension IN ('sku', 'tag') \
                     WHERE f.account_id = $1 AND f.opened_day >= $2 AND f.opened_day <= $3 AND {filter} \
                     ORDER BY f.conversation_id, v.dimension, v.value"
                );
                let mut out: Vec<SkuConversation> = Vec::new();
                for r in db.rows(&sql, args).await? {
                    let id = r.int(0)?;
                    if out.last().is_none_or(|c| c.conversation_id != id) {
                        out.push(SkuConversation {
                            conversation_id: id,
                            opened_day: r.int(1)?,
                            opened_at: r.time(2)?,
                            intent: r.opt_text(3)?,
                            country: r.opt_text(4)?,
                            language: r.opt_text(5)?,
                            tags: Vec::new(),
                            skus: Vec::new(),
                        });
                    }
                    if let Some(c) = out.last_mut() {
                        let value = r.text(7)?;
                        if r.text(6)? == "sku" { c.skus.push(value) } else { c.tags.push(value) }
                    }
                }
                Ok(out)
            })
        })
        .await
    }

    async fn sku_order_lines(
        &self,
        account: AccountId,
        skus: Vec<String>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StorageResult<Vec<SkuOrderLine>> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT sku, placed_at, quantity FROM shop_order_lines WHERE account_id = $1 \
                     AND sku IN (SELECT value FROM {}) AND placed_at >= $3 AND placed_at < $4",
                    db.list("$2")
                );
                let rows = db.rows(&sql, args![account.0, skus, from, until]).await?;
                rows.iter()
                    .map(|r| Ok(SkuOrderLine { sku: r.text(0)?, placed_at: r.time(1)?, quantity: r.int(2)? }))
                    .collect()
            })
        })
        .await
    }

    async fn first_buyer_messages(
        &self,
        account: AccountId,
        ids: Vec<ConversationId>,
    ) -> StorageResult<Vec<FirstBuyerMessage>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT m.conversation_id, m.id, m.sent_at, m.parts FROM messages m WHERE m.account_id = $1 \
                     AND m.id IN (SELECT MIN(id) FROM messages WHERE conversation_id IN (SELECT value FROM {}) \
                     AND kind = 'incoming' GROUP BY conversation_id) ORDER BY m.id",
                    db.list("$2")
                );
                let rows = db.rows(&sql, args![account.0, ids]).await?;
                rows.iter()
                    .map(|r| {
                        Ok(FirstBuyerMessage {
                            conversation_id: ConversationId(r.int(0)?),
                            message_id: r.int(1)?,
                            sent_at: r.time(2)?,
                            parts: r.json::<Vec<ContentPart>>(3, "messages.parts")?,
                        })
                    })
                    .collect()
            })
        })
        .await
    }
}
