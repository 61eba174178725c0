//! The behaviour every backend must show. Each backend's tests call
//! [`run_all`] (or the single cases) with a fresh, migrated, empty store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use ferry_core::account::Role;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::conversation::{Change, Priority, Status, Transition};
use ferry_core::event::Event;
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::{ContentPart, DeliveryStatus, MessageKind, Sender};
use ferry_core::{AccountId, CannedResponseId, InboxId, MessageId, UserId};
use std::sync::Arc;

#[path = "conformance_audit.rs"]
mod audit;
pub use audit::*;
#[path = "conformance_privacy.rs"]
pub mod privacy;

/// A fixed instant the suite counts from.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().unwrap()
}

/// Runs every case, each on its own fresh store from `fresh`.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    intake_is_idempotent_under_concurrency(fresh().await).await;
    intake_links_channels_to_one_contact(fresh().await).await;
    intake_reopens_and_starts_new_conversations(fresh().await).await;
    conversations_filter_paginate_and_count(fresh().await).await;
    conversation_updates_write_activities_and_events(fresh().await).await;
    snoozed_conversations_fall_due_in_order(fresh().await).await;
    messages_jobs_and_delivery(fresh().await).await;
    accounts_are_isolated(fresh().await).await;
    users_sessions_and_tokens(fresh().await).await;
    teams_and_inboxes(fresh().await).await;
    contacts_search_and_patch(fresh().await).await;
    jobs_lease_retry_and_fail(fresh().await).await;
    jobs_of_a_lane_run_in_order(fresh().await).await;
    messages_change_and_deliveries_list(fresh().await).await;
    outbox_publishing(fresh().await).await;
    outbox_hands_over_and_hydrates(fresh().await).await;
    canned_responses_per_account(fresh().await).await;
    bot_documents_states_and_jobs(fresh().await).await;
    shop_mirror_keeps_the_newest_and_searches(fresh().await).await;
    shop_sync_state_resumes_per_resource(fresh().await).await;
    shop_connections_are_updated_within_their_account(fresh().await).await;
    audit_log_appends_filters_and_pages(fresh().await).await;
    replies_thread_by_reference_and_automatic_mail_wakes_nothing(fresh().await).await;
    channel_state_is_kept_per_inbox(fresh().await).await;
    compliance_rules_per_account(fresh().await).await;
    leases_go_to_one_taker_until_they_run_out(fresh().await).await;
    surveys_once_per_conversation_answered_by_token(fresh().await).await;
    facts_are_marked_by_writes_and_refreshed_once(fresh().await).await;
    crate::conformance_alerts::run_all(&fresh).await;
    crate::conformance_insights::run_all(&fresh).await;
    crate::conformance_products::run_all(&fresh).await;
    crate::conformance_security::run_all(&fresh).await;
    privacy::run_all(&fresh).await;
    crate::conformance_credentials::run_all(&fresh).await;
    crate::conformance_platform::run_all(&fresh).await;
    crate::conformance_merges::run_all(&fresh).await;
}

/// Writes only mark a conversation's facts; one refresh counts a burst
/// of messages, and reads of facts refresh what is still marked first.
async fn facts_are_marked_by_writes_and_refreshed_once(s: Arc<dyn Storage>) {
    let w = world(&*s, "Facts").await;
    let mut conv = None;
    for i in 0..5 {
        let at = t0() + Duration::minutes(i);
        let o = s.ingest(inbound(&w, &format!("f{i}"), "u", "where is it", at), opts(at)).await.unwrap();
        conv = Some(o.conversation.id);
    }
    let other = s.ingest(inbound(&w, "g0", "v", "hello", t0()), opts(t0())).await.unwrap();
    let conv = conv.unwrap();
    // Two conversations marked, five messages: two refreshes.
    assert_eq!(s.refresh_pending_facts(100).await.unwrap(), 2);
    assert_eq!(s.refresh_pending_facts(100).await.unwrap(), 0);
    let facts = s.conversation_facts(w.account, conv).await.unwrap().unwrap();
    assert_eq!(facts.buyer_messages, 5);
    // A new message marks it again; a read refreshes it by itself.
    let at = t0() + Duration::minutes(10);
    s.ingest(inbound(&w, "f9", "u", "any news?", at), opts(at)).await.unwrap();
    assert_eq!(s.conversation_facts(w.account, conv).await.unwrap().unwrap().buyer_messages, 6);
    assert_eq!(s.refresh_pending_facts(100).await.unwrap(), 0);
    // Batches are bounded.
    let at = t0() + Duration::minutes(20);
    s.ingest(inbound(&w, "f10", "u", "hello?", at), opts(at)).await.unwrap();
    s.ingest(inbound(&w, "g1", "v", "hello?", at), opts(at)).await.unwrap();
    assert_eq!(s.refresh_pending_facts(1).await.unwrap(), 1);
    assert_eq!(s.refresh_pending_facts(1).await.unwrap(), 1);
    assert_eq!(s.refresh_pending_facts(1).await.unwrap(), 0);
    let facts = s.conversation_facts(w.account, other.conversation.id).await.unwrap().unwrap();
    assert_eq!(facts.buyer_messages, 2);
}

