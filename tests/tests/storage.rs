//! Object storage and encryption, against real servers on loopback:
//! moto (S3), s3s-fs (S3 that checks SigV4 and payload checksums), Azurite
//! (Azure Blob), real `redis-server` processes, and Debian's `age` CLI.
//! The stores are started by `scripts/stores.sh up` (idempotent; `make test`
//! runs it first).

mod common;

use common::{bin, wait_until};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The stores' addresses, starting them when needed.
fn stores() -> std::collections::HashMap<String, String> {
    static UP: Once = Once::new();
    UP.call_once(|| {
        let st = Command::new(repo().join("scripts/stores.sh"))
            .arg("up")
            .status()
            .expect("run scripts/stores.sh up");
        assert!(st.success(), "scripts/stores.sh up failed");
    });
    let out = Command::new(repo().join("scripts/stores.sh"))
        .arg("env")
        .output()
        .expect("run scripts/stores.sh env");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Which store a command talks to, as environment variables.
#[derive(Clone, Copy)]
enum Store {
    Moto,
    S3s,
    Azurite,
}

fn store_env(c: &mut Command, s: Store) {
    let e = stores();
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AZURE_STORAGE_USE_EMULATOR",
        "AZURITE_BLOB_STORAGE_URL",
        "KUBECTL_REDIS_REPO",
        "KUBECTL_REDIS_IDENTITY",
        "AWS_PROFILE",
    ] {
        c.env_remove(k);
    }
    match s {
        Store::Moto => {
            c.env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_ENDPOINT_URL", &e["KUBECTL_REDIS_TEST_MOTO"])
                .env("AWS_REGION", "us-east-1");
        }
        Store::S3s => {
            c.env("AWS_ACCESS_KEY_ID", &e["KUBECTL_REDIS_TEST_S3S_KEY"])
                .env("AWS_SECRET_ACCESS_KEY", &e["KUBECTL_REDIS_TEST_S3S_SECRET"])
                .env("AWS_ENDPOINT_URL", &e["KUBECTL_REDIS_TEST_S3S"])
                .env("AWS_REGION", "us-east-1");
        }
        Store::Azurite => {
            c.env("AZURE_STORAGE_USE_EMULATOR", "true")
                .env("AZURITE_BLOB_STORAGE_URL", &e["KUBECTL_REDIS_TEST_AZURITE"]);
        }
    }
}

/// The plugin speaking to Azurite and moto at once (copies between them).
fn both(args: &[&str]) -> Command {
    let mut c = plugin(Store::Azurite, args);
    let e = stores();
    c.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", &e["KUBECTL_REDIS_TEST_MOTO"])
        .env("AWS_REGION", "us-east-1");
    c
}

/// The plugin with `store`'s credentials, no cluster, no colour.
fn plugin(s: Store, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", "/nonexistent")
        .env_remove("OUT_DIR")
        .env_remove("BACKUPS_DIR");
    store_env(&mut c, s);
    c
}

fn run(mut c: Command) -> (i32, String, String) {
    let out: Output = c.output().expect("run kubectl-redis");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(c: Command) -> String {
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    out
}

/// A unique prefix per test run.
fn prefix(test: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{test}-{}-{n:x}", std::process::id())
}

/// A real redis-server on `port`, stopped when dropped.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start(port: u16) -> Redis {
        Redis::start_with(port, &[])
    }

    /// [`Redis::start`] with further arguments (`--cluster-enabled yes`).
    fn start_with(port: u16, extra: &[&str]) -> Redis {
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new("redis-server")
            .args(extra)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--enable-debug-command",
                "yes",
                "--dir",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let r = Redis {
            child,
            port,
            _dir: dir,
        };
        wait_until(20, "redis-server answers PING", || {
            r.cli(&["PING"]) == "PONG"
        });
        r
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn info(&self, field: &str) -> String {
        self.cli(&["INFO"])
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
            .unwrap_or_default()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new age identity file and its public key (Debian's age-keygen).
fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    let p = dir.join(name);
    let st = Command::new("age-keygen")
        .arg("-o")
        .arg(&p)
        .stderr(Stdio::null())
        .status()
        .expect("age-keygen");
    assert!(st.success());
    let out = Command::new("age-keygen")
        .arg("-y")
        .arg(&p)
        .output()
        .expect("age-keygen -y");
    (p, String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn listing(s: Store, url: &str) -> serde_json::Value {
    let out = ok(plugin(s, &["list", "--repo", url, "-o", "json"]));
    kubectl_redis_e2e::schema_checked("list", &out)
}

/// Backup to S3 (moto), encrypted: list, verify with and without a key,
/// a wrong key, inspect, check and prune all read the same repository.
#[test]
fn s3_encrypted_backup_is_listed_verified_inspected_and_pruned() {
    let r = Redis::start(16501);
    r.cli(&["DEBUG", "POPULATE", "2000", "key", "50"]);
    let keys = tempfile::tempdir().unwrap();
    let (id, public) = keypair(keys.path(), "id.txt");
    let (other, _) = keypair(keys.path(), "other.txt");
    let url = format!("s3://backups/{}", prefix("moto"));
    let out = ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--encrypt-to",
            &public,
            "-o",
            "json",
        ],
    ));
    let b = kubectl_redis_e2e::schema_checked("backup", &out);
    let path = b["path"].as_str().unwrap().to_string();
    assert!(
        path.starts_with(&url) && path.ends_with(".rdb.age"),
        "{path}"
    );
    assert_eq!(b["keys"], 2000);

    let l = listing(Store::Moto, &url);
    assert_eq!(l["backups"].as_array().unwrap().len(), 1);
    assert_eq!(l["backups"][0]["status"], "verified");
    assert_eq!(l["backups"][0]["keys"], 2000);

    // Without a key: the stored bytes against the manifest.
    let v = json(&ok(plugin(Store::Moto, &["verify", &path, "-o", "json"])));
    kubectl_redis_e2e::assert_schema("verify", &v);
    assert_eq!(v["files"][0]["checked"], "stored-bytes");
    assert_eq!(v["files"][0]["encrypted"], true);
    // With the key: every byte.
    let id_s = id.to_str().unwrap();
    let v = json(&ok(plugin(
        Store::Moto,
        &["verify", &path, "-i", id_s, "-o", "json"],
    )));
    assert_eq!(v["files"][0]["checked"], "every-byte");
    assert_eq!(v["files"][0]["keys"], 2000);
    assert_eq!(v["files"][0]["manifest"], "match");
    // A wrong key: exit 13, named as such.
    let (code, _, err) = run(plugin(
        Store::Moto,
        &["verify", &path, "-i", other.to_str().unwrap()],
    ));
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("none of the identities"), "{err}");
    // The key from the environment.
    let mut c = plugin(Store::Moto, &["inspect", &path, "-o", "json"]);
    c.env("KUBECTL_REDIS_IDENTITY", &id);
    let i = json(&ok(c));
    assert_eq!(i["keys"], 2000, "{i}");
    // inspect without a key: exit 13.
    let (code, _, _) = run(plugin(Store::Moto, &["inspect", &path]));
    assert_eq!(code, 13);

    let (code, out, _) = run(plugin(
        Store::Moto,
        &["check", "--repo", &url, "--max-age", "1h"],
    ));
    assert_eq!(code, 0, "{out}");

    // Server-side encryption settings pass through to the store (SSE-S3).
    let sse = format!("s3://backups/{}", prefix("sse"));
    let mut c = plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &sse,
            "--encrypt-to",
            &public,
            "-o",
            "json",
        ],
    );
    c.env("AWS_SERVER_SIDE_ENCRYPTION", "AES256");
    let b = json(&ok(c));
    let key = b["path"]
        .as_str()
        .unwrap()
        .trim_start_matches("s3://backups/")
        .to_string();
    let head = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import boto3\nc=boto3.client('s3',endpoint_url='{}',region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t')\nprint(c.head_object(Bucket='backups',Key='{key}').get('ServerSideEncryption'))",
            stores()["KUBECTL_REDIS_TEST_MOTO"]
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&head.stdout).trim(), "AES256");

    // A second backup, then prune keeps one.
    std::thread::sleep(Duration::from_millis(1100));
    ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--encrypt-to",
            &public,
        ],
    ));
    assert_eq!(
        listing(Store::Moto, &url)["backups"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let p = json(&ok(plugin(
        Store::Moto,
        &[
            "prune",
            "--repo",
            &url,
            "--keep-last",
            "1",
            "--yes",
            "-o",
            "json",
        ],
    )));
    assert_eq!(p["removed"].as_array().unwrap().len(), 1, "{p}");
    let l = listing(Store::Moto, &url);
    assert_eq!(l["backups"].as_array().unwrap().len(), 1);
    assert!(l["partial"].as_array().unwrap().is_empty(), "{l}");
    // The audit trail under audit/, oldest first: both backups written,
    // the first decrypted once by verify (with the key that fits; the wrong
    // key read nothing), then deleted by prune.
    let a = kubectl_redis_e2e::schema_checked(
        "audit",
        &ok(plugin(
            Store::Moto,
            &["audit", "--repo", &url, "-o", "json"],
        )),
    );
    let acts: Vec<(String, String)> = a["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["by_command"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("backup-written", "backup"),
        ("read", "verify"),
        ("backup-written", "backup"),
        ("deleted", "prune"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(acts, want, "{a}");
    let first = path.rsplit('/').next().unwrap();
    assert_eq!(a["records"][0]["file"], first, "{a}");
    assert_eq!(a["records"][1]["decrypted"], true, "{a}");
    assert_eq!(a["records"][3]["file"], first, "{a}");
    assert_eq!(a["records"][0]["peer"], r.url(), "{a}");
    assert!(a["records"][0]["who"]["local"]
        .as_str()
        .unwrap()
        .contains('@'));
    // --since: only records newer than that.
    std::thread::sleep(Duration::from_millis(1100));
    let cut = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 1000;
    let recent = json(&ok(plugin(
        Store::Moto,
        &["audit", "--repo", &url, "--since", "1s", "-o", "json"],
    )));
    assert!(
        recent["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["time_ms"].as_i64().unwrap() >= cut - 1000),
        "{recent}"
    );
    assert!(recent["records"].as_array().unwrap().len() < 4, "{recent}");
}

/// s3s-fs checks signatures and payload checksums: a wrong secret is
/// refused (exit 12) naming the credential source; with checksums asked
/// for, the upload passes; the stored object is a standard age file that the
/// age CLI decrypts into the RDB the manifest describes.
#[test]
fn s3s_checks_signatures_and_the_age_cli_reads_our_files() {
    let r = Redis::start(16502);
    r.cli(&["DEBUG", "POPULATE", "400000", "key", "100"]);
    let keys = tempfile::tempdir().unwrap();
    let (id, public) = keypair(keys.path(), "id.txt");
    let pre = prefix("s3s");
    let url = format!("s3://backups/{pre}");

    let mut c = plugin(
        Store::S3s,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--encrypt-to",
            &public,
        ],
    );
    c.env("AWS_SECRET_ACCESS_KEY", "wrong-secret");
    let syncs = r.info("sync_full");
    let (code, _, err) = run(c);
    assert_eq!(code, 12, "{err}");
    assert!(
        err.contains("AWS_ACCESS_KEY_ID from the environment"),
        "{err}"
    );
    assert!(
        !err.contains("wrong-secret"),
        "the secret must never be printed: {err}"
    );
    assert_eq!(
        r.info("sync_full"),
        syncs,
        "refused before any snapshot was asked for"
    );

    // Several parts (5 MiB each) with SHA-256 checksums, checked by s3s,
    // through a proxy that records the requests: without the setting no
    // part carries a checksum, with it every part does.
    let s3s_port: u16 = stores()["KUBECTL_REDIS_TEST_S3S"]
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("s3s port");
    let backup_through_proxy = |checksum: bool| {
        let (port, seen) = recording_proxy(s3s_port);
        let mut c = plugin(
            Store::S3s,
            &[
                "backup",
                "--url",
                &r.url(),
                "--repo",
                &url,
                "--encrypt-to",
                &public,
                "-o",
                "json",
            ],
        );
        c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
            .env("KUBECTL_REDIS_PART_SIZE_MB", "5");
        if checksum {
            c.env("AWS_CHECKSUM_ALGORITHM", "SHA256");
        }
        let b = json(&ok(c));
        let sent = seen.lock().map(|v| v.clone()).unwrap_or_default();
        (b, requests(&sent))
    };
    let (_, plain_parts) = backup_through_proxy(false);
    let parts = plain_parts.iter().filter(|r| r.part).count();
    assert!(parts >= 3, "several parts, not one: {parts}");
    assert!(
        plain_parts.iter().all(|r| !r.checksum),
        "no checksum was asked for, none is sent"
    );
    let (b, sums) = backup_through_proxy(true);
    let parts: Vec<&Request> = sums.iter().filter(|r| r.part).collect();
    assert!(parts.len() >= 3, "several parts, not one: {}", parts.len());
    assert!(
        parts.iter().all(|r| r.checksum),
        "every part carries its SHA-256 when AWS_CHECKSUM_ALGORITHM=SHA256"
    );
    let name = b["path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    // s3s-fs keeps objects as files: read ours with the age CLI.
    let root = PathBuf::from(&stores()["KUBECTL_REDIS_TEST_S3S_ROOT"]);
    let stored = root.join("backups").join(&pre).join(&name);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("backups").join(&pre).join(format!("{name}.json"))).unwrap(),
    )
    .unwrap();
    let plain = keys.path().join("plain.rdb");
    let st = Command::new("age")
        .args(["-d", "-i"])
        .arg(&id)
        .arg("-o")
        .arg(&plain)
        .arg(&stored)
        .status()
        .expect("age -d");
    assert!(st.success());
    let sha = sha256_file(&plain);
    assert_eq!(
        manifest["sha256"], sha,
        "the manifest's sha256 is the plaintext's"
    );
    assert_eq!(manifest["encryption"]["sha256"], sha256_file(&stored));
    assert!(
        manifest["size"].as_u64().unwrap() > 10 << 20,
        "three parts or more: {manifest}"
    );
    let chk = Command::new("redis-check-rdb")
        .arg(&plain)
        .output()
        .expect("redis-check-rdb");
    assert!(
        chk.status.success(),
        "{}",
        String::from_utf8_lossy(&chk.stdout)
    );

    // One flipped byte in the ciphertext: caught with a key and without.
    let mut bytes = std::fs::read(&stored).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&stored, &bytes).unwrap();
    let path = format!("{url}/{name}");
    let (code, _, err) = run(plugin(Store::S3s, &["verify", &path]));
    assert_eq!(code, 8, "{err}");
    let (code, _, err) = run(plugin(
        Store::S3s,
        &["verify", &path, "-i", id.to_str().unwrap()],
    ));
    assert_eq!(code, 8, "{err}");
}

/// One HTTP request as the proxy saw it: an UploadPart (`partNumber=` in
/// its target), and whether it carried an `x-amz-checksum-sha256` header.
struct Request {
    part: bool,
    checksum: bool,
}

/// The requests in a recorded client-to-server byte stream: each request
/// line (`PUT /... HTTP/1.1`) with the headers up to the blank line.
fn requests(sent: &[u8]) -> Vec<Request> {
    let text = String::from_utf8_lossy(sent);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(i) = ["PUT /", "POST /", "GET /", "HEAD /", "DELETE /"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
    {
        let head_end = rest[i..].find("\r\n\r\n").map_or(rest.len(), |e| i + e);
        let head = rest[i..head_end].to_ascii_lowercase();
        let line = head.lines().next().unwrap_or("");
        if line.ends_with("http/1.1") {
            out.push(Request {
                part: line.contains("partnumber="),
                checksum: head.contains("\r\nx-amz-checksum-sha256:"),
            });
        }
        rest = &rest[head_end.min(rest.len())..];
        if head_end == i {
            break;
        }
    }
    out
}

/// A TCP proxy to 127.0.0.1:`upstream` on a free port that keeps every byte
/// the client sends (to read the requests afterwards). Runs until the test
/// process ends.
fn recording_proxy(upstream: u16) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for client in l.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut from_client, mut to_server) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let keep = keep.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 64 * 1024];
                loop {
                    let n = match from_client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if let Ok(mut k) = keep.lock() {
                        k.extend_from_slice(&buf[..n]);
                    }
                    if to_server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to_server.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let (mut server, mut client) = (server, client);
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(Shutdown::Both);
            });
        }
    });
    (port, seen)
}

