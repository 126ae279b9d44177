//! age encryption (age-encryption.org/v1, the `age` crate): recipients to
//! encrypt to, identities to decrypt with. Standard age files: the `age` CLI
//! reads ours and we read its. Secrets (identities, passphrases) are read
//! from files or Secrets, never from argv, and never printed.

use std::io::{BufReader, Read};
use std::str::FromStr;

/// The first bytes of every age file.
pub const MAGIC: &[u8] = b"age-encryption.org/v1";

/// The public keys a backup is encrypted to.
pub struct Recipients {
    list: Vec<Box<dyn age::Recipient + Send + Sync>>,
    /// As given (for the manifest): `age1...`, `ssh-ed25519 AAAA...`,
    /// `awskms://`, `gcpkms://` or `azurekv://` keys.
    pub public: Vec<String>,
    /// KMS keys (`awskms://`, `gcpkms://`, `azurekv://`) not yet asked to wrap this run's key
    /// ([`Recipients::resolve_kms`]); until then nothing can be encrypted.
    kms_specs: Vec<String>,
    /// This run's identity wrapped by each KMS key (for the manifest).
    pub kms: Vec<kubectl_redis_core::store::manifest::KmsKey>,
}

fn parse_one(s: &str, from: &str) -> Result<Box<dyn age::Recipient + Send + Sync>, String> {
    let s = s.trim();
    if s.starts_with("AGE-SECRET-KEY-") {
        return Err(format!(
            "{from} holds a secret key (an identity), not a recipient; give its public key, printed by `age-keygen -y FILE`"
        ));
    }
    if s.starts_with("age1") {
        return age::x25519::Recipient::from_str(s)
            .map(|r| Box::new(r) as _)
            .map_err(|e| format!("{from}: not a valid age recipient: {e}"));
    }
    if s.starts_with("ssh-") {
        return age::ssh::Recipient::from_str(s)
            .map(|r| Box::new(r) as _)
            .map_err(|e| format!("{from}: not a usable SSH public key: {e:?}"));
    }
    Err(format!(
        "{from} is not an age recipient (age1...) nor an SSH public key (ssh-ed25519 or ssh-rsa)"
    ))
}

/// The scrypt work factor (log2 N) of passphrase-encrypted backups: fixed,
/// not calibrated to the machine, so a small pod can always decrypt what a
/// laptop wrote; 2^15 needs 32 MiB and about 0.1 s.
pub const SCRYPT_LOG_N: u8 = 15;
/// The highest work factor accepted when decrypting (files from the `age`
/// CLI, which calibrates to about a second: 2^18 to 2^20 on most machines):
/// scrypt needs 2^N x 1 KiB of memory, so a file may not ask for more than
/// this process can spend. 2^20 (1 GiB) on a workstation; 2^16 (64 MiB)
/// inside a pod (a CronJob's limit is 128 Mi); `$KUBECTL_REDIS_SCRYPT_MAX`
/// (10 to 22) sets it.
pub fn scrypt_max_log_n() -> u8 {
    std::env::var("KUBECTL_REDIS_SCRYPT_MAX")
        .ok()
        .and_then(|v| v.trim().parse::<u8>().ok())
        .filter(|n| (10..=22).contains(n))
        .unwrap_or(if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
            16
        } else {
            20
        })
}

impl Recipients {
    /// Encryption with a passphrase (age's scrypt recipient), read from
    /// `source` (a file or a Secret); the manifest records only that.
    pub fn passphrase(pw: &str, source: &str) -> Result<Recipients, String> {
        if pw.chars().count() < 12 {
            return Err(format!(
                "the passphrase in {source} is shorter than 12 characters: too weak for backups that leave the cluster"
            ));
        }
        let mut r = age::scrypt::Recipient::new(age::secrecy::SecretString::from(pw.to_string()));
        r.set_work_factor(SCRYPT_LOG_N);
        Ok(Recipients {
            list: vec![Box::new(r)],
            public: vec![format!(
                "passphrase (scrypt 2^{SCRYPT_LOG_N}) from {source}"
            )],
            kms_specs: Vec::new(),
            kms: Vec::new(),
        })
    }

