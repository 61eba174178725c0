//! The conversation of an Amazon order. Message parts are JSON in both
//! backends; their text form differs in spacing (`"k":"v"` in SQLite,
//! `"k": "v"` in PostgreSQL), which the pattern allows.

use crate::amazon::AmazonRepo;
use crate::args;
use crate::db::{Backend, Db};
use crate::error::StorageResult;
use crate::rows::escape_like;
use async_trait::async_trait;
use ferry_core::{AccountId, ConversationId};

#[async_trait]
impl<B: Backend> AmazonRepo for B {
    async fn conversation_of_amazon_order(
        &self,
        account: AccountId,
        order_id: &str,
    ) -> StorageResult<Option<ConversationId>> {
        let pattern = format!("%\"amazon\\_order\\_id\":%\"{}\"%", escape_like(order_id));
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT conversation_id FROM messages WHERE account_id = $1 AND kind = 'incoming' \
                         AND CAST(parts AS TEXT) LIKE $2 ESCAPE '\\' ORDER BY id DESC LIMIT 1",
                        args![account.0, pattern],
                    )
                    .await?;
                r.map(|r| r.int(0).map(ConversationId)).transpose()
            })
        })
        .await
    }
}