fn sha256_file(p: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(p)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Files the age CLI encrypted are read by us; a plaintext backup encrypted
/// by `copy --encrypt-to` is read by the age CLI.
#[test]
fn age_cli_files_are_read_and_copy_encrypts_for_it() {
    let r = Redis::start(16503);
    r.cli(&["DEBUG", "POPULATE", "500", "key", "10"]);
    let dir = tempfile::tempdir().unwrap();
    let (id, public) = keypair(dir.path(), "id.txt");
    let local = dir.path().join("local");
    let local_s = local.to_str().unwrap();
    let out = ok(plugin(
        Store::Moto,
        &["backup", "--url", &r.url(), "--out-dir", local_s],
    ));
    let plain = PathBuf::from(out.trim());
    // age CLI -> us.
    let theirs = dir.path().join("theirs.rdb.age");
    let st = Command::new("age")
        .args(["-r", &public, "-o"])
        .arg(&theirs)
        .arg(&plain)
        .status()
        .unwrap();
    assert!(st.success());
    let v = json(&ok(plugin(
        Store::Moto,
        &[
            "verify",
            theirs.to_str().unwrap(),
            "-i",
            id.to_str().unwrap(),
            "-o",
            "json",
        ],
    )));
    assert_eq!(v["files"][0]["keys"], 500);
    assert_eq!(v["files"][0]["encrypted"], true);
    // us -> age CLI, through copy into S3 and back to a directory.
    let url = format!("s3://backups/{}", prefix("agecli"));
    ok(plugin(
        Store::Moto,
        &["copy", local_s, &url, "--encrypt-to", &public],
    ));
    let back = dir.path().join("back");
    ok(plugin(Store::Moto, &["copy", &url, back.to_str().unwrap()]));
    let name = format!("{}.age", plain.file_name().unwrap().to_str().unwrap());
    let dec = Command::new("age")
        .args(["-d", "-i"])
        .arg(&id)
        .arg(back.join(&name))
        .output()
        .unwrap();
    assert!(dec.status.success());
    assert_eq!(
        dec.stdout,
        std::fs::read(&plain).unwrap(),
        "the plaintext survives both copies"
    );
    // The copy back is 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(back.join(&name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// Nothing leaves in plaintext unless asked; a missing bucket is refused
/// before Redis is asked for anything; a name that exists is never
/// overwritten.
#[test]
fn refusals_leave_nothing_and_overwrite_nothing() {
    let r = Redis::start(16504);
    r.cli(&["SET", "k", "v"]);
    let url = format!("s3://backups/{}", prefix("refuse"));
    let syncs = r.info("sync_full");
    let (code, _, err) = run(plugin(
        Store::Moto,
        &["backup", "--url", &r.url(), "--repo", &url],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--encrypt-to") && err.contains("--no-encrypt"),
        "{err}"
    );
    let (code, _, err) = run(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            "s3://no-such-bucket-kr/x",
            "--no-encrypt",
        ],
    ));
    assert_eq!(code, 12, "{err}");
    assert!(err.contains("bucket does not exist"), "{err}");
    assert_eq!(
        r.info("sync_full"),
        syncs,
        "Redis was not asked for a snapshot"
    );
    let l = listing(Store::Moto, &url);
    assert!(l["backups"].as_array().unwrap().is_empty());
    assert!(l["partial"].as_array().unwrap().is_empty());

    // Occupy the names of the next seconds, in object storage and locally.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let dir = tempfile::tempdir().unwrap();
    let mut taken = Vec::new();
    for s in now..now + 30 {
        let name = format!("redis-backup-{}.rdb", stamp(s));
        std::fs::write(dir.path().join(&name), b"not ours to replace").unwrap();
        taken.push(name);
    }
    let (bucket, pre) = url.trim_start_matches("s3://").split_once('/').unwrap();
    let keys: Vec<String> = taken.iter().map(|n| format!("{pre}/{n}")).collect();
    let st = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import boto3,sys\nc=boto3.client('s3',endpoint_url='{}',region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t')\nfor k in sys.argv[1:]: c.put_object(Bucket='{bucket}',Key=k,Body=b'not ours to replace')",
            stores()["KUBECTL_REDIS_TEST_MOTO"]
        ))
        .args(&keys)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _, err) = run(plugin(
        Store::Moto,
        &["backup", "--url", &r.url(), "--repo", &url, "--no-encrypt"],
    ));
    assert_eq!(code, 12, "{err}");
    assert!(
        err.contains("already exists; nothing is overwritten"),
        "{err}"
    );
    let l = listing(Store::Moto, &url);
    assert!(l["backups"].as_array().unwrap().is_empty(), "{l}");
    assert_eq!(
        l["partial"].as_array().unwrap().len(),
        taken.len(),
        "listed as data without manifests"
    );
    // Locally: the backup takes the next free name, never one of these.
    let out = ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--out-dir",
            dir.path().to_str().unwrap(),
        ],
    ));
    let made = out.trim().rsplit('/').next().unwrap().to_string();
    assert!(
        !taken.contains(&made) && made.ends_with("-2.rdb"),
        "a -2 name: {made}"
    );
    for t in &taken {
        assert_eq!(
            std::fs::read(dir.path().join(t)).unwrap(),
            b"not ours to replace"
        );
    }
}

