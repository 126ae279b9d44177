//! Trust in a repository whose bucket others can write: the recipients it
//! records (pinned by `schedule`, remembered per repository on this
//! machine), and Ed25519 signatures on manifests by keys the user holds.
//!
//! A signature covers the manifest's exact bytes, which name the backup's
//! size and sha256 (every restore checks the data against them); it is
//! stored beside it as `NAME.json.sig` (`kr-ed25519:PUBLIC` then the
//! signature, both hex), written before the manifest, create-only.

use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// How a public key is written: `kr-ed25519:` and 64 hex digits.
pub const PUBLIC_PREFIX: &str = "kr-ed25519:";
/// The first line of a secret key file.
pub const SECRET_PREFIX: &str = "KR-ED25519-SECRET-KEY:";

/// The name of `manifest_name`'s signature.
pub fn sig_name(manifest_name: &str) -> String {
    format!("{manifest_name}.sig")
}

fn hex(b: &[u8]) -> String {
    crate::store::rdbfile::hex(b)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A fingerprint of a set of recipients (order and duplicates aside).
pub fn fingerprint(recipients: &[String]) -> String {
    let mut r: Vec<&str> = recipients.iter().map(|s| s.trim()).collect();
    r.sort_unstable();
    r.dedup();
    format!("sha256:{}", hex(&Sha256::digest(r.join("\n").as_bytes())))
}

/// A signing key and its public half.
pub struct Signer {
    pair: Ed25519KeyPair,
    pub public: String,
}

impl Signer {
    /// A key from the file `keygen` wrote.
    pub fn load(path: &str) -> Result<Signer, String> {
        if let Some(w) = crate::store::crypt::loose_permissions(path) {
            crate::ui::warning(&w);
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        Signer::parse(&text).map_err(|e| format!("{path}: {e}"))
    }

    fn parse(text: &str) -> Result<Signer, String> {
        let line = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(SECRET_PREFIX))
            .ok_or("not a kubectl-redis signing key (made by `kubectl redis repo keygen`)")?;
        let der = unhex(line).ok_or("the key is damaged (not hex)")?;
        let pair = Ed25519KeyPair::from_pkcs8(&der).map_err(|_| "the key is damaged")?;
        let public = format!("{PUBLIC_PREFIX}{}", hex(pair.public_key().as_ref()));
        Ok(Signer { pair, public })
    }

    /// A new key: the secret file's text and the public key.
    pub fn generate() -> Result<(String, String), String> {
        let rng = ring::rand::SystemRandom::new();
        let der = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "no randomness")?;
        let text = format!(
            "# kubectl-redis signing key (Ed25519); keep it secret\n{SECRET_PREFIX}{}\n",
            hex(der.as_ref())
        );
        let s = Signer::parse(&text)?;
        Ok((text, s.public))
    }

    /// The signature file's text for `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> Vec<u8> {
        format!("{}\n{}\n", self.public, hex(self.pair.sign(bytes).as_ref())).into_bytes()
    }
}

static SIGNER: OnceLock<Signer> = OnceLock::new();

/// Every manifest this process writes is signed with `s` (`--sign-with`).
pub fn set_signer(s: Signer) {
    let _ = SIGNER.set(s);
}

pub fn signer() -> Option<&'static Signer> {
    SIGNER.get()
}

/// A public key as given (`kr-ed25519:HEX`), checked.
pub fn parse_public(s: &str) -> Result<String, String> {
    let k = s.trim();
    match k.strip_prefix(PUBLIC_PREFIX).and_then(unhex) {
        Some(b) if b.len() == 32 => Ok(k.to_string()),
        _ => Err(format!(
            "'{k}' is not a kubectl-redis public key ({PUBLIC_PREFIX} and 64 hex digits, as `kubectl redis repo keygen` prints)"
        )),
    }
}

