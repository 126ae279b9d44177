//! Helpers shared by the end-to-end test binaries.

use std::path::{Path, PathBuf};

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
