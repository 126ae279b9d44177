//! `kubectl redis drill`: restore a backup into a throwaway Redis pod, check
//! it, time it, delete the pod. Production is never touched.

use crate::args::{parse_duration, KubeArgs, Output, TargetArgs};
use crate::env;
use crate::kube::{api_error, lease, Kube};
use crate::redis::auth::Auth;
use crate::redis::Conn;
use crate::store::repo::Problem;
use crate::ui::Ui;
use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use kube::Api;
use kubectl_redis_core::backup::Line;
use kubectl_redis_core::exit::{self, Exit};
use kubectl_redis_core::kube::pods::{self, Target};
use kubectl_redis_core::ops::drill::{self, DrillReport, PodSpec, Sampler};
use kubectl_redis_core::restore::{Method, Plan};
use kubectl_redis_core::wire::reply::Reply;
use std::io::Read;
use std::time::{Duration, Instant};

pub const LONG_ABOUT: &str = "Restore a backup into a throwaway Redis pod and check it: the runbook's weekly restore drill, without touching production.\n\n\
Verifies the backup, starts a pod with the source Redis's image (or --image) in the namespace \
of your choice (--in), restores the backup into it live (through a port-forward: no exec), \
compares the key count of every database with the backup's and a sample of keys value by value \
(read back with plain commands, not DUMP), prints the time the restore took, and deletes the \
pod. With --to-time WHEN --repo URL it drills a point-in-time restore: the archive's base is \
restored and sampled as above, then the archived writes up to WHEN are replayed into the pod, \
and every one must be accepted. Any difference is exit 7, for alerting. The pod carries activeDeadlineSeconds, so it goes \
away on its own even if the plugin is killed. `kubectl redis schedule --drill` runs this weekly.";

pub fn after_help() -> String {
    format!(
        "The ServiceAccount needs, in the drill namespace: create/get/delete pods, create pods/portforward, and leases (as a restore); in the source namespace: get/list pods (to find the image, unless --image).\n\n{}\nExamples:\n  kubectl redis drill --latest -n october\n  kubectl redis drill --file s3://backups/prod/redis-backup-20251024_180500.rdb.age -i ~/.config/age/key.txt --in drills\n  kubectl redis drill --latest --repo s3://backups/prod --image redis:7.2 -o json\n  kubectl redis drill --to-time -10m --repo s3://backups/prod -i key.txt   # a point-in-time restore, drilled",
        exit::help_table()
    )
}

#[derive(Args, Debug)]
pub struct DrillArgs {
    #[command(flatten)]
    pub sanitize: crate::sanitize::SanitizeArgs,
    #[command(flatten)]
    pub backup: crate::commands::restore::BackupChoice,
    #[command(flatten)]
    pub keys: crate::keys::KeyArgs,
    #[command(flatten)]
    pub trust: crate::keys::TrustArgs,
    /// The production Redis whose image the drill uses (-n, -l, --pod, -c)
    #[command(flatten)]
    pub target: TargetArgs,
    /// Namespace for the throwaway pod (default: the source's)
    #[arg(long = "in", value_name = "NAMESPACE")]
    pub drill_namespace: Option<String>,
    /// Image of the throwaway Redis (default: the source pod's)
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Server binary on the image's PATH (default: valkey-server for Valkey images, else redis-server)
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// Port the throwaway server listens on (loopback only)
    #[arg(long, value_name = "PORT", default_value_t = 6379)]
    pub port: u16,
    /// Run the pod on the node's network (clusters without a pod network)
    #[arg(long)]
    pub host_network: bool,
    /// Memory limit of the pod, e.g. 2Gi (the server gets 90% as maxmemory)
    #[arg(long, value_name = "QUANTITY")]
    pub memory: Option<String>,
    /// Keys compared value by value
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub sample: u64,
    /// How long the pod may take to be ready
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub in_cluster: crate::jobs::in_cluster::InClusterArgs,
}

