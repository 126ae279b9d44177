//! The audit trail's pure parts: who did what, as a Kubernetes Event
//! (`events.k8s.io/v1`) about the Redis workload, and as a record in the
//! repository's `audit/` prefix.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Who acted: the kubeconfig user (or the pod's service account), and the
/// local account and host beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    /// The kubeconfig user; `None` without a cluster (`--url`).
    pub kube_user: Option<String>,
    /// `$USER@host`.
    pub local: String,
}

impl Who {
    /// `alice (alice@laptop)`, or `alice@laptop` alone.
    pub fn describe(&self) -> String {
        match &self.kube_user {
            Some(u) => format!("{u} ({})", self.local),
            None => self.local.clone(),
        }
    }
}

/// The object an Event is about: `apps/v1 Deployment redis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Regarding {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub uid: Option<String>,
}

/// The workload a pod belongs to, from its owner references and its
/// ReplicaSet's: a Deployment (through its ReplicaSet), a StatefulSet, else
/// the pod itself. `replica_set_owner`: the ReplicaSet's own owner (kind,
/// name, uid), when the pod's owner is a ReplicaSet and it was read.
pub fn workload(
    namespace: &str,
    pod: &str,
    pod_uid: Option<&str>,
    pod_owner: Option<(&str, &str, &str)>,
    replica_set_owner: Option<(&str, &str, &str)>,
) -> Regarding {
    let apps = |kind: &str, name: &str, uid: &str| Regarding {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: name.into(),
        namespace: namespace.into(),
        uid: Some(uid.into()).filter(|u: &String| !u.is_empty()),
    };
    match (pod_owner, replica_set_owner) {
        (Some(("ReplicaSet", _, _)), Some(("Deployment", n, u))) => apps("Deployment", n, u),
        (Some(("StatefulSet", n, u)), _) => apps("StatefulSet", n, u),
        (Some(("ReplicaSet", n, u)), _) => apps("ReplicaSet", n, u),
        _ => Regarding {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: pod.into(),
            namespace: namespace.into(),
            uid: pod_uid.map(str::to_string),
        },
    }
}

/// An Event's note is at most 1 KiB.
const NOTE_MAX: usize = 1024;

/// An `events.k8s.io/v1` Event. `now_us`: Unix microseconds; `action`:
/// `Backup`, `Restore`, ...; `reason`: `BackupSucceeded`, ...
pub fn event(
    regarding: &Regarding,
    warning: bool,
    action: &str,
    reason: &str,
    note: &str,
    who: &Who,
    now_us: i64,
) -> Value {
    let secs = now_us.div_euclid(1_000_000);
    let micros = now_us.rem_euclid(1_000_000);
    let t = crate::store::names::rfc3339(secs);
    let t = format!("{}.{micros:06}Z", t.trim_end_matches('Z'));
    let mut note = note.to_string();
    if note.len() > NOTE_MAX {
        let mut cut = NOTE_MAX - 3;
        while !note.is_char_boundary(cut) {
            cut -= 1;
        }
        note.truncate(cut);
        note.push_str("...");
    }
    let mut reg = json!({
        "apiVersion": regarding.api_version,
        "kind": regarding.kind,
        "name": regarding.name,
        "namespace": regarding.namespace,
    });
    if let (Some(u), Some(o)) = (&regarding.uid, reg.as_object_mut()) {
        o.insert("uid".into(), json!(u));
    }
    // The instance names who (a label value: at most 128 characters).
    let instance: String = who.local.chars().take(128).collect();
    json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {
            "name": format!(
                "{}.{}.{:x}",
                regarding.name,
                reason.to_ascii_lowercase(),
                now_us
            ),
            "namespace": regarding.namespace,
            "labels": {"app.kubernetes.io/managed-by": "kubectl-redis"},
        },
        "eventTime": t,
        "reportingController": "kubectl-redis.io/kubectl-redis",
        "reportingInstance": instance,
        "action": action,
        "reason": reason,
        "regarding": reg,
        "note": note,
        "type": if warning { "Warning" } else { "Normal" },
    })
}

/// One access recorded in a repository's `audit/` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Always [`RECORD_FORMAT`].
    pub format: String,
    /// When, RFC 3339 with milliseconds.
    pub time: String,
    /// Unix milliseconds (for ordering and `--since`).
    pub time_ms: i64,
    /// `backup-written`, `read`, `deleted`.
    pub action: String,
    /// What for: `backup`, `copy`, `sanitize`, `restore`, `drill`, `verify`, `prune`.
    pub by_command: String,
    /// The backup (file name in the repository).
    pub file: String,
    /// Its stored SHA-256, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The stored object was decrypted with a key.
    #[serde(default)]
    pub decrypted: bool,
    /// Who.
    pub who: Who,
    /// `kubectl-redis x.y.z`.
    pub tool: String,
    /// Where to, or where from (another repository, a namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
}

