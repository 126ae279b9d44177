//! `kubectl redis list`: the backups in the output directory, newest first.

use crate::args::Output;
use crate::env;
use crate::store::repo::Repo;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::ops::list::table;

pub const LONG_ABOUT: &str =
    "The backups in a directory or object-storage repository, newest first, \
with their size, keys, age and whether their manifest verifies. When the repository holds \
point-in-time archives (pitr/NAME/, written by `kubectl redis archive`), the backups that start \
a chain are marked as bases, and each archive's recovery windows follow the table: the seconds \
`restore --to-time` can reach, the gaps between chains, and segments that do not continue \
their chain.";

pub const AFTER_HELP: &str = "Environment:\n  OUT_DIR, BACKUPS_DIR   directory to read when --out-dir is not given\n\nExamples:\n  kubectl redis list\n  kubectl redis list --out-dir /mnt/backups -o json\n  kubectl redis list --repo s3://backups/prod -o json | jq .archives[0].latest   # the newest second --to-time reaches";

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Directory or object-storage URL to list (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "repo", value_name = "DIR|URL")]
    pub out_dir: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub async fn run(ui: &Ui, args: ListArgs) -> Exit {
    let dir = env::out_dir(args.out_dir);
    let repo = match Repo::open(&dir) {
        Ok(r) => r,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return Exit::Invalid;
        }
    };
    if let Repo::Local(d) = &repo {
        if !std::path::Path::new(d).exists() {
            ui.note(&format!(
                "no backups: {d} does not exist (choose it with --out-dir or $OUT_DIR)"
            ));
        }
    }
    let l = match repo.listing().await {
        Ok(l) => l,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return match repo {
                Repo::Local(_) => Exit::Error,
                Repo::Remote(_) => Exit::Storage,
            };
        }
    };
    // The point-in-time archives: what `restore --to-time` can reach.
    let archives = match crate::archive::state::states(&repo, None).await {
        Ok(a) => a,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return Exit::Storage;
        }
    };
    let dir = repo.display();
    match args.output {
        Output::Json => match serde_json::to_value(&l) {
            Ok(mut v) => {
                v["archives"] = archives
                    .iter()
                    .map(crate::archive::state::ArchiveState::json)
                    .collect();
                crate::output::print(ui, "BackupList", v)
            }
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
            if !archives.is_empty() {
                println!("\nRecovery windows (kubectl redis restore --to-time TIME):");
                for a in &archives {
                    print!("{}", a.text());
                }
            }
        }
    }
    if !l.partial.is_empty() {
        ui.note(&format!(
            "{} incomplete file(s) from interrupted backups in {dir} (`kubectl redis prune` removes them): {}",
            l.partial.len(),
            l.partial.join(", ")
        ));
    }
    Exit::Ok
}
