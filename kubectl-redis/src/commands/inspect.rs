//! `kubectl redis inspect FILE`: what a backup holds, offline.

use crate::args::Output;
use crate::env;
use crate::store::rdbfile;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::rdb::inspect::{render, Inspector, Options};
use std::path::Path;

pub const LONG_ABOUT: &str = "Show what an RDB file holds, offline: format and server version, \
creation time, memory in use when saved, keys and expiries per database, a \
histogram of types and encodings, the biggest keys, and space by key prefix. \
Sizes are bytes in the file (compressed), not memory in Redis. The file is \
verified while it is read; a corrupt file is reported (exit 8).";

pub const AFTER_HELP: &str = "Examples:\n  kubectl redis inspect ./backups/redis-backup-20251024_180500.rdb\n  kubectl redis inspect dump.rdb --top 20 --prefix-sep :\n  kubectl redis inspect dump.rdb -o json | jq .dbs";

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The RDB file
    #[arg(value_name = "FILE")]
    pub file: String,
    /// How many of the biggest keys to list
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Group keys by the part before this separator, e.g. ':'
    #[arg(long, value_name = "SEP")]
    pub prefix_sep: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub fn run(ui: &Ui, args: InspectArgs) -> Exit {
    let mut i = Inspector::new(Options {
        top: args.top,
        prefix_sep: args.prefix_sep.clone(),
    });
    let checked = match rdbfile::check(Path::new(&args.file), true, &mut |e| i.on(&e)) {
        Ok(c) => c,
        Err(e) => {
            ui.error(
                &e,
                Some(
                    "give the path of an RDB file, e.g. ./backups/redis-backup-20251024_180500.rdb",
                ),
            );
            return Exit::Invalid;
        }
    };
    let summary = match checked.result {
        Ok(s) => s,
        Err(e) => {
            ui.error(
                &format!("{}: corrupt: {e}", args.file),
                Some("`kubectl redis verify` checks files; this one cannot be trusted"),
            );
            return Exit::Corrupt;
        }
    };
    let report = i.report(&summary);
    match args.output {
        Output::Json => {
            let mut v = match serde_json::to_value(&report) {
                Ok(v) => v,
                Err(e) => {
                    ui.error(&format!("cannot encode the report: {e}"), None);
                    return Exit::Error;
                }
            };
            if let Some(o) = v.as_object_mut() {
                o.insert("file".into(), args.file.clone().into());
                o.insert("sha256".into(), checked.sha256.into());
            }
            crate::output::print(ui, "InspectReport", v);
        }
        Output::Text => {
            println!("file       {}", args.file);
            print!("{}", render(&report, env::unix_now()));
        }
    }
    Exit::Ok
}
