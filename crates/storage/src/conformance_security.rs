//! The conformance cases of sign-in security (second factors, recovery
//! codes, pending logins, sessions, the account's setting and failure
//! counters), run by [`crate::conformance::run_all`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::conformance::t0;
use crate::*;
use chrono::Duration;
use ferry_core::AccountId;
use ferry_core::account::{Role, User};
use ferry_core::throttle::{FailureOutcome, ThrottlePolicy};
use std::sync::Arc;

/// Runs the cases, each on a fresh store.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    two_factor_enrols_accepts_each_step_once_and_codes_once(fresh().await).await;
    sessions_are_listed_and_revoked_per_user(fresh().await).await;
    login_challenges_expire_and_end(fresh().await).await;
    failures_lock_a_key_across_calls(fresh().await).await;
}

async fn person(s: &dyn Storage, account: &str, email: &str) -> (AccountId, User) {
    let a = s.create_account(NewAccount { name: account.into(), default_language: "en".into() }, t0()).await.unwrap();
    let u = s
        .create_user(
            a.id,
            NewUser {
                name: "Mia".into(),
                email: email.into(),
                password_hash: "h".into(),
                role: Role::Agent,
                languages: vec![],
            },
            t0(),
        )
        .await
        .unwrap();
    (a.id, u)
}

/// Set up, enable, replay refused, recovery codes used once; another
/// account's user is not reachable; the account setting makes sessions of
/// users without a second factor limited.
pub async fn two_factor_enrols_accepts_each_step_once_and_codes_once(s: Arc<dyn Storage>) {
    let (a, u) = person(&*s, "Alpha", "mia@alpha.example").await;
    let (b, v) = person(&*s, "Beta", "mia@beta.example").await;
    assert!(s.get_two_factor(a, u.id).await.unwrap().is_none());
    // Another account's user looks missing.
    assert!(matches!(s.set_up_two_factor(b, u.id, "SECRET", t0()).await, Err(StorageError::NotFound)));
    s.set_up_two_factor(a, u.id, "FIRST", t0()).await.unwrap();
    s.set_up_two_factor(a, u.id, "SECOND", t0()).await.unwrap();
    let rec = s.get_two_factor(a, u.id).await.unwrap().unwrap();
    assert_eq!((rec.secret.as_str(), rec.enabled_at, rec.last_step), ("SECOND", None, None));
    // Not enabled: no step is accepted.
    assert!(!s.accept_totp_step(a, u.id, 5).await.unwrap());
    assert!(matches!(s.enable_two_factor(b, v.id, 1, &[], t0()).await, Err(StorageError::NotFound)));
    let codes: Vec<String> = (0..3).map(|i| format!("hash-{i}")).collect();
    s.enable_two_factor(a, u.id, 100, &codes, t0()).await.unwrap();
    let rec = s.get_two_factor(a, u.id).await.unwrap().unwrap();
    assert_eq!((rec.enabled_at, rec.last_step), (Some(t0()), Some(100)));
    assert!(matches!(
        s.enable_two_factor(a, u.id, 101, &codes, t0()).await,
        Err(StorageError::Conflict { constraint }) if constraint == "two_factor.enabled"
    ));
    assert!(matches!(s.set_up_two_factor(a, u.id, "THIRD", t0()).await, Err(StorageError::Conflict { .. })));
    // Each step once, and never an earlier one.
    assert!(!s.accept_totp_step(a, u.id, 100).await.unwrap());
    assert!(s.accept_totp_step(a, u.id, 101).await.unwrap());
    assert!(!s.accept_totp_step(a, u.id, 101).await.unwrap());
    assert!(!s.accept_totp_step(a, u.id, 99).await.unwrap());
    assert!(!s.accept_totp_step(b, u.id, 200).await.unwrap());
    // Recovery codes: each once, only the owner's.
    assert_eq!(s.unused_recovery_codes(a, u.id).await.unwrap(), 3);
    assert!(!s.use_recovery_code(b, v.id, "hash-1", t0()).await.unwrap());
    assert!(s.use_recovery_code(a, u.id, "hash-1", t0()).await.unwrap());
    assert!(!s.use_recovery_code(a, u.id, "hash-1", t0()).await.unwrap());
    assert!(!s.use_recovery_code(a, u.id, "nope", t0()).await.unwrap());
    assert_eq!(s.unused_recovery_codes(a, u.id).await.unwrap(), 2);

    // Required by the account: a session of a user without a second
    // factor is limited, one of a user with it is not.
    assert!(!s.requires_two_factor(b).await.unwrap());
    s.set_requires_two_factor(b, true, t0()).await.unwrap();
    s.set_requires_two_factor(a, true, t0()).await.unwrap();
    assert!(s.requires_two_factor(b).await.unwrap());
    let open = |token: &str| NewSession {
        token_hash: token.into(),
        ip: None,
        user_agent: None,
        now: t0(),
        expires_at: t0() + Duration::hours(1),
    };
    s.open_session(&u, open("u-sess")).await.unwrap();
    s.open_session(&v, open("v-sess")).await.unwrap();
    assert!(!s.session_auth("u-sess", t0()).await.unwrap().unwrap().two_factor_missing);
    assert!(s.session_auth("v-sess", t0()).await.unwrap().unwrap().two_factor_missing);
    s.set_requires_two_factor(b, false, t0()).await.unwrap();
    assert!(!s.session_auth("v-sess", t0()).await.unwrap().unwrap().two_factor_missing);

    // Disabling removes secret and codes.
    assert!(matches!(s.disable_two_factor(b, u.id).await, Err(StorageError::NotFound)));
    s.disable_two_factor(a, u.id).await.unwrap();
    assert!(s.get_two_factor(a, u.id).await.unwrap().is_none());
    assert_eq!(s.unused_recovery_codes(a, u.id).await.unwrap(), 0);
    assert!(s.session_auth("u-sess", t0()).await.unwrap().unwrap().two_factor_missing);
}