fn stamp(secs: i64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y%m%d_%H%M%S"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Azurite: backup to az://, copy to S3 and back, skipping what is there.
#[test]
fn azure_backups_copy_to_s3_and_back() {
    let r = Redis::start(16505);
    r.cli(&["DEBUG", "POPULATE", "1000", "key", "10"]);
    let keys = tempfile::tempdir().unwrap();
    let (id, public) = keypair(keys.path(), "id.txt");
    let az = format!("az://backups/{}", prefix("az"));
    let s3 = format!("s3://backups/{}", prefix("az2s3"));
    ok(plugin(
        Store::Azurite,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &az,
            "--encrypt-to",
            &public,
        ],
    ));
    assert_eq!(
        listing(Store::Azurite, &az)["backups"][0]["status"],
        "verified"
    );
    // One process speaks to both: Azurite and moto credentials together.
    let c1 = json(&ok(both(&["copy", &az, &s3, "-o", "json"])));
    kubectl_redis_e2e::assert_schema("copy", &c1);
    assert_eq!(c1["copied"].as_array().unwrap().len(), 1, "{c1}");
    let c2 = json(&ok(both(&["copy", &az, &s3, "-o", "json"])));
    assert_eq!(c2["skipped"].as_array().unwrap().len(), 1, "{c2}");
    let file = c1["copied"][0]["destination"].as_str().unwrap().to_string();
    let v = json(&ok(plugin(
        Store::Moto,
        &["verify", &file, "-i", id.to_str().unwrap(), "-o", "json"],
    )));
    assert_eq!(v["files"][0]["keys"], 1000);
    let az2 = format!("az://backups/{}", prefix("s3back"));
    let c3 = json(&ok(both(&[
        "copy", &s3, &az2, "--latest", "1", "-o", "json",
    ])));
    assert_eq!(
        c3["copied"][0]["sha256"], c1["copied"][0]["sha256"],
        "byte-identical copies"
    );
}

/// Ctrl-C and kill -9 in the middle of an upload: no backup is listed;
/// nothing is left that list does not show.
#[test]
fn interrupted_uploads_leave_no_backup() {
    let r = Redis::start(16506);
    r.cli(&["DEBUG", "POPULATE", "2000000", "key", "100"]);
    let pre = prefix("interrupt");
    let url = format!("s3://backups/{pre}");
    // Multipart uploads in progress under the prefix, as moto reports them.
    let uploads = || -> usize {
        let out = Command::new("python3")
            .arg("-c")
            .arg(format!(
                "import boto3\nc=boto3.client('s3',endpoint_url='{}',region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t')\nprint(len(c.list_multipart_uploads(Bucket='backups',Prefix='{pre}/').get('Uploads',[])))",
                stores()["KUBECTL_REDIS_TEST_MOTO"]
            ))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(usize::MAX)
    };
    for signal in ["INT", "KILL"] {
        let before = uploads();
        let mut c = plugin(
            Store::Moto,
            &[
                "backup",
                "--url",
                &r.url(),
                "--repo",
                &url,
                "--no-encrypt",
                "--diskless",
            ],
        );
        c.env("KUBECTL_REDIS_PART_SIZE_MB", "5")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        let mut child = c.spawn().unwrap();
        // Wait until the multipart upload is under way.
        wait_until(60, "the multipart upload starts", || uploads() > before);
        let st = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let status = child.wait().unwrap();
        let l = listing(Store::Moto, &url);
        assert!(l["backups"].as_array().unwrap().is_empty(), "{signal}: {l}");
        if signal == "INT" {
            assert_eq!(status.code(), Some(130), "Ctrl-C exits 130");
            assert_eq!(uploads(), before, "Ctrl-C aborts the multipart upload");
        } else {
            // kill -9 leaves the parts: invisible to list, removed by the
            // bucket's AbortIncompleteMultipartUpload rule (README).
            assert_eq!(uploads(), before + 1);
        }
    }
    // prune finds the upload kill -9 left (once older than the limit; a
    // dry run first) and aborts it.
    let dry = |yes: bool| {
        let mut a = vec![
            "prune",
            "--repo",
            &url,
            "--keep-last",
            "1",
            "--leftovers-older-than",
            "1s",
            "-o",
            "json",
        ];
        if yes {
            a.push("--yes");
        }
        let (code, out, err) = run(plugin(Store::Moto, &a));
        assert_eq!(code, 0, "{err}");
        kubectl_redis_e2e::schema_checked("prune", &out)
    };
    wait_until(30, "the killed upload is older than 1s", || {
        dry(false)["unfinished_uploads"].as_array().map(Vec::len) == Some(1)
    });
    assert_eq!(uploads(), 1, "a dry run aborts nothing");
    let p = dry(true);
    assert_eq!(
        p["unfinished_uploads"].as_array().map(Vec::len),
        Some(1),
        "{p}"
    );
    assert_eq!(uploads(), 0, "prune --yes aborted it");
}

/// `backup --pushgateway` reports to a real Pushgateway: the exit code and
/// the last success; a failed run updates the exit code and keeps the
/// success's timestamp. `schedule --alerts` prints rules promtool accepts.
#[test]
fn pushgateway_metrics_and_alert_rules() {
    let r = Redis::start(16507);
    r.cli(&["SET", "k", "v"]);
    let pg = stores()["KUBECTL_REDIS_TEST_PUSHGATEWAY"].clone();
    let dir = tempfile::tempdir().unwrap();
    let metric = |name: &str| -> Option<f64> {
        let out = Command::new("curl")
            .args(["-sf", &format!("{pg}/metrics")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            let rest = l.strip_prefix(name)?;
            // This test's group: the job alone (a backup with --url has no
            // namespace); scheduled backups elsewhere push their own.
            if !rest.contains("job=\"kubectl-redis-backup\"") || rest.contains("redis_namespace=") {
                return None;
            }
            rest.rsplit(' ').next()?.parse().ok()
        })
    };
    ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--out-dir",
            dir.path().to_str().unwrap(),
            "--pushgateway",
            &pg,
        ],
    ));
    assert_eq!(metric("kubectl_redis_backup_last_exit_code"), Some(0.0));
    let success =
        metric("kubectl_redis_backup_last_success_timestamp_seconds").expect("success pushed");
    let (code, _, _) = run(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            "redis://127.0.0.1:1",
            "--out-dir",
            dir.path().to_str().unwrap(),
            "--pushgateway",
            &pg,
        ],
    ));
    assert_ne!(code, 0);
    assert_eq!(
        metric("kubectl_redis_backup_last_exit_code"),
        Some(f64::from(code as u8))
    );
    assert_eq!(
        metric("kubectl_redis_backup_last_success_timestamp_seconds"),
        Some(success),
        "a failure keeps the last success"
    );

    // The PrometheusRule's groups, checked by promtool.
    let out = ok(plugin(
        Store::Moto,
        &[
            "schedule",
            "--every",
            "6h",
            "-n",
            "prod",
            "--repo",
            "s3://backups/prod",
            "--encrypt-to",
            "age1f0qnsy230c84fr7q8fgnhuv0z2s84kwfhcqazdram4mggekq5cwsnwtp8a",
            "--repo-credentials-from-secret",
            "backup-s3",
            "--pushgateway",
            &pg,
            "--alerts",
            "--alert-archive-lag",
            "1m",
            "-o",
            "json",
        ],
    ));
    let list = json(&out);
    let rule = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .expect("a PrometheusRule")
        .clone();
    assert!(rule["spec"]["groups"][0]["rules"][0]["expr"]
        .as_str()
        .unwrap()
        .ends_with("> 43200"));
    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, serde_json::to_vec(&rule["spec"]).unwrap()).unwrap();
    let check = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    archive_alerts_fire_on_real_metrics(&r, dir.path(), &rules);
    let cj = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .unwrap();
    let c = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "backup-s3");
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.windows(2)
            .any(|w| w == ["--repo", "s3://backups/prod"]),
        "{args:?}"
    );
    assert!(
        !args.iter().any(|a| a.contains("SECRET")),
        "no secrets in args: {args:?}"
    );
}

