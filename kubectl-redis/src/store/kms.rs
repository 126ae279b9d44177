//! Keys held by a KMS: `--encrypt-to awskms://arn:aws:kms:REGION:ACCOUNT:key/ID`
//! (and alias ARNs), `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K`
//! and `azurekv://VAULT/keys/NAME[/VERSION]`. Envelope encryption with one
//! KMS call per key per run: a fresh age X25519 identity is made, the backup
//! is an ordinary age file encrypted to its recipient (beside any other
//! recipients), and the identity itself goes into the manifest only wrapped
//! by the KMS key, never in plaintext. Reading asks the KMS to unwrap it
//! with the user's own credentials and adds the identity it gives back.
//! The clouds' own SDKs do the signing: `aws-sdk-kms` (`Encrypt`/`Decrypt`
//! with an encryption context), `google-cloud-kms-v1` (`Encrypt`/`Decrypt`
//! with additional authenticated data) and `azure_security_keyvault_keys`
//! (`wrapKey`/`unwrapKey` with RSA-OAEP-256; the key version used is
//! recorded, so rotating the key never strands a backup).

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

/// What the wrapped identity is bound to (AWS's encryption context, Google's
/// additional authenticated data): a ciphertext made for something else
/// does not unwrap as ours.
const PURPOSE: &str = "kubectl-redis backup identity";

/// A KMS key, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// An AWS KMS key or alias ARN, and its region.
    Aws { arn: String, region: String },
    /// A Google Cloud KMS CryptoKey's resource name
    /// (`projects/P/locations/L/keyRings/R/cryptoKeys/K`).
    Gcp { name: String },
    /// An Azure Key Vault key: the vault's URL, the key's name, and its
    /// version once known (wrapping records it).
    Azure {
        vault: String,
        name: String,
        version: Option<String>,
    },
}

impl Key {
    /// As `--encrypt-to` and the manifest write it.
    pub fn spec(&self) -> String {
        match self {
            Key::Aws { arn, .. } => format!("awskms://{arn}"),
            Key::Gcp { name } => format!("gcpkms://{name}"),
            Key::Azure {
                vault,
                name,
                version,
            } => {
                let host = vault.trim_start_matches("https://");
                match version {
                    Some(v) => format!("azurekv://{host}/keys/{name}/{v}"),
                    None => format!("azurekv://{host}/keys/{name}"),
                }
            }
        }
    }
}

/// `spec` checked: `awskms://ARN`, `gcpkms://projects/...` or
/// `azurekv://VAULT/keys/NAME[/VERSION]` (VAULT a vault's name, or its
/// host such as `NAME.vault.azure.net`).
pub fn parse(spec: &str) -> Result<Key, String> {
    let s = spec.trim();
    if let Some(arn) = s.strip_prefix("awskms://") {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        return match parts.as_slice() {
            ["arn", partition, "kms", region, account, res]
                if partition.starts_with("aws")
                    && !region.is_empty()
                    && !account.is_empty()
                    && (res.starts_with("key/") || res.starts_with("alias/"))
                    && res.len() > 4 =>
            {
                Ok(Key::Aws {
                    arn: arn.to_string(),
                    region: region.to_string(),
                })
            }
            _ => Err(format!(
                "{s}: not a KMS key ARN; give awskms://arn:aws:kms:REGION:ACCOUNT:key/ID (or :alias/NAME)"
            )),
        };
    }
    if let Some(name) = s.strip_prefix("gcpkms://") {
        let parts: Vec<&str> = name.split('/').collect();
        return match parts.as_slice() {
            ["projects", p, "locations", l, "keyRings", r, "cryptoKeys", k]
                if [p, l, r, k].iter().all(|x| !x.is_empty()) =>
            {
                Ok(Key::Gcp {
                    name: name.to_string(),
                })
            }
            _ => Err(format!(
                "{s}: not a Cloud KMS key; give gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY (the key, not one of its versions)"
            )),
        };
    }
    if let Some(rest) = s.strip_prefix("azurekv://") {
        let parts: Vec<&str> = rest.split('/').collect();
        let (host, name, version) = match parts.as_slice() {
            [h, "keys", n] => (*h, *n, None),
            [h, "keys", n, v] if !v.is_empty() => (*h, *n, Some(v.to_string())),
            _ => {
                return Err(format!(
                    "{s}: not a Key Vault key; give azurekv://VAULT/keys/NAME (VAULT a vault's name or host, e.g. myvault or myvault.vault.azure.net)"
                ))
            }
        };
        let ok = |x: &str, extra: &[char]| {
            !x.is_empty()
                && x.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
        };
        // A host may carry a port (a private endpoint behind a proxy).
        if !ok(host, &['.', ':']) || !ok(name, &[]) {
            return Err(format!(
                "{s}: the vault and key names are letters, digits and dashes (azurekv://VAULT/keys/NAME)"
            ));
        }
        let host = if host.contains('.') {
            host.to_string()
        } else {
            format!("{host}.vault.azure.net")
        };
        return Ok(Key::Azure {
            vault: format!("https://{host}"),
            name: name.to_string(),
            version,
        });
    }
    Err(format!(
        "{s} is not a KMS key (awskms://ARN, gcpkms://projects/..., azurekv://VAULT/keys/NAME)"
    ))
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
        other => causes(other),
    }
}

