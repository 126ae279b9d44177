//! Keys held by a KMS: `--encrypt-to awskms://arn:aws:kms:REGION:ACCOUNT:key/ID`
//! (and alias ARNs). Envelope encryption with one KMS call per run: a fresh
//! age X25519 identity is made, the backup is an ordinary age file encrypted
//! to its recipient (beside any other recipients), and the identity itself
//! goes into the manifest only wrapped by the KMS key (`Encrypt`), never in
//! plaintext. Reading calls `Decrypt` with the user's own AWS credential
//! chain and adds the identity it gives back. The AWS SDK does the signing.
//!
//! `gcpkms://` and `azurekv://` are recognised and refused: not supported yet.

use crate::store::repo::Problem;
use age::secrecy::ExposeSecret;
use base64::Engine;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::store::manifest::KmsKey;
use std::str::FromStr;

/// The KMS schemes `--encrypt-to` knows.
pub fn is_kms(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("awskms://") || s.starts_with("gcpkms://") || s.starts_with("azurekv://")
}

fn problem(message: String, hint: &str) -> Problem {
    Problem {
        message,
        hint: hint.to_string(),
    }
}

/// The key ARN of `awskms://ARN`, checked, and its region.
pub fn parse(spec: &str) -> Result<(String, String), String> {
    let s = spec.trim();
    if s.starts_with("gcpkms://") || s.starts_with("azurekv://") {
        return Err(format!(
            "{s}: Google Cloud KMS and Azure Key Vault are not supported yet; use awskms://ARN, or age recipients"
        ));
    }
    let arn = s.strip_prefix("awskms://").ok_or_else(|| {
        format!("{s} is not a KMS key (awskms://arn:aws:kms:REGION:ACCOUNT:key/ID)")
    })?;
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "kms", region, account, res]
            if partition.starts_with("aws")
                && !region.is_empty()
                && !account.is_empty()
                && (res.starts_with("key/") || res.starts_with("alias/"))
                && res.len() > 4 =>
        {
            Ok((arn.to_string(), region.to_string()))
        }
        _ => Err(format!(
            "{s}: not a KMS key ARN; give awskms://arn:aws:kms:REGION:ACCOUNT:key/ID (or :alias/NAME)"
        )),
    }
}

/// A KMS client for `region` from the AWS SDK's default credential chain
/// (environment, profile, SSO, web identity, instance metadata); the
/// endpoint from `$AWS_ENDPOINT_URL_KMS` or `$AWS_ENDPOINT_URL`. With the
/// name of the credential source, for messages.
async fn client(region: &str) -> (aws_sdk_kms::Client, String) {
    use aws_credential_types::provider::ProvideCredentials;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()));
    if let Some(p) = crate::env::env_nonempty("AWS_PROFILE") {
        loader = loader.profile_name(p);
    }
    let conf = loader.load().await;
    let from = if crate::env::env_nonempty("AWS_ACCESS_KEY_ID").is_some() {
        "$AWS_ACCESS_KEY_ID".to_string()
    } else if let Some(p) = crate::env::env_nonempty("AWS_PROFILE") {
        format!("profile {p}")
    } else if crate::env::env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        "the web identity token (IRSA)".to_string()
    } else {
        "the default chain (profile, pod or instance role)".to_string()
    };
    let source = match conf.credentials_provider() {
        Some(p) => match p.provide_credentials().await {
            Ok(_) => format!("AWS credentials from {from}"),
            Err(e) => format!(
                "no AWS credentials from {from}: {}",
                aws_sdk_kms::error::DisplayErrorContext(&e)
            ),
        },
        None => "no AWS credential provider".to_string(),
    };
    let mut b = aws_sdk_kms::config::Builder::from(&conf);
    if let Some(ep) = crate::env::env_nonempty("AWS_ENDPOINT_URL_KMS")
        .or_else(|| crate::env::env_nonempty("AWS_ENDPOINT_URL"))
    {
        b = b.endpoint_url(ep);
    }
    (aws_sdk_kms::Client::from_conf(b.build()), source)
}

