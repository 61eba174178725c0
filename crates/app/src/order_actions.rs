//! Agents acting on orders from a conversation: cancel an unfulfilled
//! order, refund (part of) it, change its shipping address — where the
//! shop connection allows it and the agent's role permits it. Every
//! attempt on an existing order is written to the audit log, done or not
//! (with the reason it failed); a done action is applied to the mirror at
//! once from the shop's answer and, when a conversation is named, told in
//! it as an activity line.
//!
//! Roles: every role may cancel and change addresses; refunds (money
//! leaving the shop) and the audit log are for owners and admins.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_commerce::actions::{
    self, CancelReason, CancelRequest, ConnectorError, OrderAction, RefundAmount, RefundLine, RefundRequest, RuleError,
    ShopConnector,
};
use ferry_commerce::money::{format_minor, parse_minor};
use ferry_commerce::{Address, OrderDetails};
use ferry_connectors::connector_for;
use ferry_core::account::Permission;
use ferry_core::{AccountId, ConversationId, OrderId};
use ferry_storage::{AuditEntry, AuditOutcome, AuditQuery, NewAuditEntry, StoredOrder};
use serde_json::{Value, json};
use std::sync::Arc;

/// Cancel an order.
#[derive(Debug, Clone)]
pub struct CancelInput {
    /// `customer`, `fraud`, `inventory`, `declined` or `other`.
    pub reason: String,
    /// Send the buyer the shop's cancellation e-mail.
    pub notify_customer: bool,
    /// Put the items back in stock.
    pub restock: bool,
    /// The conversation the agent acts from (gets an activity line).
    pub conversation_id: Option<ConversationId>,
}

/// Refund an order: an amount, some lines, or (neither) all that is left.
#[derive(Debug, Clone, Default)]
pub struct RefundInput {
    /// Decimal amount in the order's currency (`"12.50"`).
    pub amount: Option<String>,
    /// ISO 4217; the order's when absent, and must be the order's.
    pub currency: Option<String>,
    /// Lines to refund instead of an amount.
    pub line_items: Vec<RefundLine>,
    /// Why.
    pub note: Option<String>,
    /// Send the buyer the shop's refund e-mail.
    pub notify_customer: bool,
    /// The conversation the agent acts from.
    pub conversation_id: Option<ConversationId>,
}

/// Change where an order goes.
#[derive(Debug, Clone)]
pub struct AddressInput {
    /// The new address.
    pub address: Address,
    /// The conversation the agent acts from.
    pub conversation_id: Option<ConversationId>,
}

/// Whether the actor may take one action on an order now, and if not why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionAvailability {
    /// The action.
    pub action: OrderAction,
    /// It may be taken.
    pub allowed: bool,
    /// Why not: `forbidden` (role), `not_supported` (connection) or
    /// `order_state`.
    pub code: Option<&'static str>,
    /// Why not, in words.
    pub reason: Option<String>,
}

impl Actor {
    /// Fails unless the role may take `action` on orders.
    pub fn can_act_on_orders(&self, action: OrderAction) -> AppResult<()> {
        match action {
            OrderAction::Cancel => {
                if self.may(Permission::OrderActions) {
                    Ok(())
                } else {
                    Err(AppError::Forbidden("your role cannot cancel orders"))
                }
            }
            OrderAction::Refund => self.can_refund(None),
            OrderAction::UpdateShippingAddress => {
                if self.may(Permission::OrderActions) {
                    Ok(())
                } else {
                    Err(AppError::Forbidden("your role cannot change orders"))
                }
            }
        }
    }

    /// Fails unless the role may read the audit log.
    pub fn can_read_audit_log(&self) -> AppResult<()> {
        if self.may(Permission::AuditLog) {
            Ok(())
        } else {
            Err(AppError::Forbidden("only owners and admins can read the audit log"))
        }
    }
}

