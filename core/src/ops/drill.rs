//! `kubectl redis drill`: the runbook's restore drill without touching
//! production. The decisions are here: the throwaway pod's manifest, which
//! keys are sampled from the file, and whether what the server holds for
//! each sampled key equals what the file says (read back with plain
//! commands, not DUMP, so the check does not trust the restore's own path).

use crate::rdb::records::{Record, Splitter};
use crate::rdb::values::{Decoder, Item, Shape};
use crate::rdb::{escape, Flavor};
use crate::wire::reply::Reply;
use serde::Serialize;
use serde_json::{json, Value};

/// The label every drill pod carries (its value: the run's id).
pub const DRILL_LABEL: &str = "kubectl-redis.io/drill";

/// The throwaway server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSpec {
    /// Pod name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Image (the source's, or `--image`).
    pub image: String,
    /// The server binary on the image's PATH (`redis-server`, `valkey-server`).
    pub server: String,
    /// Port it listens on (loopback only: the port-forward reaches it).
    pub port: u16,
    /// Use the node's network (clusters without a pod network).
    pub host_network: bool,
    /// The pod deletes itself after this long, should the plugin die.
    pub deadline_s: u64,
    /// Memory limit, e.g. `2Gi` (none when empty).
    pub memory: String,
}

/// The pod: one container running the server with no persistence,
/// reachable only on loopback, ready once its port answers, gone after
/// `deadline_s` at the latest.
pub fn pod(s: &PodSpec) -> Value {
    let mut container = json!({
        "name": "redis",
        "image": s.image,
        "command": [s.server, "--port", s.port.to_string(), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--protected-mode", "no"],
        "ports": [{"name": "redis", "containerPort": s.port}],
        "readinessProbe": {"tcpSocket": {"host": "127.0.0.1", "port": s.port}, "periodSeconds": 1},
    });
    if !s.memory.is_empty() {
        container["resources"] =
            json!({"limits": {"memory": s.memory}, "requests": {"memory": s.memory}});
        // A cap the server knows about: it answers OOM instead of being killed.
        if let Some(a) = container["command"].as_array_mut() {
            a.push(json!("--maxmemory"));
            a.push(json!(
                memory_bytes(&s.memory).map_or(String::new(), |b| (b / 10 * 9).to_string())
            ));
        }
    }
    let mut spec = json!({
        "restartPolicy": "Never",
        "activeDeadlineSeconds": s.deadline_s,
        "terminationGracePeriodSeconds": 1,
        "automountServiceAccountToken": false,
        "containers": [container],
    });
    if s.host_network {
        spec["hostNetwork"] = json!(true);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": s.name,
            "namespace": s.namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "kubectl-redis",
                "app.kubernetes.io/component": "restore-drill",
                DRILL_LABEL: s.name,
            },
        },
        "spec": spec,
    })
}

/// `512Mi`, `2Gi`, `1G` in bytes.
pub fn memory_bytes(q: &str) -> Option<u64> {
    let t = q.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..split].parse().ok()?;
    let m: u64 = match &t[split..] {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "K" | "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(m)
}

/// The server binary of an image, by its name.
pub fn server_for(image: &str) -> &'static str {
    if image.contains("valkey") {
        "valkey-server"
    } else {
        "redis-server"
    }
}

/// One sampled key, as the file says it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Database.
    pub db: u64,
    /// Name.
    pub name: Vec<u8>,
    /// What it is.
    pub shape: Shape,
    /// Absolute expiry, Unix ms.
    pub expire_ms: Option<i64>,
    /// Its elements.
    pub items: Vec<Item>,
}

/// Picks every `every`-th key of a file (values up to `max_bytes`), decoded.
#[derive(Debug)]
pub struct Sampler {
    splitter: Splitter,
    src: Flavor,
    every: u64,
    max_bytes: usize,
    index: u64,
    now_ms: i64,
    /// The sampled keys.
    pub samples: Vec<Sample>,
    /// Keys that would have been sampled but were too big or expired.
    pub skipped: u64,
}

impl Sampler {
    /// About `want` keys out of `total`.
    pub fn new(src: Flavor, total: u64, want: u64, max_bytes: usize, now_ms: i64) -> Self {
        Sampler {
            splitter: Splitter::new(max_bytes),
            src,
            every: (total / want.max(1)).max(1),
            max_bytes,
            index: 0,
            now_ms,
            samples: Vec::new(),
            skipped: 0,
        }
    }

