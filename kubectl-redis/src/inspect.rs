//! `kubectl redis inspect FILE`: what a backup holds, offline.

use crate::cli::{self, InspectArgs, Output};
use crate::rdbfile;
use crate::ui::Ui;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::inspect::{render, Inspector, Options};
use std::path::Path;

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
            match serde_json::to_string_pretty(&v) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    ui.error(&format!("cannot encode the report: {e}"), None);
                    return Exit::Error;
                }
            }
        }
        Output::Text => {
            println!("file       {}", args.file);
            print!("{}", render(&report, cli::unix_now()));
        }
    }
    Exit::Ok
}