fn rule_error(e: RuleError) -> AppError {
    match e {
        RuleError::State(m) => AppError::Conflict(m),
        RuleError::Invalid { field, message } => AppError::invalid(field, message),
    }
}

fn connector_error(e: ConnectorError) -> AppError {
    match e {
        ConnectorError::NotSupported(_) => AppError::Unsupported(e.to_string()),
        ConnectorError::Rejected(m) | ConnectorError::Unavailable(m) => AppError::Upstream(m),
    }
}

fn unsupported(action: OrderAction, reason: Option<&str>) -> AppError {
    let base = ConnectorError::NotSupported(action).to_string();
    AppError::Unsupported(match reason {
        Some(r) => format!("{base}: {r}"),
        None => base,
    })
}

/// The rule of `action` on the order as the mirror has it.
fn state_rule(action: OrderAction, d: &OrderDetails) -> Result<(), RuleError> {
    match action {
        OrderAction::Cancel => actions::check_cancel(d),
        OrderAction::UpdateShippingAddress => actions::check_address_change(d),
        OrderAction::Refund => {
            if d.order.cancelled_at.is_some() {
                return Err(RuleError::State(format!("order {} is cancelled", d.order.name)));
            }
            if d.order.total_minor - actions::refunded_minor(d) <= 0 {
                return Err(RuleError::State(format!("order {} has been refunded in full", d.order.name)));
            }
            Ok(())
        }
    }
}

/// What the action was, for the audit log and the activity line.
struct Attempt {
    action: OrderAction,
    details: Value,
    conversation: Option<ConversationId>,
}

impl App {
    /// The order and its connector, after checking the
    /// conversation named exists in the account.
    async fn action_target(
        &self,
        actor: &Actor,
        account: AccountId,
        id: OrderId,
        conversation: Option<ConversationId>,
    ) -> AppResult<(StoredOrder, Arc<dyn ShopConnector>, Option<&'static str>)> {
        actor.in_account(account)?;
        let order = self.storage.get_order(account, id).await?.ok_or(AppError::NotFound("order"))?;
        if let Some(c) = conversation {
            self.storage.get_conversation(account, c).await?.ok_or(AppError::NotFound("conversation"))?;
        }
        let conn = self
            .storage
            .get_shop_connection(account, order.connection_id)
            .await?
            .ok_or(AppError::NotFound("shop connection"))?;
        let (connector, reason) = connector_for(&conn);
        Ok((order, connector, reason))
    }

    /// Applies the shop's answer to the mirror and reads the order again.
    /// The shop has done the action by now, so a store failure here is
    /// logged (the next webhook or backfill brings the change) rather than
    /// reported as a failed action that an agent would try again.
    async fn apply_answer(
        &self,
        account: AccountId,
        order: &StoredOrder,
        writes: Vec<ferry_commerce::MirrorWrite>,
    ) -> StoredOrder {
        let now = self.clock.now();
        let applied = async {
            self.storage.apply_mirror_writes(account, order.connection_id, None, writes, now).await?;
            self.storage.get_order(account, order.id).await
        };
        match applied.await {
            Ok(Some(updated)) => updated,
            Ok(None) => order.clone(),
            Err(e) => {
                tracing::error!(error = %e, "the shop did the action but the mirror could not be updated");
                order.clone()
            }
        }
    }

