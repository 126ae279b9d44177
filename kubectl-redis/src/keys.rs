//! Decryption keys for encrypted backups: `--identity FILE`,
//! `$KUBECTL_REDIS_IDENTITY`, `--identity-from-secret NAME/KEY`. Read from
//! files or the API, never from argv; never printed.

use crate::args::KubeArgs;
use crate::store::crypt::Identities;
use clap::Args;

/// The environment variable naming an identity file.
pub const IDENTITY_ENV: &str = "KUBECTL_REDIS_IDENTITY";

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Decryption")]
pub struct KeyArgs {
    /// age identity file (AGE-SECRET-KEY-...) or unencrypted SSH private key, to read encrypted backups; repeatable [env: KUBECTL_REDIS_IDENTITY]
    #[arg(short = 'i', long, value_name = "FILE")]
    pub identity: Vec<String>,
    /// Read the identity from this Secret's key (in the namespace)
    #[arg(long, value_name = "NAME/KEY")]
    pub identity_from_secret: Option<String>,
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
