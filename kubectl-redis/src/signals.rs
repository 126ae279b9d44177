//! SIGINT, SIGTERM and SIGHUP, handled from the start of every command.
//!
//! A run that is changing something (a backup's or restore's state
//! machine, a drill) holds a [`Handled`] guard and winds down itself when
//! [`interrupted`] resolves. Anywhere else (downloading and decrypting a
//! backup before the restore begins, say) a signal removes the private
//! directories registered with [`register_private`] (plaintext copies)
//! and ends the process with 128 + the signal's number: before, the
//! default action killed it and left the plaintext behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use tokio::sync::watch;

static HANDLED: AtomicUsize = AtomicUsize::new(0);
static PRIVATE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static RECEIVED: OnceLock<watch::Sender<Option<i32>>> = OnceLock::new();

fn channel() -> &'static watch::Sender<Option<i32>> {
    RECEIVED.get_or_init(|| watch::channel(None).0)
}

/// While alive, signals are left to the holder (through [`interrupted`]).
pub struct Handled(());

impl Handled {
    pub fn new() -> Self {
        HANDLED.fetch_add(1, Ordering::SeqCst);
        Handled(())
    }
}

impl Drop for Handled {
    fn drop(&mut self) {
        HANDLED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Resolves once SIGINT, SIGTERM or SIGHUP arrives (at once if one already
/// has), with its number. Without [`watch_signals`] running, Ctrl-C only.
pub async fn interrupted() -> i32 {
    if RECEIVED.get().is_none() {
        let _ = tokio::signal::ctrl_c().await;
        return 2;
    }
    let mut rx = channel().subscribe();
    loop {
        if let Some(n) = *rx.borrow_and_update() {
            return n;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A directory holding plaintext, removed if a signal ends the process.
pub fn register_private(dir: &Path) {
    if let Ok(mut v) = PRIVATE.lock() {
        v.push(dir.to_path_buf());
    }
}

/// No longer to be removed on a signal (its owner removed it).
pub fn unregister_private(dir: &Path) {
    if let Ok(mut v) = PRIVATE.lock() {
        v.retain(|d| d != dir);
    }
}

/// Listens for the three signals for the rest of the process: started on
/// the runtime before the command runs.
#[cfg(unix)]
pub async fn watch_signals() {
    use tokio::signal::unix::{signal, SignalKind};
    let tx = channel();
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    loop {
        let n = tokio::select! {
            _ = int.recv() => libc::SIGINT,
            _ = term.recv() => libc::SIGTERM,
            _ = hup.recv() => libc::SIGHUP,
        };
        tx.send_replace(Some(n));
        if HANDLED.load(Ordering::SeqCst) == 0 {
            exit_now(n);
        }
    }
}

#[cfg(not(unix))]
pub async fn watch_signals() {
    let tx = channel();
    loop {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        tx.send_replace(Some(2));
        if HANDLED.load(Ordering::SeqCst) == 0 {
            exit_now(2);
        }
    }
}

/// Removes the registered private directories and exits 128 + `n`.
fn exit_now(n: i32) -> ! {
    let dirs: Vec<PathBuf> = PRIVATE.lock().map(|v| v.clone()).unwrap_or_default();
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    let removed = if dirs.is_empty() {
        String::new()
    } else {
        format!(
            "; removed {} private plaintext cop{}",
            dirs.len(),
            if dirs.len() == 1 { "y" } else { "ies" }
        )
    };
    eprintln!("interrupted (signal {n}){removed}");
    std::process::exit(128 + n)
}

/// Tells every holder of [`Handled`] to wind down as if signal `n` had
/// arrived (one archiver of several failed: the others stop too), without
/// ending the process.
pub fn stop_all(n: i32) {
    channel().send_replace(Some(n));
}
