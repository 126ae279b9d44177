//! Retention (`prune`) and metrics (`check --metrics-file`).

use kubectl_redis_core::ops::list::{listing, Entry};
use kubectl_redis_core::ops::metrics::{merge, Gauge};
use kubectl_redis_core::ops::retention::{decide, is_ours, Policy};
use kubectl_redis_core::store::names::{backup_file_name, rfc3339, unix_from_civil, Civil};

/// Backups every 30 minutes from 2025-10-20T00:00Z for 3 days (144 files).
fn rows() -> (Vec<kubectl_redis_core::ops::list::Row>, i64) {
    let start = unix_from_civil(Civil {
        year: 2025,
        month: 10,
        day: 20,
        hour: 0,
        minute: 0,
        second: 0,
    });
    let entries: Vec<Entry> = (0..144)
        .map(|i| Entry {
            name: backup_file_name(start + i * 1800, 0),
            bytes: 100,
            modified: 0,
            is_file: true,
            manifest: None,
            set: None,
        })
        .collect();
    let now = start + 144 * 1800;
    (listing("b", &entries, now).backups, now)
}

fn kept(p: Policy) -> Vec<String> {
    let (rows, now) = rows();
    decide(&rows, &p, now)
        .into_iter()
        .filter(|v| v.keep)
        .map(|v| v.created)
        .collect()
}

#[test]
fn keep_last_and_newest() {
    let k = kept(Policy {
        last: Some(3),
        ..Policy::default()
    });
    assert_eq!(
        k,
        [
            "2025-10-22T23:30:00Z",
            "2025-10-22T23:00:00Z",
            "2025-10-22T22:30:00Z"
        ]
    );
    // A policy that keeps nothing else still keeps the newest.
    let k = kept(Policy {
        within_s: Some(1),
        ..Policy::default()
    });
    assert_eq!(k, ["2025-10-22T23:30:00Z"]);
}

#[test]
fn daily_hourly_weekly_within() {
    let k = kept(Policy {
        daily: Some(2),
        ..Policy::default()
    });
    assert_eq!(k, ["2025-10-22T23:30:00Z", "2025-10-21T23:30:00Z"]);
    let k = kept(Policy {
        hourly: Some(3),
        ..Policy::default()
    });
    assert_eq!(
        k,
        [
            "2025-10-22T23:30:00Z",
            "2025-10-22T22:30:00Z",
            "2025-10-22T21:30:00Z"
        ]
    );
    // 2025-10-20 is a Monday: all three days are one week.
    let k = kept(Policy {
        weekly: Some(4),
        ..Policy::default()
    });
    assert_eq!(k, ["2025-10-22T23:30:00Z"]);
    let k = kept(Policy {
        within_s: Some(7200),
        ..Policy::default()
    });
    assert_eq!(k.len(), 4, "{k:?}");
    // Rules add up: last 2 and daily 3 keep 2 + 2 more (the newest of the earlier days).
    let k = kept(Policy {
        last: Some(2),
        daily: Some(3),
        ..Policy::default()
    });
    assert_eq!(
        k,
        [
            "2025-10-22T23:30:00Z",
            "2025-10-22T23:00:00Z",
            "2025-10-21T23:30:00Z",
            "2025-10-20T23:30:00Z"
        ]
    );
    let (rows, now) = rows();
    let v = decide(
        &rows,
        &Policy {
            last: Some(2),
            daily: Some(3),
            ..Policy::default()
        },
        now,
    );
    assert_eq!(v[0].reasons, ["newest", "last 2", "daily"]);
    assert_eq!(rfc3339(rows[0].created_unix), "2025-10-22T23:30:00Z");
}

#[test]
fn only_our_files() {
    assert!(is_ours("redis-backup-20251024_180500.rdb"));
    assert!(is_ours("redis-backup-20251024_180500-2.rdb.json"));
    assert!(!is_ours(".redis-backup-20251024_180500.rdb.abc"));
    assert!(!is_ours("dump.rdb"));
    assert!(!is_ours("redis-backup-20251024_180500.rdb.bak"));
}

