//! The demo program carries the sandbox (the `ferry` server binary must
//! not; crates/cli/tests/no_sandbox.rs checks that side).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_demo_program_contains_the_sandbox() {
    let marker = ferry_sandbox::MARKER.as_bytes();
    let demo = std::fs::read(env!("CARGO_BIN_EXE_ferry-demo")).unwrap();
    assert!(demo.windows(marker.len()).any(|w| w == marker));
}

#[test]
fn the_demo_program_explains_its_options() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry-demo")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--data-dir") && help.contains("bench"), "{help}");
}
