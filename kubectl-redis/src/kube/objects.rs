//! Kubernetes objects made from the core's manifests (plain JSON):
//! applied (`schedule`, `archive start`), created for a run alone
//! (`--in-cluster`), patched, deleted; the plugin's own image; and what a
//! Role made for the Redis pods may name (their Leases and Secrets).

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

/// The lock Leases of the pods `selector` matches in `ns` (each pod's
/// workload's; a Redis Cluster's is among them) and their password Secrets.
pub async fn narrowing(
    client: &kube::Client,
    ns: &str,
    selector: &str,
    pod: Option<&str>,
    tls_given: bool,
) -> Result<(Vec<String>, Vec<String>, bool), String> {
    let api: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client.clone(), ns);
    let infos = crate::kube::pods::list_pods(&api, selector, pod).await?;
    let listed = api
        .list(&kube::api::ListParams::default().labels(selector))
        .await
        .map_err(crate::kube::api_error)?
        .items
        .into_iter()
        .filter(|p| {
            infos
                .iter()
                .any(|i| Some(&i.name) == p.metadata.name.as_ref())
        });
    let mut leases: Vec<String> = infos
        .iter()
        .map(|p| kubectl_redis_core::kube::lock::lease_name(&p.owner, &p.name))
        .collect();
    leases.sort();
    leases.dedup();
    let listed: Vec<_> = listed.collect();
    let secrets = listed
        .iter()
        .flat_map(|p| {
            let mut n = crate::kube::secrets::password_secret_names(p);
            // The pod's own certificates, unless --tls-from-secret gives
            // the Job its own (mounted).
            if !tls_given {
                n.extend(crate::kube::secrets::tls_secret_names(p));
            }
            n
        })
        .collect();
    // A pod that says TLS: the Job checks the certificate against the
    // names of the Services selecting it, so it may list them.
    let tls = listed.iter().any(|p| {
        p.spec.iter().flat_map(|s| &s.containers).any(|c| {
            let t = crate::kube::pods::tls_spec(c);
            t.port.is_some() || t.enabled || t.named_port.is_some()
        })
    });
    Ok((leases, secrets, tls))
}