/// How the drill ended.
struct Outcome {
    exit: Exit,
    error: Option<(String, String)>,
}

pub async fn run(ui: &Ui, kube: &KubeArgs, args: DrillArgs) -> Exit {
    if args.in_cluster.in_cluster {
        return in_cluster(ui, kube, &args).await;
    }
    let json = args.output == Output::Json;
    let fail = |exit: Exit, message: &str, hint: &str| {
        ui.error(message, Some(hint));
        if json {
            crate::output::failure(ui, "DrillResult", exit, message, Some(hint));
        }
        exit
    };
    let file = args.backup.file();
    if file.is_none() && !args.backup.latest && args.backup.to_time.is_none() {
        return fail(
            Exit::Invalid,
            "no backup to drill: pass --file PATH|URL (or set $BACKUP), --latest, or --to-time WHEN with --repo",
            "list backups with `kubectl redis list`",
        );
    }
    if let Some(m) = &args.memory {
        if drill::memory_bytes(m).is_none() {
            return fail(
                Exit::Invalid,
                &format!("--memory {m} is not a quantity"),
                "use a Kubernetes quantity such as 512Mi or 2Gi",
            );
        }
    }
    let Some(k) = crate::kube::connect_or_report(ui, kube, json.then_some("DrillResult")).await
    else {
        return Exit::Error;
    };
    // For the audit Event: the production pod the drill is about.
    let source_pod = args.target.pod.clone();
    let source_selector = env::selector(args.target.selector.clone());
    // --sanitize: rules and key checked before anything starts.
    if args.sanitize.sanitize.is_some() && args.backup.to_time.is_some() {
        return fail(
            Exit::Invalid,
            "--sanitize cannot be used with --to-time: the archive's writes would be replayed unsanitized",
            "drill a sanitized copy made by `kubectl redis copy --sanitize`, or drop --sanitize",
        );
    }
    let sanitize = match args.sanitize.load(kube).await {
        Ok(p) => p,
        Err(p) => return fail(Exit::Invalid, &p.message, &p.hint),
    };
    // --to-time: the plan, and every segment checked before the pod starts.
    let pitr = match crate::commands::restore::prepare_pitr(
        ui,
        kube,
        &args.backup,
        &args.keys,
        &args.trust,
        "drill",
    )
    .await
    {
        Ok(p) => p,
        Err((exit, p)) => return fail(exit, &p.message, &p.hint),
    };
    let (mut path, _copy) = match crate::commands::restore::base_of(
        ui,
        kube,
        pitr.as_ref(),
        file,
        &args.backup,
        &args.keys,
        &args.trust,
        // A drill of a sanitized copy checks it loads; nothing is replaced.
        true,
        "drill",
    )
    .await
    {
        Ok(x) => x,
        Err((exit, p)) => return fail(exit, &p.message, &p.hint),
    };
    let _sanitized = match &sanitize {
        Some(plan) => match crate::sanitize::private_copy(plan, &path).await {
            Ok((c, rep)) => {
                crate::sanitize::say(ui, &path, &c.path.to_string_lossy(), &rep);
                path = c.path.to_string_lossy().into_owned();
                Some(c)
            }
            Err((exit, p)) => return fail(exit, &p.message, &p.hint),
        },
        None => None,
    };
    let image = match &args.image {
        Some(i) => i.clone(),
        None => match source_image(ui, &k, &args.target).await {
            Ok(i) => i,
            Err(p) => return fail(Exit::Invalid, &p.message, &p.hint),
        },
    };
    let ns = args
        .drill_namespace
        .clone()
        .unwrap_or_else(|| k.namespace.clone());
    let name = format!("kubectl-redis-drill-{}", run_id());
    let spec = PodSpec {
        name: name.clone(),
        namespace: ns.clone(),
        server: args
            .server
            .clone()
            .unwrap_or_else(|| drill::server_for(&image).to_string()),
        image,
        port: args.port,
        host_network: args.host_network,
        deadline_s: 3600 + args.timeout.as_secs(),
        memory: args.memory.clone().unwrap_or_default(),
    };
    let mut report = DrillReport {
        file: path.clone(),
        pod: name.clone(),
        namespace: ns.clone(),
        image: spec.image.clone(),
        ..DrillReport::default()
    };
    let dk = Kube {
        client: k.client.clone(),
        namespace: ns.clone(),
        namespace_source: "--in",
        context: k.context.clone(),
        user: k.user.clone(),
    };
    let pods: Api<Pod> = Api::namespaced(k.client.clone(), &ns);
    ui.line(
        "drill",
        &Line::Step(format!("start {ns}/{name} ({})", spec.image)),
    );
    let manifest = drill::pod(&spec);
    // From the pod's creation, a signal deletes it before the exit.
    let _handled = crate::signals::Handled::new();
    let created = match serde_json::from_value::<Pod>(manifest) {
        Ok(p) => pods
            .create(&PostParams::default(), &p)
            .await
            .map_err(api_error),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = created {
        return fail(
            Exit::Error,
            &format!("cannot create the drill pod in namespace {ns}: {e}"),
            &format!("the drill needs create/get/delete on pods in {ns} (check `kubectl auth can-i create pods -n {ns}`), or choose another namespace with --in"),
        );
    }
    let t0 = Instant::now();
    let mut replayed = None;
    let outcome = tokio::select! {
        o = drill_in(ui, &dk, &pods, &spec, &path, &args, &mut report, t0, pitr.as_ref().map(|p| (p, &mut replayed))) => o,
        _ = crate::signals::interrupted() => Outcome {
            exit: Exit::Interrupted,
            error: Some(("interrupted".into(), "the drill pod is being deleted".into())),
        },
    };
    // The pod goes whatever happened (and on its own after its deadline).
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    match pods.delete(&name, &dp).await {
        Ok(_) => {
            report.pod_deleted = true;
            ui.line("drill", &Line::Step(format!("deleted {ns}/{name}")));
        }
        Err(e) => ui.line(
            "drill",
            &Line::Warn(format!(
                "could not delete {ns}/{name}: {} (it deletes itself within {} s)",
                api_error(e),
                spec.deadline_s
            )),
        ),
    }
    if let Some((m, h)) = &outcome.error {
        ui.error(m, Some(h));
    } else {
        ui.line(
            "drill",
            &Line::Step(format!(
                "PASSED: {} keys restored in {}, {} compared value by value, all equal{}",
                report.keys_restored,
                kubectl_redis_core::human::millis(report.restore_ms),
                report.sampled,
                match (&pitr, replayed) {
                    (Some(p), Some((n, ms))) => format!(
                        "; then {n} archived commands replayed in {}, every one accepted: the data of {}",
                        kubectl_redis_core::human::millis(ms),
                        kubectl_redis_core::store::names::rfc3339(p.to)
                    ),
                    _ => String::new(),
                }
            )),
        );
    }
    if json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("ok".into(), (outcome.exit == Exit::Ok).into());
            o.insert("exit_code".into(), outcome.exit.code().into());
            if let Some(p) = &pitr {
                let mut j = crate::commands::restore::pitr_json(p, replayed.map(|r| r.0));
                j["replay_ms"] = replayed.map(|r| r.1).into();
                o.insert("point_in_time".into(), j);
            }
            o.insert(
                "error".into(),
                outcome
                    .error
                    .as_ref()
                    .map(|(m, h)| crate::output::error(m, Some(h)))
                    .unwrap_or_default(),
            );
        }
        crate::output::print(ui, "DrillResult", v);
    }
    // The audit trail: an Event on the production workload.
    let pod = match source_pod {
        Some(p) => Some(p),
        None => crate::audit::first_pod(&k, &source_selector).await,
    };
    if let Some(pod) = pod {
        let what = std::path::Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (warning, reason, note) = match &outcome.error {
            None => (
                false,
                "DrillSucceeded",
                format!(
                    "drill of {what} in {ns}: {} keys restored in {}, {} compared, all equal",
                    report.keys_restored,
                    kubectl_redis_core::human::millis(report.restore_ms),
                    report.sampled
                ),
            ),
            Some((m, _)) => (
                true,
                "DrillFailed",
                format!(
                    "drill of {what} in {ns} failed (exit {}): {m}",
                    outcome.exit.code()
                ),
            ),
        };
        crate::audit::event(ui, &k, &k.namespace, &pod, warning, "Drill", reason, &note).await;
    }
    outcome.exit
}

