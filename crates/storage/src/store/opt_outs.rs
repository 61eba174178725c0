//! Opt-outs per contact and channel, in the shared SQL of both backends.

use crate::args;
use crate::db::{Backend, Db, found};
use crate::error::StorageResult;
use crate::opt_outs::{ChannelOptOut, OptOutRepo};
use async_trait::async_trait;
use ferry_core::inbox::ChannelKind;
use ferry_core::{AccountId, ContactId};

#[async_trait]
impl<B: Backend> OptOutRepo for B {
    async fn set_channel_opt_out(&self, account: AccountId, c: ChannelOptOut) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "INSERT INTO contact_channel_opt_outs \
                         (account_id, contact_id, channel, address, opted_out, keyword, created_at, updated_at) \
                         SELECT account_id, id, $3, $4, $5, $6, $7, $7 FROM contacts WHERE id = $2 AND account_id = $1 \
                         ON CONFLICT (contact_id, channel) DO UPDATE SET address = excluded.address, \
                         opted_out = excluded.opted_out, keyword = excluded.keyword, updated_at = excluded.updated_at",
                        args![
                            account.0,
                            c.contact_id.0,
                            c.channel.as_str().to_owned(),
                            c.address,
                            c.opted_out,
                            c.keyword,
                            c.updated_at
                        ],
                    )
                    .await?;
                found(n)
            })
        })
        .await
    }

    async fn get_channel_opt_out(
        &self,
        account: AccountId,
        contact: ContactId,
        channel: ChannelKind,
    ) -> StorageResult<Option<ChannelOptOut>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT address, opted_out, keyword, updated_at FROM contact_channel_opt_outs \
                         WHERE contact_id = $2 AND channel = $3 AND account_id = $1",
                        args![account.0, contact.0, channel.as_str().to_owned()],
                    )
                    .await?;
                let Some(r) = r else { return Ok(None) };
                Ok(Some(ChannelOptOut {
                    contact_id: contact,
                    channel,
                    address: r.text(0)?,
                    opted_out: r.flag(1)?,
                    keyword: r.text(2)?,
                    updated_at: r.time(3)?,
                }))
            })
        })
        .await
    }
}