    /// Feeds the next bytes of the file.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), String> {
        let Sampler {
            splitter,
            src,
            every,
            max_bytes,
            index,
            now_ms,
            samples,
            skipped,
        } = self;
        let mut err = None;
        splitter
            .feed(chunk, &mut |r| {
                let pick = |index: &mut u64| {
                    let p = (*index).is_multiple_of(*every);
                    *index += 1;
                    p
                };
                match r {
                    Record::Key { key, value } => {
                        if !pick(index) {
                            return;
                        }
                        let expired = key.expire_ms.is_some_and(|t| t <= *now_ms + 60_000);
                        if value.len() > *max_bytes || expired {
                            *skipped += 1;
                            return;
                        }
                        let decoded =
                            crate::rdb::values::shape(key.kind.code, *src).and_then(|shape| {
                                let mut d = Decoder::new(key.kind.code, *src)?;
                                let mut items = Vec::new();
                                d.feed(value, &mut |i| items.push(i))?;
                                d.finish()?;
                                Ok((shape, items))
                            });
                        match decoded {
                            Ok((shape, items)) => samples.push(Sample {
                                db: key.db,
                                name: key.name.to_vec(),
                                shape,
                                expire_ms: key.expire_ms,
                                items,
                            }),
                            Err(crate::rdb::values::DecodeError::Unsupported(_)) => *skipped += 1,
                            Err(e) => {
                                err.get_or_insert(format!("key \"{}\": {e}", escape(key.name)));
                            }
                        }
                    }
                    Record::BigStart { .. } if pick(index) => *skipped += 1,
                    _ => {}
                }
            })
            .map_err(|e| e.to_string())?;
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The end of the file.
    pub fn finish(&mut self) -> Result<(), String> {
        self.splitter
            .finish()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The commands that read a sampled key back (after `SELECT db`): its
/// value, then `PTTL`.
pub fn reads(s: &Sample) -> Vec<Vec<Vec<u8>>> {
    let k = s.name.clone();
    let c = |a: &[&[u8]]| a.iter().map(|x| x.to_vec()).collect::<Vec<_>>();
    let read = match s.shape {
        Shape::String => c(&[b"GET", &k]),
        Shape::List => c(&[b"LRANGE", &k, b"0", b"-1"]),
        Shape::Set => c(&[b"SMEMBERS", &k]),
        Shape::Zset => c(&[b"ZRANGE", &k, b"0", b"-1", b"WITHSCORES"]),
        Shape::Hash => c(&[b"HGETALL", &k]),
        Shape::Stream => c(&[b"XRANGE", &k, b"-", b"+"]),
    };
    vec![read, c(&[b"PTTL", &k])]
}

/// What differs between the file's sample and the server's replies to
/// [`reads`] (`now_ms` when they were read), or `None`.
pub fn differs(s: &Sample, replies: &[Reply], now_ms: i64) -> Option<String> {
    let (value, pttl) = match replies {
        [v, Reply::Integer(t)] => (v, *t),
        other => return Some(format!("unexpected replies {other:?}")),
    };
    let bulks = |r: &Reply| -> Option<Vec<Vec<u8>>> {
        match r {
            Reply::Array(items) => items
                .iter()
                .map(|i| match i {
                    Reply::Bulk(b) => Some(b.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    };
    let got_ok = match s.shape {
        Shape::String => {
            let want: Vec<u8> = s
                .items
                .iter()
                .flat_map(|i| match i {
                    Item::Str(p) => p.clone(),
                    _ => Vec::new(),
                })
                .collect();
            matches!(value, Reply::Bulk(b) if *b == want)
        }
        Shape::List => bulks(value) == Some(elems(&s.items)),
        Shape::Set => bulks(value).map(sorted) == Some(sorted(elems(&s.items))),
        Shape::Hash => {
            let want: Vec<Vec<u8>> = sorted_pairs(s.items.iter().filter_map(|i| match i {
                Item::Field(f, v) | Item::FieldExpiring(f, v, _) => Some((f.clone(), v.clone())),
                _ => None,
            }));
            bulks(value).map(|b| {
                sorted_pairs(
                    b.chunks(2)
                        .map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default())),
                )
            }) == Some(want)
        }
        Shape::Zset => {
            let score = |b: &[u8]| -> Option<f64> {
                let t = core::str::from_utf8(b).ok()?;
                match t {
                    "inf" | "+inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    t => t.parse().ok(),
                }
            };
            let mut want: Vec<(Vec<u8>, Option<f64>)> = s
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Scored(m, sc) => Some((m.clone(), score(sc))),
                    _ => None,
                })
                .collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            let got = bulks(value).map(|b| {
                let mut g: Vec<(Vec<u8>, Option<f64>)> = b
                    .chunks(2)
                    .map(|p| (p[0].clone(), p.get(1).and_then(|x| score(x))))
                    .collect();
                g.sort_by(|a, b| a.0.cmp(&b.0));
                g
            });
            got == Some(want)
        }
        Shape::Stream => {
            let want: Vec<(String, Vec<Vec<u8>>)> = s
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry(id, fields) => Some((
                        id.to_string(),
                        fields
                            .iter()
                            .flat_map(|(f, v)| [f.clone(), v.clone()])
                            .collect(),
                    )),
                    _ => None,
                })
                .collect();
            let got: Option<Vec<(String, Vec<Vec<u8>>)>> = match value {
                Reply::Array(entries) => entries
                    .iter()
                    .map(|e| match e {
                        Reply::Array(pair) => match pair.as_slice() {
                            [Reply::Bulk(id), fields] => {
                                Some((String::from_utf8_lossy(id).into_owned(), bulks(fields)?))
                            }
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect(),
                _ => None,
            };
            got == Some(want)
        }
    };
    let key = escape(&s.name[..s.name.len().min(80)]);
    if !got_ok {
        return Some(format!(
            "db{} key \"{key}\": the value differs from the backup's",
            s.db
        ));
    }
    // TTL: none stays none; an expiry lands within a few seconds.
    match (s.expire_ms, pttl) {
        (None, -1) => None,
        (None, t) => Some(format!(
            "db{} key \"{key}\": has a TTL ({t} ms), the backup none",
            s.db
        )),
        (Some(_), -1 | -2) => Some(format!("db{} key \"{key}\": lost its TTL", s.db)),
        (Some(at), t) => {
            let want = at - now_ms;
            ((want - t).abs() > 5_000).then(|| {
                format!(
                    "db{} key \"{key}\": TTL {t} ms, the backup says {want} ms",
                    s.db
                )
            })
        }
    }
}

fn elems(items: &[Item]) -> Vec<Vec<u8>> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Elem(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn sorted_pairs(it: impl Iterator<Item = (Vec<u8>, Vec<u8>)>) -> Vec<Vec<u8>> {
    let mut v: Vec<(Vec<u8>, Vec<u8>)> = it.collect();
    v.sort();
    v.into_iter().flat_map(|(a, b)| [a, b]).collect()
}

/// What a drill found (`-o json` prints this).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrillReport {
    /// The backup.
    pub file: String,
    /// The throwaway pod.
    pub pod: String,
    /// Its namespace.
    pub namespace: String,
    /// Its image.
    pub image: String,
    /// Keys the backup holds.
    pub keys: u64,
    /// Keys restored.
    pub keys_restored: u64,
    /// Milliseconds from the start of the load to the last key confirmed.
    pub restore_ms: u64,
    /// Milliseconds from start to the pod being ready.
    pub pod_ready_ms: u64,
    /// Keys compared value by value.
    pub sampled: u64,
    /// Keys that would have been sampled but were too big or about to expire.
    pub sample_skipped: u64,
    /// What differs (empty when the drill passed).
    pub mismatches: Vec<String>,
    /// Whether the pod was deleted.
    pub pod_deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pod_is_loopback_only_and_dies_on_its_own() {
        let p = pod(&PodSpec {
            name: "kubectl-redis-drill-abc".into(),
            namespace: "drills".into(),
            image: "redis:7.0".into(),
            server: "redis-server".into(),
            port: 6379,
            host_network: false,
            deadline_s: 3600,
            memory: "1Gi".into(),
        });
        assert_eq!(p["spec"]["activeDeadlineSeconds"], 3600);
        assert_eq!(p["spec"]["restartPolicy"], "Never");
        let cmd = p["spec"]["containers"][0]["command"].to_string();
        assert!(cmd.contains("\"--bind\",\"127.0.0.1\""), "{cmd}");
        assert!(cmd.contains("\"--maxmemory\",\"966367638\""), "{cmd}");
        assert_eq!(
            p["metadata"]["labels"][DRILL_LABEL],
            "kubectl-redis-drill-abc"
        );
        assert_eq!(memory_bytes("512Mi"), Some(512 << 20));
        assert_eq!(memory_bytes("lots"), None);
    }

    #[test]
    fn a_changed_value_or_ttl_is_a_mismatch() {
        let s = Sample {
            db: 0,
            name: b"l".to_vec(),
            shape: Shape::List,
            expire_ms: Some(100_000),
            items: vec![Item::Elem(b"a".to_vec()), Item::Elem(b"b".to_vec())],
        };
        let arr = |v: &[&[u8]]| Reply::Array(v.iter().map(|b| Reply::Bulk(b.to_vec())).collect());
        assert_eq!(
            differs(&s, &[arr(&[b"a", b"b"]), Reply::Integer(99_000)], 1_000),
            None
        );
        assert!(differs(&s, &[arr(&[b"b", b"a"]), Reply::Integer(99_000)], 1_000).is_some());
        assert!(differs(&s, &[arr(&[b"a", b"b"]), Reply::Integer(-1)], 1_000).is_some());
        assert!(differs(&s, &[arr(&[b"a", b"b"]), Reply::Integer(20_000)], 1_000).is_some());
    }
}