    /// `--encrypt-to` values and the lines of `--encrypt-to-file` files
    /// (blank lines and `#` comments skipped).
    pub fn parse(values: &[String], files: &[String]) -> Result<Option<Recipients>, String> {
        let mut list = Vec::new();
        let mut public = Vec::new();
        let mut kms_specs = Vec::new();
        for (i, v) in values.iter().enumerate() {
            if crate::store::kms::is_kms(v) {
                crate::store::kms::parse(v)?;
                kms_specs.push(v.trim().to_string());
            } else {
                list.push(parse_one(v, &format!("--encrypt-to #{}", i + 1))?);
            }
            public.push(v.trim().to_string());
        }
        for f in files {
            let text = std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?;
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                if crate::store::kms::is_kms(l) {
                    crate::store::kms::parse(l).map_err(|e| format!("{f} line {}: {e}", n + 1))?;
                    kms_specs.push(l.to_string());
                } else {
                    list.push(parse_one(l, &format!("{f} line {}", n + 1))?);
                }
                public.push(l.to_string());
            }
        }
        if list.is_empty() && kms_specs.is_empty() {
            if !files.is_empty() {
                return Err(format!("{} holds no recipients", files.join(", ")));
            }
            return Ok(None);
        }
        Ok(Some(Recipients {
            list,
            public,
            kms_specs,
            kms: Vec::new(),
        }))
    }

    /// Whether KMS keys are among the recipients.
    pub fn has_kms(&self) -> bool {
        !self.kms_specs.is_empty()
    }

    /// Asks each KMS key to wrap this run's age identity (one call per key
    /// per run), and encrypts to that identity's recipient too. A key that
    /// cannot be reached fails here, before anything is read (exit 12).
    pub async fn resolve_kms(
        &mut self,
    ) -> Result<(), (kubectl_redis_core::exit::Exit, crate::store::repo::Problem)> {
        if self.kms_specs.is_empty() || !self.kms.is_empty() {
            return Ok(());
        }
        let e = crate::store::kms::envelope(&self.kms_specs).await?;
        self.list.push(Box::new(e.recipient.clone()));
        self.kms = e.wrapped.clone();
        Ok(())
    }

    /// A fresh encryptor (one per file: each gets its own file key).
    pub fn encryptor(&self) -> std::io::Result<age::Encryptor> {
        if !self.kms_specs.is_empty() && self.kms.is_empty() {
            // Never plaintext, never without the key that was asked for.
            return Err(std::io::Error::other(
                "the KMS keys were not asked to wrap this backup's key: cannot encrypt",
            ));
        }
        age::Encryptor::with_recipients(self.list.iter().map(|r| r.as_ref() as &dyn age::Recipient))
            .map_err(|e| std::io::Error::other(format!("cannot encrypt: {e}")))
    }
}

/// Identities to decrypt with.
pub struct Identities {
    list: Vec<Box<dyn age::Identity + Send + Sync>>,
    /// Where they came from (file names, Secret names), for messages.
    pub sources: Vec<String>,
}

