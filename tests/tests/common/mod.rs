//! Helpers shared by the end-to-end test binaries.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The plugin binary built beside this test (`cargo build --workspace --bins`).
pub fn bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let b = dir.join("kubectl-redis");
    assert!(
        b.exists(),
        "{} missing: run `cargo build --workspace --bins` first",
        b.display()
    );
    b
}

/// Polls `f` every 100 ms until it holds; fails the test after `secs`,
/// naming `what`.
#[allow(dead_code)] // not every test binary waits
pub fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A new age identity file in `dir` and its public key (Debian's age-keygen).
#[allow(dead_code)] // not every test binary encrypts
pub fn age_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let p = dir.join(name);
    let st = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&p)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("age-keygen");
    assert!(st.success());
    let out = std::process::Command::new("age-keygen")
        .arg("-y")
        .arg(&p)
        .output()
        .expect("age-keygen -y");
    (p, String::from_utf8_lossy(&out.stdout).trim().to_string())
}
