//! Merging two contacts that are the same buyer, undoing it, and finding
//! likely duplicates.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_core::account::Permission;
use ferry_core::{AccountId, ContactId};
use ferry_storage::{ContactMerge, DuplicateContact, MergeActor, StorageError};

/// How long after a merge an admin can still undo it.
pub const UNDO_DAYS: i64 = 30;

fn merge_actor(actor: &Actor) -> MergeActor {
    MergeActor { id: Some(actor.user.id), name: actor.user.name.clone() }
}

impl App {
    /// Merges contact `other` into `survivor` (see
    /// [`ferry_storage::MergeRepo::merge_contacts`]); audited.
    pub async fn merge_contacts(
        &self,
        actor: &Actor,
        account: AccountId,
        survivor: ContactId,
        other: ContactId,
    ) -> AppResult<ContactMerge> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.get_contact(account, survivor).await?.ok_or(AppError::NotFound("contact"))?;
        actor.can_assign()?;
        if survivor == other {
            return Err(AppError::invalid("other_id", "a contact cannot be merged into itself"));
        }
        self.storage.get_contact(account, other).await?.ok_or(AppError::NotFound("contact"))?;
        self.storage.merge_contacts(account, survivor, other, merge_actor(actor), self.clock.now()).await.map_err(|e| {
            match e {
                StorageError::NotFound => AppError::NotFound("contact"),
                other => other.into(),
            }
        })
    }

    /// Undoes a merge within [`UNDO_DAYS`] days (owners and admins);
    /// audited.
    pub async fn undo_contact_merge(&self, actor: &Actor, account: AccountId, merge: i64) -> AppResult<ContactMerge> {
        actor.in_account(account)?;
        let m = self.storage.get_contact_merge(account, merge).await?.ok_or(AppError::NotFound("merge"))?;
        if !actor.may(Permission::ManageAgents) {
            return Err(AppError::Forbidden("only owners and admins can undo a merge"));
        }
        if m.undone_at.is_some() {
            return Err(AppError::Conflict("this merge was already undone".into()));
        }
        if self.clock.now() - m.created_at > chrono::Duration::days(UNDO_DAYS) {
            return Err(AppError::rejected(
                "merge_too_old",
                "merge_id",
                format!("a merge can be undone for {UNDO_DAYS} days; this one is older"),
            ));
        }
        self.storage.undo_contact_merge(account, merge, merge_actor(actor), self.clock.now()).await.map_err(|e| match e
        {
            StorageError::NotFound => AppError::NotFound("merge"),
            StorageError::Conflict { constraint } if constraint == "contact_merges.undone" => {
                AppError::Conflict("this merge was already undone".into())
            }
            StorageError::Conflict { constraint } if constraint == "contact_merges.survivor_merged" => {
                AppError::Conflict(
                    "the contact this one was merged into has since been merged into another; undo that merge first"
                        .into(),
                )
            }
            other => other.into(),
        })
    }

    /// The merges into a contact, newest first.
    pub async fn contact_merges(
        &self,
        actor: &Actor,
        account: AccountId,
        contact: ContactId,
    ) -> AppResult<Vec<ContactMerge>> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.get_contact(account, contact).await?.ok_or(AppError::NotFound("contact"))?;
        Ok(self.storage.contact_merges(account, contact).await?)
    }

    /// Contacts that look like the same buyer.
    pub async fn duplicate_contacts(
        &self,
        actor: &Actor,
        account: AccountId,
        contact: ContactId,
    ) -> AppResult<Vec<DuplicateContact>> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.duplicate_contacts(account, contact, 10).await.map_err(|e| match e {
            StorageError::NotFound => AppError::NotFound("contact"),
            other => other.into(),
        })
    }
}
