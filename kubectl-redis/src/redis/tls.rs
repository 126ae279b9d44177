//! TLS to Redis with rustls (ring): the flags' certificates and keys, the
//! pod's own (found through its `REDIS_TLS_*` variables and command line,
//! read from the Secret volume they live on), a server certificate checked
//! against the names a pod's certificate is issued for (never
//! `localhost` through a port-forward), and failures named with the flag
//! that fixes them.
//!
//! Keys are read from files or Secrets only, never from argv, and never
//! printed.

use kubectl_redis_core::kube::tls::Failure;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// A certificate chain and its key, for the client's side.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// Where it came from, for messages.
    pub from: String,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            from: self.from.clone(),
        }
    }
}

/// What the user gave on the command line (paths read, Secret fetched).
#[derive(Clone, Default)]
pub struct Given {
    /// `--tls`, `rediss://`, or any other TLS flag: every connection is TLS.
    pub force: bool,
    /// `--cacert` or the Secret's `ca.crt`.
    pub ca: Option<(Vec<CertificateDer<'static>>, String)>,
    /// `--cert`/`--key` or the Secret's `tls.crt`/`tls.key`.
    pub identity: Option<Identity>,
    /// `--tls-server-name`.
    pub server_name: Option<String>,
    /// `--insecure-skip-verify`.
    pub insecure: bool,
}

static GIVEN: OnceLock<Given> = OnceLock::new();

/// Records the run's TLS flags, once, before the first connection.
pub fn set(g: Given) {
    let _ = GIVEN.set(g);
}

/// The run's TLS flags (none recorded: no TLS unless a pod says so).
pub fn given() -> &'static Given {
    static NONE: OnceLock<Given> = OnceLock::new();
    GIVEN
        .get()
        .unwrap_or_else(|| NONE.get_or_init(Given::default))
}

/// Certificates from PEM text.
pub fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{what}: not PEM certificates ({e})"))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} holds no certificate (a PEM file with -----BEGIN CERTIFICATE----- is expected)"
        ));
    }
    Ok(certs)
}

/// A client identity from PEM text: the chain and its key.
pub fn identity_from_pem(chain: &[u8], key: &[u8], from: &str) -> Result<Identity, String> {
    let chain = certs_from_pem(chain, &format!("the client certificate ({from})"))?;
    // The key's own error could quote it: say only what is wrong.
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|_| {
        format!("the client key ({from}) is not a PEM private key (PKCS#8, PKCS#1 or SEC1)")
    })?;
    Ok(Identity {
        chain,
        key,
        from: from.to_string(),
    })
}

/// Reads a PEM file given by a flag, warning when a key file is readable
/// by others.
pub fn read_file(path: &std::path::Path, flag: &str, secret: bool) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: {flag} {} can be read by other users (mode {:o}); chmod 600 it",
                    path.display(),
                    m.permissions().mode() & 0o777
                );
            }
        }
    }
    Ok(bytes)
}

/// One connection's TLS: what to trust, what to present, which names to
/// check.
#[derive(Clone)]
pub struct Plan {
    /// Trusted CAs (`None` with `insecure`).
    pub ca: Option<Vec<CertificateDer<'static>>>,
    /// The client identity, if any.
    pub identity: Option<Identity>,
    /// Names the server certificate may carry (the first that matches).
    pub names: Vec<String>,
    /// No check of the server at all.
    pub insecure: bool,
    /// Why this connection is TLS (a flag, the pod's spec).
    pub why: String,
    /// Where the CA and the client certificate come from, in words.
    pub uses: String,
}

fn uses(ca: Option<&str>, id: Option<&str>, names: &[String], insecure: bool) -> String {
    let check = if insecure {
        "no check of the server (--insecure-skip-verify)".to_string()
    } else {
        let shown = match names {
            [] => "(none)".to_string(),
            [a] => a.clone(),
            [a, rest @ ..] => format!("{a} (and {} more)", rest.len()),
        };
        format!(
            "the CA from {}, the name {shown}",
            ca.unwrap_or("the system")
        )
    };
    match id {
        Some(i) => format!("{check}; client certificate {i}"),
        None => format!("{check}; no client certificate"),
    }
}

