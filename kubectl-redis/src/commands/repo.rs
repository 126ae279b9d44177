//! `kubectl redis repo init|show`: a repository's own settings, so every
//! backup to it is encrypted without flags.

use crate::args::Output;
use crate::store::crypt::Recipients;
use crate::store::repo::{self, Config, PutNew, Repo};
use crate::ui::Ui;
use clap::{Args, Subcommand};
use kubectl_redis_core::exit::Exit;

pub const LONG_ABOUT: &str = "A repository's settings, kept in it as kubectl-redis-repo.json \
(plaintext: public keys only). `repo init URL --encrypt-to age1...` records the \
recipients every backup to the repository is encrypted to; after it, `backup --repo URL` \
encrypts without flags (--encrypt-to overrides, --no-encrypt opts out). Keep the matching \
identities (secret keys) somewhere else: they are never stored in the repository, and \
a backup whose identities are all lost cannot be read by anyone.";

pub const AFTER_HELP: &str = "Examples:\n  age-keygen -o backup-key.txt          # keep it safe, outside the cluster\n  kubectl redis repo init s3://backups/prod --encrypt-to \"$(age-keygen -y backup-key.txt)\"\n  kubectl redis repo show s3://backups/prod -o json";

#[derive(Args, Debug)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// Record the recipients every backup to this repository is encrypted to
    Init {
        /// The repository: a directory or URL (s3://BUCKET/PREFIX, gs://..., az://...)
        #[arg(value_name = "DIR|URL")]
        repo: String,
        /// age recipient (age1...), SSH public key, or KMS key (awskms://ARN, gcpkms://projects/..., azurekv://VAULT/keys/NAME: each backup's age key wrapped by it); repeatable, and mixed: any one of them opens a backup
        #[arg(
            long,
            value_name = "RECIPIENT",
            required_unless_present = "encrypt_to_file"
        )]
        encrypt_to: Vec<String>,
        /// A file of recipients, one per line; repeatable
        #[arg(long, value_name = "FILE")]
        encrypt_to_file: Vec<String>,
        /// Require backups restored by --latest or drilled to be signed by this key (kr-ed25519:..., from `repo keygen`); repeatable. Pair with `backup --sign-with`
        #[arg(long, value_name = "PUBLIC_KEY")]
        signer: Vec<String>,
        /// Replace existing settings (key rotation: new backups go to the new recipients)
        #[arg(long)]
        force: bool,
        /// Output format
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Make an Ed25519 key that signs backups' manifests (`backup --sign-with FILE`): the secret goes to FILE (0600), the public key is printed for `repo init --signer` and `restore --trust`
    Keygen {
        /// Where the secret key goes (refused if it exists)
        #[arg(long, value_name = "FILE")]
        out: String,
    },
    /// Print the repository's settings
    Show {
        /// The repository
        #[arg(value_name = "DIR|URL")]
        repo: String,
        /// Output format
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
}

pub async fn run(ui: &Ui, args: RepoArgs) -> Exit {
    match args.command {
        RepoCommand::Init {
            repo: r,
            encrypt_to,
            encrypt_to_file,
            signer,
            force,
            output,
        } => {
            init(
                ui,
                &r,
                &encrypt_to,
                &encrypt_to_file,
                &signer,
                force,
                output,
            )
            .await
        }
        RepoCommand::Keygen { out } => keygen(ui, &out),
        RepoCommand::Show { repo: r, output } => show(ui, &r, output).await,
    }
}

fn report_err(ui: &Ui, output: Output, exit: Exit, message: &str, hint: &str) -> Exit {
    ui.error(message, Some(hint));
    if output == Output::Json {
        crate::output::failure(ui, "RepoConfig", exit, message, Some(hint));
    }
    exit
}

