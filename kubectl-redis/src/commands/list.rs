//! `kubectl redis list`: the backups in the output directory, newest first.

use crate::args::Output;
use crate::env;
use crate::store::local::read_entries;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::ops::list::{listing, table};

pub const AFTER_HELP: &str = "Environment:\n  OUT_DIR, BACKUPS_DIR   directory to read when --out-dir is not given\n\nExamples:\n  kubectl redis list\n  kubectl redis list --out-dir /mnt/backups -o json";

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Directory to list [env: OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub fn run(ui: &Ui, args: ListArgs) -> Exit {
    let dir = env::out_dir(args.out_dir);
    let now = env::unix_now();
    let entries = match read_entries(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ui.note(&format!(
                "no backups: {dir} does not exist (choose it with --out-dir or $OUT_DIR)"
            ));
            Vec::new()
        }
        Err(e) => {
            ui.error(
                &format!("cannot read {dir}: {e}"),
                Some("check the directory's permissions, or choose another with --out-dir"),
            );
            return Exit::Error;
        }
    };
    let l = listing(&dir, &entries, now);
    match args.output {
        Output::Json => match serde_json::to_value(&l) {
            Ok(v) => crate::output::print(ui, "BackupList", v),
            Err(e) => {
                ui.error(&format!("cannot encode the listing: {e}"), None);
                return Exit::Error;
            }
        },
        Output::Text => {
            if l.backups.is_empty() {
                ui.note(&format!("no backups in {dir}"));
            } else {
                print!("{}", table(&l));
            }
        }
    }
    if !l.partial.is_empty() {
        ui.note(&format!(
            "{} incomplete file(s) from interrupted backups in {dir} (safe to delete): {}",
            l.partial.len(),
            l.partial.join(", ")
        ));
    }
    Exit::Ok
}
