//! Contacts as agents see and edit them.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_core::contact::{Contact, Identity, IdentityKind, normalize_tag};
use ferry_core::{AccountId, ContactId};
use ferry_storage::{ContactPatch, ContactQuery, NewContact};

/// Checks a country code (ISO 3166 alpha-2, upper-cased).
pub fn clean_country(c: Option<String>) -> AppResult<Option<String>> {
    match c.map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()) => Ok(Some(c)),
        Some(_) => Err(AppError::invalid("country", "country must be an ISO 3166 two-letter code such as DE")),
    }
}

/// Checks a list of tags.
pub fn clean_tags(tags: &[String]) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for t in tags {
        let n = normalize_tag(t).ok_or_else(|| AppError::invalid("tags", format!("`{t}` is not a valid tag")))?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// Builds identities from API input.
pub fn identities(
    email: Option<&str>,
    phone: Option<&str>,
    extra: &[(IdentityKind, String)],
) -> AppResult<Vec<Identity>> {
    let mut out = Vec::new();
    if let Some(e) = email.filter(|e| !e.trim().is_empty()) {
        out.push(Identity::new(IdentityKind::Email, e, None).map_err(|e| AppError::invalid("email", e.to_string()))?);
    }
    if let Some(p) = phone.filter(|p| !p.trim().is_empty()) {
        out.push(Identity::new(IdentityKind::Phone, p, None).map_err(|e| AppError::invalid("phone", e.to_string()))?);
    }
    for (k, v) in extra {
        if !k.is_global() {
            return Err(AppError::invalid("identities", format!("{k} identities are created by their channel")));
        }
        out.push(Identity::new(*k, v, None).map_err(|e| AppError::invalid("identities", e.to_string()))?);
    }
    Ok(out)
}

impl App {
    /// Creates a contact by hand.
    pub async fn create_contact(&self, actor: &Actor, account: AccountId, mut new: NewContact) -> AppResult<Contact> {
        actor.in_account(account)?;
        new.country = clean_country(new.country)?;
        new.tags = clean_tags(&new.tags)?;
        if new.name.trim().is_empty() && new.identities.is_empty() {
            return Err(AppError::invalid("name", "a contact needs a name, an e-mail or a phone"));
        }
        Ok(self.storage.create_contact(account, new, self.clock.now()).await?)
    }

    /// One contact.
    pub async fn get_contact(&self, actor: &Actor, account: AccountId, id: ContactId) -> AppResult<Contact> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.get_contact(account, id).await?.ok_or(AppError::NotFound("contact"))
    }

    /// Searches contacts by name, e-mail or phone.
    pub async fn search_contacts(
        &self,
        actor: &Actor,
        account: AccountId,
        q: Option<String>,
        before: Option<ContactId>,
        limit: Option<u32>,
    ) -> AppResult<Vec<Contact>> {
        actor.in_account(account)?;
        actor.can_view()?;
        let q = q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        // A phone typed in any format also finds its E.164 form.
        let q = q.map(|q| ferry_core::contact::normalize_phone(&q, None).unwrap_or(q));
        Ok(self
            .storage
            .search_contacts(account, ContactQuery { q, limit: limit.unwrap_or(25).clamp(1, 100), before })
            .await?)
    }

    /// Edits a contact.
    pub async fn update_contact(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ContactId,
        mut patch: ContactPatch,
    ) -> AppResult<Contact> {
        actor.in_account(account)?;
        if let Some(c) = patch.country.take() {
            patch.country = Some(clean_country(c)?);
        }
        if let Some(t) = patch.tags.take() {
            patch.tags = Some(clean_tags(&t)?);
        }
        self.storage.update_contact(account, id, patch, self.clock.now()).await.map_err(|e| match e {
            ferry_storage::StorageError::NotFound => AppError::NotFound("contact"),
            other => other.into(),
        })
    }
}
