//! A small SMTP server for tests of the mail Ferry sends: STARTTLS and
//! implicit TLS with a self-signed certificate, `AUTH PLAIN` and `LOGIN`,
//! and delivery of each accepted message into a [`Dovecot`] mailbox (with
//! Dovecot's own delivery tool), so a test reads the buyer's mailbox over
//! IMAP as the buyer would. Faults on demand: the next messages refused
//! for now (451) or a recipient refused for good (550).

use crate::dovecot::Dovecot;
use base64::Engine;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Relayed {
    /// `MAIL FROM`.
    pub from: String,
    /// `RCPT TO`s.
    pub to: Vec<String>,
    /// The raw message.
    pub raw: String,
    /// Whether it came over TLS.
    pub secure: bool,
    /// The login used, if any.
    pub login: Option<String>,
}

#[derive(Default)]
struct Shared {
    accepted: Vec<Relayed>,
    fail_next: usize,
    refuse: Vec<String>,
}

/// A running relay.
pub struct MailRelay {
    /// Plain SMTP with STARTTLS offered.
    pub addr: SocketAddr,
    /// SMTP over TLS.
    pub tls_addr: SocketAddr,
    /// The certificate authority to trust (PEM).
    pub ca_pem: String,
    shared: Arc<Mutex<Shared>>,
}

#[derive(Clone)]
struct Setup {
    shared: Arc<Mutex<Shared>>,
    acceptor: TlsAcceptor,
    credentials: Option<(String, String)>,
    dovecot: Option<Arc<Dovecot>>,
}

impl MailRelay {
    /// Starts the relay. With `credentials`, senders must log in; with
    /// `dovecot`, mail for its users is delivered there.
    pub async fn start(credentials: Option<(&str, &str)>, dovecot: Option<Arc<Dovecot>>) -> Self {
        let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let ca_pem = key.cert.pem();
        let cert = rustls::pki_types::CertificateDer::from(key.cert.der().to_vec());
        let private = rustls::pki_types::PrivateKeyDer::try_from(key.signing_key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], private)
            .unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let setup = Setup {
            shared: shared.clone(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
            dovecot,
        };
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let implicit = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (addr, tls_addr) = (plain.local_addr().unwrap(), implicit.local_addr().unwrap());
        let s = setup.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = plain.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    if let Next::StartTls(socket) = converse(socket, &s, false, true).await
                        && let Ok(tls) = s.acceptor.accept(socket).await
                    {
                        converse(tls, &s, true, false).await;
                    }
                });
            }
        });
        tokio::spawn(async move {
            while let Ok((socket, _)) = implicit.accept().await {
                let s = setup.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = s.acceptor.accept(socket).await {
                        converse(tls, &s, true, true).await;
                    }
                });
            }
        });
        Self { addr, tls_addr, ca_pem, shared }
    }

    /// Messages accepted so far.
    pub fn accepted(&self) -> Vec<Relayed> {
        self.shared.lock().unwrap().accepted.clone()
    }

    /// Refuses the next `n` messages with a temporary error (451).
    pub fn fail_next(&self, n: usize) {
        self.shared.lock().unwrap().fail_next = n;
    }

    /// Refuses mail to `address` for good (550).
    pub fn refuse(&self, address: &str) {
        self.shared.lock().unwrap().refuse.push(address.to_ascii_lowercase());
    }
}

