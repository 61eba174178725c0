//! The real `ferry-demo` program on a free port with a fresh data
//! directory, for the demo's end-to-end tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The demo process, stopped when the test ends however it ends.
pub struct Demo {
    child: Child,
    lines: HashMap<String, String>,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// Starts the demo and reads its `key: value` lines up to the last one
    /// it prints before serving.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // A file, not a pipe: nothing reads stderr while the demo runs.
        let log = dir.path().join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferry-demo"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env_remove("FERRY_CONFIG")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = HashMap::new();
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                let _ = child.wait();
                let err = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the demo stopped before serving: {lines:?}\n{err}");
            }
            if let Some((k, v)) = line.trim_end().split_once(": ") {
                lines.insert(k.to_owned(), v.to_owned());
            }
            if line.starts_with("demo shop with the chat widget:") {
                break;
            }
        }
        Self { child, lines, _dir: dir }
    }

    pub fn line(&self, key: &str) -> &str {
        self.lines.get(key).unwrap_or_else(|| panic!("no `{key}:` line in {:?}", self.lines))
    }

    /// (id, secret) of an inbox line.
    pub fn inbox(&self, key: &str) -> (i64, String) {
        let (id, secret) = self.line(key).split_once(' ').unwrap();
        (id.parse().unwrap(), secret.to_owned())
    }

    pub fn base(&self) -> String {
        let sink = self.line("mail_sink");
        sink[..sink.find("/sandbox/").unwrap()].to_owned()
    }
}
