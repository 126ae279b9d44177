//! `kubectl redis copy SRC DST`: backups from one repository to another
//! (local, S3, GCS, Azure, any direction), checked on the way, skipping
//! what is already there: the runbook's multi-region copies.

use crate::args::Output;
use crate::commands::backup::recipients_for;
use crate::store::copy::copy_one;
use crate::store::repo::{Problem, Repo};
use crate::store::source::Source;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::store::manifest::Manifest;
use kubectl_redis_core::store::names;
use std::sync::Arc;

pub const LONG_ABOUT: &str = "Copy backups from one repository to another: local \
directories, s3://, gs://, az://, in any direction. Each backup streams from the \
source to the destination (no local copy), its stored bytes checked against its \
manifest (sha256) and, when it is plaintext or an identity is given, every byte of \
the RDB verified; the copy is read back, and its manifest is written last, so a \
copy broken off counts for nothing. Backups already at the destination with the \
same sha256 are skipped. Encrypted backups are copied as they are (no key \
needed); --encrypt-to encrypts plaintext ones on the way (or, with --identity, \
re-encrypts encrypted ones to new recipients).";

pub const AFTER_HELP: &str = "Exit codes:\n    0  every backup copied or already there\n    2  bad arguments, a backup not found, or plaintext to object storage without --encrypt-to / --no-encrypt\n    8  a source backup is corrupt or differs from its manifest (not copied)\n   12  a repository refused or could not be reached (the others were copied)\n   13  re-encrypting needs an identity that fits\n\nExamples:\n  kubectl redis copy ./backups s3://backups-eu/prod --latest 1 --encrypt-to age1...\n  kubectl redis copy s3://backups-us/prod az://backups-eu/prod      # every backup, skipping those there\n  kubectl redis copy s3://a/prod gs://b/prod redis-backup-20251024_180500.rdb.age";

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Source repository: a directory or URL (s3://BUCKET/PREFIX, gs://..., az://...)
    #[arg(value_name = "SRC")]
    pub source: String,
    /// Destination repository: a directory or URL
    #[arg(value_name = "DST")]
    pub destination: String,
    /// Backups to copy, by file name (default: every backup in SRC)
    #[arg(value_name = "NAME", conflicts_with = "latest")]
    pub names: Vec<String>,
    /// Copy only the newest N backups
    #[arg(long, value_name = "N")]
    pub latest: Option<usize>,
    /// Encrypt plaintext backups with age to this recipient on the way (age1..., an SSH public key, or a KMS key: awskms://ARN, gcpkms://..., azurekv://...); repeatable
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Encrypt to every recipient in this file; repeatable
    #[arg(long, value_name = "FILE")]
    pub encrypt_to_file: Vec<String>,
    /// Copy plaintext backups into object storage as plaintext
    #[arg(long, conflicts_with_all = ["encrypt_to", "encrypt_to_file"])]
    pub no_encrypt: bool,
    /// Sign each copy's manifest with this key (from `kubectl redis repo keygen`; also $KUBECTL_REDIS_SIGNING_KEY): a copy's manifest is its own, so the source's signature does not carry over
    #[arg(long, value_name = "FILE")]
    pub sign_with: Option<String>,
    #[command(flatten)]
    pub keys: crate::keys::KeyArgs,
    #[command(flatten)]
    pub sanitize: crate::sanitize::SanitizeArgs,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub in_cluster: crate::jobs::in_cluster::InClusterArgs,
}