fn sdk_error<E: std::error::Error + 'static>(e: &aws_sdk_kms::error::SdkError<E>) -> String {
    match e {
        aws_sdk_kms::error::SdkError::ServiceError(s) => s.err().to_string(),
        other => {
            // The transport's own words (unreachable, TLS, timeout), each
            // cause once.
            let mut s = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(x) = src {
                let t = x.to_string();
                if !s.contains(&t) {
                    s = format!("{s}: {t}");
                }
                src = x.source();
            }
            s
        }
    }
}

/// One run's envelope: the identity made for it, its recipient, and the
/// identity wrapped by each KMS key. Made once per process for a list of
/// keys, so every repository of one backup records the same wrapping.
pub struct Envelope {
    pub recipient: age::x25519::Recipient,
    pub wrapped: Vec<KmsKey>,
}

static MADE: tokio::sync::Mutex<Vec<(Vec<String>, std::sync::Arc<Envelope>)>> =
    tokio::sync::Mutex::const_new(Vec::new());

/// The envelope for `specs` (each `awskms://ARN`): a new identity, wrapped
/// by every key. A key that cannot be reached or refuses `Encrypt` fails
/// here (exit 12), before anything is read, never falling back to
/// plaintext.
pub async fn envelope(specs: &[String]) -> Result<std::sync::Arc<Envelope>, (Exit, Problem)> {
    let mut made = MADE.lock().await;
    if let Some((_, e)) = made.iter().find(|(s, _)| s == specs) {
        return Ok(e.clone());
    }
    let id = age::x25519::Identity::generate();
    let secret = id.to_string();
    let mut wrapped = Vec::new();
    for spec in specs {
        let (arn, region) = parse(spec).map_err(|m| {
            (
                Exit::Invalid,
                problem(m, "see `kubectl redis backup --help` (--encrypt-to)"),
            )
        })?;
        let (c, source) = client(&region).await;
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            c.encrypt()
                .key_id(&arn)
                .plaintext(aws_sdk_kms::primitives::Blob::new(
                    secret.expose_secret().as_bytes(),
                ))
                .encryption_context("purpose", "kubectl-redis backup identity")
                .send(),
        )
        .await;
        let out = match r {
            Err(_) => Err("no answer in 30 s".to_string()),
            Ok(Err(e)) => Err(sdk_error(&e)),
            Ok(Ok(o)) => Ok(o),
        }
        .map_err(|e| {
            (
                Exit::Storage,
                problem(
                    format!("KMS key {arn} cannot wrap this backup's key: {e} ({source}); nothing was backed up"),
                    "check the key's ARN and region, that it is enabled, and that these credentials may kms:Encrypt with it ($AWS_PROFILE, $AWS_ENDPOINT_URL_KMS)",
                ),
            )
        })?;
        let Some(blob) = out.ciphertext_blob else {
            return Err((
                Exit::Storage,
                problem(format!("KMS key {arn} returned no ciphertext"), "retry"),
            ));
        };
        wrapped.push(KmsKey {
            key: format!("awskms://{arn}"),
            wrapped: base64::engine::general_purpose::STANDARD.encode(blob.as_ref()),
            recipient: id.to_public().to_string(),
        });
    }
    let e = std::sync::Arc::new(Envelope {
        recipient: id.to_public(),
        wrapped,
    });
    made.push((specs.to_vec(), e.clone()));
    Ok(e)
}

