//! Attachments in an S3-compatible bucket, against a real S3 server
//! (`s3s-fs`, started by the test on a random port): large files streamed
//! in and out through the API, files shared by the nodes of one deployment,
//! and clear errors for a wrong bucket, key or endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_app::attachments::{AttachmentError, AttachmentStore, ObjectAttachments};
use ferry_core::AccountId;
use ferry_testkit::s3::{BUCKET, S3Server};
use ferry_testkit::*;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

on_both!(large_files_stream_through_the_api_into_the_bucket);

mod nodes {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_file_uploaded_through_one_node_downloads_through_another().await
    }
}

const MIB: usize = 1024 * 1024;

/// `len` bytes of a PDF that do not repeat (so no layer can shortcut them).
fn pdf(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut bytes = b"%PDF-1.7\n".to_vec();
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// The files the bucket holds under `prefix`, as paths relative to it.
fn objects(s3: &S3Server, prefix: &str) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let base = s3.root.path().join(BUCKET);
    let mut out = Vec::new();
    walk(&base.join(prefix), &base, &mut out);
    // s3s-fs keeps its own metadata beside objects.
    out.retain(|p| !p.contains(".s3s"));
    out.sort();
    out
}

/// Uploads `chunks` as a body of unknown length (chunked), as a browser
/// streaming a large file may.
async fn upload_chunked(app: &TestApp, t: &Tenant, ct: &str, chunks: Vec<Vec<u8>>) -> (StatusCode, Value) {
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let r = app
        .http
        .post(format!("{}{}/attachments?filename=big.pdf", app.base, acct(t)))
        .header("api_access_token", &t.agent_token)
        .header("content-type", ct)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn download(app: &TestApp, t: &Tenant, url: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let r = app.http.get(format!("{}{url}", app.base)).header("api_access_token", &t.owner_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    let headers = r.headers().clone();
    // Read as a stream, chunk by chunk, as a client of a large file would.
    let mut body = r.bytes_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    (headers, bytes)
}

async fn large_files_stream_through_the_api_into_the_bucket(b: Backend) {
    let s3 = S3Server::start().await;
    let opts = SpawnOptions {
        attachments: Some(Arc::new(s3.client())),
        max_attachment_bytes: (12 * MIB) as u64,
        ..SpawnOptions::new(b)
    };
    let Some(app) = spawn_with(opts).await else { return };
    let t = app.tenant("Big Files").await;

    // Ten MiB, far above the 1 MiB request body limit: streamed in, and
    // sent to S3 as a multipart upload (parts of 5 MiB).
    let file = pdf(10 * MIB, 7);
    let r = app
        .post_bytes(
            &format!("{}/attachments?filename=manual.pdf", acct(&t)),
            &t.agent_token,
            "application/pdf",
            file.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["size"].as_u64(), Some(file.len() as u64));
    assert_eq!(r.json["content_type"], "application/pdf");
    let url = r.json["url"].as_str().unwrap().to_owned();
    let key = url.rsplit('/').next().unwrap().to_owned();

    // In the bucket under the account, with its type; nothing left behind.
    let account = t.account.to_string();
    assert_eq!(objects(&s3, &account), [format!("{account}/{key}"), format!("{account}/{key}.type")]);
    let stored = std::fs::read(s3.root.path().join(BUCKET).join(&account).join(&key)).unwrap();
    assert!(stored == file, "the bucket holds the bytes sent");
    assert!(objects(&s3, "incoming").is_empty(), "{:?}", objects(&s3, "incoming"));

    let (headers, bytes) = download(&app, &t, &url).await;
    assert!(bytes == file, "the download is the upload ({} bytes of {})", bytes.len(), file.len());
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["content-length"], file.len().to_string().as_str());
    assert_eq!(headers["content-disposition"], "attachment");

    // The same bytes again, this time of unknown length: the same key, one
    // copy.
    let chunks: Vec<Vec<u8>> = file.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    let (status, again) = upload_chunked(&app, &t, "application/pdf", chunks).await;
    assert_eq!(status, StatusCode::CREATED, "{again:?}");
    assert_eq!(again["url"], url.as_str());
    assert_eq!(objects(&s3, &account).len(), 2);
    assert!(objects(&s3, "incoming").is_empty());

    // Past the limit: refused whether the length is declared up front or
    // only found while streaming; nothing is kept.
    let too_big = pdf(12 * MIB + 1, 9);
    let r =
        app.post_bytes(&format!("{}/attachments", acct(&t)), &t.agent_token, "application/pdf", too_big.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    let chunks: Vec<Vec<u8>> = too_big.chunks(256 * 1024).map(<[u8]>::to_vec).collect();
    let (status, e) = upload_chunked(&app, &t, "application/pdf", chunks).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    assert_eq!(objects(&s3, &account).len(), 2);
    assert!(objects(&s3, "incoming").is_empty(), "{:?}", objects(&s3, "incoming"));

    // The type is still judged from the bytes: a page is refused before
    // anything is stored.
    let page = b"<!DOCTYPE html><script>alert(1)</script>".repeat(200);
    let (status, e) = upload_chunked(&app, &t, "application/pdf", vec![page]).await;
    assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")));

    // Files that channels deliver whole land in the same bucket.
    let small = app.app.attachments.put(t.account, b"%PDF-1.4 receipt".to_vec(), "application/pdf").await.unwrap();
    assert!(objects(&s3, &account).contains(&format!("{account}/{small}")));
    let (bytes, ct) = app.app.attachments.get(t.account, &small).await.unwrap().unwrap();
    assert_eq!((bytes.as_slice(), ct.as_str()), (b"%PDF-1.4 receipt".as_slice(), "application/pdf"));
}

async fn a_file_uploaded_through_one_node_downloads_through_another() {
    let s3 = S3Server::start().await;
    let opts = |b| SpawnOptions {
        attachments: Some(Arc::new(s3.client())),
        max_attachment_bytes: (4 * MIB) as u64,
        ..SpawnOptions::new(b)
    };
    let Some(a) = spawn_with(opts(Backend::Postgres)).await else { return };
    // Node B: its own pool on the same database, its own S3 client.
    let b = a.spawn_peer(opts(Backend::Postgres)).await;
    let t = a.tenant("Two Nodes").await;

    let file = pdf(3 * MIB, 11);
    let r = a
        .post_bytes(
            &format!("{}/attachments?filename=a.pdf", acct(&t)),
            &t.agent_token,
            "application/pdf",
            file.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let url = r.json["url"].as_str().unwrap().to_owned();
    let (_, bytes) = download(&b, &t, &url).await;
    assert!(bytes == file, "node B serves what node A stored");

    // And the other way round, with an image shown in place.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let r = b.post_bytes(&format!("{}/attachments", acct(&t)), &t.agent_token, "image/png", png.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let (headers, bytes) = download(&a, &t, r.json["url"].as_str().unwrap()).await;
    assert_eq!(
        (bytes, &headers["content-disposition"]),
        (png, &"inline".parse::<reqwest::header::HeaderValue>().unwrap())
    );
}

#[tokio::test]
async fn a_wrong_bucket_key_or_endpoint_is_a_clear_error() {
    let s3 = S3Server::start().await;
    assert!(s3.client().check().await.is_ok());

    let missing =
        ObjectAttachments::s3(&ferry_app::attachments::S3Settings { bucket: "no-such-bucket".into(), ..s3.settings() })
            .unwrap();
    let e = missing.check().await.unwrap_err().to_string();
    assert!(e.contains("bucket does not exist"), "{e}");

    let wrong =
        ferry_app::attachments::S3Settings { secret_access_key: "not-the-secret".to_owned().into(), ..s3.settings() };
    let wrong = ObjectAttachments::s3(&wrong).unwrap();
    let e = wrong.check().await.unwrap_err().to_string();
    assert!(e.contains("credentials were refused"), "{e}");
    // On use as well: an error, not a panic.
    let e = wrong.put(AccountId(1), b"%PDF-1.4".to_vec(), "application/pdf").await.unwrap_err();
    assert!(matches!(e, AttachmentError::Store(_)), "{e}");

    // Nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gone = ObjectAttachments::s3(&ferry_app::attachments::S3Settings { endpoint, ..s3.settings() }).unwrap();
    let e = gone.check().await.unwrap_err().to_string();
    assert!(e.contains("it does not answer"), "{e}");

    let e =
        ObjectAttachments::s3(&ferry_app::attachments::S3Settings { bucket: " ".into(), ..s3.settings() }).unwrap_err();
    assert!(e.to_string().contains("no S3 bucket"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_bucket_refuses_answers_uploads_with_a_server_error() {
    let s3 = S3Server::start().await;
    let wrong =
        ferry_app::attachments::S3Settings { secret_access_key: "not-the-secret".to_owned().into(), ..s3.settings() };
    let opts = SpawnOptions {
        attachments: Some(Arc::new(ObjectAttachments::s3(&wrong).unwrap())),
        ..SpawnOptions::new(Backend::Sqlite)
    };
    let app = spawn_with(opts).await.unwrap();
    let t = app.tenant("Refused").await;
    let r =
        app.post_bytes(&format!("{}/attachments", acct(&t)), &t.agent_token, "application/pdf", pdf(100_000, 3)).await;
    assert_eq!((r.status, r.code()), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
    let r = app.get(&format!("{}/attachments/{}", acct(&t), "a".repeat(64)), &t.owner_token).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
}
