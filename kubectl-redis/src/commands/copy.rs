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
use kubectl_redis_core::store::set;
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
    /// Copy each backup set (a Redis Cluster backed up one Job per shard) as one merged backup file, as a local backup of the cluster writes it, instead of shard by shard
    #[arg(long)]
    pub merge: bool,
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
    // Backup sets: their manifests, read before anything is copied (a
    // set merged, or of plaintext shards, counts as plaintext).
    let mut sets = std::collections::BTreeMap::new();
    for n in chosen.iter().filter(|n| set::parse_set_name(n).is_some()) {
        if plan.is_some() {
            return fail(
                Exit::Invalid,
                &Problem {
                    message: format!("{n} is a backup set: --sanitize takes one file"),
                    hint: "make it one file first: `kubectl redis copy SRC DIR NAME --merge`, then sanitize that copy".into(),
                },
            );
        }
        match crate::commands::restore::set_manifest(&src, n).await {
            Ok(m) => {
                sets.insert(n.clone(), m);
            }
            Err((exit, p)) => return fail(exit, &p),
        }
    }
    // Whom plaintext is encrypted to at the destination.
    let any_plain = chosen.iter().any(|n| match sets.get(n) {
        Some(m) => args.merge || !m.encrypted,
        None => !names::is_encrypted_name(n),
    });
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
    let mut sets_done = Vec::new();
    for name in &chosen {
        if let Some(m) = sets.get(name) {
            let ctx = SetCopy {
                ui,
                kube,
                args: &args,
                src: &src,
                dst: &dst,
                recipients: recipients.as_ref(),
                ids: &ids,
            };
            let r = if args.merge {
                ctx.merged(name, m).await.map(|c| {
                    copied.push(c);
                    None
                })
            } else {
                ctx.shard_by_shard(name, m, &mut copied).await
            };
            match r {
                Ok(Some(skip)) => skipped.push(skip),
                Ok(None) => sets_done.push(name.clone()),
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
                "sanitized": sanitized, "sets": sets_done,
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

/// Copying one backup set.
struct SetCopy<'a> {
    ui: &'a Ui,
    kube: &'a crate::args::KubeArgs,
    args: &'a CopyArgs,
    src: &'a Repo,
    dst: &'a Repo,
    recipients: Option<&'a crate::store::crypt::Recipients>,
    ids: &'a Arc<crate::store::crypt::Identities>,
}

impl SetCopy<'_> {
    /// Shard by shard: each shard's file copied as any backup (checked,
    /// encrypted on the way when asked), then the set's manifest made again
    /// from the copies' manifests and written last, create-only. `Some`
    /// (the set's name) when the same set is already there. A shard that
    /// fails: the shards copied so far are removed, the set is not written.
    async fn shard_by_shard(
        &self,
        name: &str,
        m: &set::SetManifest,
        copied: &mut Vec<crate::store::copy::Copied>,
    ) -> Result<Option<String>, (Exit, Problem)> {
        let (dst, ui) = (self.dst, self.ui);
        let reencrypt = self.recipients.is_some()
            && (!m.encrypted
                || !self.args.encrypt_to.is_empty()
                || !self.args.encrypt_to_file.is_empty());
        let enc_out = m.encrypted || reencrypt;
        let mname = set::set_manifest_name(name);
        if let Ok(there) = crate::commands::restore::set_manifest(dst, name).await {
            // The same shards: their stored bytes, or (encrypted on the
            // way, each time with a new key) their plaintext's sha256.
            let mut same = there.shards.len() == m.shards.len();
            for (a, b) in m.shards.iter().zip(there.shards.iter()) {
                if !same {
                    break;
                }
                same = if reencrypt {
                    let pa = self.src.manifest(&a.file).await.ok().flatten();
                    let pb = dst.manifest(&b.file).await.ok().flatten();
                    matches!((pa, pb), (Some(x), Some(y)) if x.sha256 == y.sha256)
                } else {
                    a.stored_sha256 == b.stored_sha256
                };
            }
            if same {
                ui.note(&format!("{name}: already in {}", dst.display()));
                return Ok(Some(name.to_string()));
            }
            return Err((
                Exit::Invalid,
                Problem {
                    message: format!("set {name} exists in {} and differs from the source", dst.display()),
                    hint: "nothing is overwritten; remove it there first (`kubectl redis prune`) if it is wrong".into(),
                },
            ));
        }
        let mut planned = Vec::new();
        let mut written = Vec::new();
        let mut result = Ok(());
        for sh in &m.shards {
            let Some((_, slot)) = set::parse_shard_file_name(&sh.file) else {
                result = Err((
                    Exit::Corrupt,
                    Problem {
                        message: format!("{} is not a shard file's name", sh.file),
                        hint: "the set's manifest was changed; do not trust it".into(),
                    },
                ));
                break;
            };
            planned.push(slot);
            let out_name = set::shard_file_name(name, slot, enc_out);
            let src_loc = match self.src {
                Repo::Local(d) => Source::Local(std::path::Path::new(d).join(&sh.file)),
                Repo::Remote(r) => Source::Remote {
                    remote: r.clone(),
                    name: sh.file.clone(),
                },
            };
            let sm = src_loc.manifest().await.ok().flatten();
            ui.note(&format!(
                "{} -> {}/{out_name}{}",
                sh.file,
                dst.display(),
                if reencrypt { " (encrypting)" } else { "" }
            ));
            match copy_one(
                &src_loc,
                sm,
                dst,
                &out_name,
                reencrypt.then_some(()).and(self.recipients),
                self.ids,
                &|_| {},
            )
            .await
            {
                Ok(c) => {
                    written.push(out_name);
                    copied.push(c);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() {
            let mut found = Vec::new();
            for s in &planned {
                found.push(
                    dst.manifest(&set::shard_file_name(name, *s, enc_out))
                        .await
                        .ok()
                        .flatten(),
                );
            }
            result = match set::seal(
                name,
                &planned,
                &found,
                m.source.clone(),
                &crate::env::tool(),
            ) {
                set::Seal::Ready(sm) => match serde_json::to_vec_pretty(&sm) {
                    Ok(body) => match crate::jobs::cluster_backup::put_new(dst, &mname, body).await
                    {
                        Ok(true) => Ok(()),
                        Ok(false) => {
                            Err(format!("{mname} appeared in {} meanwhile", dst.display()))
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e.to_string()),
                },
                set::Seal::Waiting { missing } => {
                    Err(format!("{} shard(s) missing after the copy", missing.len()))
                }
                set::Seal::Broken(why) => Err(why),
            }
            .map_err(|e| {
                (
                    Exit::Storage,
                    Problem {
                        message: format!("the set's manifest: {e}"),
                        hint: "check the destination".into(),
                    },
                )
            });
        }
        if let Err(e) = result {
            // Not listed without its manifest; its shards' files go too.
            for w in &written {
                let _ = dst
                    .remove_leftover(&kubectl_redis_core::store::manifest::name_for(w))
                    .await;
                let _ = dst.remove_leftover(w).await;
            }
            copied.retain(|c| !written.contains(&c.file));
            return Err(e);
        }
        Ok(None)
    }

    /// `--merge`: the set's shards fetched, checked and merged into one
    /// file, copied as one backup (encrypted when the destination asks),
    /// its manifest listing the shards.
    async fn merged(
        &self,
        name: &str,
        m: &set::SetManifest,
    ) -> Result<crate::store::copy::Copied, (Exit, Problem)> {
        let (dst, ui) = (self.dst, self.ui);
        let Some(started) = set::parse_set_name(name) else {
            return Err((
                Exit::Invalid,
                Problem {
                    message: format!("{name} is not a set's name"),
                    hint: String::new(),
                },
            ));
        };
        let mut shards = Vec::new();
        for sh in &m.shards {
            let sha = self
                .src
                .manifest(&sh.file)
                .await
                .ok()
                .flatten()
                .map(|x| x.sha256)
                .unwrap_or_default();
            shards.push(kubectl_redis_core::store::manifest::Shard {
                node_id: sh.node_id.clone(),
                address: sh.address.clone(),
                role: sh.role.clone(),
                pod: sh.pod.clone(),
                slots: sh.slots.clone(),
                keys: sh.keys,
                sha256: sha,
            });
        }
        let (path, _copy) = crate::commands::restore::fetch(
            ui,
            self.kube,
            Some(self.src.location(name)),
            None,
            &self.args.keys,
            &crate::keys::TrustArgs::default(),
            false,
            "copy --merge",
        )
        .await?;
        let encrypted = self.recipients.is_some();
        let dst_listing = dst.listing().await.map_err(|p| (Exit::Storage, p))?;
        let out_name = (0..100)
            .map(|a| names::backup_file_name_for(started, a, encrypted))
            .find(|n| !dst_listing.backups.iter().any(|b| &b.file == n))
            .ok_or((
                Exit::Invalid,
                Problem {
                    message: format!("no free backup name for {name}'s time in {}", dst.display()),
                    hint: "prune the destination".into(),
                },
            ))?;
        ui.note(&format!(
            "{name} -> {}/{out_name} (merged{})",
            dst.display(),
            if encrypted { ", encrypting" } else { "" }
        ));
        let (created, source) = (m.created.clone(), m.source.clone());
        let adjust = move |x: &mut Manifest| {
            x.method = "stream".into();
            x.created = created.clone();
            x.source = source.clone();
            x.shards = shards.clone();
        };
        let f = std::fs::File::open(&path).map_err(|e| {
            (
                Exit::Error,
                Problem {
                    message: format!("{path}: {e}"),
                    hint: String::new(),
                },
            )
        })?;
        crate::store::copy::copy_from(
            Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
            "the merged set",
            None,
            dst,
            &out_name,
            self.recipients,
            &Arc::new(crate::store::crypt::Identities::none()),
            &adjust,
        )
        .await
    }
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
    a.switch("--merge", args.merge);
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
