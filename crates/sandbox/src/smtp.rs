//! A local SMTP server that accepts every message and keeps it (headers
//! and body, with the envelope and the time it came), speaking just enough
//! SMTP for a client: greeting, EHLO/HELO, MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, QUIT. It keeps the most recent messages only
//! ([`SmtpSink::KEPT`]), so a long-running demo does not grow without end.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// When the sink accepted it.
    pub received_at: DateTime<Utc>,
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub envelope_from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub envelope_to: Vec<String>,
    /// The message as received (headers and body, dot-unstuffed, lines
    /// ending in `\n`).
    pub raw: String,
}

type Store = Arc<Mutex<VecDeque<ReceivedMail>>>;

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

/// The address of a `MAIL FROM:<a>` or `RCPT TO:<a>` line, if it is one.
fn path_of(line: &str, verb: &str) -> Option<String> {
    let head = line.get(..verb.len())?;
    if !head.eq_ignore_ascii_case(verb) {
        return None;
    }
    let rest = line[verb.len()..].trim_start();
    let inner = match rest.strip_prefix('<') {
        Some(r) => r.split('>').next().unwrap_or(""),
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    Some(inner.to_owned())
}

async fn session(socket: tokio::net::TcpStream, store: Store) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let greeting = format!("220 sink ESMTP {}\r\n", crate::MARKER);
    if write.write_all(greeting.as_bytes()).await.is_err() {
        return;
    }
    let mut from = String::new();
    let mut to = Vec::new();
    let mut data: Option<String> = None;
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(body) = data.as_mut() {
            if line == "." {
                let mail = ReceivedMail {
                    received_at: Utc::now(),
                    envelope_from: std::mem::take(&mut from),
                    envelope_to: std::mem::take(&mut to),
                    raw: std::mem::take(body),
                };
                {
                    let mut kept = store.lock().unwrap_or_else(PoisonError::into_inner);
                    if kept.len() >= SmtpSink::KEPT {
                        kept.pop_front();
                    }
                    kept.push_back(mail);
                }
                data = None;
                let _ = write.write_all(b"250 queued\r\n").await;
            } else {
                body.push_str(line.strip_prefix('.').unwrap_or(&line));
                body.push('\n');
            }
            continue;
        }
        if let Some(a) = path_of(&line, "MAIL FROM:") {
            from = a;
        } else if let Some(a) = path_of(&line, "RCPT TO:") {
            to.push(a);
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
            "DATA" => {
                data = Some(String::new());
                b"354 go on\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 ok\r\n"
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
    /// How many messages are kept; older ones are forgotten first.
    pub const KEPT: usize = 500;

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

    /// Messages received so far (headers and body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        self.received().into_iter().map(|m| m.raw).collect()
    }

    /// Messages received so far with their envelopes, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.messages.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn envelope_paths_are_read_with_or_without_brackets() {
        assert_eq!(path_of("MAIL FROM:<shop@example.com> SIZE=12", "MAIL FROM:").as_deref(), Some("shop@example.com"));
        assert_eq!(path_of("rcpt to: buyer@example.net", "RCPT TO:").as_deref(), Some("buyer@example.net"));
        assert_eq!(path_of("RCPT TO:<buyer@example.net>", "MAIL FROM:"), None);
        assert_eq!(path_of("MAIL", "MAIL FROM:"), None);
    }

    #[tokio::test]
    async fn a_message_is_kept_with_its_envelope() {
        let sink = SmtpSink::start().await.unwrap();
        let mut s = tokio::net::TcpStream::connect(sink.addr).await.unwrap();
        s.write_all(
            b"EHLO c\r\nMAIL FROM:<shop@example.com>\r\nRCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\n\
              DATA\r\nSubject: hi\r\n\r\n..dotted\r\n.\r\nQUIT\r\n",
        )
        .await
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.contains("250 queued") && answer.ends_with("221 bye\r\n"), "{answer}");
        let got = sink.received();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].envelope_from, "shop@example.com");
        assert_eq!(got[0].envelope_to, ["a@example.net", "b@example.net"]);
        assert_eq!(got[0].raw, "Subject: hi\n\n.dotted\n");
        assert_eq!(sink.messages(), [got[0].raw.clone()]);
    }
}
