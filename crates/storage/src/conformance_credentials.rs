//! The conformance cases of invitations, reset links and password changes,
//! run by [`crate::conformance::run_all`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::conformance::t0;
use crate::*;
use chrono::Duration;
use ferry_core::AccountId;
use ferry_core::account::{Role, User};
use ferry_core::invitation::InvitationState;
use std::sync::Arc;

/// Runs every case, each on its own fresh store.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    invitations_are_used_once_within_their_account(fresh().await).await;
    reset_links_work_once_and_end_sessions(fresh().await).await;
    password_changes_keep_only_the_current_session(fresh().await).await;
}

async fn account(s: &dyn Storage, name: &str) -> (AccountId, User) {
    let a = s.create_account(NewAccount { name: name.into(), default_language: "en".into() }, t0()).await.unwrap();
    let u = s
        .create_user(
            a.id,
            NewUser {
                name: format!("{name} Owner"),
                email: format!("owner@{}.example", name.to_lowercase()),
                password_hash: "old-hash".into(),
                role: Role::Owner,
                languages: vec!["en".into()],
            },
            t0(),
        )
        .await
        .unwrap();
    (a.id, u)
}

fn invite(email: &str, hash: &str, by: &User) -> NewInvitation {
    NewInvitation {
        email: email.into(),
        name: "Nina".into(),
        role: Role::Admin,
        token_hash: hash.into(),
        invited_by: Some(by.id),
        expires_at: t0() + Duration::days(7),
    }
}

fn joiner(email: &str) -> NewUser {
    NewUser {
        name: "Nina".into(),
        email: email.into(),
        password_hash: "nina-hash".into(),
        role: Role::Admin,
        languages: vec![],
    }
}

async fn invitations_are_used_once_within_their_account(s: Arc<dyn Storage>) {
    let (a, owner) = account(&*s, "Inviting").await;
    let (b, other) = account(&*s, "Elsewhere").await;
    let i = s.create_invitation(a, invite("nina@x.example", "h1", &owner), t0()).await.unwrap();
    assert_eq!((i.account_id, i.email.as_str(), i.role), (a, "nina@x.example", Role::Admin));
    assert_eq!(i.state(t0()), InvitationState::Pending);
    assert_eq!(i.invited_by, Some(owner.id));
    let later =
        s.create_invitation(a, invite("omar@x.example", "h2", &owner), t0() + Duration::minutes(1)).await.unwrap();
    s.create_invitation(b, invite("pia@x.example", "h3", &other), t0()).await.unwrap();
    let dup = s.create_invitation(a, invite("dup@x.example", "h1", &owner), t0()).await;
    assert!(matches!(dup, Err(StorageError::Conflict { .. })), "{dup:?}");

    let list = s.list_invitations(a).await.unwrap();
    assert_eq!(list.iter().map(|i| i.id).collect::<Vec<_>>(), [later.id, i.id], "newest first, own account only");
    assert!(s.get_invitation(b, i.id).await.unwrap().is_none(), "another account's invitation is not found");
    assert!(matches!(s.revoke_invitation(b, i.id, t0()).await, Err(StorageError::NotFound)));
    assert_eq!(s.invitation_by_token("h1").await.unwrap().map(|i| i.id), Some(i.id));
    assert!(s.invitation_by_token("nope").await.unwrap().is_none());

    // Accepted once: the user exists in the inviting account.
    let at = t0() + Duration::hours(1);
    let (done, user) = s.accept_invitation("h1", joiner("nina@x.example"), at).await.unwrap();
    assert_eq!((user.account_id, user.role, user.email.as_str()), (a, Role::Admin, "nina@x.example"));
    assert_eq!((done.state(at), done.user_id), (InvitationState::Accepted, Some(user.id)));
    assert_eq!(s.find_login("nina@x.example").await.unwrap().map(|(_, h)| h).as_deref(), Some("nina-hash"));
    let again = s.accept_invitation("h1", joiner("nina2@x.example"), at).await;
    assert!(
        matches!(&again, Err(StorageError::Conflict { constraint }) if constraint == "invitations.token"),
        "{again:?}"
    );
    assert!(s.find_login("nina2@x.example").await.unwrap().is_none(), "nothing is created by a used invitation");
    // Revoking an accepted one changes nothing.
    assert_eq!(s.revoke_invitation(a, i.id, at).await.unwrap().state(at), InvitationState::Accepted);

    // Revoked and expired ones cannot be accepted.
    let r = s.revoke_invitation(a, later.id, at).await.unwrap();
    assert_eq!(r.state(at), InvitationState::Revoked);
    assert!(matches!(
        s.accept_invitation("h2", joiner("omar@x.example"), at).await,
        Err(StorageError::Conflict { .. })
    ));
    let late = t0() + Duration::days(8);
    assert!(matches!(
        s.accept_invitation("h3", joiner("pia@x.example"), late).await,
        Err(StorageError::Conflict { .. })
    ));
    assert!(matches!(s.accept_invitation("h9", joiner("q@x.example"), at).await, Err(StorageError::NotFound)));

    // A taken e-mail: no user, and the invitation stays pending.
    s.create_invitation(a, invite("owner@elsewhere.example", "h4", &owner), t0()).await.unwrap();
    let taken = s.accept_invitation("h4", joiner("owner@elsewhere.example"), at).await;
    assert!(matches!(&taken, Err(StorageError::Conflict { constraint }) if constraint == "users.email"), "{taken:?}");
    assert_eq!(s.invitation_by_token("h4").await.unwrap().unwrap().state(at), InvitationState::Pending);
}