#[test]
fn metrics_merge_keeps_other_families() {
    let existing = "# HELP other_metric x\n# TYPE other_metric gauge\nother_metric 1\n\
# HELP kubectl_redis_backup_newest_age_seconds old\n# TYPE kubectl_redis_backup_newest_age_seconds gauge\n\
kubectl_redis_backup_newest_age_seconds{dir=\"a\"} 5\n";
    let g = [
        Gauge::one(
            "kubectl_redis_backup_newest_age_seconds",
            "Age of the newest verified backup.",
            vec![("dir", "./b\"x".into())],
            42.0,
        ),
        Gauge::one(
            "kubectl_redis_backup_newest_size_bytes",
            "Size.",
            vec![],
            1.5,
        ),
    ];
    insta::assert_snapshot!(merge(existing, &g), @r###"
    # HELP other_metric x
    # TYPE other_metric gauge
    other_metric 1
    # HELP kubectl_redis_backup_newest_age_seconds Age of the newest verified backup.
    # TYPE kubectl_redis_backup_newest_age_seconds gauge
    kubectl_redis_backup_newest_age_seconds{dir="./b\"x"} 42
    # HELP kubectl_redis_backup_newest_size_bytes Size.
    # TYPE kubectl_redis_backup_newest_size_bytes gauge
    kubectl_redis_backup_newest_size_bytes 1.5
    "###);
}

#[test]
fn schedules() {
    use kubectl_redis_core::ops::schedule::{
        cron_for, default_deadline_s, manifests, yaml, Access, Spec, Volume,
    };
    assert_eq!(cron_for(1800).as_deref(), Ok("*/30 * * * *"));
    assert_eq!(cron_for(3600).as_deref(), Ok("0 * * * *"));
    assert_eq!(cron_for(6 * 3600).as_deref(), Ok("0 */6 * * *"));
    assert_eq!(cron_for(86_400).as_deref(), Ok("0 0 * * *"));
    assert_eq!(cron_for(604_800).as_deref(), Ok("0 0 * * 0"));
    assert!(cron_for(7 * 60).unwrap_err().contains("--cron"));
    assert!(cron_for(90).is_err());
    let docs = manifests(&Spec {
        namespace: "october".into(),
        cron: "0 * * * *".into(),
        image: "registry.example/kubectl-redis:0.1.0".into(),
        backup_args: vec!["--method".into(), "stream".into()],
        volume: Volume::Pvc("redis-backups".into()),
        cronjob_api: "batch/v1".into(),
        name: "kubectl-redis-backup".into(),
        repo: None,
        env_secret: None,
        sa_annotations: Vec::new(),
        drill: None,
        deadline_s: 3600,
        access: Access::default(),
        signing_secret: None,
        tls_secret: None,
    });
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding", "CronJob"]);
    // A stuck Job is killed: with Forbid it would block every later one.
    assert_eq!(
        docs[3]["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
        3600
    );
    assert_eq!(default_deadline_s(Some(1800)), 1800);
    assert_eq!(default_deadline_s(Some(60)), 600);
    assert_eq!(default_deadline_s(None), 6 * 3600);
    insta::assert_snapshot!("schedule-yaml", yaml(&docs));
}

mod status {
    use kubectl_redis_core::ops::status::{evaluate, json_report, worst, Facts, Level, PodFacts};
    use std::collections::BTreeMap;

    fn healthy() -> Facts {
        let info: BTreeMap<String, String> = [
            ("redis_version", "7.0.15"),
            ("role", "master"),
            ("connected_slaves", "0"),
            ("db0", "keys=3,expires=1,avg_ttl=0"),
            ("rdb_last_save_time", "1761329000"),
            ("rdb_last_bgsave_status", "ok"),
            ("rdb_bgsave_in_progress", "0"),
            ("used_memory", "104857600"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Facts {
            namespace: "october".into(),
            context: Some("kind-october".into()),
            server_version: Some(Ok("v1.20.2".into())),
            pod: Some(Ok(PodFacts {
                name: "redis-0".into(),
                container: "redis".into(),
                port: 6379,
                ready: true,
                restarts: 0,
                others: 0,
            })),
            info: Some(Ok(info)),
            config: [
                ("save", "3600 1"),
                ("appendonly", "no"),
                ("dir", "/data"),
                ("dbfilename", "dump.rdb"),
                ("repl-diskless-sync", "yes"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            // 10 GiB free, in KiB as df -Pk reports it.
            disk: Some(Ok((1024, 10 * 1024 * 1024))),
            sync_available: Some(true),
            writers: Vec::new(),
            newest_backup: Some((
                "redis-backup-20251024_180000.rdb".into(),
                300,
                "verified".into(),
            )),
            now_unix: 1_761_329_100,
            rbac: Vec::new(),
            sentinel: None,
            roles: None,
            cluster: None,
            tls: None,
        }
    }

    fn level(f: &Facts, what: &str) -> Level {
        evaluate(f)
            .into_iter()
            .find(|l| l.what == what)
            .map(|l| l.level)
            .unwrap_or(Level::Unknown)
    }

    /// The judgements `status` makes: a healthy server passes; a data volume
    /// with less free space than the dataset fails (exit 11 in the shell),
    /// with its fix; a replica and a server without SYNC are warnings.
    #[test]
    fn status_judges_disk_role_and_sync() {
        let f = healthy();
        assert_eq!(worst(&evaluate(&f)), Level::Ok, "{:?}", evaluate(&f));
        let j = json_report(&f, 0);
        assert_eq!(j["redis"]["keys"], 3);
        assert_eq!(j["redis"]["keys_per_db"]["0"]["expires"], 1);
        assert_eq!(j["disk"]["free_bytes"], 10u64 * 1024 * 1024 * 1024);
        assert_eq!(j["error"], serde_json::Value::Null);

        // 50 MiB free for a 100 MiB dataset: BGSAVE cannot fit.
        let full = Facts {
            disk: Some(Ok((1024, 50 * 1024))),
            ..healthy()
        };
        assert_eq!(level(&full, "disk"), Level::Fail);
        assert_eq!(worst(&evaluate(&full)), Level::Fail);
        let j = json_report(&full, 11);
        let message = j["error"]["message"].as_str().unwrap_or("");
        assert!(message.starts_with("disk:"), "{j}");
        assert!(
            j["error"]["hint"].as_str().unwrap_or("").contains("stream"),
            "{j}"
        );

        let mut replica = healthy();
        if let Some(Ok(i)) = &mut replica.info {
            i.insert("role".into(), "slave".into());
        }
        assert_eq!(level(&replica, "redis"), Level::Warn);
        assert_eq!(worst(&evaluate(&replica)), Level::Warn);

        let no_sync = Facts {
            sync_available: Some(false),
            ..healthy()
        };
        assert_eq!(level(&no_sync, "sync"), Level::Warn);
        assert_eq!(json_report(&no_sync, 0)["sync_available"], false);
    }

    /// Sentinel's view is a line of its own: fine when settled, a warning
    /// during a failover; the JSON names the master set and its members.
    #[test]
    fn status_shows_the_sentinel_view() {
        use kubectl_redis_core::topo::sentinel::{Master, Peer, View};
        let view = View {
            asked: "redis-node-0".into(),
            master: Master {
                name: "mymaster".into(),
                ip: "10.244.0.12".into(),
                port: 6379,
                flags: vec!["master".into()],
                replicas: 2,
                sentinels: 3,
                quorum: 2,
                failover_state: None,
            },
            primary_pod: Some("redis-node-1".into()),
            replicas: vec![Peer {
                ip: "10.244.0.11".into(),
                port: 6379,
                flags: vec!["slave".into()],
            }],
            sentinels: Vec::new(),
        };
        let f = Facts {
            sentinel: Some(Ok(view.clone())),
            ..healthy()
        };
        let l = evaluate(&f);
        let s = l
            .iter()
            .find(|l| l.what == "sentinel")
            .expect("a sentinel line");
        assert_eq!(s.level, Level::Ok);
        assert_eq!(
            s.detail,
            "mymaster: primary 10.244.0.12:6379 (pod redis-node-1), quorum 2, 3 Sentinel(s), 2 replica(s); restores go live here (a restart would fail over)"
        );
        let j = json_report(&f, 0);
        assert_eq!(j["sentinel"]["master_name"], "mymaster");
        assert_eq!(j["sentinel"]["primary"]["pod"], "redis-node-1");
        assert_eq!(j["sentinel"]["replicas"][0]["port"], 6379);
        let mut busy = view;
        busy.master.flags.push("failover_in_progress".into());
        busy.master.failover_state = Some("wait_promotion".into());
        let f = Facts {
            sentinel: Some(Ok(busy)),
            ..healthy()
        };
        assert_eq!(level(&f, "sentinel"), Level::Warn);
        assert_eq!(json_report(&f, 0)["sentinel"]["failover_in_progress"], true);
    }

    /// Pods with no role label, asked for their INFO replication: one
    /// primary and its replica are marked and shown; two independent
    /// primaries are not, and the line names each pod's role.
    #[test]
    fn status_shows_roles_found_by_asking() {
        use kubectl_redis_core::kube::pods::{roles_unknown, ContainerInfo, PodInfo};
        use kubectl_redis_core::topo::replication::{apply_asked, Asked, Replication};
        let pod = |name: &str, ip: &str| PodInfo {
            name: name.into(),
            phase: "Running".into(),
            ready: true,
            ip: ip.into(),
            containers: vec![ContainerInfo {
                name: "redis".into(),
                ports: vec![(Some("redis".into()), 6379)],
                ..ContainerInfo::default()
            }],
            ..PodInfo::default()
        };
        let mut pods = vec![pod("redis-b", "10.0.0.6"), pod("redis-a", "10.0.0.5")];
        assert!(roles_unknown(&pods, false));
        assert!(
            !roles_unknown(&pods, true),
            "--pod names one: nothing to ask"
        );
        let asked = |b: &str| {
            vec![
                Asked {
                    pod: "redis-a".into(),
                    info: Ok(Replication::parse(
                        "role:master\r\nconnected_slaves:1\r\nslave0:ip=10.0.0.6,port=6379,state=online,offset=1,lag=0\r\n",
                    )),
                },
                Asked {
                    pod: "redis-b".into(),
                    info: Ok(Replication::parse(b)),
                },
            ]
        };
        let replica = "role:slave\r\nmaster_host:redis-a.ns.svc\r\nmaster_port:6379\r\nmaster_link_status:up\r\n";
        let roles = apply_asked(&mut pods, &asked(replica));
        assert_eq!(
            pods.iter()
                .map(|p| (p.name.as_str(), p.primary))
                .collect::<Vec<_>>(),
            [("redis-b", Some(false)), ("redis-a", Some(true))]
        );
        assert!(!roles_unknown(&pods, false));
        let f = Facts {
            roles: Some(roles),
            ..healthy()
        };
        let l = evaluate(&f);
        let r = l.iter().find(|l| l.what == "roles").expect("a roles line");
        assert_eq!(r.level, Level::Ok);
        assert_eq!(
            r.detail,
            "redis-a primary, redis-b replica (from each pod's INFO replication: no pod has a role label)"
        );
        let j = json_report(&f, 0);
        assert_eq!(j["roles"]["how"], "info");
        assert_eq!(
            j["roles"]["pods"][1]["detail"],
            "replica of redis-a.ns.svc:6379"
        );

        let mut pods = vec![pod("redis-a", "10.0.0.5"), pod("redis-b", "10.0.0.6")];
        let roles = apply_asked(&mut pods, &asked("role:master\r\nconnected_slaves:0\r\n"));
        assert!(pods.iter().all(|p| p.primary.is_none()), "{pods:?}");
        let f = Facts {
            roles: Some(roles),
            ..healthy()
        };
        let l = evaluate(&f);
        let r = l.iter().find(|l| l.what == "roles").expect("a roles line");
        assert_eq!(r.level, Level::Warn);
        assert_eq!(
            r.detail,
            "no primary found among the Ready pods: 2 of them are primaries, independent servers rather than one primary and its replicas (redis-a: primary with 1 replica(s), redis-b: primary with 0 replica(s))"
        );
        assert!(r.fix.as_deref().is_some_and(|f| f.contains("--pod")));
    }

    /// A cluster node: state and slot coverage; unserved slots fail.
    #[test]
    fn status_shows_the_cluster_state() {
        let info = |state: &str, ok: &str| -> Option<BTreeMap<String, String>> {
            Some(
                [
                    ("cluster_state", state),
                    ("cluster_slots_assigned", "16384"),
                    ("cluster_slots_ok", ok),
                    ("cluster_slots_pfail", "0"),
                    ("cluster_slots_fail", "0"),
                    ("cluster_size", "3"),
                    ("cluster_known_nodes", "6"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            )
        };
        let f = Facts {
            cluster: info("ok", "16384"),
            ..healthy()
        };
        assert_eq!(level(&f, "redis-cluster"), Level::Ok);
        assert_eq!(json_report(&f, 0)["redis_cluster"]["primaries"], 3);
        let f = Facts {
            cluster: info("fail", "10923"),
            ..healthy()
        };
        assert_eq!(level(&f, "redis-cluster"), Level::Fail);
        assert!(json_report(&f, 11)["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("10923 of 16384"));
        assert_eq!(
            json_report(&healthy(), 0)["redis_cluster"],
            serde_json::Value::Null
        );
    }
}

/// In object storage a backup exists only with its manifest: data without
/// one is an incomplete upload, listed with the leftovers; encrypted names
/// (.rdb.age) are backups like the others, and their size is the stored one.
#[test]
fn object_storage_listing_needs_manifests() {
    use kubectl_redis_core::ops::list::listing_in;
    use kubectl_redis_core::store::manifest::{Encryption, Manifest};
    use kubectl_redis_core::store::names::{backup_file_name_for, parse_backup_file_name};
    let t = 1_761_329_100;
    let enc = backup_file_name_for(t, 0, true);
    assert_eq!(enc, "redis-backup-20251024_180500.rdb.age");
    assert_eq!(parse_backup_file_name(&enc), Some(t));
    assert_eq!(
        parse_backup_file_name("redis-backup-20251024_180500.rdb.gpg"),
        None
    );
    assert!(is_ours(&enc) && is_ours(&format!("{enc}.json")));
    let m = Manifest {
        format: "kubectl-redis.io/backup-manifest/v1".into(),
        file: enc.clone(),
        size: 100,
        sha256: "a".repeat(64),
        flavor: "redis".into(),
        rdb_version: 10,
        redis_version: None,
        crc64: "none".into(),
        verified: true,
        keys_per_db: Default::default(),
        keys: 3,
        source: Default::default(),
        method: "stream".into(),
        created: rfc3339(t),
        tool: "t".into(),
        encryption: Some(Encryption {
            format: "age".into(),
            recipients: vec!["age1x".into()],
            size: 300,
            sha256: "b".repeat(64),
            kms: Vec::new(),
        }),
        shards: Vec::new(),
        pitr: None,
        sanitized: false,
        sanitize: None,
        made_by: None,
    };
    let entries = vec![
        Entry {
            name: enc.clone(),
            bytes: 300,
            modified: t,
            is_file: true,
            manifest: Some(Ok(m)),
            set: None,
        },
        Entry {
            name: backup_file_name(t + 60, 0),
            bytes: 50,
            modified: t + 60,
            is_file: true,
            manifest: None,
            set: None,
        },
    ];
    let remote = listing_in("s3://b/p", &entries, t + 120, true);
    assert_eq!(remote.backups.len(), 1);
    assert_eq!(
        remote.backups[0].status, "verified",
        "the stored size is compared"
    );
    assert_eq!(remote.backups[0].path, format!("s3://b/p/{enc}"));
    assert_eq!(remote.partial, vec![backup_file_name(t + 60, 0)]);
    // A local directory keeps counting files without manifests.
    let local = listing("d", &entries, t + 120);
    assert_eq!(local.backups.len(), 2);
    assert!(local.partial.is_empty());
}

/// Scheduled offsite backups: `--repo` replaces the volume, the credentials
/// Secret becomes the environment (never args), annotations go on the
/// ServiceAccount, and Azure workload identity labels the pod.
#[test]
fn schedule_to_object_storage() {
    use kubectl_redis_core::ops::schedule::{alert_rule, manifests, Access, Spec, Volume};
    let spec = Spec {
        namespace: "prod".into(),
        cron: "0 * * * *".into(),
        image: "img".into(),
        backup_args: vec!["--encrypt-to".into(), "age1x".into()],
        volume: Volume::Empty,
        cronjob_api: "batch/v1".into(),
        name: "kubectl-redis-backup".into(),
        repo: Some("az://backups/prod".into()),
        env_secret: Some("backup-az".into()),
        sa_annotations: vec![("azure.workload.identity/client-id".into(), "abc".into())],
        drill: None,
        deadline_s: 3600,
        access: Access::default(),
        signing_secret: None,
        tls_secret: None,
    };
    let docs = manifests(&spec);
    let sa = &docs[0];
    assert_eq!(
        sa["metadata"]["annotations"]["azure.workload.identity/client-id"],
        "abc"
    );
    let tpl = &docs[3]["spec"]["jobTemplate"]["spec"]["template"];
    assert_eq!(
        tpl["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );
    let c = &tpl["spec"]["containers"][0];
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "backup-az");
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        &args[..5],
        &["backup", "-n", "prod", "--repo", "az://backups/prod"]
    );
    assert!(!args.contains(&"--out-dir"));
    let rule = alert_rule(&spec, 7200, None);
    assert!(rule["spec"]["groups"][0]["rules"][0]["expr"]
        .as_str()
        .unwrap()
        .ends_with("> 7200"));
    assert_eq!(rule["spec"]["groups"].as_array().map(Vec::len), Some(1));
    // --alert-archive-lag: a second group, over the archivers' metrics
    // in this namespace.
    let rule = alert_rule(&spec, 7200, Some(60));
    insta::assert_json_snapshot!(rule["spec"]["groups"][1]);
}

/// `archive start`: the archiver's objects, and a ServiceMonitor only when
/// asked.
#[test]
fn archive_start_manifests() {
    use kubectl_redis_core::ops::archive::{manifests, Spec};
    let mut spec = Spec {
        namespace: "prod".into(),
        name: "kubectl-redis-archiver".into(),
        image: "img".into(),
        run_args: vec!["--repo".into(), "s3://b/prod".into()],
        env_secret: Some("backup-s3".into()),
        secret_names: vec!["redis-auth".into()],
        services: false,
        sa_annotations: vec![],
        tls_secret: None,
        service_monitor: false,
        spool_bytes: 64 << 20,
    };
    let kinds = |d: &[serde_json::Value]| -> Vec<String> {
        d.iter()
            .filter_map(|d| d["kind"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        kinds(&manifests(&spec)),
        [
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "Deployment",
            "Service"
        ]
    );
    spec.service_monitor = true;
    let docs = manifests(&spec);
    assert_eq!(docs.len(), 6);
    insta::assert_json_snapshot!(docs[5]);
    // The spool on an emptyDir of twice --spool-size, given as --spool-dir;
    // POD_NAME and POD_NAMESPACE for its Events, which its Role may create.
    let pod = &docs[3]["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][1]["emptyDir"]["sizeLimit"], "134217728");
    let c = &pod["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        args.windows(2)
            .any(|w| w == ["--spool-dir", "/var/spool/kubectl-redis"]),
        "{args:?}"
    );
    assert_eq!(
        c["env"][1]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert!(docs[1]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["resources"][0] == "events" && r["verbs"][0] == "create"));
    // An Event about the pod.
    let ev = kubectl_redis_core::ops::archive::event(
        "prod",
        "kubectl-redis-archiver-7c9-x",
        true,
        "ArchiveSpoolFull",
        "full",
        1_796_000_000,
    );
    insta::assert_json_snapshot!(ev);
}

/// `schedule --drill`: a second CronJob running `drill --latest` against
/// the same repository, and a Role that may create and delete its pod.
#[test]
fn schedule_with_a_weekly_drill() {
    use kubectl_redis_core::ops::schedule::{manifests, Access, Drill, Spec, Volume};
    let docs = manifests(&Spec {
        namespace: "prod".into(),
        cron: "0 * * * *".into(),
        image: "img".into(),
        backup_args: vec![],
        volume: Volume::Empty,
        cronjob_api: "batch/v1".into(),
        name: "kubectl-redis-backup".into(),
        repo: Some("s3://backups/prod".into()),
        env_secret: Some("backup-s3".into()),
        sa_annotations: vec![],
        drill: Some(Drill {
            cron: "0 4 * * 0".into(),
            args: vec!["--in".into(), "drills".into()],
            namespace: Some("drills".into()),
            secret_names: vec!["drill-key".into()],
        }),
        deadline_s: 3600,
        access: Access {
            exec: false,
            lease_names: vec!["kubectl-redis-redis".into()],
            secret_names: vec!["redis-auth".into()],
            services: true,
        },
        signing_secret: Some(("backup-signing".into(), "key".into())),
        tls_secret: Some("redis-tls".into()),
    });
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "CronJob",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "Role",
            "RoleBinding",
            "CronJob"
        ]
    );
    // The backup's Role: no exec for the stream method, no port-forward
    // (the Job dials Redis over the pod network), no pod creation, write on
    // its own Lease only (create cannot be limited by name), its own Secret
    // only.
    let backup = serde_json::to_string(&docs[1]["rules"]).unwrap();
    assert!(!backup.contains("pods/exec"), "{backup}");
    assert_eq!(
        docs[1]["rules"],
        serde_json::json!([
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["kubectl-redis-redis"], "verbs": ["get", "update", "patch", "delete"]},
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["redis-auth"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["services"], "verbs": ["list"]},
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
            {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get"]}
        ])
    );
    // The drill's own ServiceAccount, Role in the drill namespace (its pod's
    // life) and a read-only Role where Redis runs.
    assert_eq!(docs[4]["metadata"]["name"], "kubectl-redis-backup-drill");
    assert_eq!(docs[5]["metadata"]["namespace"], "drills");
    assert_eq!(
        docs[5]["rules"][0]["verbs"],
        serde_json::json!(["get", "list", "create", "delete"])
    );
    // Its pod reached over the pod network: no port-forward.
    assert_eq!(
        docs[5]["rules"][2]["resourceNames"],
        serde_json::json!(["drill-key"])
    );
    assert!(!docs[5]["rules"].to_string().contains("portforward"));
    assert_eq!(docs[6]["subjects"][0]["namespace"], "prod");
    assert_eq!(docs[7]["metadata"]["namespace"], "prod");
    assert_eq!(
        docs[7]["rules"][0]["verbs"],
        serde_json::json!(["get", "list"])
    );
    let drill = &docs[9];
    assert_eq!(
        drill["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"],
        "kubectl-redis-backup-drill"
    );
    // The backup signs with the key mounted from its Secret (never in the
    // environment or arguments by value); the drill's pod has no key.
    let backup_pod = &docs[3]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let a = serde_json::to_string(&backup_pod["containers"][0]["args"]).unwrap();
    assert!(
        a.contains(r#""--sign-with","/etc/kubectl-redis/signing/key""#),
        "{a}"
    );
    // The TLS Secret is mounted too, and given as a directory: the Role
    // above has no access to it.
    assert!(
        a.ends_with(r#""--tls-from-dir","/etc/kubectl-redis/tls"]"#),
        "{a}"
    );
    assert_eq!(
        backup_pod["volumes"][2]["secret"]["secretName"],
        "redis-tls"
    );
    assert_eq!(backup_pod["volumes"][2]["secret"]["defaultMode"], 0o400);
    assert_eq!(
        backup_pod["volumes"][1]["secret"]["secretName"],
        "backup-signing"
    );
    assert_eq!(
        backup_pod["containers"][0]["volumeMounts"][1]["readOnly"],
        true
    );
    let drill_pod =
        serde_json::to_string(&drill["spec"]["jobTemplate"]["spec"]["template"]["spec"]).unwrap();
    assert!(!drill_pod.contains("signing"), "{drill_pod}");
    assert_eq!(drill["metadata"]["name"], "kubectl-redis-backup-drill");
    assert_eq!(drill["spec"]["schedule"], "0 4 * * 0");
    let c = &drill["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["args"],
        serde_json::json!([
            "drill",
            "--latest",
            "-n",
            "prod",
            "--repo",
            "s3://backups/prod",
            "--in",
            "drills"
        ])
    );
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "backup-s3");
}

/// status's TLS line: fine with 30 days left; a warning within 14 days; a
/// failure once expired or when the connection failed (its message, with
/// the flag, is the fix); the JSON's days_left.
#[test]
fn status_tls_line_warns_before_expiry() {
    use kubectl_redis_core::ops::status::{evaluate, json_report, Facts, Level, TlsFacts};
    let day = 86_400;
    let facts = |not_after: i64, error: Option<&str>| Facts {
        now_unix: 1_000 * day,
        tls: Some(TlsFacts {
            port: 6379,
            why: "port 6379 is its TLS port (its REDIS_TLS_PORT environment variable)".into(),
            subject: Some("CN=redis".into()),
            names: vec!["*.redis-headless.october.svc.cluster.local".into()],
            not_before: Some(900 * day),
            not_after: Some(not_after),
            client_cert_asked: Some(true),
            uses: "the CA from Secret redis-crt/ca.crt".into(),
            error: error.map(str::to_string),
        }),
        ..Facts::default()
    };
    let tls = |f: &Facts| {
        evaluate(f)
            .into_iter()
            .find(|l| l.what == "tls")
            .expect("a tls line")
    };
    let ok = tls(&facts(1_030 * day, None));
    assert_eq!(ok.level, Level::Ok, "{ok:?}");
    assert!(ok.detail.contains("30 day(s) left"), "{ok:?}");
    let soon = tls(&facts(1_010 * day, None));
    assert_eq!(soon.level, Level::Warn, "{soon:?}");
    assert!(soon
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("expires in 10 day(s)")));
    let gone = tls(&facts(990 * day, None));
    assert_eq!(gone.level, Level::Fail, "{gone:?}");
    let failed = tls(&facts(1_030 * day, Some("pod redis-0 port 6379 wants a client certificate; give one with --cert FILE --key FILE")));
    assert_eq!(failed.level, Level::Fail);
    assert!(failed
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("--cert FILE")));
    let j = json_report(&facts(1_010 * day, None), 0);
    assert_eq!(j["tls"]["days_left"], 10);
    assert_eq!(j["tls"]["client_cert_asked"], true);
    assert!(evaluate(&Facts::default()).iter().all(|l| l.what != "tls"));
}

mod job {
    use kubectl_redis_core::ops::job::{
        apply_overrides, backup_rules, manifests, merge_patch, parse_resources, pod_state,
        read_line, restricted_violations, run_name, Line, PodState, Resources, Run, SecretEnv,
        RESULT_PREFIX,
    };
    use kubectl_redis_core::ops::schedule::yaml;
    use serde_json::json;

    fn run() -> Run {
        Run {
            name: run_name("backup", 1_764_930_600, "x7k2p"),
            namespace: "october".into(),
            command: "backup".into(),
            image: "registry.example/kubectl-redis:0.1.0".into(),
            args: vec![
                "backup".into(),
                "--url".into(),
                "redis://10.1.2.3:6379".into(),
                "--repo".into(),
                "s3://backups/prod".into(),
            ],
            env: vec![SecretEnv {
                name: "REDISCLI_AUTH".into(),
                secret: "redis".into(),
                key: "redis-password".into(),
            }],
            env_from: Some("backup-credentials".into()),
            pvc: None,
            node: Some("node-a".into()),
            resources: Resources::default(),
            ttl_s: 3600,
            deadline_s: 21_600,
            rules: vec![
                json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}),
            ],
            overrides: None,
            sa_annotations: vec![(
                "eks.amazonaws.com/role-arn".into(),
                "arn:aws:iam::123456789012:role/backup".into(),
            )],
        }
    }

    /// The run's objects: its own ServiceAccount, Role and RoleBinding, and
    /// a Job whose pod passes the restricted profile, prefers the Redis
    /// pod's node, and takes secrets from Secrets only.
    #[test]
    fn a_run_renders_least_privilege_restricted_objects() {
        let docs = manifests(&run()).expect("manifests");
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding", "Job"]);
        for d in &docs {
            assert_eq!(
                d["metadata"]["labels"]["kubectl-redis.io/run"],
                "kubectl-redis-backup-20251205-103000-x7k2p"
            );
        }
        let pod = &docs[3]["spec"]["template"]["spec"];
        assert_eq!(restricted_violations(pod), Vec::<String>::new());
        // No secret value anywhere: only references.
        let text = yaml(&docs);
        assert!(!text.contains("value: redis-password"), "{text}");
        insta::assert_snapshot!("job-yaml", text);
    }

    /// `--job-overrides` is a merge patch over the pod spec: objects merge,
    /// null removes, arrays replace; what it weakens is named.
    #[test]
    fn overrides_merge_and_weakening_is_named() {
        let mut r = run();
        r.overrides = Some(json!({
            "hostNetwork": true,
            "affinity": null,
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
            "securityContext": {"fsGroup": 1000}
        }));
        let docs = manifests(&r).expect("manifests");
        let pod = &docs[3]["spec"]["template"]["spec"];
        assert_eq!(pod["hostNetwork"], true);
        assert!(pod.get("affinity").is_none(), "{pod}");
        assert_eq!(pod["tolerations"][0]["key"], "dedicated");
        assert_eq!(pod["securityContext"]["fsGroup"], 1000);
        assert_eq!(
            pod["securityContext"]["runAsNonRoot"], true,
            "merged, not replaced"
        );
        assert_eq!(restricted_violations(pod), ["hostNetwork: true"]);
        // A container made privileged, run as root, with capabilities.
        let mut p = pod.clone();
        merge_patch(
            &mut p,
            &json!({"securityContext": {"runAsUser": 0}, "containers": [{"name": "backup", "securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}}}]}),
        );
        let v = restricted_violations(&p);
        for want in [
            "container backup: privileged",
            "container backup: runAsUser 0",
            "container backup: capabilities added",
            "container backup: allowPrivilegeEscalation not false",
        ] {
            assert!(v.iter().any(|x| x == want), "{want} in {v:?}");
        }
        // A patch that is not an object replaces the whole target.
        let mut t = json!({"a": 1});
        merge_patch(&mut t, &json!([1, 2]));
        assert_eq!(t, json!([1, 2]));
    }

    /// An array is a JSON patch (RFC 6902): the operations apply in order,
    /// and one that fails changes nothing and is named.
    #[test]
    fn overrides_as_a_json_patch() {
        let mut r = run();
        r.overrides = Some(json!([
            {"op": "add", "path": "/hostNetwork", "value": true},
            {"op": "add", "path": "/containers/0/imagePullPolicy", "value": "Never"},
            {"op": "add", "path": "/containers/0/env/-", "value": {"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"}},
            {"op": "replace", "path": "/securityContext/runAsUser", "value": 1000},
            {"op": "remove", "path": "/affinity"},
            {"op": "test", "path": "/restartPolicy", "value": "Never"}
        ]));
        let docs = manifests(&r).expect("manifests");
        let pod = &docs[3]["spec"]["template"]["spec"];
        assert_eq!(pod["hostNetwork"], true);
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Never");
        let env = pod["containers"][0]["env"].as_array().expect("env");
        assert_eq!(env.last().expect("last")["name"], "KUBERNETES_SERVICE_HOST");
        assert!(env.iter().any(|e| e["name"] == "KUBECTL_REDIS_POD_NETWORK"));
        assert_eq!(pod["securityContext"]["runAsUser"], 1000);
        assert!(pod.get("affinity").is_none());
        for (bad, why) in [
            (
                json!([{"op": "add", "path": "/containers/5/env/-", "value": 1}]),
                "operation 1: /containers/5/env/-: 5 is not there",
            ),
            (
                json!([{"op": "add", "path": "/x", "value": 1}, {"op": "remove", "path": "/nothing"}]),
                "operation 2: /nothing: nothing is not there",
            ),
            (
                json!([{"op": "test", "path": "/restartPolicy", "value": "Always"}]),
                "operation 1: /restartPolicy differs",
            ),
            (
                json!([{"op": "move", "path": "/a", "from": "/b"}]),
                "operation 1: \"move\": only add, remove, replace and test",
            ),
            (
                json!([{"op": "add", "path": "hostNetwork", "value": true}]),
                "operation 1: the path hostNetwork does not start with /",
            ),
            (
                json!("hostNetwork"),
                "give a JSON object (a merge patch) or an array of operations (a JSON patch)",
            ),
        ] {
            let mut pod2 = pod.clone();
            assert_eq!(apply_overrides(&mut pod2, &bad), Err(why.to_string()));
            assert_eq!(&pod2, pod, "nothing changed by {bad}");
        }
    }

    /// A run's log: the result on its own line, everything else progress.
    #[test]
    fn a_runs_log_lines_and_pod_states() {
        let l = read_line(&format!(
            "{RESULT_PREFIX}{{\"kind\":\"BackupResult\",\"bytes\":3}}\n"
        ));
        assert_eq!(l, Line::Result(json!({"kind": "BackupResult", "bytes": 3})));
        assert_eq!(
            read_line("streaming 12 MB (40%)"),
            Line::Progress("streaming 12 MB (40%)".into())
        );
        // A result line cut short is shown, not taken.
        let cut = format!("{RESULT_PREFIX}{{\"kind\":");
        assert_eq!(read_line(&cut), Line::Progress(cut.clone()));
        assert_eq!(pod_state(None, false, None), PodState::Starting);
        assert_eq!(
            pod_state(Some(("ErrImagePull", "pull failed")), false, None),
            PodState::Starting,
            "a first pull error may pass"
        );
        assert_eq!(
            pod_state(
                Some(("ImagePullBackOff", "Back-off pulling image")),
                false,
                None
            ),
            PodState::Stuck {
                reason: "ImagePullBackOff".into(),
                message: "Back-off pulling image".into()
            }
        );
        assert_eq!(
            pod_state(
                Some(("CreateContainerConfigError", "secret \"s3\" not found")),
                false,
                None
            ),
            PodState::Stuck {
                reason: "CreateContainerConfigError".into(),
                message: "secret \"s3\" not found".into()
            }
        );
        assert_eq!(pod_state(None, true, None), PodState::Running);
        assert_eq!(pod_state(None, false, Some(12)), PodState::Exited(12));
        use kubectl_redis_core::exit::Exit;
        assert_eq!(Exit::from_code(12), Exit::Storage);
        assert_eq!(Exit::from_code(1), Exit::Error);
        assert_eq!(Exit::from_code(130), Exit::Interrupted);
        assert_eq!(Exit::from_code(137), Exit::Error);
    }

    /// A backup run's Role: a scheduled backup's, without the port-forward.
    #[test]
    fn a_backup_runs_role_has_no_port_forward() {
        use kubectl_redis_core::ops::schedule::Access;
        let rules = backup_rules(&Access {
            exec: false,
            lease_names: vec!["kubectl-redis-sts-redis".into()],
            secret_names: vec!["redis".into()],
            services: false,
        });
        let text = serde_json::to_string(&rules).expect("json");
        assert!(!text.contains("portforward"), "{text}");
        assert!(text.contains("\"resourceNames\":[\"redis\"]"), "{text}");
        assert!(text.contains("\"pods\""), "{text}");
        let with_exec = backup_rules(&Access {
            exec: true,
            ..Access::default()
        });
        let text = serde_json::to_string(&with_exec).expect("json");
        assert!(
            text.contains("pods/exec") && !text.contains("portforward"),
            "{text}"
        );
        // A restore's: exec (the swap), the writers' scale, no port-forward.
        let r = kubectl_redis_core::ops::job::restore_rules(&Access {
            exec: true,
            lease_names: vec!["kubectl-redis-deploy-redis".into()],
            secret_names: vec!["backup-key".into()],
            services: false,
        });
        let text = serde_json::to_string(&r).expect("json");
        for want in [
            "pods/exec",
            "deployments/scale",
            "statefulsets/scale",
            "\"resourceNames\":[\"backup-key\"]",
            "\"resourceNames\":[\"kubectl-redis-deploy-redis\"]",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        assert!(!text.contains("portforward"), "{text}");
    }

    #[test]
    fn job_resources_parse_or_name_the_fix() {
        let r = parse_resources("cpu=250m,memory=128Mi").expect("ok");
        assert_eq!(
            r.requests,
            [
                ("cpu".to_string(), "250m".to_string()),
                ("memory".into(), "128Mi".into())
            ]
        );
        assert_eq!(r.limits, [("memory".to_string(), "128Mi".to_string())]);
        let r = parse_resources("memory=64Mi, limits.memory=1Gi, limits.cpu=2").expect("ok");
        assert_eq!(
            r.limits,
            [
                ("memory".to_string(), "1Gi".to_string()),
                ("cpu".into(), "2".into())
            ]
        );
        for (bad, says) in [
            ("cpu", "expected NAME=QUANTITY"),
            ("gpu=1", "only cpu, memory and ephemeral-storage"),
            ("cpu=lots", "not a quantity"),
            ("max.cpu=1", "prefix with requests. or limits."),
            ("", "no resources given"),
        ] {
            let e = parse_resources(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn run_names_fit_a_pod_name() {
        let n = run_name("restore", 1_764_930_600, "Ab_C9");
        assert_eq!(n, "kubectl-redis-restore-20251205-103000-abc9");
        let long = run_name("backup", 1_764_930_600, &"z".repeat(80));
        assert!(long.len() <= 52, "{long}");
        assert!(
            long.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !long.ends_with('-'),
            "{long}"
        );
    }
}
