//! Back-in-stock requests as the use cases see them: an agent asks on a
//! buyer's behalf, a visitor asks from the chat widget (with an e-mail
//! when they have not written yet), and buyers who asked about a stocked-out
//! variant are added by the detectors. When the variant can be bought
//! again, the back-in-stock notice tells each buyer once
//! (the notices module).

use crate::auth::Actor;
use crate::widget::Visitor;
use crate::{App, AppError, AppResult};
use ferry_commerce::{Product, Variant};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::{AccountId, ContactId, ShopConnectionId};
use ferry_storage::{NewStockSubscription, StockSubscription};

/// Requests a visitor may make in an hour.
const REQUESTS_PER_VISITOR: u32 = 10;

/// The variant a request is about: by its id in a shop, or by SKU in any
/// of the account's shops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariantRef {
    /// A variant of a shop.
    Variant {
        /// The shop.
        connection: ShopConnectionId,
        /// The variant's id in the shop.
        external_id: String,
    },
    /// A SKU.
    Sku(String),
}

/// What the buyer sees of a variant (`Lamp (Blue)`).
pub(crate) fn variant_title(p: &Product, v: &Variant) -> String {
    if v.title.is_empty() || v.title == "Default Title" {
        p.title.clone()
    } else {
        format!("{} ({})", p.title, v.title)
    }
}

impl App {
    /// The variant `r` names, its shop and the units available now.
    async fn find_variant(
        &self,
        account: AccountId,
        r: &VariantRef,
    ) -> AppResult<(ShopConnectionId, Product, Variant, Option<i64>)> {
        let connections = self.storage.list_shop_connections(account).await?;
        for c in connections {
            if let VariantRef::Variant { connection, .. } = r
                && *connection != c.id
            {
                continue;
            }
            let products = self.storage.list_products(account, c.id).await?;
            let found = products.into_iter().find_map(|p| {
                let v = p
                    .variants
                    .iter()
                    .find(|v| match r {
                        VariantRef::Variant { external_id, .. } => v.external_id == *external_id,
                        VariantRef::Sku(sku) => v.sku.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(sku.trim())),
                    })
                    .cloned();
                v.map(|v| (p, v))
            });
            if let Some((p, v)) = found {
                let stock = self.storage.stock_levels(account, c.id).await?.into_iter().collect();
                let available = ferry_commerce::detect::variant_stock(&v, &stock);
                return Ok((c.id, p, v, available));
            }
        }
        Err(AppError::NotFound("variant"))
    }

    async fn subscribe(
        &self,
        account: AccountId,
        contact: ContactId,
        r: &VariantRef,
        source: &str,
    ) -> AppResult<StockSubscription> {
        let (connection, p, v, available) = self.find_variant(account, r).await?;
        if let Some(n) = available.filter(|n| *n > 0) {
            return Err(AppError::invalid("variant", format!("it is in stock now ({n} available)")));
        }
        let new = NewStockSubscription {
            contact_id: contact,
            connection_id: connection,
            product_external_id: p.external_id.clone(),
            variant_external_id: v.external_id.clone(),
            sku: v.sku.clone(),
            title: variant_title(&p, &v),
            source: source.into(),
        };
        Ok(self.storage.subscribe_stock(account, new, self.clock.now()).await?)
    }

    /// Asks, on a buyer's behalf, to tell them when a variant is back
    /// (`None`: the request named no variant).
    pub async fn subscribe_contact_to_stock(
        &self,
        actor: &Actor,
        account: AccountId,
        contact: ContactId,
        r: Option<VariantRef>,
    ) -> AppResult<StockSubscription> {
        actor.in_account(account)?;
        self.storage.get_contact(account, contact).await?.ok_or(AppError::NotFound("contact"))?;
        let r =
            r.ok_or_else(|| AppError::invalid("sku", "give a SKU, or a connection_id with a variant_external_id"))?;
        self.subscribe(account, contact, &r, "agent").await
    }

    /// A buyer's back-in-stock requests, newest first.
    pub async fn contact_stock_subscriptions(
        &self,
        actor: &Actor,
        account: AccountId,
        contact: ContactId,
    ) -> AppResult<Vec<StockSubscription>> {
        actor.in_account(account)?;
        self.storage.get_contact(account, contact).await?.ok_or(AppError::NotFound("contact"))?;
        Ok(self.storage.list_stock_subscriptions(account, Some(contact), false, 200).await?)
    }

    /// The account's open back-in-stock requests, newest first.
    pub async fn open_stock_subscriptions(
        &self,
        actor: &Actor,
        account: AccountId,
    ) -> AppResult<Vec<StockSubscription>> {
        actor.in_account(account)?;
        Ok(self.storage.list_stock_subscriptions(account, None, true, 1000).await?)
    }

    /// Withdraws a request.
    pub async fn delete_stock_subscription(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<()> {
        actor.in_account(account)?;
        if self.storage.delete_stock_subscription(account, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("back-in-stock request"))
        }
    }

    /// A widget visitor asks to hear when a variant is back: as the contact
    /// they are, or — before they have written — by an e-mail they give
    /// (the contact that e-mail names, else a new one).
    pub async fn visitor_subscribe_stock(
        &self,
        v: &Visitor,
        sku: &str,
        email: Option<&str>,
    ) -> AppResult<StockSubscription> {
        let account = v.inbox.account_id;
        let key = format!("widget-stock:{}", v.hash);
        if !self.limits.allow(&key, REQUESTS_PER_VISITOR, chrono::Duration::hours(1), self.clock.now()) {
            return Err(AppError::RateLimited("too many requests; try again later"));
        }
        let sku = sku.trim();
        if sku.is_empty() || sku.chars().count() > 100 {
            return Err(AppError::invalid("sku", "give the SKU of the variant (1 to 100 characters)"));
        }
        let r = VariantRef::Sku(sku.to_owned());
        // The variant first: a bad SKU creates no contact.
        self.find_variant(account, &r).await?;
        let contact = match (&v.contact, email) {
            (Some(c), None) => c.id,
            (Some(c), Some(e)) => match self.visitor_leave_email(v, e).await {
                Ok(_) => c.id,
                // The e-mail is another contact's: the request stays the visitor's.
                Err(AppError::Conflict(_)) => c.id,
                Err(err) => return Err(err),
            },
            (None, None) => {
                return Err(AppError::invalid("email", "give an e-mail to be told when it is back"));
            }
            (None, Some(e)) => {
                let email = Identity::new(IdentityKind::Email, e, None)
                    .map_err(|err| AppError::invalid("email", err.to_string()))?;
                match self.storage.find_contact_by_identity(account, &email).await? {
                    // Their own request is all it adds; the visitor is not
                    // joined to a contact an e-mail alone names.
                    Some(id) => id,
                    None => {
                        let new = ferry_storage::NewContact {
                            name: email.value.clone(),
                            country: None,
                            language: None,
                            timezone: None,
                            vip: false,
                            custom_attributes: Default::default(),
                            tags: Vec::new(),
                            identities: vec![v.identity()?, email],
                        };
                        self.storage.create_contact(account, new, self.clock.now()).await?.id
                    }
                }
            }
        };
        self.subscribe(account, contact, &r, "widget").await
    }
}
