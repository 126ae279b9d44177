//! `kubectl-redis __complete ARGS...`: Cobra-style completion candidates,
//! which is what kubectl (1.26+) asks `kubectl_complete-redis` for. One
//! candidate a line (`value<TAB>description`), then `:DIRECTIVE`.
//!
//! Subcommands and flags come from clap's own definition. Namespaces and
//! pods come from the cluster with a short deadline, else from the
//! kubeconfig alone; contexts, clusters and users from the kubeconfig;
//! `--file` from the backups in the output directory.

use std::time::Duration;

/// Cobra's directives.
const NO_FILE: u8 = 4;
const DEFAULT: u8 = 0;

/// How long the cluster may take to list namespaces or pods.
const DEADLINE: Duration = Duration::from_millis(60);

/// `root` is the whole command line (`cli::command()`), handed in by `main`
/// so that this module does not depend on the dispatch.
pub fn run(root: clap::Command, args: Vec<String>) -> std::process::ExitCode {
    let (cands, directive) = complete(root, &args);
    let mut out = String::new();
    for (v, d) in cands {
        if d.is_empty() {
            out.push_str(&format!("{v}\n"));
        } else {
            out.push_str(&format!("{v}\t{d}\n"));
        }
    }
    out.push_str(&format!(":{directive}\n"));
    print!("{out}");
    std::process::ExitCode::SUCCESS
}

type Cands = Vec<(String, String)>;

fn complete(root: clap::Command, args: &[String]) -> (Cands, u8) {
    let (typed, partial) = match args.split_last() {
        Some((p, t)) => (t, p.as_str()),
        None => (&[][..], ""),
    };
    // Walk the typed words: the subcommand, and global values seen.
    let mut sub: Option<clap::Command> = None;
    let mut ns: Option<String> = None;
    let mut context: Option<String> = None;
    let mut kubeconfig: Option<String> = None;
    let mut out_dir: Option<String> = None;
    let mut i = 0;
    while i < typed.len() {
        let w = &typed[i];
        let cmd = sub.as_ref().unwrap_or(&root);
        if let Some(arg) = flag(cmd, &root, w) {
            let takes = arg.get_action().takes_values();
            if takes && !w.contains('=') {
                let v = typed.get(i + 1).cloned();
                match arg.get_id().as_str() {
                    "namespace" => ns = v,
                    "context" => context = v,
                    "kubeconfig" => kubeconfig = v,
                    "out_dir" => out_dir = v,
                    _ => {}
                }
                i += 2;
                continue;
            }
        } else if sub.is_none() && !w.starts_with('-') {
            sub = root.find_subcommand(w).cloned();
        }
        i += 1;
    }
    let cmd = sub.clone().unwrap_or_else(|| root.clone());
    // A flag's value?
    if let Some(prev) = typed.last() {
        if let Some(arg) = flag(&cmd, &root, prev) {
            if arg.get_action().takes_values() && !prev.contains('=') {
                return values(arg, partial, ns, context, kubeconfig, out_dir, sub.as_ref());
            }
        }
    }
    if partial.starts_with('-') {
        let mut c: Cands = Vec::new();
        for a in cmd.get_arguments().chain(if sub.is_some() {
            root.get_arguments()
        } else {
            cmd.get_arguments()
        }) {
            if a.is_hide_set() {
                continue;
            }
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            if let Some(l) = a.get_long() {
                c.push((format!("--{l}"), first_line(&help)));
            }
            if let Some(s) = a.get_short() {
                c.push((format!("-{s}"), first_line(&help)));
            }
        }
        c.sort();
        c.dedup_by(|a, b| a.0 == b.0);
        c.retain(|(v, _)| v.starts_with(partial));
        return (c, NO_FILE);
    }
    match &sub {
        None => {
            let c: Cands = root
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name().starts_with(partial))
                .map(|s| {
                    (
                        s.get_name().to_string(),
                        first_line(&s.get_about().map(|a| a.to_string()).unwrap_or_default()),
                    )
                })
                .collect();
            (c, NO_FILE)
        }
        Some(s) => match s.get_name() {
            "verify" | "inspect" => (backups(out_dir, partial), DEFAULT),
            "completion" => (
                ["bash", "zsh", "fish", "powershell", "elvish"]
                    .iter()
                    .filter(|v| v.starts_with(partial))
                    .map(|v| (v.to_string(), String::new()))
                    .collect(),
                NO_FILE,
            ),
            _ => (Vec::new(), NO_FILE),
        },
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// The argument `word` names (`--namespace`, `-n`, `--namespace=x`), in the
/// subcommand or the root's globals.
fn flag<'a>(cmd: &'a clap::Command, root: &'a clap::Command, word: &str) -> Option<&'a clap::Arg> {
    let w = word.split('=').next().unwrap_or(word);
    let find = |c: &'a clap::Command| -> Option<&'a clap::Arg> {
        if let Some(l) = w.strip_prefix("--") {
            c.get_arguments().find(|a| a.get_long() == Some(l))
        } else if let Some(s) = w.strip_prefix('-') {
            let mut ch = s.chars();
            match (ch.next(), ch.next()) {
                (Some(c1), None) => c.get_arguments().find(|a| a.get_short() == Some(c1)),
                _ => None,
            }
        } else {
            None
        }
    };
    find(cmd).or_else(|| find(root))
}

fn values(
    arg: &clap::Arg,
    partial: &str,
    ns: Option<String>,
    context: Option<String>,
    kubeconfig: Option<String>,
    out_dir: Option<String>,
    sub: Option<&clap::Command>,
) -> (Cands, u8) {
    let filter = |v: Vec<String>| -> Cands {
        let mut v: Vec<String> = v.into_iter().filter(|x| x.starts_with(partial)).collect();
        v.sort();
        v.dedup();
        v.into_iter().map(|x| (x, String::new())).collect()
    };
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| p.get_name().to_string())
        .collect();
    if !possible.is_empty() {
        return (filter(possible), NO_FILE);
    }
    let kc = || -> Option<kube::config::Kubeconfig> {
        match &kubeconfig {
            Some(p) => kube::config::Kubeconfig::read_from(p).ok(),
            None => crate::kube::read_default().ok(),
        }
    };
    match arg.get_id().as_str() {
        "context" => (
            filter(
                kc().map(|k| k.contexts.into_iter().map(|c| c.name).collect())
                    .unwrap_or_default(),
            ),
            NO_FILE,
        ),
        "cluster" => (
            filter(
                kc().map(|k| k.clusters.into_iter().map(|c| c.name).collect())
                    .unwrap_or_default(),
            ),
            NO_FILE,
        ),
        "user" => (
            filter(
                kc().map(|k| k.auth_infos.into_iter().map(|c| c.name).collect())
                    .unwrap_or_default(),
            ),
            NO_FILE,
        ),
        "namespace" => {
            let live = cluster_names(&kubeconfig, &context, None);
            let names = live.unwrap_or_else(|| {
                // The kubeconfig alone: the namespaces its contexts name.
                kc().map(|k| {
                    k.contexts
                        .into_iter()
                        .filter_map(|c| c.context.and_then(|c| c.namespace))
                        .chain(std::iter::once("default".to_string()))
                        .collect()
                })
                .unwrap_or_default()
            });
            (filter(names), NO_FILE)
        }
        "pod" => (
            filter(cluster_names(&kubeconfig, &context, Some(ns)).unwrap_or_default()),
            NO_FILE,
        ),
        "file" => (backups(out_dir, partial), DEFAULT),
        "scale_down" => (filter(vec!["deploy/worker".into()]), NO_FILE),
        "kubeconfig" | "out_dir" | "metrics_file" | "host_path" => (Vec::new(), DEFAULT),
        _ => {
            let _ = sub;
            (Vec::new(), NO_FILE)
        }
    }
}

