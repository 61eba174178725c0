//! A local SMTP server that accepts every message and keeps it (headers
//! and body), speaking just enough SMTP for a client: greeting, EHLO/HELO,
//! MAIL, RCPT, DATA with dot-unstuffing, QUIT.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

type Store = Arc<Mutex<Vec<String>>>;

/// A running sink; stops accepting when dropped.
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    messages: Store,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(socket: tokio::net::TcpStream, store: Store) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let greeting = format!("220 sink ESMTP {}\r\n", crate::MARKER);
    if write.write_all(greeting.as_bytes()).await.is_err() {
        return;
    }
    let mut data: Option<String> = None;
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(body) = data.as_mut() {
            if line == "." {
                store.lock().unwrap_or_else(PoisonError::into_inner).push(std::mem::take(body));
                data = None;
                let _ = write.write_all(b"250 queued\r\n").await;
            } else {
                body.push_str(line.strip_prefix('.').unwrap_or(&line));
                body.push('\n');
            }
            continue;
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
            "DATA" => {
                data = Some(String::new());
                b"354 go on\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                break;
            }
            _ => b"250 ok\r\n",
        };
        let _ = write.write_all(reply).await;
    }
}

impl SmtpSink {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let messages: Store = Arc::default();
        let store = messages.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, store.clone()));
            }
        });
        Ok(Self { addr, messages, task })
    }

    /// The SMTP URL to send through this sink (lettre's form).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Messages received so far (headers and body).
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
