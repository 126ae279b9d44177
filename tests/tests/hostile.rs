//! What a hostile or broken server can make the plugin do: each test puts
//! a fake Redis (`kubectl_redis_e2e::fake`) where a real one would be and
//! checks that the plugin stops with a clear error and sends nothing it
//! should not. No Docker, no cluster: these run anywhere.

mod common;

use common::bin;
use kubectl_redis_e2e::fake::{bulk, error, simple, Act, Fake};
use std::path::{Path, PathBuf};
use std::process::Command;

const PW: &str = "Hostile-Pa55-word";

/// Runs the plugin with `$REDISCLI_AUTH` set: (exit code, stdout, stderr).
fn plugin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .env("REDISCLI_AUTH", PW)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run the plugin");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// An RDB file (version 9) holding `keys` as strings in database 0,
/// written to `dir`.
fn rdb_file(dir: &Path, keys: &[(&str, &str)]) -> PathBuf {
    let mut b = b"REDIS0009".to_vec();
    b.extend_from_slice(&[0xFE, 0x00]);
    for (k, v) in keys {
        b.push(0x00);
        for s in [k, v] {
            assert!(s.len() < 64);
            b.push(s.len() as u8);
            b.extend_from_slice(s.as_bytes());
        }
    }
    b.push(0xFF);
    let crc = kubectl_redis_core::rdb::crc64::checksum(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    let p = dir.join("fake.rdb");
    std::fs::write(&p, b).expect("write the rdb");
    p
}

fn files_in(d: &Path) -> Vec<String> {
    std::fs::read_dir(d)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn upper(a: &[String], i: usize) -> String {
    a.get(i).map(|s| s.to_ascii_uppercase()).unwrap_or_default()
}

/// A Redis Cluster node on 127.0.0.1 whose slot map puts every slot on
/// `elsewhere` (an address the user never named).
fn cluster_entry(elsewhere: std::net::SocketAddr) -> Fake {
    Fake::start("127.0.0.1:0", move |a| {
        match upper(a, 0).as_str() {
        "AUTH" => simple("OK"),
        "PING" => simple("PONG"),
        "INFO" => bulk(
            b"# Server\r\nredis_version:7.0.15\r\nrun_id:0123456789012345678901234567890123456789\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n# Cluster\r\ncluster_enabled:1\r\n# Keyspace\r\n",
        ),
        "DBSIZE" => Act::Reply(b":0\r\n".to_vec()),
        "CLUSTER" if upper(a, 1) == "SLOTS" => {
            let ip = elsewhere.ip().to_string();
            Act::Reply(
                format!(
                    "*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n${}\r\n{ip}\r\n:{}\r\n$40\r\n{}\r\n",
                    ip.len(),
                    elsewhere.port(),
                    "a".repeat(40)
                )
                .into_bytes(),
            )
        }
        "CLUSTER" => error("ERR unknown subcommand"),
        _ => error("ERR unknown command"),
    }
    })
}

/// Finding 1: with `--url` to one node of a cluster that announces its
/// nodes at another address, neither the backup nor the live restore
/// connects there (no password, no data); both stop naming the address and
/// `--allow-host`. Allowed with `--allow-host`, the password does go there:
/// the refusal is what kept it.
#[test]
fn a_cluster_naming_another_host_gets_no_password() {
    // 127.0.0.2 is loopback on Linux too: whatever listens there stands for
    // the stranger a cluster's announced address reaches.
    let stranger = Fake::start("127.0.0.2:0", |a| match upper(a, 0).as_str() {
        "AUTH" | "FLUSHALL" => simple("OK"),
        _ => error("ERR no"),
    });
    let entry = cluster_entry(stranger.addr);
    let url = entry.url();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let od = out.to_string_lossy().into_owned();
    let addr = stranger.addr.to_string();

    let (code, stdout, stderr) = plugin(&["backup", "--url", &url, "--out-dir", &od, "-o", "json"]);
    assert_eq!(code, 2, "backup: {stdout}\n{stderr}");
    let doc = kubectl_redis_e2e::schema_checked("backup", &stdout);
    let msg = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains(&addr) && msg.contains("--allow-host"), "{doc}");
    assert!(!stdout.contains(PW) && !stderr.contains(PW));
    assert_eq!(stranger.connections(), 0, "the backup dialed {addr}");
    assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));

    let rdb = rdb_file(tmp.path(), &[("a", "1"), ("b", "2")]);
    let f = rdb.to_string_lossy().into_owned();
    let (code, stdout, stderr) = plugin(&[
        "restore", "--method", "live", "--file", &f, "--url", &url, "--yes", "-o", "json",
    ]);
    assert_ne!(code, 0, "restore: {stdout}\n{stderr}");
    assert!(
        stdout.contains(&addr) && stdout.contains("--allow-host"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(stranger.connections(), 0, "the restore dialed {addr}");
    assert!(!entry.saw("FLUSHALL"), "the entry node was flushed");

    // Allowed: the same run does reach the stranger, with the password.
    let (_, stdout, stderr) = plugin(&[
        "backup",
        "--url",
        &url,
        "--allow-host",
        &stranger.addr.ip().to_string(),
        "--out-dir",
        &od,
        "-o",
        "json",
    ]);
    assert!(
        stranger.connections() > 0,
        "--allow-host did not let the backup through: {stdout}\n{stderr}"
    );
    assert!(
        stranger
            .seen()
            .iter()
            .any(|c| upper(c, 0) == "AUTH" && c.last().map(String::as_str) == Some(PW)),
        "{:?}",
        stranger.seen()
    );
}

/// Runs the plugin with `env` added, killing it if it has not ended after
/// `secs` (then the test fails: the plugin hung).
fn plugin_within(secs: u64, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut c = Command::new(bin());
    c.args(args)
        .env("NO_COLOR", "1")
        .env("REDISCLI_AUTH", PW)
        .env_remove("KUBECONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("run the plugin");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "the plugin still ran after {secs} s: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("output");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `backup --url` of `fake` into a new directory, with the stall timeout
/// `stall` (seconds), ended after 60 s at most: the directory, the exit
/// code, stdout and stderr.
fn backup_of_fake(fake: &Fake, stall: &str) -> (tempfile::TempDir, i32, String, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let od = tmp.path().to_string_lossy().into_owned();
    let (code, stdout, stderr) = plugin_within(
        60,
        &[("KUBECTL_REDIS_STALL_TIMEOUT", stall)],
        &[
            "backup",
            "--url",
            &fake.url(),
            "--out-dir",
            &od,
            "-o",
            "json",
        ],
    );
    (tmp, code, stdout, stderr)
}

/// A standalone 7.0 server as far as `INFO` says; `sync` answers SYNC.
fn standalone(sync: impl Fn() -> Act + Send + Sync + 'static) -> Fake {
    Fake::start("127.0.0.1:0", move |a| {
        match upper(a, 0).as_str() {
        "AUTH" | "REPLCONF" => simple("OK"),
        "PING" => simple("PONG"),
        "INFO" => bulk(
            b"# Server\r\nredis_version:7.0.15\r\nrun_id:0123456789012345678901234567890123456789\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n# Cluster\r\ncluster_enabled:0\r\n# Persistence\r\nrdb_bgsave_in_progress:0\r\n",
        ),
        "CONFIG" => Act::Reply(b"*0\r\n".to_vec()),
        "SYNC" | "PSYNC" => sync(),
        _ => error("ERR unknown command"),
    }
    })
}

/// Finding 5: a snapshot that stops arriving once its size is known ends
/// the backup with a stall error (before, the read waited forever, holding
/// the Lease), and nothing is saved.
#[test]
fn a_snapshot_that_stalls_ends_the_backup() {
    let fake =
        standalone(|| Act::ReplyThenStall(b"$100000\r\nREDIS0009\xfa\x09redis-ver".to_vec()));
    let (tmp, code, stdout, stderr) = backup_of_fake(&fake, "2");
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("the transfer stalled") && stdout.contains("KUBECTL_REDIS_STALL_TIMEOUT"),
        "{stdout}\n{stderr}"
    );
    assert!(fake.saw("SYNC") || fake.saw("PSYNC"), "{:?}", fake.seen());
    assert!(
        files_in(tmp.path()).is_empty(),
        "{:?}",
        files_in(tmp.path())
    );
}

/// Finding 5: a server that accepts the connection and never answers is
/// named as stalled, not waited on forever.
#[test]
fn a_server_that_never_answers_is_named() {
    let fake = Fake::start("127.0.0.1:0", |_| Act::ReplyThenStall(Vec::new()));
    let (tmp, code, stdout, stderr) = backup_of_fake(&fake, "2");
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("stalled"), "{stdout}\n{stderr}");
    assert!(files_in(tmp.path()).is_empty());
}

/// Finding 6: a restore of an encrypted backup decrypts it into a private
/// directory. SIGTERM while the restore waits on its server ends it with
/// that directory removed (before, SIGTERM was never handled and killed the
/// process, leaving the plaintext); a directory a killed run left behind
/// (its process gone) is removed by the next run.
#[test]
fn a_signal_leaves_no_plaintext_behind() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tmpdir = tmp.path().join("t");
    std::fs::create_dir_all(&tmpdir).expect("mkdir");
    let stale = tmpdir.join("kubectl-redis-999999-left");
    std::fs::create_dir_all(&stale).expect("mkdir");
    std::fs::write(stale.join(".restore-x"), b"plaintext").expect("write");
    let plain = rdb_file(tmp.path(), &[("secret", "value")]);
    let key = tmp.path().join("key.txt");
    assert!(Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("age-keygen")
        .success());
    let public = Command::new("age-keygen")
        .arg("-y")
        .arg(&key)
        .output()
        .expect("age-keygen -y");
    let public = String::from_utf8_lossy(&public.stdout).trim().to_string();
    let enc = tmp.path().join("fake.rdb.age");
    assert!(Command::new("age")
        .args(["-r", &public, "-o"])
        .arg(&enc)
        .arg(&plain)
        .status()
        .expect("age")
        .success());
    // A server that never answers: the restore waits there, its plaintext
    // copy made.
    let fake = Fake::start("127.0.0.1:0", |_| Act::ReplyThenStall(Vec::new()));
    let mut child = Command::new(bin())
        .args([
            "restore",
            "--method",
            "live",
            "--yes",
            "--url",
            &fake.url(),
            "-i",
        ])
        .arg(&key)
        .arg("--file")
        .arg(&enc)
        .env("NO_COLOR", "1")
        .env("TMPDIR", &tmpdir)
        .env("KUBECTL_REDIS_STALL_TIMEOUT", "300")
        .env_remove("REDISCLI_AUTH")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the plugin");
    let mine = format!("kubectl-redis-{}-", child.id());
    let copies = || {
        files_in(&tmpdir)
            .into_iter()
            .filter(|n| n.starts_with("kubectl-redis-"))
            .collect::<Vec<_>>()
    };
    common::wait_until(30, "the plaintext copy and the connection", || {
        copies().iter().any(|n| n.starts_with(&mine)) && fake.connections() > 0
    });
    assert!(!stale.exists(), "the killed run's copy is still there");
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGTERM did not end the restore"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(copies(), Vec::<String>::new(), "{stderr}");
}

