//! What the Amazon features read from the conversations: the conversation
//! a buyer's Amazon order belongs to, found by the order id Amazon's relay
//! put in the buyer's mail.

use crate::error::StorageResult;
use async_trait::async_trait;
use ferry_core::{AccountId, ConversationId};

/// Reads for Amazon orders.
#[async_trait]
pub trait AmazonRepo {
    /// The conversation whose latest incoming mail names the Amazon order
    /// `order_id` (the e-mail header's `amazon_order_id`), if any.
    async fn conversation_of_amazon_order(
        &self,
        account: AccountId,
        order_id: &str,
    ) -> StorageResult<Option<ConversationId>>;
}