pub async fn run(ui: &Ui, kube: &crate::args::KubeArgs, args: CopyArgs) -> Exit {
    if args.in_cluster.in_cluster {
        return in_cluster(ui, kube, &args).await;
    }
    let json = args.output == Output::Json;
    let fail = |exit: Exit, p: &Problem| {
        ui.error(&p.message, Some(&p.hint));
        if json {
            crate::output::failure(ui, "CopyResult", exit, &p.message, Some(&p.hint));
        }
        exit
    };
    if let Some(f) = args
        .sign_with
        .clone()
        .or_else(|| crate::env::env_nonempty("KUBECTL_REDIS_SIGNING_KEY"))
    {
        match crate::store::trust::Signer::load(&f) {
            Ok(s) => crate::store::trust::set_signer(s),
            Err(e) => {
                return fail(
                    Exit::Key,
                    &Problem {
                        message: e,
                        hint:
                            "give the secret key file `kubectl redis repo keygen --out FILE` wrote"
                                .into(),
                    },
                )
            }
        }
    }
    let src = match Repo::open(&args.source) {
        Ok(r) => r,
        Err(p) => return fail(Exit::Invalid, &p),
    };
    let dst = match Repo::open(&args.destination) {
        Ok(r) => r,
        Err(p) => return fail(Exit::Invalid, &p),
    };
    if src.display() == dst.display() {
        return fail(
            Exit::Invalid,
            &Problem {
                message: "the source and the destination are the same repository".into(),
                hint: "name two different repositories".into(),
            },
        );
    }
    let storage = |r: &Repo| match r {
        Repo::Remote(_) => Exit::Storage,
        Repo::Local(_) => Exit::Error,
    };
    let listing = match src.listing().await {
        Ok(l) => l,
        Err(p) => return fail(storage(&src), &p),
    };
    if let Repo::Remote(r) = &dst {
        if let Err(p) = r.preflight().await {
            return fail(Exit::Storage, &p);
        }
    }
    let ids = match args.keys.load(kube).await {
        Ok(i) => Arc::new(i),
        Err(e) => {
            return fail(
                Exit::Invalid,
                &Problem {
                    message: e,
                    hint: "give an age identity file or an unencrypted SSH private key".into(),
                },
            )
        }
    };
    // Rules and key checked before anything is read.
    let plan = match args.sanitize.load(kube).await {
        Ok(p) => p,
        Err(p) => return fail(Exit::Invalid, &p),
    };
    // Which backups.
    let mut chosen: Vec<String> = Vec::new();
    if args.names.is_empty() {
        let n = args.latest.unwrap_or(usize::MAX);
        // Sanitizing takes full backups only.
        chosen.extend(
            listing
                .backups
                .iter()
                .filter(|b| plan.is_none() || !b.sanitized)
                .take(n)
                .map(|b| b.file.clone()),
        );
    } else {
        for n in &args.names {
            if !listing.backups.iter().any(|b| &b.file == n) {
                return fail(
                    Exit::Invalid,
                    &Problem {
                        message: format!("{n} is not a backup in {}", src.display()),
                        hint: format!("see `kubectl redis list --repo {}`", src.display()),
                    },
                );
            }
            chosen.push(n.clone());
        }
    }
    // Whom plaintext is encrypted to at the destination.
    let any_plain = chosen.iter().any(|n| !names::is_encrypted_name(n));
    let recipients = if plan.is_some()
        || any_plain
        || !args.encrypt_to.is_empty()
        || !args.encrypt_to_file.is_empty()
    {
        match recipients_for(
            &dst,
            &args.encrypt_to,
            &args.encrypt_to_file,
            args.no_encrypt,
        )
        .await
        {
            Ok(r) => r,
            Err((exit, p)) => return fail(exit, &p),
        }
    } else {
        None
    };
    let dst_listing = match dst.listing().await {
        Ok(l) => l,
        Err(p) => return fail(storage(&dst), &p),
    };
    let mut copied = Vec::new();
    let mut skipped = Vec::new();
    let mut errors: Vec<serde_json::Value> = Vec::new();
    let mut sanitized: Vec<serde_json::Value> = Vec::new();
    let mut worst = Exit::Ok;
    for name in &chosen {
        let src_loc = match &src {
            Repo::Local(d) => Source::Local(std::path::Path::new(d).join(name)),
            Repo::Remote(r) => Source::Remote {
                remote: r.clone(),
                name: name.clone(),
            },
        };
        let m = src_loc.manifest().await.ok().flatten();
        if let Some(plan) = &plan {
            match sanitized_copy(
                ui,
                json,
                &src_loc,
                m,
                name,
                &dst,
                &dst_listing,
                recipients.as_ref(),
                &ids,
                plan,
            )
            .await
            {
                Ok(Some((c, rep))) => {
                    crate::audit::read_of(
                        ui,
                        &src_loc,
                        "copy --sanitize",
                        None,
                        Some(&dst.display()),
                    )
                    .await;
                    crate::audit::record(
                        ui,
                        &dst,
                        "backup-written",
                        "copy --sanitize",
                        &c.file,
                        Some(&c.sha256),
                        false,
                        None,
                        Some(&src.display()),
                    )
                    .await;
                    sanitized.push(serde_json::json!({
                        "file": c.file, "from": name,
                        "keys_in": rep.keys_in, "keys_out": rep.keys_out,
                        "rules": rep.rules,
                    }));
                    copied.push(c)
                }
                Ok(None) => skipped
                    .push(names::sanitized_name(name, recipients.is_some()).unwrap_or_default()),
                Err((exit, p)) => {
                    ui.error(&format!("{name}: {}", p.message), Some(&p.hint));
                    errors.push(crate::output::error(
                        &format!("{name}: {}", p.message),
                        Some(&p.hint),
                    ));
                    worst = worse(worst, exit);
                }
            }
            continue;
        }
        let encrypted = names::is_encrypted_name(name);
        // Re-encrypt only plaintext, or encrypted backups when asked (with an identity).
        let reencrypt = recipients.is_some()
            && (!encrypted || (!args.encrypt_to.is_empty() || !args.encrypt_to_file.is_empty()));
        let out_name = if reencrypt && !encrypted {
            format!("{name}.age")
        } else {
            name.clone()
        };
        if let Some(there) = dst_listing.backups.iter().find(|b| b.file == out_name) {
            let same = match (&m, dst_manifest(&dst, &there.file).await) {
                (Some(a), Some(b)) if !reencrypt => a.stored() == b.stored(),
                (Some(a), Some(b)) => a.sha256 == b.sha256,
                _ => false,
            };
            if same {
                if !json {
                    ui.note(&format!("{out_name}: already in {}", dst.display()));
                }
                skipped.push(out_name);
                continue;
            }
            let p = Problem {
                message: format!(
                    "{out_name} exists in {} and differs from the source",
                    dst.display()
                ),
                hint: "nothing is overwritten; remove it there first if it is wrong".into(),
            };
            ui.error(&p.message, Some(&p.hint));
            errors.push(crate::output::error(&p.message, Some(&p.hint)));
            worst = worse(worst, Exit::Invalid);
            continue;
        }
        if !json {
            ui.note(&format!(
                "{name} -> {}/{out_name}{}",
                dst.display(),
                if reencrypt { " (encrypting)" } else { "" }
            ));
        }
        match copy_one(
            &src_loc,
            m,
            &dst,
            &out_name,
            reencrypt.then_some(()).and(recipients.as_ref()),
            &ids,
            &|_| {},
        )
        .await
        {
            Ok(c) => {
                let by = if reencrypt && encrypted {
                    "copy (re-encrypting)"
                } else {
                    "copy"
                };
                crate::audit::read_of(ui, &src_loc, by, None, Some(&dst.display())).await;
                crate::audit::record(
                    ui,
                    &dst,
                    "backup-written",
                    "copy",
                    &c.file,
                    Some(&c.sha256),
                    false,
                    None,
                    Some(&src.display()),
                )
                .await;
                copied.push(c)
            }
            Err((exit, p)) => {
                ui.error(&format!("{name}: {}", p.message), Some(&p.hint));
                errors.push(crate::output::error(
                    &format!("{name}: {}", p.message),
                    Some(&p.hint),
                ));
                worst = worse(worst, exit);
            }
        }
    }
    if json {
        crate::output::print(
            ui,
            "CopyResult",
            serde_json::json!({
                "source": src.display(), "destination": dst.display(),
                "copied": copied, "skipped": skipped, "errors": errors,
                "sanitized": sanitized,
                "exit_code": worst.code(),
            }),
        );
    } else {
        for c in &copied {
            println!("{}", c.destination);
        }
        ui.note(&format!(
            "{} copied, {} already there, {} failed",
            copied.len(),
            skipped.len(),
            errors.len()
        ));
    }
    worst
}

