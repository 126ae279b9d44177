//! Secrets read through the API: a key of a Secret, and the Redis
//! container's own `REDIS_PASSWORD` (literal or from a Secret). Errors name
//! the Secret and key, never a value.

use k8s_openapi::api::core::v1::{Pod, Secret as KSecret};
use kube::{Api, Client};

/// A password; its Debug never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(p: String) -> Self {
        Password(p)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Reads one key of a Secret. Errors name the Secret and key, never a value.
pub async fn from_secret(
    client: &Client,
    ns: &str,
    name: &str,
    key: &str,
) -> Result<Password, String> {
    let v = bytes_from_secret(client, ns, name, key).await?;
    let pw =
        String::from_utf8(v).map_err(|_| format!("Secret {name} key {key} is not UTF-8 text"))?;
    Ok(Password::new(pw.trim_end_matches(['\n', '\r']).to_string()))
}

/// The Secrets a backup may read for `pod`'s own password: the one its
/// containers' `REDIS_PASSWORD` refers to, and the Secret volumes (where a
/// `REDIS_PASSWORD_FILE` lives). Names only, for a Role's `resourceNames`.
pub fn password_secret_names(pod: &Pod) -> Vec<String> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for c in &spec.containers {
        for v in c.env.iter().flatten() {
            if v.name != "REDIS_PASSWORD" && v.name != "REDIS_PASSWORD_FILE" {
                continue;
            }
            if let Some(r) = v
                .value_from
                .as_ref()
                .and_then(|f| f.secret_key_ref.as_ref())
            {
                names.push(r.name.clone());
            }
            if v.name == "REDIS_PASSWORD_FILE" {
                let path = v.value.clone().unwrap_or_default();
                for m in c.volume_mounts.iter().flatten() {
                    if !path.starts_with(m.mount_path.trim_end_matches('/')) {
                        continue;
                    }
                    let secret = spec
                        .volumes
                        .iter()
                        .flatten()
                        .find(|vol| vol.name == m.name)
                        .and_then(|vol| vol.secret.as_ref())
                        .and_then(|s| s.secret_name.clone());
                    names.extend(secret);
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The Secrets whose volumes hold the TLS files (CA, certificate, key) that
/// `pod`'s containers' own TLS options name: what a backup reads to reach
/// a server that says TLS. Names only, for a Role's `resourceNames`.
pub fn tls_secret_names(pod: &Pod) -> Vec<String> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let mut names: Vec<String> = spec
        .containers
        .iter()
        .flat_map(|c| {
            let t = crate::kube::pods::tls_spec(c);
            [t.ca_file, t.cert_file, t.key_file]
                .into_iter()
                .flatten()
                .filter_map(|f| secret_of_file(spec, c, &f).ok())
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The Redis container's own password, and where it was found: its
/// `REDIS_PASSWORD` (literal or from a Secret), else the file its
/// `REDIS_PASSWORD_FILE` names (the Bitnami charts' default), read through
/// the API from the Secret volume that file lives on: no exec.
pub async fn from_pod_env(
    client: &Client,
    ns: &str,
    pod: &Pod,
    container: &str,
) -> Result<Option<(Password, String)>, String> {
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(None);
    };
    let Some(c) = spec.containers.iter().find(|c| c.name == container) else {
        return Ok(None);
    };
    let var = |name: &str| {
        c.env
            .as_ref()
            .and_then(|e| e.iter().find(|v| v.name == name))
    };
    if let Some(var) = var("REDIS_PASSWORD") {
        if let Some(v) = &var.value {
            return Ok(Some((
                Password::new(v.clone()),
                "the container's REDIS_PASSWORD".into(),
            )));
        }
        if let Some(r) = var
            .value_from
            .as_ref()
            .and_then(|f| f.secret_key_ref.as_ref())
        {
            let pw = from_secret(client, ns, &r.name, &r.key).await?;
            return Ok(Some((
                pw,
                format!(
                    "the container's REDIS_PASSWORD (Secret {}/{})",
                    r.name, r.key
                ),
            )));
        }
    }
    let Some(path) = var("REDIS_PASSWORD_FILE").and_then(|v| v.value.clone()) else {
        return Ok(None);
    };
    let (name, key) = secret_of_file(spec, c, &path).map_err(|why| {
        format!(
            "the container's REDIS_PASSWORD_FILE ({path}) {why}; give the password with --password-from-secret NAME/KEY"
        )
    })?;
    let pw = from_secret(client, ns, &name, &key).await?;
    Ok(Some((
        pw,
        format!("the container's REDIS_PASSWORD_FILE (Secret {name}/{key})"),
    )))
}

/// The Secret and key behind a file in a container: the volume mounted at
/// the longest prefix of `path`, a Secret volume, and the key the file
/// name maps to. The error says why not, to follow "the file ... ".
pub fn secret_of_file(
    spec: &k8s_openapi::api::core::v1::PodSpec,
    c: &k8s_openapi::api::core::v1::Container,
    path: &str,
) -> Result<(String, String), String> {
    let mounts = c.volume_mounts.iter().flatten();
    let found = mounts
        .filter_map(|m| {
            let rest = path.strip_prefix(m.mount_path.trim_end_matches('/'))?;
            let rest = rest.strip_prefix('/')?;
            Some((m.mount_path.len(), m.name.clone(), rest.to_string()))
        })
        .max_by_key(|(len, _, _)| *len);
    let Some((_, volume, file)) = found else {
        return Err("is on no volume of the pod".into());
    };
    let secret = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == volume)
        .and_then(|v| v.secret.as_ref());
    let Some(secret) = secret else {
        return Err(format!("is on volume {volume}, which is not a Secret"));
    };
    let name = secret.secret_name.clone().unwrap_or_default();
    // `items` maps keys to other file names.
    let key = secret
        .items
        .iter()
        .flatten()
        .find(|i| i.path == file)
        .map(|i| i.key.clone())
        .unwrap_or(file);
    Ok((name, key))
}

/// The bytes of one key of a Secret (a password, a certificate, a key),
/// unchanged.
pub async fn bytes_from_secret(
    client: &Client,
    ns: &str,
    name: &str,
    key: &str,
) -> Result<Vec<u8>, String> {
    let api: Api<KSecret> = Api::namespaced(client.clone(), ns);
    let s = api.get(name).await.map_err(|e| match e {
        kube::Error::Api(ae) if ae.code == 404 => {
            format!("Secret {name} not found in namespace {ns}")
        }
        kube::Error::Api(ae) if ae.code == 403 => {
            format!("not allowed to read Secret {name} in namespace {ns} (needs get on secrets)")
        }
        other => format!(
            "cannot read Secret {name}: {}",
            crate::kube::api_error(other)
        ),
    })?;
    let mut data = s.data.unwrap_or_default();
    match data.remove(key) {
        Some(v) => Ok(v.0),
        None => Err(format!(
            "Secret {name} has no key {key} (it has: {})",
            data.keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