/// A conversation gets one survey; the buyer's last survey is found; an
/// answer found by its token replaces the earlier one; another account
/// sees nothing.
async fn surveys_once_per_conversation_answered_by_token(s: Arc<dyn Storage>) {
    use ferry_core::csat::{Answer, CsatScale};
    let w = world(&*s, "Surveys").await;
    let other = world(&*s, "Not surveyed").await;
    let o = s.ingest(inbound(&w, "m1", "u", "hi", t0()), opts(t0())).await.unwrap();
    let contact = o.conversation.contact_id;
    assert_eq!(s.last_survey_sent(w.account, contact, ferry_core::ConversationId(0)).await.unwrap(), None);
    let new = |hash: &str, at| NewSurvey {
        conversation_id: o.conversation.id,
        contact_id: contact,
        inbox_id: w.inbox,
        agent_id: Some(w.agent),
        token_hash: hash.into(),
        language: "de".into(),
        scale: CsatScale::Stars,
        sent_at: at,
    };
    // Stored, then its job failed before posting: a retry takes a new token.
    let lost = s.create_survey(w.account, new("h0", t0())).await.unwrap().unwrap();
    let first = s.create_survey(w.account, new("h1", t0())).await.unwrap().unwrap();
    assert_eq!(first.id, lost.id);
    assert_eq!(s.survey_by_token("h0").await.unwrap(), None);
    assert_eq!((first.rating, first.agent_id, first.language.as_str()), (None, Some(w.agent), "de"));
    // Not sent yet: it does not count against the buyer.
    let elsewhere = ferry_core::ConversationId(first.conversation_id.0 + 1000);
    assert_eq!(s.last_survey_sent(w.account, contact, elsewhere).await.unwrap(), None);
    s.survey_posted(w.account, first.id, o.message.id).await.unwrap();
    assert!(matches!(s.survey_posted(other.account, first.id, o.message.id).await, Err(StorageError::NotFound)));
    // Posted: once per conversation.
    assert_eq!(s.create_survey(w.account, new("h2", t0() + Duration::hours(1))).await.unwrap(), None);
    // Nor into a conversation of another account.
    let mut foreign = new("h3", t0());
    foreign.inbox_id = other.inbox;
    assert_eq!(s.create_survey(other.account, foreign).await.unwrap(), None);
    assert_eq!(s.last_survey_sent(w.account, contact, elsewhere).await.unwrap(), Some(t0()));
    assert_eq!(s.last_survey_sent(w.account, contact, o.conversation.id).await.unwrap(), None);
    assert_eq!(s.survey_by_token("h2").await.unwrap(), None);
    assert_eq!(s.survey_by_token("h1").await.unwrap(), Some(first.clone()));

    let answered = s
        .answer_survey("h1", Answer::check(CsatScale::Stars, 2, Some("slow")).unwrap(), t0() + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!((answered.rating, answered.comment.as_deref()), (Some(2), Some("slow")));
    let again = s
        .answer_survey("h1", Answer::check(CsatScale::Stars, 5, None).unwrap(), t0() + Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(
        (again.rating, again.comment.clone(), again.answered_at),
        (Some(5), None, Some(t0() + Duration::hours(3)))
    );
    let e = s.answer_survey("nope", Answer::check(CsatScale::Stars, 5, None).unwrap(), t0()).await.unwrap_err();
    assert!(matches!(e, StorageError::NotFound), "{e:?}");
    assert_eq!(s.conversation_survey(w.account, o.conversation.id).await.unwrap(), Some(again));
    assert_eq!(s.conversation_survey(other.account, o.conversation.id).await.unwrap(), None);
}

/// A lease goes to one of many takers and to nobody else until it runs
/// out; then the next taker gets it and the run count goes up.
async fn leases_go_to_one_taker_until_they_run_out(s: Arc<dyn Storage>) {
    assert_eq!(s.lease("detectors").await.unwrap(), None);
    let until = t0() + Duration::seconds(60);
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.take_lease("detectors", &format!("node-{i}"), t0(), until).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for t in tries {
        taken.push(t.await.unwrap());
    }
    assert_eq!(taken.iter().filter(|t| **t).count(), 1, "{taken:?}");
    let state = s.lease("detectors").await.unwrap().unwrap();
    assert_eq!((state.expires_at, state.runs), (until, 1));
    assert_eq!(state.holder, format!("node-{}", taken.iter().position(|t| *t).unwrap()));
    // Held: even its holder does not run it again early.
    assert!(!s.take_lease("detectors", &state.holder, until - Duration::seconds(1), until).await.unwrap());
    // Another task's lease is separate.
    assert!(s.take_lease("housekeeping", "node-9", t0(), until).await.unwrap());
    // Run out: the next taker gets it.
    let later = until + Duration::seconds(60);
    assert!(s.take_lease("detectors", "node-5", until, later).await.unwrap());
    assert!(!s.take_lease("detectors", "node-6", until, later).await.unwrap());
    let state = s.lease("detectors").await.unwrap().unwrap();
    assert_eq!((state.holder.as_str(), state.expires_at, state.runs), ("node-5", later, 2));

    // A held lease stays with its holder while it renews it, and goes to
    // another only once it ran out.
    let ttl = Duration::seconds(90);
    assert!(s.hold_lease("mailbox:7", "node-1", t0(), t0() + ttl).await.unwrap());
    assert!(!s.hold_lease("mailbox:7", "node-2", t0() + Duration::seconds(30), t0() + ttl).await.unwrap());
    let renewed = t0() + Duration::seconds(60) + ttl;
    assert!(s.hold_lease("mailbox:7", "node-1", t0() + Duration::seconds(60), renewed).await.unwrap());
    assert!(!s.hold_lease("mailbox:7", "node-2", t0() + ttl, t0() + ttl + ttl).await.unwrap(), "renewed");
    assert!(s.hold_lease("mailbox:7", "node-2", renewed, renewed + ttl).await.unwrap());
    assert!(!s.hold_lease("mailbox:7", "node-1", renewed, renewed + ttl).await.unwrap());
    let state = s.lease("mailbox:7").await.unwrap().unwrap();
    assert_eq!((state.holder.as_str(), state.runs), ("node-2", 2), "renewals are not new runs");

    assert_eq!(s.installation_setting("demo").await.unwrap(), None);
    s.put_installation_setting("demo", "{\"a\":1}", t0()).await.unwrap();
    s.put_installation_setting("demo", "{\"a\":2}", t0()).await.unwrap();
    assert_eq!(s.installation_setting("demo").await.unwrap().as_deref(), Some("{\"a\":2}"));
}

/// The snooze timer's query: due conversations of every account, earliest
/// first and, at the same time, in creation order; the limit holds.
async fn snoozed_conversations_fall_due_in_order(s: Arc<dyn Storage>) {
    let w = world(&*s, "Snoozers").await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let m = inbound(&w, &format!("z{i}"), &format!("zh{i}"), "later please", t0());
        ids.push(s.ingest(m, opts(t0())).await.unwrap().conversation.id);
    }
    // The last wakes first; the others share one time; the first wakes late.
    let wake = [3, 2, 2, 1].map(|h| t0() + Duration::hours(h));
    for (id, until) in ids.iter().zip(wake) {
        let upd = ConversationUpdate {
            jobs: Vec::new(),
            transition: Transition::Snooze { until },
            describe: no_describe(),
            now: t0(),
        };
        s.update_conversation(w.account, *id, upd).await.unwrap();
    }
    let due = s.due_snoozed(t0() + Duration::hours(2), 10).await.unwrap();
    assert_eq!(due, vec![(w.account, ids[3]), (w.account, ids[1]), (w.account, ids[2])]);
    assert_eq!(s.due_snoozed(t0() + Duration::hours(5), 2).await.unwrap().len(), 2);
    assert!(s.due_snoozed(t0(), 10).await.unwrap().is_empty());
}

async fn replies_thread_by_reference_and_automatic_mail_wakes_nothing(s: Arc<dyn Storage>) {
    let w = world(&*s, "Threads").await;
    let reply = |refs: &[&str], named: Option<ferry_core::ConversationId>| IntakeOptions {
        threading: Threading::Reply { references: refs.iter().map(|r| (*r).to_owned()).collect(), conversation: named },
        ..opts(t0())
    };
    // A first mail opens a conversation; a second without references opens
    // another, even from the same buyer.
    let first = s.ingest(inbound(&w, "<a1@x>", "ana", "Where is 1001?", t0()), reply(&[], None)).await.unwrap();
    let other = s.ingest(inbound(&w, "<a2@x>", "ana", "New question", t0()), reply(&[], None)).await.unwrap();
    assert!(first.new_conversation && other.new_conversation);
    assert_ne!(first.conversation.id, other.conversation.id);

    // The agent's reply is sent with its own id; the buyer's answer quoting
    // it lands in the first conversation.
    let sent = s
        .post_message(
            w.account,
            NewMessage {
                notice_send: None,
                conversation_id: first.conversation.id,
                kind: MessageKind::Outgoing,
                sender: Sender::User(w.agent),
                parts: vec![ContentPart::Text { text: "It left today".into() }],
                delivery: Some(DeliveryStatus::Queued),
                now: t0(),
                transition: None,
                job: None,
                bot_state: None,
                describe: None,
            },
        )
        .await
        .unwrap();
    s.update_delivery(w.account, sent.message.id, DeliveryStatus::Sent, Some("<r1@shop>".into()), t0()).await.unwrap();
    let found = s.find_sent_message(w.account, w.inbox, "<r1@shop>").await.unwrap().unwrap();
    assert_eq!(found.id, sent.message.id);
    assert!(s.find_sent_message(w.account, w.inbox, "<a1@x>").await.unwrap().is_none(), "incoming is not sent");
    let answer =
        s.ingest(inbound(&w, "<a3@x>", "ana", "Thanks!", t0()), reply(&["<zz@x>", "<r1@shop>"], None)).await.unwrap();
    assert_eq!((answer.conversation.id, answer.new_conversation), (first.conversation.id, false));

    // A named conversation counts only for its own buyer.
    let named =
        s.ingest(inbound(&w, "<a4@x>", "ana", "Token", t0()), reply(&[], Some(other.conversation.id))).await.unwrap();
    assert_eq!(named.conversation.id, other.conversation.id);
    let forged = s
        .ingest(inbound(&w, "<b1@x>", "bob", "Forged token", t0()), reply(&[], Some(other.conversation.id)))
        .await
        .unwrap();
    assert!(forged.new_conversation);
    assert_ne!(forged.conversation.id, other.conversation.id);

    // An out-of-office reply to a resolved conversation is kept as an
    // activity line; the conversation stays resolved.
    let upd =
        ConversationUpdate { jobs: Vec::new(), transition: Transition::Resolve, describe: no_describe(), now: t0() };
    s.update_conversation(w.account, first.conversation.id, upd).await.unwrap();
    let auto =
        IntakeOptions { automatic: true, bot_enabled: true, bot_job: Some("bot_reply"), ..reply(&["<r1@shop>"], None) };
    let ooo = s.ingest(inbound(&w, "<ooo@x>", "ana", "I am away", t0()), auto).await.unwrap();
    assert_eq!((ooo.conversation.id, ooo.message.kind), (first.conversation.id, MessageKind::Activity));
    let conv = s.get_conversation(w.account, first.conversation.id).await.unwrap().unwrap();
    assert_eq!(conv.status, Status::Resolved);
    assert!(s.claim_jobs(t0(), Duration::minutes(1), 10).await.unwrap().is_empty(), "no bot job");
}

async fn channel_state_is_kept_per_inbox(s: Arc<dyn Storage>) {
    let w = world(&*s, "Cursors").await;
    let other = world(&*s, "Elsewhere").await;
    assert_eq!(s.get_channel_state(w.account, w.inbox, "imap:INBOX").await.unwrap(), None);
    let v1 = serde_json::json!({"uid_validity": 7, "last_uid": 3});
    s.put_channel_state(w.account, w.inbox, "imap:INBOX", v1.clone(), t0()).await.unwrap();
    let v2 = serde_json::json!({"uid_validity": 7, "last_uid": 9});
    s.put_channel_state(w.account, w.inbox, "imap:INBOX", v2.clone(), t0()).await.unwrap();
    assert_eq!(s.get_channel_state(w.account, w.inbox, "imap:INBOX").await.unwrap(), Some(v2));
    assert_eq!(s.get_channel_state(w.account, w.inbox, "imap:Amazon").await.unwrap(), None);
    // Another account can neither read nor write it.
    assert_eq!(s.get_channel_state(other.account, w.inbox, "imap:INBOX").await.unwrap(), None);
    let e = s.put_channel_state(other.account, w.inbox, "imap:INBOX", v1, t0()).await.unwrap_err();
    assert!(matches!(e, StorageError::NotFound), "{e:?}");
}

async fn compliance_rules_per_account(s: Arc<dyn Storage>) {
    let w = world(&*s, "Rules").await;
    let other = world(&*s, "Other rules").await;
    assert_eq!(s.get_compliance_rules(w.account).await.unwrap(), None);
    let rules = serde_json::json!({"phrases": [{"phrase": "cheap", "severity": "block"}]});
    s.put_compliance_rules(w.account, rules.clone(), t0()).await.unwrap();
    let newer = serde_json::json!({"phrases": [], "allowed_link_hosts": ["17track.net"]});
    s.put_compliance_rules(w.account, newer.clone(), t0()).await.unwrap();
    assert_eq!(s.get_compliance_rules(w.account).await.unwrap(), Some(newer));
    assert_eq!(s.get_compliance_rules(other.account).await.unwrap(), None);
    let e = s.put_compliance_rules(ferry_core::AccountId(987_654), rules, t0()).await.unwrap_err();
    assert!(matches!(e, StorageError::NotFound), "{e:?}");
}

struct World {
    account: AccountId,
    inbox: InboxId,
    agent: UserId,
}

async fn world(s: &dyn Storage, name: &str) -> World {
    let a = s.create_account(NewAccount { name: name.into(), default_language: "en".into() }, t0()).await.unwrap();
    let inbox = s
        .create_inbox(
            a.id,
            NewInbox {
                name: "API".into(),
                channel: ChannelKind::Api,
                config: InboxConfig::default(),
                secret: "s3cret".into(),
            },
            t0(),
        )
        .await
        .unwrap();
    let agent = s
        .create_user(
            a.id,
            NewUser {
                name: format!("Agent of {name}"),
                email: format!("agent@{}.example", name.to_lowercase()),
                password_hash: "x".into(),
                role: Role::Agent,
                languages: vec!["en".into()],
            },
            t0(),
        )
        .await
        .unwrap();
    World { account: a.id, inbox: inbox.id, agent: agent.id }
}

fn inbound(w: &World, ext: &str, handle: &str, text: &str, at: DateTime<Utc>) -> Inbound {
    Inbound {
        account_id: w.account,
        inbox_id: w.inbox,
        external_id: ext.into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::ApiHandle, handle, Some(w.inbox)).unwrap(),
            extra_identities: vec![],
            name: Some(format!("Buyer {handle}")),
            language: Some("de".into()),
        },
        parts: vec![ContentPart::Text { text: text.into() }],
        sent_at: at,
        meta: Default::default(),
    }
}

fn opts(now: DateTime<Utc>) -> IntakeOptions {
    IntakeOptions {
        bot_enabled: false,
        reopen_window: Duration::days(7),
        now,
        bot_job: None,
        threading: Threading::Latest,
        automatic: false,
    }
}

fn no_describe() -> Describe {
    Box::new(|_| None)
}