/// Sessions carry an id, address and browser; last use is recorded; a
/// user revokes one or all others, never another user's.
pub async fn sessions_are_listed_and_revoked_per_user(s: Arc<dyn Storage>) {
    let (a, u) = person(&*s, "Alpha", "mia@alpha.example").await;
    let (_, v) = person(&*s, "Beta", "mia@beta.example").await;
    let mut ids = Vec::new();
    for (i, token) in ["one", "two", "three"].iter().enumerate() {
        let at = t0() + Duration::minutes(i as i64);
        let rec = s
            .open_session(
                &u,
                NewSession {
                    token_hash: (*token).into(),
                    ip: Some("192.0.2.7".into()),
                    user_agent: Some(format!("Browser {i}")),
                    now: at,
                    expires_at: at + Duration::hours(1),
                },
            )
            .await
            .unwrap();
        assert!(rec.id > 0);
        ids.push(rec.id);
    }
    let theirs = s
        .open_session(
            &v,
            NewSession {
                token_hash: "theirs".into(),
                ip: None,
                user_agent: None,
                now: t0(),
                expires_at: t0() + Duration::hours(1),
            },
        )
        .await
        .unwrap();
    let list = s.list_sessions(a, u.id, t0() + Duration::minutes(5)).await.unwrap();
    assert_eq!(list.iter().map(|r| r.id).collect::<Vec<_>>(), vec![ids[2], ids[1], ids[0]]);
    assert_eq!(list[2].ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(list[2].user_agent.as_deref(), Some("Browser 0"));
    assert_eq!(list[2].last_seen_at, t0());

    // A request records the last use (at most once a minute).
    let later = t0() + Duration::minutes(10);
    let auth = s.session_auth("one", later).await.unwrap().unwrap();
    assert_eq!((auth.user.id, auth.session_id, auth.last_seen_at), (u.id, ids[0], t0()));
    let list = s.list_sessions(a, u.id, later).await.unwrap();
    assert_eq!(list.iter().find(|r| r.id == ids[0]).unwrap().last_seen_at, later);
    // Past their end they are neither listed nor valid.
    assert!(s.session_auth("one", t0() + Duration::hours(2)).await.unwrap().is_none());
    assert!(s.list_sessions(a, u.id, t0() + Duration::hours(2)).await.unwrap().is_empty());

    // Another user's session is not found.
    assert!(matches!(s.revoke_session(a, u.id, theirs.id).await, Err(StorageError::NotFound)));
    s.revoke_session(a, u.id, ids[1]).await.unwrap();
    assert!(s.session_auth("two", t0()).await.unwrap().is_none());
    assert_eq!(s.revoke_other_sessions(a, u.id, Some(ids[0])).await.unwrap(), 1);
    assert!(s.session_auth("one", t0()).await.unwrap().is_some());
    assert!(s.session_auth("three", t0()).await.unwrap().is_none());
    assert!(s.session_auth("theirs", t0()).await.unwrap().is_some());
    assert_eq!(s.revoke_other_sessions(a, u.id, None).await.unwrap(), 1);
    assert!(s.session_auth("one", t0()).await.unwrap().is_none());
    // Sessions made the older way get an id too.
    s.create_session("old-way", &u, t0(), t0() + Duration::hours(1)).await.unwrap();
    assert!(s.session_auth("old-way", t0()).await.unwrap().unwrap().session_id > 0);
}

/// A pending login lives until it expires or is ended.
pub async fn login_challenges_expire_and_end(s: Arc<dyn Storage>) {
    let (_, u) = person(&*s, "Alpha", "mia@alpha.example").await;
    let end = t0() + Duration::minutes(5);
    s.create_login_challenge("ch", &u, Some("192.0.2.1".into()), Some("UA".into()), t0(), end).await.unwrap();
    let c = s.get_login_challenge("ch", t0()).await.unwrap().unwrap();
    assert_eq!(
        (c.user.id, c.ip.as_deref(), c.user_agent.as_deref(), c.expires_at),
        (u.id, Some("192.0.2.1"), Some("UA"), end)
    );
    assert!(s.get_login_challenge("ch", end).await.unwrap().is_none());
    assert!(s.get_login_challenge("other", t0()).await.unwrap().is_none());
    s.delete_login_challenge("ch").await.unwrap();
    assert!(s.get_login_challenge("ch", t0()).await.unwrap().is_none());
}

/// Failures add up per scope and key until the lock; clearing forgets.
pub async fn failures_lock_a_key_across_calls(s: Arc<dyn Storage>) {
    let p = ThrottlePolicy::LOGIN_EMAIL;
    assert!(s.throttle_state("login_email", "k").await.unwrap().is_none());
    let mut last = None;
    for i in 0..p.max_failures {
        let (st, o) = s.record_failure("login_email", "k", p, t0() + Duration::seconds(i64::from(i))).await.unwrap();
        if i + 1 == p.burst {
            assert_eq!(o, FailureOutcome::Burst);
        }
        last = Some((st, o));
    }
    let (st, o) = last.unwrap();
    assert_eq!(o, FailureOutcome::Locked);
    let stored = s.throttle_state("login_email", "k").await.unwrap().unwrap();
    assert_eq!(stored, st);
    assert!(stored.locked_for(t0() + Duration::minutes(10)).is_some());
    // Another scope or key is separate.
    assert!(s.throttle_state("login_ip", "k").await.unwrap().is_none());
    let (other, _) = s.record_failure("login_email", "k2", p, t0()).await.unwrap();
    assert_eq!(other.failures, 1);
    s.clear_failures("login_email", "k").await.unwrap();
    assert!(s.throttle_state("login_email", "k").await.unwrap().is_none());
    assert_eq!(s.throttle_state("login_email", "k2").await.unwrap().unwrap().failures, 1);
}