/// What a handshake showed of the server.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Its certificate's subject.
    pub subject: Option<String>,
    /// The DNS names and addresses it is issued for.
    pub names: Vec<String>,
    /// Validity, seconds since the epoch.
    pub not_before: Option<i64>,
    /// End of validity.
    pub not_after: Option<i64>,
    /// The server asked for a client certificate.
    pub asked_for_cert: bool,
}

type ObservedMap = std::sync::Mutex<std::collections::HashMap<String, Observed>>;

fn observations() -> &'static ObservedMap {
    static O: OnceLock<ObservedMap> = OnceLock::new();
    O.get_or_init(Default::default)
}

/// What the last handshake with `server` showed (`pod P port N`, `host:port`).
pub fn observed(server: &str) -> Option<Observed> {
    observations().lock().ok()?.get(server).cloned()
}

fn describe(der: &[u8]) -> Observed {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let mut o = Observed::default();
    if let Ok((_, c)) = X509Certificate::from_der(der) {
        o.subject = Some(c.subject().to_string());
        o.not_before = Some(c.validity().not_before.timestamp());
        o.not_after = Some(c.validity().not_after.timestamp());
        if let Ok(Some(san)) = c.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    GeneralName::DNSName(d) => o.names.push(d.to_string()),
                    GeneralName::IPAddress(b) => {
                        if let Ok(a) = <[u8; 4]>::try_from(*b) {
                            o.names.push(std::net::Ipv4Addr::from(a).to_string());
                        } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                            o.names.push(std::net::Ipv6Addr::from(a).to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    o
}

/// What a handshake saw, for the error messages.
#[derive(Debug, Default)]
struct Seen {
    asked_for_cert: AtomicBool,
    /// The server's certificate, as the check got it.
    cert: std::sync::Mutex<Option<Vec<u8>>>,
}

#[derive(Debug)]
struct ClientCert {
    key: Option<Arc<rustls::sign::CertifiedKey>>,
    seen: Arc<Seen>,
}

impl ResolvesClientCert for ClientCert {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.seen.asked_for_cert.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        // Asked either way, so that a request for a certificate is seen.
        true
    }
}

/// Checks the chain once, then the names in turn: the certificate passes
/// when it is valid for any of them.
#[derive(Debug)]
struct Names {
    inner: Option<Arc<WebPkiServerVerifier>>,
    names: Vec<ServerName<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    seen: Arc<Seen>,
}

impl ServerCertVerifier for Names {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if let Ok(mut c) = self.seen.cert.lock() {
            *c = Some(end_entity.to_vec());
        }
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        let mut last = None;
        let names = if self.names.is_empty() {
            vec![server_name.to_owned()]
        } else {
            self.names.clone()
        };
        for n in &names {
            match inner.verify_server_cert(end_entity, intermediates, n, ocsp, now) {
                Ok(v) => return Ok(v),
                Err(
                    e @ Error::InvalidCertificate(
                        CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. },
                    ),
                ) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::InvalidCertificate(CertificateError::NotValidForName)))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn name_of(n: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(n.trim_start_matches('[').trim_end_matches(']').to_string()).ok()
}

/// The longest a TLS handshake may take (less when the stall timeout is).
const HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(10);

/// A name as rustls shows it (`DnsName("a.b")`, `IpAddress(10.0.0.1)`),
/// bare.
fn bare_name(n: &str) -> String {
    n.trim_start_matches("DnsName(")
        .trim_start_matches("IpAddress(")
        .trim_end_matches(')')
        .trim_matches('"')
        .to_string()
}

/// A TLS stream over `io` as `plan` says; `server` names it in errors.
pub async fn connect<S>(
    io: S,
    plan: &Plan,
    server: &str,
) -> Result<tokio_rustls::client::TlsStream<S>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let seen = Arc::new(Seen::default());
    let r = handshake(io, plan, server, &seen).await;
    let cert = seen.cert.lock().ok().and_then(|c| c.clone());
    let mut o = cert.as_deref().map(describe).unwrap_or_default();
    o.asked_for_cert = seen.asked_for_cert.load(Ordering::Relaxed);
    if let Ok(mut m) = observations().lock() {
        m.insert(server.to_string(), o);
    }
    r
}

async fn handshake<S>(
    io: S,
    plan: &Plan,
    server: &str,
    seen: &Arc<Seen>,
) -> Result<tokio_rustls::client::TlsStream<S>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = match (&plan.ca, plan.insecure) {
        (_, true) => None,
        (Some(ca), false) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in ca {
                roots
                    .add(c.clone())
                    .map_err(|e| format!("the CA certificate cannot be used: {e}"))?;
            }
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("the CA certificates cannot be used: {e}"))?,
            )
        }
        (None, false) => {
            return Err(format!(
                "{server} speaks TLS and no CA was given to check it: give --cacert FILE or --tls-from-secret NAME (or --insecure-skip-verify, which checks nothing)"
            ))
        }
    };
    let names: Vec<ServerName<'static>> = plan.names.iter().filter_map(|n| name_of(n)).collect();
    let key = match &plan.identity {
        Some(id) => {
            let signer = provider
                .key_provider
                .load_private_key(id.key.clone_key())
                .map_err(|_| format!("the client key ({}) cannot be used for TLS", id.from))?;
            Some(Arc::new(rustls::sign::CertifiedKey::new(
                id.chain.clone(),
                signer,
            )))
        }
        None => None,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Names {
            inner,
            names: names.clone(),
            provider,
            seen: seen.clone(),
        }))
        .with_client_cert_resolver(Arc::new(ClientCert {
            key,
            seen: seen.clone(),
        }));
    // SNI carries the first name (an address sends none).
    let sni = names
        .first()
        .cloned()
        .unwrap_or_else(|| ServerName::try_from("redis").expect("a valid name"));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    // A plain Redis reads a ClientHello as an inline command and waits for
    // its end of line: no answer at all.
    let wait = crate::env::stall().min(HANDSHAKE);
    let mut s = match tokio::time::timeout(wait, connector.connect(sni, io)).await {
        Err(_) => {
            return Err(format!(
                "{server} did not answer a TLS handshake in {} s: a server that does not speak TLS on this port does that; drop --tls (use redis://) or name its TLS port",
                wait.as_secs()
            ))
        }
        Ok(r) => r.map_err(|e| {
            classify(&e, plan, seen.asked_for_cert.load(Ordering::Relaxed)).message(server)
        })?,
    };
    // TLS 1.3 settles the client certificate after the client's side of
    // the handshake: a PING's answer (NOAUTH counts) proves the server took
    // the connection, and a refusal is named here.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ping = b"*1\r\n$4\r\nPING\r\n";
    let mut first = [0u8; 1];
    let r = async {
        s.write_all(ping).await?;
        s.flush().await?;
        let n = s.read(&mut first).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed",
            ));
        }
        Ok(())
    };
    match tokio::time::timeout(crate::env::stall(), r).await {
        Err(_) => return Err(crate::env::stalled("Redis sent no answer over TLS")),
        Ok(Err(e)) => {
            let asked = seen.asked_for_cert.load(Ordering::Relaxed);
            return Err(classify(&e, plan, asked).message(server));
        }
        Ok(Ok(())) => {}
    }
    // The rest of the PING's reply: one line.
    let mut line = vec![first[0]];
    while !line.ends_with(b"\r\n") && line.len() < 4096 {
        let mut b = [0u8; 1];
        match tokio::time::timeout(crate::env::stall(), s.read(&mut b)).await {
            Ok(Ok(1)) => line.push(b[0]),
            _ => return Err(format!("{server}: no whole answer to PING over TLS")),
        }
    }
    Ok(s)
}

