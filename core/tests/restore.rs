//! Transcripts of the restore state machine in virtual time against a
//! scripted world, and two properties checked at every step: whatever fails
//! or is interrupted, writers that were scaled down get their recorded
//! replicas back and the Lease is released.

use kubectl_redis_core::backup::CliOutput;
use kubectl_redis_core::backup::{ConnectError, Url};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::kube::lock::{Answer as LockAnswer, Request};
use kubectl_redis_core::kube::pods::{ContainerInfo, PodInfo};
use kubectl_redis_core::restore::live::{LoadReport, Survey};
use kubectl_redis_core::restore::{
    Answer, Effect, Finish, Input, LeaseError, LeaseState, Loaded, LocalFile, Method, Plan,
    Restore, Writer, WriterState,
};
use kubectl_redis_core::wire::reply::Reply;
use std::collections::VecDeque;
use std::fmt::Write;

const RDB: &[u8] = include_bytes!("fixtures/two-dbs-function-7.0.rdb");

fn plan() -> Plan {
    Plan {
        namespace: "october".into(),
        selector: "app=redis".into(),
        pod: None,
        container: None,
        port: None,
        file: "./backups/redis-backup-20251024_180500.rdb".into(),
        writers: vec![Writer::parse("worker", false).unwrap()],
        yes: false,
        dry_run: false,
        force_unverified: false,
        holder: "alice@laptop/4242".into(),
        started_unix: 1_761_400_000,
        lease_s: 30,
        scale_timeout_ms: 60_000,
        restart_timeout_ms: 60_000,
        poll_ms: 1000,
        method: Method::Swap,
        url: None,
        merge: false,
        big_value_bytes: 16 << 20,
        locked_outside: false,
        replay: None,
    }
}

/// A live restore into the pod (port-forward).
fn live() -> Plan {
    Plan {
        method: Method::Live,
        yes: true,
        ..plan()
    }
}

/// A real empty dump (Redis 7.0, no keys).
fn empty_rdb() -> LocalFile {
    local_of(include_bytes!("fixtures/empty-7.0.rdb"))
}

/// The fixture with one bit flipped: its CRC no longer matches.
fn corrupt_rdb() -> LocalFile {
    let mut b = RDB.to_vec();
    b[150] ^= 0x01;
    local_of(&b)
}

/// A regular file holding `bytes`, as the shell reads it: its size, first
/// bytes, and the real reader's verdict.
fn local_of(bytes: &[u8]) -> LocalFile {
    use kubectl_redis_core::rdb::reader::Event;
    let mut survey = Survey::default();
    let verified = kubectl_redis_core::rdb::reader::read_all(bytes, &mut |e| match e {
        Event::Key(k) => survey.add(&k),
        Event::Function { .. } => survey.functions += 1,
        _ => {}
    })
    .map_err(|e| e.to_string());
    LocalFile {
        is_file: true,
        bytes: bytes.len() as u64,
        head: bytes[..bytes.len().min(64 * 1024)].to_vec(),
        verified,
        survey,
        sha256: String::new(),
    }
}

fn pod(uid: &str, restarts: u32, ready: bool) -> PodInfo {
    PodInfo {
        name: "redis-7d4b9c-x2x9q".into(),
        uid: uid.into(),
        phase: "Running".into(),
        ready,
        terminating: false,
        default_container: None,
        containers: vec![ContainerInfo {
            name: "redis".into(),
            ports: vec![(Some("redis".into()), 6379)],
            ..ContainerInfo::default()
        }],
        restarts,
        owner: "Deployment/redis".into(),
        primary: None,
        ip: "10.0.0.1".into(),
        ..PodInfo::default()
    }
}

fn out(s: &str) -> Result<CliOutput, String> {
    Ok(CliOutput {
        exit_code: Some(0),
        stdout: format!("{s}\n"),
        stderr: String::new(),
    })
}

/// A scripted cluster. Each field answers one kind of effect.
#[derive(Clone)]
struct World {
    local: Result<LocalFile, String>,
    version: &'static str,
    appendonly: bool,
    writer: Result<Option<WriterState>, String>,
    lease: Result<Option<LeaseState>, LeaseError>,
    take_lease: Result<(), LeaseError>,
    answer: Answer,
    /// Pod counts for the writer, in order; the last repeats.
    counts: VecDeque<usize>,
    upload: Result<(), String>,
    install: Result<CliOutput, String>,
    /// Pod listings after the shutdown, in order; the last repeats.
    after: VecDeque<Vec<PodInfo>>,
    keys_after: u64,
    aof_after: bool,
    scale_up: Result<(), String>,
    /// The tools the container lacks.
    missing: Result<Vec<String>, String>,
    /// Replace the answer to the Nth effect (from 1) with Ctrl-C.
    interrupt_at: Option<usize>,
    /// The effect after which the shell reports the Lease lost.
    lease_lost_at: Option<usize>,
    /// Replace the answer to the Nth effect with an error.
    fail_at: Option<usize>,
    /// Live: the connection.
    connect: Result<Option<String>, ConnectError>,
    /// Live: extra `INFO` lines (role, cluster).
    info_extra: &'static str,
    /// Live: the answer to FLUSHALL ASYNC.
    flushall: Result<Reply, String>,
    /// Live: how the load ends.
    loaded: Loaded,
    /// Live: replicas that acknowledge WAIT.
    acked: i64,
    /// A Sentinel container beside Redis.
    sentinel: bool,
    /// A Sentinel deployed on its own watches the target.
    sentinel_apart: bool,
    /// `ACL DRYRUN default SHUTDOWN NOSAVE`, as redis-cli --no-raw prints it.
    shutdown_dry: &'static str,
    /// `COMMAND INFO SHUTDOWN` (servers before 7.0).
    command_info: &'static str,
    /// What SHUTDOWN NOSAVE prints, when it answers (a refusal).
    shutdown: Option<&'static str>,
}

