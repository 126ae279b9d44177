//! Redis credentials: where they come from, and keeping them out of every
//! argv, log line and error message.
//!
//! Sources, first found wins: `--password-from-secret NAME/KEY` (read
//! through the API), then `$REDISCLI_AUTH` in the user's environment, then
//! (for connections from outside the pod) the Redis container's own
//! `REDIS_PASSWORD` env, literal or from a Secret. `--user-name` selects an
//! ACL user. Inside the pod, redis-cli gets the password on stdin.

use k8s_openapi::api::core::v1::{Pod, Secret as KSecret};
use kube::{Api, Client};
use std::sync::OnceLock;

/// A password; its Debug never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// What to authenticate with.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    pub user: Option<String>,
    pub password: Option<Password>,
    /// Where the password came from, for messages (never the value).
    pub source: Option<String>,
}

static GLOBAL: OnceLock<Auth> = OnceLock::new();

/// Set once per run for the exec path (redis-cli in the pod).
pub fn set_global(a: Auth) {
    let _ = GLOBAL.set(a);
}

pub fn global() -> Option<&'static Auth> {
    GLOBAL.get()
}

/// `NAME/KEY` from `--password-from-secret`.
pub fn parse_secret_ref(s: &str) -> Result<(String, String), String> {
    match s.split_once('/') {
        Some((n, k)) if !n.is_empty() && !k.is_empty() && !k.contains('/') => Ok((n.into(), k.into())),
        _ => Err(format!(
            "--password-from-secret takes NAME/KEY (a Secret in the namespace and a key in it), got '{s}'"
        )),
    }
}

/// Reads one key of a Secret. Errors name the Secret and key, never a value.
pub async fn from_secret(
    client: &Client,
    ns: &str,
    name: &str,
    key: &str,
) -> Result<Password, String> {
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
            crate::exec::api_error(other)
        ),
    })?;
    let data = s.data.unwrap_or_default();
    let Some(v) = data.get(key) else {
        let keys: Vec<&String> = data.keys().collect();
        return Err(format!(
            "Secret {name} has no key {key} (it has: {})",
            keys.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let pw = String::from_utf8(v.0.clone())
        .map_err(|_| format!("Secret {name} key {key} is not UTF-8 text"))?;
    Ok(Password(pw.trim_end_matches(['\n', '\r']).to_string()))
}

/// The password from the flag or `$REDISCLI_AUTH` (not the pod's env).
pub async fn explicit(
    client: Option<&Client>,
    ns: &str,
    secret_ref: Option<&str>,
    user: Option<String>,
) -> Result<Auth, String> {
    if let Some(r) = secret_ref {
        let (name, key) = parse_secret_ref(r)?;
        let Some(c) = client else {
            return Err(
                "--password-from-secret needs a cluster; with --url use $REDISCLI_AUTH".into(),
            );
        };
        let pw = from_secret(c, ns, &name, &key).await?;
        return Ok(Auth {
            user,
            password: Some(pw),
            source: Some(format!("Secret {name}/{key}")),
        });
    }
    if let Some(pw) = std::env::var("REDISCLI_AUTH")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return Ok(Auth {
            user,
            password: Some(Password(pw)),
            source: Some("$REDISCLI_AUTH".into()),
        });
    }
    Ok(Auth {
        user,
        password: None,
        source: None,
    })
}

/// The Redis container's `REDIS_PASSWORD`, literal or from a Secret.
pub async fn from_pod_env(
    client: &Client,
    ns: &str,
    pod: &Pod,
    container: &str,
) -> Result<Option<Password>, String> {
    let Some(c) = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.iter().find(|c| c.name == container))
    else {
        return Ok(None);
    };
    let Some(var) = c
        .env
        .as_ref()
        .and_then(|e| e.iter().find(|v| v.name == "REDIS_PASSWORD"))
    else {
        return Ok(None);
    };
    if let Some(v) = &var.value {
        return Ok(Some(Password(v.clone())));
    }
    if let Some(r) = var
        .value_from
        .as_ref()
        .and_then(|f| f.secret_key_ref.as_ref())
    {
        return from_secret(client, ns, &r.name, &r.key).await.map(Some);
    }
    Ok(None)
}
