//! Merging contacts that are one buyer, undoing merges, and the likely
//! duplicates shown on a contact.

use crate::extract::{AppJson, AppPath, Auth};
use crate::routes::contacts::with_profiles;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::AppError;
use ferry_app::auth::Actor;
use ferry_core::{AccountId, ContactId};
use ferry_storage::{ContactMerge, DuplicateReason};

fn view(m: &ContactMerge) -> ContactMergeView {
    ContactMergeView {
        id: m.id,
        survivor_id: m.survivor_id.0,
        merged_id: m.merged_id.0,
        merged_name: m.merged_name.clone(),
        merged_by: m.merged_by.map(|u| u.0),
        identities: m.moves.identities.len(),
        conversations: m.moves.conversations.len(),
        created_at: m.created_at,
        undo_until: m.created_at + chrono::Duration::days(ferry_app::merges::UNDO_DAYS),
        undone_at: m.undone_at,
        undone_by: m.undone_by.map(|u| u.0),
    }
}

async fn contact_view(s: &ApiState, a: &Actor, account: AccountId, id: ContactId) -> Result<ContactView, ApiError> {
    let c = s.app.get_contact(a, account, id).await?;
    with_profiles(s, a, account, vec![c]).await?.pop().ok_or(ApiError::from(AppError::NotFound("contact")))
}

/// Merges another contact into this one: its identities, conversations,
/// satisfaction surveys, tags and attributes move here (this contact's own
/// values win; the other's fill what is missing), and it disappears from
/// lists and search. Audited; an owner or admin can undo it for 30 days.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/merge", tag = "contacts",
    request_body = MergeContactRequest,
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = MergedContact), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, description = "The other contact is this one", body = ErrorBody)))]
pub async fn merge_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<MergeContactRequest>,
) -> Result<Json<MergedContact>, ApiError> {
    let account = AccountId(account);
    let m = s.app.merge_contacts(&a, account, ContactId(id), ContactId(req.other_id)).await?;
    let contact = contact_view(&s, &a, account, m.survivor_id).await?;
    Ok(Json(MergedContact { contact, merge: view(&m) }))
}

/// The merges into this contact, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/merges", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = [ContactMergeView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_merges(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<Vec<ContactMergeView>>, ApiError> {
    Ok(Json(s.app.contact_merges(&a, AccountId(account), ContactId(id)).await?.iter().map(view).collect()))
}

/// Undoes a merge (owners and admins, within 30 days): the merged contact
/// comes back with its identities, conversations and surveys, and this
/// contact loses what the merge gave it unless changed since. Audited.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/contact_merges/{merge_id}/undo", tag = "contacts",
    params(("account_id" = i64, Path), ("merge_id" = i64, Path)),
    responses((status = 200, body = UnmergedContacts), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already undone, or the survivor was merged since", body = ErrorBody),
        (status = 422, description = "Older than 30 days (`merge_too_old`)", body = ErrorBody)))]
pub async fn undo_merge(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, merge)): AppPath<(i64, i64)>,
) -> Result<Json<UnmergedContacts>, ApiError> {
    let account = AccountId(account);
    let m = s.app.undo_contact_merge(&a, account, merge).await?;
    let survivor = contact_view(&s, &a, account, m.survivor_id).await?;
    let restored = contact_view(&s, &a, account, m.merged_id).await?;
    Ok(Json(UnmergedContacts { survivor, restored, merge: view(&m) }))
}

/// Contacts that look like the same buyer as this one (same phone, same
/// e-mail, or same name and country), to merge.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/duplicates", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = [DuplicateContactView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_duplicates(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<Vec<DuplicateContactView>>, ApiError> {
    let account = AccountId(account);
    let found = s.app.duplicate_contacts(&a, account, ContactId(id)).await?;
    let reasons: Vec<Vec<DuplicateReasonView>> = found
        .iter()
        .map(|d| {
            d.reasons
                .iter()
                .map(|r| match r {
                    DuplicateReason::SamePhone => DuplicateReasonView::SamePhone,
                    DuplicateReason::SameEmail => DuplicateReasonView::SameEmail,
                    DuplicateReason::SameNameAndCountry => DuplicateReasonView::SameNameAndCountry,
                })
                .collect()
        })
        .collect();
    let contacts = with_profiles(&s, &a, account, found.into_iter().map(|d| d.contact).collect()).await?;
    Ok(Json(
        contacts.into_iter().zip(reasons).map(|(contact, reasons)| DuplicateContactView { contact, reasons }).collect(),
    ))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(merge_contact, list_merges, undo_merge, list_duplicates))]
pub struct ContactMergesDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}";
    Router::new()
        .route(&format!("{base}/contacts/{{contact_id}}/merge"), post(merge_contact))
        .route(&format!("{base}/contacts/{{contact_id}}/merges"), get(list_merges))
        .route(&format!("{base}/contacts/{{contact_id}}/duplicates"), get(list_duplicates))
        .route(&format!("{base}/contact_merges/{{merge_id}}/undo"), post(undo_merge))
}
