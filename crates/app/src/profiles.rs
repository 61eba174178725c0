//! Contact profiles (derived attributes and automatic tags), the VIP
//! thresholds, filtered contact lists and saved segments.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_core::contact::Contact;
use ferry_core::profile::{ContactProfile, VipRules};
use ferry_core::segment::SegmentFilter;
use ferry_core::{AccountId, ContactId};
use ferry_storage::{AudienceSize, Segment, StorageError};
use std::collections::HashMap;

/// Contacts a profile rebuild recomputes per transaction.
const REBUILD_BATCH: u32 = 200;
/// Longest segment name.
const NAME_MAX: usize = 100;

/// Checks a filter, naming the place at fault.
pub fn check_filter(filter: SegmentFilter) -> AppResult<SegmentFilter> {
    filter.validate().map_err(|e| AppError::invalid("filter", e.to_string()))
}

fn check_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > NAME_MAX {
        return Err(AppError::invalid("name", format!("a segment needs a name of 1 to {NAME_MAX} characters")));
    }
    Ok(n.to_owned())
}

fn segment_error(e: StorageError) -> AppError {
    match e {
        StorageError::NotFound => AppError::NotFound("segment"),
        StorageError::Conflict { .. } => AppError::Conflict("a segment with this name already exists".into()),
        other => other.into(),
    }
}

impl App {
    /// Contacts matching a filter and/or a text, newest first.
    pub async fn filter_contacts(
        &self,
        actor: &Actor,
        account: AccountId,
        filter: SegmentFilter,
        q: Option<String>,
        before: Option<ContactId>,
        limit: u32,
    ) -> AppResult<Vec<Contact>> {
        actor.in_account(account)?;
        let filter = check_filter(filter)?;
        let q = q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        let q = q.map(|q| ferry_core::contact::normalize_phone(&q, None).unwrap_or(q));
        Ok(self.storage.filter_contacts(account, filter, q, before, limit.clamp(1, 100)).await?)
    }

    /// The profiles of these contacts.
    pub async fn contact_profiles(
        &self,
        actor: &Actor,
        account: AccountId,
        ids: Vec<ContactId>,
    ) -> AppResult<HashMap<ContactId, ContactProfile>> {
        actor.in_account(account)?;
        Ok(self.storage.contact_profiles(account, ids).await?)
    }

    /// The account's VIP thresholds.
    pub async fn vip_rules(&self, actor: &Actor, account: AccountId) -> AppResult<VipRules> {
        actor.in_account(account)?;
        Ok(self.storage.vip_rules(account).await?)
    }

    /// Sets the VIP thresholds; every profile follows.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn set_vip_rules(&self, actor: &Actor, account: AccountId, rules: VipRules) -> AppResult<VipRules> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        rules.validate().map_err(|m| AppError::invalid("min_orders", m))?;
        self.storage.set_vip_rules(account, rules, self.clock.now()).await?;
        Ok(rules)
    }

    /// Recomputes the SKU lines of the account's orders and every
    /// contact's profile; returns how many contacts.
    pub async fn rebuild_account_profiles(&self, account: AccountId) -> AppResult<u64> {
        self.storage.rebuild_order_lines(account).await?;
        let mut after = None;
        let mut n = 0;
        loop {
            let ids = self.storage.contact_ids(account, after, REBUILD_BATCH).await?;
            let Some(last) = ids.last().copied() else { break };
            n += ids.len() as u64;
            self.storage.refresh_profiles(account, ids, self.clock.now()).await?;
            after = Some(last);
        }
        Ok(n)
    }

    /// How many contacts a filter reaches, by language and channel.
    pub async fn preview_segment(
        &self,
        actor: &Actor,
        account: AccountId,
        filter: SegmentFilter,
    ) -> AppResult<AudienceSize> {
        actor.in_account(account)?;
        Ok(self.storage.audience_size(account, check_filter(filter)?).await?)
    }

    /// Saves a segment.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn create_segment(
        &self,
        actor: &Actor,
        account: AccountId,
        name: &str,
        filter: SegmentFilter,
    ) -> AppResult<Segment> {
        actor.in_account(account)?;
        let (name, filter) = (check_name(name)?, check_filter(filter)?);
        self.storage.create_segment(account, name, filter, self.clock.now()).await.map_err(segment_error)
    }

    /// The account's segments.
    pub async fn list_segments(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<Segment>> {
        actor.in_account(account)?;
        Ok(self.storage.list_segments(account).await?)
    }

    /// One segment.
    pub async fn get_segment(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<Segment> {
        actor.in_account(account)?;
        self.storage.get_segment(account, id).await?.ok_or(AppError::NotFound("segment"))
    }

    /// Renames and/or refilters a segment.
    pub async fn update_segment(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        name: Option<&str>,
        filter: Option<SegmentFilter>,
    ) -> AppResult<Segment> {
        actor.in_account(account)?;
        let name = name.map(check_name).transpose()?;
        let filter = filter.map(check_filter).transpose()?;
        self.storage.update_segment(account, id, name, filter, self.clock.now()).await.map_err(segment_error)
    }

    /// Deletes a segment.
    pub async fn delete_segment(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<()> {
        actor.in_account(account)?;
        self.storage.delete_segment(account, id).await.map_err(segment_error)
    }

    /// A page of a segment's members, newest contacts first.
    pub async fn segment_contacts(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        before: Option<ContactId>,
        limit: u32,
    ) -> AppResult<Vec<Contact>> {
        let s = self.get_segment(actor, account, id).await?;
        Ok(self.storage.filter_contacts(account, s.filter, None, before, limit.clamp(1, 100)).await?)
    }
}