/// A short id for this run: time and process.
/// Sets a random password on the fresh drill server (`CONFIG SET
/// requirepass`, over a port-forward) and returns it.
async fn lock_down(pods: &Api<Pod>, target: &Target) -> Result<String, String> {
    let pw = random_password()?;
    let to = kubectl_redis_core::backup::Endpoint::Pod(target.clone());
    let (mut c, fwd) = crate::redis::open(&to, Some(pods))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let set = [
        "CONFIG".to_string(),
        "SET".to_string(),
        "requirepass".to_string(),
        pw.clone(),
    ];
    let r = c.command(&set).await;
    drop(c);
    if let Some(f) = fwd {
        f.close();
    }
    match r? {
        Reply::Error(e) => Err(format!("CONFIG SET requirepass: {e}")),
        _ => Ok(pw),
    }
}

/// 32 random bytes from the operating system, as hex.
fn random_password() -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| "the operating system gave no random bytes".to_string())?;
    Ok(crate::store::rdbfile::hex(&b))
}

fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:x}",
        (t ^ u128::from(std::process::id()) << 20) & 0xff_ffff_ffff
    )
}

/// The image of the production Redis container.
async fn source_image(ui: &Ui, k: &Kube, t: &TargetArgs) -> Result<String, Problem> {
    let api: Api<Pod> = Api::namespaced(k.client.clone(), &k.namespace);
    let selector = env::selector(t.selector.clone());
    let listing = crate::kube::pods::find_pods(ui, &api, &selector, t.pod.as_deref()).await;
    let q = pods::Query {
        namespace: &k.namespace,
        selector: &selector,
        wanted: t.wanted(),
    };
    let (target, _) = pods::choose(listing, &q).map_err(|r| Problem {
        message: format!("{} (the drill takes the image from it)", r.message),
        hint: format!("{}; or give the image with --image", r.hint),
    })?;
    let p = api.get(&target.pod).await.map_err(|e| Problem {
        message: format!("cannot read pod {}: {}", target.pod, api_error(e)),
        hint: "give the image with --image".into(),
    })?;
    p.spec
        .and_then(|s| {
            s.containers
                .into_iter()
                .find(|c| c.name == target.container)
        })
        .and_then(|c| c.image)
        .ok_or_else(|| Problem {
            message: format!(
                "pod {} has no image for container {}",
                target.pod, target.container
            ),
            hint: "give the image with --image".into(),
        })
}

