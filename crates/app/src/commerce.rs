//! The shop mirror at work: shop connections, Shopify webhooks into the
//! mirror, order search for agents, and the orders of a contact (linked by
//! e-mail and phone).

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_commerce::shopify::{self, Topic};
use ferry_core::contact::IdentityKind;
use ferry_core::{AccountId, ContactId, OrderId, ShopConnectionId};
use ferry_storage::{MirrorOutcome, NewShopConnection, OrderQuery, ShopConnection, ShopPlatform, StoredOrder};

/// The headers Shopify sends with a webhook.
#[derive(Debug, Clone, Default)]
pub struct ShopifyHeaders<'a> {
    /// `X-Shopify-Topic`.
    pub topic: Option<&'a str>,
    /// `X-Shopify-Hmac-Sha256`.
    pub hmac: Option<&'a str>,
    /// `X-Shopify-Webhook-Id`.
    pub webhook_id: Option<&'a str>,
    /// `X-Shopify-Shop-Domain`.
    pub shop_domain: Option<&'a str>,
}

/// What a Shopify webhook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopifyWebhookOutcome {
    /// Applied (or recognised as a re-delivery).
    Applied(MirrorOutcome),
    /// A topic Ferry does not use; acknowledged so Shopify stops sending it.
    Ignored,
}

/// A new shop connection from the API.
#[derive(Debug, Clone)]
pub struct NewShopInput {
    /// Display name.
    pub name: String,
    /// `example.myshopify.com`.
    pub shop_domain: String,
    /// The app's API secret (signs webhooks); generated when absent.
    pub secret: Option<String>,
    /// Admin API base URL for backfills.
    pub api_url: Option<String>,
    /// Admin API access token.
    pub access_token: Option<String>,
    /// Shopify (webhooks and the Admin API) or a shop whose orders and
    /// products come from imported files.
    pub platform: ShopPlatform,
}

fn check_domain(d: &str) -> AppResult<String> {
    let d = d.trim().trim_end_matches('/').to_ascii_lowercase();
    let d = d.strip_prefix("https://").unwrap_or(&d).to_owned();
    let ok = !d.is_empty()
        && d.len() <= 255
        && d.contains('.')
        && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok { Ok(d) } else { Err(AppError::invalid("shop_domain", "give the shop's domain, e.g. example.myshopify.com")) }
}

/// The Admin API is reached with the shop's access token: https, except
/// on this machine (a local stand-in of the API).
fn check_api_url(u: &str) -> AppResult<()> {
    let parsed = crate::directory::http_url("api_url", u)?;
    let local = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if parsed.scheme() != "https" && !local {
        return Err(AppError::invalid("api_url", "api_url must be https (the access token is sent with every call)"));
    }
    Ok(())
}

/// Changes to a shop connection from the API: absent fields stay, an empty
/// `api_url` or `access_token` removes it.
#[derive(Debug, Clone, Default)]
pub struct ShopConnectionEdit {
    /// Display name.
    pub name: Option<String>,
    /// Admin API base URL (`""`: remove).
    pub api_url: Option<String>,
    /// Admin API access token (`""`: remove).
    pub access_token: Option<String>,
}

/// A shop connection's name as stored: trimmed, 1 to 255 characters.
pub(crate) fn shop_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AppError::invalid("name", "name must have 1 to 255 characters"));
    }
    Ok(name.to_owned())
}