impl Default for World {
    fn default() -> Self {
        World {
            local: Ok(local_of(RDB)),
            version: "7.0.15",
            appendonly: false,
            writer: Ok(Some(WriterState {
                replicas: 3,
                selector: "app=worker".into(),
                recorded: None,
            })),
            lease: Ok(None),
            take_lease: Ok(()),
            answer: Answer::Yes,
            counts: VecDeque::from([2, 0]),
            upload: Ok(()),
            install: out(""),
            after: VecDeque::from([vec![pod("u1", 0, false)], vec![pod("u1", 1, true)]]),
            keys_after: 3,
            aof_after: true,
            scale_up: Ok(()),
            missing: Ok(Vec::new()),
            shutdown_dry: "OK",
            command_info: "1)  1) \"shutdown\"\n    2) (integer) -1",
            shutdown: None,
            interrupt_at: None,
            lease_lost_at: None,
            fail_at: None,
            connect: Ok(Some(
                "AUTH with the password from the container's REDIS_PASSWORD".into(),
            )),
            info_extra: "role:master\r\nconnected_slaves:0\r\ncluster_enabled:0\r\n",
            flushall: Ok(Reply::Text("OK".into())),
            loaded: Loaded {
                report: LoadReport {
                    keys_restored: 5,
                    keys_by_payload: 5,
                    commands: 8,
                    bytes_read: RDB.len() as u64,
                    dbs: [(0, 3), (3, 2)].into_iter().collect(),
                    functions: 1,
                    ..LoadReport::default()
                },
                error: None,
                keyspace: None,
                interrupted: false,
                elapsed_ms: 42,
            },
            acked: 2,
            sentinel: false,
            sentinel_apart: false,
        }
    }
}

fn pop<T: Clone>(q: &mut VecDeque<T>) -> T {
    if q.len() > 1 {
        q.pop_front().expect("non-empty")
    } else {
        q.front().cloned().expect("scripted")
    }
}

fn answer(w: &mut World, e: &Effect, fail: bool) -> Option<Input> {
    let err = || "injected failure".to_string();
    Some(match e {
        Effect::Say(_) | Effect::Finish(_) => return None,
        Effect::ReadLocal { id, .. } => {
            Input::Local(*id, if fail { Err(err()) } else { w.local.clone() })
        }
        Effect::ListPods {
            id, selector, name, ..
        } if selector.is_empty() && name.is_none() && !fail => {
            // The namespace's pods, for a cluster's Lease: this node's and
            // its replica's, in a workload whose name sorts first.
            let node = |name: &str, owner: &str, ip: &str| PodInfo {
                name: name.into(),
                owner: owner.into(),
                ip: ip.into(),
                ..pod("u1", 0, true)
            };
            Input::Pods(
                *id,
                Ok(vec![
                    node("redis-7d4b9c-x2x9q", "Deployment/redis", "10.0.0.1"),
                    node("node-a-0", "StatefulSet/node-a", "10.0.0.2"),
                ]),
            )
        }
        Effect::ListPods { id, .. } if w.after.len() > 2 || !fail => {
            // Before the shutdown the pod is u1 with 0 restarts.
            let mut p = pod("u1", 0, true);
            if w.sentinel {
                p.containers.push(ContainerInfo {
                    name: "sentinel".into(),
                    ports: vec![(Some("redis-sentinel".into()), 26379)],
                    ..ContainerInfo::default()
                });
            }
            if w.sentinel_apart {
                p.sentinel_pod = Some("rfs-redis-5f7c9-abcde".into());
            }
            Input::Pods(*id, Ok(vec![p]))
        }
        Effect::ListPods { id, .. } => Input::Pods(*id, Err(err())),
        Effect::Redis { id, args, .. } => {
            if fail {
                return Some(Input::Exec(*id, Err(err())));
            }
            let r = match args.join(" ").as_str() {
                "INFO" => out(&format!(
                    "# Server\r\nredis_version:{}\r\n# Replication\r\n{}",
                    w.version, w.info_extra
                )),
                "CONFIG GET dir" => out("1) \"dir\"\n2) \"/data\""),
                "CONFIG GET dbfilename" => out("1) \"dbfilename\"\n2) \"dump.rdb\""),
                "CONFIG GET appendonly" => {
                    out(&format!("1) \"appendonly\"\n2) \"{}\"", if w.appendonly { "yes" } else { "no" }))
                }
                "CONFIG GET appenddirname" if w.version.starts_with('6') => out("(empty array)"),
                "CONFIG GET appenddirname" => out("1) \"appenddirname\"\n2) \"appendonlydir\""),
                "CONFIG GET appendfilename" => out("1) \"appendfilename\"\n2) \"appendonly.aof\""),
                "ACL WHOAMI" => out("\"default\""),
                "ACL DRYRUN default SHUTDOWN NOSAVE" => out(w.shutdown_dry),
                "COMMAND INFO SHUTDOWN" => out(w.command_info),
                "SHUTDOWN NOSAVE" if w.shutdown.is_some() => out(w.shutdown.unwrap_or_default()),
                "SHUTDOWN NOSAVE" => Ok(CliOutput {
                    exit_code: Some(1),
                    stdout: String::new(),
                    stderr: "Error: Server closed the connection\n".into(),
                }),
                "PING" => out("PONG"),
                "INFO keyspace" if w.keys_after == 0 => out("# Keyspace\r\n"),
                "INFO keyspace" => out(&format!("# Keyspace\r\ndb0:keys={},expires=1,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n", w.keys_after)),
                "INFO persistence" => out(&format!("# Persistence\r\naof_enabled:{}\r\n", u8::from(w.aof_after))),
                other => panic!("unexpected redis command {other}"),
            };
            Input::Exec(*id, r)
        }
        Effect::Exec { id, argv, .. } => {
            if fail {
                return Some(Input::Exec(*id, Err(err())));
            }
            if argv[0] == "rm" {
                Input::Exec(*id, out(""))
            } else {
                Input::Exec(*id, w.install.clone())
            }
        }
        Effect::Probe { id, .. } => {
            Input::Probed(*id, if fail { Err(err()) } else { w.missing.clone() })
        }
        Effect::GetWriter { id, .. } => {
            Input::Writer(*id, if fail { Err(err()) } else { w.writer.clone() })
        }
        Effect::Lock { id, request } => Input::Lock(
            *id,
            match request {
                Request::Get { .. } if fail => LockAnswer::Found(Err(LeaseError::Other(err()))),
                Request::Get { .. } => LockAnswer::Found(w.lease.clone()),
                Request::Take { .. } if fail => LockAnswer::Taken(Err(LeaseError::Other(err()))),
                Request::Take { .. } => LockAnswer::Taken(w.take_lease.clone()),
                Request::Release { .. } if fail => LockAnswer::Released(Err(err())),
                Request::Release { .. } => LockAnswer::Released(Ok(())),
                Request::Note { .. } if fail => LockAnswer::Noted(Err(err())),
                Request::Note { .. } => LockAnswer::Noted(Ok(())),
            },
        ),
        Effect::Confirm { id } => Input::Answer(*id, if fail { Answer::No } else { w.answer }),
        Effect::Annotate { id, .. } => Input::Done(*id, if fail { Err(err()) } else { Ok(()) }),
        Effect::Scale { id, replicas, .. } => Input::Done(
            *id,
            if fail {
                Err(err())
            } else if *replicas > 0 {
                w.scale_up.clone()
            } else {
                Ok(())
            },
        ),
        Effect::CountPods { id, .. } => Input::PodCount(
            *id,
            if fail {
                Err(err())
            } else {
                Ok(pop(&mut w.counts))
            },
        ),
        Effect::Upload { id, .. } => {
            Input::Done(*id, if fail { Err(err()) } else { w.upload.clone() })
        }
        Effect::Timer { id, .. } => Input::Timer(*id),
        Effect::Connect { id, .. } => Input::Connected(
            *id,
            if fail {
                Err(ConnectError::Failed(err()))
            } else {
                w.connect.clone()
            },
        ),
        Effect::Send { id, args } => {
            if fail {
                return Some(Input::Reply(*id, Err(err())));
            }
            let bulk = |s: String| Ok(Reply::Bulk(s.into_bytes()));
            let r = match args.join(" ").as_str() {
                "INFO" => bulk(format!(
                    "# Server\r\nredis_version:{}\r\n# Replication\r\n{}",
                    w.version, w.info_extra
                )),
                "CONFIG GET proto-max-bulk-len" => Ok(Reply::Array(vec![
                    Reply::Bulk(b"proto-max-bulk-len".to_vec()),
                    Reply::Bulk(b"536870912".to_vec()),
                ])),
                "FLUSHALL ASYNC" => w.flushall.clone(),
                a if a.starts_with("WAIT ") => Ok(Reply::Integer(w.acked)),
                // A server before 7.0: the machine falls back to SLOTS.
                "CLUSTER SHARDS" => Ok(Reply::Error("ERR unknown subcommand 'SHARDS'".into())),
                "CLUSTER SLOTS" => {
                    let node = |ip: &str, id: &str| {
                        Reply::Array(vec![
                            Reply::Bulk(ip.as_bytes().to_vec()),
                            Reply::Integer(6379),
                            Reply::Bulk(id.as_bytes().to_vec()),
                        ])
                    };
                    Ok(Reply::Array(vec![Reply::Array(vec![
                        Reply::Integer(0),
                        Reply::Integer(16383),
                        node("10.0.0.1", "p"),
                        node("10.0.0.2", "r"),
                    ])]))
                }
                "INFO keyspace" => bulk(format!(
                    "# Keyspace\r\ndb0:keys={},expires=1,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n",
                    w.keys_after
                )),
                other => panic!("unexpected command {other}"),
            };
            Input::Reply(*id, r)
        }
        Effect::Wipe { id } => Input::Done(*id, if fail { Err(err()) } else { Ok(()) }),
        Effect::Load { id, .. } => {
            let mut l = w.loaded.clone();
            if fail {
                l.error = Some("Redis closed the connection".into());
            }
            Input::Loaded(*id, l)
        }
        Effect::Replay { id } => Input::Replayed(
            *id,
            if fail {
                Err("replaying command 3 of 42 failed: WRONGTYPE".into())
            } else {
                Ok(42)
            },
        ),
        Effect::Disconnect | Effect::Begin { .. } => return None,
    })
}