/// Backup files in the output directory (flag, $OUT_DIR, $BACKUPS_DIR, ./backups).
fn backups(out_dir: Option<String>, partial: &str) -> Cands {
    let dir = crate::env::out_dir(out_dir);
    let Ok(entries) = crate::store::local::read_entries(&dir) else {
        return Vec::new();
    };
    let l = kubectl_redis_core::ops::list::listing(&dir, &entries, crate::env::unix_now());
    l.backups
        .into_iter()
        .filter(|b| b.path.starts_with(partial) || partial.is_empty())
        .map(|b| {
            let keys = b.keys.map(|k| format!(", {k} keys")).unwrap_or_default();
            (
                b.path,
                format!(
                    "{}{keys}, {}",
                    kubectl_redis_core::human::bytes(b.bytes),
                    b.status
                ),
            )
        })
        .collect()
}

/// Namespaces (or, with `Some(ns)`, pods in ns) from the cluster, or `None`
/// when it does not answer within [`DEADLINE`].
fn cluster_names(
    kubeconfig: &Option<String>,
    context: &Option<String>,
    pods_in: Option<Option<String>>,
) -> Option<Vec<String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let args = crate::args::KubeArgs {
        kubeconfig: kubeconfig.as_ref().map(std::path::PathBuf::from),
        context: context.clone(),
        namespace: pods_in.clone().flatten(),
        ..Default::default()
    };
    rt.block_on(async {
        tokio::time::timeout(DEADLINE, async {
            let k = crate::kube::connect(&args).await.ok()?;
            let lp = ::kube::api::ListParams::default().limit(500);
            if pods_in.is_some() {
                let api: ::kube::Api<k8s_openapi::api::core::v1::Pod> =
                    ::kube::Api::namespaced(k.client, &k.namespace);
                let l = api.list_metadata(&lp).await.ok()?;
                Some(
                    l.items
                        .into_iter()
                        .filter_map(|p| p.metadata.name)
                        .collect(),
                )
            } else {
                let api: ::kube::Api<k8s_openapi::api::core::v1::Namespace> =
                    ::kube::Api::all(k.client);
                let l = api.list_metadata(&lp).await.ok()?;
                Some(
                    l.items
                        .into_iter()
                        .filter_map(|n| n.metadata.name)
                        .collect(),
                )
            }
        })
        .await
        .ok()
        .flatten()
    })
}
