//! Writers (Deployments and StatefulSets) as the restore sees them: which
//! ones, how many replicas, and any record a restore left on them.

use super::api_error;
use crate::env;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Api;
use kubectl_redis_core::restore::{Writer, WriterKind, WriterState, REPLICAS_ANNOTATION};

/// `--scale-down` values, else $WORKER_DEPLOY, else the runbook's `worker`.
pub fn writer_list(flags: &[String]) -> Result<Vec<Writer>, String> {
    if !flags.is_empty() {
        return flags.iter().map(|s| Writer::parse(s, true)).collect();
    }
    match env::env_nonempty("WORKER_DEPLOY") {
        Some(v) => v
            .split(',')
            .map(|s| Writer::parse(s.trim(), true))
            .collect(),
        None => Ok(vec![Writer::parse("worker", false)?]),
    }
}

/// A writer's replicas, pod selector and restore record; `None` if it does not exist.
pub async fn writer_state(
    client: &kube::Client,
    ns: &str,
    w: &Writer,
) -> Result<Option<WriterState>, String> {
    let (replicas, selector, annotations) = match w.kind {
        WriterKind::Deployment => {
            let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            let Some(d) = api.get_opt(&w.name).await.map_err(api_error)? else {
                return Ok(None);
            };
            let spec = d.spec;
            (
                spec.replicas.unwrap_or(1),
                selector_string(&spec.selector),
                d.metadata.annotations,
            )
        }
        WriterKind::StatefulSet => {
            let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
            let Some(s) = api.get_opt(&w.name).await.map_err(api_error)? else {
                return Ok(None);
            };
            let spec = s.spec;
            (
                spec.replicas.unwrap_or(1),
                selector_string(&spec.selector),
                s.metadata.annotations,
            )
        }
    };
    let recorded = annotations
        .as_ref()
        .and_then(|a| a.get(REPLICAS_ANNOTATION))
        .and_then(|v| v.parse().ok());
    Ok(Some(WriterState {
        replicas,
        selector,
        recorded,
    }))
}

fn selector_string(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    parts.join(",")
}