/// The identity a manifest's KMS keys wrap, unwrapped with `Decrypt` by the
/// first key that answers. Refused by every key: exit 13, naming each key
/// and the credential source.
pub async fn unwrap(keys: &[KmsKey]) -> Result<age::x25519::Identity, (Exit, Problem)> {
    let mut why = Vec::new();
    for k in keys {
        let (arn, region) = match parse(&k.key) {
            Ok(x) => x,
            Err(e) => {
                why.push(e);
                continue;
            }
        };
        let blob = match base64::engine::general_purpose::STANDARD.decode(k.wrapped.trim()) {
            Ok(b) => b,
            Err(e) => {
                why.push(format!("{}: the wrapped key is not base64: {e}", k.key));
                continue;
            }
        };
        let (c, source) = client(&region).await;
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            c.decrypt()
                .key_id(&arn)
                .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
                .encryption_context("purpose", "kubectl-redis backup identity")
                .send(),
        )
        .await;
        let plain = match r {
            Err(_) => {
                why.push(format!("{}: no answer in 30 s ({source})", k.key));
                continue;
            }
            Ok(Err(e)) => {
                why.push(format!(
                    "{}: Decrypt refused: {} ({source})",
                    k.key,
                    sdk_error(&e)
                ));
                continue;
            }
            Ok(Ok(o)) => o.plaintext,
        };
        let Some(p) = plain else {
            why.push(format!("{}: Decrypt returned nothing", k.key));
            continue;
        };
        let text = String::from_utf8_lossy(p.as_ref()).into_owned();
        match age::x25519::Identity::from_str(text.trim()) {
            Ok(id) if id.to_public().to_string() == k.recipient => return Ok(id),
            Ok(_) => why.push(format!(
                "{}: the unwrapped key is not the one the backup was encrypted to",
                k.key
            )),
            Err(_) => why.push(format!(
                "{}: the unwrapped key is not an age identity",
                k.key
            )),
        }
    }
    Err((
        Exit::Key,
        problem(
            format!(
                "the backup's key is held by KMS and could not be unwrapped: {}",
                why.join("; ")
            ),
            "use credentials allowed kms:Decrypt with that key ($AWS_PROFILE, the pod's role), or give an age identity it was also encrypted to with --identity",
        ),
    ))
}

/// The identity a backup's KMS keys unwrap, by the one policy of every
/// reader: `Ok(None)` when the manifest holds no KMS keys, or when
/// unwrapping fails and the caller has identities of its own (one of them
/// may open the file); unwrapping failing with none is the error (exit 13).
pub async fn unwrap_for(
    m: Option<&kubectl_redis_core::store::manifest::Manifest>,
    have_identities: bool,
) -> Result<Option<(age::x25519::Identity, String)>, (Exit, Problem)> {
    let keys = m
        .and_then(|m| m.encryption.as_ref())
        .map(|e| e.kms.as_slice())
        .unwrap_or_default();
    if keys.is_empty() {
        return Ok(None);
    }
    match unwrap(keys).await {
        Ok(id) => Ok(Some((
            id,
            format!("the key KMS unwrapped ({})", keys[0].key),
        ))),
        Err(_) if have_identities => Ok(None),
        Err(e) => Err(e),
    }
}

/// The identities to read a backup with: the one its KMS keys unwrap
/// ([`unwrap_for`]), else those given.
pub async fn identities_for(
    given: &std::sync::Arc<crate::store::crypt::Identities>,
    m: Option<&kubectl_redis_core::store::manifest::Manifest>,
) -> Result<std::sync::Arc<crate::store::crypt::Identities>, (Exit, Problem)> {
    Ok(match unwrap_for(m, !given.is_empty()).await? {
        Some((id, from)) => {
            let mut i = crate::store::crypt::Identities::none();
            i.add_x25519(id, &from);
            std::sync::Arc::new(i)
        }
        None => given.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_arns_are_checked_and_other_clouds_refused_by_name() {
        let (arn, region) =
            parse("awskms://arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab").expect("key");
        assert_eq!(region, "eu-west-1");
        assert!(arn.starts_with("arn:aws:kms:"));
        assert!(parse("awskms://arn:aws:kms:us-east-1:123456789012:alias/backups").is_ok());
        for bad in [
            "awskms://key/1234",
            "awskms://arn:aws:s3:::bucket",
            "awskms://arn:aws:kms::123:key/x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = parse("gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k").expect_err("gcp");
        assert!(e.contains("not supported yet"), "{e}");
        assert!(is_kms("azurekv://vault/keys/k") && !is_kms("age1abc"));
    }

    #[test]
    fn a_kms_recipient_not_yet_asked_never_encrypts() {
        let r = crate::store::crypt::Recipients::parse(
            &["awskms://arn:aws:kms:us-east-1:123456789012:key/abc".into()],
            &[],
        )
        .expect("parses")
        .expect("some");
        assert!(r.has_kms());
        assert!(r.encryptor().is_err(), "no plaintext, no key-less file");
    }
}