    /// Audits an attempt and, when it was done in a conversation, tells it
    /// there.
    async fn finish(
        &self,
        actor: &Actor,
        account: AccountId,
        order: &StoredOrder,
        attempt: Attempt,
        result: AppResult<(StoredOrder, String)>,
    ) -> AppResult<StoredOrder> {
        let (outcome, error) = match &result {
            Ok(_) => (AuditOutcome::Ok, None),
            Err(e) => (AuditOutcome::Failed, Some(e.to_string())),
        };
        let mut details = attempt.details;
        if let Some(o) = details.as_object_mut() {
            o.insert("order".into(), Value::from(order.details.order.name.as_str()));
            o.insert("order_external_id".into(), Value::from(order.details.order.external_id.as_str()));
            if let Some(c) = attempt.conversation {
                o.insert("conversation_id".into(), Value::from(c.0));
            }
        }
        let entry = NewAuditEntry {
            actor_id: Some(actor.user.id),
            actor_name: actor.user.name.clone(),
            action: attempt.action.audit_name().to_owned(),
            target_kind: "order".to_owned(),
            target_id: order.id.0.to_string(),
            details,
            outcome,
            error,
        };
        let audited = self.storage.append_audit(account, entry, self.clock.now()).await;
        let (updated, line) = match (result, audited) {
            (Ok(done), Ok(_)) => done,
            // The shop did it: a failed audit write must not make it look
            // undone (an agent would do it again).
            (Ok(done), Err(e)) => {
                tracing::error!(error = %e, action = attempt.action.audit_name(), "could not write the audit entry");
                done
            }
            (Err(e), _) => return Err(e),
        };
        if let Some(c) = attempt.conversation
            && let Err(e) = self.post_activity(account, c, line).await
        {
            tracing::warn!(error = %e, "could not write the order action's activity line");
        }
        Ok(updated)
    }