fn show_effect(e: &Effect) -> String {
    match e {
        Effect::Say(l) => format!("say {l}").replace("[backup]", "[restore]"),
        Effect::Redis { id, args, .. } => format!("Redis#{id} {}", args.join(" ")),
        Effect::Exec { id, argv, .. } => format!("Exec#{id} {argv:?}"),
        Effect::Upload {
            id, remote, bytes, ..
        } => format!("Upload#{id} {bytes} bytes -> {remote}"),
        Effect::Finish(f) => format!("Finish {:?}", f.exit),
        Effect::Load {
            id,
            bytes,
            options,
            entry,
            ..
        } => format!(
            "Load#{id} {bytes} bytes into {:?} {}.{}.{} (footer {}, limit {}, merge {}, now {}{})",
            options.caps.server.flavor,
            options.caps.server.version.0,
            options.caps.server.version.1,
            options.caps.server.version.2,
            options.caps.footer(),
            options.limit,
            options.merge,
            options.now_ms,
            if options.cluster {
                format!(", cluster entry {entry:?}")
            } else {
                String::new()
            }
        ),
        other => format!("{other:?}"),
    }
}

fn show_input(i: &Input) -> String {
    match i {
        Input::Local(id, Ok(f)) => format!("Local#{id} file={} bytes={}", f.is_file, f.bytes),
        Input::Pods(id, Ok(p)) => format!(
            "Pods#{id} [{}]",
            p.iter()
                .map(|p| format!(
                    "{} uid={} restarts={} ready={}",
                    p.name, p.uid, p.restarts, p.ready
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Input::Reply(id, Ok(Reply::Bulk(b))) => {
            format!(
                "Reply#{id} {:?}",
                String::from_utf8_lossy(b).replace("\r\n", "\n")
            )
        }
        Input::Exec(id, Ok(o)) => format!(
            "Exec#{id} exit={:?} {:?}",
            o.exit_code,
            format!("{}{}", o.stdout, o.stderr).replace("\r\n", "\n")
        ),
        other => format!("{other:?}"),
    }
}

/// Runs to the end; returns the transcript, the finish and every effect.
fn run(plan: Plan, mut w: World) -> (String, Finish, Vec<Effect>) {
    let mut m = Restore::new(plan);
    let (mut now, mut count, mut t) = (0u64, 0usize, String::new());
    let mut inputs = VecDeque::from([Input::Start]);
    let mut all = Vec::new();
    let mut finish = None;
    let mut shut_down = false;
    while let Some(input) = inputs.pop_front() {
        writeln!(t, "{now:>6}ms < {}", show_input(&input)).unwrap();
        for e in m.handle(now, input) {
            writeln!(t, "{now:>6}ms > {}", show_effect(&e)).unwrap();
            all.push(e.clone());
            if let Effect::Finish(f) = &e {
                assert!(finish.is_none(), "finished twice");
                finish = Some(f.clone());
                continue;
            }
            if matches!(e, Effect::Say(_) | Effect::Begin { .. }) {
                continue;
            }
            count += 1;
            if let Effect::Timer { after_ms, .. } = e {
                now += after_ms;
            }
            if matches!(&e, Effect::Redis { args, .. } if args[0] == "SHUTDOWN") {
                shut_down = true;
            }
            let stop = if w.interrupt_at == Some(count) {
                Some(Input::Interrupt)
            } else if w.lease_lost_at == Some(count) {
                Some(Input::LeaseLost("bob@ci/17 holds it now".into()))
            } else {
                None
            };
            if let Some(stop) = stop {
                inputs.push_back(stop);
                let install_or_shutdown = matches!(&e, Effect::Exec { argv, .. } if argv[0] != "rm")
                    || matches!(&e, Effect::Redis { args, .. } if args[0] == "SHUTDOWN");
                if !install_or_shutdown {
                    continue;
                }
            }
            let fail = w.fail_at == Some(count);
            let next = if let (Effect::ListPods { id, .. }, true) = (&e, shut_down) {
                Some(Input::Pods(
                    *id,
                    if fail {
                        Err("injected".into())
                    } else {
                        Ok(pop(&mut w.after))
                    },
                ))
            } else {
                answer(&mut w, &e, fail)
            };
            inputs.extend(next);
        }
        assert!(now < 3_600_000, "runaway");
    }
    let f = finish.expect("must finish");
    assert!(m.is_finished());
    writeln!(t, "exit {} ({:?})", f.exit.code(), f.exit).unwrap();
    if let Some(e) = &f.error {
        writeln!(t, "error: {}", e.message).unwrap();
        if let Some(h) = &e.hint {
            writeln!(t, "hint: {h}").unwrap();
        }
    }
    writeln!(t, "report: {}", serde_json::to_string(&f.report).unwrap()).unwrap();
    (t, f, all)
}

/// Writers scaled to 0 are scaled back to their recorded count; their record
/// is removed unless scaling back failed; a taken Lease is released.
fn assert_put_back(effects: &[Effect], t: &str) {
    let down = effects
        .iter()
        .position(|e| matches!(e, Effect::Scale { replicas: 0, .. }));
    if let Some(d) = down {
        let up = effects[d..]
            .iter()
            .any(|e| matches!(e, Effect::Scale { replicas: 3, .. }));
        assert!(up, "writer scaled down but never back:\n{t}");
    }
    let recorded = effects.iter().position(|e| {
        matches!(
            e,
            Effect::Annotate {
                record: Some(_),
                ..
            }
        )
    });
    if let (Some(r), false) = (recorded, t.contains("cannot scale deploy/worker back")) {
        let removed = effects[r..]
            .iter()
            .any(|e| matches!(e, Effect::Annotate { record: None, .. }));
        assert!(removed, "replica record left behind:\n{t}");
    }
    let lock = |e: &Effect, take: bool| match e {
        Effect::Lock { request, .. } => matches!(
            (request, take),
            (Request::Take { .. }, true) | (Request::Release { .. }, false)
        ),
        _ => false,
    };
    if effects.iter().any(|e| lock(e, true)) {
        assert!(
            effects.iter().any(|e| lock(e, false)),
            "lease never released:\n{t}"
        );
    }
}

macro_rules! scenario {
    ($name:ident, $plan:expr, $world:expr, $exit:expr) => {
        #[test]
        fn $name() {
            let (t, f, effects) = run($plan, $world);
            assert_eq!(f.exit, $exit, "{t}");
            assert_put_back(&effects, &t);
            insta::assert_snapshot!(t);
        }
    };
}

scenario!(happy_path, plan(), World::default(), Exit::Ok);

scenario!(
    aof_multipart,
    plan(),
    World {
        appendonly: true,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    aof_preamble_before_7,
    plan(),
    World {
        appendonly: true,
        version: "6.2.14",
        local: Ok(local_of(
            b"REDIS0009\xfe\x00\xfb\x00\x00\xff\0\0\0\0\0\0\0\0"
        )),
        keys_after: 0,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    corrupt_backup_is_refused,
    plan(),
    World {
        local: Ok(corrupt_rdb()),
        ..World::default()
    },
    Exit::Corrupt
);

scenario!(
    corrupt_backup_forced,
    Plan {
        force_unverified: true,
        yes: true,
        ..plan()
    },
    World {
        local: Ok(corrupt_rdb()),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    empty_backup,
    plan(),
    World {
        local: Ok(empty_rdb()),
        keys_after: 0,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    empty_backup_but_keys_remain,
    plan(),
    World {
        local: Ok(empty_rdb()),
        keys_after: 5,
        ..World::default()
    },
    Exit::VerifyFailed
);

scenario!(
    dry_run_changes_nothing,
    Plan {
        dry_run: true,
        ..plan()
    },
    World::default(),
    Exit::Ok
);

scenario!(
    answer_no_changes_nothing,
    plan(),
    World {
        answer: Answer::No,
        ..World::default()
    },
    Exit::Aborted
);

scenario!(
    no_terminal_needs_yes,
    plan(),
    World {
        answer: Answer::NoTerminal,
        ..World::default()
    },
    Exit::Aborted
);

scenario!(
    missing_file,
    plan(),
    World {
        local: Err("No such file or directory (os error 2)".into()),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    empty_file,
    plan(),
    World {
        local: Ok(local_of(b"")),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    corrupt_file,
    plan(),
    World {
        local: Ok(local_of(b"hello")),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    backup_too_new_for_server,
    plan(),
    World {
        version: "6.2.14",
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    named_writer_missing,
    Plan {
        writers: vec![Writer::parse("deploy/celery", true).unwrap()],
        ..plan()
    },
    World {
        writer: Ok(None),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    default_writer_missing_is_a_warning,
    plan(),
    World {
        writer: Ok(None),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    leftover_record_needs_recover,
    plan(),
    World {
        writer: Ok(Some(WriterState {
            replicas: 0,
            selector: "app=worker".into(),
            recorded: Some(3),
        })),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    lease_held,
    plan(),
    World {
        lease: Ok(Some(LeaseState {
            holder: "bob@ci/17".into(),
            renewed_unix: 1_761_399_990,
            duration_s: 30,
            resource_version: "812".into(),
            unchanged_ms: None,
        })),
        ..World::default()
    },
    Exit::Locked
);

scenario!(
    stale_lease_taken_over,
    plan(),
    World {
        lease: Ok(Some(LeaseState {
            holder: "bob@ci/17".into(),
            renewed_unix: 1_761_399_000,
            duration_s: 30,
            resource_version: "812".into(),
            unchanged_ms: Some(31_000),
        })),
        ..World::default()
    },
    Exit::Ok
);

// Stale by the holder's renewTime, but this process saw it renewed while
// watching: the clocks differ, and the holder is alive.
scenario!(
    stale_by_its_clock_but_renewed_while_watched,
    plan(),
    World {
        lease: Ok(Some(LeaseState {
            holder: "bob@ci/17".into(),
            renewed_unix: 1_761_399_000,
            duration_s: 30,
            resource_version: "813".into(),
            unchanged_ms: Some(0),
        })),
        ..World::default()
    },
    Exit::Locked
);

// Stale by the holder's renewTime and never watched (a shell that did not
// wait): refused, never taken on another machine's clock alone.
scenario!(
    stale_by_its_clock_alone_is_not_taken,
    plan(),
    World {
        lease: Ok(Some(LeaseState {
            holder: "bob@ci/17".into(),
            renewed_unix: 1_761_399_000,
            duration_s: 30,
            resource_version: "812".into(),
            unchanged_ms: Some(12_000),
        })),
        ..World::default()
    },
    Exit::Locked
);

scenario!(
    lease_race_lost,
    plan(),
    World {
        take_lease: Err(LeaseError::Conflict),
        ..World::default()
    },
    Exit::Locked
);

scenario!(
    writer_pods_linger,
    Plan {
        scale_timeout_ms: 3_000,
        ..plan()
    },
    World {
        counts: VecDeque::from([1]),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    upload_fails,
    plan(),
    World {
        upload: Err("No space left on device".into()),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    redis_does_not_come_back,
    Plan {
        restart_timeout_ms: 4_000,
        ..plan()
    },
    World {
        after: VecDeque::from([vec![pod("u1", 1, false)]]),
        ..World::default()
    },
    Exit::VerifyFailed
);

scenario!(
    pod_replaced_by_a_new_one,
    plan(),
    World {
        after: VecDeque::from([
            vec![],
            vec![PodInfo {
                name: "redis-7d4b9c-k8m2p".into(),
                ..pod("u2", 0, true)
            }]
        ]),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    key_count_mismatch,
    plan(),
    World {
        keys_after: 250,
        ..World::default()
    },
    Exit::VerifyFailed
);

scenario!(
    expired_keys_are_not_a_mismatch,
    plan(),
    World {
        keys_after: 2,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    aof_off_after_restart,
    plan(),
    World {
        appendonly: true,
        aof_after: false,
        ..World::default()
    },
    Exit::VerifyFailed
);

scenario!(
    scale_back_fails_keeps_record,
    plan(),
    World {
        scale_up: Err("the server is currently unable to handle the request".into()),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    interrupted_after_scale_down,
    plan(),
    World {
        interrupt_at: Some(17),
        ..World::default()
    },
    Exit::Interrupted
);

/// How many effects the happy path of the default plan asks for (each a
/// step a failure, an interrupt or a lost Lease can land on).
fn happy_steps() -> usize {
    let (_, _, happy) = run(plan(), World::default());
    happy
        .iter()
        .filter(|e| !matches!(e, Effect::Say(_) | Effect::Finish(_) | Effect::Begin { .. }))
        .count()
}

/// Ctrl-C at any step: exit 130, writers back, lease released; nothing
/// changed at all when it comes before the confirmation.
#[test]
fn interrupt_at_every_step() {
    let total = happy_steps();
    for n in 1..=total {
        let (t, f, effects) = run(
            plan(),
            World {
                interrupt_at: Some(n),
                ..World::default()
            },
        );
        assert_put_back(&effects, &t);
        if f.exit == Exit::Ok {
            // Only once the restore is past its last undoable step.
            assert!(t.contains("INFO keyspace"), "step {n}:\n{t}");
            continue;
        }
        assert_eq!(f.exit, Exit::Interrupted, "step {n}:\n{t}");
        let confirmed = effects.iter().any(|e| matches!(e, Effect::Annotate { .. }));
        assert_eq!(confirmed, f.report.changed, "step {n}:\n{t}");
    }
}

/// The Lease found lost at any step: exit 6 naming the loss, writers back,
/// the run's own Lease released only if still its own (the shell's
/// release checks the holder); the same as Ctrl-C otherwise.
#[test]
fn lease_lost_at_every_step() {
    let total = happy_steps();
    let mut stopped = 0;
    for n in 1..=total {
        let (t, f, effects) = run(
            plan(),
            World {
                lease_lost_at: Some(n),
                ..World::default()
            },
        );
        assert_put_back(&effects, &t);
        if f.exit == Exit::Ok {
            assert!(t.contains("INFO keyspace"), "step {n}:\n{t}");
            continue;
        }
        stopped += 1;
        assert_eq!(f.exit, Exit::Locked, "step {n}:\n{t}");
        let e = f
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        assert!(
            e.contains("was lost (bob@ci/17 holds it now)"),
            "step {n}: {e}\n{t}"
        );
    }
    assert!(stopped > total / 2, "{stopped} of {total} steps stopped");
}

/// A step of the winding down (writers scaled back, their record removed,
/// the Lease released): its failure is reported after the restore itself.
fn winding_down(step: Option<&Effect>) -> bool {
    matches!(
        step,
        Some(Effect::Scale { replicas: 3, .. })
            | Some(Effect::Annotate { record: None, .. })
            | Some(Effect::Lock {
                request: Request::Release { .. },
                ..
            })
    )
}

/// Any single failure at any step: a non-zero exit, writers back, lease
/// released.
#[test]
fn failure_at_every_step() {
    let total = happy_steps();
    let mut installs = 0;
    for n in 1..=total {
        let (t, f, effects) = run(
            plan(),
            World {
                fail_at: Some(n),
                ..World::default()
            },
        );
        // Failures while winding down (scale back, release) are reported
        // but cannot undo the restore itself; every other one fails it.
        let undo_step = effects
            .iter()
            .filter(|e| !matches!(e, Effect::Say(_) | Effect::Finish(_) | Effect::Begin { .. }))
            .nth(n - 1);
        if matches!(undo_step, Some(Effect::Timer { .. })) {
            continue; // timers cannot fail
        }
        // When Redis exits, the exec running SHUTDOWN often breaks: an error
        // there is expected, and the wait for the restart decides.
        // So are transient errors while polling for the restart (pods, PING):
        // they are retried until the deadline.
        let shut = effects
            .iter()
            .filter(|e| !matches!(e, Effect::Say(_) | Effect::Finish(_) | Effect::Begin { .. }))
            .take(n - 1)
            .any(|e| matches!(e, Effect::Redis { args, .. } if args[0] == "SHUTDOWN"));
        let retried = matches!(undo_step, Some(Effect::Redis { args, .. }) if args[0] == "SHUTDOWN" || args[0] == "PING")
            || (shut && matches!(undo_step, Some(Effect::ListPods { .. })))
            // The install's note for --recover failing is a warning.
            || matches!(undo_step, Some(Effect::Lock { request: Request::Note { .. }, .. }));
        if retried {
            assert_eq!(f.exit, Exit::Ok, "step {n}:\n{t}");
            continue;
        }
        let late = winding_down(undo_step)
            || matches!(undo_step, Some(Effect::Exec { argv, .. }) if argv[0] == "rm");
        // The install (mv, keeping the old file beside) failing is a failed
        // restore, like any other step.
        if matches!(undo_step, Some(Effect::Exec { argv, .. }) if argv[0] == "sh" && argv[2].contains("ln -f"))
        {
            assert_ne!(f.exit, Exit::Ok, "step {n}:\n{t}");
            installs += 1;
        }
        if !late {
            assert_ne!(f.exit, Exit::Ok, "step {n}:\n{t}");
        }
        let scale_back_failed = matches!(undo_step, Some(Effect::Scale { replicas: 3, .. }));
        if !scale_back_failed {
            assert_put_back(&effects, &t);
        }
    }
    assert_eq!(installs, 1, "the install step was failed once");
}

#[test]
fn writer_names() {
    let w = |s| Writer::parse(s, true).map(|w| w.to_string());
    assert_eq!(w("worker").unwrap(), "deploy/worker");
    assert_eq!(w("deployment.apps/worker").unwrap(), "deploy/worker");
    assert_eq!(w("sts/celery-beat").unwrap(), "sts/celery-beat");
    insta::assert_snapshot!(w("job/x").unwrap_err(), @"'job/x': only deploy/NAME and sts/NAME can be scaled down");
    insta::assert_snapshot!(w("deploy/Bad_Name").unwrap_err(), @"'deploy/Bad_Name': 'Bad_Name' is not a valid object name");
    assert_eq!(
        kubectl_redis_core::restore::lease_name("Deployment/redis", "redis-7d4b9c-x2x9q"),
        "kubectl-redis-redis"
    );
    assert_eq!(
        kubectl_redis_core::restore::lease_name("", "redis-0"),
        "kubectl-redis-redis-0"
    );
}

// The in-pod tools: probed before anything changes.

scenario!(
    image_without_head_is_refused_before_any_change,
    plan(),
    World {
        missing: Ok(vec!["head".into()]),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    image_without_a_shell_is_refused_before_any_change,
    plan(),
    World {
        missing: Err("exec: \"sh\": executable file not found in $PATH: unknown".into()),
        ..World::default()
    },
    Exit::Error
);

/// The probe names every tool the chosen install runs, and comes before
/// the lock, the confirmation and any change.
#[test]
fn the_probe_asks_for_what_the_install_runs() {
    for (appendonly, version, extra) in [
        (false, "7.0.15", None),
        (true, "7.0.15", Some("mkdir")),
        (true, "8.2.3", Some("mkdir")),
    ] {
        let (t, f, effects) = run(
            plan(),
            World {
                appendonly,
                version,
                ..World::default()
            },
        );
        assert_eq!(f.exit, Exit::Ok, "{t}");
        let tools = effects
            .iter()
            .find_map(|e| match e {
                Effect::Probe { tools, .. } => Some(tools.clone()),
                _ => None,
            })
            .expect("a probe");
        for tool in ["redis-cli", "head", "cat", "mv", "rm"] {
            assert!(tools.iter().any(|t| t == tool), "{tool} in {tools:?}");
        }
        assert_eq!(
            tools.iter().any(|t| t == "mkdir"),
            extra.is_some(),
            "{tools:?}"
        );
        let probe = effects
            .iter()
            .position(|e| matches!(e, Effect::Probe { .. }));
        let first_change = effects.iter().position(|e| {
            matches!(
                e,
                Effect::Lock { .. } | Effect::Confirm { .. } | Effect::Annotate { .. }
            )
        });
        assert!(probe < first_change, "{t}");
    }
    let (t, _, effects) = run(
        plan(),
        World {
            missing: Ok(vec!["head".into(), "mv".into()]),
            ..World::default()
        },
    );
    assert!(
        !effects.iter().any(|e| matches!(
            e,
            Effect::Lock { .. }
                | Effect::Confirm { .. }
                | Effect::Annotate { .. }
                | Effect::Scale { .. }
        )),
        "{t}"
    );
    assert!(t.contains("has no head, mv; nothing was changed"), "{t}");
}

// The live restore: over one connection, no exec, no restart.

scenario!(live_restore, live(), World::default(), Exit::Ok);

scenario!(
    live_restore_over_url_has_no_lock_and_no_writers,
    Plan {
        url: Some(Url {
            host: "127.0.0.1".into(),
            port: 6379
        }),
        writers: vec![],
        ..live()
    },
    World {
        connect: Ok(None),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    live_restore_refuses_functions_into_6_2,
    live(),
    World {
        version: "6.2.14",
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    live_restore_refuses_a_replica,
    live(),
    World {
        info_extra: "role:slave\r\nmaster_host:10.0.0.7\r\nmaster_port:6379\r\n",
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    swap_restore_refuses_a_replica,
    plan(),
    World {
        info_extra: "role:slave\r\nmaster_host:10.0.0.7\r\nmaster_port:6379\r\n",
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    cluster_mode_refuses_keys_outside_db0,
    live(),
    World {
        info_extra: "role:master\r\ncluster_enabled:1\r\n",
        ..World::default()
    },
    Exit::Invalid
);

/// A Redis Cluster: the load routes by slot and flushes every primary (the
/// shell's part); the count check reads the keyspace summed over them.
fn cluster_world(keyspace: &str) -> World {
    World {
        local: Ok(empty_rdb()),
        info_extra: "role:master\r\nconnected_slaves:1\r\ncluster_enabled:1\r\n",
        loaded: Loaded {
            keyspace: Some(keyspace.into()),
            report: LoadReport::default(),
            error: None,
            interrupted: false,
            elapsed_ms: 40,
        },
        ..World::default()
    }
}

// The user redis-cli runs as may not SHUTDOWN: refused before any change
// (a swap would install the backup and could not load it).
scenario!(
    swap_refused_when_the_acl_denies_shutdown,
    plan(),
    World {
        shutdown_dry: "\"This user has no permissions to run the 'shutdown' command\"",
        ..World::default()
    },
    Exit::Invalid
);

// SHUTDOWN renamed away (7.0+): auto restores live instead.
scenario!(
    auto_goes_live_when_shutdown_is_renamed,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    World {
        shutdown_dry: "(error) ERR Command 'shutdown' not found",
        ..World::default()
    },
    Exit::Ok
);

// Before 7.0 (no ACL DRYRUN): COMMAND INFO shows it renamed.
scenario!(
    swap_refused_when_shutdown_is_renamed_on_6,
    plan(),
    World {
        version: "6.2.14",
        command_info: "1) (nil)",
        ..World::default()
    },
    Exit::Invalid
);

// Allowed when checked, refused when sent (the ACL changed meanwhile):
// the previous file is put back, writers too; nothing is left to load at
// the next restart.
scenario!(
    shutdown_refused_after_the_install_puts_the_file_back,
    plan(),
    World {
        shutdown: Some(
            "(error) NOPERM User default has no permissions to run the 'shutdown' command"
        ),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    cluster_mode_goes_live_under_auto,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    cluster_world("# Keyspace\r\n"),
    Exit::Ok
);

/// Cluster mode: a failure at any step, the cluster Lease's own lookups
/// included, leaves writers back and the Lease released. A node map or a
/// pod list that cannot be read falls back to the named pod's Lease, and
/// says so.
#[test]
fn cluster_failure_at_every_step() {
    let auto = || Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    };
    let world = || cluster_world("# Keyspace\r\n");
    let (happy_t, happy_f, happy) = run(auto(), world());
    assert_eq!(happy_f.exit, Exit::Ok, "{happy_t}");
    let counted = |e: &&Effect| {
        !matches!(
            e,
            Effect::Say(_) | Effect::Finish(_) | Effect::Disconnect | Effect::Begin { .. }
        )
    };
    let total = happy.iter().filter(counted).count();
    let (mut no_map, mut no_pods) = (false, false);
    for n in 1..=total {
        let (t, f, effects) = run(
            auto(),
            World {
                fail_at: Some(n),
                ..world()
            },
        );
        let step = effects.iter().filter(counted).nth(n - 1);
        if !matches!(step, Some(Effect::Scale { replicas: 3, .. })) {
            assert_put_back(&effects, &t);
        }
        let mut fell_back = false;
        for (seen, warning) in [
            (&mut no_map, "cannot read the cluster's nodes (injected failure): locking with kubectl-redis-redis only"),
            (&mut no_pods, "cannot list the pods serving the cluster (injected failure): locking with kubectl-redis-redis only"),
        ] {
            if t.contains(warning) {
                *seen = true;
                fell_back = true;
                assert!(t.contains("name: \"kubectl-redis-redis\""), "{t}");
            }
        }
        // A Lease lookup that fails falls back and the restore goes on; a
        // failure while winding down (scale back, unannotate, release) is
        // reported after the data is in; any other failure fails it.
        let late = winding_down(step);
        if fell_back || matches!(step, Some(Effect::Timer { .. })) {
            // Timers cannot fail.
            assert_eq!(f.exit, Exit::Ok, "step {n}:\n{t}");
        } else if !late {
            assert_ne!(f.exit, Exit::Ok, "step {n}:\n{t}");
            assert!(
                f.error.is_some(),
                "step {n}: a failure names its error:\n{t}"
            );
        }
    }
    assert!(no_map && no_pods, "both fallbacks were reached");
}

scenario!(
    cluster_mode_refuses_a_swap,
    Plan {
        yes: true,
        ..plan()
    },
    cluster_world("# Keyspace\r\n"),
    Exit::Invalid
);

scenario!(
    cluster_counts_come_from_every_primary,
    live(),
    cluster_world("# Keyspace\r\ndb0:keys=5,expires=0,avg_ttl=0\r\n"),
    Exit::VerifyFailed
);

scenario!(
    live_restore_wipes_when_flushall_is_renamed,
    live(),
    World {
        flushall: Ok(Reply::Error(
            "ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC' ".into()
        )),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    live_restore_merge_keeps_other_keys,
    Plan {
        merge: true,
        ..live()
    },
    World {
        keys_after: 900,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    live_restore_out_of_memory_says_how_far,
    live(),
    World {
        loaded: Loaded {
            report: LoadReport {
                keys_restored: 2,
                keys_by_payload: 2,
                commands: 4,
                ..LoadReport::default()
            },
            error: Some("Redis answered \"OOM command not allowed when used memory > 'maxmemory'.\" for key \"h:big\" (db0)".into()),
            keyspace: None,
            interrupted: false,
            elapsed_ms: 10,
        },
        ..World::default()
    },
    Exit::Error
);

scenario!(
    live_restore_interrupted_during_the_load,
    live(),
    World {
        loaded: Loaded {
            report: LoadReport {
                keys_restored: 3,
                keys_by_payload: 3,
                commands: 4,
                ..LoadReport::default()
            },
            error: None,
            keyspace: None,
            interrupted: true,
            elapsed_ms: 10,
        },
        ..World::default()
    },
    Exit::Interrupted
);

scenario!(
    live_restore_wrong_password,
    live(),
    World {
        connect: Err(ConnectError::Failed("AUTH with the password from $REDISCLI_AUTH refused: WRONGPASS invalid username-password pair or user is disabled.".into())),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    live_restore_without_portforward_rbac,
    live(),
    World {
        connect: Err(ConnectError::Forbidden("pods \"redis-7d4b9c-x2x9q\" is forbidden: User \"ci\" cannot create resource \"pods/portforward\"".into())),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    auto_chooses_live_without_exec,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    World {
        missing: Err("pods \"redis-7d4b9c-x2x9q\" is forbidden: User \"ci\" cannot create resource \"pods/exec\"".into()),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    auto_chooses_live_with_replicas_attached,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    World {
        info_extra: "role:master\r\nconnected_slaves:2\r\ncluster_enabled:0\r\n",
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    live_restore_warns_when_replicas_lag,
    live(),
    World {
        info_extra: "role:master\r\nconnected_slaves:2\r\ncluster_enabled:0\r\n",
        acked: 1,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    auto_goes_live_beside_sentinel,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    World {
        sentinel: true,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    swap_beside_sentinel_is_refused,
    plan(),
    World {
        sentinel: true,
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    auto_goes_live_with_a_sentinel_apart,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    World {
        sentinel_apart: true,
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    swap_with_a_sentinel_apart_is_refused,
    plan(),
    World {
        sentinel_apart: true,
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    auto_chooses_swap_when_it_can,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    World::default(),
    Exit::Ok
);

scenario!(
    auto_falls_back_to_swap_without_a_connection,
    Plan {
        method: Method::Auto,
        yes: true,
        ..plan()
    },
    World {
        connect: Err(ConnectError::Forbidden(
            "cannot create resource \"pods/portforward\"".into()
        )),
        ..World::default()
    },
    Exit::Ok
);

/// Live: Ctrl-C or a failure at any step leaves writers back and the Lease
/// released; a change is reported only after the confirmation.
#[test]
fn live_interrupt_and_failure_at_every_step() {
    let (_, _, happy) = run(live(), World::default());
    let total = happy
        .iter()
        .filter(|e| {
            !matches!(
                e,
                Effect::Say(_) | Effect::Finish(_) | Effect::Disconnect | Effect::Begin { .. }
            )
        })
        .count();
    for n in 1..=total {
        for (interrupt_at, fail_at) in [(Some(n), None), (None, Some(n))] {
            let (t, f, effects) = run(
                live(),
                World {
                    interrupt_at,
                    fail_at,
                    ..World::default()
                },
            );
            let step = effects
                .iter()
                .filter(|e| {
                    !matches!(
                        e,
                        Effect::Say(_)
                            | Effect::Finish(_)
                            | Effect::Disconnect
                            | Effect::Begin { .. }
                    )
                })
                .nth(n - 1);
            let scale_back = matches!(step, Some(Effect::Scale { replicas: 3, .. }));
            if !scale_back {
                assert_put_back(&effects, &t);
            }
            let late = matches!(
                step,
                Some(Effect::Scale { replicas: 3, .. })
                    | Some(Effect::Annotate { record: None, .. })
                    | Some(Effect::Lock {
                        request: Request::Release { .. },
                        ..
                    })
                    | Some(Effect::Timer { .. })
            );
            if !late {
                assert_ne!(f.exit, Exit::Ok, "step {n}:\n{t}");
            }
            // An open connection is always closed.
            if t.contains("< Connected(3, Ok") {
                assert!(
                    effects.iter().any(|e| matches!(e, Effect::Disconnect)),
                    "step {n}: connection left open:\n{t}"
                );
            }
        }
    }
}

/// `--to-time`: the archived commands are replayed once the base is in and
/// its counts checked, and before the writers come back (swap: over a new
/// connection to the restarted server; live: over the restore's own).
/// A failed or interrupted replay still puts the writers back; a dry run
/// replays nothing.
#[test]
fn to_time_replays_before_writers_come_back() {
    let steps = |e: &[Effect]| -> Vec<Effect> {
        e.iter()
            .filter(|e| {
                !matches!(
                    e,
                    Effect::Say(_) | Effect::Finish(_) | Effect::Disconnect | Effect::Begin { .. }
                )
            })
            .cloned()
            .collect()
    };
    for (name, base) in [("swap", plan()), ("live", live())] {
        let p = Plan {
            replay: Some(42),
            ..base
        };
        let (t, f, effects) = run(p.clone(), World::default());
        assert_eq!(f.exit, Exit::Ok, "{name}:\n{t}");
        assert_eq!(f.report.replayed, Some(42), "{name}:\n{t}");
        let at = |pred: &dyn Fn(&Effect) -> bool| effects.iter().position(pred);
        let replay = at(&|e| matches!(e, Effect::Replay { .. })).expect("a replay");
        let keyspace = at(&|e| match e {
            Effect::Redis { args, .. } | Effect::Send { args, .. } => {
                args.join(" ") == "INFO keyspace"
            }
            _ => false,
        })
        .expect("the counts checked");
        let back = at(&|e| matches!(e, Effect::Scale { replicas: 3, .. })).expect("scaled back");
        assert!(keyspace < replay && replay < back, "{name}:\n{t}");
        let connects = effects
            .iter()
            .filter(|e| matches!(e, Effect::Connect { .. }))
            .count();
        assert_eq!(connects, 1, "{name}: one connection:\n{t}");
        let total = steps(&effects).len();
        for n in 1..=total {
            for (interrupt_at, fail_at) in [(Some(n), None), (None, Some(n))] {
                let (t, f, effects) = run(
                    p.clone(),
                    World {
                        interrupt_at,
                        fail_at,
                        ..World::default()
                    },
                );
                let step = steps(&effects).get(n - 1).cloned();
                if !matches!(step, Some(Effect::Scale { replicas: 3, .. })) {
                    assert_put_back(&effects, &t);
                }
                if matches!(step, Some(Effect::Replay { .. })) {
                    let e = f
                        .error
                        .as_ref()
                        .map(|e| e.message.clone())
                        .unwrap_or_default();
                    if fail_at.is_some() {
                        assert_eq!(f.exit, Exit::VerifyFailed, "{name} step {n}:\n{t}");
                        assert!(
                            e.contains("is loaded, but replaying command 3 of 42 failed"),
                            "{e}"
                        );
                    } else {
                        assert_eq!(f.exit, Exit::Interrupted, "{name} step {n}:\n{t}");
                    }
                    assert_eq!(f.report.replayed, None, "{name} step {n}:\n{t}");
                }
            }
        }
    }
    let (t, f, effects) = run(
        Plan {
            replay: Some(42),
            dry_run: true,
            ..plan()
        },
        World::default(),
    );
    assert_eq!(f.exit, Exit::Ok, "{t}");
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Replay { .. })),
        "{t}"
    );
}

/// One Job per target primary of a backup set: the run that started the
/// Jobs holds the cluster's Lease, so this restore takes none and releases
/// none, and still loads and counts; without it, the same restore takes
/// the cluster's Lease.
#[test]
fn a_restore_locked_outside_takes_no_lease() {
    let p = Plan {
        method: Method::Auto,
        yes: true,
        writers: Vec::new(),
        ..plan()
    };
    let leases = |e: &[Effect]| {
        e.iter()
            .filter(|e| matches!(e, Effect::Lock { .. }))
            .count()
    };
    let (t, f, effects) = run(
        Plan {
            locked_outside: true,
            ..p.clone()
        },
        cluster_world("# Keyspace\r\n"),
    );
    assert_eq!(f.exit, Exit::Ok, "{t}");
    assert_eq!(leases(&effects), 0, "{t}");
    assert!(
        t.contains("is held by the run that started this Job"),
        "{t}"
    );
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Load { .. })),
        "{t}"
    );
    let (t, f, effects) = run(p, cluster_world("# Keyspace\r\n"));
    assert_eq!(f.exit, Exit::Ok, "{t}");
    assert!(leases(&effects) >= 2, "taken and released:\n{t}");
}
