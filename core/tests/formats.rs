//! File names, RDB headers, redis-cli replies, pod choice and listings.

use kubectl_redis_core::kube::pods::{select, ContainerInfo, PodInfo, SelectError, Wanted};
use kubectl_redis_core::ops::list::{listing, table, Entry};
use kubectl_redis_core::rdb::{parse_header, Flavor, HeaderError};
use kubectl_redis_core::store::names::*;
use kubectl_redis_core::wire::reply::{info_fields, parse_cli_output, Reply};
use kubectl_redis_core::{exit, human};

#[test]
fn civil_time_round_trips() {
    for secs in [
        0i64,
        951_782_400, // 2000-02-29
        1_761_329_100,
        4_102_444_799, // 2099-12-31T23:59:59
        -86_400,
    ] {
        assert_eq!(unix_from_civil(civil_from_unix(secs)), secs);
    }
    assert_eq!(rfc3339(1_761_329_100), "2025-10-24T18:05:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    // Every day for 400 years (one Gregorian cycle) round-trips.
    let mut secs = unix_from_civil(Civil {
        year: 1970,
        month: 1,
        day: 1,
        hour: 12,
        minute: 0,
        second: 0,
    });
    for _ in 0..146_097 {
        assert_eq!(unix_from_civil(civil_from_unix(secs)), secs);
        secs += 86_400;
    }
}

#[test]
fn backup_names() {
    assert_eq!(
        backup_file_name(1_761_329_100, 0),
        "redis-backup-20251024_180500.rdb"
    );
    assert_eq!(
        backup_file_name(1_761_329_100, 1),
        "redis-backup-20251024_180500-2.rdb"
    );
    assert_eq!(
        parse_backup_file_name("redis-backup-20251024_180500.rdb"),
        Some(1_761_329_100)
    );
    assert_eq!(
        parse_backup_file_name("redis-backup-20251024_180500-2.rdb"),
        Some(1_761_329_100)
    );
    for bad in [
        "redis-backup-20251024_180500.rdb.tmp",
        ".redis-backup-20251024_180500.rdb.x1",
        "redis-backup-20250231_180500.rdb",
        "redis-backup-20251024_240000.rdb",
        "redis-backup-2025102_180500.rdb",
        "redis-backup-20251024-180500.rdb",
        "redis-backup-20251024_180500-.rdb",
        "redis-backup-20251024_180500-x.rdb",
        "redis-backup-+0251024_180500.rdb",
        "dump.rdb",
    ] {
        assert_eq!(parse_backup_file_name(bad), None, "{bad}");
    }
    assert!(is_temp_name(&format!("{}xyz", temp_prefix(1_761_329_100))));
    assert!(!is_temp_name("redis-backup-20251024_180500.rdb"));
}

#[test]
fn rdb_headers() {
    let h = parse_header(b"REDIS0010\xfa\x09redis-ver").unwrap();
    assert_eq!((h.flavor, h.version), (Flavor::Redis, 10));
    let h = parse_header(b"VALKEY080").unwrap();
    assert_eq!((h.flavor, h.version), (Flavor::Valkey, 80));
    assert_eq!(parse_header(b""), Err(HeaderError::Empty));
    assert_eq!(parse_header(b"REDIS00"), Err(HeaderError::TooShort(7)));
    assert_eq!(
        parse_header(b"REDISx010"),
        Err(HeaderError::BadVersion("x010".into()))
    );
    assert_eq!(
        parse_header(b"\x00\xffhello\"\\"),
        Err(HeaderError::BadMagic("\\x00\\xffhello\\x22\\x5c".into()))
    );
    insta::assert_snapshot!(parse_header(b"GIF89a...").unwrap_err().to_string());
}

#[test]
fn redis_cli_replies() {
    assert_eq!(
        parse_cli_output("(integer) 1729800000\n"),
        Reply::Integer(1_729_800_000)
    );
    assert_eq!(parse_cli_output("(nil)\n"), Reply::Nil);
    assert_eq!(parse_cli_output("OK\n"), Reply::Text("OK".into()));
    assert_eq!(
        parse_cli_output("(error) ERR Background save already in progress\n"),
        Reply::Error("ERR Background save already in progress".into())
    );
    assert_eq!(parse_cli_output("(empty array)\n"), Reply::Array(vec![]));
    let r = parse_cli_output("1) \"dir\"\n2) \"/var/lib/redis \\\"x\\\"\"\n");
    assert_eq!(r.config_value("dir"), Some("/var/lib/redis \"x\"".into()));
    assert_eq!(r.config_value("dbfilename"), None);
    assert_eq!(
        parse_cli_output("\"a\\\"b\\\\c\\x01\\xc3\\xa9\\r\\n\""),
        Reply::Bulk(b"a\"b\\c\x01\xc3\xa9\r\n".to_vec())
    );
    // Bad escapes stay text rather than being guessed at.
    assert_eq!(parse_cli_output("\"\\q\""), Reply::Text("\"\\q\"".into()));
    let f = info_fields("# Persistence\r\nloading:0\r\nrdb_last_save_time:17\r\n\r\n");
    assert_eq!(f.get("rdb_last_save_time").map(String::as_str), Some("17"));
    assert_eq!(f.len(), 2);
}

type Ports<'a> = &'a [(Option<&'a str>, u16)];

fn pod(name: &str, containers: &[(&str, Ports<'_>)]) -> PodInfo {
    PodInfo {
        name: name.into(),
        phase: "Running".into(),
        ready: true,
        terminating: false,
        default_container: None,
        containers: containers
            .iter()
            .map(|(n, ports)| ContainerInfo {
                name: n.to_string(),
                ports: ports
                    .iter()
                    .map(|(pn, p)| (pn.map(str::to_string), *p))
                    .collect(),
                ..ContainerInfo::default()
            })
            .collect(),
        uid: String::new(),
        restarts: 0,
        owner: format!("Pod/{name}"),
        primary: None,
        ..PodInfo::default()
    }
}

/// A container runs Sentinel when its command says so, whatever its name
/// and ports: `redis-sentinel`, `valkey-sentinel`, `--sentinel`.
#[test]
fn sentinel_is_known_by_its_command_line() {
    use kubectl_redis_core::kube::pods::{has_sentinel, sentinel_in_argv};
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(sentinel_in_argv(&argv(&["redis-sentinel", "/etc/s.conf"])));
    assert!(sentinel_in_argv(&argv(&["/opt/bin/valkey-sentinel"])));
    assert!(sentinel_in_argv(&argv(&[
        "sh",
        "-c",
        "exec redis-server /conf/s.conf --sentinel"
    ])));
    assert!(!sentinel_in_argv(&argv(&[
        "redis-server",
        "--port",
        "26380"
    ])));
    assert!(!sentinel_in_argv(&argv(&[
        "redis-server",
        "--sentinel-ish"
    ])));
    let mut p = pod("rfs-redis-7d", &[("main", &[])]);
    assert!(!has_sentinel(&p));
    p.containers[0].runs_sentinel = true;
    assert!(has_sentinel(&p));
}

/// The port where users put it: a port named tcp-redis (Bitnami), `--port`
/// in the command line when none is declared, `REDIS_PORT`; each with its
/// reason. Labelled roles pick the primary among replicas.
#[test]
fn ports_and_roles_as_charts_declare_them() {
    use kubectl_redis_core::kube::pods::{port_in_argv, port_of, port_reason, role_from_labels};
    let c = |ports: Ports<'_>, argv: &[&str], env_port: Option<u16>| ContainerInfo {
        name: "redis".into(),
        ports: ports
            .iter()
            .map(|(n, p)| (n.map(str::to_string), *p))
            .collect(),
        argv_port: port_in_argv(&argv.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
        env_port,
        runs_sentinel: false,
        tls: Default::default(),
    };
    assert_eq!(
        port_of(&c(
            &[(Some("tcp-redis"), 6379), (Some("metrics"), 9121)],
            &[],
            None
        ))
        .0,
        6379
    );
    let (p, why) = port_of(&c(&[], &["redis-server", "--port", "7202"], Some(1)));
    assert_eq!(
        (p, why.as_str()),
        (7202, "--port in its command line (no port declared)")
    );
    assert_eq!(
        port_of(&c(
            &[],
            &["sh", "-c", "exec redis-server --port=7300 --save ''"],
            None
        ))
        .0,
        7300
    );
    // `--port $REDIS_PORT` is not a number: the environment says.
    let (p, why) = port_of(&c(
        &[],
        &["sh", "-c", "redis-server --port $REDIS_PORT"],
        Some(7400),
    ));
    assert_eq!(
        (p, why.as_str()),
        (
            7400,
            "its REDIS_PORT environment variable (no port declared)"
        )
    );
    assert_eq!(port_of(&c(&[], &[], None)).0, 6379);
    // The reason is said unless the port is named redis.
    let mut p = pod("r", &[("redis", &[(Some("redis"), 6380)])]);
    let t = select(std::slice::from_ref(&p), &Wanted::default()).unwrap();
    assert_eq!(port_reason(&p, &t), None);
    p.containers[0] = c(&[], &["redis-server", "--port", "7202"], None);
    let t = select(std::slice::from_ref(&p), &Wanted::default()).unwrap();
    assert_eq!(t.port, 7202);
    assert!(port_reason(&p, &t).is_some());
    // Bitnami's primary and replica: the primary is chosen.
    assert_eq!(
        role_from_labels([("app.kubernetes.io/component", "master")]),
        Some(true)
    );
    assert_eq!(role_from_labels([("redis-role", "slave")]), Some(false));
    let mut a = pod("redis-master-0", &[("redis", &[])]);
    a.primary = Some(true);
    let mut b = pod("redis-replicas-0", &[("redis", &[])]);
    b.primary = Some(false);
    assert_eq!(
        select(&[b.clone(), a], &Wanted::default()).unwrap().pod,
        "redis-master-0"
    );
    // Two replicas and no primary: still ambiguous.
    let mut c2 = b.clone();
    c2.name = "redis-replicas-1".into();
    assert!(matches!(
        select(&[b, c2], &Wanted::default()),
        Err(SelectError::Ambiguous(_))
    ));
}

#[test]
fn pod_and_container_choice() {
    let w = Wanted::default();
    // The container named redis wins over a sidecar listed first; its port named redis.
    let p = pod(
        "r",
        &[
            ("exporter", &[(None, 9121)]),
            ("redis", &[(Some("redis"), 6380)]),
        ],
    );
    let t = select(std::slice::from_ref(&p), &w).unwrap();
    assert_eq!((t.container.as_str(), t.port), ("redis", 6380));
    // The default-container annotation wins over names.
    let mut q = p.clone();
    q.default_container = Some("exporter".into());
    assert_eq!(select(&[q], &w).unwrap().container, "exporter");
    // A lone undeclared port is used; none declared means 6379.
    let t = select(&[pod("r", &[("db", &[(None, 7000)])])], &w).unwrap();
    assert_eq!(t.port, 7000);
    let t = select(&[pod("r", &[("db", &[])])], &w).unwrap();
    assert_eq!(t.port, 6379);
    // --redis-port and --container override.
    let t = select(
        std::slice::from_ref(&p),
        &Wanted {
            container: Some("exporter"),
            port: Some(1),
            ..w.clone()
        },
    )
    .unwrap();
    assert_eq!((t.container.as_str(), t.port), ("exporter", 1));
    assert_eq!(
        select(
            std::slice::from_ref(&p),
            &Wanted {
                container: Some("nope"),
                ..w.clone()
            }
        ),
        Err(SelectError::NoSuchContainer {
            pod: "r".into(),
            wanted: "nope".into(),
            available: vec!["exporter".into(), "redis".into()]
        })
    );
    // --pod picks one of several.
    let two = [pod("a", &[("redis", &[])]), pod("b", &[("redis", &[])])];
    assert_eq!(
        select(&two, &w),
        Err(SelectError::Ambiguous(vec!["a".into(), "b".into()]))
    );
    assert_eq!(
        select(
            &two,
            &Wanted {
                pod: Some("b"),
                ..w.clone()
            }
        )
        .unwrap()
        .pod,
        "b"
    );
    assert_eq!(
        select(
            &two,
            &Wanted {
                pod: Some("c"),
                ..w
            }
        ),
        Err(SelectError::NotFound)
    );
}

#[test]
fn listing_newest_first_ignores_others() {
    let e = |name: &str, bytes: u64, is_file: bool| Entry {
        name: name.into(),
        bytes,
        modified: 0,
        is_file,
        manifest: None,
        set: None,
    };
    let l = listing(
        "./backups",
        &[
            e("redis-backup-20251024_180500.rdb", 125_952, true),
            e("redis-backup-20251025_090000.rdb", 2_000_000, true),
            e("redis-backup-20251024_180500-2.rdb", 10, true),
            e(".redis-backup-20251026_000000.rdb.k3j2", 50, true),
            e("notes.txt", 1, true),
            e("redis-backup-20251023_000000.rdb", 0, false),
        ],
        1_761_400_000,
    );
    insta::assert_snapshot!(table(&l));
    assert_eq!(
        l.partial,
        vec![".redis-backup-20251026_000000.rdb.k3j2".to_string()]
    );
    insta::assert_json_snapshot!(l);
}

#[test]
fn humans() {
    assert_eq!(human::bytes(0), "0 B");
    assert_eq!(human::bytes(1023), "1023 B");
    assert_eq!(human::bytes(1536), "1.5 KiB");
    assert_eq!(human::bytes(117_440_512), "112 MiB");
    assert_eq!(human::age(59), "59s");
    assert_eq!(human::age(3_700), "1h01m");
    assert_eq!(human::age(90_000), "1d01h");
    assert_eq!(human::millis(2_345), "2.3s");
    insta::assert_snapshot!(exit::help_table());
}

#[test]
fn prelude_of_real_files() {
    use kubectl_redis_core::rdb::{scan_prelude, DbSize};
    let p = scan_prelude(include_bytes!("fixtures/two-dbs-function-7.0.rdb"));
    assert_eq!(p.redis_ver.as_deref(), Some("7.0.15"));
    assert!(p.ctime.is_some_and(|t| t > 1_700_000_000));
    // db0 holds a, b, c (one with a TTL); db3's count needs the whole file.
    assert_eq!(
        p.first_db,
        Some(DbSize {
            db: 0,
            keys: 3,
            expires: 1
        })
    );
    assert!(p.complete && !p.empty);
    let e = scan_prelude(include_bytes!("fixtures/empty-7.0.rdb"));
    assert!(e.empty && e.complete && e.first_db.is_none());
    // Cut anywhere before the RESIZEDB: incomplete, never a wrong answer.
    let full = include_bytes!("fixtures/two-dbs-function-7.0.rdb");
    for n in 0..160 {
        let p = scan_prelude(&full[..n]);
        assert!(
            !p.complete
                || p.first_db
                    == Some(DbSize {
                        db: 0,
                        keys: 3,
                        expires: 1
                    }),
            "{n}"
        );
    }
    assert_eq!(scan_prelude(b"not an rdb"), Default::default());
}

#[test]
fn server_versions_and_rdb_compatibility() {
    use kubectl_redis_core::rdb::{Flavor, Header, Server};
    use std::collections::BTreeMap;
    let info = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let r62 = Server::from_info(&info(&[("redis_version", "6.2.14")])).unwrap();
    let r70 = Server::from_info(&info(&[("redis_version", "7.0.15")])).unwrap();
    let r82 = Server::from_info(&info(&[("redis_version", "8.2.3")])).unwrap();
    let v91 = Server::from_info(&info(&[
        ("redis_version", "7.2.4"),
        ("valkey_version", "9.1.2"),
    ]))
    .unwrap();
    let v72 = Server::from_info(&info(&[
        ("redis_version", "7.2.4"),
        ("server_name", "valkey"),
    ]))
    .unwrap();
    assert_eq!(
        (
            r62.max_rdb_version(),
            r70.max_rdb_version(),
            r82.max_rdb_version()
        ),
        (9, 10, 12)
    );
    assert_eq!(
        (v91.flavor, v91.max_rdb_version(), v72.max_rdb_version()),
        (Flavor::Valkey, 80, 11)
    );
    let redis = |v| Header {
        flavor: Flavor::Redis,
        version: v,
    };
    let valkey = |v| Header {
        flavor: Flavor::Valkey,
        version: v,
    };
    assert!(r70.can_load(&redis(10)).is_ok());
    assert!(r70.can_load(&redis(9)).is_ok());
    insta::assert_snapshot!(r62.can_load(&redis(10)).unwrap_err(), @"the backup is RDB version 10, newer than Redis 6.2.14 can load (up to 9)");
    insta::assert_snapshot!(r82.can_load(&valkey(80)).unwrap_err(), @"the backup was written by Valkey (VALKEY080); Redis 8.2.3 cannot load it");
    assert!(v91.can_load(&redis(11)).is_ok());
    assert!(v91.can_load(&redis(12)).is_err());
    assert!(v91.can_load(&valkey(80)).is_ok());
    assert!(v91.can_load(&valkey(81)).is_err());
    assert_eq!(Server::from_info(&info(&[("redis_version", "x")])), None);
}

/// TLS as the Bitnami chart, a plain command line and a named port
/// configure it: the port used, whether it speaks TLS and why, what
/// redis-cli needs in the pod; the names a pod's certificate may carry;
/// expiry warnings; and each failure's message with the flag that fixes it.
#[test]
fn tls_as_charts_and_command_lines_configure_it() {
    use kubectl_redis_core::kube::pods::{port_of, tls_reason, Target};
    use kubectl_redis_core::kube::tls::{pod_names, selects, Expiry, Failure, TlsSpec};
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let env = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let mut out = String::new();
    type Declared = Vec<(Option<String>, u16)>;
    let cases: Vec<(&str, TlsSpec, Declared)> = vec![
        (
            "bitnami (REDIS_TLS_* and its start script)",
            TlsSpec::from_container(
                &s(&["/bin/bash", "-c", "/opt/bitnami/scripts/start-scripts/start-master.sh"]),
                &env(&[
                    ("REDIS_TLS_ENABLED", "yes"),
                    ("REDIS_TLS_PORT", "6379"),
                    ("REDIS_TLS_AUTH_CLIENTS", "yes"),
                    ("REDIS_TLS_CERT_FILE", "/opt/bitnami/redis/certs/tls.crt"),
                    ("REDIS_TLS_KEY_FILE", "/opt/bitnami/redis/certs/tls.key"),
                    ("REDIS_TLS_CA_FILE", "/opt/bitnami/redis/certs/ca.crt"),
                ]),
                &[(Some("redis".into()), 6379)],
            ),
            vec![(Some("redis".into()), 6379)],
        ),
        (
            "command line, plain port off, no client certificates",
            TlsSpec::from_container(
                &s(&["sh", "-c", "exec redis-server --port 0 --tls-port ${TLS} --tls-cert-file /tls/tls.crt --tls-key-file /tls/tls.key --tls-ca-cert-file /tls/ca.crt --tls-auth-clients no"]),
                &env(&[("TLS", "6380")]),
                &[],
            ),
            vec![],
        ),
        (
            "both ports open, the TLS one named",
            TlsSpec::from_container(
                &s(&["redis-server", "--tls-port=6380", "--tls-cert-file=/c/tls.crt", "--tls-key-file=/c/tls.key"]),
                &[],
                &[(Some("redis".into()), 6379), (Some("tls".into()), 6380)],
            ),
            vec![(Some("redis".into()), 6379), (Some("tls".into()), 6380)],
        ),
        (
            "the Bitnami chart's Sentinel container (REDIS_SENTINEL_TLS_*)",
            TlsSpec::from_container(
                &s(&["/opt/bitnami/scripts/start-scripts/start-sentinel.sh"]),
                &env(&[
                    ("REDIS_SENTINEL_TLS_ENABLED", "yes"),
                    ("REDIS_SENTINEL_TLS_PORT_NUMBER", "26379"),
                    ("REDIS_SENTINEL_TLS_CA_FILE", "/opt/bitnami/redis-sentinel/certs/ca.crt"),
                    ("REDIS_SENTINEL_TLS_AUTH_CLIENTS", "no"),
                ]),
                &[(Some("redis-sentinel".into()), 26379)],
            ),
            vec![(Some("redis-sentinel".into()), 26379)],
        ),
        (
            "no TLS at all",
            TlsSpec::from_container(&s(&["redis-server", "--port", "6379"]), &[], &[]),
            vec![],
        ),
    ];
    for (name, tls, ports) in cases {
        let c = ContainerInfo {
            name: "redis".into(),
            ports,
            tls: tls.clone(),
            ..ContainerInfo::default()
        };
        let (port, why) = port_of(&c);
        let mut p = pod("p", &[]);
        p.containers = vec![c];
        let t = Target {
            pod: "p".into(),
            container: "redis".into(),
            port,
        };
        out.push_str(&format!(
            "{name}\n  port {port} ({why})\n  tls: {:?}\n  plain port 6379 tls: {:?}\n  redis-cli: {}\n",
            tls_reason(&p, &t),
            tls.on(6379),
            tls.cli_args().join(" ")
        ));
    }
    let labels = [("app", "redis"), ("role", "master")];
    assert!(selects([("app", "redis")], &labels));
    assert!(!selects([("app", "redis"), ("role", "replica")], &labels));
    assert!(!selects([], &labels), "an empty selector selects nothing");
    out.push_str(&format!(
        "names (StatefulSet behind a headless Service):\n  {}\n",
        pod_names(
            "redis-master-0",
            Some("redis-master-0"),
            Some("redis-headless"),
            "october",
            "10.244.0.7",
            &["redis-master".into(), "redis-headless".into()],
            "cluster.local"
        )
        .join("\n  ")
    ));
    out.push_str(&format!(
        "names (a bare pod):\n  {}\n",
        pod_names(
            "redis",
            None,
            None,
            "default",
            "10.244.0.9",
            &[],
            "cluster.local"
        )
        .join("\n  ")
    ));
    let day = 86_400;
    for (nb, na) in [
        (0, 100 * day),
        (0, 13 * day + 5),
        (-10 * day, -3 * day),
        (2 * day, 90 * day),
    ] {
        let e = Expiry::of(nb, na, 0);
        out.push_str(&format!(
            "{e:?}: {:?}\n",
            e.warning("the certificate of pod redis-0")
        ));
    }
    for f in [
        Failure::UnknownCa,
        Failure::Expired,
        Failure::NameMismatch {
            tried: vec![
                "redis-0.redis.october.svc.cluster.local".into(),
                "redis.october.svc".into(),
            ],
            has: vec!["other.example.com".into()],
        },
        Failure::NoClientCert,
        Failure::ClientCertRefused,
        Failure::NotTls,
        Failure::WantsTls,
        Failure::Other("peer sent no certificates".into()),
    ] {
        let m = f.message("pod redis-0 port 6379");
        assert!(
            matches!(f, Failure::Other(_)) || m.contains("--"),
            "every message but Other names a flag: {m}"
        );
        out.push_str(&format!("{m}\n"));
    }
    insta::assert_snapshot!(out);
}

mod sets {
    use kubectl_redis_core::ops::list::{listing, table, Entry};
    use kubectl_redis_core::store::manifest::{Manifest, Source};
    use kubectl_redis_core::store::set::*;

    const T: i64 = 1_796_457_600; // 2026-12-05T08:00:00Z

    /// A shard's manifest as a shard Job stores it.
    fn shard(set: &str, slots: &[[u16; 2]], keys: u64, encrypted: bool) -> Manifest {
        shard_at(set, slots[0][0], slots, keys, encrypted)
    }

    /// [`shard`], planned at slot `at` (its ranges may have moved since).
    fn shard_at(set: &str, at: u16, slots: &[[u16; 2]], keys: u64, encrypted: bool) -> Manifest {
        let file = shard_file_name(set, at, encrypted);
        let mut v = serde_json::json!({
            "format": "kubectl-redis manifest v1", "file": file, "size": 1000 + keys,
            "sha256": "ab", "flavor": "redis", "rdb_version": 10, "redis_version": "7.0.15",
            "crc64": "00", "verified": true, "keys_per_db": {}, "keys": keys,
            "source": {}, "method": "stream", "created": "2026-12-05T08:00:01Z", "tool": "kubectl-redis 0.1.0",
            "shards": [{"node_id": format!("n{}", slots[0][0]), "address": "10.0.0.1:6379", "role": "replica",
                        "pod": "redis-1", "slots": slots, "keys": keys, "sha256": "ab"}]
        });
        if encrypted {
            v["encryption"] = serde_json::json!({"format": "age", "recipients": [], "size": 2000 + keys, "sha256": "cd"});
        }
        serde_json::from_value(v).expect("a manifest")
    }

    #[test]
    fn names_of_sets_and_their_shards() {
        let set = set_name(T, 0);
        assert_eq!(set, "redis-backup-20261205_080000.set");
        assert_eq!(set_name(T, 1), "redis-backup-20261205_080000-2.set");
        assert_eq!(parse_set_name(&set), Some(T));
        assert_eq!(parse_set_name("redis-backup-20261205_080000.rdb"), None);
        let f = shard_file_name(&set, 5461, true);
        assert_eq!(f, "redis-backup-20261205_080000.set.shard-5461.rdb.age");
        assert_eq!(parse_shard_file_name(&f), Some((set.clone(), 5461)));
        assert_eq!(
            parse_shard_file_name(&format!("{f}.json")),
            Some((set.clone(), 5461))
        );
        assert_eq!(
            parse_shard_file_name("redis-backup-20261205_080000.set.shard-16384.rdb"),
            None
        );
        assert_eq!(
            parse_shard_file_name("redis-backup-20261205_080000.set.shard-.rdb"),
            None
        );
        // A shard file is never a backup of its own.
        assert_eq!(
            kubectl_redis_core::store::names::parse_backup_file_name(&f),
            None
        );
        assert_eq!(
            set_of_manifest(&set_manifest_name(&set)),
            Some(set.as_str())
        );
    }

    #[test]
    fn a_set_is_sealed_only_whole() {
        let set = set_name(T, 0);
        let planned = [0u16, 5461, 10923];
        let a = shard(&set, &[[0, 5460]], 10, true);
        let b = shard(&set, &[[5461, 10922]], 20, true);
        let c = shard(&set, &[[10923, 16383]], 30, true);
        let src = Source::default();
        let tool = "kubectl-redis 0.1.0";
        // The first two to finish wait for the third.
        assert_eq!(
            seal(
                &set,
                &planned,
                &[Some(a.clone()), None, Some(c.clone())],
                src.clone(),
                tool
            ),
            Seal::Waiting {
                missing: vec![5461]
            }
        );
        let Seal::Ready(m) = seal(
            &set,
            &planned,
            &[Some(a.clone()), Some(b.clone()), Some(c.clone())],
            src.clone(),
            tool,
        ) else {
            panic!("whole: ready");
        };
        insta::assert_json_snapshot!(m);
        // Resharded meanwhile: a slot range served twice, or left out.
        let moved = shard_at(&set, 5461, &[[5000, 10922]], 20, true);
        let Seal::Broken(why) = seal(
            &set,
            &planned,
            &[Some(a.clone()), Some(moved), Some(c.clone())],
            src.clone(),
            tool,
        ) else {
            panic!("overlap: broken");
        };
        insta::assert_snapshot!(why, @"the shards serve 461 slots twice (slot 5000 first) (the cluster was resharded while the set was taken)");
        let short = shard(&set, &[[5461, 10000]], 20, true);
        let Seal::Broken(why) = seal(
            &set,
            &planned,
            &[Some(a.clone()), Some(short), Some(c.clone())],
            src.clone(),
            tool,
        ) else {
            panic!("gap: broken");
        };
        insta::assert_snapshot!(why, @"the shards leave 922 of 16384 slots uncovered (slot 10001 first) (the cluster was resharded while the set was taken)");
        // Mixed encryption, an unverified shard: never sealed.
        let plain = shard(&set, &[[5461, 10922]], 20, false);
        assert!(matches!(
            seal(
                &set,
                &planned,
                &[Some(a.clone()), Some(plain), Some(c.clone())],
                src.clone(),
                tool
            ),
            Seal::Broken(_)
        ));
        let mut unverified = b.clone();
        unverified.verified = false;
        assert!(matches!(
            seal(
                &set,
                &planned,
                &[Some(a), Some(unverified), Some(c)],
                src,
                tool
            ),
            Seal::Broken(_)
        ));
    }

    #[test]
    fn list_shows_a_set_as_one_row_and_its_leftovers_apart() {
        let set = set_name(T, 0);
        let planned = [0u16, 8192];
        let a = shard(&set, &[[0, 8191]], 10, false);
        let b = shard(&set, &[[8192, 16383]], 20, false);
        let Seal::Ready(m) = seal(
            &set,
            &planned,
            &[Some(a.clone()), Some(b.clone())],
            Source::default(),
            "t",
        ) else {
            panic!("ready");
        };
        let e = |name: &str, bytes: u64| Entry {
            name: name.into(),
            bytes,
            modified: T,
            is_file: true,
            manifest: None,
            set: None,
        };
        let failed = set_name(T + 60, 0);
        let mut entries = vec![
            e(&a.file, a.size),
            e(&b.file, b.size),
            e(&format!("{}.json", a.file), 300),
            e("redis-backup-20261205_070000.rdb", 500),
            // A set that failed: one shard stored, never sealed.
            e(&shard_file_name(&failed, 0, false), 77),
        ];
        entries.push(Entry {
            set: Some(Ok(*m.clone())),
            ..e(&set_manifest_name(&set), 900)
        });
        let l = listing("/b", &entries, T + 3600);
        insta::assert_snapshot!(table(&l));
        assert_eq!(l.backups[0].shards, Some(2));
        assert_eq!(l.backups[0].keys, Some(30));
        assert_eq!(l.partial, vec![shard_file_name(&failed, 0, false)]);
        // A shard file gone: the set says so.
        entries.remove(1);
        let l = listing("/b", &entries, T + 3600);
        assert_eq!(l.backups[0].status, "shard file missing");
    }
}
