//! Transcripts of the backup state machine, driven in virtual time against a
//! scripted world, checked by insta snapshots. Each scenario is one line of
//! the runbook or of the foundation issue.

use kubectl_redis_core::backup::{
    Backup, CliOutput, CommitError, ConnectError, CopyError, CopyReport, Credentials, Effect,
    Endpoint, Finish, Input, Method, Plan, SyncError, SyncReport, Url,
};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::kube::lock::{Answer, LeaseError, LeaseState, Request};
use kubectl_redis_core::kube::pods::{ContainerInfo, PodInfo, Prefer};
use kubectl_redis_core::wire::repl::{self, Framing};
use kubectl_redis_core::wire::reply::Reply;
use std::collections::VecDeque;
use std::fmt::Write;

fn plan() -> Plan {
    Plan {
        namespace: "october".into(),
        selector: "app=redis".into(),
        pod: None,
        container: None,
        port: None,
        out_dir: "./backups".into(),
        started_unix: 1_761_329_100, // 2025-10-24T18:05:00Z
        timeout_ms: 30_000,
        poll_ms: 500,
        holder: "alice@laptop/4242".into(),
        context: Some("kind-october".into()),
        tool: "kubectl-redis 0.0.0-test".into(),
        lease_s: 15,
        method: Method::Bgsave,
        url: None,
        credentials: Credentials::default(),
        check_only: false,
        diskless: false,
        recipients: Vec::new(),
        from: Prefer::Auto,
        locked_outside: false,
    }
}

/// The stream method against the same pod.
fn stream_plan() -> Plan {
    Plan {
        method: Method::Stream,
        ..plan()
    }
}

/// The default method: stream, else bgsave.
fn auto_plan() -> Plan {
    Plan {
        method: Method::Auto,
        ..plan()
    }
}

/// `--url` with a password from the user's environment.
fn url_plan() -> Plan {
    Plan {
        namespace: String::new(),
        context: None,
        method: Method::Auto,
        url: Some(Url {
            host: "127.0.0.1".into(),
            port: 6390,
        }),
        credentials: Credentials {
            user: None,
            password_from: Some("$REDISCLI_AUTH".into()),
        },
        ..plan()
    }
}

/// What the shell reports after downloading `bytes` over SYNC: the real
/// decoder and reader's verdict on them.
fn sync_of(bytes: &[u8], framing: Framing) -> Result<SyncReport, SyncError> {
    let mut d = repl::Download::new();
    let mut wire = format!("${}\r\n", bytes.len()).into_bytes();
    wire.extend_from_slice(bytes);
    d.feed(&wire).map_err(SyncError::Stream)?;
    let summary = d.finish().map_err(SyncError::Stream)?;
    Ok(SyncReport {
        bytes: bytes.len() as u64,
        framing,
        sha256: format!("sha256-of-{}-bytes", bytes.len()),
        summary,
    })
}

fn info_server(fields: &str) -> Result<Reply, String> {
    Ok(Reply::Bulk(
        format!("# Server\r\n{fields}\r\nos:Linux\r\n").into_bytes(),
    ))
}

fn ok() -> Result<Reply, String> {
    Ok(Reply::Text("OK".into()))
}

fn refused(e: &str) -> Result<Reply, String> {
    Ok(Reply::Error(e.into()))
}

/// `CONFIG GET repl-diskless-sync*` as a server answers it.
fn diskless_config(on: &str, delay: u32, max_replicas: u32) -> Result<Reply, String> {
    let b = |s: &str| Reply::Bulk(s.as_bytes().to_vec());
    Ok(Reply::Array(vec![
        b("repl-diskless-sync"),
        b(on),
        b("repl-diskless-sync-delay"),
        b(&delay.to_string()),
        b("repl-diskless-sync-max-replicas"),
        b(&max_replicas.to_string()),
    ]))
}

const DUMP_7_0: &[u8] = include_bytes!("fixtures/all-types-7.0.rdb");
const DUMP_VALKEY: &[u8] = include_bytes!("fixtures/all-types-valkey-9.1.rdb");

/// What the shell reports after copying `bytes` out of the pod: the size,
/// the header, and the real reader's verdict on those bytes.
fn copy_of(bytes: &[u8], expected: Option<u64>) -> CopyReport {
    let verified = kubectl_redis_core::rdb::reader::read_all(bytes, &mut |_| {});
    CopyReport {
        bytes: bytes.len() as u64,
        expected,
        head: bytes[..bytes.len().min(9)].to_vec(),
        sha256: format!("sha256-of-{}-bytes", bytes.len()),
        verified,
    }
}

