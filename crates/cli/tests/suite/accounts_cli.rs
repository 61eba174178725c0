//! `ferry account create|list|suspend|unsuspend` as an operator runs it on
//! the server's database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn ferry(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .env("FERRY_DATABASE_URL", db)
        .env("FERRY_OWNER_PASSWORD", "owner-password-1")
        .env_remove("FERRY_CONFIG")
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn an_operator_creates_lists_and_suspends_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ferry.sqlite").display());
    let created = ferry(
        &db,
        &[
            "account",
            "create",
            "--name",
            "Lin Tea",
            "--time-zone",
            "Asia/Shanghai",
            "--language",
            "zh",
            "--language",
            "en",
            "--owner-email",
            "lin@tea.example",
            "--owner-name",
            "Lin",
        ],
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let out = text(&created);
    assert!(out.starts_with("1\tactive\tAsia/Shanghai\tzh,en\t1 users\tLin Tea"), "{out}");
    assert!(out.contains("owner "), "{out}");
    let taken =
        ferry(&db, &["account", "create", "--name", "Other", "--owner-email", "lin@tea.example", "--owner-name", "X"]);
    assert!(!taken.status.success(), "a taken e-mail");
    let bad = ferry(
        &db,
        &[
            "account",
            "create",
            "--name",
            "Other",
            "--time-zone",
            "Nowhere/Else",
            "--owner-email",
            "o@x.example",
            "--owner-name",
            "X",
        ],
    );
    assert!(!bad.status.success(), "an unknown time zone");

    let suspended = ferry(&db, &["account", "suspend", "1"]);
    assert!(suspended.status.success());
    assert!(text(&suspended).starts_with("1\tsuspended"), "{}", text(&suspended));
    let list = text(&ferry(&db, &["account", "list"]));
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains("\tsuspended\t"), "{list}");
    assert!(text(&ferry(&db, &["account", "unsuspend", "1"])).starts_with("1\tactive"));
    assert!(!ferry(&db, &["account", "suspend", "99"]).status.success(), "an unknown account");
}