/// `schedule --alerts --alert-archive-lag 1m`'s archive rules (in the
/// `rules` file) against a real archiver: every metric they use is one it
/// serves, and promtool's rule tests over its series (with the `namespace`
/// label Prometheus gives a scraped target) fire RedisArchiveBehind only
/// after a write waited more than a minute for a minute, and
/// RedisArchiveDown when its link is down.
fn archive_alerts_fire_on_real_metrics(r: &Redis, dir: &Path, rules: &Path) {
    let repo = dir.join("archive");
    let port = 16517u16;
    let mut child = plugin(
        Store::Moto,
        &[
            "archive",
            "run",
            "--url",
            &r.url(),
            "--repo",
            repo.to_str().unwrap(),
            "--metrics-port",
            &port.to_string(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("archive run");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut text = scrape(port);
    let up = |t: &str| {
        t.lines()
            .any(|l| l.starts_with("kubectl_redis_archive_up{") && l.ends_with(" 1"))
    };
    while !up(&text) {
        assert!(
            Instant::now() < deadline,
            "the archiver's link never came up: {text}"
        );
        std::thread::sleep(Duration::from_millis(200));
        text = scrape(port);
    }
    let _ = child.kill();
    let _ = child.wait();
    let group = std::fs::read_to_string(rules).unwrap();
    let spec: serde_json::Value = serde_json::from_str(&group).unwrap();
    let archive = spec["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "kubectl-redis-archive")
        .expect("the archive group");
    for rule in archive["rules"].as_array().unwrap() {
        let expr = rule["expr"].as_str().unwrap();
        let metric = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .find(|w| w.starts_with("kubectl_redis_archive_"))
            .expect("a metric");
        assert!(
            text.lines().any(|l| l.starts_with(metric)),
            "{} uses {metric}, which the archiver does not serve:\n{text}",
            rule["alert"]
        );
    }
    // The series as Prometheus would store them, from the scraped labels.
    let labels = |name: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name}{{")))
            .unwrap_or_else(|| panic!("{name} in {text}"));
        let inner = &line[name.len() + 1..line.find('}').unwrap()];
        format!("{name}{{{inner},namespace=\"prod\"}}")
    };
    let a = archive_label(&text);
    // What an alert says: its annotations with the archive's name and the
    // value (120 s of lag, humanized) filled in.
    let said = |alert: &str, value: &str| -> serde_json::Value {
        let rule = archive["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["alert"] == alert)
            .unwrap();
        let fill = |k: &str| {
            rule["annotations"][k]
                .as_str()
                .unwrap()
                .replace("{{ $labels.archive }}", &a)
                .replace("{{ $value | humanizeDuration }}", value)
        };
        serde_json::json!({
            "exp_labels": {"severity": "critical", "archive": a},
            "exp_annotations": {"summary": fill("summary"), "description": fill("description")},
        })
    };
    let tests = serde_json::json!({
        "rule_files": [rules.file_name().unwrap().to_str().unwrap()],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                // A write waits 0, then 30 s more each minute.
                {"series": labels("kubectl_redis_archive_lag_seconds"), "values": "0 0 30 60 90 120 150"},
                {"series": labels("kubectl_redis_archive_up"), "values": "1 1 1 0 0 0 0"},
                {"series": labels("kubectl_redis_archive_spool_full"), "values": "0 0 0 0 0 0 0"},
            ],
            "alert_rule_test": [
                {"eval_time": "3m", "alertname": "RedisArchiveBehind", "exp_alerts": []},
                {"eval_time": "5m", "alertname": "RedisArchiveBehind", "exp_alerts": [said("RedisArchiveBehind", "2m 0s")]},
                {"eval_time": "4m", "alertname": "RedisArchiveDown", "exp_alerts": []},
                {"eval_time": "5m", "alertname": "RedisArchiveDown", "exp_alerts": [said("RedisArchiveDown", "")]},
                {"eval_time": "5m", "alertname": "RedisArchiveSpoolFull", "exp_alerts": []},
                {"eval_time": "5m", "alertname": "RedisArchiveMetricsAbsent", "exp_alerts": []},
            ],
        }],
    });
    let t = dir.join("rules-test.json");
    std::fs::write(&t, serde_json::to_vec(&tests).unwrap()).unwrap();
    let out = Command::new("promtool")
        .args(["test", "rules"])
        .arg(&t)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A TCP gate in front of a server: open, it forwards; closed, it cuts
/// every forwarded connection and refuses new ones (an outage of the
/// repository as the plugin sees it).
struct Gate {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    live: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Gate {
    fn to(upstream: String) -> Gate {
        use std::sync::atomic::Ordering;
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the gate");
        let port = l.local_addr().expect("addr").port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let live = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (o, lv) = (open.clone(), live.clone());
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                if !o.load(Ordering::SeqCst) {
                    drop(c);
                    continue;
                }
                let Ok(up) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                if let (Ok(a), Ok(b)) = (c.try_clone(), up.try_clone()) {
                    lv.lock().unwrap().extend([a, b]);
                }
                for (mut from, mut to) in
                    [(c.try_clone().unwrap(), up.try_clone().unwrap()), (up, c)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Gate { port, open, live }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set(&self, open: bool) {
        self.open.store(open, std::sync::atomic::Ordering::SeqCst);
        if !open {
            for c in self.live.lock().unwrap().drain(..) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// The text an archiver's `--metrics-port` serves (empty while it cannot
/// be reached).
fn scrape(port: u16) -> String {
    Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{port}/metrics")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// A metric's value in a Prometheus scrape (the first series).
fn metric_in(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// The spool on disk rides out a repository outage: with the repository
/// cut off, segments wait in `--spool-dir` (age-encrypted like the
/// archive, mode 0600), up to `--spool-size`; full, the archiver stops
/// reading and says so (`spool_full` 1); back, every waiting segment is
/// stored in order, the spool empties and the chain continues without a
/// gap. The seconds it was behind are named (what it read late may have
/// executed any time since it stopped reading): a restore to one of them
/// is refused, and a restore after them is exact.
#[test]
fn archive_spool_on_disk_rides_out_a_repository_outage() {
    use std::os::unix::fs::PermissionsExt;
    let r = Redis::start(16518);
    let moto = stores()["KUBECTL_REDIS_TEST_MOTO"].clone();
    let gate = Gate::to(
        moto.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string(),
    );
    let keys = tempfile::tempdir().unwrap();
    let (id, public) = keypair(keys.path(), "id.txt");
    let spool = tempfile::tempdir().unwrap();
    let url = format!("s3://backups/{}", prefix("spool"));
    let log = keys.path().join("archiver.log");
    let mut cmd = plugin(
        Store::Moto,
        &[
            "archive",
            "run",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--encrypt-to",
            &public,
            "--spool-dir",
            spool.path().to_str().unwrap(),
            "--spool-size",
            "1MiB",
            "--segment-size",
            "256KiB",
            "--segment-interval",
            "1s",
            "--metrics-port",
            "16520",
        ],
    );
    cmd.env("AWS_ENDPOINT_URL", gate.url())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().expect("archive run");
    let m = |name: &str| metric_in(&scrape(16520), name).unwrap_or(-1.0);
    let logged = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_until(30, "the base stored", || {
        m("kubectl_redis_archive_bases_stored") >= 1.0
    });
    r.cli(&["SET", "before", "1"]);
    wait_until(30, "the first write stored", || {
        m("kubectl_redis_archive_stored_offset")
            >= r.info("master_repl_offset")
                .parse::<f64>()
                .unwrap_or(f64::MAX)
    });
    // The outage: 3 MiB of writes against a 1 MiB spool.
    gate.set(false);
    let big = "v".repeat(100 << 10);
    for i in 0..30 {
        assert_eq!(r.cli(&["SET", &format!("big:{i}"), &big]), "OK");
    }
    wait_until(60, "the spool to fill", || {
        m("kubectl_redis_archive_spool_full") == 1.0
    });
    let files: Vec<PathBuf> = std::fs::read_dir(spool.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    assert!(!files.is_empty(), "the spool is on disk");
    let on_disk: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(on_disk <= 2 << 20, "{on_disk} bytes spooled");
    for f in &files {
        let head = std::fs::read(f).unwrap();
        assert!(
            head.starts_with(b"age-encryption.org/v1"),
            "{} is not age",
            f.display()
        );
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    assert!(
        logged().contains("the spool (1048576 bytes) is full"),
        "{}",
        logged()
    );
    let digest = r.cli(&["DEBUG", "DIGEST"]);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The repository comes back in a later second than t, so the late
    // writes arrive after it: t is inside the stretch, not its last second.
    wait_until(3, "the next second", || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            > t
    });
    // Back: everything stored, the spool emptied.
    gate.set(true);
    wait_until(90, "everything stored after the outage", || {
        m("kubectl_redis_archive_stored_offset")
            >= r.info("master_repl_offset")
                .parse::<f64>()
                .unwrap_or(f64::MAX)
    });
    wait_until(10, "the spool emptied", || {
        std::fs::read_dir(spool.path())
            .unwrap()
            .flatten()
            .all(|e| e.path().extension().is_none_or(|x| x != "seg"))
    });
    let _ = child.kill();
    let _ = child.wait();
    // One chain, no gap; the seconds the archiver was behind are named.
    let (code, out, err) = run(plugin(
        Store::Moto,
        &["archive", "status", "--repo", &url, "-o", "json"],
    ));
    assert_eq!(code, 0, "{err}");
    let st = json(&out);
    let a = &st["archives"][0];
    assert_eq!(
        a["windows"].as_array().map(Vec::len),
        Some(1),
        "one chain: {out}"
    );
    assert_eq!(a["broken"], serde_json::json!([]), "{out}");
    let behind = &a["uncertain"][0];
    let (from, to) = (
        behind["from_unix"].as_u64().expect("a stretch behind"),
        behind["to_unix"].as_u64().expect("its end"),
    );
    assert!(from <= t && t < to, "{t} in {from}..{to}: {out}");
    let fresh = Redis::start(16521);
    let restore_to = |when: &str| {
        plugin(
            Store::Moto,
            &[
                "restore",
                "--url",
                &fresh.url(),
                "--repo",
                &url,
                "--to-time",
                when,
                "--identity",
                id.to_str().unwrap(),
                "--yes",
            ],
        )
    };
    // A second inside it: refused, naming it; nothing changed.
    fresh.cli(&["SET", "untouched", "1"]);
    let (code, _, err) = run(restore_to(&kubectl_redis_e2e::utc(t as i64)));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the archiver was behind"), "{err}");
    assert_eq!(fresh.cli(&["GET", "untouched"]), "1");
    // After it (no write since the outage's): exact.
    ok(restore_to("latest"));
    assert_eq!(
        fresh.cli(&["DEBUG", "DIGEST"]),
        digest,
        "the data after the outage"
    );
}

/// The `archive` label of a scrape's `kubectl_redis_archive_up`.
fn archive_label(text: &str) -> String {
    text.lines()
        .find(|l| l.starts_with("kubectl_redis_archive_up{"))
        .and_then(|l| l.split("archive=\"").nth(1))
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// One snapshot into several repositories: S3, Azure and a directory. A
/// copy that fails (its name is taken there) is named, the exit code is 12,
/// and the others are kept and verify.
#[test]
fn one_snapshot_into_several_repositories() {
    let r = Redis::start(16508);
    r.cli(&["DEBUG", "POPULATE", "5000", "key", "10"]);
    let keys = tempfile::tempdir().unwrap();
    let (id, public) = keypair(keys.path(), "id.txt");
    let s3 = format!("s3://backups/{}", prefix("multi"));
    let az = format!("az://backups/{}", prefix("multi"));
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().to_str().unwrap().to_string();
    let out = ok(both(&[
        "backup",
        "--url",
        &r.url(),
        "--repo",
        &s3,
        "--repo",
        &az,
        "--repo",
        &local,
        "--encrypt-to",
        &public,
        "-o",
        "json",
    ]));
    let b = kubectl_redis_e2e::schema_checked("backup", &out);
    let copies = b["copies"].as_array().unwrap();
    assert_eq!(copies.len(), 2);
    assert!(copies.iter().all(|c| c["ok"] == true), "{b}");
    for p in [
        b["path"].as_str().unwrap(),
        copies[0]["path"].as_str().unwrap(),
        copies[1]["path"].as_str().unwrap(),
    ] {
        let v = json(&ok(both(&[
            "verify",
            p,
            "-i",
            id.to_str().unwrap(),
            "-o",
            "json",
        ])));
        assert_eq!(v["files"][0]["keys"], 5000, "{p}");
        assert_eq!(v["files"][0]["manifest"], "match", "{p}");
    }
    // Take the local names of the next seconds: that copy fails, the others stay.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let taken = tempfile::tempdir().unwrap();
    for s in now..now + 30 {
        std::fs::write(
            taken
                .path()
                .join(format!("redis-backup-{}.rdb.age", stamp(s))),
            b"x",
        )
        .unwrap();
    }
    let s3b = format!("s3://backups/{}", prefix("multi-b"));
    let (code, out, err) = run(both(&[
        "backup",
        "--url",
        &r.url(),
        "--repo",
        &s3b,
        "--repo",
        taken.path().to_str().unwrap(),
        "--encrypt-to",
        &public,
        "-o",
        "json",
    ]));
    assert_eq!(code, 12, "{err}");
    let b = kubectl_redis_e2e::schema_checked("backup", &out);
    assert_eq!(b["copies"][0]["ok"], false, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains(taken.path().to_str().unwrap()),
        "{b}"
    );
    assert_eq!(
        listing(Store::Moto, &s3b)["backups"][0]["status"],
        "verified",
        "the S3 copy is kept"
    );
}

/// AWS profiles from ~/.aws (object_store has no such source; the plugin
/// reads static keys of `$AWS_PROFILE` itself), against s3s-fs, which
/// checks the signature: the right profile works, a wrong one is refused
/// naming the profile.
#[test]
fn aws_profile_credentials() {
    let r = Redis::start(16509);
    r.cli(&["SET", "k", "v"]);
    let e = stores();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[backup]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            e["KUBECTL_REDIS_TEST_S3S_KEY"], e["KUBECTL_REDIS_TEST_S3S_SECRET"]
        ),
    )
    .unwrap();
    // A profile whose keys come from a program (credential_process), as
    // SSO helpers and vaults provide them: read through the AWS SDK.
    let helper = home.path().join("creds.sh");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' {} {}\n",
            e["KUBECTL_REDIS_TEST_S3S_KEY"], e["KUBECTL_REDIS_TEST_S3S_SECRET"]
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile backup]\nregion = us-east-1\n\n[profile vault]\nregion = us-east-1\ncredential_process = {}\n",
            helper.display()
        ),
    )
    .unwrap();
    let url = format!("s3://backups/{}", prefix("profile"));
    let with_profile = |profile: &str, url: &str| {
        let mut c = plugin(
            Store::S3s,
            &["backup", "--url", &r.url(), "--repo", url, "--no-encrypt"],
        );
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION")
            .env("HOME", home.path())
            .env("AWS_PROFILE", profile);
        c
    };
    let (code, out, err) = run(with_profile("backup", &url));
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().starts_with(&url), "{out}");
    let url2 = format!("s3://backups/{}", prefix("profile-vault"));
    let (code, out, err) = run(with_profile("vault", &url2));
    assert_eq!(code, 0, "credential_process: {err}");
    assert!(out.trim().starts_with(&url2), "{out}");
    let (code, _, err) = run(with_profile("default", &url));
    assert_eq!(code, 12, "{err}");
    assert!(err.contains("profile default from ~/.aws"), "{err}");
    assert!(
        !err.contains("nothing"),
        "the secret must not be printed: {err}"
    );
}

/// The runbook's `gpg --symmetric` backups (`.rdb.gpg`) are verified,
/// inspected and restored through the user's own gpg (here its passphrase
/// comes from the GNUPGHOME's gpg.conf, as an agent would give it); a wrong
/// passphrase and a missing gpg are exit 13, named.
#[test]
fn runbook_gpg_files_through_gpg() {
    let r = Redis::start(16510);
    r.cli(&["DEBUG", "POPULATE", "777", "key", "10"]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("b");
    let out = ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--out-dir",
            local.to_str().unwrap(),
        ],
    ));
    let plain = PathBuf::from(out.trim());
    let home = dir.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "runbook passphrase\n").unwrap();
    let gpgfile = dir.path().join("redis-backup.rdb.gpg");
    let st = Command::new("gpg")
        .env("GNUPGHOME", &home)
        .args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase-file",
        ])
        .arg(&pw)
        .args(["--symmetric", "-o"])
        .arg(&gpgfile)
        .arg(&plain)
        .status()
        .unwrap();
    assert!(st.success());
    let conf = |pass_file: &Path| {
        std::fs::write(
            home.join("gpg.conf"),
            format!(
                "batch\npinentry-mode loopback\npassphrase-file {}\n",
                pass_file.display()
            ),
        )
        .unwrap();
    };
    conf(&pw);
    let gpg_cmd = |args: &[&str]| {
        let mut c = plugin(Store::Moto, args);
        c.env("GNUPGHOME", &home);
        c
    };
    let f = gpgfile.to_str().unwrap();
    let v = json(&ok(gpg_cmd(&["verify", f, "-o", "json"])));
    assert_eq!(v["files"][0]["keys"], 777, "{v}");
    assert_eq!(v["files"][0]["encrypted"], true);
    let i = json(&ok(gpg_cmd(&["inspect", f, "-o", "json"])));
    assert_eq!(i["keys"], 777);
    // A wrong passphrase.
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    conf(&wrong);
    let (code, _, err) = run(gpg_cmd(&["verify", f]));
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("gpg could not decrypt it"), "{err}");
    // No gpg at all.
    let mut c = gpg_cmd(&["verify", f]);
    c.env("PATH", "/nonexistent");
    let (code, _, err) = run(c);
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("install gnupg"), "{err}");
}