/// An error with each of its causes once (the transport's own words:
/// unreachable, TLS, timeout).
fn causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        let t = x.to_string();
        if !s.contains(&t) {
            s = format!("{s}: {t}");
        }
        src = x.source();
    }
    s
}

/// Where Google's Application Default Credentials come from, for messages.
fn gcp_source() -> String {
    match crate::env::env_nonempty("GOOGLE_APPLICATION_CREDENTIALS") {
        Some(_) => "Google credentials from $GOOGLE_APPLICATION_CREDENTIALS".into(),
        None => "Google application default credentials (gcloud auth application-default login, or the metadata server: Workload Identity)".into(),
    }
}

/// A Key Vault credential, the way Azure's tools look for one: a workload
/// identity's token file (`$AZURE_FEDERATED_TOKEN_FILE`, AKS), a service
/// principal's secret (`$AZURE_TENANT_ID`, `$AZURE_CLIENT_ID`,
/// `$AZURE_CLIENT_SECRET`), a managed identity (`$IDENTITY_ENDPOINT`, or
/// `$AZURE_USE_MANAGED_IDENTITY` on a VM), else the developer's `az`/`azd`
/// login. With its name, for messages.
fn azure_credential() -> Result<
    (
        std::sync::Arc<dyn azure_core::credentials::TokenCredential>,
        String,
    ),
    String,
> {
    use crate::env::env_nonempty;
    let e = |x: azure_core::Error| causes(&x);
    if env_nonempty("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        let c = azure_identity::WorkloadIdentityCredential::new(None).map_err(e)?;
        return Ok((
            c,
            "the workload identity ($AZURE_FEDERATED_TOKEN_FILE)".into(),
        ));
    }
    if let (Some(t), Some(id), Some(secret)) = (
        env_nonempty("AZURE_TENANT_ID"),
        env_nonempty("AZURE_CLIENT_ID"),
        env_nonempty("AZURE_CLIENT_SECRET"),
    ) {
        let c =
            azure_identity::ClientSecretCredential::new(&t, id, secret.into(), None).map_err(e)?;
        return Ok((c, "the service principal in $AZURE_CLIENT_ID".into()));
    }
    if env_nonempty("IDENTITY_ENDPOINT").is_some()
        || env_nonempty("AZURE_USE_MANAGED_IDENTITY").is_some()
    {
        let c = azure_identity::ManagedIdentityCredential::new(None).map_err(e)?;
        return Ok((c, "the managed identity".into()));
    }
    let c = azure_identity::DeveloperToolsCredential::new(None).map_err(e)?;
    Ok((c, "the az/azd login (DeveloperToolsCredential)".into()))
}

/// A Cloud KMS client on Google's Application Default Credentials, with
/// their source's name.
async fn gcp_client() -> Result<(google_cloud_kms_v1::client::KeyManagementService, String), String>
{
    let source = gcp_source();
    google_cloud_kms_v1::client::KeyManagementService::builder()
        .build()
        .await
        .map(|c| (c, source.clone()))
        .map_err(|e| format!("{} ({source})", causes(&e)))
}

/// A Key Vault client for `vault` on [`azure_credential`], with its name.
fn azure_client(vault: &str) -> Result<(azure_security_keyvault_keys::KeyClient, String), String> {
    let (cred, source) = azure_credential()?;
    azure_security_keyvault_keys::KeyClient::new(vault, cred, None)
        .map(|c| (c, source.clone()))
        .map_err(|e| format!("{} ({source})", causes(&e)))
}