/// Names a failed handshake or first exchange.
fn classify(e: &std::io::Error, plan: &Plan, asked: bool) -> Failure {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<Error>());
    match inner {
        Some(Error::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => Failure::UnknownCa,
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => Failure::Expired,
            CertificateError::NotValidForNameContext { presented, .. } => Failure::NameMismatch {
                tried: plan.names.clone(),
                has: presented.iter().map(|n| bare_name(n)).collect(),
            },
            CertificateError::NotValidForName => Failure::NameMismatch {
                tried: plan.names.clone(),
                has: Vec::new(),
            },
            other => Failure::Other(format!("the server's certificate: {other:?}")),
        },
        Some(Error::InvalidMessage(_)) => Failure::NotTls,
        Some(Error::AlertReceived(a)) => {
            use rustls::AlertDescription as A;
            match a {
                A::CertificateRequired => Failure::NoClientCert,
                A::HandshakeFailure | A::BadCertificate | A::UnknownCA | A::CertificateUnknown
                    if asked =>
                {
                    if plan.identity.is_some() {
                        Failure::ClientCertRefused
                    } else {
                        Failure::NoClientCert
                    }
                }
                other => Failure::Other(format!("the server sent the alert {other:?}")),
            }
        }
        Some(other) => Failure::Other(other.to_string()),
        None => {
            // A server that took the handshake and then hung up on a
            // client without a certificate.
            if asked && plan.identity.is_none() {
                Failure::NoClientCert
            } else {
                Failure::Other(e.to_string())
            }
        }
    }
}

