//! Connecting to the cluster the way kubectl does: --kubeconfig, $KUBECONFIG
//! (a list of files), --context/--cluster/--user, and the namespace.

use crate::args::KubeArgs;
use crate::env::env_nonempty;

pub mod exec;
pub mod lease;
pub mod objects;
pub mod pods;
pub mod portforward;
pub mod secrets;
pub mod workloads;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

#[derive(Clone)]
pub struct Kube {
    pub client: Client,
    pub namespace: String,
    /// Where the namespace came from, said to the user.
    pub namespace_source: &'static str,
    pub context: Option<String>,
    /// The kubeconfig user (or the pod's service account), for the lock's holder.
    pub user: Option<String>,
}

/// Connects as [`connect`], reporting a failure (exit 1; with `json`, also
/// as a document of that kind on stdout) or, when the namespace did not come
/// from `-n`, where it came from.
pub async fn connect_or_report(
    ui: &crate::ui::Ui,
    args: &KubeArgs,
    json: Option<&str>,
) -> Option<Kube> {
    let k = match connect(args).await {
        Ok(k) => k,
        Err(e) => {
            ui.error(&e.message, Some(&e.hint));
            if let Some(kind) = json {
                let exit = kubectl_redis_core::exit::Exit::Error;
                crate::output::failure(ui, kind, exit, &e.message, Some(&e.hint));
            }
            return None;
        }
    };
    ui.trace(&format!(
        "context {}, namespace {} (from {})",
        k.context.as_deref().unwrap_or("(in-cluster)"),
        k.namespace,
        k.namespace_source
    ));
    if k.namespace_source != "--namespace" {
        ui.note(&format!(
            "namespace {} (from {})",
            k.namespace, k.namespace_source
        ));
    }
    Some(k)
}

/// A failure to connect, with what to do about it.
pub struct ConnectError {
    pub message: String,
    pub hint: String,
}

pub async fn connect(args: &KubeArgs) -> Result<Kube, ConnectError> {
    let opts = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let kubeconfig = match &args.kubeconfig {
        Some(p) if !p.exists() => {
            return Err(ConnectError {
                message: format!("kubeconfig {} does not exist", p.display()),
                hint: "pass an existing kubeconfig with --kubeconfig".to_string(),
            })
        }
        Some(p) => Some(Kubeconfig::read_from(p).map_err(|e| ConnectError {
            message: format!("cannot read kubeconfig {}: {e}", p.display()),
            hint: "pass an existing kubeconfig with --kubeconfig".to_string(),
        })?),
        None => match read_default() {
            Ok(k) => Some(k),
            // No kubeconfig anywhere: inside a pod, use its service account.
            Err(_) if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => None,
            Err(e) => {
                return Err(ConnectError {
                    message: format!("cannot read a kubeconfig: {e}"),
                    hint: "set $KUBECONFIG or pass --kubeconfig (the same file kubectl uses)"
                        .to_string(),
                })
            }
        },
    };
    let (config, context, context_ns, user) = match kubeconfig {
        Some(kc) => {
            let context = args.context.clone().or_else(|| kc.current_context.clone());
            let ctx = context.as_ref().and_then(|name| {
                kc.contexts
                    .iter()
                    .find(|c| &c.name == name)
                    .and_then(|c| c.context.as_ref())
            });
            let context_ns = ctx.and_then(|c| c.namespace.clone());
            let user = args
                .user
                .clone()
                .or_else(|| ctx.and_then(|c| c.user.clone()));
            let config = Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| ConnectError {
                    message: format!("cannot use the kubeconfig: {e}"),
                    hint: "check the context with `kubectl config get-contexts`; choose one with --context".to_string(),
                })?;
            (config, context, context_ns, user)
        }
        None => {
            let config = Config::incluster().map_err(|e| ConnectError {
                message: format!("cannot use the pod's service account: {e}"),
                hint: "pass --kubeconfig".to_string(),
            })?;
            let ns = Some(config.default_namespace.clone());
            (config, None, ns, Some("serviceaccount".to_string()))
        }
    };
    let (namespace, namespace_source) = if let Some(n) = &args.namespace {
        (n.clone(), "--namespace")
    } else if let Some(n) = env_nonempty("NS") {
        (n, "$NS")
    } else if let Some(n) = context_ns {
        (n, "the context")
    } else {
        ("default".to_string(), "the default")
    };
    let client = Client::try_from(config).map_err(|e| ConnectError {
        message: format!("cannot create a Kubernetes client: {e}"),
        hint: "check the cluster's certificates in the kubeconfig".to_string(),
    })?;
    if let Some(u) = &user {
        crate::audit::set_kube_user(u);
    }
    Ok(Kube {
        client,
        namespace,
        namespace_source,
        context,
        user,
    })
}

/// What kubectl reads without --kubeconfig: the files listed in $KUBECONFIG,
/// merged in order, skipping missing ones (kube-rs fails on a missing one);
/// else ~/.kube/config.
pub fn read_default() -> Result<Kubeconfig, String> {
    let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) else {
        return Kubeconfig::read().map_err(|e| e.to_string());
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in std::env::split_paths(&list).filter(|p| p.exists()) {
        let next = Kubeconfig::read_from(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(|e| e.to_string())?,
        });
    }
    merged.ok_or_else(|| {
        format!(
            "none of the files in $KUBECONFIG exist ({})",
            list.to_string_lossy()
        )
    })
}

/// An API error as the user should read it: the message and the reason.
pub fn api_error(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.reason),
        other => other.to_string(),
    }
}
