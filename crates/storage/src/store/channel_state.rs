//! What a channel remembers per inbox between runs (an IMAP folder's
//! `UIDVALIDITY` and last UID, a poll offset, a token's expiry: small JSON
//! values under a key, written after the work they describe is committed),
//! and the rules each account adds to the compliance gate.

use crate::args;
use crate::db::{Arg, Backend, Db, found};
use crate::error::StorageResult;
use crate::repo::{ChannelStateRepo, ComplianceRulesRepo};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, InboxId};

#[async_trait]
impl<B: Backend> ChannelStateRepo for B {
    async fn get_channel_state(
        &self,
        account: AccountId,
        inbox: InboxId,
        key: &str,
    ) -> StorageResult<Option<serde_json::Value>> {
        let key = key.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT value FROM channel_state WHERE inbox_id = $2 AND key = $3 AND account_id = $1",
                        args![account.0, inbox.0, key],
                    )
                    .await?;
                r.map(|r| r.json(0, "channel_state.value")).transpose()
            })
        })
        .await
    }

    async fn put_channel_state(
        &self,
        account: AccountId,
        inbox: InboxId,
        key: &str,
        value: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let key = key.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "INSERT INTO channel_state (inbox_id, key, account_id, value, updated_at) \
                         SELECT id, $3, account_id, $4, $5 FROM inboxes WHERE id = $2 AND account_id = $1 \
                         ON CONFLICT (inbox_id, key) DO UPDATE SET value = excluded.value, \
                         updated_at = excluded.updated_at",
                        args![account.0, inbox.0, key, Arg::json(&value), now],
                    )
                    .await?;
                found(n)
            })
        })
        .await
    }
}

#[async_trait]
impl<B: Backend> ComplianceRulesRepo for B {
    async fn get_compliance_rules(&self, account: AccountId) -> StorageResult<Option<serde_json::Value>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT rules FROM compliance_rules WHERE account_id = $1", args![account.0]).await?;
                r.map(|r| r.json(0, "compliance_rules.rules")).transpose()
            })
        })
        .await
    }

    async fn put_compliance_rules(
        &self,
        account: AccountId,
        rules: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "INSERT INTO compliance_rules (account_id, rules, updated_at) \
                         SELECT id, $2, $3 FROM accounts WHERE id = $1 \
                         ON CONFLICT (account_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at",
                        args![account.0, Arg::json(&rules), now],
                    )
                    .await?;
                found(n)
            })
        })
        .await
    }
}