#[allow(clippy::too_many_arguments)]
async fn drill_in(
    ui: &Ui,
    dk: &Kube,
    pods: &Api<Pod>,
    spec: &PodSpec,
    path: &str,
    args: &DrillArgs,
    report: &mut DrillReport,
    t0: Instant,
    pitr: Option<(&crate::archive::replay::Prepared, &mut Option<(u64, u64)>)>,
) -> Outcome {
    let err = |exit: Exit, m: String, h: &str| Outcome {
        exit,
        error: Some((m, h.to_string())),
    };
    if let Err(e) = wait_ready(pods, &spec.name, args.timeout).await {
        return err(
            Exit::Error,
            format!("the drill pod {}/{} did not start: {e}", spec.namespace, spec.name),
            "check the image (--image) and the server binary (--server); `kubectl describe pod` shows why",
        );
    }
    report.pod_ready_ms = env::millis(t0.elapsed());
    ui.line(
        "drill",
        &Line::Detail(format!(
            "ready in {}",
            kubectl_redis_core::human::millis(report.pod_ready_ms)
        )),
    );
    // The throwaway server is about to hold production data: it gets a
    // random password, set over the port-forward (never in the pod's spec
    // or an argv) before any of it goes in. With --host-network its
    // loopback is the node's, shared with every process there.
    let target = Target {
        pod: spec.name.clone(),
        container: "redis".into(),
        port: spec.port,
    };
    let password = match lock_down(pods, &target).await {
        Ok(p) => p,
        Err(e) => {
            return err(
                Exit::Error,
                format!("cannot set the drill server's password: {e}; nothing was restored"),
                "check pods/portforward access to the drill namespace",
            )
        }
    };
    let auth = Auth {
        user: None,
        password: Some(crate::redis::auth::Password::new(password.clone())),
        source: Some("the drill server's own random password".into()),
    };
    let plan = Plan {
        namespace: spec.namespace.clone(),
        selector: format!("{}={}", drill::DRILL_LABEL, spec.name),
        pod: Some(spec.name.clone()),
        container: Some("redis".into()),
        port: Some(spec.port),
        file: path.to_string(),
        writers: Vec::new(),
        yes: true,
        dry_run: false,
        force_unverified: false,
        holder: lease::holder(dk.user.as_deref()),
        started_unix: env::unix_now(),
        lease_s: lease::DURATION_S,
        scale_timeout_ms: 60_000,
        restart_timeout_ms: 60_000,
        poll_ms: 500,
        method: Method::Live,
        url: None,
        merge: false,
        big_value_bytes: 16 << 20,
        locked_outside: false,
        // --to-time replays after the sample, over the drill's own link.
        replay: None,
    };
    let f = crate::jobs::restore::drive(ui, Some(dk), auth, plan, None, None).await;
    if let Some(l) = &f.report.load {
        report.keys_restored = l.keys_restored;
        report.keys = l.keys_restored + l.keys_expired;
    }
    report.restore_ms = f.report.duration_ms;
    if let Some(e) = f.error {
        report.mismatches.push(e.message.clone());
        return Outcome {
            exit: f.exit,
            error: Some((
                format!("drill FAILED: {}", e.message),
                e.hint.unwrap_or_default(),
            )),
        };
    }
    // A sample, value by value, read back with plain commands.
    let to = kubectl_redis_core::backup::Endpoint::Pod(target.clone());
    let mut conn = match crate::redis::open(&to, Some(pods)).await {
        Ok(c) => c,
        Err(e) => {
            return err(
                Exit::Error,
                format!("cannot port-forward to the drill pod for the sample: {e:?}"),
                "the restore itself passed; check pods/portforward access",
            )
        }
    };
    let pw = crate::redis::auth::Password::new(password);
    if let Err(e) = conn.0.auth(None, &pw).await.and_then(|r| match r {
        Reply::Error(e) => Err(e),
        _ => Ok(()),
    }) {
        return err(
            Exit::Error,
            format!("the drill server refused its password for the sample: {e}"),
            "the restore itself passed",
        );
    }
    let r = sample(ui, &mut conn.0, path, args.sample, report).await;
    // --to-time: the base restored and sampled, the archived writes are
    // replayed over the same connection; every reply must be a success.
    if let (Ok(()), true, Some((p, out))) = (&r, report.mismatches.is_empty(), pitr) {
        ui.line(
            "drill",
            &Line::Step(format!(
                "replaying {} archived commands up to {}",
                p.commands,
                kubectl_redis_core::store::names::rfc3339(p.to)
            )),
        );
        let t = Instant::now();
        match crate::archive::replay::replay(&mut conn.0, p).await {
            Ok(n) => *out = Some((n, env::millis(t.elapsed()))),
            Err(e) => {
                drop(conn.0);
                if let Some(f) = conn.1 {
                    f.close();
                }
                report.mismatches.push(e.clone());
                return err(
                    Exit::VerifyFailed,
                    format!("drill FAILED: the base {} restored and sampled, but {e}", p.base),
                    "the archive does not replay onto its base: run `kubectl redis verify --archive`, and report this",
                );
            }
        }
    }
    drop(conn.0);
    if let Some(f) = conn.1 {
        f.close();
    }
    match r {
        Ok(()) if report.mismatches.is_empty() => Outcome {
            exit: Exit::Ok,
            error: None,
        },
        Ok(()) => err(
            Exit::VerifyFailed,
            format!(
                "drill FAILED: {} of {} sampled keys differ: {}",
                report.mismatches.len(),
                report.sampled,
                report.mismatches.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
            ),
            "the backup does not restore to what it holds: inspect it with `kubectl redis inspect` and report this",
        ),
        Err(e) => err(Exit::Error, format!("the sample check failed: {e}"), "the restore itself passed"),
    }
}