/// The same message delivered five times at once is stored once, with one
/// set of events, and every delivery gets the same ids back.
pub async fn intake_is_idempotent_under_concurrency(s: Arc<dyn Storage>) {
    let w = world(&*s, "Idem").await;
    let msg = inbound(&w, "ext-1", "u1", "Wo ist meine Bestellung?", t0());
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let s = s.clone();
        let m = msg.clone();
        tasks.push(tokio::spawn(async move { s.ingest(m, opts(t0())).await }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| !o.duplicate).count(), 1, "exactly one delivery writes");
    let first = &outcomes[0];
    assert!(outcomes.iter().all(|o| o.message.id == first.message.id && o.conversation.id == first.conversation.id));
    let msgs = s.list_messages(w.account, first.conversation.id, None, 100).await.unwrap();
    assert_eq!(msgs.len(), 1);
    // One outbox event for the message, once.
    assert_eq!(s.count_events(w.account).await.unwrap(), 1);
    let again = s.ingest(msg, opts(t0() + Duration::hours(1))).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message.id, first.message.id);
    assert_eq!(s.count_events(w.account).await.unwrap(), 1);
    match &s.unpublished_events(None, 10).await.unwrap()[0].event {
        Event::MessageReceived { message, conversation, new_conversation, new_contact, .. } => {
            assert_eq!((message.id, conversation.id), (first.message.id, first.conversation.id));
            assert!(*new_conversation && *new_contact);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(again.message.text(), "Wo ist meine Bestellung?");
    assert_eq!(first.conversation.language.as_deref(), Some("de"));
}

/// A widget visitor who gives the e-mail an API sender used is the same
/// contact.
pub async fn intake_links_channels_to_one_contact(s: Arc<dyn Storage>) {
    let w = world(&*s, "Link").await;
    let mut a = inbound(&w, "a-1", "handle-a", "hi", t0());
    a.sender.extra_identities = vec![Identity::new(IdentityKind::Email, "Buyer@Example.com", None).unwrap()];
    let oa = s.ingest(a, opts(t0())).await.unwrap();
    assert!(oa.new_contact);
    let widget = s
        .create_inbox(
            w.account,
            NewInbox {
                name: "Widget".into(),
                channel: ChannelKind::WebWidget,
                config: InboxConfig::default(),
                secret: "w".into(),
            },
            t0(),
        )
        .await
        .unwrap();
    let b = Inbound {
        inbox_id: widget.id,
        external_id: "b-1".into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::WebVisitor, "visitor-9", Some(widget.id)).unwrap(),
            extra_identities: vec![Identity::new(IdentityKind::Email, "buyer@example.com", None).unwrap()],
            name: None,
            language: None,
        },
        ..inbound(&w, "", "x", "hello again", t0())
    };
    let ob = s.ingest(b, opts(t0())).await.unwrap();
    assert!(!ob.new_contact);
    assert_eq!(ob.conversation.contact_id, oa.conversation.contact_id);
    assert_ne!(ob.conversation.id, oa.conversation.id, "one conversation per inbox");
    let c = s.get_contact(w.account, oa.conversation.contact_id).await.unwrap().unwrap();
    assert_eq!(c.email.as_deref(), Some("buyer@example.com"));
    assert_eq!(c.identities.len(), 3);
    assert_eq!(c.name, "Buyer handle-a");
    let found = s
        .search_contacts(w.account, ContactQuery { q: Some("visitor-9".into()), limit: 10, before: None })
        .await
        .unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c.id], "identities added by intake are searchable");
}

/// Messages continue the open conversation, reopen a recently resolved one
/// and start a new one after the reopen window.
pub async fn intake_reopens_and_starts_new_conversations(s: Arc<dyn Storage>) {
    let w = world(&*s, "Reopen").await;
    let o1 = s.ingest(inbound(&w, "m1", "u", "one", t0()), opts(t0())).await.unwrap();
    let o2 = s.ingest(inbound(&w, "m2", "u", "two", t0()), opts(t0())).await.unwrap();
    assert_eq!(o1.conversation.id, o2.conversation.id);
    assert!(o1.new_conversation && !o2.new_conversation);
    let upd = ConversationUpdate {
        jobs: Vec::new(),
        transition: Transition::Resolve,
        describe: no_describe(),
        now: t0() + Duration::minutes(5),
    };
    let r = s.update_conversation(w.account, o1.conversation.id, upd).await.unwrap();
    assert_eq!(r.conversation.status, Status::Resolved);
    let t1 = t0() + Duration::hours(1);
    let o3 = s.ingest(inbound(&w, "m3", "u", "three", t1), opts(t1)).await.unwrap();
    assert_eq!(o3.conversation.id, o1.conversation.id);
    assert_eq!(o3.conversation.status, Status::Open);
    assert_eq!(o3.conversation.resolved_at, None);
    let upd =
        ConversationUpdate { jobs: Vec::new(), transition: Transition::Resolve, describe: no_describe(), now: t1 };
    s.update_conversation(w.account, o1.conversation.id, upd).await.unwrap();
    let t2 = t1 + Duration::days(30);
    let o4 = s.ingest(inbound(&w, "m4", "u", "four", t2), opts(t2)).await.unwrap();
    assert!(o4.new_conversation);
    assert_ne!(o4.conversation.id, o1.conversation.id);
    // Bot inboxes start conversations with the bot.
    let o5 = s
        .ingest(inbound(&w, "m5", "other", "five", t2), IntakeOptions { bot_enabled: true, ..opts(t2) })
        .await
        .unwrap();
    assert_eq!(o5.conversation.status, Status::Bot);
}

/// Filters, cursor pagination and counts agree with each other.
pub async fn conversations_filter_paginate_and_count(s: Arc<dyn Storage>) {
    let w = world(&*s, "List").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let at = t0() + Duration::minutes(i);
        let mut m = inbound(&w, &format!("e{i}"), &format!("h{i}"), "q", at);
        if i % 5 == 0 {
            m.sender.language = Some("zh-CN".into());
        }
        ids.push(s.ingest(m, opts(at)).await.unwrap().conversation.id);
    }
    for (n, id) in ids.iter().enumerate().take(6) {
        let t = if n % 2 == 0 { Transition::Resolve } else { Transition::SetPending };
        s.update_conversation(
            w.account,
            *id,
            ConversationUpdate {
                jobs: Vec::new(),
                transition: t,
                describe: no_describe(),
                now: t0() + Duration::hours(1),
            },
        )
        .await
        .unwrap();
    }
    s.update_conversation(
        w.account,
        ids[10],
        ConversationUpdate {
            jobs: Vec::new(),
            transition: Transition::Assign(Some(w.agent)),
            describe: no_describe(),
            now: t0() + Duration::hours(2),
        },
    )
    .await
    .unwrap();
    s.update_conversation(
        w.account,
        ids[11],
        ConversationUpdate {
            jobs: Vec::new(),
            transition: Transition::SetTags(vec!["late".into(), "vip".into()]),
            describe: no_describe(),
            now: t0() + Duration::hours(2),
        },
    )
    .await
    .unwrap();

    // Walk all pages of open conversations.
    let filter = ConversationFilter { status: Some(Status::Open), ..Default::default() };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.list_conversations(w.account, &filter, cursor, 7).await.unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(|c| (c.last_activity_at, c.id)));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 19);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest activity first, no repeats");
    assert_eq!(seen[0].1, ids[11]);

    let counts = s.count_conversations(w.account, &filter).await.unwrap();
    let get = |st: Status| counts.iter().find(|(x, _)| *x == st).map(|(_, n)| *n).unwrap();
    assert_eq!((get(Status::Open), get(Status::Resolved), get(Status::Pending)), (19, 3, 3));

    assert_eq!(s.assigned_load(w.account).await.unwrap(), vec![(w.agent, 1)]);
    let mine = ConversationFilter { assignee: AssigneeFilter::User(w.agent), ..Default::default() };
    assert_eq!(s.list_conversations(w.account, &mine, None, 50).await.unwrap().items.len(), 1);
    let unassigned = ConversationFilter { assignee: AssigneeFilter::Unassigned, ..Default::default() };
    assert_eq!(s.list_conversations(w.account, &unassigned, None, 50).await.unwrap().items.len(), 24);
    let tagged = ConversationFilter { tag: Some("late".into()), ..Default::default() };
    let t = s.list_conversations(w.account, &tagged, None, 50).await.unwrap().items;
    assert_eq!(t.iter().map(|c| c.id).collect::<Vec<_>>(), vec![ids[11]]);
    let zh = ConversationFilter { language: Some("zh".into()), ..Default::default() };
    assert_eq!(s.list_conversations(w.account, &zh, None, 50).await.unwrap().items.len(), 5);
    let tags = s.list_tags(w.account).await.unwrap();
    assert_eq!(tags.len(), 2);
    assert!(tags.iter().all(|t| t.conversations == 1));
}

/// Updates write activity lines and events in the same transaction; a
/// refused transition writes nothing.
pub async fn conversation_updates_write_activities_and_events(s: Arc<dyn Storage>) {
    let w = world(&*s, "Upd").await;
    let o =
        s.ingest(inbound(&w, "x", "u", "hi", t0()), IntakeOptions { bot_enabled: true, ..opts(t0()) }).await.unwrap();
    let before = s.count_events(w.account).await.unwrap();
    let describe: Describe = Box::new(|c| match c {
        Change::Status { to, .. } => Some(format!("status {to}")),
        _ => None,
    });
    let up = s
        .update_conversation(
            w.account,
            o.conversation.id,
            ConversationUpdate {
                jobs: Vec::new(),
                transition: Transition::HandOff {
                    reason: "buyer asked for a person".into(),
                    team: None,
                    assignee: None,
                    language: Some("es".into()),
                },
                describe,
                now: t0() + Duration::minutes(1),
            },
        )
        .await
        .unwrap();
    assert_eq!(up.conversation.status, Status::Open);
    assert_eq!(up.activities.len(), 1);
    assert_eq!(up.activities[0].text(), "status open");
    assert_eq!(s.count_events(w.account).await.unwrap(), before + 2);
    let stored = s.get_conversation(w.account, o.conversation.id).await.unwrap().unwrap();
    assert_eq!(stored.handoff_reason.as_deref(), Some("buyer asked for a person"));
    assert_eq!(stored.language.as_deref(), Some("es"), "the bot's language is the conversation's");

    let refused = s
        .update_conversation(
            w.account,
            o.conversation.id,
            ConversationUpdate {
                jobs: Vec::new(),
                transition: Transition::HandOff { reason: "again".into(), team: None, assignee: None, language: None },
                describe: no_describe(),
                now: t0(),
            },
        )
        .await;
    assert!(matches!(refused, Err(StorageError::Transition(_))));
    assert_eq!(s.count_events(w.account).await.unwrap(), before + 2);

    // No change, nothing written.
    let same = s
        .update_conversation(
            w.account,
            o.conversation.id,
            ConversationUpdate {
                jobs: Vec::new(),
                transition: Transition::SetPriority(Priority::None),
                describe: no_describe(),
                now: t0(),
            },
        )
        .await
        .unwrap();
    assert!(same.changes.is_empty());
    assert_eq!(s.count_events(w.account).await.unwrap(), before + 2);
    let missing = s
        .update_conversation(
            w.account,
            ferry_core::ConversationId(999_999),
            ConversationUpdate {
                jobs: Vec::new(),
                transition: Transition::Resolve,
                describe: no_describe(),
                now: t0(),
            },
        )
        .await;
    assert!(matches!(missing, Err(StorageError::NotFound)));
}

