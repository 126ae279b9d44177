//! Secrets read through the API: a key of a Secret, and the Redis
//! container's own `REDIS_PASSWORD` (literal or from a Secret). Errors name
//! the Secret and key, never a value.

use crate::redis::auth::Password;
use k8s_openapi::api::core::v1::{Pod, Secret as KSecret};
use kube::{Api, Client};

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
            crate::kube::api_error(other)
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
    Ok(Password::new(pw.trim_end_matches(['\n', '\r']).to_string()))
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
        return Ok(Some(Password::new(v.clone())));
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
