//! `kubectl redis`: back up and restore Redis running in Kubernetes.
//!
//! The binary is a thin shell around `kubectl-redis-core`: it parses flags,
//! connects to the cluster like kubectl does, and performs the effects the
//! core's state machines ask for.

mod auth;
mod backup;
mod cli;
mod complete;
mod exec;
mod files;
mod inspect;
mod kube_ctx;
mod lease;
mod list;
mod ops;
mod rdbfile;
mod restore;
mod schedule;
mod status;
mod stream;
mod ui;
mod verify;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Completion (kubectl_complete-redis runs this): before clap parses, as
    // the words may be half typed.
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("__complete") {
        return complete::run(args.collect());
    }
    cli::run()
}