/// Replies apply their transition and enqueue their delivery job; delivery
/// reports never move backwards.
pub async fn messages_jobs_and_delivery(s: Arc<dyn Storage>) {
    let w = world(&*s, "Msg").await;
    let o =
        s.ingest(inbound(&w, "x", "u", "hi", t0()), IntakeOptions { bot_enabled: true, ..opts(t0()) }).await.unwrap();
    let at = t0() + Duration::minutes(2);
    let account = w.account;
    let posted = s
        .post_message(
            w.account,
            NewMessage {
                notice_send: None,
                conversation_id: o.conversation.id,
                kind: MessageKind::Outgoing,
                sender: Sender::User(w.agent),
                parts: vec![ContentPart::Text { text: "Ihr Paket ist unterwegs.".into() }],
                delivery: Some(DeliveryStatus::Queued),
                now: at,
                transition: Some(Transition::AgentReply { by: w.agent, at }),
                job: Some(Box::new(move |m| NewJob {
                    account_id: account,
                    kind: "deliver_message".into(),
                    payload: serde_json::json!({ "message_id": m.id }),
                    run_at: at,
                    max_attempts: 5,
                    lane: None,
                })),
                bot_state: None,
                describe: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(posted.conversation.status, Status::Open);
    assert_eq!(posted.conversation.first_reply_at, Some(at));
    assert_eq!(posted.conversation.assignee_id, Some(w.agent));
    let jobs = s.claim_jobs(at, Duration::seconds(30), 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].payload["message_id"], serde_json::json!(posted.message.id));

    let note = s
        .post_message(
            w.account,
            NewMessage {
                notice_send: None,
                conversation_id: o.conversation.id,
                kind: MessageKind::Note,
                sender: Sender::User(w.agent),
                parts: vec![ContentPart::Text { text: "VIP, be quick".into() }],
                delivery: None,
                now: at,
                transition: None,
                job: None,
                bot_state: None,
                describe: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(note.message.kind, MessageKind::Note);
    let all = s.list_messages(w.account, o.conversation.id, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.kind).collect::<Vec<_>>(),
        vec![MessageKind::Incoming, MessageKind::Outgoing, MessageKind::Note]
    );
    let found = s.search_messages(w.account, "PAKET", 10).await.unwrap();
    assert_eq!(found.iter().map(|m| m.id).collect::<Vec<_>>(), vec![posted.message.id]);
    assert_eq!(s.search_messages(w.account, "vip", 10).await.unwrap().len(), 1, "notes are searchable");
    assert!(s.search_messages(w.account, "%", 10).await.unwrap().is_empty(), "wildcards are literal");
    let other = world(&*s, "MsgOther").await;
    assert!(s.search_messages(other.account, "paket", 10).await.unwrap().is_empty());
    let older = s.list_messages(w.account, o.conversation.id, Some(note.message.id), 1).await.unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].id, posted.message.id);

    let id = posted.message.id;
    let read = s.update_delivery(w.account, id, DeliveryStatus::Read, Some("wamid.1".into()), at).await.unwrap();
    assert_eq!(read.unwrap().delivery, Some(DeliveryStatus::Read));
    let back = s.update_delivery(w.account, id, DeliveryStatus::Delivered, None, at).await.unwrap();
    assert!(back.is_none());
    let m = s.get_message(w.account, id).await.unwrap().unwrap();
    assert_eq!(m.delivery, Some(DeliveryStatus::Read));
    assert_eq!(m.external_id.as_deref(), Some("wamid.1"));
}

/// Nothing of account A is visible or changeable through account B.
pub async fn accounts_are_isolated(s: Arc<dyn Storage>) {
    let a = world(&*s, "Alpha").await;
    let b = world(&*s, "Beta").await;
    let o = s.ingest(inbound(&a, "x", "u", "secret order", t0()), opts(t0())).await.unwrap();
    let conv = o.conversation.id;
    assert!(s.get_conversation(b.account, conv).await.unwrap().is_none());
    assert!(s.get_contact(b.account, o.conversation.contact_id).await.unwrap().is_none());
    assert!(s.get_message(b.account, o.message.id).await.unwrap().is_none());
    assert!(s.get_inbox(b.account, a.inbox).await.unwrap().is_none());
    assert!(s.get_user(b.account, a.agent).await.unwrap().is_none());
    assert!(s.list_messages(b.account, conv, None, 10).await.unwrap().is_empty());
    assert!(s.list_conversations(b.account, &ConversationFilter::default(), None, 10).await.unwrap().items.is_empty());
    assert!(
        s.search_contacts(b.account, ContactQuery { q: Some("buyer".into()), limit: 10, before: None })
            .await
            .unwrap()
            .is_empty()
    );
    let upd =
        ConversationUpdate { jobs: Vec::new(), transition: Transition::Resolve, describe: no_describe(), now: t0() };
    assert!(matches!(s.update_conversation(b.account, conv, upd).await, Err(StorageError::NotFound)));
    assert!(matches!(s.update_inbox(b.account, a.inbox, InboxPatch::default()).await, Err(StorageError::NotFound)));
    assert!(matches!(s.delete_inbox(b.account, a.inbox).await, Err(StorageError::NotFound)));
    assert!(matches!(s.delete_user(b.account, a.agent).await, Err(StorageError::NotFound)));
    assert!(matches!(
        s.update_contact(b.account, o.conversation.contact_id, ContactPatch::default(), t0()).await,
        Err(StorageError::NotFound)
    ));
    let post = s
        .post_message(
            b.account,
            NewMessage {
                notice_send: None,
                conversation_id: conv,
                kind: MessageKind::Note,
                sender: Sender::User(b.agent),
                parts: vec![],
                delivery: None,
                now: t0(),
                transition: None,
                job: None,
                bot_state: None,
                describe: None,
            },
        )
        .await;
    assert!(matches!(post, Err(StorageError::NotFound)));
    // An identity in B does not match A's contact.
    let ob = s
        .ingest(Inbound { account_id: b.account, inbox_id: b.inbox, ..inbound(&b, "x", "u", "mine", t0()) }, opts(t0()))
        .await
        .unwrap();
    assert_ne!(ob.conversation.contact_id, o.conversation.contact_id);
    assert!(!ob.duplicate);
    assert_eq!(s.get_conversation(a.account, conv).await.unwrap().unwrap().status, Status::Open);
}

/// Logins are unique, sessions expire, tokens act as their user.
pub async fn users_sessions_and_tokens(s: Arc<dyn Storage>) {
    let w = world(&*s, "Users").await;
    let dup = s
        .create_user(
            w.account,
            NewUser {
                name: "X".into(),
                email: "agent@users.example".into(),
                password_hash: "h".into(),
                role: Role::Admin,
                languages: vec![],
            },
            t0(),
        )
        .await;
    assert!(matches!(dup, Err(StorageError::Conflict { .. })));
    let (u, hash) = s.find_login("agent@users.example").await.unwrap().unwrap();
    assert_eq!((u.id, hash.as_str()), (w.agent, "x"));
    s.create_session("sess-hash", &u, t0(), t0() + Duration::hours(1)).await.unwrap();
    assert_eq!(s.session_user("sess-hash", t0()).await.unwrap().map(|u| u.id), Some(u.id));
    assert!(s.session_user("sess-hash", t0() + Duration::hours(2)).await.unwrap().is_none());
    s.delete_session("sess-hash").await.unwrap();
    assert!(s.session_user("sess-hash", t0()).await.unwrap().is_none());
    s.create_api_token(&u, "cli", "tok-hash", t0()).await.unwrap();
    assert_eq!(s.token_user("tok-hash").await.unwrap().map(|u| u.id), Some(u.id));
    assert!(s.token_user("other").await.unwrap().is_none());
    let up = s.update_user(w.account, u.id, UserPatch { role: Some(Role::Admin), ..Default::default() }).await.unwrap();
    assert_eq!(up.role, Role::Admin);
    assert_eq!(s.token_user("tok-hash").await.unwrap().map(|u| u.role), Some(Role::Admin));
    s.delete_user(w.account, u.id).await.unwrap();
    assert!(s.token_user("tok-hash").await.unwrap().is_none());
}

/// Teams with members; inboxes with settings.
pub async fn teams_and_inboxes(s: Arc<dyn Storage>) {
    let w = world(&*s, "Teams").await;
    let t = s.create_team(w.account, "Returns", "returns and refunds", t0()).await.unwrap();
    assert!(matches!(s.create_team(w.account, "Returns", "", t0()).await, Err(StorageError::Conflict { .. })));
    let t = s.set_team_members(w.account, t.id, &[w.agent]).await.unwrap();
    assert_eq!(t.member_ids, vec![w.agent]);
    let other = world(&*s, "Other").await;
    assert!(matches!(s.set_team_members(w.account, t.id, &[other.agent]).await, Err(StorageError::Conflict { .. })));
    assert_eq!(s.list_teams(w.account).await.unwrap().len(), 1);
    s.delete_team(w.account, t.id).await.unwrap();
    assert!(s.get_team(w.account, t.id).await.unwrap().is_none());

    let cfg = InboxConfig { callback_url: Some("http://127.0.0.1:9/cb".into()), ..Default::default() };
    let i = s
        .update_inbox(w.account, w.inbox, InboxPatch { name: Some("Shop API".into()), config: Some(cfg.clone()) })
        .await
        .unwrap();
    assert_eq!(i.config, cfg);
    let found = s.find_inbox(w.inbox).await.unwrap().unwrap();
    assert_eq!((found.account_id, found.name.as_str(), found.secret.as_str()), (w.account, "Shop API", "s3cret"));
    s.ingest(inbound(&w, "x", "u", "hi", t0()), opts(t0())).await.unwrap();
    s.delete_inbox(w.account, w.inbox).await.unwrap();
    assert!(s.list_conversations(w.account, &ConversationFilter::default(), None, 10).await.unwrap().items.is_empty());
}

