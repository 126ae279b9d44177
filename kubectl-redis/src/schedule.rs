//! `kubectl redis schedule`: prints (or applies) a CronJob that runs the
//! plugin's own image in the cluster, with the least RBAC it needs.

use crate::cli::{self, KubeArgs, ScheduleArgs, ScheduleOutput};
use crate::ui::Ui;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::Api;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::schedule::{cron_for, manifests, yaml, Spec, Volume};

/// The image `schedule` uses when `--image` is not given.
pub fn default_image() -> String {
    format!(
        "ghcr.io/kubectl-redis/kubectl-redis:{}",
        env!("CARGO_PKG_VERSION")
    )
}

pub async fn run(ui: &Ui, kube: &KubeArgs, args: ScheduleArgs) -> Exit {
    let cron = match (&args.cron, args.every) {
        (Some(c), _) => c.clone(),
        (None, Some(d)) => match cron_for(d.as_secs()) {
            Ok(c) => c,
            Err(e) => {
                ui.error(&e, None);
                return Exit::Invalid;
            }
        },
        (None, None) => {
            ui.error(
                "when should it run?",
                Some("--every 1h (or 30m, 6h, 1d, 1w), or --cron '0 3 * * *'"),
            );
            return Exit::Invalid;
        }
    };
    let volume = match (&args.pvc, &args.host_path) {
        (Some(p), _) => Volume::Pvc(p.clone()),
        (None, Some(h)) => Volume::HostPath(h.clone()),
        (None, None) => {
            ui.note("note: no --pvc: backups go to an emptyDir and vanish with each Job's pod; give --pvc NAME to keep them");
            Volume::Empty
        }
    };
    let mut backup_args = Vec::new();
    if let Some(s) = &args.target.selector {
        backup_args.extend(["-l".to_string(), s.clone()]);
    }
    if let Some(p) = &args.target.pod {
        backup_args.extend(["--pod".to_string(), p.clone()]);
    }
    if let Some(c) = &args.target.container {
        backup_args.extend(["--container".to_string(), c.clone()]);
    }
    if let Some(p) = args.target.redis_port {
        backup_args.extend(["--redis-port".to_string(), p.to_string()]);
    }
    if let Some(s) = &args.password_from_secret {
        backup_args.extend(["--password-from-secret".to_string(), s.clone()]);
    }
    backup_args.extend(["--method".to_string(), args.method.clone()]);
    // Namespace: -n, $NS, the context's, default; resolved without a cluster
    // when only printing.
    let (namespace, client) = if args.apply {
        let Some(k) = crate::kube_ctx::connect_or_report(ui, kube).await else {
            return Exit::Error;
        };
        (k.namespace.clone(), Some(k.client))
    } else {
        let ns = kube
            .namespace
            .clone()
            .or_else(|| cli::env_nonempty("NS"))
            .unwrap_or_else(|| "default".to_string());
        (ns, None)
    };
    let mut cronjob_api = args.cronjob_api.clone();
    if let (Some(c), None) = (&client, &args.cronjob_api_flag) {
        // batch/v1 CronJob is served from Kubernetes 1.21.
        if let Ok(list) = c.list_api_group_resources("batch/v1").await {
            if !list.resources.iter().any(|r| r.name == "cronjobs") {
                cronjob_api = "batch/v1beta1".into();
            }
        }
    }
    let spec = Spec {
        namespace: namespace.clone(),
        cron,
        image: args.image.clone().unwrap_or_else(default_image),
        backup_args,
        volume,
        cronjob_api,
        name: args.name.clone(),
    };
    let docs = manifests(&spec);
    let Some(client) = client else {
        match args.output {
            ScheduleOutput::Yaml => print!("{}", yaml(&docs)),
            ScheduleOutput::Json => {
                let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs});
                match serde_json::to_string_pretty(&list) {
                    Ok(s) => println!("{s}"),
                    Err(e) => ui.error(&format!("cannot encode: {e}"), None),
                }
            }
        }
        return Exit::Ok;
    };
    for d in &docs {
        let (Some(av), Some(kind), Some(name)) = (
            d["apiVersion"].as_str(),
            d["kind"].as_str(),
            d["metadata"]["name"].as_str(),
        ) else {
            continue;
        };
        let (group, version) = av.split_once('/').unwrap_or(("", av));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let plural = match kind {
            "ServiceAccount" => "serviceaccounts",
            "Role" => "roles",
            "RoleBinding" => "rolebindings",
            _ => "cronjobs",
        };
        let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &ar);
        let obj: DynamicObject = match serde_json::from_value(d.clone()) {
            Ok(o) => o,
            Err(e) => {
                ui.error(&format!("internal error building {kind}: {e}"), None);
                return Exit::Error;
            }
        };
        let pp = PatchParams::apply("kubectl-redis").force();
        match api.patch(name, &pp, &Patch::Apply(&obj)).await {
            Ok(_) => println!("{}/{name} applied", kind.to_ascii_lowercase()),
            Err(e) => {
                ui.error(
                    &format!("cannot apply {kind} {name} in {namespace}: {}", crate::exec::api_error(e)),
                    Some("applying needs create/patch on serviceaccounts, roles, rolebindings and cronjobs; or print it and apply with kubectl"),
                );
                return Exit::Error;
            }
        }
    }
    ui.note(&format!(
        "scheduled: {} in namespace {namespace}; run one now with `kubectl -n {namespace} create job --from=cronjob/{} {}-now`",
        spec.cron, spec.name, spec.name
    ));
    Exit::Ok
}