/// `secret` wrapped by `key`: the ciphertext and the key as recorded (an
/// Azure key with the version that wrapped it). `Err`: why, with the
/// credential source.
async fn wrap(key: &Key, secret: &[u8]) -> Result<(Vec<u8>, Key), String> {
    let limit = std::time::Duration::from_secs(30);
    match key {
        Key::Aws { arn, region } => {
            let (c, source) = client(region).await;
            let r = tokio::time::timeout(
                limit,
                c.encrypt()
                    .key_id(arn)
                    .plaintext(aws_sdk_kms::primitives::Blob::new(secret))
                    .encryption_context("purpose", PURPOSE)
                    .send(),
            )
            .await;
            let out = match r {
                Err(_) => Err("no answer in 30 s".to_string()),
                Ok(Err(e)) => Err(sdk_error(&e)),
                Ok(Ok(o)) => Ok(o),
            }
            .map_err(|e| format!("{e} ({source})"))?;
            let blob = out
                .ciphertext_blob
                .ok_or_else(|| "it returned no ciphertext".to_string())?;
            Ok((blob.into_inner(), key.clone()))
        }
        Key::Gcp { name } => {
            let (c, source) = gcp_client().await?;
            let r = tokio::time::timeout(
                limit,
                c.encrypt()
                    .set_name(name.clone())
                    .set_plaintext(bytes::Bytes::copy_from_slice(secret))
                    .set_additional_authenticated_data(bytes::Bytes::from_static(
                        PURPOSE.as_bytes(),
                    ))
                    .send(),
            )
            .await
            .map_err(|_| format!("no answer in 30 s ({source})"))?
            .map_err(|e| format!("{} ({source})", causes(&e)))?;
            Ok((r.ciphertext.to_vec(), key.clone()))
        }
        Key::Azure {
            vault,
            name,
            version,
        } => {
            use azure_security_keyvault_keys::models::{
                EncryptionAlgorithm, KeyClientWrapKeyOptions, KeyOperationParameters,
            };
            let (c, source) = azure_client(vault)?;
            let params = KeyOperationParameters {
                algorithm: Some(EncryptionAlgorithm::RsaOaep256),
                value: Some(secret.to_vec()),
                ..Default::default()
            };
            let body = params
                .try_into()
                .map_err(|e: azure_core::Error| causes(&e))?;
            let r = tokio::time::timeout(
                limit,
                c.wrap_key(
                    name,
                    body,
                    Some(KeyClientWrapKeyOptions {
                        key_version: version.clone(),
                        ..Default::default()
                    }),
                ),
            )
            .await
            .map_err(|_| format!("no answer in 30 s ({source})"))?
            .map_err(|e| format!("{} ({source})", causes(&e)))?
            .into_model()
            .map_err(|e| format!("{} ({source})", causes(&e)))?;
            let wrapped = r
                .result
                .ok_or_else(|| "it returned no wrapped key".to_string())?;
            // The version that wrapped it, from the key id
            // (https://VAULT/keys/NAME/VERSION).
            let used = r
                .kid
                .as_deref()
                .and_then(|k| k.trim_end_matches('/').rsplit('/').next())
                .filter(|v| !v.is_empty() && *v != name.as_str())
                .map(str::to_string)
                .or_else(|| version.clone());
            Ok((
                wrapped,
                Key::Azure {
                    vault: vault.clone(),
                    name: name.clone(),
                    version: used,
                },
            ))
        }
    }
}