/// One sanitized copy: `None` when the same copy (same source, rules and
/// key) is already there.
#[allow(clippy::too_many_arguments)]
async fn sanitized_copy(
    ui: &Ui,
    json: bool,
    src: &Source,
    m: Option<Manifest>,
    name: &str,
    dst: &Repo,
    dst_listing: &kubectl_redis_core::ops::list::Listing,
    recipients: Option<&crate::store::crypt::Recipients>,
    ids: &Arc<crate::store::crypt::Identities>,
    plan: &crate::sanitize::Plan,
) -> Result<
    Option<(
        crate::store::copy::Copied,
        kubectl_redis_core::rdb::sanitize::Report,
    )>,
    (Exit, Problem),
> {
    let Some(out_name) = names::sanitized_name(name, recipients.is_some()) else {
        return Err((
            Exit::Invalid,
            Problem {
                message: format!("{name} is already a sanitized copy"),
                hint: "sanitize a full backup".into(),
            },
        ));
    };
    if dst_listing.backups.iter().any(|b| b.file == out_name) {
        let same = dst_manifest(dst, &out_name)
            .await
            .and_then(|x| x.sanitize)
            .is_some_and(|s| {
                s.from == name && s.rules_sha256 == plan.rules_sha256 && s.key_id == plan.key_id
            });
        if same {
            if !json {
                ui.note(&format!(
                    "{out_name}: already in {} (same backup, rules and key)",
                    dst.display()
                ));
            }
            return Ok(None);
        }
        return Err((
            Exit::Invalid,
            Problem {
                message: format!(
                    "{out_name} exists in {} and was made by other rules or another key",
                    dst.display()
                ),
                hint: "nothing is overwritten; remove it there first to make it again".into(),
            },
        ));
    }
    if !json {
        ui.note(&format!(
            "{name} -> {}/{out_name} (sanitizing by {}{})",
            dst.display(),
            plan.file,
            if recipients.is_some() {
                ", encrypting"
            } else {
                ""
            }
        ));
    }
    let (c, rep) =
        crate::store::copy::copy_sanitized(src, m, dst, &out_name, recipients, ids, plan).await?;
    if !json {
        crate::sanitize::say(ui, name, &out_name, &rep);
    } else {
        for r in rep.unmatched() {
            ui.warn(&format!(
                "rule {} ({}) matched no key in {name}: check its pattern",
                r.rule, r.rule_text
            ));
        }
    }
    Ok(Some((c, rep)))
}

fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::Invalid => 1,
        Exit::Key | Exit::Storage | Exit::Error => 2,
        _ => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

async fn dst_manifest(dst: &Repo, name: &str) -> Option<Manifest> {
    match dst {
        Repo::Local(d) => crate::store::rdbfile::manifest_for(&std::path::Path::new(d).join(name))
            .ok()
            .flatten(),
        Repo::Remote(r) => r.manifest(name).await.ok().flatten(),
    }
}

/// `copy --in-cluster`: the copy as a Job, from repository to repository
/// inside the cluster (a Role that may read only the Secrets it names).
async fn in_cluster(ui: &Ui, kube: &crate::args::KubeArgs, args: &CopyArgs) -> Exit {
    use crate::jobs::in_cluster::{self, reachable, Argv, Plan, UNREACHABLE_HINT};
    let output = args.output;
    let fail = |message: String, hint: &str| {
        ui.error(&message, Some(hint));
        if output == Output::Json {
            crate::output::failure(ui, "CopyResult", Exit::Invalid, &message, Some(hint));
        }
        Exit::Invalid
    };
    let k = &args.keys;
    let local: [(bool, &str, &str); 5] = [
        (
            !args.encrypt_to_file.is_empty(),
            "--encrypt-to-file",
            "give the recipients with --encrypt-to",
        ),
        (
            args.sign_with.is_some(),
            "--sign-with",
            "run the copy without --in-cluster to sign it",
        ),
        (
            !k.identity.is_empty(),
            "--identity",
            "put the identity in a Secret: --identity-from-secret NAME/KEY",
        ),
        (
            k.passphrase_file.is_some(),
            "--passphrase-file",
            "use --passphrase-from-secret NAME/KEY",
        ),
        (
            args.sanitize.sanitize.is_some(),
            "--sanitize",
            "sanitize without --in-cluster (the rules file is on this machine)",
        ),
    ];
    if let Some((flag, hint)) = in_cluster::local_flag(&local) {
        return fail(
            format!("{flag} cannot be used with --in-cluster: it names something on this machine, which the Job does not have"),
            hint,
        );
    }
    for r in [&args.source, &args.destination] {
        if !reachable(&args.in_cluster, r) {
            return fail(
                format!("--in-cluster copies inside the cluster, and {r} is on this machine"),
                UNREACHABLE_HINT,
            );
        }
    }
    let mut a = Argv::new(&["copy", &args.source, &args.destination]);
    a.0.extend(args.names.iter().cloned());
    a.opt("--latest", args.latest);
    let secrets = in_cluster::key_flags(k, &mut a);
    a.each("--encrypt-to", &args.encrypt_to);
    a.switch("--no-encrypt", args.no_encrypt);
    let plan = Plan {
        command: "copy".into(),
        args: a.0,
        rules: kubectl_redis_core::ops::job::repository_rules(&secrets),
        node: None,
    };
    let text = |v: &serde_json::Value| {
        for c in v["copied"].as_array().into_iter().flatten() {
            if let Some(d) = c["destination"].as_str() {
                println!("{d}");
            }
        }
    };
    in_cluster::run(
        ui,
        kube,
        &args.in_cluster,
        plan,
        output,
        "CopyResult",
        &text,
    )
    .await
}
