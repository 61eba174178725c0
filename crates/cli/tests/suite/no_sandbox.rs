//! The server binary leaves the sandbox out: none of the stand-ins for
//! outside services can run in `ferry serve`. `ferry demo` runs the
//! sibling `ferry-demo` program instead, which has them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn demo_program() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_ferry")).with_file_name(format!("ferry-demo{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_server_binary_does_not_contain_the_sandbox() {
    let marker = ferry_sandbox::MARKER.as_bytes();
    let ferry = std::fs::read(env!("CARGO_BIN_EXE_ferry")).unwrap();
    assert!(!ferry.is_empty());
    assert!(!contains(&ferry, marker), "the ferry binary contains the sandbox");
    // The check can fail: the program that holds the sandbox shows the
    // marker (when it has been built beside `ferry`).
    if let Ok(demo) = std::fs::read(demo_program()) {
        assert!(contains(&demo, marker), "ferry-demo does not contain the sandbox marker");
    }
}

#[test]
fn ferry_demo_without_the_demo_program_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join(format!("ferry{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(env!("CARGO_BIN_EXE_ferry"), &alone).unwrap();
    let out = Command::new(&alone)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env_remove("FERRY_CONFIG")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cargo build -p ferry-demo"), "{err}");
}

#[test]
fn ferry_demo_runs_the_demo_program_with_the_same_arguments() {
    if !demo_program().is_file() {
        eprintln!("skipped: ferry-demo is not built beside ferry (cargo build -p ferry-demo)");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ferry")).args(["demo", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--data-dir") && help.contains("--listen"), "{help}");
}