impl Identities {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn none() -> Identities {
        Identities {
            list: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// Adds the identities in `text` (an age identity file, or an
    /// unencrypted SSH private key), read from `source`.
    pub fn add(&mut self, text: &[u8], source: &str) -> Result<(), String> {
        let s = String::from_utf8_lossy(text);
        if s.contains("AGE-SECRET-KEY-") {
            let f = age::IdentityFile::from_buffer(BufReader::new(text))
                .map_err(|e| format!("{source} is not a valid age identity file: {e}"))?;
            let ids = f.into_identities().map_err(|e| format!("{source}: {e}"))?;
            for i in ids {
                self.list.push(i);
            }
        } else if s.contains("PRIVATE KEY-----") {
            let id = age::ssh::Identity::from_buffer(BufReader::new(text), Some(source.into()))
                .map_err(|e| format!("{source} is not a usable SSH private key: {e}"))?;
            match id {
                age::ssh::Identity::Unencrypted(_) => self.list.push(Box::new(id)),
                age::ssh::Identity::Encrypted(_) => {
                    return Err(format!(
                        "{source} is a passphrase-protected SSH key, which cannot be asked for here; use an unencrypted copy kept safe, or an age identity"
                    ))
                }
                age::ssh::Identity::Unsupported(_) => {
                    return Err(format!(
                        "{source}: this SSH key type is not supported by age (use ed25519 or RSA)"
                    ))
                }
            }
        } else {
            return Err(format!(
                "{source} holds no age identity (AGE-SECRET-KEY-...) nor SSH private key"
            ));
        }
        self.sources.push(source.to_string());
        Ok(())
    }

    /// Adds an age X25519 identity (one a KMS key unwrapped).
    pub fn add_x25519(&mut self, id: age::x25519::Identity, source: &str) {
        self.list.push(Box::new(id));
        self.sources.push(source.to_string());
    }

    /// Adds a passphrase (for files encrypted with one).
    pub fn add_passphrase(&mut self, pw: &str, source: &str) {
        self.add_passphrase_capped(pw, source, scrypt_max_log_n());
    }

    /// As [`Identities::add_passphrase`], accepting scrypt work factors up
    /// to 2^`max`.
    pub fn add_passphrase_capped(&mut self, pw: &str, source: &str, max: u8) {
        let mut i = age::scrypt::Identity::new(age::secrecy::SecretString::from(pw.to_string()));
        i.set_max_work_factor(max);
        self.list.push(Box::new(i));
        self.sources.push(source.to_string());
    }

    /// Adds the file `path`.
    pub fn add_file(&mut self, path: &str) -> Result<(), String> {
        let b = std::fs::read(path).map_err(|e| format!("cannot read identity {path}: {e}"))?;
        self.add(&b, path)
    }
}

/// Why a file could not be decrypted.
#[derive(Debug)]
pub enum DecryptFail {
    /// Not an age file, or its header is damaged.
    NotAge(String),
    /// No identity given, or none fits.
    Key(String),
}

/// A reader of the plaintext of the age file `r`.
pub fn decrypt<'a, R: Read + Send + 'a>(
    r: R,
    ids: &Identities,
) -> Result<Box<dyn Read + Send + 'a>, DecryptFail> {
    let d = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 16, r))
        .map_err(|e| DecryptFail::NotAge(format!("not a readable age file: {e}")))?;
    if ids.is_empty() {
        return Err(DecryptFail::Key(
            "the backup is encrypted and no identity was given".into(),
        ));
    }
    match d.decrypt(ids.list.iter().map(|i| i.as_ref() as &dyn age::Identity)) {
        Ok(r) => Ok(Box::new(r)),
        // A wrong passphrase fails scrypt's unwrap as "decryption failed".
        Err(age::DecryptError::NoMatchingKeys) | Err(age::DecryptError::DecryptionFailed) => {
            Err(DecryptFail::Key(format!(
                "none of the identities ({}) can decrypt this backup",
                ids.sources.join(", ")
            )))
        }
        Err(age::DecryptError::ExcessiveWork { required, .. }) => Err(DecryptFail::Key(format!(
            "this file's passphrase needs scrypt 2^{required} ({} MiB of memory), more than the 2^{} allowed here: decrypt it where that memory is available, or raise $KUBECTL_REDIS_SCRYPT_MAX (at most 22)",
            1u64 << (required.min(40) as u32).saturating_sub(10),
            scrypt_max_log_n()
        ))),
        Err(e) => Err(DecryptFail::NotAge(format!(
            "the age header is damaged: {e}"
        ))),
    }
}