/// A passphrase instead of keys (age's scrypt, for teams used to `gpg
/// --symmetric`): backup and verify with it; a wrong one is exit 13; the
/// age CLI (which reads passphrases only from a terminal, given one here by
/// `script`) decrypts ours.
#[test]
fn passphrase_encryption() {
    let r = Redis::start(16511);
    r.cli(&["DEBUG", "POPULATE", "321", "key", "10"]);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let short = dir.path().join("short");
    std::fs::write(&short, "hunter2\n").unwrap();
    let url = format!("s3://backups/{}", prefix("pass"));
    let (code, _, err) = run(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--passphrase-file",
            short.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 2, "a weak passphrase is refused: {err}");
    let out = ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--passphrase-file",
            pw.to_str().unwrap(),
        ],
    ));
    let path = out.trim().to_string();
    assert!(path.ends_with(".rdb.age"), "{path}");
    let v = json(&ok(plugin(
        Store::Moto,
        &[
            "verify",
            &path,
            "--passphrase-file",
            pw.to_str().unwrap(),
            "-o",
            "json",
        ],
    )));
    assert_eq!(v["files"][0]["keys"], 321);
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not the right passphrase\n").unwrap();
    let (code, _, err) = run(plugin(
        Store::Moto,
        &[
            "verify",
            &path,
            "--passphrase-file",
            wrong.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 13, "{err}");
    // The age CLI reads it (the object fetched through copy to a directory).
    let local = dir.path().join("local");
    ok(plugin(
        Store::Moto,
        &["copy", &url, local.to_str().unwrap()],
    ));
    let name = path.rsplit('/').next().unwrap();
    let plain = dir.path().join("plain.rdb");
    let cmd = format!(
        "age -d -o {} {}",
        plain.display(),
        local.join(name).display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Answer once age shows its prompt on the terminal script gives it.
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&seen).contains("Enter passphrase") {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "age never asked: {}",
            String::from_utf8_lossy(&seen)
        );
        if let Ok(b) = rx.recv_timeout(left) {
            seen.extend(b);
        }
    }
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"correct horse battery staple\n").unwrap();
    }
    let st = child.wait().unwrap();
    assert!(st.success());
    let chk = Command::new("redis-check-rdb")
        .arg(&plain)
        .output()
        .unwrap();
    assert!(
        chk.status.success(),
        "{}",
        String::from_utf8_lossy(&chk.stdout)
    );
}