/// Contacts: search by name, e-mail and phone; patches merge attributes.
pub async fn contacts_search_and_patch(s: Arc<dyn Storage>) {
    let w = world(&*s, "Contacts").await;
    let mk = |name: &str, email: &str, phone: &str| NewContact {
        name: name.into(),
        country: Some("DE".into()),
        identities: vec![
            Identity::new(IdentityKind::Email, email, None).unwrap(),
            Identity::new(IdentityKind::Phone, phone, None).unwrap(),
        ],
        ..Default::default()
    };
    let anna =
        s.create_contact(w.account, mk("Anna Schmidt", "anna@example.de", "+49 151 23456789"), t0()).await.unwrap();
    s.create_contact(w.account, mk("李伟", "li.wei@example.cn", "+86 138 0013 8000"), t0()).await.unwrap();
    assert_eq!(anna.email.as_deref(), Some("anna@example.de"));
    assert_eq!(anna.phone.as_deref(), Some("+4915123456789"));
    let dup = s.create_contact(w.account, mk("Other", "anna@example.de", "+49 151 99999999"), t0()).await;
    assert!(matches!(dup, Err(StorageError::Conflict { .. })));
    let q = |q: &str| ContactQuery { q: Some(q.into()), limit: 10, before: None };
    assert_eq!(s.search_contacts(w.account, q("SCHMIDT")).await.unwrap().len(), 1);
    assert_eq!(s.search_contacts(w.account, q("li.wei@")).await.unwrap().len(), 1);
    assert_eq!(s.search_contacts(w.account, q("+8613800138000")).await.unwrap().len(), 1);
    assert_eq!(s.search_contacts(w.account, q("李")).await.unwrap().len(), 1);
    assert_eq!(s.search_contacts(w.account, q("%")).await.unwrap().len(), 0);
    assert_eq!(s.search_contacts(w.account, ContactQuery { q: None, limit: 1, before: None }).await.unwrap().len(), 1);
    let mut attrs = serde_json::Map::new();
    attrs.insert("shoe_size".into(), serde_json::json!(39));
    let p = ContactPatch {
        vip: Some(true),
        timezone: Some(Some("Europe/Berlin".into())),
        custom_attributes: Some(attrs),
        add_identities: vec![Identity::new(IdentityKind::Whatsapp, "+49 151 23456789", None).unwrap()],
        ..Default::default()
    };
    let a = s.update_contact(w.account, anna.id, p, t0()).await.unwrap();
    assert!(a.vip);
    assert_eq!(a.custom_attributes["shoe_size"], serde_json::json!(39));
    assert_eq!(a.identities.len(), 3);
    let mut rm = serde_json::Map::new();
    rm.insert("shoe_size".into(), serde_json::Value::Null);
    let a = s
        .update_contact(w.account, anna.id, ContactPatch { custom_attributes: Some(rm), ..Default::default() }, t0())
        .await
        .unwrap();
    assert!(a.custom_attributes.is_empty());
    assert_eq!(a.timezone.as_deref(), Some("Europe/Berlin"));
}

/// Jobs: leased claims, retries and failures.
pub async fn jobs_lease_retry_and_fail(s: Arc<dyn Storage>) {
    let w = world(&*s, "Jobs").await;
    let job = |run_at| NewJob {
        account_id: w.account,
        kind: "k".into(),
        payload: serde_json::json!({"n": 1}),
        run_at,
        max_attempts: 3,
        lane: None,
    };
    assert_eq!(s.job_backlog(t0()).await.unwrap(), JobBacklog::default());
    let j1 = s.enqueue_job(job(t0())).await.unwrap();
    let j2 = s.enqueue_job(job(t0() + Duration::hours(1))).await.unwrap();
    let backlog = s.job_backlog(t0() + Duration::seconds(5)).await.unwrap();
    assert_eq!(backlog, JobBacklog { pending: 2, due: 1, oldest_due: Some(t0()) });
    let c = s.claim_jobs(t0(), Duration::seconds(30), 10).await.unwrap();
    assert_eq!(c.iter().map(|j| j.id).collect::<Vec<_>>(), vec![j1]);
    assert_eq!((c[0].attempts, c[0].interrupted), (1, false));
    assert!(s.claim_jobs(t0() + Duration::seconds(10), Duration::seconds(30), 10).await.unwrap().is_empty(), "leased");
    let again = s.claim_jobs(t0() + Duration::seconds(31), Duration::seconds(30), 10).await.unwrap();
    assert_eq!(again.len(), 1, "lease ran out");
    assert_eq!(again[0].attempts, 2);
    assert!(again[0].interrupted, "a claim that ran out is reported to the next one");
    assert_eq!(again[0].last_error.as_deref(), Some(INTERRUPTED));
    s.retry_job(j1, t0() + Duration::minutes(5), "timeout").await.unwrap();
    assert!(s.claim_jobs(t0() + Duration::minutes(1), Duration::seconds(30), 10).await.unwrap().is_empty());
    let later = s.claim_jobs(t0() + Duration::minutes(61), Duration::seconds(30), 10).await.unwrap();
    assert_eq!(later.len(), 2);
    assert_eq!(later.iter().find(|j| j.id == j1).unwrap().last_error.as_deref(), Some("timeout"));
    assert!(later.iter().all(|j| !j.interrupted), "an attempt with an outcome was not interrupted");
    s.complete_job(j2, t0()).await.unwrap();
    s.fail_job(j1, "gave up", t0()).await.unwrap();
    assert_eq!(s.job_state(j1).await.unwrap().map(|x| x.0), Some(JobState::Failed));
    assert_eq!(s.job_state(j2).await.unwrap().map(|x| x.0), Some(JobState::Done));
    assert_eq!(s.job_backlog(t0() + Duration::days(1)).await.unwrap(), JobBacklog::default(), "none pending");
    assert!(s.claim_jobs(t0() + Duration::days(1), Duration::seconds(30), 10).await.unwrap().is_empty());
    // Pruning takes done jobs finished before the cut-off, never failed ones.
    assert_eq!(s.prune_done_jobs(t0(), 100).await.unwrap(), 0);
    assert_eq!(s.prune_done_jobs(t0() + Duration::days(8), 100).await.unwrap(), 1);
    assert_eq!(s.job_state(j2).await.unwrap(), None);
    assert_eq!(s.job_state(j1).await.unwrap().map(|x| x.0), Some(JobState::Failed));
}

/// Jobs of one lane are claimed one at a time, oldest first, even when a
/// retry makes the head wait; other lanes and lane-less jobs go on; a
/// postponed job does not lose an attempt.
pub async fn jobs_of_a_lane_run_in_order(s: Arc<dyn Storage>) {
    let w = world(&*s, "Lanes").await;
    let job = |lane: Option<&str>| NewJob {
        account_id: w.account,
        kind: "k".into(),
        payload: serde_json::json!({}),
        run_at: t0(),
        max_attempts: 3,
        lane: lane.map(str::to_owned),
    };
    let a1 = s.enqueue_job(job(Some("deliver:1"))).await.unwrap();
    let a2 = s.enqueue_job(job(Some("deliver:1"))).await.unwrap();
    let b1 = s.enqueue_job(job(Some("deliver:2"))).await.unwrap();
    let free = s.enqueue_job(job(None)).await.unwrap();
    let lease = Duration::seconds(30);
    let ids = |jobs: Vec<Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let first = ids(s.claim_jobs(t0(), lease, 10).await.unwrap());
    assert_eq!(first, vec![a1, b1, free], "one job per lane");
    assert!(s.claim_jobs(t0(), lease, 10).await.unwrap().is_empty(), "the lane waits for its head");
    s.complete_job(b1, t0()).await.unwrap();
    s.complete_job(free, t0()).await.unwrap();
    // The head fails and waits a minute: the lane waits with it.
    s.retry_job(a1, t0() + Duration::minutes(1), "timeout").await.unwrap();
    assert!(s.claim_jobs(t0() + Duration::seconds(40), lease, 10).await.unwrap().is_empty());
    let head = s.claim_jobs(t0() + Duration::minutes(1), lease, 10).await.unwrap();
    assert_eq!((head[0].id, head[0].attempts, head.len()), (a1, 2, 1));
    // Postponed (throttled): the attempt is not counted.
    s.postpone_job(a1, t0() + Duration::minutes(2), "slow down").await.unwrap();
    let again = s.claim_jobs(t0() + Duration::minutes(2), lease, 10).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (a1, 2));
    s.complete_job(a1, t0()).await.unwrap();
    assert_eq!(ids(s.claim_jobs(t0() + Duration::minutes(3), lease, 10).await.unwrap()), vec![a2]);
    // A failed head no longer holds its lane.
    let a3 = s.enqueue_job(job(Some("deliver:1"))).await.unwrap();
    assert!(s.claim_jobs(t0() + Duration::minutes(3), lease, 10).await.unwrap().is_empty());
    s.fail_job(a2, "gave up", t0()).await.unwrap();
    assert_eq!(ids(s.claim_jobs(t0() + Duration::minutes(3), lease, 10).await.unwrap()), vec![a3]);
}

/// Reported changes to messages (reactions, edits, deletions, billing) and
/// the list of waiting and failed deliveries.
pub async fn messages_change_and_deliveries_list(s: Arc<dyn Storage>) {
    use ferry_core::message::{MessageChange, Pricing};
    let w = world(&*s, "Changes").await;
    let o = s.ingest(inbound(&w, "wamid.in", "u", "where is my parcel", t0()), opts(t0())).await.unwrap();
    let found = s.find_received_message(w.account, w.inbox, "wamid.in").await.unwrap().unwrap();
    assert_eq!(found.id, o.message.id);
    assert!(s.find_received_message(w.account, w.inbox, "wamid.other").await.unwrap().is_none());
    let buyer = Sender::Contact(o.conversation.contact_id);
    let react = |emoji: &str| MessageChange::React { emoji: emoji.into(), by: buyer, at: t0() };
    let m = s.change_message(w.account, o.message.id, react("👍"), t0()).await.unwrap().unwrap();
    assert_eq!(m.meta.reactions.len(), 1);
    assert!(s.change_message(w.account, o.message.id, react("👍"), t0()).await.unwrap().is_none(), "no change");
    let m = s.change_message(w.account, o.message.id, react("❤"), t0()).await.unwrap().unwrap();
    assert_eq!(m.meta.reactions.iter().map(|r| r.emoji.as_str()).collect::<Vec<_>>(), vec!["❤"]);
    let edit = MessageChange::Edit { parts: vec![ContentPart::Text { text: "where is order 1005".into() }], at: t0() };
    s.change_message(w.account, o.message.id, edit, t0()).await.unwrap().unwrap();
    assert_eq!(s.search_messages(w.account, "order 1005", 10).await.unwrap().len(), 1, "edits are searchable");
    let stored = s.get_message(w.account, o.message.id).await.unwrap().unwrap();
    assert_eq!((stored.text().as_str(), stored.meta.edited_at), ("where is order 1005", Some(t0())));
    let m = s.change_message(w.account, o.message.id, MessageChange::Delete { at: t0() }, t0()).await.unwrap().unwrap();
    assert!(m.parts.is_empty() && m.meta.deleted_at.is_some() && m.meta.reactions.len() == 1);
    assert!(s.search_messages(w.account, "1005", 10).await.unwrap().is_empty(), "deleted text is gone");

    let post = |text: &str| NewMessage {
        notice_send: None,
        conversation_id: o.conversation.id,
        kind: MessageKind::Outgoing,
        sender: Sender::User(w.agent),
        parts: vec![ContentPart::Text { text: text.into() }],
        delivery: Some(DeliveryStatus::Queued),
        now: t0(),
        transition: None,
        job: None,
        bot_state: None,
        describe: None,
    };
    let q1 = s.post_message(w.account, post("one")).await.unwrap().message.id;
    let q2 = s.post_message(w.account, post("two")).await.unwrap().message.id;
    let failed = DeliveryStatus::Failed { reason: "undeliverable (131026)".into() };
    s.update_delivery(w.account, q1, failed.clone(), None, t0()).await.unwrap().unwrap();
    let pricing =
        Pricing { billable: true, category: "service".into(), model: Some("PMP".into()), conversation_id: None };
    let m = s.change_message(w.account, q2, MessageChange::Pricing(pricing.clone()), t0()).await.unwrap().unwrap();
    assert_eq!(m.meta.pricing, Some(pricing));
    let list = |state: &'static str, before| {
        let s = s.clone();
        async move {
            s.list_deliveries(w.account, state, before, 10).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("failed", None).await, vec![q1]);
    assert_eq!(list("queued", None).await, vec![q2]);
    assert_eq!(list("queued", Some(q2)).await, Vec::<MessageId>::new());
    assert_eq!(list("sent", None).await, Vec::<MessageId>::new(), "only waiting and failed deliveries are listed");
    let other = world(&*s, "ChangesOther").await;
    assert!(s.list_deliveries(other.account, "failed", None, 10).await.unwrap().is_empty());
    assert_eq!(s.get_message(w.account, q1).await.unwrap().unwrap().delivery, Some(failed));
    // Retried by hand: queued again with a job in the conversation's lane.
    let job = NewJob {
        account_id: w.account,
        kind: "deliver_message".into(),
        payload: serde_json::json!({ "message_id": q1 }),
        run_at: t0(),
        max_attempts: 8,
        lane: Some("deliver:x".into()),
    };
    assert!(s.requeue_delivery(w.account, q2, job.clone(), t0()).await.unwrap().is_none(), "not failed");
    let m = s.requeue_delivery(w.account, q1, job.clone(), t0()).await.unwrap().unwrap();
    assert_eq!(m.delivery, Some(DeliveryStatus::Queued));
    assert!(list("failed", None).await.is_empty());
    assert!(s.requeue_delivery(w.account, q1, job, t0()).await.unwrap().is_none(), "already queued");
    let claimed = s.claim_jobs(t0(), Duration::seconds(30), 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.payload["message_id"].clone()).collect::<Vec<_>>(),
        vec![serde_json::json!(q1)]
    );
}