/// Finding 9: `copy` used to decide on encryption by the file's name, so a
/// plaintext backup named `.rdb.age` went to the destination in plaintext
/// under a name that says encrypted. The bytes must now match the name:
/// refused, nothing written; the same file named `.rdb` is encrypted on the
/// way as any plaintext backup.
#[test]
fn copy_refuses_plaintext_named_as_encrypted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    std::fs::create_dir_all(&src).expect("mkdir");
    let plain = rdb_file(tmp.path(), &[("secret", "value")]);
    let lying = src.join("redis-backup-20261204_120000.rdb.age");
    std::fs::copy(&plain, &lying).expect("copy");
    let (code, stdout, stderr) = plugin(&[
        "copy",
        &src.to_string_lossy(),
        &dst.to_string_lossy(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("is plaintext but named as age-encrypted"),
        "{stdout}"
    );
    let written: Vec<String> = files_in(&dst);
    assert!(
        written.iter().all(|n| !n.contains("redis-backup")),
        "{written:?}"
    );
    // Asked to encrypt, it is read as the plaintext it is and encrypted.
    let (code, stdout, stderr) = plugin(&[
        "copy",
        &src.to_string_lossy(),
        &dst.to_string_lossy(),
        "--encrypt-to",
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let stored = std::fs::read(dst.join("redis-backup-20261204_120000.rdb.age")).expect("read");
    assert!(
        stored.starts_with(b"age-encryption.org/v1"),
        "stored in plaintext"
    );
}

/// Finding 9: replies that never end. A status line without its end and a
/// bulk string declared past Redis' own limit end the run with an error
/// naming them; before, the plugin buffered whatever came, without bound.
#[test]
fn endless_replies_are_cut_off() {
    for (what, head) in [("a line", &b"+"[..]), ("a bulk", &b"$99999999999\r\n"[..])] {
        let fake = Fake::start("127.0.0.1:0", move |a| match upper(a, 0).as_str() {
            "AUTH" => simple("OK"),
            _ => Act::Endless {
                head: head.to_vec(),
                chunk: vec![b'a'; 64 << 10],
            },
        });
        let (tmp, code, stdout, stderr) = backup_of_fake(&fake, "30");
        assert_ne!(code, 0, "{what}: {stdout}\n{stderr}");
        assert!(
            stdout.contains("unexpected reply"),
            "{what}: {stdout}\n{stderr}"
        );
        assert!(files_in(tmp.path()).is_empty(), "{what}");
    }
}

/// A standalone fake whose SYNC answers with `rdb` whole.
fn serving(rdb: Vec<u8>) -> Fake {
    standalone(move || {
        let mut b = format!("${}\r\n", rdb.len()).into_bytes();
        b.extend_from_slice(&rdb);
        Act::Reply(b)
    })
}

/// Finding 8: nothing in a repository was authenticated. A backup signed
/// with `--sign-with` is picked by `restore --latest --trust`; a newer one
/// planted unsigned, and a signed one whose manifest was changed, are
/// passed over, named (exit 13 when none is left). The repository's
/// recipients can be pinned (`schedule` does): changed ones are refused,
/// and this machine warns when they change under it.
#[test]
fn signatures_and_pinned_recipients() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("cfg");
    let env: &[(&str, &str)] = &[("XDG_CONFIG_HOME", cfg.to_str().expect("utf8"))];
    let plain = std::fs::read(rdb_file(tmp.path(), &[("k", "v")])).expect("rdb");
    let fake = serving(plain);
    let repo = tmp.path().join("repo");
    let r = repo.to_string_lossy().into_owned();
    let key = tmp.path().join("signing.key");
    let (code, public, stderr) = plugin_within(
        30,
        env,
        &["repo", "keygen", "--out", key.to_str().expect("utf8")],
    );
    assert_eq!(code, 0, "{stderr}");
    let public = public.trim().to_string();
    assert!(public.starts_with("kr-ed25519:"), "{public}");
    let backup = |extra: &[&str]| {
        let mut a = vec![
            "backup",
            "--url",
            &fake.addr_url,
            "--out-dir",
            &r,
            "-o",
            "json",
        ];
        a.extend_from_slice(extra);
        plugin_within(60, env, &a)
    };
    let (code, out, err) = backup(&["--sign-with", key.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{out}\n{err}");
    let signed = kubectl_redis_e2e::schema_checked("backup", &out)["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(Path::new(&format!("{signed}.json.sig")).exists());
    // A newer backup, planted without a signature.
    let (code, out, err) = backup(&[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let planted = kubectl_redis_e2e::schema_checked("backup", &out)["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = |p: &str| {
        Path::new(p)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let latest = |extra: &[&str]| {
        let mut a = vec![
            "restore",
            "--latest",
            "--out-dir",
            &r,
            "--url",
            &fake.addr_url,
            "--method",
            "live",
            "--dry-run",
        ];
        a.extend_from_slice(extra);
        plugin_within(60, env, &a)
    };
    let (_, _, err) = latest(&[]);
    assert!(
        err.contains(&format!("newest verified backup: {planted}")),
        "{err}"
    );
    let (_, _, err) = latest(&["--trust", &public]);
    assert!(
        err.contains(&format!(
            "skipping {}: not signed by a trusted key (it is unsigned)",
            name(&planted)
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("newest verified backup: {signed}")),
        "{err}"
    );
    // The signed backup's manifest changed after signing: passed over too.
    let mpath = format!("{signed}.json");
    let m = std::fs::read_to_string(&mpath).expect("manifest");
    let changed = m.replacen("\"created\": \"", "\"created\": \"1", 1);
    assert_ne!(m, changed);
    std::fs::write(&mpath, changed).expect("write");
    let (code, _, err) = latest(&["--trust", &public]);
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("does not match the manifest"), "{err}");

    // Pinned recipients.
    let enc = tmp.path().join("enc");
    let e = enc.to_string_lossy().into_owned();
    let age1 = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let (code, out, err) = plugin_within(
        30,
        env,
        &["repo", "init", &e, "--encrypt-to", age1, "-o", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let fp = kubectl_redis_e2e::schema_checked("repo", &out)["recipients_fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(fp.starts_with("sha256:"), "{out}");
    // Someone who can write the bucket swaps the recipients for theirs.
    let settings = enc.join("kubectl-redis-repo.json");
    let theirs = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
    let s = std::fs::read_to_string(&settings)
        .expect("settings")
        .replace(age1, theirs);
    std::fs::write(&settings, s).expect("write");
    let (code, out, err) = plugin_within(
        60,
        env,
        &[
            "backup",
            "--url",
            &fake.addr_url,
            "--out-dir",
            &e,
            "--pin-recipients",
            &fp,
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 13, "{out}\n{err}");
    assert!(out.contains("are not the ones pinned"), "{out}");
    assert!(
        files_in(&enc).iter().all(|n| !n.contains("redis-backup")),
        "{:?}",
        files_in(&enc)
    );
    // Unpinned, it goes ahead, but this machine says the recipients changed.
    let (code, _, err) = plugin_within(
        60,
        env,
        &["backup", "--url", &fake.addr_url, "--out-dir", &e],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("changed since this machine last used it"),
        "{err}"
    );
}
