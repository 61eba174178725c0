//! A private Dovecot IMAP server for tests: Debian's `dovecot-imapd`,
//! started on a free loopback port with its configuration, users and
//! maildirs in a temporary folder, with a self-signed certificate so TLS
//! and STARTTLS are exercised too. Mail is delivered the way a mail server
//! would, with Dovecot's own `doveadm save`.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DOVECOT: &str = "/usr/sbin/dovecot";
const DOVEADM: &str = "/usr/bin/doveadm";
/// The unprivileged user mail is kept as (Dovecot refuses root).
const MAIL_UID: u32 = 65534;

/// A running Dovecot.
pub struct Dovecot {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Plain IMAP with STARTTLS offered.
    pub port: u16,
    /// IMAP over TLS.
    pub tls_port: u16,
    /// The certificate authority (self-signed certificate) in PEM.
    pub ca_pem: String,
    users: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

impl Dovecot {
    /// Starts a server with these users (login, password); `None` (with a
    /// message) where Dovecot is not installed, except under `CI=true`,
    /// where that is a failure.
    pub fn start(users: &[(&str, &str)]) -> Option<Self> {
        if !Path::new(DOVECOT).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "dovecot is not installed (apt-get install dovecot-imapd)"
            );
            eprintln!("skipped: dovecot is not installed (apt-get install dovecot-imapd)");
            return None;
        }
        // Setting the server up can only fail on a broken machine: say so
        // rather than skip.
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("folder permissions");
        for sub in ["mail", "home"] {
            let p = dir.path().join(sub);
            std::fs::create_dir_all(&p).expect("the mail folders");
            // Dovecot keeps mail as an unprivileged user (needs root here).
            std::os::unix::fs::chown(&p, Some(MAIL_UID), Some(MAIL_UID)).expect("the mail folders' owner");
        }
        let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a test certificate");
        let ca_pem = key.cert.pem();
        std::fs::write(dir.path().join("cert.pem"), &ca_pem).expect("the certificate file");
        std::fs::write(dir.path().join("key.pem"), key.signing_key.serialize_pem()).expect("the key file");
        let lines: String = users.iter().map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n")).collect();
        std::fs::write(dir.path().join("users"), lines).expect("the users file");
        let users = users.iter().map(|(u, _)| u.to_ascii_lowercase()).collect();
        let mut d = Self { dir, child: None, port: free_port(), tls_port: free_port(), ca_pem, users };
        std::fs::write(d.conf(), d.config()).expect("the configuration");
        d.run();
        Some(d)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    fn config(&self) -> String {
        let d = self.dir.path().display();
        format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             instance_name = ferry-test-{port}\nprotocols = imap\nlisten = 127.0.0.1\n\
             ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             mail_location = maildir:{d}/mail/%u\n\
             default_login_user = dovenull\ndefault_internal_user = dovecot\n\
             mail_uid = {MAIL_UID}\nmail_gid = {MAIL_UID}\nfirst_valid_uid = 1\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid={MAIL_UID} gid={MAIL_UID} home={d}/home/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
             \x20 inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls}\n    ssl = yes\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            port = self.port,
            tls = self.tls_port,
        )
    }

    fn run(&mut self) {
        let _ = std::fs::remove_file(self.dir.path().join("run/master.pid"));
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.conf())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("dovecot did not start: {e}"));
        self.child = Some(child);
        // Ready when both listeners accept.
        let deadline = Instant::now() + Duration::from_secs(20);
        while [self.port, self.tls_port].iter().any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err()) {
            assert!(Instant::now() < deadline, "dovecot did not listen: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (its mail stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new(DOVECOT).arg("-c").arg(self.conf()).arg("stop").status();
            let _ = child.kill();
            let _ = child.wait();
        }
        // Wait until the port is free again so a restart can bind it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops and starts the server on the same ports, keeping its mail.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    /// Delivers a raw message into a user's folder, as the mail server
    /// would.
    pub fn deliver(&self, user: &str, folder: &str, raw: &[u8]) {
        use std::io::Write;
        let mut child = Command::new(DOVEADM)
            .arg("-c")
            .arg(self.conf())
            .args(["save", "-u", user, "-m", folder])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("doveadm did not start: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(raw).unwrap_or_else(|e| panic!("doveadm save: {e}"));
        }
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("doveadm save: {e}"));
        assert!(out.status.success(), "doveadm save failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Delivers to `address` when it is one of this server's users; returns
    /// whether it was.
    pub fn deliver_if_user(&self, address: &str, folder: &str, raw: &[u8]) -> bool {
        let known = self.users.iter().any(|u| u.eq_ignore_ascii_case(address));
        if known {
            self.deliver(address, folder, raw);
        }
        known
    }

    /// Creates a folder for a user.
    pub fn create_folder(&self, user: &str, folder: &str) {
        let out = Command::new(DOVEADM)
            .arg("-c")
            .arg(self.conf())
            .args(["mailbox", "create", "-u", user, folder])
            .output()
            .unwrap_or_else(|e| panic!("doveadm: {e}"));
        assert!(out.status.success(), "doveadm mailbox create: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Gives a user's folder a new `UIDVALIDITY` (as after a mailbox
    /// rebuild on the server); the messages stay.
    pub fn change_uid_validity(&self, user: &str, folder: &str, validity: u32) {
        let out = Command::new(DOVEADM)
            .arg("-c")
            .arg(self.conf())
            .args(["mailbox", "update", "-u", user, "--uid-validity", &validity.to_string(), folder])
            .output()
            .unwrap_or_else(|e| panic!("doveadm: {e}"));
        assert!(out.status.success(), "doveadm mailbox update: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The server's log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}