/// The `format` of an audit record.
pub const RECORD_FORMAT: &str = "kubectl-redis.io/audit/v1";

/// The prefix audit records live under, in a repository.
pub const PREFIX: &str = "audit/";

/// A record's object name: sortable by time, then unique by `nonce`.
pub fn record_name(time_ms: i64, action: &str, nonce: &str) -> String {
    let secs = time_ms.div_euclid(1000);
    let ms = time_ms.rem_euclid(1000);
    format!(
        "{PREFIX}{}{ms:03}-{action}-{nonce}.json",
        crate::store::names::stamp(secs).replace('_', "T")
    )
}

/// A record, made now.
#[allow(clippy::too_many_arguments)]
pub fn record(
    time_ms: i64,
    action: &str,
    by_command: &str,
    file: &str,
    sha256: Option<&str>,
    decrypted: bool,
    who: &Who,
    tool: &str,
    peer: Option<&str>,
) -> Record {
    let secs = time_ms.div_euclid(1000);
    let t = crate::store::names::rfc3339(secs);
    Record {
        format: RECORD_FORMAT.into(),
        time: format!(
            "{}.{:03}Z",
            t.trim_end_matches('Z'),
            time_ms.rem_euclid(1000)
        ),
        time_ms,
        action: action.into(),
        by_command: by_command.into(),
        file: file.into(),
        sha256: sha256.map(str::to_string),
        decrypted,
        who: who.clone(),
        tool: tool.into(),
        peer: peer.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Who {
        Who {
            kube_user: Some("alice".into()),
            local: "alice@laptop".into(),
        }
    }

    #[test]
    fn a_pod_of_a_deployment_is_reported_on_the_deployment() {
        let w = workload(
            "october",
            "redis-7c9-abc",
            Some("p1"),
            Some(("ReplicaSet", "redis-7c9", "rs1")),
            Some(("Deployment", "redis", "d1")),
        );
        assert_eq!((w.kind.as_str(), w.name.as_str()), ("Deployment", "redis"));
        let s = workload(
            "o",
            "redis-0",
            None,
            Some(("StatefulSet", "redis", "s1")),
            None,
        );
        assert_eq!(
            (s.kind.as_str(), s.api_version.as_str()),
            ("StatefulSet", "apps/v1")
        );
        let p = workload("o", "redis", Some("p1"), None, None);
        assert_eq!((p.kind.as_str(), p.uid.as_deref()), ("Pod", Some("p1")));
    }

    #[test]
    fn an_event_names_who_what_and_the_outcome() {
        let w = workload(
            "october",
            "redis-0",
            None,
            Some(("StatefulSet", "redis", "u1")),
            None,
        );
        let e = event(
            &w,
            false,
            "Backup",
            "BackupSucceeded",
            "backup redis-backup-20261205_070000.rdb written",
            &who(),
            1_796_454_000_123_456,
        );
        assert_eq!(e["eventTime"], "2026-12-05T07:00:00.123456Z");
        assert_eq!(e["regarding"]["kind"], "StatefulSet");
        assert_eq!(e["regarding"]["uid"], "u1");
        assert_eq!(e["reportingInstance"], "alice@laptop");
        assert_eq!(e["type"], "Normal");
        let long = "x".repeat(5000);
        let e = event(&w, true, "Backup", "BackupFailed", &long, &who(), 0);
        assert_eq!(e["note"].as_str().map(str::len), Some(1024));
        assert_eq!(e["type"], "Warning");
        assert_eq!(who().describe(), "alice (alice@laptop)");
    }

    #[test]
    fn record_names_sort_by_time() {
        let a = record_name(1_796_454_000_123, "read", "aaaa");
        let b = record_name(1_796_454_000_124, "backup-written", "0000");
        assert_eq!(a, "audit/20261205T070000123-read-aaaa.json");
        assert!(a < b);
        let r = record(
            1_796_454_000_123,
            "read",
            "restore",
            "f.rdb",
            None,
            true,
            &who(),
            "t",
            None,
        );
        assert_eq!(r.time, "2026-12-05T07:00:00.123Z");
    }
}
