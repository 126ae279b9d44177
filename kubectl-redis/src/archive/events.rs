//! Kubernetes Events about the archiver's own pod (`archive start` gives it
//! `POD_NAME` and `POD_NAMESPACE` and the right to create Events): a new
//! base (a gap when a chain came before), a full spool, a stop for good.
//! Best effort: an Event that cannot be created is said in the log, never
//! fatal. Outside a pod (`archive run` on a laptop) there are none.

use std::sync::OnceLock;

struct Sink {
    client: kube::Client,
    namespace: String,
    pod: String,
    /// When each reason was last posted (Unix s): at most one a minute.
    last: std::sync::Mutex<std::collections::HashMap<&'static str, i64>>,
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Posts Events from now on, when this process runs in the pod named by
/// `$POD_NAME` in `$POD_NAMESPACE`.
pub fn init(client: &kube::Client) {
    let (Some(pod), Some(namespace)) = (
        crate::env::env_nonempty("POD_NAME"),
        crate::env::env_nonempty("POD_NAMESPACE"),
    ) else {
        return;
    };
    let _ = SINK.set(Sink {
        client: client.clone(),
        namespace,
        pod,
        last: std::sync::Mutex::new(std::collections::HashMap::new()),
    });
}

/// The spool is full: reading stops.
pub fn spool_full(bytes: u64) {
    post(
        true,
        "ArchiveSpoolFull",
        format!("the spool ({bytes} bytes) is full: the repository is slower than Redis or unreachable; the archiver stops reading, and the primary drops it if this lasts (then a new base starts when the repository is back)"),
    );
}

/// A new base was stored; `gap_after`: the last second of the chain before
/// it, when there was one (nothing in between is archived).
pub fn new_base(name: &str, gap_after: Option<&str>) {
    match gap_after {
        Some(t) => post(
            true,
            "ArchiveNewBase",
            format!("the primary could not continue the chain: a new base {name} starts; nothing between {t} and it is archived (a gap, shown by `kubectl redis archive status`)"),
        ),
        None => post(false, "ArchiveNewBase", format!("a new base {name} starts the archive")),
    }
}

/// The archiver stops for good (exit code and why).
pub fn stopped(exit: u8, why: &str) {
    post(
        true,
        "ArchiveStopped",
        format!("the archiver stopped (exit {exit}): {why}"),
    );
}

fn post(warning: bool, reason: &'static str, message: String) {
    let Some(s) = SINK.get() else {
        return;
    };
    let now = crate::env::unix_now();
    if let Ok(mut last) = s.last.lock() {
        if last.get(reason).is_some_and(|t| now - t < 60) {
            return;
        }
        last.insert(reason, now);
    }
    let ev = kubectl_redis_core::ops::archive::event(
        &s.namespace,
        &s.pod,
        warning,
        reason,
        &message,
        now,
    );
    let api: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(s.client.clone(), &s.namespace);
    let task = async move {
        let r = match serde_json::from_value::<k8s_openapi::api::core::v1::Event>(ev) {
            Ok(e) => api
                .create(&kube::api::PostParams::default(), &e)
                .await
                .map(|_| ())
                .map_err(crate::kube::api_error),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = r {
            crate::ui::warning(&format!("cannot create the Event {reason}: {e}"));
        }
    };
    // The last one (a stop) is awaited by `flush`; the others run beside.
    if let Ok(h) = tokio::runtime::Handle::try_current() {
        let j = h.spawn(task);
        if let Ok(mut p) = PENDING.lock() {
            p.push(j);
        }
    }
}

static PENDING: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>> =
    std::sync::Mutex::new(Vec::new());

/// Waits (up to 5 s) for the Events being created, before the process ends.
pub async fn flush() {
    let pending: Vec<_> = PENDING
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        for j in pending {
            let _ = j.await;
        }
    })
    .await;
}