type PlanCache = std::sync::Mutex<std::collections::HashMap<(String, u16), Option<Plan>>>;

fn cache() -> &'static PlanCache {
    static CACHE: OnceLock<PlanCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The cluster's DNS domain (`$KUBECTL_REDIS_CLUSTER_DOMAIN`, else
/// `cluster.local`), for the names a pod's certificate may carry.
fn cluster_domain() -> String {
    std::env::var("KUBECTL_REDIS_CLUSTER_DOMAIN")
        .ok()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| "cluster.local".into())
}

/// The TLS of a connection to pod `t`: `None` when it is plain (no TLS
/// flag, and nothing in the pod says TLS for that port). The CA and the
/// client's certificate come from the flags, else from the files the
/// container's TLS options name, read through the API from the Secret
/// volume they are on.
pub async fn pod_plan(
    api: &kube::Api<k8s_openapi::api::core::v1::Pod>,
    t: &kubectl_redis_core::kube::pods::Target,
) -> Result<Option<Plan>, String> {
    use kubectl_redis_core::kube::tls::{pod_names, selects};
    let key = (t.pod.clone(), t.port);
    if let Ok(c) = cache().lock() {
        if let Some(p) = c.get(&key) {
            return Ok(p.clone());
        }
    }
    let g = given();
    let pod = pod_once(api, &t.pod).await?;
    let ns = api.namespace().unwrap_or("default").to_string();
    let client = api.clone().into_client();
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(None);
    };
    let Some(c) = spec.containers.iter().find(|c| c.name == t.container) else {
        return Ok(None);
    };
    let tls = crate::kube::pods::tls_spec(c);
    let server = format!("pod {} port {}", t.pod, t.port);
    let why = if g.force {
        Some("--tls".to_string())
    } else {
        tls.on(t.port)
    };
    if why.is_none() {
        if let Ok(mut c) = cache().lock() {
            c.insert(key, None);
        }
        return Ok(None);
    }
    let from_pod = |file: &Option<String>| -> Option<Result<(String, String), String>> {
        let f = file.as_ref()?;
        Some(
            crate::kube::secrets::secret_of_file(spec, c, f)
                .map_err(|why| format!("the file {f} {why}")),
        )
    };
    let mut ca_from = None;
    let ca = match (&g.ca, g.insecure) {
        (_, true) => None,
        (Some((ca, from)), false) => {
            ca_from = Some(from.clone());
            Some(ca.clone())
        }
        (None, false) => match from_pod(&tls.ca_file) {
            Some(Ok((name, k))) => {
                let pem = crate::kube::secrets::bytes_from_secret(&client, &ns, &name, &k).await?;
                ca_from = Some(format!("Secret {name}/{k}"));
                Some(certs_from_pem(&pem, &format!("Secret {name}/{k}"))?)
            }
            Some(Err(e)) => {
                return Err(format!(
                    "{server} speaks TLS ({}) and its CA ({e}) cannot be read through the API: give --cacert FILE or --tls-from-secret NAME",
                    why.unwrap_or_default()
                ))
            }
            None => {
                return Err(format!(
                    "{server} speaks TLS ({}) and names no CA: give --cacert FILE or --tls-from-secret NAME (or --insecure-skip-verify, which checks nothing)",
                    why.unwrap_or_default()
                ))
            }
        },
    };
    let identity = match &g.identity {
        Some(id) => Some(id.clone()),
        // The server's own pair, when clients must present one: any
        // certificate its CA signed will do.
        None if tls.auth_clients != Some(false) => {
            match (from_pod(&tls.cert_file), from_pod(&tls.key_file)) {
                (Some(Ok((cn, ck))), Some(Ok((kn, kk)))) => {
                    let chain =
                        crate::kube::secrets::bytes_from_secret(&client, &ns, &cn, &ck).await?;
                    let keyb =
                        crate::kube::secrets::bytes_from_secret(&client, &ns, &kn, &kk).await?;
                    Some(identity_from_pem(
                        &chain,
                        &keyb,
                        &format!("Secret {cn}/{ck}"),
                    )?)
                }
                _ => None,
            }
        }
        None => None,
    };
    let names = match &g.server_name {
        Some(n) => vec![n.clone()],
        None => {
            let labels: Vec<(&str, &str)> = pod
                .metadata
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let svcs: kube::Api<k8s_openapi::api::core::v1::Service> =
                kube::Api::namespaced(client.clone(), &ns);
            // Without list on services, the pod's own names still count.
            let services: Vec<String> = match svcs.list(&Default::default()).await {
                Ok(l) => l
                    .items
                    .iter()
                    .filter(|s| {
                        let sel = s.spec.as_ref().and_then(|s| s.selector.as_ref());
                        sel.is_some_and(|sel| {
                            selects(sel.iter().map(|(k, v)| (k.as_str(), v.as_str())), &labels)
                        })
                    })
                    .filter_map(|s| s.metadata.name.clone())
                    .collect(),
                Err(_) => Vec::new(),
            };
            pod_names(
                &t.pod,
                spec.hostname.as_deref(),
                spec.subdomain.as_deref(),
                &ns,
                pod.status
                    .as_ref()
                    .and_then(|s| s.pod_ip.as_deref())
                    .unwrap_or_default(),
                &services,
                &cluster_domain(),
            )
        }
    };
    let plan = Plan {
        uses: uses(
            ca_from.as_deref(),
            identity.as_ref().map(|i| i.from.as_str()),
            &names,
            g.insecure,
        ),
        why: why.unwrap_or_default(),
        ca,
        identity,
        names,
        insecure: g.insecure,
    };
    if let Ok(mut c) = cache().lock() {
        c.insert(key, Some(plan.clone()));
    }
    Ok(Some(plan))
}