impl App {
    /// Renames a shop connection or sets its Admin API access (owners and
    /// admins), e.g. to allow order actions and backfills on a shop first
    /// connected for webhooks only.
    pub async fn update_shop_connection(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ShopConnectionId,
        edit: ShopConnectionEdit,
    ) -> AppResult<ShopConnection> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let conn = self.storage.get_shop_connection(account, id).await?.ok_or(AppError::NotFound("shop connection"))?;
        let name = edit.name.as_deref().map(shop_name).transpose()?;
        let clearable = |v: Option<String>| v.map(|v| Some(v.trim().to_owned()).filter(|v| !v.is_empty()));
        let api_url = clearable(edit.api_url);
        let access_token = clearable(edit.access_token);
        if let Some(Some(u)) = &api_url {
            check_api_url(u)?;
        }
        // An Amazon connection keeps its endpoint and credentials in these
        // fields; they change only through the Amazon settings.
        if conn.platform == ShopPlatform::Amazon && (api_url.is_some() || access_token.is_some()) {
            return Err(AppError::invalid(
                "access_token",
                "an Amazon connection's endpoint and credentials are changed under …/amazon/connections",
            ));
        }
        let adds_api = matches!(api_url, Some(Some(_))) || matches!(access_token, Some(Some(_)));
        if conn.platform == ShopPlatform::Import && adds_api {
            return Err(AppError::invalid("api_url", "a file-import shop has no Admin API URL or access token"));
        }
        let patch = ferry_storage::ShopConnectionPatch { name, api_url, access_token };
        Ok(self.storage.update_shop_connection(account, id, patch, self.clock.now()).await?)
    }

    /// Connects a shop (owners and admins).
    pub async fn create_shop_connection(
        &self,
        actor: &Actor,
        account: AccountId,
        input: NewShopInput,
    ) -> AppResult<ShopConnection> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let name = shop_name(&input.name)?;
        let secret = match input.secret.map(|s| s.trim().to_owned()) {
            Some(s) if s.len() < 16 => {
                return Err(AppError::invalid("secret", "the webhook secret must have at least 16 characters"));
            }
            Some(s) => s,
            None => crate::auth::new_secret(),
        };
        if let Some(u) = &input.api_url {
            check_api_url(u)?;
        }
        if input.platform == ShopPlatform::Import && (input.api_url.is_some() || input.access_token.is_some()) {
            return Err(AppError::invalid("platform", "a file-import shop has no Admin API URL or access token"));
        }
        let new = NewShopConnection {
            platform: input.platform,
            name,
            shop_domain: check_domain(&input.shop_domain)?,
            secret,
            api_url: input.api_url,
            access_token: input.access_token.filter(|t| !t.trim().is_empty()),
        };
        Ok(self.storage.create_shop_connection(account, new, self.clock.now()).await?)
    }

    /// The account's shop connections.
    pub async fn list_shop_connections(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<ShopConnection>> {
        actor.in_account(account)?;
        Ok(self.storage.list_shop_connections(account).await?)
    }

    /// Verifies a Shopify webhook against its connection's secret and
    /// applies it to the mirror, idempotently by its webhook id.
    pub async fn ingest_shopify_webhook(
        &self,
        connection: ShopConnectionId,
        headers: ShopifyHeaders<'_>,
        body: &[u8],
    ) -> AppResult<ShopifyWebhookOutcome> {
        let conn = self.storage.find_shop_connection(connection).await?.ok_or(AppError::NotFound("shop connection"))?;
        let hmac = headers.hmac.ok_or(AppError::Unauthorized("missing X-Shopify-Hmac-Sha256 header"))?;
        if !shopify::verify(conn.secret.as_bytes(), body, hmac) {
            return Err(AppError::Unauthorized("the signature does not match the body"));
        }
        if let Some(d) = headers.shop_domain
            && !d.trim().eq_ignore_ascii_case(&conn.shop_domain)
        {
            return Err(AppError::Unauthorized("X-Shopify-Shop-Domain is not this connection's shop"));
        }
        let topic =
            headers.topic.ok_or_else(|| AppError::invalid("X-Shopify-Topic", "missing X-Shopify-Topic header"))?;
        let Ok(topic) = topic.parse::<Topic>() else {
            tracing::info!(topic, "ignoring a Shopify topic Ferry does not use");
            return Ok(ShopifyWebhookOutcome::Ignored);
        };
        let writes = shopify::parse(topic, body).map_err(|e| AppError::Malformed(e.to_string()))?;
        let webhook_id = headers.webhook_id.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty() && w.len() <= 255);
        let events: Vec<ferry_commerce::MirrorWrite> = writes
            .iter()
            .filter(|w| {
                use ferry_commerce::MirrorWrite as W;
                matches!(w, W::Fulfillment(_) | W::Order(_) | W::Refund(_))
            })
            .cloned()
            .collect();
        let restock = writes.iter().any(|w| {
            use ferry_commerce::MirrorWrite as W;
            matches!(w, W::Inventory(_) | W::Product(_))
        });
        let out =
            self.storage.apply_mirror_writes(conn.account_id, conn.id, webhook_id, writes, self.clock.now()).await?;
        if !out.duplicate {
            // The webhook is in the mirror: a failed notice decision must
            // not make the shop send it again.
            if !events.is_empty()
                && let Err(e) = self.notices_for_writes(conn.account_id, conn.id, &events).await
            {
                tracing::error!(error = %e, "deciding the notices of a shop webhook failed");
            }
            if restock && let Err(e) = self.notices_for_restock(conn.account_id, conn.id).await {
                tracing::error!(error = %e, "deciding the back-in-stock notices failed");
            }
        }
        Ok(ShopifyWebhookOutcome::Applied(out))
    }

    /// Orders by order name or number, e-mail or phone.
    pub async fn search_orders(
        &self,
        actor: &Actor,
        account: AccountId,
        q: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Vec<StoredOrder>> {
        actor.in_account(account)?;
        let q = q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(AppError::invalid("q", "the search is longer than 200 characters"));
        }
        let query = OrderQuery { q, limit: limit.unwrap_or(25).clamp(1, 100), ..OrderQuery::default() };
        Ok(self.storage.search_orders(account, query).await?)
    }

    /// One order with its fulfilments and refunds.
    pub async fn get_order(&self, actor: &Actor, account: AccountId, id: OrderId) -> AppResult<StoredOrder> {
        actor.in_account(account)?;
        self.storage.get_order(account, id).await?.ok_or(AppError::NotFound("order"))
    }

    /// The orders of a contact: those whose e-mail or phone is one of the
    /// contact's.
    pub async fn contact_orders(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ContactId,
    ) -> AppResult<Vec<StoredOrder>> {
        actor.in_account(account)?;
        let contact = self.storage.get_contact(account, id).await?.ok_or(AppError::NotFound("contact"))?;
        self.orders_of(account, &contact).await
    }

    pub(crate) async fn orders_of(
        &self,
        account: AccountId,
        contact: &ferry_core::contact::Contact,
    ) -> AppResult<Vec<StoredOrder>> {
        let mut emails: Vec<String> = contact.email.iter().cloned().collect();
        let mut phones: Vec<String> = contact.phone.iter().cloned().collect();
        for i in &contact.identities {
            match i.kind {
                IdentityKind::Email => emails.push(i.value.clone()),
                IdentityKind::Phone => phones.push(i.value.clone()),
                _ => {}
            }
        }
        emails.sort();
        emails.dedup();
        phones.sort();
        phones.dedup();
        if emails.is_empty() && phones.is_empty() {
            return Ok(Vec::new());
        }
        let query = OrderQuery { emails, phones, limit: 50, ..OrderQuery::default() };
        Ok(self.storage.search_orders(account, query).await?)
    }
}
