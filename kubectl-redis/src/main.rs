//! `kubectl redis`: back up and restore Redis running in Kubernetes.
//!
//! The binary is a thin shell around `kubectl-redis-core`: it parses flags,
//! connects to the cluster like kubectl does, and performs the effects the
//! core's state machines ask for. `ARCHITECTURE.md` maps the modules.

mod archive;
mod args;
mod audit;
mod cli;
mod commands;
mod complete;
#[cfg(test)]
mod doc_commands;
mod env;
mod jobs;
mod keys;
mod kube;
mod metrics;
mod output;
mod redis;
mod sanitize;
mod signals;
mod store;
mod ui;

use std::process::ExitCode;

fn main() -> ExitCode {
    default_sigpipe();
    // kube-rs and object_store's reqwest bring two rustls providers (ring,
    // aws-lc-rs); rustls then needs one chosen for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Completion (kubectl_complete-redis runs this): before clap parses, as
    // the words may be half typed.
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("__complete") {
        return complete::run(cli::command(), args.collect());
    }
    cli::run()
}

/// Output piped into `head` or `jq` that stops reading ends the process
/// quietly, as other Unix tools do (Rust ignores SIGPIPE, and `println!`
/// would panic on the closed pipe).
#[cfg(unix)]
fn default_sigpipe() {
    // SAFETY: sets the default action for one signal before any other thread
    // exists; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn default_sigpipe() {}