/// GCS, as far as a local server honestly goes: fake-gcs-server speaks the
/// JSON API, not the XML API `object_store` uploads with. A backup and its
/// manifest put there through the JSON API are listed, verified, inspected
/// and checked through `gs://`; a backup to `gs://` fails with exit 12
/// naming the server's refusal, and leaves no backup listed.
#[test]
fn gcs_reads_against_fake_gcs_server() {
    let r = Redis::start(16513);
    r.cli(&["DEBUG", "POPULATE", "444", "key", "10"]);
    let e = stores();
    let dir = tempfile::tempdir().unwrap();
    let out = ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--out-dir",
            dir.path().to_str().unwrap(),
        ],
    ));
    let file = PathBuf::from(out.trim());
    let name = file.file_name().unwrap().to_str().unwrap().to_string();
    let pre = prefix("gcs");
    for (local, remote) in [
        (file.clone(), name.clone()),
        (
            PathBuf::from(format!("{}.json", file.display())),
            format!("{name}.json"),
        ),
    ] {
        let st = Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "-X", "POST", "--data-binary"])
            .arg(format!("@{}", local.display()))
            .arg(format!(
                "{}/upload/storage/v1/b/backups/o?uploadType=media&name={pre}/{remote}",
                e["KUBECTL_REDIS_TEST_GCS"]
            ))
            .status()
            .unwrap();
        assert!(st.success());
    }
    let gcs = |args: &[&str]| {
        let mut c = plugin(Store::Moto, args);
        c.env(
            "GOOGLE_SERVICE_ACCOUNT",
            &e["KUBECTL_REDIS_TEST_GCS_SERVICE_ACCOUNT"],
        );
        c
    };
    let url = format!("gs://backups/{pre}");
    let out = ok(gcs(&["list", "--repo", &url, "-o", "json"]));
    let l = kubectl_redis_e2e::schema_checked("list", &out);
    assert_eq!(l["backups"][0]["file"], name.as_str(), "{l}");
    assert_eq!(l["backups"][0]["status"], "verified", "{l}");
    let v = json(&ok(gcs(&[
        "verify",
        &format!("{url}/{name}"),
        "-o",
        "json",
    ])));
    assert_eq!(v["files"][0]["keys"], 444);
    assert_eq!(v["files"][0]["manifest"], "match");
    let i = json(&ok(gcs(&[
        "inspect",
        &format!("{url}/{name}"),
        "-o",
        "json",
    ])));
    assert_eq!(i["keys"], 444);
    let (code, _, err) = run(gcs(&["check", "--repo", &url, "--max-age", "1h"]));
    assert_eq!(code, 0, "{err}");
    // Uploads: not with this server (documented in the README).
    let url2 = format!("gs://backups/{}", prefix("gcs-up"));
    let (code, _, err) = run(gcs(&[
        "backup",
        "--url",
        &r.url(),
        "--repo",
        &url2,
        "--no-encrypt",
    ]));
    assert_eq!(code, 12, "{err}");
    assert!(err.contains("invalid uploadType"), "{err}");
    let l = kubectl_redis_e2e::schema_checked(
        "list",
        &ok(gcs(&["list", "--repo", &url2, "-o", "json"])),
    );
    assert!(
        l["backups"].as_array().unwrap().is_empty(),
        "no backup: {l}"
    );
}

/// Key rotation: `copy --encrypt-to NEW --identity OLD` re-encrypts an
/// encrypted backup to the new recipient; the copy opens with the new key
/// only, and still matches the plaintext the manifest describes.
#[test]
fn copy_rotates_the_key() {
    let r = Redis::start(16514);
    r.cli(&["DEBUG", "POPULATE", "123", "key", "10"]);
    let keys = tempfile::tempdir().unwrap();
    let (old, old_pub) = keypair(keys.path(), "old.txt");
    let (new, new_pub) = keypair(keys.path(), "new.txt");
    let url = format!("s3://backups/{}", prefix("rotate"));
    let b = json(&ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--encrypt-to",
            &old_pub,
            "-o",
            "json",
        ],
    )));
    let dir = tempfile::tempdir().unwrap();
    let c = json(&ok(plugin(
        Store::Moto,
        &[
            "copy",
            &url,
            dir.path().to_str().unwrap(),
            "--encrypt-to",
            &new_pub,
            "-i",
            old.to_str().unwrap(),
            "-o",
            "json",
        ],
    )));
    let path = c["copied"][0]["destination"].as_str().unwrap().to_string();
    assert!(path.ends_with(".rdb.age"), "{c}");
    let v = json(&ok(plugin(
        Store::Moto,
        &["verify", &path, "-i", new.to_str().unwrap(), "-o", "json"],
    )));
    assert_eq!(v["files"][0]["keys"], 123);
    assert_eq!(v["files"][0]["manifest"], "match");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{path}.json")).unwrap()).unwrap();
    assert_eq!(m["sha256"], b["sha256"], "the same plaintext");
    assert_eq!(m["encryption"]["recipients"][0], new_pub.as_str());
    let (code, _, err) = run(plugin(
        Store::Moto,
        &["verify", &path, "-i", old.to_str().unwrap()],
    ));
    assert_eq!(code, 13, "the old key no longer opens the copy: {err}");
}

/// `repo init` and `repo show` (issue 21): after init, a backup with no
/// encryption flag is encrypted to the recorded recipient, `--no-encrypt`
/// is not; init again is refused unless `--force`, which rotates the key
/// (new backups only for the new one); a garbled settings file stops a
/// backup with exit 12 before anything is uploaded. Every `repo -o json`
/// is checked against its schema.
#[test]
fn repo_settings_encrypt_backups_without_flags() {
    let r = Redis::start(16515);
    r.cli(&["SET", "k", "v"]);
    let keys = tempfile::tempdir().unwrap();
    let (id1, pub1) = keypair(keys.path(), "one.txt");
    let (id2, pub2) = keypair(keys.path(), "two.txt");
    let url = format!("s3://backups/{}", prefix("repo"));

    let out = ok(plugin(
        Store::Moto,
        &["repo", "init", &url, "--encrypt-to", &pub1, "-o", "json"],
    ));
    let init = kubectl_redis_e2e::schema_checked("repo", &out);
    assert_eq!(init["recipients"], serde_json::json!([pub1]), "{init}");
    let show = |what: &str| {
        let out = ok(plugin(Store::Moto, &["repo", "show", &url, "-o", "json"]));
        let j = kubectl_redis_e2e::schema_checked("repo", &out);
        assert_eq!(j["repository"], url.as_str(), "{what}: {j}");
        j["recipients"].clone()
    };
    assert_eq!(show("after init"), serde_json::json!([pub1]));

    let redis_url = r.url();
    let backup = |extra: &[&str]| {
        let mut a = vec!["backup", "--url", &redis_url, "--repo", &url, "-o", "json"];
        a.extend_from_slice(extra);
        let b = json(&ok(plugin(Store::Moto, &a)));
        b["path"].as_str().unwrap().to_string()
    };
    let verify = |path: &str, id: &Path| {
        run(plugin(
            Store::Moto,
            &["verify", path, "-i", id.to_str().unwrap(), "-o", "json"],
        ))
        .0
    };
    let enc = backup(&[]);
    assert!(enc.ends_with(".rdb.age"), "encrypted without a flag: {enc}");
    assert_eq!(verify(&enc, &id1), 0);
    std::thread::sleep(Duration::from_millis(1100)); // one backup name a second
    let plain = backup(&["--no-encrypt"]);
    assert!(plain.ends_with(".rdb"), "--no-encrypt: {plain}");

    // Init again: refused, nothing changed; with --force, the key rotates.
    let (code, out, err) = run(plugin(
        Store::Moto,
        &["repo", "init", &url, "--encrypt-to", &pub2, "-o", "json"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already has settings"), "{err}");
    assert_eq!(
        kubectl_redis_e2e::schema_checked("repo", &out)["exit_code"],
        2
    );
    assert_eq!(show("after a refused init"), serde_json::json!([pub1]));
    ok(plugin(
        Store::Moto,
        &["repo", "init", &url, "--encrypt-to", &pub2, "--force"],
    ));
    assert_eq!(show("after --force"), serde_json::json!([pub2]));
    std::thread::sleep(Duration::from_millis(1100));
    let rotated = backup(&[]);
    assert_eq!(
        verify(&rotated, &id2),
        0,
        "the new key reads the new backup"
    );
    assert_eq!(verify(&rotated, &id1), 13, "the old key does not");
    assert_eq!(verify(&enc, &id1), 0, "an old backup keeps its recipient");

    // A garbled settings file (a local repository, to garble it by hand).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    ok(plugin(
        Store::Moto,
        &["repo", "init", d, "--encrypt-to", &pub1],
    ));
    std::fs::write(dir.path().join("kubectl-redis-repo.json"), b"{not json").unwrap();
    let (code, _, err) = run(plugin(
        Store::Moto,
        &["backup", "--url", &r.url(), "--repo", d],
    ));
    assert_eq!(code, 12, "{err}");
    assert!(
        err.contains("is not a repository config") && err.contains("--force"),
        "{err}"
    );
    let (code, out, err) = run(plugin(Store::Moto, &["repo", "show", d, "-o", "json"]));
    assert_eq!(code, 12, "{err}");
    kubectl_redis_e2e::schema_checked("repo", &out);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec!["kubectl-redis-repo.json".to_string()],
        "nothing uploaded"
    );
}