/// A warning when `path` (an identity or passphrase file) can be read by
/// others than its owner, as ssh refuses such keys.
pub fn loose_permissions(path: &str) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "{path} can be read by others (mode {:o}): it holds a secret key; chmod 600 {path}",
                mode & 0o777
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Whether `head` starts like an age file.
pub fn is_age(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_key_is_not_a_recipient_and_is_not_echoed() {
        let secret = age::x25519::Identity::generate();
        use age::secrecy::ExposeSecret;
        let s = secret.to_string().expose_secret().to_string();
        let Err(e) = Recipients::parse(std::slice::from_ref(&s), &[]) else {
            panic!("a secret key was taken as a recipient");
        };
        assert!(e.contains("secret key"), "{e}");
        assert!(!e.contains(&s[15..]), "the secret was echoed: {e}");
        assert!(Recipients::parse(&["hello".into()], &[]).is_err());
        assert!(Recipients::parse(&[], &[]).unwrap().is_none());
    }

    #[test]
    fn encrypt_then_decrypt_with_the_right_identity_only() {
        let id = age::x25519::Identity::generate();
        let r = Recipients::parse(&[id.to_public().to_string()], &[])
            .unwrap()
            .unwrap();
        let mut w = r.encryptor().unwrap().wrap_output(Vec::new()).unwrap();
        std::io::Write::write_all(&mut w, b"REDIS0011 payload").unwrap();
        let ct = w.finish().unwrap();
        assert!(is_age(&ct));
        use age::secrecy::ExposeSecret;
        let mut ids = Identities::none();
        ids.add(id.to_string().expose_secret().as_bytes(), "test key")
            .unwrap();
        let mut out = Vec::new();
        decrypt(&ct[..], &ids)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"REDIS0011 payload");
        let other = age::x25519::Identity::generate();
        let mut wrong = Identities::none();
        wrong
            .add(other.to_string().expose_secret().as_bytes(), "other key")
            .unwrap();
        assert!(
            matches!(decrypt(&ct[..], &wrong), Err(DecryptFail::Key(m)) if m.contains("other key"))
        );
        assert!(matches!(
            decrypt(&ct[..], &Identities::none()),
            Err(DecryptFail::Key(_))
        ));
    }

    /// A passphrase file asking for more scrypt work than allowed is refused
    /// with the memory it needs and the knob, before any of it is spent
    /// (the cap was 2^22, 4 GiB, in a pod limited to 128 Mi). Allowed, it
    /// decrypts.
    #[test]
    fn scrypt_work_is_capped() {
        let mut r = age::scrypt::Recipient::new(age::secrecy::SecretString::from("pw".to_string()));
        r.set_work_factor(12);
        let e =
            age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient)).unwrap();
        let mut w = e.wrap_output(Vec::new()).unwrap();
        std::io::Write::write_all(&mut w, b"REDIS0011").unwrap();
        let ct = w.finish().unwrap();
        let mut low = Identities::none();
        low.add_passphrase_capped("pw", "pw file", 11);
        match decrypt(&ct[..], &low) {
            Err(DecryptFail::Key(m)) => {
                assert!(
                    m.contains("2^12 (4 MiB") && m.contains("KUBECTL_REDIS_SCRYPT_MAX"),
                    "{m}"
                )
            }
            _ => panic!("decrypted past the cap"),
        }
        let mut ok = Identities::none();
        ok.add_passphrase_capped("pw", "pw file", 12);
        let mut out = Vec::new();
        decrypt(&ct[..], &ok)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"REDIS0011");
        assert!(scrypt_max_log_n() <= 20, "the default stays within 1 GiB");
    }

    #[cfg(unix)]
    #[test]
    fn key_files_readable_by_others_are_named() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("key.txt");
        std::fs::write(&p, "AGE-SECRET-KEY-1").unwrap();
        let path = p.to_string_lossy().into_owned();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(loose_permissions(&path), None);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let w = loose_permissions(&path).unwrap();
        assert!(w.contains("mode 644") && w.contains("chmod 600"), "{w}");
    }
}