/// Whether `sig` (a signature file's text) signs `manifest` by one of
/// `trusted`: the key that did, or why not.
pub fn verify(manifest: &[u8], sig: &[u8], trusted: &[String]) -> Result<String, String> {
    let text = String::from_utf8_lossy(sig);
    let mut lines = text.lines();
    let (Some(key), Some(s)) = (lines.next(), lines.next()) else {
        return Err("the signature file is damaged".into());
    };
    let key = key.trim();
    if !trusted.iter().any(|t| t.trim() == key) {
        return Err(format!("signed by {key}, a key not trusted here"));
    }
    let public = key
        .strip_prefix(PUBLIC_PREFIX)
        .and_then(unhex)
        .ok_or("the signature names a damaged key")?;
    let sig = unhex(s).ok_or("the signature is damaged")?;
    UnparsedPublicKey::new(&ED25519, public)
        .verify(manifest, &sig)
        .map(|()| key.to_string())
        .map_err(|_| {
            format!("the signature by {key} does not match the manifest (changed after signing)")
        })
}

/// What this machine last saw of a repository: kept in
/// `~/.config/kubectl-redis/known-repos.json` (or `$XDG_CONFIG_HOME`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Known {
    recipients: String,
    #[serde(default)]
    signers: Vec<String>,
}

fn known_path() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".config")))?;
    Some(base.join("kubectl-redis").join("known-repos.json"))
}

