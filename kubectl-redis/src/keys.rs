//! Decryption keys for encrypted backups: `--identity FILE`,
//! `$KUBECTL_REDIS_IDENTITY`, `--identity-from-secret NAME/KEY`. Read from
//! files or the API, never from argv; never printed.

use crate::args::KubeArgs;
use crate::store::crypt::Identities;
use clap::Args;

/// What to do when an encrypted backup cannot be opened.
pub const KEY_HINT: &str = "give the identity (or passphrase) the backup was encrypted to: --identity FILE, $KUBECTL_REDIS_IDENTITY, --identity-from-secret NAME/KEY, --passphrase-file FILE or --passphrase-from-secret NAME/KEY";

/// The environment variable naming an identity file.
pub const IDENTITY_ENV: &str = "KUBECTL_REDIS_IDENTITY";

/// Which signatures a backup must carry to be restored or drilled.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Signatures")]
pub struct TrustArgs {
    /// Restore only backups whose manifest this key signed (kr-ed25519:..., from `repo keygen`; also $KUBECTL_REDIS_TRUST, comma-separated); repeatable. The repository's own `repo init --signer` keys are required too; --latest skips others, naming them
    #[arg(long, value_name = "PUBLIC_KEY")]
    pub trust: Vec<String>,
    /// Restore a backup that is unsigned or signed by no trusted key (said loudly)
    #[arg(long)]
    pub allow_unsigned: bool,
}

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Decryption")]
pub struct KeyArgs {
    /// age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]
    #[arg(short = 'i', long, value_name = "FILE")]
    pub identity: Vec<String>,
    /// Read the identity from this Secret's key (in the namespace)
    #[arg(long, value_name = "NAME/KEY")]
    pub identity_from_secret: Option<String>,
    /// Decrypt with the passphrase in this Secret's key (backups made with a passphrase)
    #[arg(
        long = "passphrase-from-secret",
        value_name = "NAME/KEY",
        id = "key_passphrase_secret"
    )]
    pub passphrase_from_secret: Option<String>,
    /// Decrypt with the passphrase in this file (its first line)
    #[arg(
        long = "passphrase-file",
        value_name = "FILE",
        id = "key_passphrase_file"
    )]
    pub passphrase_file: Option<String>,
}

/// A passphrase from a file (its first line) or a Secret's key, with where
/// it came from; `None` when neither is given. Never printed.
pub async fn passphrase(
    kube: &KubeArgs,
    secret: Option<&str>,
    file: Option<&str>,
) -> Result<Option<(String, String)>, String> {
    if let Some(f) = file {
        let t = std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?;
        warn_loose(f);
        let pw = t.lines().next().unwrap_or("").to_string();
        if pw.is_empty() {
            return Err(format!("{f} holds no passphrase (its first line is empty)"));
        }
        return Ok(Some((pw, f.to_string())));
    }
    let Some(spec) = secret else {
        return Ok(None);
    };
    let (name, key) = spec
        .split_once('/')
        .filter(|(n, k)| !n.is_empty() && !k.is_empty())
        .ok_or_else(|| format!("--passphrase-from-secret {spec}: use NAME/KEY"))?;
    let k = crate::kube::connect(kube)
        .await
        .map_err(|e| format!("--passphrase-from-secret needs the cluster: {}", e.message))?;
    let v = crate::kube::secrets::from_secret(&k.client, &k.namespace, name, key).await?;
    Ok(Some((
        v.expose().to_string(),
        format!("Secret {name} key {key}"),
    )))
}

impl KeyArgs {
    /// Loads every identity given. Errors name files and Secrets, never
    /// their contents.
    pub async fn load(&self, kube: &KubeArgs) -> Result<Identities, String> {
        let mut ids = Identities::none();
        let mut files = self.identity.clone();
        if files.is_empty() {
            if let Some(f) = std::env::var(IDENTITY_ENV).ok().filter(|v| !v.is_empty()) {
                files.push(f);
            }
        }
        for f in &files {
            ids.add_file(f)?;
            warn_loose(f);
        }
        if let Some((pw, from)) = passphrase(
            kube,
            self.passphrase_from_secret.as_deref(),
            self.passphrase_file.as_deref(),
        )
        .await?
        {
            ids.add_passphrase(&pw, &from);
        }
        if let Some(spec) = &self.identity_from_secret {
            let (name, key) = spec
                .split_once('/')
                .filter(|(n, k)| !n.is_empty() && !k.is_empty())
                .ok_or_else(|| format!("--identity-from-secret {spec}: use NAME/KEY"))?;
            let k = crate::kube::connect(kube)
                .await
                .map_err(|e| format!("--identity-from-secret needs the cluster: {}", e.message))?;
            let v = crate::kube::secrets::from_secret(&k.client, &k.namespace, name, key).await?;
            ids.add(v.expose().as_bytes(), &format!("Secret {name} key {key}"))?;
        }
        Ok(ids)
    }
}

/// Warns (stderr, as every warning) when a key file can be read by others.
fn warn_loose(path: &str) {
    if let Some(w) = crate::store::crypt::loose_permissions(path) {
        crate::ui::warning(&w);
    }
}