fn redis_pod(name: &str) -> PodInfo {
    PodInfo {
        name: name.into(),
        phase: "Running".into(),
        ready: true,
        terminating: false,
        default_container: None,
        containers: vec![ContainerInfo {
            name: "redis".into(),
            ports: vec![(Some("redis".into()), 6379)],
            ..ContainerInfo::default()
        }],
        uid: String::new(),
        restarts: 0,
        owner: "Deployment/redis".into(),
        primary: None,
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

fn info(
    lastsave: i64,
    in_progress: u8,
    status: &str,
    saves: Option<i64>,
) -> Result<CliOutput, String> {
    let mut s = format!(
        "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:{in_progress}\r\nrdb_last_save_time:{lastsave}\r\nrdb_last_bgsave_status:{status}\r\naof_rewrite_in_progress:0\r\n"
    );
    if let Some(n) = saves {
        s.push_str(&format!("rdb_saves:{n}\r\n"));
    }
    out(&s)
}

/// A scripted world: answers each effect from the queues below.
struct World {
    pods: Result<Vec<PodInfo>, String>,
    config_dir: Result<CliOutput, String>,
    /// Answers to `INFO persistence`, in order; the last one repeats.
    infos: VecDeque<Result<CliOutput, String>>,
    bgsave: VecDeque<Result<CliOutput, String>>,
    copy: Result<CopyReport, CopyError>,
    commits: VecDeque<Result<(), CommitError>>,
    lease: Result<Option<LeaseState>, LeaseError>,
    take_lease: Result<(), LeaseError>,
    /// Send Ctrl-C instead of answering the Nth effect (counting from 1).
    interrupt_at: Option<usize>,
    /// The step after which the shell reports the Lease lost.
    lease_lost_at: Option<usize>,
    /// Send Ctrl-C instead of answering the first effect this matches.
    interrupt_on: Option<fn(&Effect) -> bool>,
    /// The stream method's world: the pod's own password, the connection,
    /// the replies to AUTH, INFO server and REPLCONF capa, and the download.
    pod_password: Result<Option<String>, String>,
    connect: Result<(), ConnectError>,
    /// The tools the container lacks (bgsave's probe).
    missing: Result<Vec<String>, String>,
    auth: Result<Reply, String>,
    info_server: Result<Reply, String>,
    /// The answer to `CONFIG GET repl-diskless-sync*`.
    diskless: Result<Reply, String>,
    capa: Result<Reply, String>,
    sync: Result<SyncReport, SyncError>,
    /// The answer to CreateTemp: `None` gives `DIR/PREFIX` + a suffix.
    temp: Option<Result<String, String>>,
    /// Answers to `INFO replication`, in order; the last one repeats.
    replication: VecDeque<String>,
    /// The answer to `INFO replication` on the primary `redis-master-0`
    /// (over the connection, or through redis-cli).
    primary_info: Result<String, String>,
}

impl Default for World {
    fn default() -> Self {
        World {
            pods: Ok(vec![redis_pod("redis-7d4b9c-x2x9q")]),
            config_dir: out("1) \"dir\"\n2) \"/data\""),
            infos: VecDeque::from([
                info(1_729_800_000, 0, "ok", None),
                info(1_729_800_000, 1, "ok", None),
                info(1_729_800_005, 0, "ok", None),
            ]),
            bgsave: VecDeque::from([out("Background saving started")]),
            copy: Ok(copy_of(DUMP_7_0, Some(DUMP_7_0.len() as u64))),
            commits: VecDeque::from([Ok(())]),
            lease: Ok(None),
            take_lease: Ok(()),
            interrupt_at: None,
            lease_lost_at: None,
            interrupt_on: None,
            pod_password: Ok(None),
            connect: Ok(()),
            missing: Ok(Vec::new()),
            auth: ok(),
            info_server: info_server("redis_version:7.0.15"),
            diskless: diskless_config("yes", 0, 0),
            capa: ok(),
            sync: sync_of(DUMP_7_0, Framing::Diskless),
            temp: None,
            replication: VecDeque::from([REPLICA_UP.to_string()]),
            primary_info: Ok(PRIMARY.to_string()),
        }
    }
}

const REPLICA_UP: &str = "# Replication\r\nrole:slave\r\nmaster_host:10.244.0.7\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:2\r\nmaster_sync_in_progress:0\r\nmaster_replid:5b1e1c2f0a0d4e7f9c3b8a6d2e4f1a0b9c8d7e6f\r\nmaster_repl_offset:48213\r\n";
/// The primary of `REPLICA_UP`, at the offset that replica has reached.
const PRIMARY: &str =
    "# Replication\r\nrole:master\r\nconnected_slaves:2\r\nmaster_replid:5b1e1c2f0a0d4e7f9c3b8a6d2e4f1a0b9c8d7e6f\r\nmaster_repl_offset:48213\r\n";
/// Linked and heard from, but 4,000 bytes short of `PRIMARY`'s offset.
const REPLICA_BEHIND: &str = "# Replication\r\nrole:slave\r\nmaster_host:10.244.0.7\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:1\r\nmaster_sync_in_progress:0\r\nmaster_replid:5b1e1c2f0a0d4e7f9c3b8a6d2e4f1a0b9c8d7e6f\r\nmaster_repl_offset:44213\r\n";
/// Linked, heard from and far ahead, but in another replication history
/// (it follows some other primary): its offset says nothing.
const REPLICA_ELSEWHERE: &str = "# Replication\r\nrole:slave\r\nmaster_host:10.244.0.9\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:1\r\nmaster_sync_in_progress:0\r\nmaster_replid:e0a2c4b6d8f0e1a3c5b7d9f1e2a4c6b8d0f2e3a5\r\nmaster_repl_offset:9999999\r\n";
const REPLICA_DOWN: &str = "# Replication\r\nrole:slave\r\nmaster_host:10.244.0.7\r\nmaster_port:6379\r\nmaster_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\nmaster_sync_in_progress:0\r\nmaster_repl_offset:0\r\n";

fn pop<T: Clone>(q: &mut VecDeque<T>) -> T {
    if q.len() > 1 {
        q.pop_front().expect("non-empty")
    } else {
        q.front()
            .cloned()
            .expect("scenario must script this answer")
    }
}

/// Runs the machine to the end and returns (transcript, finish).
fn run(plan: Plan, mut w: World) -> (String, Finish) {
    let mut m = Backup::new(plan);
    let mut now = 0u64;
    let mut t = String::new();
    let mut inputs = VecDeque::from([Input::Start]);
    let mut count = 0usize;
    let mut finish = None;
    // The pod the connection is to (the stream method).
    let mut connected_to = String::new();
    while let Some(input) = inputs.pop_front() {
        writeln!(t, "{now:>6}ms < {}", show_input(&input)).unwrap();
        for e in m.handle(now, input) {
            writeln!(t, "{now:>6}ms > {}", show_effect(&e)).unwrap();
            let answerable = !matches!(e, Effect::Say(_) | Effect::Finish(_) | Effect::Disconnect);
            // Mirrors the shell: these run to completion even on Ctrl-C.
            let is_commit = matches!(
                e,
                Effect::Commit { .. }
                    | Effect::Discard { .. }
                    | Effect::Disconnect
                    | Effect::Lock {
                        request: Request::Release { .. },
                        ..
                    }
            );
            let mut interrupted = false;
            if answerable {
                count += 1;
                let on = w.interrupt_on.is_some_and(|f| f(&e));
                if on {
                    w.interrupt_on = None;
                }
                if w.interrupt_at == Some(count) || on {
                    // The shell drops the work in flight, except a commit,
                    // which it lets finish (a rename cannot be half done).
                    inputs.push_back(Input::Interrupt);
                    interrupted = !is_commit;
                } else if w.lease_lost_at == Some(count) {
                    inputs.push_back(Input::LeaseLost("bob@ci/17 holds it now".into()));
                    interrupted = !is_commit;
                }
            }
            if interrupted {
                continue;
            }
            let next = match e {
                Effect::Say(_) | Effect::Disconnect => None,
                Effect::PodPassword { id, .. } => {
                    Some(Input::PodPassword(id, w.pod_password.clone()))
                }
                Effect::Connect { id, to } => {
                    if let Endpoint::Pod(t) = to {
                        connected_to = t.pod;
                    }
                    Some(Input::Connected(id, w.connect.clone()))
                }
                Effect::Probe { id, .. } => Some(Input::Probed(id, w.missing.clone())),
                Effect::Auth { id, .. } => Some(Input::Reply(id, w.auth.clone())),
                Effect::Send { id, args } => Some(Input::Reply(
                    id,
                    match args.join(" ").as_str() {
                        "INFO server" => w.info_server.clone(),
                        "REPLCONF capa eof" => w.capa.clone(),
                        "CONFIG GET repl-diskless-sync*" => w.diskless.clone(),
                        "REPLCONF rdb-only 1" => ok(),
                        "INFO replication" if connected_to == "redis-master-0" => {
                            w.primary_info.clone().map(|i| Reply::Bulk(i.into_bytes()))
                        }
                        "INFO replication" => Ok(Reply::Bulk(pop(&mut w.replication).into_bytes())),
                        v if v.starts_with("REPLCONF version ") => ok(),
                        other => panic!("unexpected command {other}"),
                    },
                )),
                Effect::Sync { id, .. } => {
                    now += 900;
                    Some(Input::Synced(id, w.sync.clone()))
                }
                Effect::Finish(f) => {
                    assert!(finish.is_none(), "finished twice");
                    finish = Some(f);
                    None
                }
                Effect::ListPods { id, .. } => Some(Input::Pods(id, w.pods.clone())),
                Effect::Redis { id, args, target } => Some(Input::Redis(
                    id,
                    match args.join(" ").as_str() {
                        "INFO replication" if target.pod == "redis-master-0" => {
                            w.primary_info.as_deref().map(out).unwrap_or_else(|e| {
                                Ok(CliOutput {
                                    stdout: String::new(),
                                    stderr: e.to_string(),
                                    exit_code: Some(1),
                                })
                            })
                        }
                        "CONFIG GET dir" => w.config_dir.clone(),
                        "CONFIG GET dbfilename" => out("1) \"dbfilename\"\n2) \"dump.rdb\""),
                        "INFO persistence" => pop(&mut w.infos),
                        "BGSAVE" => pop(&mut w.bgsave),
                        "INFO replication" => out(&pop(&mut w.replication)),
                        other => panic!("unexpected command {other}"),
                    },
                )),
                Effect::Timer { id, after_ms } => {
                    now += after_ms;
                    Some(Input::Timer(id))
                }
                Effect::CreateTemp {
                    id, dir, prefix, ..
                } => Some(Input::TempCreated(
                    id,
                    w.temp
                        .clone()
                        .unwrap_or_else(|| Ok(format!("{dir}/{prefix}a1b2c3"))),
                )),
                Effect::CopyOut { id, .. } => {
                    now += 120;
                    Some(Input::Copied(id, w.copy.clone()))
                }
                Effect::Commit { id, .. } => Some(Input::Committed(id, pop(&mut w.commits))),
                Effect::Discard { id, .. } => Some(Input::Discarded(id)),
                Effect::Lock { id, request } => Some(Input::Lock(
                    id,
                    match request {
                        Request::Get { .. } => Answer::Found(w.lease.clone()),
                        Request::Take { .. } => Answer::Taken(w.take_lease.clone()),
                        Request::Release { .. } => Answer::Released(Ok(())),
                        Request::Note { .. } => Answer::Noted(Ok(())),
                    },
                )),
            };
            inputs.extend(next);
        }
        assert!(now < 10 * 60_000, "runaway transcript");
    }
    let finish = finish.expect("the machine must finish");
    assert!(m.is_finished());
    writeln!(t, "exit {} ({:?})", finish.exit.code(), finish.exit).unwrap();
    if let Some(e) = &finish.error {
        writeln!(t, "error: {}", e.message).unwrap();
        if let Some(h) = &e.hint {
            writeln!(t, "hint: {h}").unwrap();
        }
    }
    if let Some(r) = &finish.report {
        writeln!(t, "report: {}", serde_json::to_string(r).unwrap()).unwrap();
    }
    (t, finish)
}

fn show_input(i: &Input) -> String {
    match i {
        Input::Pods(id, Ok(pods)) => format!(
            "Pods#{id} [{}]",
            pods.iter()
                .map(|p| format!(
                    "{} {}{}{}",
                    p.name,
                    p.phase,
                    if p.ready { " ready" } else { "" },
                    if p.terminating { " terminating" } else { "" }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Input::Redis(id, Ok(o)) if o.stdout.starts_with("# Persistence") => {
            let f = kubectl_redis_core::wire::reply::info_fields(&o.stdout);
            let keep = [
                "rdb_bgsave_in_progress",
                "rdb_last_save_time",
                "rdb_last_bgsave_status",
                "rdb_saves",
            ];
            let shown: Vec<String> = keep
                .iter()
                .filter_map(|k| f.get(*k).map(|v| format!("{k}:{v}")))
                .collect();
            format!("Redis#{id} INFO {}", shown.join(" "))
        }
        Input::Redis(id, Ok(o)) => format!(
            "Redis#{id} exit={:?} stdout={:?}",
            o.exit_code,
            o.stdout.replace("\r\n", "\n")
        ),
        Input::Reply(id, Ok(r)) => format!("Reply#{id} {}", show_reply(r)),
        other => format!("{other:?}"),
    }
}

/// A RESP reply with its strings as text.
fn show_reply(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Reply::Array(a) => format!(
            "[{}]",
            a.iter().map(show_reply).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn show_effect(e: &Effect) -> String {
    match e {
        Effect::Say(line) => format!("say {line}"),
        Effect::Redis { id, target, args } => format!(
            "Redis#{id} {}/{}:{} {}",
            target.pod,
            target.container,
            target.port,
            args.join(" ")
        ),
        Effect::Finish(f) => format!("Finish {:?}", f.exit),
        other => format!("{other:?}"),
    }
}

macro_rules! scenario {
    ($name:ident, $plan:expr, $world:expr, $exit:expr) => {
        #[test]
        fn $name() {
            let (t, f) = run($plan, $world);
            assert_eq!(f.exit, $exit, "{t}");
            insta::assert_snapshot!(t);
        }
    };
}

scenario!(happy_path, plan(), World::default(), Exit::Ok);

scenario!(
    pod_not_found,
    plan(),
    World {
        pods: Ok(vec![]),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    named_pod_not_found,
    Plan {
        pod: Some("redis-0".into()),
        ..plan()
    },
    World {
        pods: Ok(vec![]),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    pods_not_ready,
    plan(),
    World {
        pods: Ok(vec![
            PodInfo {
                ready: false,
                ..redis_pod("redis-b")
            },
            PodInfo {
                phase: "Pending".into(),
                ready: false,
                ..redis_pod("redis-a")
            },
        ]),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    several_pods_refused,
    plan(),
    World {
        pods: Ok(vec![
            redis_pod("redis-1"),
            redis_pod("redis-0"),
            PodInfo {
                terminating: true,
                ..redis_pod("redis-old")
            }
        ]),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    api_error_listing_pods,
    plan(),
    World {
        pods: Err("pods is forbidden: User \"dev\" cannot list resource \"pods\"".into()),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    bgsave_timeout,
    Plan {
        timeout_ms: 2_000,
        ..plan()
    },
    World {
        infos: VecDeque::from([
            info(1_729_800_000, 0, "ok", None),
            info(1_729_800_000, 1, "ok", None),
        ]),
        ..World::default()
    },
    Exit::BgsaveTimeout
);

scenario!(
    bgsave_already_running,
    plan(),
    World {
        infos: VecDeque::from([
            info(1_729_799_990, 1, "ok", Some(3)),
            info(1_729_799_990, 1, "ok", Some(3)),
            info(1_729_800_000, 0, "ok", Some(4)),
            info(1_729_800_000, 1, "ok", Some(4)),
            info(1_729_800_006, 0, "ok", Some(5)),
        ]),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    bgsave_in_progress_error_then_ours,
    plan(),
    World {
        infos: VecDeque::from([
            info(1_729_800_000, 0, "ok", None),
            info(1_729_800_001, 0, "ok", None),
            info(1_729_800_001, 1, "ok", None),
            info(1_729_800_002, 0, "ok", None),
        ]),
        bgsave: VecDeque::from([
            out("(error) ERR Background save already in progress"),
            out("Background saving started"),
        ]),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    lastsave_unchanged_but_save_counted,
    plan(),
    World {
        infos: VecDeque::from([
            info(1_729_800_000, 0, "ok", Some(7)),
            info(1_729_800_000, 0, "ok", Some(8)),
        ]),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    lastsave_unchanged_times_out,
    Plan {
        timeout_ms: 2_000,
        ..plan()
    },
    World {
        infos: VecDeque::from([info(1_729_800_000, 0, "ok", None)]),
        ..World::default()
    },
    Exit::BgsaveTimeout
);

scenario!(
    bgsave_reports_error,
    plan(),
    World {
        infos: VecDeque::from([
            info(1_729_800_000, 0, "ok", None),
            info(1_729_800_000, 1, "ok", None),
            info(1_729_800_000, 0, "err", None),
        ]),
        ..World::default()
    },
    Exit::BgsaveFailed
);

scenario!(
    bgsave_failed_although_counted,
    plan(),
    World {
        infos: VecDeque::from([
            info(1_729_800_000, 0, "ok", Some(7)),
            info(1_729_800_000, 1, "ok", Some(8)),
            info(1_729_800_000, 0, "err", Some(8)),
        ]),
        ..World::default()
    },
    Exit::BgsaveFailed
);

scenario!(
    bgsave_refused,
    plan(),
    World {
        bgsave: VecDeque::from([out(
            "(error) MISCONF Errors writing to the AOF file: No space left on device"
        )]),
        ..World::default()
    },
    Exit::BgsaveFailed
);

scenario!(
    empty_file,
    plan(),
    World {
        copy: Ok(copy_of(b"", Some(0))),
        ..World::default()
    },
    Exit::EmptyBackup
);

scenario!(
    dump_missing_in_pod,
    plan(),
    World {
        copy: Err(CopyError::Missing(
            "cat: /data/dump.rdb: No such file or directory".into()
        )),
        ..World::default()
    },
    Exit::EmptyBackup
);

scenario!(
    bad_magic,
    plan(),
    World {
        copy: Ok(copy_of(b"hello world\n", Some(12))),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    copy_interrupted,
    plan(),
    World {
        copy: Ok(copy_of(&DUMP_7_0[..6000], Some(DUMP_7_0.len() as u64))),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    corrupt_dump_is_not_saved,
    plan(),
    World {
        copy: Ok({
            let mut b = DUMP_7_0.to_vec();
            b[5000] ^= 0x04;
            copy_of(&b, Some(b.len() as u64))
        }),
        ..World::default()
    },
    Exit::Corrupt
);

scenario!(
    copy_stream_broken,
    plan(),
    World {
        copy: Err(CopyError::Failed("connection reset by peer".into())),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    name_taken_uses_next_name,
    plan(),
    World {
        commits: VecDeque::from([Err(CommitError::Exists), Ok(())]),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    valkey_dump,
    plan(),
    World {
        copy: Ok(copy_of(DUMP_VALKEY, None)),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    config_renamed_falls_back,
    plan(),
    World {
        config_dir: out(
            "(error) ERR unknown command 'CONFIG', with args beginning with: 'GET' 'dir' "
        ),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    redis_cli_missing,
    plan(),
    World {
        config_dir: Ok(CliOutput {
            exit_code: Some(127),
            stdout: String::new(),
            stderr: "sh: 1: exec: redis-cli: not found\n".into(),
        }),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    redis_cli_cannot_connect,
    Plan {
        port: Some(7000),
        ..plan()
    },
    World {
        config_dir: Ok(CliOutput {
            exit_code: Some(1),
            stdout: String::new(),
            stderr: "Could not connect to Redis at 127.0.0.1:7000: Connection refused\n".into(),
        }),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    needs_password,
    plan(),
    World {
        config_dir: out("(error) NOAUTH Authentication required."),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    interrupted_while_waiting,
    plan(),
    World {
        infos: VecDeque::from([
            info(1_729_800_000, 0, "ok", None),
            info(1_729_800_000, 1, "ok", None),
        ]),
        interrupt_on: Some(|e| matches!(e, Effect::Timer { .. })),
        ..World::default()
    },
    Exit::Interrupted
);

scenario!(
    interrupted_during_copy_removes_temp,
    plan(),
    World {
        interrupt_on: Some(|e| matches!(e, Effect::CopyOut { .. })),
        ..World::default()
    },
    Exit::Interrupted
);

scenario!(
    another_backup_holds_the_lock,
    plan(),
    World {
        lease: Ok(Some(LeaseState {
            holder: "bob@ci/17".into(),
            renewed_unix: 1_761_329_095,
            duration_s: 15,
            resource_version: "9".into(),
            unchanged_ms: None,
        })),
        ..World::default()
    },
    Exit::Locked
);

scenario!(
    no_rbac_for_leases_backs_up_anyway,
    plan(),
    World {
        lease: Err(LeaseError::Forbidden(
            "leases.coordination.k8s.io \"kubectl-redis-redis\" is forbidden".into()
        )),
        ..World::default()
    },
    Exit::Ok
);

/// Whatever step a Ctrl-C lands on, the machine finishes with exit 130 and,
/// if it had created the temporary file, asks for it to be removed first.
#[test]
fn interrupt_at_every_step_leaves_no_file() {
    for n in 1..=16 {
        let (t, f) = run(
            plan(),
            World {
                interrupt_at: Some(n),
                ..World::default()
            },
        );
        if f.exit == Exit::Ok {
            // The interrupt came during or after the final rename: the file
            // is whole and the backup is reported as done.
            assert!(t.contains("Commit {") && n >= 14, "step {n}:\n{t}");
            assert!(t.contains("Release {"), "step {n}:\n{t}");
            continue;
        }
        assert_eq!(f.exit, Exit::Interrupted, "{t}");
        let created = t.contains("CreateTemp") && t.contains("TempCreated");
        assert_eq!(created, t.contains("Discard {"), "step {n}:\n{t}");
        assert_eq!(
            t.contains("request: Take {"),
            t.contains("request: Release {"),
            "step {n}:\n{t}"
        );
        assert!(!t.contains("Commit {"), "step {n}:\n{t}");
    }
    // The property above is about something: the run takes the lock.
    let (t, _) = run(plan(), World::default());
    assert!(
        t.contains("request: Take {") && t.contains("request: Release {"),
        "{t}"
    );
}

/// Answers to questions that were not asked are ignored, never acted on.
#[test]
fn stray_inputs_are_ignored() {
    let mut m = Backup::new(plan());
    let fx = m.handle(0, Input::Start);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::ListPods { id: 1, .. })));
    let fx = m.handle(1, Input::Timer(99));
    assert!(fx.iter().all(|e| matches!(e, Effect::Say(_))));
    let fx = m.handle(2, Input::Pods(1, Ok(vec![redis_pod("r")])));
    assert!(fx.iter().any(|e| matches!(e, Effect::Lock { id: 2, .. })));
    assert!(!m.is_finished());
}

// The stream method: SYNC over a connection (port-forward or --url).

/// A corrupt snapshot as the reader reports it (one byte flipped).
fn corrupt_sync() -> Result<SyncReport, SyncError> {
    let mut b = DUMP_7_0.to_vec();
    let at = b.len() / 2;
    b[at] ^= 0x40;
    sync_of(&b, Framing::Diskless)
}

scenario!(
    stream_happy_path_with_the_pods_password,
    stream_plan(),
    World {
        pod_password: Ok(Some("the container's REDIS_PASSWORD".into())),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    stream_from_url_without_a_cluster,
    url_plan(),
    World {
        sync: sync_of(DUMP_7_0, Framing::Disk(DUMP_7_0.len() as u64)),
        ..World::default()
    },
    Exit::Ok
);

// To object storage, encrypted: the name ends in .rdb.age, the upload goes
// straight to it, and the manifest names the recipients.
scenario!(
    stream_to_object_storage_encrypted,
    Plan {
        out_dir: "s3://backups/prod".into(),
        recipients: vec!["age1f0qnsy230c84fr7q8fgnhuv0z2s84kwfhcqazdram4mggekq5cwsnwtp8a".into()],
        ..url_plan()
    },
    World {
        temp: Some(Ok(
            "s3://backups/prod/redis-backup-20251024_180500.rdb.age".into()
        )),
        ..World::default()
    },
    Exit::Ok
);

// The store refuses the upload (the name exists, the bucket is gone): exit
// 12, before the snapshot is asked for.
scenario!(
    object_storage_refusing_the_upload_is_exit_12,
    Plan {
        out_dir: "s3://backups/prod".into(),
        ..url_plan()
    },
    World {
        temp: Some(Err(
            "s3://backups/prod/redis-backup-20251024_180500.rdb already exists; nothing is overwritten".into()
        )),
        ..World::default()
    },
    Exit::Storage
);

scenario!(
    stream_valkey_hears_our_version,
    stream_plan(),
    World {
        info_server: info_server(
            "redis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2"
        ),
        sync: sync_of(DUMP_VALKEY, Framing::Diskless),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    stream_sync_refused_is_exit_9,
    stream_plan(),
    World {
        sync: Err(SyncError::Stream(repl::Error::Refused(
            "ERR unknown command 'SYNC', with args beginning with: ".into()
        ))),
        ..World::default()
    },
    Exit::SyncRefused
);

scenario!(
    auto_falls_back_to_bgsave_when_sync_is_refused,
    auto_plan(),
    World {
        sync: Err(SyncError::Stream(repl::Error::Refused(
            "ERR unknown command 'SYNC', with args beginning with: ".into()
        ))),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    auto_falls_back_when_port_forward_is_forbidden,
    auto_plan(),
    World {
        connect: Err(ConnectError::Forbidden(
            "pods \"redis-7d4b9c-x2x9q\" is forbidden: User \"ci\" cannot get resource \"pods/portforward\"".into()
        )),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    auto_falls_back_when_replication_is_blocked,
    auto_plan(),
    World {
        capa: refused("NOPERM this user has no permissions to run the 'replconf' command"),
        ..World::default()
    },
    Exit::Ok
);

scenario!(
    stream_noauth_names_the_password_sources,
    stream_plan(),
    World {
        info_server: refused("NOAUTH Authentication required."),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    stream_wrong_password,
    url_plan(),
    World {
        auth: refused("WRONGPASS invalid username-password pair or user is disabled."),
        ..World::default()
    },
    Exit::Invalid
);

scenario!(
    stream_url_unreachable,
    url_plan(),
    World {
        connect: Err(ConnectError::Failed(
            "Connection refused (os error 111)".into()
        )),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    stream_connection_cut_saves_nothing,
    stream_plan(),
    World {
        sync: Err(SyncError::Io(
            "reading the snapshot: connection reset by peer (os error 104)".into()
        )),
        ..World::default()
    },
    Exit::Error
);

scenario!(
    stream_corrupt_snapshot_is_not_saved,
    stream_plan(),
    World {
        sync: corrupt_sync(),
        ..World::default()
    },
    Exit::Corrupt
);

scenario!(
    stream_server_too_slow_to_start,
    stream_plan(),
    World {
        sync: Err(SyncError::Timeout),
        ..World::default()
    },
    Exit::BgsaveTimeout
);

scenario!(
    stream_interrupted_during_the_download,
    stream_plan(),
    World {
        interrupt_on: Some(|e| matches!(e, Effect::Sync { .. })),
        ..World::default()
    },
    Exit::Interrupted
);

scenario!(
    stream_check_only_saves_nothing,
    Plan {
        check_only: true,
        credentials: Credentials::default(),
        ..url_plan()
    },
    World::default(),
    Exit::Ok
);

#[test]
fn corrupt_fixture_really_is_corrupt() {
    assert!(matches!(
        corrupt_sync(),
        Err(SyncError::Stream(repl::Error::Rdb(_)))
    ));
}

/// Whatever step a Ctrl-C lands on in a stream (or auto) backup: exit 130,
/// or a whole backup if it came during the rename; the temporary file is
/// removed if it was created, the lock released if it was taken, and the
/// connection closed if it was opened.
#[test]
fn stream_interrupt_at_every_step_cleans_up() {
    for plan in [stream_plan(), auto_plan(), url_plan()] {
        let steps = {
            let (t, _) = run(plan.clone(), World::default());
            t.lines().filter(|l| l.contains(" < ")).count()
        };
        assert!(steps > 8, "{steps}");
        for n in 1..=steps {
            let (t, f) = run(
                plan.clone(),
                World {
                    interrupt_at: Some(n),
                    ..World::default()
                },
            );
            let has = |s: &str| t.contains(s);
            if f.exit == Exit::Ok {
                assert!(has("Commit {"), "step {n}:\n{t}");
            } else {
                assert_eq!(f.exit, Exit::Interrupted, "step {n}:\n{t}");
                assert!(!has("Commit {"), "step {n}:\n{t}");
            }
            assert_eq!(
                has("TempCreated("),
                has("Discard {") || f.exit == Exit::Ok,
                "step {n}:\n{t}"
            );
            assert_eq!(
                has("request: Take {"),
                has("request: Release {"),
                "step {n}:\n{t}"
            );
            assert_eq!(has("Connected("), has("> Disconnect"), "step {n}:\n{t}");
            assert!(!has("ignored unexpected input"), "step {n}:\n{t}");
        }
    }
}

/// The Lease lost at any step of a stream backup on Kubernetes: exit 6
/// naming the loss and nothing saved (or a whole backup when the loss came
/// during the rename); the temporary file removed, the connection closed.
#[test]
fn stream_lease_lost_at_every_step_saves_nothing() {
    let plan = stream_plan();
    let steps = {
        let (t, _) = run(plan.clone(), World::default());
        t.lines().filter(|l| l.contains(" < ")).count()
    };
    let mut stopped = 0;
    for n in 1..=steps {
        let (t, f) = run(
            plan.clone(),
            World {
                lease_lost_at: Some(n),
                ..World::default()
            },
        );
        let has = |s: &str| t.contains(s);
        if f.exit == Exit::Ok {
            assert!(has("Commit {"), "step {n}:\n{t}");
            continue;
        }
        stopped += 1;
        assert_eq!(f.exit, Exit::Locked, "step {n}:\n{t}");
        assert!(!has("Commit {"), "step {n}:\n{t}");
        let e = f
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        assert!(
            e.contains("was lost (bob@ci/17 holds it now)"),
            "step {n}: {e}"
        );
        assert_eq!(has("TempCreated("), has("Discard {"), "step {n}:\n{t}");
        assert_eq!(has("Connected("), has("> Disconnect"), "step {n}:\n{t}");
    }
    assert!(stopped > steps / 2, "{stopped} of {steps}");
}

/// The password never reaches the machine: no effect or line carries it,
/// only where it came from.
#[test]
fn stream_transcripts_name_the_password_source_only() {
    let (t, _) = run(url_plan(), World::default());
    assert!(
        t.contains("AUTH with the password from $REDISCLI_AUTH"),
        "{t}"
    );
    assert!(t.contains("Auth { id:"), "{t}");
}

scenario!(
    stream_does_not_wait_out_the_diskless_delay,
    stream_plan(),
    World {
        diskless: diskless_config("yes", 5, 0),
        sync: sync_of(DUMP_7_0, Framing::Disk(DUMP_7_0.len() as u64)),
        ..World::default()
    },
    Exit::Ok
);

/// When to ask for a diskless snapshot (`REPLCONF capa eof`): whenever the
/// server would send one at once, when the user asks (`--diskless`), or
/// when its settings cannot be read; never when it would wait.
#[test]
fn capa_eof_only_when_the_server_would_not_wait() {
    let cases = [
        (diskless_config("yes", 5, 0), false, false),
        (diskless_config("yes", 5, 0), true, true),
        (diskless_config("yes", 0, 0), false, true),
        (diskless_config("yes", 5, 1), false, true),
        (diskless_config("no", 5, 0), false, true),
        (refused("ERR unknown command 'CONFIG'"), false, true),
    ];
    for (config, flag, capa) in cases {
        let (t, f) = run(
            Plan {
                diskless: flag,
                ..stream_plan()
            },
            World {
                diskless: config.clone(),
                ..World::default()
            },
        );
        assert_eq!(f.exit, Exit::Ok, "{t}");
        assert_eq!(
            t.contains("\"capa\", \"eof\""),
            capa,
            "{config:?} --diskless={flag}:\n{t}"
        );
        assert_eq!(t.contains("written to its disk"), !capa, "{t}");
    }
}

/// The interrupt scenarios interrupt what their names say.
#[test]
fn interrupt_scenarios_land_where_named() {
    let (t, _) = run(
        plan(),
        World {
            interrupt_on: Some(|e| matches!(e, Effect::CopyOut { .. })),
            ..World::default()
        },
    );
    let lines: Vec<&str> = t.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains("< Interrupt"))
        .expect("interrupted");
    assert!(lines[i - 1].contains("> CopyOut {"), "{t}");
    assert!(
        t.contains("> Discard {"),
        "the temporary file is removed:\n{t}"
    );
    let (t, _) = run(
        plan(),
        World {
            infos: VecDeque::from([
                info(1_729_800_000, 0, "ok", None),
                info(1_729_800_000, 1, "ok", None),
            ]),
            interrupt_on: Some(|e| matches!(e, Effect::Timer { .. })),
            ..World::default()
        },
    );
    assert!(t.contains("BGSAVE\n") || t.contains(" BGSAVE"), "{t}");
    let lines: Vec<&str> = t.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains("< Interrupt"))
        .expect("interrupted");
    assert!(lines[i - 1].contains("> Timer {"), "{t}");
}

scenario!(
    bgsave_image_without_cat_is_refused_first,
    plan(),
    World {
        missing: Ok(vec!["cat".into()]),
        ..World::default()
    },
    Exit::Error
);

/// A Bitnami-shaped primary with two replicas, labelled by role.
fn primary_and_replicas() -> Vec<PodInfo> {
    let role = |name: &str, primary: bool| PodInfo {
        owner: if primary {
            "StatefulSet/redis-master".into()
        } else {
            "StatefulSet/redis-replicas".into()
        },
        primary: Some(primary),
        ..redis_pod(name)
    };
    vec![
        role("redis-replicas-1", false),
        role("redis-master-0", true),
        role("redis-replicas-0", false),
    ]
}

fn replicas_world(replication: &[&str]) -> World {
    World {
        pods: Ok(primary_and_replicas()),
        replication: replication.iter().map(|s| s.to_string()).collect(),
        ..World::default()
    }
}

scenario!(
    a_healthy_replica_is_read_and_the_primary_locked,
    stream_plan(),
    replicas_world(&[REPLICA_UP]),
    Exit::Ok
);

scenario!(
    unfit_replicas_fall_back_to_the_primary,
    stream_plan(),
    replicas_world(&[REPLICA_DOWN, "role:master\r\nconnected_slaves:0\r\n"]),
    Exit::Ok
);

scenario!(
    from_replica_fails_when_none_is_fit,
    Plan {
        from: Prefer::Replica,
        ..stream_plan()
    },
    replicas_world(&[REPLICA_DOWN]),
    Exit::Unhealthy
);

scenario!(
    from_replica_needs_a_labelled_replica,
    Plan {
        from: Prefer::Replica,
        ..stream_plan()
    },
    World::default(),
    Exit::Invalid
);

scenario!(
    from_primary_passes_replicas_by,
    Plan {
        from: Prefer::Primary,
        ..stream_plan()
    },
    replicas_world(&[REPLICA_UP]),
    Exit::Ok
);

scenario!(
    bgsave_checks_the_replica_with_redis_cli,
    plan(),
    replicas_world(&[REPLICA_DOWN, REPLICA_UP]),
    Exit::Ok
);

scenario!(
    a_lagging_replica_is_read_once_caught_up,
    stream_plan(),
    replicas_world(&[REPLICA_BEHIND, REPLICA_BEHIND, REPLICA_BEHIND, REPLICA_UP]),
    Exit::Ok
);

scenario!(
    replicas_that_stay_behind_are_not_read,
    Plan {
        from: Prefer::Replica,
        ..stream_plan()
    },
    replicas_world(&[REPLICA_BEHIND]),
    Exit::Unhealthy
);

scenario!(
    a_replica_of_another_history_is_not_read,
    stream_plan(),
    replicas_world(&[REPLICA_ELSEWHERE, REPLICA_UP]),
    Exit::Ok
);

scenario!(
    bgsave_reads_the_primary_offset_with_redis_cli,
    plan(),
    replicas_world(&[REPLICA_BEHIND, REPLICA_UP]),
    Exit::Ok
);

scenario!(
    without_the_primary_offset_the_primary_is_read,
    stream_plan(),
    World {
        primary_info: Err("connection reset by peer".into()),
        ..replicas_world(&[REPLICA_UP])
    },
    Exit::Ok
);

scenario!(
    bgsave_without_the_primary_offset_from_replica_fails,
    Plan {
        from: Prefer::Replica,
        ..plan()
    },
    World {
        primary_info: Err(
            "Could not connect to Redis at 127.0.0.1:6379: Connection refused".into()
        ),
        ..replicas_world(&[REPLICA_UP])
    },
    Exit::Unhealthy
);

scenario!(
    bgsave_names_an_info_refused_by_the_replica,
    Plan {
        from: Prefer::Replica,
        ..plan()
    },
    replicas_world(&["NOAUTH Authentication required."]),
    Exit::Unhealthy
);

/// Interrupts the replica path of `world` at every step in turn: each run
/// ends well or interrupted, every connection opened is closed, the Lease
/// taken is released, and no input goes unanswered.
fn interrupted_at_every_step_cleans_up(world: impl Fn() -> World) {
    let steps = {
        let (t, _) = run(stream_plan(), world());
        t.lines().filter(|l| l.contains(" < ")).count()
    };
    for n in 1..=steps {
        let (t, f) = run(
            stream_plan(),
            World {
                interrupt_at: Some(n),
                ..world()
            },
        );
        let count = |s: &str| t.matches(s).count();
        assert!(
            f.exit == Exit::Ok || f.exit == Exit::Interrupted,
            "step {n}:\n{t}"
        );
        assert_eq!(count("Connected("), count("> Disconnect"), "step {n}:\n{t}");
        assert_eq!(
            count("request: Take {"),
            count("request: Release {"),
            "step {n}:\n{t}"
        );
        assert!(!t.contains("ignored unexpected input"), "step {n}:\n{t}");
    }
}

#[test]
fn a_lagging_replica_interrupted_at_every_step_cleans_up() {
    interrupted_at_every_step_cleans_up(|| replicas_world(&[REPLICA_BEHIND, REPLICA_UP]));
}

#[test]
fn replica_fallback_interrupted_at_every_step_cleans_up() {
    interrupted_at_every_step_cleans_up(|| replicas_world(&[REPLICA_DOWN, REPLICA_UP]));
}