/// Polls the pod until it is Ready; a pod that cannot start is an error at once.
async fn wait_ready(pods: &Api<Pod>, name: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let p = pods.get(name).await.map_err(api_error)?;
        let status = p.status.unwrap_or_default();
        let ready = status
            .conditions
            .as_ref()
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if ready {
            return Ok(());
        }
        if status.phase.as_deref() == Some("Failed") || status.phase.as_deref() == Some("Succeeded")
        {
            return Err(format!("it ended ({})", status.phase.unwrap_or_default()));
        }
        for cs in status.container_statuses.unwrap_or_default() {
            let state = cs.state.unwrap_or_default();
            if let Some(w) = state.waiting {
                let reason = w.reason.unwrap_or_default();
                if matches!(
                    reason.as_str(),
                    "ErrImagePull"
                        | "ImagePullBackOff"
                        | "InvalidImageName"
                        | "CreateContainerError"
                        | "CreateContainerConfigError"
                ) {
                    return Err(format!("{reason}: {}", w.message.unwrap_or_default()));
                }
            }
            if let Some(t) = state.terminated {
                return Err(format!(
                    "the server exited ({}, code {})",
                    t.reason.unwrap_or_default(),
                    t.exit_code
                ));
            }
        }
        if Instant::now() >= deadline {
            return Err(format!("not ready after {} s", timeout.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Picks about `want` keys from the file and compares each with the server.
async fn sample(
    ui: &Ui,
    conn: &mut Conn,
    path: &str,
    want: u64,
    report: &mut DrillReport,
) -> Result<(), String> {
    let head = {
        let mut h = vec![0u8; 16];
        let mut f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
        let n = f.read(&mut h).map_err(|e| format!("{path}: {e}"))?;
        h.truncate(n);
        h
    };
    let flavor = kubectl_redis_core::rdb::parse_header(&head)
        .map_err(|e| e.to_string())?
        .flavor;
    let now = env::unix_now().saturating_mul(1000);
    let mut s = Sampler::new(flavor, report.keys.max(1), want, 256 << 10, now);
    // The whole file is read: on the blocking pool, not the runtime's one
    // thread (the Lease's renewal runs there).
    let owned = path.to_string();
    let s = tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(&owned).map_err(|e| format!("{owned}: {e}"))?;
        crate::store::rdbfile::each_chunk(&mut f, &mut |c| s.feed(c)).map_err(|e| match e {
            crate::store::rdbfile::ChunkError::Read(e) => e.to_string(),
            crate::store::rdbfile::ChunkError::Stop(m) => m,
        })?;
        s.finish()?;
        Ok::<_, String>(s)
    })
    .await
    .map_err(|e| format!("internal error: {e}"))??;
    report.sample_skipped = s.skipped;
    for smp in &s.samples {
        let db = smp.db.to_string();
        if let Reply::Error(e) = conn.command_bytes(&[b"SELECT", db.as_bytes()]).await? {
            return Err(format!("SELECT {db}: {e}"));
        }
        let mut replies = Vec::new();
        for cmd in drill::reads(smp) {
            let args: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
            replies.push(conn.command_bytes(&args).await?);
        }
        report.sampled += 1;
        if let Some(d) = drill::differs(smp, &replies, env::unix_now().saturating_mul(1000)) {
            report.mismatches.push(d);
        }
    }
    ui.line(
        "drill",
        &Line::Detail(format!(
            "{} keys compared value by value ({} skipped: too big or about to expire), {} differ",
            report.sampled,
            report.sample_skipped,
            report.mismatches.len()
        )),
    );
    Ok(())
}

/// `drill --in-cluster`: the drill as a Job: the backup read straight from
/// the repository into a throwaway pod beside it, over the pod network.
async fn in_cluster(ui: &Ui, kube: &KubeArgs, args: &DrillArgs) -> Exit {
    use crate::jobs::in_cluster::{self, reachable, Argv, Plan, UNREACHABLE_HINT};
    let output = args.output;
    let fail = |message: String, hint: &str| {
        ui.error(&message, Some(hint));
        if output == Output::Json {
            crate::output::failure(ui, "DrillResult", Exit::Invalid, &message, Some(hint));
        }
        Exit::Invalid
    };
    let k = &args.keys;
    let local: [(bool, &str, &str); 4] = [
        (!k.identity.is_empty(), "--identity", "put the identity in a Secret: --identity-from-secret NAME/KEY"),
        (k.passphrase_file.is_some(), "--passphrase-file", "use --passphrase-from-secret NAME/KEY"),
        (args.sanitize.sanitize.is_some(), "--sanitize", "drill a sanitized copy made by `kubectl redis copy --sanitize`"),
        (args.drill_namespace.is_some(), "--in", "the run's Job and its Role live in the Redis namespace; drill there, or without --in-cluster"),
    ];
    if let Some((flag, hint)) = in_cluster::local_flag(&local) {
        return fail(format!("{flag} cannot be used with --in-cluster"), hint);
    }
    let file = args.backup.file();
    for r in file.iter().chain(args.backup.out_dir.iter()) {
        if !reachable(&args.in_cluster, r) {
            return fail(
                format!("--in-cluster drills from the repository, and {r} is on this machine"),
                UNREACHABLE_HINT,
            );
        }
    }
    let mut a = Argv::new(&["drill"]);
    a.opt("--file", file.clone());
    a.opt("--repo", args.backup.out_dir.clone());
    a.opt("--to-time", args.backup.to_time.clone());
    a.opt("--archive", args.backup.archive.clone());
    a.opt("-l", args.target.selector.clone());
    a.opt("--pod", args.target.pod.clone());
    a.opt("--container", args.target.container.clone());
    let secrets = in_cluster::key_flags(k, &mut a);
    a.opt("--image", args.image.clone());
    a.opt("--server", args.server.clone());
    a.opt("--port", Some(args.port));
    a.opt("--memory", args.memory.clone());
    a.opt("--sample", Some(args.sample));
    a.secs("--timeout", args.timeout);
    a.each("--trust", &args.trust.trust);
    a.switch("--latest", args.backup.latest);
    a.switch("--host-network", args.host_network);
    a.switch("--allow-unsigned", args.trust.allow_unsigned);
    let plan = Plan {
        command: "drill".into(),
        args: a.0,
        rules: kubectl_redis_core::ops::job::drill_rules(&secrets),
        node: None,
    };
    let text = |_: &serde_json::Value| {};
    in_cluster::run(
        ui,
        kube,
        &args.in_cluster,
        plan,
        output,
        "DrillResult",
        &text,
    )
    .await
}