/// The TLS of a connection to `host:port` by address: `None` without a
/// TLS flag or `rediss://`. The certificate is checked against
/// `--tls-server-name`, else the host dialled.
pub fn url_plan(host: &str) -> Result<Option<Plan>, String> {
    let g = given();
    if !g.force {
        return Ok(None);
    }
    // Without --cacert, the system's CAs (a cloud's managed Redis is
    // signed by a public one).
    let ca = match &g.ca {
        Some((c, _)) => Some(c.clone()),
        None if g.insecure => None,
        None => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                return Err(format!(
                    "{host}: no CA was given and the system has none; give --cacert FILE or --tls-from-secret NAME"
                ));
            }
            Some(found.certs)
        }
    };
    let names = vec![g.server_name.clone().unwrap_or_else(|| host.to_string())];
    Ok(Some(Plan {
        uses: uses(
            g.ca.as_ref().map(|(_, f)| f.as_str()),
            g.identity.as_ref().map(|i| i.from.as_str()),
            &names,
            g.insecure,
        ),
        why: "rediss:// or a TLS flag".into(),
        ca,
        identity: g.identity.clone(),
        names,
        insecure: g.insecure,
    }))
}

/// The CA and client certificate of a kubernetes.io/tls Secret's keys
/// (`ca.crt`, `tls.crt`, `tls.key`), read through the API or from where
/// the Secret is mounted (`from` names it, `flag` the flag that gave it).
fn from_tls_keys(
    g: &mut Given,
    get: impl Fn(&str) -> Option<Vec<u8>>,
    from: &str,
    flag: &str,
) -> Result<(), String> {
    if g.ca.is_none() {
        if let Some(ca) = get("ca.crt") {
            g.ca = Some((
                certs_from_pem(&ca, &format!("{from}/ca.crt"))?,
                format!("{from}/ca.crt"),
            ));
        }
    }
    match (get("tls.crt"), get("tls.key")) {
        (Some(c), Some(kb)) => {
            g.identity = Some(identity_from_pem(&c, &kb, from)?);
            Ok(())
        }
        (None, None) if g.ca.is_some() => Ok(()),
        _ => Err(format!(
            "{flag}: {from} has neither ca.crt nor both tls.crt and tls.key (a kubernetes.io/tls Secret, as cert-manager writes, has them)"
        )),
    }
}

