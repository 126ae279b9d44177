//! `kubectl redis audit`: the repository's audit trail, oldest first.

use crate::args::{parse_duration, Output};
use crate::env;
use crate::store::repo::Repo;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;

pub const LONG_ABOUT: &str = "The accesses recorded in a repository's audit trail, oldest first: \
each backup written (by backup, copy, or a sanitized copy), each read (for restore, drill, copy), \
each deletion by prune, with who (the kubeconfig user, and $USER@host beside it), the tool, the \
backup's sha256 and, for copies, the other repository. The records live under audit/ in the \
repository, one small JSON object each, created create-only and never rewritten; pair them with \
the store's own access logs (S3 server access logging or CloudTrail data events, GCS Data Access \
audit logs, Azure Storage diagnostic logs), which also see readers that are not this tool.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  the trail was read (records that cannot be read are listed as such)\n    2  bad arguments\n   12  the repository could not be read\n\nExamples:\n  kubectl redis audit --repo s3://backups/prod --since 7d\n  kubectl redis audit --repo ./backups -o json | jq '.records[] | select(.action == \"read\")'";

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Repository: a directory or object-storage URL (s3://BUCKET/PREFIX, gs://..., az://...) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "out-dir", value_name = "DIR|URL")]
    pub repo: Option<String>,
    /// Only records newer than this: 30m, 12h, 7d, 2w
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<std::time::Duration>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub async fn run(ui: &Ui, args: AuditArgs) -> Exit {
    let json = args.output == Output::Json;
    let fail = |exit: Exit, message: &str, hint: &str| {
        ui.error(message, Some(hint));
        if json {
            crate::output::failure(ui, "AuditTrail", exit, message, Some(hint));
        }
        exit
    };
    let dir = env::out_dir(args.repo);
    let repo = match Repo::open(&dir) {
        Ok(r) => r,
        Err(p) => return fail(Exit::Invalid, &p.message, &p.hint),
    };
    let now_ms = env::unix_now() * 1000;
    let since_ms = args.since.map_or(0, |d| {
        now_ms - i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
    });
    let (records, unreadable) = match crate::audit::records(&repo, since_ms).await {
        Ok(r) => r,
        Err(p) => {
            let exit = match repo {
                Repo::Remote(_) => Exit::Storage,
                Repo::Local(_) => Exit::Error,
            };
            return fail(exit, &p.message, &p.hint);
        }
    };
    for u in &unreadable {
        ui.warn(&format!("an audit record that cannot be read: {u}"));
    }
    if json {
        crate::output::print(
            ui,
            "AuditTrail",
            serde_json::json!({
                "repo": repo.display(),
                "since": (since_ms > 0).then(|| kubectl_redis_core::store::names::rfc3339(since_ms / 1000)),
                "records": records,
                "unreadable": unreadable,
                "exit_code": 0,
            }),
        );
        return Exit::Ok;
    }
    if records.is_empty() {
        ui.note(&format!(
            "no audit records in {}{}",
            repo.display(),
            if since_ms > 0 { " in that time" } else { "" }
        ));
        return Exit::Ok;
    }
    let mut rows: Vec<Vec<String>> = vec![["TIME", "ACTION", "BY", "FILE", "WHO", "PEER"]
        .map(String::from)
        .to_vec()];
    rows.extend(records.iter().map(|r| {
        vec![
            r.time.clone(),
            r.action.clone(),
            r.by_command.clone(),
            r.file.clone(),
            r.who.describe(),
            r.peer.clone().unwrap_or_default(),
        ]
    }));
    print!("{}", kubectl_redis_core::human::table(&rows, &[]));
    Exit::Ok
}
