//! `ferry serve` keeps attachments in the S3 bucket its
//! `FERRY_ATTACHMENTS__S3_*` variables name (a real S3 server, `s3s-fs`,
//! started by the test), and refuses to start, saying why, when the bucket
//! is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_cli::config::{AttachmentsConfig, Config, Secret};
use ferry_storage::NewAccount;
use ferry_testkit::s3::{self, S3Server};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(dir: &Path, port: u16, s3: &S3Server, bucket: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferry"));
    c.arg("serve")
        .current_dir(dir)
        .env_remove("FERRY_CONFIG")
        .env_remove("FERRY_DATABASE_URL")
        .env("FERRY_DATA_DIR", dir)
        .env("FERRY_LISTEN", format!("127.0.0.1:{port}"))
        .env("FERRY_LOG", "warn")
        .env("FERRY_ATTACHMENTS__S3_ENDPOINT", s3.endpoint())
        .env("FERRY_ATTACHMENTS__S3_BUCKET", bucket)
        .env("FERRY_ATTACHMENTS__S3_ACCESS_KEY_ID", s3::ACCESS_KEY_ID)
        .env("FERRY_ATTACHMENTS__S3_SECRET_ACCESS_KEY", s3::SECRET_ACCESS_KEY)
        .env("FERRY_ATTACHMENTS__S3_ALLOW_HTTP", "true")
        .env("FERRY_ATTACHMENTS__S3_PATH_STYLE", "true")
        .stdout(Stdio::null());
    c
}

/// An owner's API token of a new account, written to the store before the
/// server starts (Ferry has no sign-up endpoint).
async fn seed(dir: &Path, s3: &S3Server) -> (i64, String) {
    let cfg = Config {
        database_url: Secret::default(),
        data_dir: Some(dir.to_path_buf()),
        attachments: AttachmentsConfig {
            s3_endpoint: s3.endpoint(),
            s3_bucket: s3::BUCKET.into(),
            s3_access_key_id: s3::ACCESS_KEY_ID.into(),
            s3_secret_access_key: s3::SECRET_ACCESS_KEY.into(),
            s3_allow_http: true,
            s3_path_style: true,
            ..AttachmentsConfig::default()
        },
        ..Config::default()
    };
    let storage = ferry_cli::open_storage(&cfg).await.unwrap();
    let node = ferry_cli::node(&cfg, storage).await.unwrap();
    let app = node.app.clone();
    let account =
        app.storage.create_account(NewAccount { name: "S3".into(), default_language: "en".into() }, app.clock.now());
    let account = account.await.unwrap();
    let new = ferry_app::NewAgent {
        name: "Owner".into(),
        email: "owner@s3.example".into(),
        password: "owner-password".into(),
        role: ferry_core::account::Role::Owner,
        languages: vec![],
    };
    let owner = app.create_user(account.id, new).await.unwrap();
    (account.id.0, app.issue_token(&owner, "s3 test").await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stores_attachments_in_the_configured_bucket() {
    let s3 = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (account, token) = seed(dir.path(), &s3).await;
    let port = free_port();
    let mut child = serve(dir.path(), port, &s3, s3::BUCKET).stderr(Stdio::inherit()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let start = Instant::now();
    while !http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(start.elapsed() < Duration::from_secs(20), "the server did not answer");
        assert!(child.try_wait().unwrap().is_none(), "the server stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Twice the default body limit: streamed to the bucket.
    let file: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..2_000_000u32).map(|i| (i % 251) as u8)).collect();
    let r = http
        .post(format!("{base}/api/v1/accounts/{account}/attachments"))
        .header("api_access_token", &token)
        .header("content-type", "application/pdf")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let att: serde_json::Value = r.json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, reqwest::StatusCode::CREATED, "{att}");
    let key = att["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let stored = std::fs::read(s3.root.path().join(s3::BUCKET).join(account.to_string()).join(key)).unwrap();
    assert!(stored == file, "the bucket holds the upload");
    assert!(!dir.path().join("attachments").join(account.to_string()).exists(), "nothing on the local disk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_without_its_bucket() {
    let s3 = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path(), free_port(), &s3, "no-such-bucket");
    let out = tokio::task::spawn_blocking(move || cmd.stderr(Stdio::piped()).output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("cannot use the S3 bucket for attachments"), "{stderr}");
    assert!(stderr.contains("the bucket does not exist"), "{stderr}");
    assert!(!stderr.contains(s3::SECRET_ACCESS_KEY), "{stderr}");
}
