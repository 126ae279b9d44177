//! Kubernetes objects made from the core's manifests (plain JSON):
//! applied (`schedule`, `archive start`), created for a run alone
//! (`--in-cluster`), patched, deleted; and the plugin's own image.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::Api;

/// `KEY=VALUE`.
pub fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not KEY=VALUE")),
    }
}

/// The image `schedule` uses when `--image` is not given.
pub fn default_image() -> String {
    format!(
        "ghcr.io/kubectl-redis/kubectl-redis:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The API of a manifest's kind in `ns`, and its name.
fn api_of(
    client: &kube::Client,
    ns: &str,
    d: &serde_json::Value,
) -> Option<(Api<DynamicObject>, String, String)> {
    let (Some(av), Some(kind), Some(name)) = (
        d["apiVersion"].as_str(),
        d["kind"].as_str(),
        d["metadata"]["name"].as_str(),
    ) else {
        return None;
    };
    let (group, version) = av.split_once('/').unwrap_or(("", av));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let plural = match kind {
        "ServiceAccount" => "serviceaccounts",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        "PrometheusRule" => "prometheusrules",
        "ServiceMonitor" => "servicemonitors",
        "Deployment" => "deployments",
        "Service" => "services",
        "CronJob" => "cronjobs",
        "Job" => "jobs",
        _ => return None,
    };
    let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
    Some((
        Api::namespaced_with(client.clone(), ns, &ar),
        kind.to_string(),
        name.to_string(),
    ))
}

/// Server-side applies `docs` in `ns`, in order, saying each.
pub async fn apply_all(
    client: &kube::Client,
    ns: &str,
    docs: &[serde_json::Value],
) -> Result<(), String> {
    for d in docs {
        let Some((api, kind, name)) = api_of(client, ns, d) else {
            return Err(format!(
                "internal error: no API known for a {}",
                d["kind"].as_str().unwrap_or("document without a kind")
            ));
        };
        let obj: DynamicObject = serde_json::from_value(d.clone())
            .map_err(|e| format!("internal error building {kind}: {e}"))?;
        let pp = PatchParams::apply("kubectl-redis").force();
        match api.patch(&name, &pp, &Patch::Apply(&obj)).await {
            Ok(_) => println!("{}/{name} applied", kind.to_ascii_lowercase()),
            Err(e) => {
                return Err(format!(
                    "cannot apply {kind} {name} in {ns}: {}",
                    crate::kube::api_error(e)
                ))
            }
        }
    }
    Ok(())
}

/// Creates `docs` in `ns`, in order, saying nothing (an `--in-cluster`
/// run's objects: made for it alone, so one already there is an error).
pub async fn create_all(
    client: &kube::Client,
    ns: &str,
    docs: &[serde_json::Value],
) -> Result<(), String> {
    for d in docs {
        let Some((api, kind, name)) = api_of(client, ns, d) else {
            return Err(format!(
                "internal error: no API known for a {}",
                d["kind"].as_str().unwrap_or("document without a kind")
            ));
        };
        let obj: DynamicObject = serde_json::from_value(d.clone())
            .map_err(|e| format!("internal error building {kind}: {e}"))?;
        api.create(&kube::api::PostParams::default(), &obj)
            .await
            .map_err(|e| {
                format!(
                    "cannot create {kind} {name} in {ns}: {}",
                    crate::kube::api_error(e)
                )
            })?;
    }
    Ok(())
}

/// Merge-patches each of `docs` in `ns` with `patch`; failures are ignored
/// (what it adds is a convenience, such as owner references).
pub async fn patch_all(
    client: &kube::Client,
    ns: &str,
    docs: &[serde_json::Value],
    patch: &serde_json::Value,
) {
    for d in docs {
        if let Some((api, _, name)) = api_of(client, ns, d) {
            let _ = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await;
        }
    }
}

/// Deletes `docs` from `ns`, in reverse order (absent ones are fine).
pub async fn delete_all(
    client: &kube::Client,
    ns: &str,
    docs: &[serde_json::Value],
) -> Result<Vec<String>, String> {
    let mut gone = Vec::new();
    for d in docs.iter().rev() {
        let Some((api, kind, name)) = api_of(client, ns, d) else {
            continue;
        };
        match api.delete(&name, &Default::default()).await {
            Ok(_) => gone.push(format!("{}/{name}", kind.to_ascii_lowercase())),
            Err(kube::Error::Api(ae)) if ae.code == 404 => {}
            Err(e) => {
                return Err(format!(
                    "cannot delete {kind} {name} in {ns}: {}",
                    crate::kube::api_error(e)
                ))
            }
        }
    }
    Ok(gone)
}