    /// Cancels an unfulfilled order in the shop.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn cancel_order(
        &self,
        actor: &Actor,
        account: AccountId,
        id: OrderId,
        input: CancelInput,
    ) -> AppResult<StoredOrder> {
        let (order, connector, why) = self.action_target(actor, account, id, input.conversation_id).await?;
        let attempt = Attempt {
            action: OrderAction::Cancel,
            details: json!({ "reason": input.reason, "notify_customer": input.notify_customer, "restock": input.restock }),
            conversation: input.conversation_id,
        };
        let result = async {
            actor.can_act_on_orders(OrderAction::Cancel)?;
            if !connector.capabilities().cancel_order {
                return Err(unsupported(OrderAction::Cancel, why));
            }
            let reason = CancelReason::parse(&input.reason).ok_or_else(|| {
                AppError::invalid("reason", "reason must be one of customer, fraud, inventory, declined, other")
            })?;
            actions::check_cancel(&order.details).map_err(rule_error)?;
            let req = CancelRequest { reason, notify_customer: input.notify_customer, restock: input.restock };
            let writes =
                connector.cancel_order(&order.details.order.external_id, &req).await.map_err(connector_error)?;
            let updated = self.apply_answer(account, &order, writes).await;
            let line = format!(
                "{} cancelled order {} (reason: {})",
                actor.user.name,
                order.details.order.name,
                reason.as_str()
            );
            Ok((updated, line))
        }
        .await;
        self.finish(actor, account, &order, attempt, result).await
    }

    /// Refunds (part of) an order in the shop (owners and admins).
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn refund_order(
        &self,
        actor: &Actor,
        account: AccountId,
        id: OrderId,
        input: RefundInput,
    ) -> AppResult<StoredOrder> {
        let (order, connector, why) = self.action_target(actor, account, id, input.conversation_id).await?;
        let o = &order.details.order;
        let attempt = Attempt {
            action: OrderAction::Refund,
            details: json!({
                "amount": input.amount, "currency": input.currency.as_deref().unwrap_or(&o.currency),
                "line_items": input.line_items, "note": input.note, "notify_customer": input.notify_customer,
            }),
            conversation: input.conversation_id,
        };
        let result = async {
            actor.can_act_on_orders(OrderAction::Refund)?;
            if !connector.capabilities().refund {
                return Err(unsupported(OrderAction::Refund, why));
            }
            let currency = input.currency.clone().unwrap_or_else(|| o.currency.clone());
            let amount = match (&input.amount, input.line_items.is_empty()) {
                (Some(_), false) => {
                    return Err(AppError::invalid("amount", "give either an amount or line items, not both"));
                }
                (Some(a), true) => RefundAmount::Amount(parse_minor(a, &o.currency).ok_or_else(|| {
                    AppError::invalid("amount", format!("amount `{a}` is not a decimal amount in {}", o.currency))
                })?),
                (None, false) => RefundAmount::Lines(input.line_items.clone()),
                (None, true) => RefundAmount::Full,
            };
            let req =
                RefundRequest { amount, currency, note: input.note.clone(), notify_customer: input.notify_customer };
            let checked = actions::check_refund(&order.details, &req).map_err(rule_error)?;
            actor.can_refund(Some(checked.amount_minor))?;
            let writes = connector.refund(&o.external_id, &checked).await.map_err(connector_error)?;
            let updated = self.apply_answer(account, &order, writes).await;
            let line = format!(
                "{} refunded {} {} of order {}",
                actor.user.name,
                format_minor(checked.amount_minor, &checked.currency),
                checked.currency,
                o.name
            );
            Ok((updated, line))
        }
        .await;
        self.finish(actor, account, &order, attempt, result).await
    }

    /// Replaces an order's shipping address in the shop.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn update_shipping_address(
        &self,
        actor: &Actor,
        account: AccountId,
        id: OrderId,
        input: AddressInput,
    ) -> AppResult<StoredOrder> {
        let (order, connector, why) = self.action_target(actor, account, id, input.conversation_id).await?;
        let attempt = Attempt {
            action: OrderAction::UpdateShippingAddress,
            details: json!({
                "shipping_address": input.address,
                "previous_shipping_address": order.details.order.shipping_address,
            }),
            conversation: input.conversation_id,
        };
        let result = async {
            actor.can_act_on_orders(OrderAction::UpdateShippingAddress)?;
            if !connector.capabilities().update_shipping_address {
                return Err(unsupported(OrderAction::UpdateShippingAddress, why));
            }
            let address = actions::validate_address(&input.address).map_err(rule_error)?;
            actions::check_address_change(&order.details).map_err(rule_error)?;
            let writes = connector
                .update_shipping_address(&order.details.order.external_id, &address)
                .await
                .map_err(connector_error)?;
            let updated = self.apply_answer(account, &order, writes).await;
            let line = format!(
                "{} changed the shipping address of order {} (now {}, {})",
                actor.user.name, order.details.order.name, address.city, address.country_code
            );
            Ok((updated, line))
        }
        .await;
        self.finish(actor, account, &order, attempt, result).await
    }

    /// What the actor may do to an order now (for the console's buttons).
    pub async fn order_actions(
        &self,
        actor: &Actor,
        account: AccountId,
        id: OrderId,
    ) -> AppResult<(StoredOrder, Vec<ActionAvailability>)> {
        let (order, connector, why) = self.action_target(actor, account, id, None).await?;
        let caps = connector.capabilities();
        let list = OrderAction::ALL
            .into_iter()
            .map(|action| {
                let refusal = if let Err(e) = actor.can_act_on_orders(action) {
                    Some(("forbidden", e.to_string()))
                } else if !caps.allows(action) {
                    Some(("not_supported", unsupported(action, why).to_string()))
                } else if let Err(e) = state_rule(action, &order.details) {
                    Some(("order_state", e.to_string()))
                } else {
                    None
                };
                ActionAvailability {
                    action,
                    allowed: refusal.is_none(),
                    code: refusal.as_ref().map(|r| r.0),
                    reason: refusal.map(|r| r.1),
                }
            })
            .collect();
        Ok((order, list))
    }

    /// The account's audit log, newest first (owners and admins).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        account: AccountId,
        mut query: AuditQuery,
    ) -> AppResult<Vec<AuditEntry>> {
        actor.in_account(account)?;
        actor.can_read_audit_log()?;
        query.limit = if query.limit == 0 { 50 } else { query.limit.min(200) };
        Ok(self.storage.list_audit(account, query).await?)
    }
}