/// `repo keygen --out FILE`.
fn keygen(ui: &Ui, out: &str) -> Exit {
    let (secret, public) = match crate::store::trust::Signer::generate() {
        Ok(x) => x,
        Err(e) => {
            ui.error(&e, None);
            return Exit::Error;
        }
    };
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let written = o.open(out).and_then(|mut f| {
        use std::io::Write;
        f.write_all(secret.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        ui.error(
            &format!("cannot write {out}: {e}"),
            Some("give a new file name; an existing key is never overwritten"),
        );
        return Exit::Invalid;
    }
    ui.note(&format!(
        "secret key written to {out} (0600); sign with `backup --sign-with {out}`, require it with `repo init URL --signer KEY`"
    ));
    println!("{public}");
    Exit::Ok
}

async fn init(
    ui: &Ui,
    url: &str,
    to: &[String],
    files: &[String],
    signers: &[String],
    force: bool,
    output: Output,
) -> Exit {
    let mut signer_keys = Vec::new();
    for s in signers {
        match crate::store::trust::parse_public(s) {
            Ok(k) => signer_keys.push(k),
            Err(e) => {
                return report_err(
                    ui,
                    output,
                    Exit::Invalid,
                    &e,
                    "give the key `kubectl redis repo keygen` printed",
                )
            }
        }
    }
    let r = match Repo::open(url) {
        Ok(r) => r,
        Err(p) => return report_err(ui, output, Exit::Invalid, &p.message, &p.hint),
    };
    let rec = match Recipients::parse(to, files) {
        Ok(Some(x)) => x,
        Ok(None) => {
            return report_err(
                ui,
                output,
                Exit::Invalid,
                "no recipients given",
                "add --encrypt-to age1... (from `age-keygen -y KEYFILE`)",
            )
        }
        Err(e) => return report_err(ui, output, Exit::Invalid, &e, "give public keys only"),
    };
    let c = Config {
        format: repo::CONFIG_FORMAT.into(),
        recipients: rec.public.clone(),
        signers: signer_keys,
        created: kubectl_redis_core::store::names::rfc3339(crate::env::unix_now()),
    };
    let mut bytes = match serde_json::to_vec_pretty(&c) {
        Ok(b) => b,
        Err(e) => return report_err(ui, output, Exit::Error, &e.to_string(), ""),
    };
    bytes.push(b'\n');
    let exists_msg = format!(
        "{} already has settings ({}); nothing was changed",
        r.display(),
        repo::CONFIG
    );
    let exists_hint = "add --force to replace them (backups already written keep their recipients)";
    let written = match &r {
        Repo::Local(d) => {
            let p = std::path::Path::new(d).join(repo::CONFIG);
            if p.exists() && !force {
                return report_err(ui, output, Exit::Invalid, &exists_msg, exists_hint);
            }
            if let Err(e) = std::fs::create_dir_all(d) {
                return report_err(
                    ui,
                    output,
                    Exit::Error,
                    &format!("cannot create {d}: {e}"),
                    "check permissions",
                );
            }
            crate::store::files::write_whole(&p.to_string_lossy(), &bytes)
                .map_err(|e| (Exit::Error, format!("cannot write {}: {e}", p.display())))
        }
        Repo::Remote(rm) => {
            if let Err(p) = rm.preflight().await {
                return report_err(ui, output, Exit::Storage, &p.message, &p.hint);
            }
            if force {
                rm.put(repo::CONFIG, bytes)
                    .await
                    .map_err(|p| (Exit::Storage, p.message))
            } else {
                match rm.put_new(repo::CONFIG, bytes).await {
                    Ok(()) => Ok(()),
                    Err(PutNew::Exists) => {
                        return report_err(ui, output, Exit::Invalid, &exists_msg, exists_hint)
                    }
                    Err(PutNew::Failed(p)) => Err((Exit::Storage, p.message)),
                }
            }
        }
    };
    if let Err((exit, m)) = written {
        return report_err(
            ui,
            output,
            exit,
            &m,
            "check the repository and its permissions",
        );
    }
    // This machine remembers what it set (a later change by someone else
    // is then warned about).
    crate::store::trust::remember_recipients(&r.display(), &c.recipients);
    crate::store::trust::remember_signers(&r.display(), &c.signers);
    print_config(ui, &r, &c, output);
    Exit::Ok
}

fn print_config(ui: &Ui, r: &Repo, c: &Config, output: Output) {
    let fp = crate::store::trust::fingerprint(&c.recipients);
    match output {
        Output::Json => crate::output::print(
            ui,
            "RepoConfig",
            serde_json::json!({"repository": r.display(), "recipients": c.recipients, "signers": c.signers, "recipients_fingerprint": fp, "created": c.created, "exit_code": 0}),
        ),
        Output::Text => {
            println!("repository  {}", r.display());
            println!("created     {}", c.created);
            for x in &c.recipients {
                println!("encrypt to  {x}");
            }
            println!("fingerprint {fp}");
            for x in &c.signers {
                println!("signed by   {x}");
            }
        }
    }
}

async fn show(ui: &Ui, url: &str, output: Output) -> Exit {
    let r = match Repo::open(url) {
        Ok(r) => r,
        Err(p) => return report_err(ui, output, Exit::Invalid, &p.message, &p.hint),
    };
    match r.config().await {
        Ok(Some(c)) => {
            print_config(ui, &r, &c, output);
            Exit::Ok
        }
        Ok(None) => report_err(
            ui,
            output,
            Exit::Invalid,
            &format!("{} has no settings", r.display()),
            "record recipients with `kubectl redis repo init URL --encrypt-to age1...`",
        ),
        Err(p) => report_err(ui, output, Exit::Storage, &p.message, &p.hint),
    }
}