fn load_known() -> std::collections::BTreeMap<String, Known> {
    known_path()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_known(all: &std::collections::BTreeMap<String, Known>) {
    let Some(p) = known_path() else { return };
    if let Some(d) = p.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    if let Ok(b) = serde_json::to_vec_pretty(all) {
        let _ = crate::store::files::write_whole(&p.to_string_lossy(), &b);
    }
}

/// Compares a repository's recorded recipients with what this machine saw
/// last time (first use: remembered): a warning naming both when they
/// changed. Best effort: a machine without a writable home remembers
/// nothing (a scheduled Job relies on `--pin-recipients`).
pub fn remember_recipients(repo: &str, recipients: &[String]) -> Option<String> {
    let fp = fingerprint(recipients);
    let mut all = load_known();
    let entry = all.entry(repo.to_string()).or_default();
    let before = std::mem::replace(&mut entry.recipients, fp.clone());
    save_known(&all);
    (!before.is_empty() && before != fp).then(|| {
        format!(
            "the recipients recorded in {repo} changed since this machine last used it ({before} then, {fp} now: {}); if you did not change them (`repo init --force`), someone who can write the bucket did, and backups now go to their keys",
            recipients.join(", ")
        )
    })
}

/// The signers a repository required when this machine last used it
/// (kept even if its settings no longer list them: an attacker who can
/// write the bucket could drop them), merged with those it lists now.
pub fn remember_signers(repo: &str, now: &[String]) -> (Vec<String>, Option<String>) {
    let mut all = load_known();
    if now.is_empty() && all.get(repo).is_none_or(|k| k.signers.is_empty()) {
        return (Vec::new(), None);
    }
    let entry = all.entry(repo.to_string()).or_default();
    let dropped: Vec<String> = entry
        .signers
        .iter()
        .filter(|s| !now.contains(s))
        .cloned()
        .collect();
    let mut merged = entry.signers.clone();
    for s in now {
        if !merged.contains(s) {
            merged.push(s.clone());
        }
    }
    entry.signers = merged.clone();
    save_known(&all);
    let warning = (!dropped.is_empty()).then(|| {
        format!(
            "{repo} no longer lists the signer(s) {} that this machine saw it require: still required here (edit {} to forget them)",
            dropped.join(", "),
            known_path().map(|p| p.display().to_string()).unwrap_or_default()
        )
    });
    (merged, warning)
}

/// The raw bytes of `name` in `src`'s place (its directory, or its
/// bucket prefix), `None` when absent.
async fn sibling(
    src: &crate::store::source::Source,
    name: &str,
) -> Result<Option<Vec<u8>>, String> {
    use crate::store::source::Source;
    match src {
        Source::Local(p) => match std::fs::read(p.with_file_name(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {name}: {e}")),
        },
        Source::Remote { remote, .. } => {
            use object_store::ObjectStoreExt;
            match remote.store.get(&remote.path(name)).await {
                Ok(g) => g
                    .bytes()
                    .await
                    .map(|b| Some(b.to_vec()))
                    .map_err(|e| e.to_string()),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// Whether the backup `src` carries a signature by one of `trusted` over
/// its manifest: the key, or why not (unsigned, another key, changed).
pub async fn check_source(
    src: &crate::store::source::Source,
    trusted: &[String],
) -> Result<String, String> {
    let mname = kubectl_redis_core::store::manifest::name_for(&src.name());
    let Some(m) = sibling(src, &mname).await? else {
        return Err("it has no manifest".into());
    };
    let Some(s) = sibling(src, &sig_name(&mname)).await? else {
        return Err("it is unsigned".into());
    };
    verify(&m, &s, trusted)
}

/// The keys a restore from `repo` trusts: `--trust`, `$KUBECTL_REDIS_TRUST`
/// and the repository's signers (with those this machine saw it require).
pub async fn trusted_keys(
    flags: &[String],
    repo: Option<&crate::store::repo::Repo>,
) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let env = std::env::var("KUBECTL_REDIS_TRUST").unwrap_or_default();
    for k in flags
        .iter()
        .map(String::as_str)
        .chain(env.split([',', ' ', '\n']).filter(|s| !s.trim().is_empty()))
    {
        keys.push(parse_public(k)?);
    }
    if let Some(r) = repo {
        let listed = r
            .config()
            .await
            .ok()
            .flatten()
            .map(|c| c.signers)
            .unwrap_or_default();
        let (all, warning) = remember_signers(&r.display(), &listed);
        if let Some(w) = warning {
            crate::ui::warning(&w);
        }
        keys.extend(all);
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_the_manifest_to_a_trusted_key() {
        let (secret, public) = Signer::generate().unwrap();
        let s = Signer::parse(&secret).unwrap();
        assert_eq!(s.public, public);
        assert_eq!(parse_public(&public).unwrap(), public);
        let m = b"{\"sha256\": \"abc\"}\n";
        let sig = s.sign(m);
        assert_eq!(
            verify(m, &sig, std::slice::from_ref(&public)).unwrap(),
            public
        );
        // Another manifest, the same signature: refused.
        let e = verify(
            b"{\"sha256\": \"abd\"}\n",
            &sig,
            std::slice::from_ref(&public),
        )
        .unwrap_err();
        assert!(e.contains("does not match"), "{e}");
        // Signed, but by a key not trusted here.
        let (_, other) = Signer::generate().unwrap();
        let e = verify(m, &sig, &[other]).unwrap_err();
        assert!(e.contains("not trusted"), "{e}");
        // A forged line naming the trusted key, signed by another key.
        let (secret2, _) = Signer::generate().unwrap();
        let forged = Signer::parse(&secret2).unwrap().sign(m);
        let text =
            String::from_utf8_lossy(&forged).replacen(forged_key(&forged).as_str(), &public, 1);
        assert!(verify(m, text.as_bytes(), std::slice::from_ref(&public)).is_err());
        assert!(parse_public("kr-ed25519:abcd").is_err());
    }

    fn forged_key(sig: &[u8]) -> String {
        String::from_utf8_lossy(sig)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn fingerprints_ignore_order() {
        let a = fingerprint(&["age1b".into(), "age1a".into()]);
        assert_eq!(
            a,
            fingerprint(&["age1a".into(), "age1b".into(), "age1a".into()])
        );
        assert_ne!(a, fingerprint(&["age1a".into()]));
    }
}
