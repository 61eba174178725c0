//! A real S3-compatible server for tests: `s3s-fs` (an S3 protocol
//! implementation over a directory) served in-process on a random port,
//! with signature checking on and one bucket made. Ferry's S3 client talks
//! to it over HTTP exactly as it would to MinIO or AWS.

use ferry_app::attachments::{ObjectAttachments, S3Settings};
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::net::SocketAddr;

/// The access key id the server accepts.
pub const ACCESS_KEY_ID: &str = "FERRYTESTACCESSKEY";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "ferry-test-secret-access-key";
/// The bucket made at start.
pub const BUCKET: &str = "ferry-attachments";

/// A running S3 server; stops when dropped.
pub struct S3Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The directory it keeps buckets in (one sub-directory each).
    pub root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    /// Starts a server with the bucket [`BUCKET`].
    pub async fn start() -> S3Server {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY_ID, SECRET_ACCESS_KEY.to_owned()));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let conn =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), service);
                    let _ = conn.await;
                });
            }
        });
        S3Server { addr, root, task }
    }

    /// `http://addr`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Settings that reach the bucket.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: self.endpoint(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            access_key_id: ACCESS_KEY_ID.into(),
            secret_access_key: SECRET_ACCESS_KEY.to_owned().into(),
            allow_http: true,
            path_style: true,
        }
    }

    /// A new client of the bucket (each node has its own).
    pub fn client(&self) -> ObjectAttachments {
        ObjectAttachments::s3(&self.settings()).unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