/// Records this run's TLS from its flags (`url_tls`: the URL was
/// `rediss://`): files read, a `--tls-from-secret` Secret fetched through
/// `k`. Errors name the flag.
pub async fn setup(
    a: &crate::args::TlsArgs,
    url_tls: bool,
    k: Option<&crate::kube::Kube>,
) -> Result<(), String> {
    let mut g = Given {
        force: url_tls || a.any(),
        server_name: a.tls_server_name.clone(),
        insecure: a.insecure_skip_verify,
        ..Given::default()
    };
    if let Some(p) = &a.cacert {
        let pem = read_file(p, "--cacert", false)?;
        g.ca = Some((
            certs_from_pem(&pem, &format!("--cacert {}", p.display()))?,
            format!("--cacert {}", p.display()),
        ));
    }
    if let (Some(c), Some(kf)) = (&a.cert, &a.key) {
        let chain = read_file(c, "--cert", false)?;
        let key = read_file(kf, "--key", true)?;
        g.identity = Some(identity_from_pem(
            &chain,
            &key,
            &format!("--cert {}", c.display()),
        )?);
    }
    if let Some(name) = &a.tls_from_secret {
        let Some(k) = k else {
            return Err("--tls-from-secret reads the Secret from the cluster, and --url reaches a server without one; give --cacert, --cert and --key files".into());
        };
        let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
            kube::Api::namespaced(k.client.clone(), &k.namespace);
        let s = api.get(name).await.map_err(|e| match e {
            kube::Error::Api(ae) if ae.code == 404 => format!(
                "--tls-from-secret: Secret {name} not found in namespace {}",
                k.namespace
            ),
            kube::Error::Api(ae) if ae.code == 403 => format!(
                "--tls-from-secret: not allowed to read Secret {name} in namespace {} (needs get on secrets)",
                k.namespace
            ),
            other => format!("--tls-from-secret {name}: {}", crate::kube::api_error(other)),
        })?;
        let data = s.data.unwrap_or_default();
        from_tls_keys(
            &mut g,
            |key| data.get(key).map(|b| b.0.clone()),
            &format!("Secret {name}"),
            "--tls-from-secret",
        )?;
    }
    if let Some(dir) = &a.tls_from_dir {
        if !dir.is_dir() {
            return Err(format!(
                "--tls-from-dir {}: not a directory (a kubernetes.io/tls Secret mounted as a volume)",
                dir.display()
            ));
        }
        let mut files = std::collections::HashMap::new();
        for key in ["ca.crt", "tls.crt", "tls.key"] {
            let p = dir.join(key);
            if p.exists() {
                files.insert(key, read_file(&p, "--tls-from-dir", key == "tls.key")?);
            }
        }
        from_tls_keys(
            &mut g,
            |key| files.get(key).cloned(),
            &dir.display().to_string(),
            "--tls-from-dir",
        )?;
    }
    if g.insecure {
        crate::ui::warning(
            "--insecure-skip-verify: the server's certificate is not checked; anyone between here and Redis can read the password and the data",
        );
    }
    set(g);
    Ok(())
}