/// A key held by AWS KMS (moto's KMS, the only one here): `--encrypt-to
/// awskms://ARN` makes an ordinary age file whose key only KMS can unwrap;
/// list, verify (every byte, through KMS), restore, and copy re-encrypting
/// age to KMS all work with the AWS credential chain; a KMS that does not
/// know the key (a fresh moto) refuses Decrypt: exit 13, nothing restored;
/// an unreachable KMS fails the backup before Redis is asked (exit 12).
#[test]
fn kms_held_keys_back_up_restore_copy_and_refuse() {
    let moto = stores()["KUBECTL_REDIS_TEST_MOTO"].clone();
    let create = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import boto3\nc=boto3.client('kms',endpoint_url='{moto}',region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t')\nprint(c.create_key()['KeyMetadata']['Arn'])"
        ))
        .output()
        .unwrap();
    let arn = String::from_utf8_lossy(&create.stdout).trim().to_string();
    assert!(
        arn.starts_with("arn:aws:kms:"),
        "{arn} {}",
        String::from_utf8_lossy(&create.stderr)
    );
    let kms = format!("awskms://{arn}");
    let r = Redis::start(16522);
    r.cli(&["DEBUG", "POPULATE", "1000", "key", "20"]);
    let url = format!("s3://backups/{}", prefix("kms"));
    let b = kubectl_redis_e2e::schema_checked(
        "backup",
        &ok(plugin(
            Store::Moto,
            &[
                "backup",
                "--url",
                &r.url(),
                "--repo",
                &url,
                "--encrypt-to",
                &kms,
                "-o",
                "json",
            ],
        )),
    );
    let path = b["path"].as_str().unwrap().to_string();
    assert!(path.ends_with(".rdb.age"), "{path}");
    assert_eq!(b["encryption"]["recipients"][0], kms.as_str());
    // The manifest holds the wrapped identity, never a secret.
    let m = json(&ok(plugin(Store::Moto, &["verify", &path, "-o", "json"])));
    assert_eq!(m["files"][0]["checked"], "every-byte", "KMS unwrapped: {m}");
    assert_eq!(m["files"][0]["keys"], 1000);
    // Restore into another server with nothing but the AWS credentials.
    let t = Redis::start(16523);
    t.cli(&["SET", "before", "1"]);
    ok(plugin(
        Store::Moto,
        &[
            "restore",
            "--latest",
            "--repo",
            &url,
            "--url",
            &t.url(),
            "--method",
            "live",
            "--yes",
        ],
    ));
    assert_eq!(t.cli(&["DBSIZE"]), "1000");
    // Copy re-encrypting: an age backup becomes a KMS one.
    let keys = tempfile::tempdir().unwrap();
    let (id, public) = keypair(keys.path(), "id.txt");
    let aged = format!("s3://backups/{}", prefix("kms-age"));
    let moved = format!("s3://backups/{}", prefix("kms-moved"));
    ok(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &aged,
            "--encrypt-to",
            &public,
        ],
    ));
    let c = json(&ok(plugin(
        Store::Moto,
        &[
            "copy",
            &aged,
            &moved,
            "--encrypt-to",
            &kms,
            "-i",
            id.to_str().unwrap(),
            "-o",
            "json",
        ],
    )));
    assert_eq!(c["copied"].as_array().unwrap().len(), 1, "{c}");
    let moved_path = c["copied"][0]["destination"].as_str().unwrap().to_string();
    let v = json(&ok(plugin(
        Store::Moto,
        &["verify", &moved_path, "-o", "json"],
    )));
    assert_eq!(v["files"][0]["checked"], "every-byte", "{v}");
    // A KMS that does not know the key: Decrypt refused, exit 13, nothing
    // restored.
    let fresh = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = fresh.local_addr().unwrap().port();
    drop(fresh);
    let mut other = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "a fresh moto did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    t.cli(&["FLUSHALL"]);
    t.cli(&["SET", "untouched", "1"]);
    let mut c = plugin(
        Store::Moto,
        &[
            "restore",
            "--file",
            &path,
            "--url",
            &t.url(),
            "--method",
            "live",
            "--yes",
        ],
    );
    c.env("AWS_ENDPOINT_URL_KMS", format!("http://127.0.0.1:{port}"));
    let (code, _, err) = run(c);
    let _ = other.kill();
    let _ = other.wait();
    assert_eq!(code, 13, "{err}");
    assert!(
        err.contains("Decrypt refused") && err.contains(&arn),
        "{err}"
    );
    assert!(
        err.contains("AWS credentials from $AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    assert_eq!(t.cli(&["DBSIZE"]), "1");
    assert_eq!(t.cli(&["GET", "untouched"]), "1");
    // An unreachable KMS: the backup fails before Redis is asked (exit 12).
    let before = r.cli(&["INFO", "stats"]);
    let syncs = |info: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix("sync_full:"))
            .map(|v| v.trim().to_string())
    };
    let mut c = plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--encrypt-to",
            &kms,
        ],
    );
    c.env("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1");
    let (code, _, err) = run(c);
    assert_eq!(code, 12, "{err}");
    assert!(err.contains("nothing was backed up"), "{err}");
    assert_eq!(
        syncs(&r.cli(&["INFO", "stats"])),
        syncs(&before),
        "Redis was asked for a snapshot"
    );
    // Google Cloud KMS through Google's SDK, whose credentials cannot be
    // found: the same refusal, naming where they were looked for.
    let gcp = "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k";
    let mut c = plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &url,
            "--encrypt-to",
            gcp,
        ],
    );
    c.env("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json");
    let (code, _, err) = run(c);
    assert_eq!(code, 12, "{err}");
    assert!(
        err.contains(gcp)
            && err.contains("$GOOGLE_APPLICATION_CREDENTIALS")
            && err.contains("nothing was backed up"),
        "{err}"
    );
    assert_eq!(
        syncs(&r.cli(&["INFO", "stats"])),
        syncs(&before),
        "Redis was asked for a snapshot"
    );
    assert_eq!(
        listing(Store::Moto, &url)["backups"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Two repositories, one recording an age recipient, the other a KMS
    // key: refused (exit 2), as the wrapped key is recorded once for all.
    let other_repo = format!("s3://backups/{}", prefix("kms-other"));
    ok(plugin(
        Store::Moto,
        &["repo", "init", &other_repo, "--encrypt-to", &public],
    ));
    let kms_repo = format!("s3://backups/{}", prefix("kms-only"));
    ok(plugin(
        Store::Moto,
        &["repo", "init", &kms_repo, "--encrypt-to", &kms],
    ));
    let (code, _, err) = run(plugin(
        Store::Moto,
        &[
            "backup",
            "--url",
            &r.url(),
            "--repo",
            &kms_repo,
            "--repo",
            &other_repo,
        ],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("same recipients"), "{err}");
}

/// A backup set as its shards' Jobs write it (`backup --in-cluster` of a
/// Redis Cluster runs these same commands, one process per shard), on a
/// real 3-primary cluster into a directory: listed as one row once the
/// last shard sealed it, never before; its shards' files alone are
/// leftovers `prune` removes. Copied shard by shard to S3 (encrypted on the
/// way, the set's manifest made again from the copies), verified there,
/// copied back merged into one file, and restored into one server whole.
#[test]
fn backup_sets_are_sealed_listed_copied_and_merged() {
    let nodes: Vec<Redis> = (16524..16527)
        .map(|p| {
            let conf = format!("/tmp/kr-set-nodes-{p}-{}.conf", std::process::id());
            Redis::start_with(
                p,
                &["--cluster-enabled", "yes", "--cluster-config-file", &conf],
            )
        })
        .collect();
    for n in &nodes[1..] {
        assert_eq!(
            nodes[0].cli(&["CLUSTER", "MEET", "127.0.0.1", &n.port.to_string()]),
            "OK"
        );
    }
    for (n, (a, b)) in nodes.iter().zip([(0, 5460), (5461, 10922), (10923, 16383)]) {
        assert_eq!(
            n.cli(&["CLUSTER", "ADDSLOTSRANGE", &a.to_string(), &b.to_string()]),
            "OK"
        );
    }
    wait_until(30, "cluster_state:ok", || {
        nodes
            .iter()
            .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    // 300 keys, each on the primary serving its slot.
    let mut load = Command::new("redis-cli")
        .args(["-c", "-p", "16524"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-cli");
    {
        use std::io::Write;
        let mut w = load.stdin.take().expect("stdin");
        for i in 0..300 {
            writeln!(w, "SET k{i} v{i}").expect("write");
        }
    }
    assert!(load.wait().expect("wait").success());
    let total: u64 = nodes
        .iter()
        .map(|n| n.cli(&["DBSIZE"]).parse::<u64>().unwrap_or(0))
        .sum();
    assert_eq!(total, 300);
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = tmp.path().join("a");
    let a_s = a.to_string_lossy().into_owned();
    let url = nodes[0].url();
    let backup = |extra: &[&str]| -> (i32, String, String) {
        let mut args = vec![
            "backup",
            "--url",
            &url,
            "--allow-host",
            "127.0.0.1",
            "--repo",
            &a_s,
        ];
        args.extend_from_slice(extra);
        run(plugin(Store::Moto, &args))
    };
    // The first Job's plan: the set's name and its shards.
    let (code, out, err) = backup(&["--set-plan", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan = json(&out);
    assert_eq!(plan["kind"], "BackupSetPlan", "{out}");
    let set = plan["set"].as_str().expect("the set's name").to_string();
    let slots: Vec<u64> = plan["shards"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["slot"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(slots, [0, 5461, 10923], "{out}");
    let shard = |slot: &str| {
        backup(&[
            "--set",
            &set,
            "--shard",
            slot,
            "--set-shards",
            "0,5461,10923",
            "-o",
            "json",
        ])
    };
    // Two of three shards stored: no set yet, their files are leftovers.
    for slot in ["10923", "0"] {
        let (code, out, err) = shard(slot);
        assert_eq!(code, 0, "{err}");
        assert_eq!(json(&out)["set"]["sealed"], false, "{out}");
    }
    let l = listing(Store::Moto, &a_s);
    assert_eq!(l["backups"], serde_json::json!([]), "{l}");
    assert_eq!(l["partial"].as_array().map(Vec::len), Some(4), "{l}");
    // The last shard seals it.
    let (code, out, err) = shard("5461");
    assert_eq!(code, 0, "{err}");
    let r = json(&out);
    assert_eq!(r["set"]["sealed"], true, "{out}");
    assert_eq!(r["set"]["waiting_for"], serde_json::json!([]), "{out}");
    let l = listing(Store::Moto, &a_s);
    assert_eq!(l["backups"][0]["file"], set.as_str(), "{l}");
    assert_eq!(l["backups"][0]["shards"], 3, "{l}");
    assert_eq!(l["backups"][0]["keys"], 300, "{l}");
    assert_eq!(l["backups"][0]["status"], "verified", "{l}");
    assert_eq!(l["partial"], serde_json::json!([]), "{l}");
    let set_path = a.join(&set).to_string_lossy().into_owned();
    let (code, out, err) = run(plugin(Store::Moto, &["verify", &set_path, "-o", "json"]));
    assert_eq!(code, 0, "{err}");
    let v = kubectl_redis_e2e::schema_checked("verify", &out);
    assert_eq!(v["sets"][0]["ok"], true, "{out}");
    assert_eq!(v["files"].as_array().map(Vec::len), Some(3), "{out}");
    // A shard's file changed: the set's status says so, verify fails.
    let shard_file = a.join(format!("{set}.shard-5461.rdb"));
    let good = std::fs::read(&shard_file).expect("read");
    std::fs::write(&shard_file, &good[..good.len() - 1]).expect("truncate");
    let l = listing(Store::Moto, &a_s);
    assert_eq!(l["backups"][0]["status"], "shard file size differs", "{l}");
    let (code, _, _) = run(plugin(Store::Moto, &["verify", &set_path]));
    assert_ne!(code, 0);
    std::fs::write(&shard_file, &good).expect("restore");
    // Copied shard by shard to S3, encrypted on the way.
    let (key, public) = keypair(tmp.path(), "key.txt");
    let key_s = key.to_string_lossy().into_owned();
    let s3 = format!("s3://backups/{}", prefix("sets"));
    let (code, out, err) = run(plugin(
        Store::Moto,
        &["copy", &a_s, &s3, "--encrypt-to", &public, "-o", "json"],
    ));
    assert_eq!(code, 0, "{err}");
    let c = kubectl_redis_e2e::schema_checked("copy", &out);
    assert_eq!(c["sets"], serde_json::json!([set.as_str()]), "{out}");
    assert_eq!(c["copied"].as_array().map(Vec::len), Some(3), "{out}");
    let l = listing(Store::Moto, &s3);
    assert_eq!(l["backups"][0]["file"], set.as_str(), "{l}");
    assert_eq!(l["backups"][0]["shards"], 3, "{l}");
    let remote_set = format!("{s3}/{set}");
    let (code, _, err) = run(plugin(
        Store::Moto,
        &["verify", &remote_set, "--identity", &key_s],
    ));
    assert_eq!(code, 0, "{err}");
    // Copied again: already there.
    let (code, out, err) = run(plugin(
        Store::Moto,
        &["copy", &a_s, &s3, "--encrypt-to", &public, "-o", "json"],
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out)["skipped"],
        serde_json::json!([set.as_str()]),
        "{out}"
    );
    // Back, merged into one file, and restored whole into one server.
    let b = tmp.path().join("b");
    let b_s = b.to_string_lossy().into_owned();
    let (code, out, err) = run(plugin(
        Store::Moto,
        &[
            "copy",
            &s3,
            &b_s,
            "--merge",
            "--identity",
            &key_s,
            "-o",
            "json",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    let merged = json(&out)["copied"][0]["destination"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(merged.ends_with(".rdb"), "{out}");
    let l = listing(Store::Moto, &b_s);
    assert_eq!(l["backups"][0]["keys"], 300, "{l}");
    assert_eq!(l["backups"][0]["shards"], serde_json::Value::Null, "{l}");
    let single = Redis::start(16527);
    let (code, _, err) = run(plugin(
        Store::Moto,
        &[
            "restore",
            "--url",
            &single.url(),
            "--file",
            &merged,
            "--yes",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(single.cli(&["DBSIZE"]), "300");
    assert_eq!(single.cli(&["GET", "k42"]), "v42");
    // And straight from the encrypted set in S3.
    assert_eq!(single.cli(&["FLUSHALL"]), "OK");
    let (code, _, err) = run(plugin(
        Store::Moto,
        &[
            "restore",
            "--url",
            &single.url(),
            "--file",
            &remote_set,
            "--identity",
            &key_s,
            "--yes",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(single.cli(&["DBSIZE"]), "300");
    // Into a cluster of another shape (2 primaries), one process per
    // target primary as its Jobs run: each keeps its slots' keys from
    // every shard's file, flushes and counts only its own primary.
    let two: Vec<Redis> = (16528..16530)
        .map(|p| {
            let conf = format!("/tmp/kr-set-nodes-{p}-{}.conf", std::process::id());
            Redis::start_with(
                p,
                &["--cluster-enabled", "yes", "--cluster-config-file", &conf],
            )
        })
        .collect();
    assert_eq!(two[0].cli(&["CLUSTER", "MEET", "127.0.0.1", "16529"]), "OK");
    assert_eq!(two[0].cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "8191"]), "OK");
    assert_eq!(
        two[1].cli(&["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"]),
        "OK"
    );
    wait_until(30, "the 2-primary cluster ok", || {
        two.iter()
            .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    // Keys of its own on both primaries: each Job's flush removes them.
    for i in 0..20 {
        let out = Command::new("redis-cli")
            .args(["-c", "-p", "16528", "SET", &format!("stale{i}"), "x"])
            .output()
            .expect("redis-cli");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
    }
    assert!(
        two.iter().all(|n| n.cli(&["DBSIZE"]) != "0"),
        "stale keys on both"
    );
    let jobs: Vec<std::process::Child> = [(&two[0], "0-8191"), (&two[1], "8192-16383")]
        .iter()
        .map(|(n, slots)| {
            plugin(
                Store::Moto,
                &[
                    "restore",
                    "--url",
                    &n.url(),
                    "--allow-host",
                    "127.0.0.1",
                    "--file",
                    &remote_set,
                    "--identity",
                    &key_s,
                    "--only-slots",
                    slots,
                    "--yes",
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("restore")
        })
        .collect();
    for j in jobs {
        let out = j.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let counts: Vec<String> = two.iter().map(|n| n.cli(&["DBSIZE"])).collect();
    let sum: u64 = counts.iter().filter_map(|c| c.parse::<u64>().ok()).sum();
    assert_eq!(sum, 300, "{counts:?}");
    assert!(
        counts.iter().all(|c| c != "0"),
        "each primary got its share: {counts:?}"
    );
    let k42 = Command::new("redis-cli")
        .args(["-c", "-p", "16528", "GET", "k42"])
        .output()
        .expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&k42.stdout).trim(), "v42");
    for n in &two {
        let _ = std::fs::remove_file(format!(
            "/tmp/kr-set-nodes-{}-{}.conf",
            n.port,
            std::process::id()
        ));
    }
    // A set whose last shard never came: its files are leftovers, which
    // prune removes; the sealed set stays.
    let (code, out, err) = backup(&["--set-plan"]);
    assert_eq!(code, 0, "{err}");
    let broken = out.trim().to_string();
    assert_ne!(broken, set);
    let (code, _, err) = backup(&[
        "--set",
        &broken,
        "--shard",
        "0",
        "--set-shards",
        "0,5461,10923",
    ]);
    assert_eq!(code, 0, "{err}");
    let l = listing(Store::Moto, &a_s);
    assert_eq!(l["partial"].as_array().map(Vec::len), Some(2), "{l}");
    wait_until(
        10,
        "prune to remove the leftovers once a second old",
        || {
            let (code, _, err) = run(plugin(
                Store::Moto,
                &[
                    "prune",
                    "--repo",
                    &a_s,
                    "--keep-last",
                    "5",
                    "--leftovers-older-than",
                    "1s",
                    "--yes",
                ],
            ));
            assert_eq!(code, 0, "{err}");
            listing(Store::Moto, &a_s)["partial"] == serde_json::json!([])
        },
    );
    let l = listing(Store::Moto, &a_s);
    assert_eq!(l["partial"], serde_json::json!([]), "{l}");
    assert_eq!(l["backups"].as_array().map(Vec::len), Some(1), "{l}");
    for n in &nodes {
        let _ = std::fs::remove_file(format!(
            "/tmp/kr-set-nodes-{}-{}.conf",
            n.port,
            std::process::id()
        ));
    }
}