/// `blob` unwrapped by `key`. `Err`: why, with the credential source.
async fn unwrap_with(key: &Key, blob: Vec<u8>) -> Result<Vec<u8>, String> {
    let limit = std::time::Duration::from_secs(30);
    match key {
        Key::Aws { arn, region } => {
            let (c, source) = client(region).await;
            let r = tokio::time::timeout(
                limit,
                c.decrypt()
                    .key_id(arn)
                    .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
                    .encryption_context("purpose", PURPOSE)
                    .send(),
            )
            .await;
            match r {
                Err(_) => Err(format!("no answer in 30 s ({source})")),
                Ok(Err(e)) => Err(format!("Decrypt refused: {} ({source})", sdk_error(&e))),
                Ok(Ok(o)) => o
                    .plaintext
                    .map(|p| p.into_inner())
                    .ok_or_else(|| "Decrypt returned nothing".to_string()),
            }
        }
        Key::Gcp { name } => {
            let (c, source) = gcp_client().await?;
            let r = tokio::time::timeout(
                limit,
                c.decrypt()
                    .set_name(name.clone())
                    .set_ciphertext(bytes::Bytes::from(blob))
                    .set_additional_authenticated_data(bytes::Bytes::from_static(
                        PURPOSE.as_bytes(),
                    ))
                    .send(),
            )
            .await
            .map_err(|_| format!("no answer in 30 s ({source})"))?
            .map_err(|e| format!("Decrypt refused: {} ({source})", causes(&e)))?;
            Ok(r.plaintext.to_vec())
        }
        Key::Azure {
            vault,
            name,
            version,
        } => {
            use azure_security_keyvault_keys::models::{
                EncryptionAlgorithm, KeyOperationParameters,
            };
            let (c, source) = azure_client(vault)?;
            let params = KeyOperationParameters {
                algorithm: Some(EncryptionAlgorithm::RsaOaep256),
                value: Some(blob),
                ..Default::default()
            };
            let body = params
                .try_into()
                .map_err(|e: azure_core::Error| causes(&e))?;
            let r = tokio::time::timeout(
                limit,
                c.unwrap_key(name, version.as_deref().unwrap_or(""), body, None),
            )
            .await
            .map_err(|_| format!("no answer in 30 s ({source})"))?
            .map_err(|e| format!("unwrapKey refused: {} ({source})", causes(&e)))?
            .into_model()
            .map_err(|e| format!("{} ({source})", causes(&e)))?;
            r.result
                .ok_or_else(|| "unwrapKey returned nothing".to_string())
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
        let key = parse(spec).map_err(|m| {
            (
                Exit::Invalid,
                problem(m, "see `kubectl redis backup --help` (--encrypt-to)"),
            )
        })?;
        let (blob, used) = wrap(&key, secret.expose_secret().as_bytes())
            .await
            .map_err(|e| {
                (
                    Exit::Storage,
                    problem(
                        format!("KMS key {} cannot wrap this backup's key: {e}; nothing was backed up", key.spec()),
                        "check the key's name and region, that it is enabled, and that these credentials may encrypt (wrap) with it ($AWS_PROFILE, $GOOGLE_APPLICATION_CREDENTIALS, $AZURE_CLIENT_ID)",
                    ),
                )
            })?;
        wrapped.push(KmsKey {
            key: used.spec(),
            wrapped: base64::engine::general_purpose::STANDARD.encode(blob),
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
        let key = match parse(&k.key) {
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
        let p = match unwrap_with(&key, blob).await {
            Ok(p) => p,
            Err(e) => {
                why.push(format!("{}: {e}", k.key));
                continue;
            }
        };
        let text = String::from_utf8_lossy(&p).into_owned();
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
            "use credentials allowed to decrypt (unwrap) with that key ($AWS_PROFILE or the pod's role; $GOOGLE_APPLICATION_CREDENTIALS; $AZURE_CLIENT_ID or az login), or give an age identity it was also encrypted to with --identity",
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
    fn keys_of_every_cloud_are_checked() {
        match parse("awskms://arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab").expect("key") {
            Key::Aws { arn, region } => {
                assert_eq!(region, "eu-west-1");
                assert!(arn.starts_with("arn:aws:kms:"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("awskms://arn:aws:kms:us-east-1:123456789012:alias/backups").is_ok());
        let g = "gcpkms://projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k";
        let k = parse(g).expect("gcp");
        assert_eq!(k.spec(), g);
        let a = parse("azurekv://myvault/keys/backups").expect("azure");
        assert_eq!(
            a,
            Key::Azure {
                vault: "https://myvault.vault.azure.net".into(),
                name: "backups".into(),
                version: None
            }
        );
        assert_eq!(a.spec(), "azurekv://myvault.vault.azure.net/keys/backups");
        // A recorded version survives the round trip.
        let v = parse("azurekv://myvault.vault.azure.net/keys/backups/0123abcd").expect("version");
        assert_eq!(parse(&v.spec()).expect("again"), v, "{}", v.spec());
        for bad in [
            "awskms://key/1234",
            "awskms://arn:aws:s3:::bucket",
            "awskms://arn:aws:kms::123:key/x",
            "gcpkms://projects/p/keyRings/r/cryptoKeys/k",
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            "azurekv://myvault/secrets/x",
            "azurekv://my_vault/keys/x",
            "azurekv:///keys/x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
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