/// The arguments redis-cli needs inside pod `t` to reach its server over
/// TLS (`--tls`, the CA and certificate files the server's own options
/// name): empty for a plain port. Paths in the pod, never keys.
pub async fn cli_args(
    api: &kube::Api<k8s_openapi::api::core::v1::Pod>,
    t: &kubectl_redis_core::kube::pods::Target,
) -> Vec<String> {
    type CliCache = std::sync::Mutex<std::collections::HashMap<(String, u16), Vec<String>>>;
    static CLI: OnceLock<CliCache> = OnceLock::new();
    let cache = CLI.get_or_init(Default::default);
    let key = (t.pod.clone(), t.port);
    if let Some(a) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return a;
    }
    let Ok(pod) = pod_once(api, &t.pod).await else {
        return Vec::new();
    };
    let spec = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.iter().find(|c| c.name == t.container))
        .map(crate::kube::pods::tls_spec)
        .unwrap_or_default();
    let args = if given().force || spec.on(t.port).is_some() {
        spec.cli_args()
    } else {
        Vec::new()
    };
    if let Ok(mut c) = cache.lock() {
        c.insert(key, args.clone());
    }
    args
}

/// For `status`: TLS to pod `t`, when it speaks TLS: a connection made
/// and what its handshake showed, or why it failed.
pub async fn status_probe(
    api: &kube::Api<k8s_openapi::api::core::v1::Pod>,
    t: &kubectl_redis_core::kube::pods::Target,
) -> Option<kubectl_redis_core::ops::status::TlsFacts> {
    use kubectl_redis_core::ops::status::TlsFacts;
    let mut f = TlsFacts {
        port: t.port,
        ..TlsFacts::default()
    };
    match pod_plan(api, t).await {
        Ok(None) => return None,
        Ok(Some(p)) => {
            f.why = p.why.clone();
            f.uses = p.uses.clone();
        }
        Err(e) => {
            f.why = "the pod's spec".into();
            f.uses = "nothing usable".into();
            f.error = Some(e);
            return Some(f);
        }
    }
    let to = kubectl_redis_core::backup::Endpoint::Pod(t.clone());
    match crate::redis::open(&to, Some(api)).await {
        Ok((_conn, fwd)) => {
            if let Some(fwd) = fwd {
                fwd.close();
            }
        }
        Err(
            kubectl_redis_core::backup::ConnectError::Tls(e)
            | kubectl_redis_core::backup::ConnectError::Failed(e)
            | kubectl_redis_core::backup::ConnectError::Forbidden(e),
        ) => f.error = Some(e),
    }
    if let Some(o) = observed(&format!("pod {} port {}", t.pod, t.port)) {
        f.subject = o.subject;
        f.names = o.names;
        f.not_before = o.not_before;
        f.not_after = o.not_after;
        f.client_cert_asked = Some(o.asked_for_cert);
    }
    Some(f)
}

/// The pod `name` as first read in this run: the TLS plan and redis-cli's
/// TLS arguments both need its spec, read once.
async fn pod_once(
    api: &kube::Api<k8s_openapi::api::core::v1::Pod>,
    name: &str,
) -> Result<Arc<k8s_openapi::api::core::v1::Pod>, String> {
    type Pods =
        std::sync::Mutex<std::collections::HashMap<String, Arc<k8s_openapi::api::core::v1::Pod>>>;
    static PODS: OnceLock<Pods> = OnceLock::new();
    let pods = PODS.get_or_init(Default::default);
    if let Some(p) = pods.lock().ok().and_then(|m| m.get(name).cloned()) {
        return Ok(p);
    }
    let p = Arc::new(api.get(name).await.map_err(crate::kube::api_error)?);
    if let Ok(mut m) = pods.lock() {
        m.insert(name.to_string(), p.clone());
    }
    Ok(p)
}