async fn reset_links_work_once_and_end_sessions(s: Arc<dyn Storage>) {
    let (a, owner) = account(&*s, "Resetting").await;
    let (_, other) = account(&*s, "Bystander").await;
    s.create_session("s1", &owner, t0(), t0() + Duration::days(1)).await.unwrap();
    s.create_session("s2", &owner, t0(), t0() + Duration::days(1)).await.unwrap();
    s.create_session("o1", &other, t0(), t0() + Duration::days(1)).await.unwrap();
    let r1 = s.create_password_reset(&owner, "r1", t0() + Duration::hours(1), t0()).await.unwrap();
    assert_eq!((r1.account_id, r1.user_id, r1.used_at), (a, owner.id, None));
    s.create_password_reset(&owner, "r2", t0() + Duration::hours(1), t0()).await.unwrap();
    s.create_password_reset(&owner, "r3", t0() + Duration::hours(1), t0()).await.unwrap();
    assert_eq!(s.password_reset_by_token("r1").await.unwrap().map(|r| r.id), Some(r1.id));

    // Expired: refused, nothing changes.
    let late = t0() + Duration::hours(2);
    assert!(matches!(s.use_password_reset("r1", "new-hash", late).await, Err(StorageError::Conflict { .. })));
    assert_eq!(s.password_hash(a, owner.id).await.unwrap().as_deref(), Some("old-hash"));
    assert!(matches!(s.use_password_reset("zz", "new-hash", t0()).await, Err(StorageError::NotFound)));

    let at = t0() + Duration::minutes(5);
    let u = s.use_password_reset("r2", "new-hash", at).await.unwrap();
    assert_eq!(u.id, owner.id);
    assert_eq!(s.password_hash(a, owner.id).await.unwrap().as_deref(), Some("new-hash"));
    assert!(s.session_user("s1", at).await.unwrap().is_none(), "every session of the user ends");
    assert!(s.session_user("s2", at).await.unwrap().is_none());
    assert!(s.session_user("o1", at).await.unwrap().is_some(), "other users keep theirs");
    // Used, and the other outstanding link is void too.
    assert!(matches!(s.use_password_reset("r2", "x", at).await, Err(StorageError::Conflict { .. })));
    assert!(matches!(s.use_password_reset("r3", "x", at).await, Err(StorageError::Conflict { .. })));
    assert_eq!(s.password_hash(a, owner.id).await.unwrap().as_deref(), Some("new-hash"));
}

async fn password_changes_keep_only_the_current_session(s: Arc<dyn Storage>) {
    let (a, owner) = account(&*s, "Changing").await;
    let (b, other) = account(&*s, "Foreign").await;
    for h in ["c1", "c2", "c3"] {
        s.create_session(h, &owner, t0(), t0() + Duration::days(1)).await.unwrap();
    }
    s.create_password_reset(&owner, "cr", t0() + Duration::hours(1), t0()).await.unwrap();
    let ended = s.set_password(a, owner.id, "changed", Some("c2"), t0()).await.unwrap();
    assert_eq!(ended, 2);
    assert!(s.session_user("c1", t0()).await.unwrap().is_none());
    assert_eq!(s.session_user("c2", t0()).await.unwrap().map(|u| u.id), Some(owner.id));
    assert!(s.session_user("c3", t0()).await.unwrap().is_none());
    assert_eq!(s.find_login(&owner.email).await.unwrap().map(|(_, h)| h).as_deref(), Some("changed"));
    assert!(matches!(s.use_password_reset("cr", "x", t0()).await, Err(StorageError::Conflict { .. })));
    // Another account's user is not found.
    assert!(matches!(s.set_password(b, owner.id, "x", None, t0()).await, Err(StorageError::NotFound)));
    assert!(s.password_hash(b, owner.id).await.unwrap().is_none());
    assert_eq!(s.set_password(b, other.id, "y", None, t0()).await.unwrap(), 0);
}