enum Next<S> {
    Done,
    StartTls(S),
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn angle(arg: &str) -> String {
    let a = arg.split_once(':').map_or(arg, |(_, a)| a).trim();
    a.split_whitespace().next().unwrap_or("").trim_matches(['<', '>']).to_ascii_lowercase()
}

async fn converse<S: AsyncRead + AsyncWrite + Unpin>(stream: S, s: &Setup, secure: bool, greet: bool) -> Next<S> {
    let mut io = BufReader::new(stream);
    if greet && io.get_mut().write_all(b"220 relay.test ESMTP\r\n").await.is_err() {
        return Next::Done;
    }
    let (mut from, mut to, mut login) = (String::new(), Vec::new(), None::<String>);
    loop {
        let mut line = String::new();
        match io.read_line(&mut line).await {
            Ok(0) | Err(_) => return Next::Done,
            Ok(_) => {}
        }
        let line = line.trim_end().to_owned();
        let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" => {
                let mut r = String::from("250-relay.test\r\n250-8BITMIME\r\n");
                if !secure {
                    r.push_str("250-STARTTLS\r\n");
                }
                if secure {
                    r.push_str("250-AUTH PLAIN LOGIN\r\n");
                }
                r + "250 SIZE 36700160\r\n"
            }
            "STARTTLS" if !secure => {
                let _ = io.get_mut().write_all(b"220 go ahead\r\n").await;
                return Next::StartTls(io.into_inner());
            }
            "AUTH" => {
                let (mech, initial) = arg.split_once(' ').unwrap_or((arg, ""));
                let (user, pass) = match mech.to_ascii_uppercase().as_str() {
                    "PLAIN" => {
                        let data = if initial.is_empty() { ask(&mut io, "334 \r\n").await } else { initial.to_owned() };
                        let parts: Vec<String> = b64(&data).split('\0').map(str::to_owned).collect();
                        (parts.get(1).cloned().unwrap_or_default(), parts.get(2).cloned().unwrap_or_default())
                    }
                    "LOGIN" => {
                        let user = b64(&ask(&mut io, "334 VXNlcm5hbWU6\r\n").await);
                        let pass = b64(&ask(&mut io, "334 UGFzc3dvcmQ6\r\n").await);
                        (user, pass)
                    }
                    _ => (String::new(), String::new()),
                };
                if s.credentials.as_ref().is_some_and(|(u, p)| *u == user && *p == pass) {
                    login = Some(user);
                    "235 2.7.0 authenticated\r\n".into()
                } else {
                    "535 5.7.8 authentication failed\r\n".into()
                }
            }
            "MAIL" if s.credentials.is_some() && login.is_none() => "530 5.7.0 authentication required\r\n".into(),
            "MAIL" => {
                from = angle(arg);
                to.clear();
                "250 ok\r\n".into()
            }
            "RCPT" => {
                let rcpt = angle(arg);
                if s.shared.lock().unwrap().refuse.contains(&rcpt) {
                    "550 5.1.1 no such user\r\n".into()
                } else {
                    to.push(rcpt);
                    "250 ok\r\n".into()
                }
            }
            "DATA" if to.is_empty() => "554 no valid recipients\r\n".into(),
            "DATA" => {
                let failing = {
                    let mut g = s.shared.lock().unwrap();
                    let f = g.fail_next > 0;
                    g.fail_next = g.fail_next.saturating_sub(1);
                    f
                };
                if io.get_mut().write_all(b"354 end with .\r\n").await.is_err() {
                    return Next::Done;
                }
                let mut raw = String::new();
                loop {
                    let mut l = String::new();
                    match io.read_line(&mut l).await {
                        Ok(0) | Err(_) => return Next::Done,
                        Ok(_) => {}
                    }
                    if l.trim_end_matches(['\r', '\n']) == "." {
                        break;
                    }
                    raw.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                if failing {
                    "451 4.3.0 try again later\r\n".into()
                } else {
                    if let Some(d) = &s.dovecot {
                        for rcpt in &to {
                            d.deliver_if_user(rcpt, "INBOX", raw.as_bytes());
                        }
                    }
                    let relayed =
                        Relayed { from: from.clone(), to: std::mem::take(&mut to), raw, secure, login: login.clone() };
                    s.shared.lock().unwrap().accepted.push(relayed);
                    "250 2.0.0 queued\r\n".into()
                }
            }
            "QUIT" => {
                let _ = io.get_mut().write_all(b"221 bye\r\n").await;
                return Next::Done;
            }
            _ => "250 ok\r\n".into(),
        };
        if io.get_mut().write_all(reply.as_bytes()).await.is_err() {
            return Next::Done;
        }
    }
}

async fn ask<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, prompt: &str) -> String {
    let _ = io.get_mut().write_all(prompt.as_bytes()).await;
    let mut l = String::new();
    let _ = io.read_line(&mut l).await;
    l.trim_end().to_owned()
}
