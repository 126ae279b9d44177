//! `kubectl redis inspect FILE`: what a backup holds, offline.

use crate::args::Output;
use crate::env;
use crate::store::source::{self, ReadFail, Source};
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::rdb::inspect::{render, Inspector, Options};

pub const LONG_ABOUT: &str = "Show what an RDB file holds, offline: format and server version, \
creation time, memory in use when saved, keys and expiries per database, a \
histogram of types and encodings, the biggest keys, and space by key prefix. \
Sizes are bytes in the file (compressed), not memory in Redis. The file is \
verified while it is read; a corrupt file is reported (exit 8).";

pub const AFTER_HELP: &str = "Examples:\n  kubectl redis inspect ./backups/redis-backup-20251024_180500.rdb\n  kubectl redis inspect dump.rdb --top 20 --prefix-sep :\n  kubectl redis inspect dump.rdb -o json | jq .dbs";

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://); age files need --identity
    #[arg(value_name = "FILE|URL")]
    pub file: String,
    #[command(flatten)]
    pub keys: crate::keys::KeyArgs,
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

pub async fn run(ui: &Ui, kube: &crate::args::KubeArgs, args: InspectArgs) -> Exit {
    let i = Inspector::new(Options {
        top: args.top,
        prefix_sep: args.prefix_sep.clone(),
    });
    let ids = match args.keys.load(kube).await {
        Ok(i) => i,
        Err(e) => {
            ui.error(
                &e,
                Some("give an age identity file or an unencrypted SSH private key"),
            );
            return Exit::Invalid;
        }
    };
    // A backup set: its shards fetched, checked and merged, inspected as
    // one file (the merged copy is removed afterwards).
    let mut _merged = None;
    let mut at = args.file.clone();
    if crate::commands::restore::set_location(&args.file).is_some() {
        match crate::commands::restore::fetch(
            ui,
            kube,
            Some(args.file.clone()),
            None,
            &args.keys,
            &crate::keys::TrustArgs::default(),
            true,
            "inspect",
        )
        .await
        {
            Ok((path, copy)) => {
                at = path;
                _merged = copy;
            }
            Err((exit, p)) => {
                ui.error(&p.message, Some(&p.hint));
                return exit;
            }
        }
    }
    let src = match Source::open(&at) {
        Ok(s) => s,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return Exit::Invalid;
        }
    };
    let io_exit = match src {
        Source::Remote { .. } => Exit::Storage,
        Source::Local(_) => Exit::Invalid,
    };
    let raw = match src.reader().await {
        Ok(r) => r,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return io_exit;
        }
    };
    let done = tokio::task::spawn_blocking(move || {
        let mut i = i;
        let r = source::read(raw, &ids, true, &mut |e| i.on(&e));
        (i, r)
    })
    .await;
    let (i, read) = match done {
        Ok((i, Ok(r))) => (i, r),
        Ok((_, Err(ReadFail::Io(e)))) => {
            ui.error(&format!("reading {}: {e}", args.file), None);
            return io_exit;
        }
        Ok((_, Err(ReadFail::Key(e)))) => {
            ui.error(&e, Some(crate::keys::KEY_HINT));
            return Exit::Key;
        }
        Ok((_, Err(ReadFail::Corrupt(e)))) => {
            ui.error(&format!("{}: corrupt: {e}", args.file), None);
            return Exit::Corrupt;
        }
        Err(e) => {
            ui.error(&format!("internal error: {e}"), None);
            return Exit::Error;
        }
    };
    let Some(checked) = read.plain else {
        ui.error(
            &format!("{} is encrypted (age) and no identity was given", args.file),
            Some("give --identity FILE (or $KUBECTL_REDIS_IDENTITY, --identity-from-secret NAME/KEY)"),
        );
        return Exit::Key;
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