/// The outbox hands out each event until it is marked published.
pub async fn outbox_publishing(s: Arc<dyn Storage>) {
    let w = world(&*s, "Outbox").await;
    s.ingest(inbound(&w, "1", "u", "a", t0()), opts(t0())).await.unwrap();
    s.ingest(inbound(&w, "2", "u", "b", t0()), opts(t0())).await.unwrap();
    let upd =
        ConversationUpdate { jobs: Vec::new(), transition: Transition::Resolve, describe: no_describe(), now: t0() };
    let conv = s.list_conversations(w.account, &ConversationFilter::default(), None, 1).await.unwrap().items[0].id;
    s.update_conversation(w.account, conv, upd).await.unwrap();
    s.ingest(inbound(&w, "3", "u", "c", t0()), opts(t0())).await.unwrap();
    let ev = s.unpublished_events(None, 100).await.unwrap();
    assert_eq!(s.count_unpublished_events().await.unwrap(), 4);
    let names: Vec<_> = ev.iter().map(|e| e.event.name()).collect();
    assert_eq!(names, vec!["message_received", "message_received", "conversation_updated", "message_received"]);
    assert!(ev.windows(2).all(|p| p[0].id < p[1].id));
    match &ev[3].event {
        Event::MessageReceived { message, new_conversation, changes, .. } => {
            assert_eq!(message.text(), "c");
            assert!(!new_conversation);
            assert_eq!(changes, &vec![Change::Status { from: Status::Resolved, to: Status::Open }]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let after = s.unpublished_events(Some(ev[1].id), 100).await.unwrap();
    assert_eq!(after.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ev[2].id, ev[3].id]);
    s.mark_published(&ev[..2].iter().map(|e| e.id).collect::<Vec<_>>(), t0()).await.unwrap();
    assert_eq!(s.unpublished_events(None, 100).await.unwrap().len(), 2);
    assert_eq!(s.count_unpublished_events().await.unwrap(), 2);
    // Pruning removes published events before the cut-off, oldest first,
    // up to the limit; unpublished ones stay.
    assert_eq!(s.prune_published_events(t0(), 100).await.unwrap(), 0);
    assert_eq!(s.prune_published_events(t0() + Duration::days(8), 1).await.unwrap(), 1);
    assert_eq!(s.prune_published_events(t0() + Duration::days(8), 100).await.unwrap(), 1);
    assert_eq!(s.count_events(w.account).await.unwrap(), 2);
    assert_eq!(s.unpublished_events(None, 100).await.unwrap().len(), 2);
}

/// Every committed write hands its events to the commit sink, in order;
/// the outbox keeps only ids and changes, and the events rebuilt from it
/// equal those handed over. Failed writes hand over nothing.
pub async fn outbox_hands_over_and_hydrates(s: Arc<dyn Storage>) {
    let handed: Arc<std::sync::Mutex<Vec<Vec<ferry_core::event::EventEnvelope>>>> = Arc::default();
    let sink = handed.clone();
    let sink: CommitSink =
        Arc::new(move |events: Vec<ferry_core::event::EventEnvelope>| sink.lock().unwrap().push(events));
    s.hand_committed_events(Some(sink));
    let w = world(&*s, "Handed").await;
    let mut seen = None;
    // After each write: what was handed over is what the outbox rebuilds.
    macro_rules! check {
        ($($kind:expr),*) => {{
            let kinds: &[&str] = &[$($kind),*];
            let got: Vec<_> = std::mem::take(&mut *handed.lock().unwrap()).into_iter().flatten().collect();
            let names: Vec<_> = got.iter().map(|e| e.event.name()).collect();
            assert_eq!(names, kinds);
            let stored = s.unpublished_events(seen, 100).await.unwrap();
            assert_eq!(stored, got);
            seen = got.last().map(|e| e.id).or(seen);
        }};
    }
    let o = s.ingest(inbound(&w, "1", "u", "Where is my parcel?", t0()), opts(t0())).await.unwrap();
    check!("message_received");
    s.ingest(inbound(&w, "1", "u", "Where is my parcel?", t0()), opts(t0())).await.unwrap();
    check!();
    let upd = |transition| ConversationUpdate { jobs: Vec::new(), transition, describe: no_describe(), now: t0() };
    s.update_conversation(w.account, o.conversation.id, upd(Transition::Resolve)).await.unwrap();
    check!("conversation_updated");
    // Nothing changes, nothing is told.
    let _ = s.update_conversation(w.account, o.conversation.id, upd(Transition::Resolve)).await;
    check!();
    let posted = s
        .post_message(
            w.account,
            NewMessage {
                notice_send: None,
                conversation_id: o.conversation.id,
                kind: MessageKind::Outgoing,
                sender: Sender::User(w.agent),
                parts: vec![ContentPart::Text { text: "It left today".into() }],
                delivery: Some(DeliveryStatus::Queued),
                now: t0(),
                transition: None,
                job: None,
                bot_state: None,
                describe: None,
            },
        )
        .await
        .unwrap();
    check!("message_created");
    s.update_delivery(w.account, posted.message.id, DeliveryStatus::Sent, Some("ext-1".into()), t0()).await.unwrap();
    check!("message_updated");
    // Reopened by the buyer: the changes travel with the ids.
    s.ingest(inbound(&w, "2", "u", "Thanks, and the invoice?", t0()), opts(t0())).await.unwrap();
    let stored = s.unpublished_events(seen, 10).await.unwrap();
    check!("message_received");
    match &stored[0].event {
        Event::MessageReceived { changes, new_conversation, new_contact, .. } => {
            assert_eq!(changes, &vec![Change::Status { from: Status::Resolved, to: Status::Open }]);
            assert!(!new_conversation && !new_contact);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(seen.is_some());
    // Ids, flags and changes: a few dozen bytes an event, not the records.
    let size = s.outbox_size().await.unwrap();
    assert_eq!(size.rows, 5);
    assert!(size.payload_bytes / size.rows < 160, "{size:?}");
    s.hand_committed_events(None);
    s.ingest(inbound(&w, "3", "u", "Hello?", t0()), opts(t0())).await.unwrap();
    assert!(handed.lock().unwrap().is_empty(), "no sink, nothing handed over");
}

/// Canned responses: unique short codes per account, ordered listing,
/// patches, deletes, and no access across accounts.
pub async fn canned_responses_per_account(s: Arc<dyn Storage>) {
    let a = world(&*s, "A").await;
    let b = world(&*s, "B").await;
    let new = |code: &str, content: &str| NewCannedResponse { short_code: code.into(), content: content.into() };

    let thanks =
        s.create_canned_response(a.account, new("thanks", "Thank you, {{contact.name}}!"), t0()).await.unwrap();
    assert_eq!((thanks.account_id, thanks.short_code.as_str()), (a.account, "thanks"));
    assert_eq!((thanks.created_at, thanks.updated_at), (t0(), t0()));
    let hours = s.create_canned_response(a.account, new("hours", "9 to 5"), t0()).await.unwrap();
    assert_ne!(thanks.id, hours.id);

    match s.create_canned_response(a.account, new("thanks", "again"), t0()).await {
        Err(StorageError::Conflict { constraint }) => assert_eq!(constraint, "canned_responses.short_code"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The same short code is free in another account.
    let b_thanks = s.create_canned_response(b.account, new("thanks", "B's thanks"), t0()).await.unwrap();

    let listed = s.list_canned_responses(a.account).await.unwrap();
    assert_eq!(listed.iter().map(|c| c.short_code.as_str()).collect::<Vec<_>>(), ["hours", "thanks"]);
    assert_eq!(listed[1], thanks);
    assert_eq!(s.list_canned_responses(b.account).await.unwrap(), vec![b_thanks.clone()]);
    assert_eq!(s.get_canned_response(a.account, thanks.id).await.unwrap(), Some(thanks.clone()));
    assert_eq!(s.get_canned_response(b.account, thanks.id).await.unwrap(), None);
    assert_eq!(s.get_canned_response(a.account, CannedResponseId(987_654)).await.unwrap(), None);

    let later = t0() + Duration::minutes(5);
    let patched = s
        .update_canned_response(
            a.account,
            thanks.id,
            CannedResponsePatch { content: Some("Many thanks!".into()), short_code: None },
            later,
        )
        .await
        .unwrap();
    assert_eq!((patched.short_code.as_str(), patched.content.as_str()), ("thanks", "Many thanks!"));
    assert_eq!((patched.created_at, patched.updated_at), (t0(), later));
    assert_eq!(s.get_canned_response(a.account, thanks.id).await.unwrap(), Some(patched.clone()));
    let renamed = CannedResponsePatch { short_code: Some("hours".into()), content: None };
    assert!(matches!(
        s.update_canned_response(a.account, thanks.id, renamed, later).await,
        Err(StorageError::Conflict { constraint }) if constraint == "canned_responses.short_code"
    ));
    let foreign = CannedResponsePatch { content: Some("hijacked".into()), short_code: None };
    assert!(matches!(
        s.update_canned_response(b.account, thanks.id, foreign, later).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(s.delete_canned_response(b.account, thanks.id).await, Err(StorageError::NotFound)));
    assert_eq!(s.get_canned_response(a.account, thanks.id).await.unwrap(), Some(patched));

    s.delete_canned_response(a.account, thanks.id).await.unwrap();
    assert!(matches!(s.delete_canned_response(a.account, thanks.id).await, Err(StorageError::NotFound)));
    let left = s.list_canned_responses(a.account).await.unwrap();
    assert_eq!(left.iter().map(|c| c.id).collect::<Vec<_>>(), [hours.id]);
    assert_eq!(s.list_canned_responses(b.account).await.unwrap(), vec![b_thanks]);
}

/// Bot documents are versioned per account; the bot's state of a
/// conversation is written with its answer; intake enqueues the bot's job
/// only while the bot holds the conversation.
pub async fn bot_documents_states_and_jobs(s: Arc<dyn Storage>) {
    let a = world(&*s, "BotA").await;
    let b = world(&*s, "BotB").await;
    assert_eq!(s.get_bot_document(a.account).await.unwrap(), None);
    let doc = serde_json::json!({"languages": ["en"], "intents": []});
    assert_eq!(s.put_bot_document(a.account, doc.clone(), None, t0()).await.unwrap(), 1);
    for stale in [None, Some(7)] {
        match s.put_bot_document(a.account, doc.clone(), stale, t0()).await {
            Err(StorageError::Conflict { constraint }) => assert_eq!(constraint, "bot_documents.version"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    let later = t0() + Duration::minutes(1);
    let doc2 = serde_json::json!({"languages": ["en", "de"], "intents": [], "shop": {"name": "Ä"}});
    assert_eq!(s.put_bot_document(a.account, doc2.clone(), Some(1), later).await.unwrap(), 2);
    let stored = s.get_bot_document(a.account).await.unwrap().unwrap();
    assert_eq!((stored.document, stored.version, stored.updated_at), (doc2, 2, later));
    assert_eq!(s.get_bot_document(b.account).await.unwrap(), None);
    assert_eq!(s.bot_document_version(a.account).await.unwrap(), Some(2));
    assert_eq!(s.bot_document_version(b.account).await.unwrap(), None);

    // Intake: a bot job only for conversations the bot holds.
    let bot_opts = |now| IntakeOptions { bot_enabled: true, bot_job: Some("bot_reply"), ..opts(now) };
    let o = s.ingest(inbound(&a, "b1", "u", "wo ist meine Bestellung", t0()), bot_opts(t0())).await.unwrap();
    assert_eq!(o.conversation.status, Status::Bot);
    let jobs = s.claim_jobs(t0(), Duration::seconds(30), 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, "bot_reply");
    assert_eq!(jobs[0].payload["message_id"], serde_json::json!(o.message.id));
    assert_eq!(jobs[0].payload["conversation_id"], serde_json::json!(o.conversation.id));
    s.complete_job(jobs[0].id, t0()).await.unwrap();
    // A re-delivery enqueues nothing.
    s.ingest(inbound(&a, "b1", "u", "wo ist meine Bestellung", t0()), bot_opts(t0())).await.unwrap();
    let no_bot = s
        .ingest(inbound(&a, "b2", "v", "hello", t0()), IntakeOptions { bot_job: Some("bot_reply"), ..opts(t0()) })
        .await
        .unwrap();
    assert_eq!(no_bot.conversation.status, Status::Open);
    assert!(s.claim_jobs(later, Duration::seconds(30), 10).await.unwrap().is_empty());

    // State: written with the bot's answer, replaced, isolated.
    assert_eq!(s.get_bot_state(a.account, o.conversation.id).await.unwrap(), None);
    let state = serde_json::json!({"last_message_id": o.message.id.0, "turns": 1});
    s.post_message(
        a.account,
        NewMessage {
            notice_send: None,
            conversation_id: o.conversation.id,
            kind: MessageKind::Outgoing,
            sender: Sender::Bot,
            parts: vec![ContentPart::Text { text: "Ihre Bestellnummer?".into() }],
            delivery: Some(DeliveryStatus::Queued),
            now: later,
            transition: None,
            job: None,
            bot_state: Some(state.clone()),
            describe: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(s.get_bot_state(a.account, o.conversation.id).await.unwrap(), Some(state));
    let next = serde_json::json!({"turns": 2});
    s.put_bot_state(a.account, o.conversation.id, next.clone(), later).await.unwrap();
    assert_eq!(s.get_bot_state(a.account, o.conversation.id).await.unwrap(), Some(next));
    assert_eq!(s.get_bot_state(b.account, o.conversation.id).await.unwrap(), None);
    assert!(matches!(
        s.put_bot_state(b.account, o.conversation.id, serde_json::json!({}), later).await,
        Err(StorageError::NotFound)
    ));

    // A hand-off: the bot's last message, its state, the transition and
    // its activity lines in one write.
    let handed = serde_json::json!({"turns": 3});
    let describe: Describe = Box::new(|c| match c {
        Change::Status { .. } => Some("Bot handed off".into()),
        Change::Assignee { .. } => Some("Assigned".into()),
        _ => None,
    });
    let posted = s
        .post_message(
            a.account,
            NewMessage {
                notice_send: None,
                conversation_id: o.conversation.id,
                kind: MessageKind::Outgoing,
                sender: Sender::Bot,
                parts: vec![ContentPart::Text { text: "Gleich kommt jemand.".into() }],
                delivery: Some(DeliveryStatus::Queued),
                now: later,
                transition: Some(Transition::HandOff {
                    reason: "asked".into(),
                    team: None,
                    assignee: Some(a.agent),
                    language: None,
                }),
                job: None,
                bot_state: Some(handed.clone()),
                describe: Some(describe),
            },
        )
        .await
        .unwrap();
    assert_eq!((posted.conversation.status, posted.conversation.assignee_id), (Status::Open, Some(a.agent)));
    assert_eq!(posted.changes.len(), 2);
    assert_eq!(s.get_bot_state(a.account, o.conversation.id).await.unwrap(), Some(handed));
    let msgs = s.list_messages(a.account, o.conversation.id, None, 50).await.unwrap();
    let tail: Vec<_> = msgs.iter().rev().take(3).rev().map(|m| (m.kind, m.text())).collect();
    assert_eq!(
        tail,
        [
            (MessageKind::Outgoing, "Gleich kommt jemand.".to_owned()),
            (MessageKind::Activity, "Bot handed off".to_owned()),
            (MessageKind::Activity, "Assigned".to_owned()),
        ]
    );
}

fn shop_order(
    id: &str,
    number: &str,
    email: &str,
    phone: &str,
    updated: DateTime<Utc>,
    status: &str,
) -> ferry_commerce::Order {
    ferry_commerce::Order {
        external_id: id.into(),
        number: number.into(),
        name: format!("#{number}"),
        email: Some(email.into()),
        phone: Some(phone.into()),
        customer_external_id: Some("c1".into()),
        customer_name: Some("Ana Lima".into()),
        financial_status: status.into(),
        fulfillment_status: None,
        cancelled_at: None,
        cancel_reason: None,
        currency: "EUR".into(),
        total_minor: 4990,
        line_items: vec![ferry_commerce::LineItem {
            external_id: format!("{id}-1"),
            product_external_id: Some("p1".into()),
            variant_external_id: Some("v1".into()),
            sku: Some("TEE-M".into()),
            title: "Tee".into(),
            variant_title: Some("M".into()),
            quantity: 1,
            price_minor: 4990,
        }],
        shipping_address: None,
        created_at: t0(),
        updated_at: updated,
    }
}

/// The shop mirror: idempotent by webhook id, newest version wins whatever
/// the order of arrival, searchable by number, e-mail and phone, isolated
/// per account.
pub async fn shop_mirror_keeps_the_newest_and_searches(s: Arc<dyn Storage>) {
    use ferry_commerce::{Fulfillment, InventoryLevel, MirrorWrite, Refund};
    let a = world(&*s, "ShopA").await;
    let b = world(&*s, "ShopB").await;
    let new = |name: &str| NewShopConnection {
        platform: ShopPlatform::Shopify,
        name: name.into(),
        shop_domain: format!("{}.myshopify.com", name.to_lowercase()),
        secret: "app-secret".into(),
        api_url: None,
        access_token: None,
    };
    let ca = s.create_shop_connection(a.account, new("Alpha"), t0()).await.unwrap();
    let cb = s.create_shop_connection(b.account, new("Beta"), t0()).await.unwrap();
    assert_eq!(s.find_shop_connection(ca.id).await.unwrap(), Some(ca.clone()));
    assert_eq!(s.get_shop_connection(b.account, ca.id).await.unwrap(), None);
    assert_eq!(s.list_shop_connections(a.account).await.unwrap(), vec![ca.clone()]);

    let t1 = t0() + Duration::hours(1);
    let t2 = t0() + Duration::hours(2);
    let fulfillment = |id: &str, order: &str, status: &str, at| Fulfillment {
        external_id: id.into(),
        order_external_id: order.into(),
        status: status.into(),
        shipment_status: Some("in_transit".into()),
        carrier: Some("DHL".into()),
        tracking_number: Some("JJD000390007".into()),
        tracking_url: Some("https://track.test/JJD000390007".into()),
        estimated_delivery_at: None,
        created_at: t0(),
        updated_at: at,
    };
    let level = |item: &str, loc: &str, n: i64, at| InventoryLevel {
        inventory_item_id: item.into(),
        location_id: loc.into(),
        available: n,
        updated_at: at,
    };
    let first = vec![
        MirrorWrite::Order(Box::new(shop_order("o1", "1001", "ana@example.com", "+4915112345678", t1, "paid"))),
        MirrorWrite::Fulfillment(fulfillment("f1", "o1", "success", t1)),
        MirrorWrite::Refund(Refund {
            external_id: "r1".into(),
            order_external_id: "o1".into(),
            amount_minor: 990,
            note: None,
            created_at: t1,
        }),
        MirrorWrite::Inventory(level("i1", "l1", 4, t1)),
        MirrorWrite::Inventory(level("i1", "l2", 3, t1)),
    ];
    let out = s.apply_mirror_writes(a.account, ca.id, Some("wh-1".into()), first.clone(), t1).await.unwrap();
    assert_eq!(out, MirrorOutcome { duplicate: false, changed: 5 });
    let again = s.apply_mirror_writes(a.account, ca.id, Some("wh-1".into()), first, t1).await.unwrap();
    assert_eq!(again, MirrorOutcome { duplicate: true, changed: 0 });

    // Older versions lose; newer ones win; equal ones change nothing.
    let stale = vec![
        MirrorWrite::Order(Box::new(shop_order("o1", "1001", "ana@example.com", "+4915112345678", t0(), "pending"))),
        MirrorWrite::Fulfillment(fulfillment("f1", "o1", "pending", t0())),
        MirrorWrite::Inventory(level("i1", "l1", 99, t0())),
    ];
    let out = s.apply_mirror_writes(a.account, ca.id, Some("wh-0".into()), stale, t2).await.unwrap();
    assert_eq!(out, MirrorOutcome { duplicate: false, changed: 0 });
    assert_eq!(s.available_stock(a.account, ca.id, "i1").await.unwrap(), Some(7));
    let newer = vec![MirrorWrite::Inventory(level("i1", "l1", 0, t2))];
    assert_eq!(s.apply_mirror_writes(a.account, ca.id, None, newer, t2).await.unwrap().changed, 1);
    assert_eq!(s.available_stock(a.account, ca.id, "i1").await.unwrap(), Some(3));
    assert_eq!(s.available_stock(a.account, ca.id, "nope").await.unwrap(), None);

    // A fulfilment that arrives before its order.
    let early = vec![MirrorWrite::Fulfillment(fulfillment("f2", "o2", "success", t1))];
    s.apply_mirror_writes(a.account, ca.id, Some("wh-2".into()), early, t1).await.unwrap();
    let o2 = vec![MirrorWrite::Order(Box::new(shop_order("o2", "1002", "bo@example.com", "+14155550123", t2, "paid")))];
    s.apply_mirror_writes(a.account, ca.id, Some("wh-3".into()), o2, t2).await.unwrap();

    let found = s
        .search_orders(a.account, OrderQuery { q: Some("#1001".into()), limit: 10, ..OrderQuery::default() })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let o1 = &found[0];
    assert_eq!(o1.connection_id, ca.id);
    assert_eq!(o1.details.order.financial_status, "paid");
    assert_eq!(o1.details.fulfillments.len(), 1);
    assert_eq!(o1.details.fulfillments[0].status, "success");
    assert_eq!(o1.details.refunds[0].amount_minor, 990);
    assert_eq!(s.get_order(a.account, o1.id).await.unwrap().as_ref(), Some(o1));
    assert_eq!(s.get_order(b.account, o1.id).await.unwrap(), None);

    let q = |q: &str| OrderQuery { q: Some(q.into()), limit: 10, ..OrderQuery::default() };
    let numbers = |v: Vec<StoredOrder>| v.into_iter().map(|o| o.details.order.number).collect::<Vec<_>>();
    assert_eq!(numbers(s.search_orders(a.account, q("100")).await.unwrap()), ["1002", "1001"]);
    assert_eq!(numbers(s.search_orders(a.account, q("BO@EXAMPLE")).await.unwrap()), ["1002"]);
    assert_eq!(numbers(s.search_orders(a.account, q("4155550123")).await.unwrap()), ["1002"]);
    assert_eq!(numbers(s.search_orders(a.account, q("%")).await.unwrap()), Vec::<String>::new());
    let by_number = OrderQuery { number: Some("#1002".into()), limit: 10, ..OrderQuery::default() };
    let o2 = s.search_orders(a.account, by_number).await.unwrap();
    assert_eq!(o2[0].details.fulfillments.len(), 1, "the early fulfilment joins its order");
    let by_identity = OrderQuery {
        emails: vec!["ana@example.com".into()],
        phones: vec!["+14155550123".into()],
        limit: 10,
        ..OrderQuery::default()
    };
    assert_eq!(numbers(s.search_orders(a.account, by_identity.clone()).await.unwrap()), ["1002", "1001"]);
    assert!(s.search_orders(b.account, by_identity).await.unwrap().is_empty());
    // An order placed with another e-mail belongs to the shop customer
    // whose e-mail is the contact's.
    // Written as "#1003" by the shop: found by its number on both stores.
    let mut o3 = shop_order("o3", "#1003", "gift-for-ana@example.net", "+33612345678", t1, "paid");
    o3.customer_external_id = Some("cust-9".into());
    let customer = ferry_commerce::Customer {
        external_id: "cust-9".into(),
        email: Some("carla@example.com".into()),
        phone: None,
        name: "Carla".into(),
        updated_at: t1,
    };
    let w = vec![MirrorWrite::Order(Box::new(o3)), MirrorWrite::Customer(customer)];
    s.apply_mirror_writes(a.account, ca.id, None, w, t1).await.unwrap();
    let carla = OrderQuery { emails: vec!["carla@example.com".into()], limit: 10, ..OrderQuery::default() };
    assert_eq!(numbers(s.search_orders(a.account, carla.clone()).await.unwrap()), ["#1003"]);
    let by_number = OrderQuery { number: Some("1003".into()), limit: 10, ..OrderQuery::default() };
    assert_eq!(numbers(s.search_orders(a.account, by_number).await.unwrap()), ["#1003"]);
    assert!(s.search_orders(b.account, carla).await.unwrap().is_empty());
    assert!(s.search_orders(b.account, q("1001")).await.unwrap().is_empty());
    // Writing to another account's connection is refused.
    let w = vec![MirrorWrite::Inventory(level("i9", "l1", 1, t1))];
    assert!(matches!(s.apply_mirror_writes(b.account, ca.id, None, w, t1).await, Err(StorageError::NotFound)));
    // Nothing of account A's shop is visible through account B.
    assert_eq!(s.count_orders(b.account, ca.id).await.unwrap(), 0);
    assert_eq!(s.available_stock(b.account, ca.id, "i1").await.unwrap(), None);
    assert_eq!(s.count_orders(b.account, cb.id).await.unwrap(), 0);
}

/// Backfill cursors: one per (connection, resource), replaced in place,
/// invisible to and not writable by other accounts.
pub async fn shop_connections_are_updated_within_their_account(s: Arc<dyn Storage>) {
    let a = world(&*s, "EditA").await;
    let b = world(&*s, "EditB").await;
    let new = NewShopConnection {
        platform: ShopPlatform::Shopify,
        name: "Hooks only".into(),
        shop_domain: "edit.myshopify.com".into(),
        secret: "app-secret".into(),
        api_url: None,
        access_token: None,
    };
    let c = s.create_shop_connection(a.account, new, t0()).await.unwrap();
    let later = t0() + Duration::minutes(5);
    let patch = ShopConnectionPatch {
        name: None,
        api_url: Some(Some("https://edit.myshopify.com/admin/api/2024-01".into())),
        access_token: Some(Some("shpat_new".into())),
    };
    let u = s.update_shop_connection(a.account, c.id, patch.clone(), later).await.unwrap();
    assert_eq!(
        (u.name.as_str(), u.api_url.as_deref(), u.access_token.as_deref()),
        ("Hooks only", Some("https://edit.myshopify.com/admin/api/2024-01"), Some("shpat_new"))
    );
    assert_eq!((u.secret.as_str(), u.shop_domain.as_str()), ("app-secret", "edit.myshopify.com"), "untouched");
    // A rename keeps the API access; clearing the token keeps the URL.
    let u = s
        .update_shop_connection(
            a.account,
            c.id,
            ShopConnectionPatch {
                name: Some("Main shop".into()),
                access_token: Some(None),
                ..ShopConnectionPatch::default()
            },
            later,
        )
        .await
        .unwrap();
    assert_eq!((u.name.as_str(), u.api_url.is_some(), u.access_token.as_deref()), ("Main shop", true, None));
    assert_eq!(s.get_shop_connection(a.account, c.id).await.unwrap(), Some(u));
    // Another account's connection is not found, and not changed.
    assert!(matches!(s.update_shop_connection(b.account, c.id, patch, later).await, Err(StorageError::NotFound)));
    assert_eq!(s.get_shop_connection(a.account, c.id).await.unwrap().unwrap().access_token, None);
}

pub async fn shop_sync_state_resumes_per_resource(s: Arc<dyn Storage>) {
    let a = world(&*s, "SyncA").await;
    let b = world(&*s, "SyncB").await;
    let new = NewShopConnection {
        platform: ShopPlatform::Shopify,
        name: "Sync".into(),
        shop_domain: "sync.myshopify.com".into(),
        secret: "app-secret".into(),
        api_url: Some("https://sync.myshopify.com/admin/api/2024-01".into()),
        access_token: Some("shpat_x".into()),
    };
    let c = s.create_shop_connection(a.account, new, t0()).await.unwrap();
    assert_eq!(s.get_sync_state(a.account, c.id, "orders").await.unwrap(), None);
    let t1 = t0() + Duration::minutes(1);
    let state = |cursor: Option<&str>, done, fetched| ShopSyncState {
        resource: "orders".into(),
        cursor: cursor.map(str::to_owned),
        done,
        fetched,
        updated_at: t0(),
    };
    s.put_sync_state(a.account, c.id, state(Some("eyJsYXN0X2lkIjo0fQ"), false, 250), t1).await.unwrap();
    let got = s.get_sync_state(a.account, c.id, "orders").await.unwrap().unwrap();
    assert_eq!(got, ShopSyncState { updated_at: t1, ..state(Some("eyJsYXN0X2lkIjo0fQ"), false, 250) });
    assert_eq!(s.get_sync_state(a.account, c.id, "products").await.unwrap(), None);
    let t2 = t1 + Duration::minutes(1);
    s.put_sync_state(a.account, c.id, state(None, true, 480), t2).await.unwrap();
    let got = s.get_sync_state(a.account, c.id, "orders").await.unwrap().unwrap();
    assert_eq!(got, ShopSyncState { updated_at: t2, ..state(None, true, 480) });
    // Another account neither sees nor writes it.
    assert_eq!(s.get_sync_state(b.account, c.id, "orders").await.unwrap(), None);
    assert!(matches!(
        s.put_sync_state(b.account, c.id, state(Some("x"), false, 1), t2).await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(s.get_sync_state(a.account, c.id, "orders").await.unwrap().unwrap().fetched, 480);
    assert_eq!(s.count_orders(a.account, c.id).await.unwrap(), 0);
    assert_eq!(s.count_orders(b.account, c.id).await.unwrap(), 0);
}
