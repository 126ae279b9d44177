//! End-to-end tests: the real `kubectl-redis` binary against the real local
//! cluster (`make cluster-up`: API server, kubelet, containers) and real
//! Redis servers started with testcontainers.
//!
//! Each test that needs a Redis gets a namespace of its own (`e2e-NAME`) with
//! a Redis on a port of its own, so tests run in parallel without sharing
//! state. Waits are on conditions with deadlines, never fixed sleeps.

mod common;
use common::{age_key, bin, pki, wait_until};
use kubectl_redis_e2e::{digest_of, now_s, schema_checked, utc};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use testcontainers::core::{Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};

const REDIS_IMAGE: (&str, &str) = ("kubectl-redis/redis", "7.0");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The local cluster's kubeconfig: $KUBECONFIG_E2E, else asked of the script.
fn kubeconfig() -> String {
    if let Ok(k) = std::env::var("KUBECONFIG_E2E") {
        return k;
    }
    let out = Command::new(repo().join("scripts/cluster.sh"))
        .arg("kubeconfig")
        .output()
        .expect("run scripts/cluster.sh");
    assert!(
        out.status.success(),
        "no local cluster: start it with `make cluster-up` ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", kubeconfig())
        .output()
        .expect("run kubectl")
}

fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The plugin, with the cluster's kubeconfig, no colour and a clean env.
fn plugin(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .env("KUBECONFIG", kubeconfig())
        .env("NO_COLOR", "1")
        .env_remove("NS")
        .env_remove("APP_LABEL")
        .env_remove("OUT_DIR")
        .env_remove("BACKUPS_DIR");
    c
}

fn run(mut c: impl std::borrow::BorrowMut<Command>) -> (i32, String, String) {
    let out = c.borrow_mut().output().expect("run kubectl-redis");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A namespace with one Redis Deployment on its own loopback port.
struct Scene {
    ns: String,
    port: u16,
    pod: String,
}

impl Scene {
    fn new(name: &str, port: u16, label: &str, extra_args: &[&str]) -> Scene {
        Scene::with_env(name, port, label, extra_args, &[])
    }

    /// As [`Scene::new`], with environment variables on the Redis container.
    fn with_env(
        name: &str,
        port: u16,
        label: &str,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> Scene {
        Scene::build(name, port, label, extra_args, env, REDIS_IMAGE)
    }

    /// As [`Scene::new`], running Redis from `image` (name, tag).
    fn build(
        name: &str,
        port: u16,
        label: &str,
        extra_args: &[&str],
        env: &[(&str, &str)],
        image: (&str, &str),
    ) -> Scene {
        let env: Vec<serde_json::Value> = env
            .iter()
            .map(|(k, v)| serde_json::json!({"name": k, "value": v}))
            .collect();
        let ns = format!("e2e-{name}");
        // A namespace left by an earlier run would hold the port: remove it first.
        remove_namespace(&ns);
        let args: Vec<String> = [
            "redis-server",
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            "/data",
            "--save",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(extra_args.iter().map(|s| s.to_string()))
        .collect();
        let manifest = format!(
            r#"{{"apiVersion":"v1","kind":"List","items":[
{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}},
{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"redis","namespace":"{ns}"}},
 "spec":{{"replicas":1,"strategy":{{"type":"Recreate"}},"selector":{{"matchLabels":{{"app":"{label}"}}}},
  "template":{{"metadata":{{"labels":{{"app":"{label}"}}}},"spec":{{"hostNetwork":true,"terminationGracePeriodSeconds":1,
   "containers":[{{"name":"redis","image":"{}:{}","imagePullPolicy":"Never","command":{},"env":{},
     "ports":[{{"name":"redis","containerPort":{port}}}],
     "readinessProbe":{},
     "volumeMounts":[{{"name":"data","mountPath":"/data"}}]}}],
   "volumes":[{{"name":"data","emptyDir":{{}}}}]}}}}}}}}]}}"#,
            image.0,
            image.1,
            serde_json::to_string(&args).expect("json"),
            serde_json::Value::Array(env),
            // An image without redis-cli is probed on its port.
            if image.0.ends_with("-noshell") {
                format!(r#"{{"tcpSocket":{{"host":"127.0.0.1","port":{port}}},"periodSeconds":1}}"#)
            } else {
                format!(
                    r#"{{"exec":{{"command":["redis-cli","-p","{port}","ping"]}},"periodSeconds":1}}"#
                )
            }
        );
        apply(&manifest);
        kubectl_ok(&[
            "-n",
            &ns,
            "rollout",
            "status",
            "deploy/redis",
            "--timeout=120s",
        ]);
        let pod = kubectl_ok(&[
            "-n",
            &ns,
            "get",
            "pods",
            "-l",
            &format!("app={label}"),
            "--field-selector=status.phase=Running",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ]);
        Scene { ns, port, pod }
    }

    /// Waits until the Redis pod is Ready (a long command such as DEBUG
    /// POPULATE blocks Redis, and its readiness probe fails meanwhile).
    fn wait_ready(&self) {
        wait_until(120, "the redis pod to be Ready", || {
            let out = kubectl(&[
                "-n",
                &self.ns,
                "get",
                "pod",
                &self.pod,
                "-o",
                r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}"#,
            ]);
            String::from_utf8_lossy(&out.stdout).trim() == "True"
        });
    }

    /// A `worker` Deployment (the writer a restore stops) with `replicas`.
    fn add_worker(&self, replicas: u32) {
        self.add_worker_stopping_in(replicas, None);
    }

    /// As [`Scene::add_worker`]; with `Some(s)`, its pods ignore SIGTERM and
    /// take `s` seconds to go (a restore waits that long for them).
    fn add_worker_stopping_in(&self, replicas: u32, slow: Option<u32>) {
        let (grace, trap) = match slow {
            Some(s) => (s, "trap '' TERM"),
            None => (1, "trap 'exit 0' TERM"),
        };
        let manifest = format!(
            r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"worker","namespace":"{}"}},
 "spec":{{"replicas":{replicas},"selector":{{"matchLabels":{{"app":"worker"}}}},
  "template":{{"metadata":{{"labels":{{"app":"worker"}}}},"spec":{{"hostNetwork":true,"terminationGracePeriodSeconds":{grace},
   "containers":[{{"name":"worker","image":"{}:{}","imagePullPolicy":"Never",
     "command":["sh","-c","{trap}; while :; do sleep 1; done"]}}]}}}}}}}}"#,
            self.ns, REDIS_IMAGE.0, REDIS_IMAGE.1
        );
        apply(&manifest);
        kubectl_ok(&[
            "-n",
            &self.ns,
            "rollout",
            "status",
            "deploy/worker",
            "--timeout=120s",
        ]);
    }

    /// The worker's `spec.replicas` and its replica record annotation.
    fn worker(&self) -> (String, String) {
        let out = kubectl_ok(&[
            "-n",
            &self.ns,
            "get",
            "deploy/worker",
            "-o",
            r#"jsonpath={.spec.replicas} {.metadata.annotations.kubectl-redis\.io/restore-replicas}"#,
        ]);
        let (a, b) = out.split_once(' ').unwrap_or((out.as_str(), ""));
        (a.trim().to_string(), b.trim().to_string())
    }

    fn cli(&self, args: &[&str]) -> String {
        let port = self.port.to_string();
        let mut a = vec![
            "-n",
            &self.ns,
            "exec",
            &self.pod,
            "--",
            "redis-cli",
            "-p",
            &port,
        ];
        a.extend_from_slice(args);
        kubectl_ok(&a).trim().to_string()
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = kubectl(&["delete", "namespace", &self.ns, "--wait=false"]);
    }
}

/// Removes a namespace an earlier run left (it would hold its host ports),
/// waiting until it is gone.
fn remove_namespace(ns: &str) {
    let _ = kubectl(&[
        "delete",
        "namespace",
        ns,
        "--ignore-not-found",
        "--wait=true",
        "--timeout=120s",
    ]);
}

/// Applies these objects as one `List`.
fn apply_all(items: &[String]) {
    apply(&format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
        items.join(",")
    ));
}

fn apply(manifest: &str) {
    let mut apply = Command::new("kubectl")
        .args(["apply", "-f", "-"])
        .env("KUBECONFIG", kubeconfig())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("kubectl apply");
    apply
        .stdin
        .take()
        .expect("stdin")
        .write_all(manifest.as_bytes())
        .expect("write manifest");
    assert!(
        apply.wait().expect("kubectl apply").success(),
        "kubectl apply failed"
    );
}

type Lines = std::io::Lines<BufReader<std::process::ChildStderr>>;

/// Reads a child's stderr until a line contains `needle`; returns the lines
/// read. The child's own end (stderr closed) fails the test with them.
fn read_until(lines: &mut Lines, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("stderr ended before a line with {needle:?}:\n{seen}");
        };
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(needle) {
            return seen;
        }
    }
}

/// Starts `restore --yes` in the background and returns it, with its stderr
/// lines, once it says it is scaling the worker down.
fn restore_until_scale_down(s: &Scene, file: &str, extra: &[&str]) -> (std::process::Child, Lines) {
    restore_until_scale_down_with(s, file, extra, |_| {})
}

/// [`restore_until_scale_down`], with the command adjusted first.
fn restore_until_scale_down_with(
    s: &Scene,
    file: &str,
    extra: &[&str],
    adjust: impl FnOnce(&mut Command),
) -> (std::process::Child, Lines) {
    let mut args = vec!["restore", "-n", &s.ns, "--file", file, "--yes"];
    args.extend_from_slice(extra);
    let mut cmd = plugin(&args);
    adjust(&mut cmd);
    let mut child = cmd.stderr(Stdio::piped()).spawn().expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    read_until(&mut lines, "scale worker to 0");
    (child, lines)
}

/// Files in `dir` (names), sorted; empty if `dir` does not exist.
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Minimal RESP client: one command, the reply as text.
fn resp(port: u16, args: &[&str]) -> String {
    resp_all(port, &[args]).pop().unwrap_or_default()
}

/// Several commands on one connection (e.g. AUTH first), each reply as text.
fn resp_all(port: u16, commands: &[&[&str]]) -> Vec<String> {
    try_resp_all(port, commands).expect("talking to redis")
}

/// [`resp_all`] with commands built at run time.
fn resp_all_owned(port: u16, commands: &[Vec<String>]) -> Vec<String> {
    let refs: Vec<Vec<&str>> = commands
        .iter()
        .map(|c| c.iter().map(String::as_str).collect())
        .collect();
    let refs: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    resp_all(port, &refs)
}

/// [`resp`] while polling for a condition: a connection refused or closed
/// (Sentinel kills the clients of a server it reconfigures) reads as "".
fn poll_resp(port: u16, args: &[&str]) -> String {
    try_resp_all(port, &[args])
        .ok()
        .and_then(|mut v| v.pop())
        .unwrap_or_default()
}

fn try_resp_all(port: u16, commands: &[&[&str]]) -> std::io::Result<Vec<String>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut r = BufReader::new(s.try_clone()?);
    commands
        .iter()
        .map(|args| {
            let mut req = format!("*{}\r\n", args.len());
            for a in *args {
                req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
            }
            s.write_all(req.as_bytes())?;
            let mut line = String::new();
            if r.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            match line.as_bytes().first() {
                Some(b'$') => {
                    let n: i64 = line[1..]
                        .trim()
                        .parse()
                        .map_err(|_| std::io::Error::other(format!("bulk length {line:?}")))?;
                    if n < 0 {
                        return Ok("(nil)".to_string());
                    }
                    let mut buf = vec![0u8; n as usize + 2];
                    r.read_exact(&mut buf)?;
                    Ok(String::from_utf8_lossy(&buf[..n as usize]).into_owned())
                }
                _ => Ok(line.trim().trim_start_matches('+').to_string()),
            }
        })
        .collect()
}

/// Loads `file` into a fresh redis-server (a container of the test image,
/// host network, the file bind-mounted) and returns GET `key`.
async fn load_and_get(file: &Path, port: u16, key: &str) -> (String, String) {
    let dir = file.parent().expect("dir").to_string_lossy().into_owned();
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let container = GenericImage::new(REDIS_IMAGE.0, REDIS_IMAGE.1)
        .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
        .with_network("host")
        .with_mount(Mount::bind_mount(dir, "/backup"))
        .with_cmd([
            "redis-server",
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            "/backup",
            "--dbfilename",
            &name,
            "--save",
            "",
        ])
        .start()
        .await
        .expect("start a redis container (is dockerd running? make cluster-up starts it)");
    let got = resp(port, &["GET", key]);
    let dbsize = resp(port, &["DBSIZE"]);
    container.stop().await.expect("stop container");
    (got, dbsize)
}

/// The runbook's End-to-End Test, steps 1-3: set a key, back up, the file
/// holds the key. Also: the file is private (0600, its directory 0700), no
/// temporary file is left, redis-check-rdb accepts it, `list` shows it.
#[tokio::test(flavor = "multi_thread")]
async fn backup_holds_the_key() {
    let s = Scene::new("holds-key", 6411, "redis", &[]);
    let value = format!("backup-{}", std::process::id());
    assert_eq!(s.cli(&["SET", "test-backup", &value]), "OK");
    assert_eq!(s.cli(&["SET", "other", "x"]), "OK");

    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("backups");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "--method",
        "bgsave",
        "-n",
        &s.ns,
        "--out-dir",
        out_dir.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "stderr:\n{stderr}");
    for step in [
        "[backup] detecting redis pod in ns=e2e-holds-key label app=redis...",
        "[backup] LASTSAVE (before)",
        "[backup] BGSAVE...",
        "[backup] waiting for LASTSAVE to advance...",
        "[backup] OK",
    ] {
        assert!(stderr.contains(step), "missing {step:?} in:\n{stderr}");
    }
    let path = PathBuf::from(stdout.trim());
    assert!(path.starts_with(&out_dir), "{path:?}");
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("redis-backup-") && name.ends_with(".rdb") && name.len() == 32,
        "{name}"
    );
    assert_eq!(
        files_in(&out_dir),
        vec!["audit".to_string(), name.clone(), format!("{name}.json")],
        "only the backup, its manifest and the audit trail, no temp file"
    );
    assert_eq!(
        files_in(&out_dir.join("audit")).len(),
        1,
        "one record: the backup written"
    );
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!("{}.json", path.display())).expect("manifest"),
    )
    .expect("manifest json");
    assert_eq!(m["keys"], 2, "{m}");
    assert_eq!(m["verified"], true);
    assert_eq!(m["method"], "bgsave");
    assert_eq!(m["source"]["namespace"], s.ns.as_str());
    assert_eq!(m["size"], std::fs::metadata(&path).expect("stat").len());
    assert_eq!(
        std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&out_dir)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    let check = Command::new("redis-check-rdb")
        .arg(&path)
        .output()
        .expect("redis-check-rdb");
    let check_out = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && check_out.contains("RDB looks OK"),
        "{check_out}"
    );
    assert!(check_out.contains("2 keys read"), "{check_out}");

    let (got, dbsize) = load_and_get(&path, 6511, "test-backup").await;
    assert_eq!(got, value);
    assert_eq!(dbsize, ":2");

    // A second backup in the same directory: list shows both, newest first.
    assert_eq!(s.cli(&["SET", "test-backup", "modified"]), "OK");
    let (code, stdout2, stderr) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--out-dir",
        out_dir.to_str().expect("utf8"),
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let j = schema_checked("backup", &stdout2);
    // The default method streams through a port-forward: no exec, no BGSAVE.
    assert_eq!(j["method"], "stream", "{stdout2}");
    assert_eq!(j["source"]["namespace"], s.ns.as_str());
    assert_eq!(j["source"]["pod"], s.pod.as_str());
    assert_eq!(j["rdb_version"], 10);
    assert_eq!(j["keys"], 2);
    assert!(
        stderr.contains("[backup] streaming a snapshot (SYNC) from pod"),
        "{stderr}"
    );
    assert!(!stderr.contains("BGSAVE"), "{stderr}");
    let second = j["path"].as_str().expect("path").to_string();
    assert_eq!(
        std::fs::metadata(&second).expect("stat").len(),
        j["bytes"].as_u64().expect("bytes")
    );
    let (code, listing, _) = run(plugin(&[
        "list",
        "--out-dir",
        out_dir.to_str().expect("utf8"),
        "-o",
        "json",
    ]));
    assert_eq!(code, 0);
    let l = schema_checked("list", &listing);
    let names: Vec<&str> = l["backups"]
        .as_array()
        .expect("array")
        .iter()
        .map(|b| b["path"].as_str().expect("path"))
        .collect();
    assert_eq!(names, vec![second.as_str(), path.to_str().expect("utf8")]);
}

/// Exit 2 and the runbook's message when no pod matches; nothing written.
#[test]
fn pod_not_found_exits_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("b");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        "e2e-nothing-here",
        "--out-dir",
        out_dir.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!(stderr);
    assert!(!out_dir.exists(), "nothing may be created");

    // -o json reports the failure as JSON on stdout.
    let (code, stdout, _) = run(plugin(&[
        "backup",
        "-n",
        "e2e-nothing-here",
        "--out-dir",
        out_dir.to_str().expect("utf8"),
        "-o",
        "json",
    ]));
    assert_eq!(code, 2);
    let j = schema_checked("backup", &stdout);
    assert_eq!(j["exit_code"], 2);
    assert!(j["error"]["message"]
        .as_str()
        .expect("error")
        .starts_with("redis pod not found"));
    assert!(j["error"]["hint"].is_string(), "{j}");
}

/// A BGSAVE slower than --timeout exits 3 and leaves no file at all.
#[test]
fn too_short_timeout_exits_3() {
    let s = Scene::new("timeout", 6412, "redis", &[]);
    assert_eq!(s.cli(&["MSET", "a", "1", "b", "2", "c", "3"]), "OK");
    // Two seconds per key: the save takes about six seconds.
    assert_eq!(
        s.cli(&["CONFIG", "SET", "rdb-key-save-delay", "2000000"]),
        "OK"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("b");
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "--method",
        "bgsave",
        "-n",
        &s.ns,
        "--timeout",
        "1s",
        "--out-dir",
        out_dir.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("error: BGSAVE still not finished after 1s"),
        "{stderr}"
    );
    assert!(stderr.contains("retry with --timeout 60s"), "{stderr}");
    assert!(files_in(&out_dir).is_empty(), "{:?}", files_in(&out_dir));
}

/// The runbook's environment overrides: NS, APP_LABEL (a bare value means
/// app=VALUE), OUT_DIR; the namespace's source is said.
#[test]
fn runbook_environment_overrides() {
    let s = Scene::new("env", 6413, "cache", &[]);
    assert_eq!(s.cli(&["SET", "k", "v"]), "OK");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = run(plugin(&["backup"])
        .env("NS", &s.ns)
        .env("APP_LABEL", "cache")
        .env("OUT_DIR", tmp.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("namespace {} (from $NS)", s.ns)),
        "{stderr}"
    );
    assert!(stderr.contains("label app=cache"), "{stderr}");
    assert!(Path::new(stdout.trim()).starts_with(tmp.path()), "{stdout}");
    // BACKUPS_DIR (the make variable) when OUT_DIR is unset; -n beats NS.
    let tmp2 = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = run(plugin(&["backup", "-n", &s.ns, "-l", "app=cache"])
        .env("NS", "e2e-nothing-here")
        .env("BACKUPS_DIR", tmp2.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        Path::new(stdout.trim()).starts_with(tmp2.path()),
        "{stdout}"
    );
}

/// Ctrl-C while the dump streams out: exit 130, and the directory holds no
/// file at all (the temporary file is removed). Before the interrupt, only a
/// hidden temporary file exists: nothing under a final name.
#[test]
fn interrupted_copy_leaves_nothing() {
    let s = Scene::new(
        "interrupt",
        6414,
        "redis",
        &["--enable-debug-command", "yes"],
    );
    assert_eq!(s.cli(&["DEBUG", "POPULATE", "4000000", "key", "100"]), "OK");
    s.wait_ready();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("b");
    // A generous --timeout: under parallel load the 150 MB BGSAVE is slow.
    let mut child = plugin(&[
        "backup",
        "--method",
        "bgsave",
        "-n",
        &s.ns,
        "--timeout",
        "5m",
        "--out-dir",
        out_dir.to_str().expect("utf8"),
    ])
    .stderr(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let seen = read_until(&mut lines, "[backup] copying");
    let during = files_in(&out_dir);
    assert_eq!(during.len(), 1, "{during:?}");
    assert!(during[0].starts_with(".redis-backup-"), "{during:?}");
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill")
        .success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{seen}{}", rest.join("\n"));
    assert!(files_in(&out_dir).is_empty(), "{:?}", files_in(&out_dir));
    assert!(
        rest.iter().any(|l| l.contains("error: interrupted")),
        "{rest:?}"
    );
}

/// Backs up the scene into a temp dir and returns (dir, file).
fn backup_of(s: &Scene) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = backup_into(s, tmp.path());
    (tmp, file)
}

/// A backup of the scene's Redis into `dir`: its path.
fn backup_into(s: &Scene, dir: &Path) -> String {
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--out-dir",
        dir.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    stdout.trim().to_string()
}

/// The runbook's End-to-End Test, steps 1-5, with a worker at 3 replicas
/// that comes back at 3 (the runbook scaled it back to 1).
#[test]
fn restore_brings_back_the_original_value() {
    let s = Scene::new("restore", 6421, "redis", &[]);
    s.add_worker(3);
    let original = format!("backup-{}", std::process::id());
    assert_eq!(s.cli(&["SET", "test-backup", &original]), "OK");
    let (tmp, file) = backup_of(&s);
    assert_eq!(s.cli(&["SET", "test-backup", "modified"]), "OK");
    assert_eq!(s.cli(&["SET", "added-after-backup", "x"]), "OK");

    let (code, stdout, stderr) = run(plugin(&[
        "restore", "-n", &s.ns, "--file", &file, "--yes", "-o", "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "[restore] WARNING: This will REPLACE current Redis data!",
        &format!("Backup {file}"),
        &format!("Target: {} / {}", s.ns, s.pod),
        "[restore] scale worker to 0 (prevent writes)",
        "[restore] SHUTDOWN NOSAVE",
        "[restore] verify PING",
        "[restore] scale worker back to 3",
        "[restore] DONE",
    ] {
        assert!(stderr.contains(line), "missing {line:?} in:\n{stderr}");
    }
    let j = schema_checked("restore", &stdout);
    assert_eq!(j["keys_expected"], 1);
    assert_eq!(j["keys_loaded"], 1);
    assert_eq!(j["method"], "rdb");
    assert_eq!(j["writers"][0]["replicas"], 3);
    assert_eq!(j["writers"][0]["restored"], true);
    // The container restarted in place: same pod.
    assert_eq!(j["pod_after"], s.pod.as_str());

    assert_eq!(s.cli(&["GET", "test-backup"]), original);
    assert_eq!(s.cli(&["EXISTS", "added-after-backup"]), "0");
    // The replaced file kept beside it until the restart was verified, then
    // removed; nothing else left in the data directory.
    let data = kubectl_ok(&["-n", &s.ns, "exec", &s.pod, "--", "ls", "-a", "/data"]);
    assert!(
        !data.contains("kr-old") && !data.contains(".kubectl-redis"),
        "{data}"
    );
    wait_until(60, "worker back at 3", || {
        s.worker() == ("3".into(), String::new())
    });
    assert_eq!(
        kubectl_ok(&["-n", &s.ns, "get", "lease", "-o", "name"]).trim(),
        "",
        "lock released"
    );
    // The audit trail: an Event (events.k8s.io/v1) on the Deployment for
    // the backup and for the restore, naming who, what and the outcome.
    let events: serde_json::Value = serde_json::from_str(&kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "events.events.k8s.io",
        "-o",
        "json",
    ]))
    .expect("events");
    let find = |reason: &str| {
        events["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|e| e["reason"] == reason)
            .cloned()
            .unwrap_or_else(|| panic!("no {reason} Event in {events}"))
    };
    let name = Path::new(&file)
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    for (reason, action) in [
        ("BackupSucceeded", "Backup"),
        ("RestoreStarted", "Restore"),
        ("RestoreSucceeded", "Restore"),
    ] {
        let e = find(reason);
        assert_eq!(e["regarding"]["kind"], "Deployment", "{e}");
        assert_eq!(e["regarding"]["name"], "redis", "{e}");
        assert_eq!(e["action"], action, "{e}");
        assert_eq!(e["type"], "Normal", "{e}");
        assert_eq!(
            e["reportingController"], "kubectl-redis.io/kubectl-redis",
            "{e}"
        );
        let note = e["note"].as_str().expect("note");
        assert!(note.contains(&name), "{reason}: {note}");
        assert!(note.contains("; by "), "{reason}: {note}");
    }
    assert!(find("BackupSucceeded")["note"]
        .as_str()
        .is_some_and(|n| n.contains("sha256")));
    // Started when the changes began, before it ended (RFC 3339 with
    // microseconds: compared as text).
    let at = |reason: &str| find(reason)["eventTime"].as_str().unwrap_or("").to_string();
    assert!(
        at("RestoreStarted") < at("RestoreSucceeded"),
        "{} !< {}",
        at("RestoreStarted"),
        at("RestoreSucceeded")
    );
    // The manifest says who made it.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{file}.json")).expect("manifest"))
            .expect("json");
    assert!(
        m["made_by"]["local"]
            .as_str()
            .is_some_and(|l| l.contains('@')),
        "{m}"
    );
    assert!(m["made_by"]["kube_user"].is_string(), "{m}");

    // A second backup, and prune keeping it: the first one's removal is a
    // BackupPruned Event on the workload its manifest names.
    backup_into(&s, tmp.path());
    let dir = tmp.path().to_str().expect("utf8");
    let (code, _, stderr) = run(plugin(&[
        "prune",
        "--repo",
        dir,
        "--keep-last",
        "1",
        "--yes",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!Path::new(&file).exists(), "{stderr}");
    wait_until(30, "a BackupPruned Event", || {
        kubectl_ok(&[
            "-n",
            &s.ns,
            "get",
            "events.events.k8s.io",
            "--field-selector",
            "reason=BackupPruned",
            "-o",
            "jsonpath={.items[*].note}",
        ])
        .contains(&format!(
            "prune removed 1 backup(s) of {}/{} from {dir}: {name}",
            s.ns, s.pod
        ))
    });
}

/// A server whose SHUTDOWN is renamed away: a swap would install the backup
/// and could not restart Redis onto it (the next restart, any day, would
/// load it and lose every write since). Refused before any change (exit 2,
/// nothing in the data directory, writers untouched); auto restores live.
#[test]
fn a_server_refusing_shutdown_gets_no_swap() {
    let s = Scene::new(
        "no-shutdown",
        6453,
        "redis",
        &["--rename-command", "SHUTDOWN", ""],
    );
    s.add_worker(1);
    assert_eq!(s.cli(&["SET", "k", "before"]), "OK");
    let (_tmp, file) = backup_of(&s);
    assert_eq!(s.cli(&["SET", "k", "after"]), "OK");
    // The data directory as it was (the backup's SYNC left a dump.rdb).
    let listing = || {
        kubectl_ok(&[
            "-n",
            &s.ns,
            "exec",
            &s.pod,
            "--",
            "sh",
            "-c",
            "cd /data && ls -a && sha256sum *",
        ])
    };
    let before = listing();
    let (code, _, stderr) = run(plugin(&[
        "restore", "-n", &s.ns, "--file", &file, "--method", "swap", "--yes",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a file swap needs SHUTDOWN NOSAVE, which this server refuses"),
        "{stderr}"
    );
    assert!(!stderr.contains("scale worker to 0"), "{stderr}");
    assert_eq!(listing(), before, "the data directory changed");
    assert_eq!(s.cli(&["GET", "k"]), "after");
    assert_eq!(s.worker(), ("1".into(), String::new()));
    // auto: live instead, saying why.
    let (code, stdout, stderr) = run(plugin(&[
        "restore", "-n", &s.ns, "--file", &file, "--yes", "-o", "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let j = schema_checked("restore", &stdout);
    assert_eq!(j["method"], "live", "{stdout}");
    assert!(
        j["method_reason"]
            .as_str()
            .is_some_and(|r| r.contains("SHUTDOWN NOSAVE")),
        "{stdout}"
    );
    assert_eq!(s.cli(&["GET", "k"]), "before");
}

/// The file checked is the file installed: a backup changed on disk after
/// it was verified (here while the prompt waits) is refused when sent, by
/// its sha256 then and now, and nothing is installed. Before, the changed
/// bytes went into the pod and Redis loaded them.
#[test]
fn a_backup_changed_after_verification_is_not_installed() {
    let s = Scene::new("restore-toctou", 6454, "redis", &[]);
    s.add_worker(1);
    assert_eq!(s.cli(&["SET", "k", "before"]), "OK");
    let (_tmp, file) = backup_of(&s);
    assert_eq!(s.cli(&["SET", "k", "after"]), "OK");
    let cmd = format!(
        "{} restore -n {} --file {file} --method swap --color never",
        bin().display(),
        s.ns
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("KUBECONFIG", kubeconfig())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script");
    let mut out = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("Continue? (yes/no):") {
        let n = out.read(&mut buf).expect("read");
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    // Verified and waiting: the value changes on disk, same size.
    let mut bytes = std::fs::read(&file).expect("read the backup");
    let at = bytes
        .windows(6)
        .position(|w| w == b"before")
        .expect("the value in the file");
    bytes[at] = b'X';
    std::fs::write(&file, &bytes).expect("change the backup");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"yes\n")
        .expect("answer");
    out.read_to_end(&mut seen).expect("read");
    let status = child.wait().expect("wait");
    let text = String::from_utf8_lossy(&seen);
    assert_ne!(status.code(), Some(0), "{text}");
    assert!(text.contains("changed after it was verified"), "{text}");
    assert_eq!(s.cli(&["GET", "k"]), "after", "{text}");
    wait_until(60, "worker back at 1", || {
        s.worker() == ("1".into(), String::new())
    });
}

/// Anything but "yes" at the prompt, no terminal without --yes, and
/// --dry-run: exit as documented and change nothing.
#[test]
fn restore_without_confirmation_changes_nothing() {
    let s = Scene::new("restore-no", 6422, "redis", &[]);
    s.add_worker(2);
    assert_eq!(s.cli(&["SET", "k", "before"]), "OK");
    let (_tmp, file) = backup_of(&s);
    assert_eq!(s.cli(&["SET", "k", "after"]), "OK");

    // A real terminal (script(1) gives the plugin a pty), answering "no".
    let cmd = format!(
        "{} restore -n {} --file {file} --color never",
        bin().display(),
        s.ns
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("KUBECONFIG", kubeconfig())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"no\n")
        .expect("answer");
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Continue? (yes/no):"), "{text}");
    assert!(
        text.contains("error: aborted; nothing was changed"),
        "{text}"
    );

    // No terminal and no --yes: refused, naming --yes.
    let (code, _, stderr) =
        run(plugin(&["restore", "-n", &s.ns, "--file", &file]).stdin(Stdio::null()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("pass --yes"), "{stderr}");

    // --dry-run prints the plan.
    let (code, _, stderr) = run(plugin(&[
        "restore",
        "-n",
        &s.ns,
        "--file",
        &file,
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Stop:   deploy/worker (2 replicas)"),
        "{stderr}"
    );
    assert!(stderr.contains("dry run: nothing was changed"), "{stderr}");

    assert_eq!(s.cli(&["GET", "k"]), "after");
    assert_eq!(s.worker(), ("2".into(), String::new()));
    let restarts = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "pod",
        &s.pod,
        "-o",
        "jsonpath={.status.containerStatuses[0].restartCount}",
    ]);
    assert_eq!(restarts.trim(), "0");
}

/// A corrupt or empty file is refused before anything changes (exit 2), as
/// is a missing one.
#[test]
fn bad_files_are_refused_before_any_change() {
    let s = Scene::new("restore-bad", 6423, "redis", &[]);
    s.add_worker(1);
    let tmp = tempfile::tempdir().expect("tempdir");
    let empty = tmp.path().join("empty.rdb");
    std::fs::write(&empty, b"").expect("write");
    let corrupt = tmp.path().join("corrupt.rdb");
    std::fs::write(&corrupt, b"this is not a redis dump at all").expect("write");
    for (file, message) in [
        (
            empty.to_str().expect("utf8"),
            "is empty; nothing was changed",
        ),
        (
            corrupt.to_str().expect("utf8"),
            "is not a valid RDB file: not an RDB file: it starts with \"this is n\"",
        ),
        (
            "/nonexistent/x.rdb",
            "cannot read backup file /nonexistent/x.rdb",
        ),
    ] {
        let (code, _, stderr) = run(plugin(&["restore", "-n", &s.ns, "--file", file, "--yes"]));
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!stderr.contains("scale worker"), "{stderr}");
    }
    assert_eq!(s.worker(), ("1".into(), String::new()));
}

/// With `appendonly yes`, Redis ignores dump.rdb at startup: the backup must
/// become the AOF's base, and AOF must be on afterwards (a key written after
/// the restore survives another restart).
#[test]
fn restore_with_appendonly_takes_effect() {
    let s = Scene::new("restore-aof", 6424, "redis", &["--appendonly", "yes"]);
    assert_eq!(s.cli(&["SET", "test-backup", "original"]), "OK");
    let (_tmp, file) = backup_of(&s);
    assert_eq!(s.cli(&["SET", "test-backup", "modified"]), "OK");
    let (code, stdout, stderr) = run(plugin(&[
        "restore", "-n", &s.ns, "--file", &file, "--yes", "-o", "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("appendonlydir/appendonly.aof.1.base.rdb"),
        "{stderr}"
    );
    assert!(stderr.contains("AOF is on"), "{stderr}");
    assert!(
        stderr.contains("warning: deploy/worker not found"),
        "{stderr}"
    );
    let j = schema_checked("restore", &stdout);
    assert_eq!(j["method"], "aof");
    assert_eq!(s.cli(&["GET", "test-backup"]), "original");
    assert_eq!(s.cli(&["CONFIG", "GET", "appendonly"]), "appendonly\nyes");
    // AOF really records writes again: a new key survives a restart.
    assert_eq!(s.cli(&["SET", "written-after-restore", "y"]), "OK");
    let before = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "pod",
        &s.pod,
        "-o",
        "jsonpath={.status.containerStatuses[0].restartCount}",
    ]);
    let _ = kubectl(&[
        "-n",
        &s.ns,
        "exec",
        &s.pod,
        "--",
        "redis-cli",
        "-p",
        &s.port.to_string(),
        "SHUTDOWN",
        "NOSAVE",
    ]);
    wait_until(120, "redis to restart", || {
        let n = kubectl(&["-n", &s.ns, "get", "pod", &s.pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}"]);
        let t = String::from_utf8_lossy(&n.stdout).to_string();
        t.split_once(' ')
            .is_some_and(|(r, ready)| r != before.trim() && ready == "true")
    });
    assert_eq!(s.cli(&["GET", "written-after-restore"]), "y");
    assert_eq!(s.cli(&["GET", "test-backup"]), "original");
    // The old AOF directory was removed once the restore was verified.
    let ls = kubectl_ok(&["-n", &s.ns, "exec", &s.pod, "--", "ls", "-a", "/data"]);
    assert!(
        !ls.contains("kr-old") && !ls.contains(".kubectl-redis-restore.tmp"),
        "{ls}"
    );
}

/// kill -9 of the plugin right after the scale-down: the worker stays at 0
/// with its replica count recorded; `restore --recover` puts it back and
/// releases the dead run's Lease. The run has no $USER: the holder names the
/// kubeconfig user instead.
#[test]
fn killed_restore_is_recovered() {
    let s = Scene::new("restore-kill", 6425, "redis", &[]);
    s.add_worker(3);
    let (_tmp, file) = backup_of(&s);
    let (mut child, _lines) = restore_until_scale_down_with(&s, &file, &[], |c| {
        c.env_remove("USER");
    });
    wait_until(30, "worker scaled to 0", || s.worker().0 == "0");
    let holder = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "deploy/worker",
        "-o",
        r#"jsonpath={.metadata.annotations.kubectl-redis\.io/restore-holder}"#,
    ]);
    assert!(holder.starts_with("admin@"), "holder {holder:?}");
    let leases = || {
        kubectl_ok(&[
            "-n",
            &s.ns,
            "get",
            "leases",
            "-o",
            "jsonpath={.items[*].spec.holderIdentity}",
        ])
    };
    assert_eq!(leases().trim(), holder.trim());
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(
        s.worker(),
        ("0".into(), "3".into()),
        "the record survives the kill"
    );

    // Right away, the dead run's lock still looks held: a new restore is
    // refused and says when a dead holder is taken over.
    let (code, _, stderr) = run(plugin(&["restore", "-n", &s.ns, "--file", &file, "--yes"]));
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("a holder that died is taken over once it has not renewed for 15s"),
        "{stderr}"
    );

    // --recover waits until the lock shows its holder is gone, then acts.
    let (code, stdout, stderr) = run(plugin(&["restore", "--recover", "-n", &s.ns, "-o", "json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("scale deploy/worker back to 3"), "{stderr}");
    assert!(stderr.contains("released the lock Lease"), "{stderr}");
    let j = schema_checked("recover", &stdout);
    assert_eq!(j["writers"][0]["name"], "deploy/worker", "{j}");
    assert_eq!(j["writers"][0]["replicas"], 3, "{j}");
    assert_eq!(j["writers"][0]["restored"], true, "{j}");
    assert_eq!(
        j["released_leases"].as_array().map(Vec::len),
        Some(1),
        "{j}"
    );
    assert_eq!(s.worker(), ("3".into(), String::new()));
    assert_eq!(leases().trim(), "", "the dead run's Lease is gone");
    // The audit trail: RecoverSucceeded on the writer put back.
    let e = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "events.events.k8s.io",
        "--field-selector",
        "reason=RecoverSucceeded",
        "-o",
        "jsonpath={.items[*].regarding.kind}/{.items[*].regarding.name}/{.items[*].note}",
    ]);
    assert!(
        e.starts_with("Deployment/worker/deploy/worker put back to 3 replicas"),
        "{e}"
    );
    let (code, _, stderr) = run(plugin(&["restore", "--recover", "-n", &s.ns]));
    assert_eq!(code, 0);
    assert!(stderr.contains("nothing to recover"), "{stderr}");
    // And a restore runs again at once, with no stale lock to take over
    // (once the writers' new pods are up: pods deleted while their
    // containers are still being created took over 120 s to go in a CI run).
    kubectl_ok(&[
        "-n",
        &s.ns,
        "rollout",
        "status",
        "deploy/worker",
        "--timeout=120s",
    ]);
    let (code, _, stderr) = run(plugin(&["restore", "-n", &s.ns, "--file", &file, "--yes"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("taking over a stale lock"), "{stderr}");
    assert_eq!(s.worker(), ("3".into(), String::new()));
}

/// `--recover` never undoes the scale-down of a restore that is running.
#[test]
fn recover_leaves_a_running_restore_alone() {
    let s = Scene::new("restore-live", 6427, "redis", &[]);
    // The worker's pods take 40 s to stop: the restore is still waiting for
    // them (and renewing its Lease every 5 s) while recover looks.
    s.add_worker_stopping_in(2, Some(40));
    let (_tmp, file) = backup_of(&s);
    let (mut first, lines) =
        restore_until_scale_down(&s, &file, &["--timeout", "5m", "--scale-timeout", "3m"]);
    wait_until(30, "worker scaled to 0", || s.worker().0 == "0");
    let (code, _, stderr) = run(plugin(&["restore", "--recover", "-n", &s.ns]));
    let still_stopping =
        kubectl_ok(&["-n", &s.ns, "get", "pods", "-l", "app=worker", "-o", "name"]);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(first.wait().expect("wait").code(), Some(0), "{rest:?}");
    // The restore was running all along (its writer's pods were still there
    // after recover returned): recover saw it alive and left it alone.
    assert!(
        !still_stopping.trim().is_empty(),
        "the restore was not running any more"
    );
    assert_eq!(code, 6, "{stderr}");
    assert!(stderr.contains("still running"), "{stderr}");
    assert!(!stderr.contains("scale deploy/worker back"), "{stderr}");
    assert_eq!(s.worker(), ("2".into(), String::new()));
}

/// A restore whose Lease someone else takes while it runs (a laptop that
/// slept, a second run that judged it stale) learns it at the next renewal
/// and stops as Ctrl-C would: exit 6 naming the new holder, writers put
/// back. Before, the renewal stopped quietly and the restore went on.
#[test]
fn a_restore_that_loses_its_lease_stops_and_puts_writers_back() {
    let s = Scene::new("lease-lost", 6451, "redis", &[]);
    // The worker's pods take 40 s to stop: the restore waits for them.
    s.add_worker_stopping_in(2, Some(40));
    let (_tmp, file) = backup_of(&s);
    let (mut first, lines) =
        restore_until_scale_down(&s, &file, &["--timeout", "5m", "--scale-timeout", "3m"]);
    wait_until(30, "worker scaled to 0", || s.worker().0 == "0");
    let lease = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "lease",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);
    assert_eq!(lease.trim(), "kubectl-redis-redis");
    kubectl_ok(&[
        "-n",
        &s.ns,
        "patch",
        "lease",
        lease.trim(),
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"holderIdentity":"someone@elsewhere/1"}}"#,
    ]);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = first.wait().expect("wait").code();
    let all = rest.join("\n");
    assert_eq!(code, Some(6), "{all}");
    assert!(
        all.contains(
            "the lock Lease kubectl-redis-redis was lost (someone@elsewhere/1 holds it now)"
        ),
        "{all}"
    );
    // Put back: the worker's replicas, and its record removed.
    assert_eq!(s.worker(), ("2".into(), String::new()), "{all}");
    // Not the restore's to delete: the new holder keeps it.
    assert!(kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "lease",
        lease.trim(),
        "-o",
        "jsonpath={.spec.holderIdentity}"
    ])
    .contains("someone@elsewhere/1"));
}

/// A Lease is judged by what this run sees, not by the holder's clock: one
/// whose renewTime says an hour ago but that is still being renewed (its
/// holder's clock is behind) is refused, naming the clocks; one that stays
/// unrenewed while watched is taken over. Before, both were taken at once.
#[test]
fn a_stale_looking_lease_is_watched_before_it_is_taken() {
    let s = Scene::new("lease-clock", 6452, "redis", &[]);
    let old = |secs_later: u64| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            - 3600
            + secs_later;
        // RFC 3339 with microseconds, as MicroTime is written.
        let out = Command::new("date")
            .args(["-u", "-d", &format!("@{t}"), "+%Y-%m-%dT%H:%M:%S.000000Z"])
            .output()
            .expect("date");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    apply(&format!(
        r#"{{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{{"name":"kubectl-redis-redis","namespace":"{}"}},"spec":{{"holderIdentity":"behind@elsewhere/1","leaseDurationSeconds":15,"acquireTime":"{}","renewTime":"{}"}}}}"#,
        s.ns,
        old(0),
        old(0)
    ));
    // Its holder renews every 2 s, with a clock an hour behind.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let renewer = {
        let (stop, ns) = (stop.clone(), s.ns.clone());
        std::thread::spawn(move || {
            let mut i = 1;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_secs(2));
                let patch = format!(r#"{{"spec":{{"renewTime":"{}"}}}}"#, old(2 * i));
                kubectl_ok(&[
                    "-n",
                    &ns,
                    "patch",
                    "lease",
                    "kubectl-redis-redis",
                    "--type",
                    "merge",
                    "-p",
                    &patch,
                ]);
                i += 1;
            }
        })
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    let (code, _, stderr) = run(plugin(&["backup", "-n", &s.ns, "--out-dir", out]));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = renewer.join();
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("the two machines' clocks differ"),
        "{stderr}"
    );
    assert!(files_in(tmp.path()).is_empty());
    // No longer renewed: watched one duration, then taken over.
    let (code, _, stderr) = run(plugin(&["backup", "-n", &s.ns, "--out-dir", out]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("taking over a stale lock from behind@elsewhere/1")
            && stderr.contains("not renewed during the"),
        "{stderr}"
    );
}

/// A swap that died between installing the backup and Redis restarting
/// onto it leaves its Lease saying what it installed where. `--recover`
/// reverts an install Redis never took (the previous file back: Redis
/// still holds the old data) and finishes one it took (the kept old file
/// removed). Before, nothing recorded it and the next restart loaded the
/// backup, losing every write since.
#[test]
fn recover_reverts_or_finishes_a_dead_install() {
    let s = Scene::new("recover-install", 6455, "redis", &[]);
    let sh = |cmd: &str| kubectl_ok(&["-n", &s.ns, "exec", &s.pod, "--", "sh", "-c", cmd]);
    sh("printf backup > /data/inst-a; printf old-a > /data/inst-a.kr-old; printf backup > /data/inst-b; printf old-b > /data/inst-b.kr-old");
    let uid = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "pod",
        &s.pod,
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    let restarts = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "pod",
        &s.pod,
        "-o",
        "jsonpath={.status.containerStatuses[0].restartCount}",
    ]);
    let long_ago = "2020-01-01T00:00:00.000000Z";
    let lease = |name: &str, note: serde_json::Value| {
        serde_json::json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": s.ns,
                "annotations": {"kubectl-redis.io/installing": note.to_string()}},
            "spec": {"holderIdentity": "dead@laptop/1", "leaseDurationSeconds": 15,
                "acquireTime": long_ago, "renewTime": long_ago}
        })
        .to_string()
    };
    let restarts: u32 = restarts.trim().parse().unwrap_or(0);
    // A: the same container, never restarted: the install is reverted.
    apply(&lease(
        "kubectl-redis-a",
        serde_json::json!({
        "pod": s.pod, "container": "redis", "uid": uid.trim(), "restarts": restarts, "path": "/data/inst-a"}),
    ));
    // B: the pod was replaced since (another uid): Redis took the backup.
    apply(&lease(
        "kubectl-redis-b",
        serde_json::json!({
        "pod": s.pod, "container": "redis", "uid": "an-earlier-pod", "restarts": restarts, "path": "/data/inst-b"}),
    ));
    let (code, stdout, stderr) = run(plugin(&["restore", "--recover", "-n", &s.ns, "-o", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let j = schema_checked("recover", &stdout);
    let actions: Vec<(String, String)> = j["installs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i["path"].as_str().unwrap_or_default().to_string(),
                        i["action"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        actions.contains(&("/data/inst-a".into(), "reverted".into())),
        "{stdout}"
    );
    assert!(
        actions.contains(&("/data/inst-b".into(), "finished".into())),
        "{stdout}"
    );
    assert_eq!(sh("cat /data/inst-a"), "old-a");
    assert_eq!(sh("cat /data/inst-b"), "backup");
    let left = sh("ls -a /data");
    assert!(!left.contains("kr-old"), "{left}");
    // Both dead Leases released.
    assert_eq!(
        kubectl_ok(&["-n", &s.ns, "get", "lease", "-o", "name"]).trim(),
        "",
        "{stderr}"
    );
}

/// Two restores at once: the second is refused with the holder (exit 6),
/// so is a backup, and the first completes.
#[test]
fn concurrent_restores_are_refused() {
    let s = Scene::new("restore-lock", 6426, "redis", &[]);
    s.add_worker(1);
    let (_tmp, file) = backup_of(&s);
    let (mut first, lines) = restore_until_scale_down(&s, &file, &[]);
    let (code, _, stderr) = run(plugin(&["restore", "-n", &s.ns, "--file", &file, "--yes"]));
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("another backup or restore of this Redis is running"),
        "{stderr}"
    );
    // A backup is refused too while the restore runs, and writes nothing.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--out-dir",
        tmp.path().to_str().expect("utf8"),
    ]));
    assert_eq!(code, 6, "{stderr}");
    assert!(files_in(tmp.path()).is_empty());
    assert!(
        stderr.contains(&format!("/{}", first.id())),
        "holder names the pid: {stderr}"
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(first.wait().expect("wait").code(), Some(0), "{rest:?}");
    assert_eq!(s.worker(), ("1".into(), String::new()));
}

/// examples/redis.mk gives runbook users their make targets, through
/// kubectl's own plugin lookup (`kubectl redis` finds kubectl-redis on PATH).
#[test]
fn runbook_make_targets() {
    let s = Scene::new("make", 6428, "redis", &[]);
    s.add_worker(2);
    assert_eq!(s.cli(&["SET", "test-backup", "from-make"]), "OK");
    let bindir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(bin(), bindir.path().join("kubectl-redis")).expect("symlink");
    let path = format!(
        "{}:{}",
        bindir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let backups = tempfile::tempdir().expect("tempdir");
    let make = |args: &[&str]| {
        let out = Command::new("make")
            .args(["-s", "-f"])
            .arg(repo().join("examples/redis.mk"))
            .args(args)
            .arg(format!("NS={}", s.ns))
            .arg(format!("BACKUPS_DIR={}", backups.path().display()))
            .env("PATH", &path)
            .env("KUBECONFIG", kubeconfig())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("make");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = make(&["redis-backup"]);
    assert_eq!(code, 0, "{stderr}");
    let file = stdout.trim().to_string();
    assert!(
        file.starts_with(&backups.path().display().to_string()),
        "{file}"
    );
    let (code, stdout, _) = make(&["redis-list-backups"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(
            Path::new(&file)
                .file_name()
                .expect("name")
                .to_str()
                .expect("utf8")
        ),
        "{stdout}"
    );
    let (code, _, stderr) = make(&["redis-restore"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("usage: make redis-restore BACKUP="),
        "{stderr}"
    );
    assert_eq!(s.cli(&["SET", "test-backup", "modified"]), "OK");
    let (code, _, stderr) = make(&["redis-restore", &format!("BACKUP={file}"), "YES=1"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s.cli(&["GET", "test-backup"]), "from-make");
    assert_eq!(s.worker(), ("2".into(), String::new()));
}

/// A password-protected Redis whose container has REDIS_PASSWORD: backup and
/// restore work, and the password appears in no output, even with -v (it
/// reaches redis-cli through the environment inside the pod, never argv).
#[test]
fn password_protected_redis() {
    const PASSWORD: &str = "s3cret-e2e-Pa55";
    // sh and redis-cli in this image log every argv they get.
    let s = Scene::build(
        "password",
        6429,
        "redis",
        &["--requirepass", PASSWORD],
        &[("REDIS_PASSWORD", PASSWORD)],
        ("kubectl-redis/redis-audit", "7.0"),
    );
    // Straight to the port (no redis-cli in the pod, whose argv is audited).
    let auth = |args: &[&str]| {
        resp_all(s.port, &[&["AUTH", PASSWORD], args])
            .pop()
            .unwrap_or_default()
    };
    assert_eq!(auth(&["SET", "k", "v1"]), "OK");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-v",
        "-n",
        &s.ns,
        "--out-dir",
        tmp.path().to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !stdout.contains(PASSWORD));
    let file = stdout.trim().to_string();
    assert_eq!(auth(&["SET", "k", "v2"]), "OK");
    let (code, stdout, stderr) = run(plugin(&[
        "restore", "-v", "-n", &s.ns, "--file", &file, "--yes",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !stdout.contains(PASSWORD));
    assert_eq!(auth(&["GET", "k"]), "v1");
    // The live restore: the password goes over the port-forward's AUTH,
    // named by where it came from, never printed, even with -v.
    assert_eq!(auth(&["SET", "k", "v3"]), "OK");
    let (code, stdout, stderr) = run(plugin(&[
        "restore", "-v", "-n", &s.ns, "--file", &file, "--method", "live", "--yes", "-o", "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(schema_checked("restore", &stdout)["method"], "live");
    assert!(
        !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
        "the password in the live restore's output:\n{stderr}"
    );
    assert!(
        stderr.contains("REDIS_PASSWORD"),
        "where the password came from: {stderr}"
    );
    assert_eq!(auth(&["GET", "k"]), "v1");
    // Every command line the plugin started in the pod (the backup's and the
    // restore's redis-cli runs, the probe, the upload, the install): none
    // holds the password.
    let out = kubectl(&[
        "-n",
        &s.ns,
        "exec",
        &s.pod,
        "--",
        "/bin/dash",
        "-c",
        "cat /data/argv.log",
    ]);
    let log = String::from_utf8_lossy(&out.stdout).replace('\0', " ");
    assert!(log.contains("command -v"), "the audit saw no probe: {log}");
    assert!(
        log.contains("redis-cli"),
        "the audit saw no redis-cli run: {log}"
    );
    assert!(!log.contains(PASSWORD), "a password in an argv: {log}");

    // Without the env var the plugin says what to do.
    let s2 = Scene::new(
        "password-missing",
        6430,
        "redis",
        &["--requirepass", PASSWORD],
    );
    // From a Secret: both methods, the password in no argv and no output.
    apply(&format!(
        r#"{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"redis-auth","namespace":"{}"}},
 "stringData":{{"password":"{PASSWORD}"}}}}"#,
        s2.ns
    ));
    for method in ["stream", "bgsave"] {
        let (code, stdout, stderr) = run(plugin(&[
            "backup",
            "-v",
            "--method",
            method,
            "--password-from-secret",
            "redis-auth/password",
            "-n",
            &s2.ns,
            "--out-dir",
            tmp.path().to_str().expect("utf8"),
        ]));
        assert_eq!(code, 0, "{method}: {stderr}");
        assert!(
            !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
            "{method}"
        );
    }
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "--password-from-secret",
        "redis-auth/nope",
        "-n",
        &s2.ns,
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("Secret redis-auth has no key nope (it has: password)"),
        "{stderr}"
    );
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "-n",
        &s2.ns,
        "--out-dir",
        tmp.path().to_str().expect("utf8"),
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("NOAUTH"), "{stderr}");
    assert!(stderr.contains("--password-from-secret"), "{stderr}");
    assert!(stderr.contains("REDIS_PASSWORD"), "{stderr}");
    assert!(!stderr.contains(PASSWORD));
}

/// SYNC renamed away (as managed Redis often does): the default method says
/// so and falls back to BGSAVE + copy; `--method stream` refuses with exit 9
/// and names `--method bgsave`.
#[test]
fn sync_refused_falls_back_to_bgsave() {
    let s = Scene::new("no-sync", 6431, "redis", &["--rename-command", "SYNC", ""]);
    assert_eq!(s.cli(&["SET", "k", "v"]), "OK");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("stream backup not possible (Redis refused SYNC"),
        "{stderr}"
    );
    assert!(stderr.contains("[backup] BGSAVE..."), "{stderr}");
    let j = schema_checked("backup", &stdout);
    assert_eq!(j["method"], "bgsave");
    assert_eq!(j["keys"], 1);
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "--method",
        "stream",
        "-n",
        &s.ns,
        "--out-dir",
        out,
    ]));
    assert_eq!(code, 9, "{stderr}");
    assert!(stderr.contains("use --method bgsave"), "{stderr}");
    let names = files_in(tmp.path());
    assert_eq!(
        names.len(),
        3,
        "one backup, its manifest and the audit trail: {names:?}"
    );
    assert_eq!(names[0], "audit", "{names:?}");
}

/// A backup that does not verify is not restored (exit 8, nothing changed);
/// `list` shows each backup's keys and status from its manifest.
#[test]
fn corrupt_backup_is_not_restored() {
    let s = Scene::new("corrupt", 6432, "redis", &[]);
    assert_eq!(s.cli(&["SET", "k", "original"]), "OK");
    let (dir, file) = backup_of(&s);
    let (code, listing, _) = run(plugin(&[
        "list",
        "--out-dir",
        dir.path().to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0);
    assert!(listing.contains("verified"), "{listing}");
    let mut b = std::fs::read(&file).expect("read");
    let at = b.len() / 2;
    b[at] ^= 0x40;
    std::fs::write(&file, &b).expect("write");
    assert_eq!(s.cli(&["SET", "k", "changed"]), "OK");
    let (code, _, stderr) = run(plugin(&["restore", "-n", &s.ns, "--file", &file, "--yes"]));
    assert_eq!(code, 8, "{stderr}");
    assert!(stderr.contains("failed verification"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(s.cli(&["GET", "k"]), "changed");
    let (code, _, stderr) = run(plugin(&["verify", &file]));
    assert_eq!(code, 8, "{stderr}");
}

/// Ctrl-C during a stream backup (SYNC through a port-forward): exit 130,
/// no file under any name, the lock released (a new backup runs at once).
#[test]
fn interrupted_stream_leaves_nothing() {
    let s = Scene::new(
        "interrupt-stream",
        6433,
        "redis",
        &["--enable-debug-command", "yes"],
    );
    assert_eq!(s.cli(&["DEBUG", "POPULATE", "3000000", "key", "100"]), "OK");
    s.wait_ready();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("b");
    let out = out_dir.to_str().expect("utf8");
    let mut child = plugin(&[
        "backup",
        "--method",
        "stream",
        "-n",
        &s.ns,
        "--timeout",
        "5m",
        "--out-dir",
        out,
    ])
    .stderr(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let seen = read_until(&mut lines, "[backup] streaming a snapshot (SYNC)");
    wait_until(60, "the temporary file to appear", || {
        !files_in(&out_dir).is_empty()
    });
    let during = files_in(&out_dir);
    assert!(
        during.iter().all(|f| f.starts_with(".redis-backup-")),
        "{during:?}"
    );
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill")
        .success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{seen}{}", rest.join("\n"));
    assert!(files_in(&out_dir).is_empty(), "{:?}", files_in(&out_dir));
    assert!(
        rest.iter()
            .any(|l| l.contains("interrupted; nothing was saved")),
        "{rest:?}"
    );
    // The Lease was released: the next backup is not refused as locked.
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "--method",
        "stream",
        "-n",
        &s.ns,
        "--timeout",
        "5m",
        "--out-dir",
        out,
    ]));
    assert_eq!(code, 0, "{stderr}");
}

/// `status` on a healthy Redis (as admin: every permission), then on a Redis
/// with `appendonly yes`, then as a ServiceAccount that may port-forward but
/// not exec: the RBAC table says so, what exec gives is unknown, and a stream
/// backup still works while bgsave is refused.
#[test]
fn status_reports_health_persistence_and_rbac() {
    let level_of = |v: &serde_json::Value, what: &str| -> String {
        v["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["what"] == what)
            .map(|c| c["level"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let s = Scene::new("status", 6434, "redis", &[]);
    s.add_worker(1);
    assert_eq!(s.cli(&["SET", "k", "v"]), "OK");
    let (code, stdout, stderr) = run(plugin(&["status", "-n", &s.ns, "-o", "json"]));
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let v = schema_checked("status", &stdout);
    let level = |what: &str| -> String {
        v["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["what"] == what)
            .map(|c| c["level"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    for what in [
        "cluster", "pod", "redis", "keys", "lastsave", "sync", "writer",
    ] {
        assert_eq!(level(what), "ok", "{what}: {stdout}");
    }
    assert_eq!(v["persistence"]["appendonly"], "no");
    assert_eq!(v["redis"]["keys"], 1, "{stdout}");
    assert_eq!(v["redis"]["role"], "master", "{stdout}");
    assert_eq!(v["sync_available"], true, "{stdout}");
    assert!(
        v["disk"]["free_bytes"].as_u64().unwrap_or(0) > 0,
        "{stdout}"
    );
    assert_eq!(v["error"], serde_json::Value::Null, "{stdout}");
    assert!(
        v["rbac"]
            .as_array()
            .expect("rbac")
            .iter()
            .all(|r| r["allowed"] == true),
        "{stdout}"
    );
    let (_, text, _) = run(plugin(&["status", "-n", &s.ns]));
    assert!(text.contains("db0 keys=1"), "{text}");
    assert!(text.contains("deploy/worker: 1 replicas"), "{text}");

    // A record left by an unfinished restore: a failure (exit 11) whose fix
    // is --recover.
    kubectl_ok(&[
        "-n",
        &s.ns,
        "annotate",
        "deploy/worker",
        "kubectl-redis.io/restore-replicas=1",
    ]);
    let (code, stdout, _) = run(plugin(&["status", "-n", &s.ns, "-o", "json"]));
    assert_eq!(code, 11, "{stdout}");
    let v = schema_checked("status", &stdout);
    assert_eq!(v["writers"][0]["recorded_replicas"], 1, "{stdout}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("writer:"),
        "{stdout}"
    );
    assert!(
        v["error"]["hint"]
            .as_str()
            .unwrap_or("")
            .contains("--recover"),
        "{stdout}"
    );
    kubectl_ok(&[
        "-n",
        &s.ns,
        "annotate",
        "deploy/worker",
        "kubectl-redis.io/restore-replicas-",
    ]);

    // SYNC renamed away: a warning that backups fall back to BGSAVE.
    let n = Scene::new(
        "status-nosync",
        6441,
        "redis",
        &["--rename-command", "SYNC", ""],
    );
    let (code, stdout, _) = run(plugin(&["status", "-n", &n.ns, "-o", "json"]));
    assert_eq!(code, 0, "{stdout}");
    let v = schema_checked("status", &stdout);
    assert_eq!(v["sync_available"], false, "{stdout}");
    assert_eq!(level_of(&v, "sync"), "warn", "{stdout}");

    // A replica of the first Redis: a warning naming the primary's way.
    let r = Scene::new(
        "status-replica",
        6442,
        "redis",
        &["--replicaof", "127.0.0.1", "6434"],
    );
    let (code, stdout, _) = run(plugin(&["status", "-n", &r.ns, "-o", "json"]));
    assert_eq!(code, 0, "{stdout}");
    let v = schema_checked("status", &stdout);
    assert_eq!(v["redis"]["role"], "slave", "{stdout}");
    assert_eq!(level_of(&v, "redis"), "warn", "{stdout}");

    let a = Scene::new("status-aof", 6435, "redis", &["--appendonly", "yes"]);
    let (code, stdout, stderr) = run(plugin(&["status", "-n", &a.ns, "-o", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let v = schema_checked("status", &stdout);
    assert_eq!(v["persistence"]["appendonly"], "yes", "{stdout}");

    // A ServiceAccount with pods get/list, pods/portforward and its own
    // Lease only (by name, as `schedule` writes it): no exec.
    let (_tmp_kc, kc) = sa_kubeconfig(
        &s.ns,
        "no-exec",
        r#"[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]},
          {"apiGroups":[""],"resources":["pods/portforward"],"verbs":["get","create"]},
          {"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["create"]},
          {"apiGroups":["coordination.k8s.io"],"resources":["leases"],"resourceNames":["kubectl-redis-redis"],"verbs":["get","update","patch","delete"]},
          {"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews"],"verbs":["create"]}]"#,
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let as_sa = |args: &[&str]| {
        let mut c = Command::new(bin());
        c.args(args)
            .env("KUBECONFIG", &kc)
            .env("NO_COLOR", "1")
            .env_remove("NS");
        run(c)
    };
    let (code, stdout, stderr) = as_sa(&["status", "-o", "json"]);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let v = schema_checked("status", &stdout);
    let allowed = |perm: &str| {
        v["rbac"]
            .as_array()
            .expect("rbac")
            .iter()
            .find(|r| r["permission"] == perm)
            .map(|r| r["allowed"].clone())
            .unwrap_or(serde_json::Value::Null)
    };
    assert_eq!(allowed("create pods/exec"), false, "{stdout}");
    assert_eq!(allowed("get pods/exec"), false, "{stdout}");
    assert_eq!(allowed("create pods/portforward"), true, "{stdout}");
    assert_eq!(allowed("patch deployments/scale"), false, "{stdout}");
    // The Lease is granted by name: judged for the Lease it is.
    assert_eq!(allowed("get leases"), true, "{stdout}");
    assert_eq!(allowed("delete leases"), true, "{stdout}");
    let (_, text, _) = as_sa(&["status"]);
    assert!(text.contains("NO  create pods/exec"), "{text}");
    assert!(
        text.contains("without it: backup --method bgsave, restore --method swap"),
        "{text}"
    );
    let out = tmp.path().join("b");
    let out = out.to_str().expect("utf8");
    let (code, _, stderr) = as_sa(&["backup", "--out-dir", out]);
    assert_eq!(code, 0, "stream works without exec: {stderr}");
    assert!(stderr.contains("streaming a snapshot (SYNC)"), "{stderr}");
    // No `create events`: the audit Event is a warning, never a failure.
    assert_eq!(allowed("create events"), false, "{stdout}");
    assert!(
        stderr.contains("no audit Event BackupSucceeded on "),
        "{stderr}"
    );
    let (code, _, stderr) = as_sa(&["backup", "--method", "bgsave", "--out-dir", out]);
    assert_eq!(code, 1, "bgsave needs exec: {stderr}");
    assert!(stderr.contains("is not allowed"), "{stderr}");
    assert!(stderr.contains("create on pods/exec"), "{stderr}");
}

/// A ServiceAccount `name` in `ns` with a Role of `rules` (a JSON array),
/// and a kubeconfig that uses its token (in a temporary directory).
fn sa_kubeconfig(ns: &str, name: &str, rules: &str) -> (tempfile::TempDir, PathBuf) {
    apply(&format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[
{{"apiVersion":"v1","kind":"ServiceAccount","metadata":{{"name":"{name}","namespace":"{ns}"}}}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{{"name":"{name}","namespace":"{ns}"}},
 "rules":{rules}}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{{"name":"{name}","namespace":"{ns}"}},
 "roleRef":{{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"{name}"}},
 "subjects":[{{"kind":"ServiceAccount","name":"{name}","namespace":"{ns}"}}]}}]}}"#,
        ns = ns
    ));
    let mut token = String::new();
    wait_until(60, "the ServiceAccount's token", || {
        let name = kubectl_ok(&[
            "-n",
            ns,
            "get",
            "sa",
            name,
            "-o",
            "jsonpath={.secrets[0].name}",
        ]);
        if name.trim().is_empty() {
            return false;
        }
        let b64 = kubectl_ok(&[
            "-n",
            ns,
            "get",
            "secret",
            name.trim(),
            "-o",
            "jsonpath={.data.token}",
        ]);
        let out = Command::new("base64")
            .arg("-d")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let Ok(mut child) = out else { return false };
        use std::io::Write as _;
        if let Some(mut i) = child.stdin.take() {
            let _ = i.write_all(b64.trim().as_bytes());
        }
        let o = child.wait_with_output().expect("base64");
        token = String::from_utf8_lossy(&o.stdout).into_owned();
        !token.is_empty()
    });
    let admin = std::fs::read_to_string(kubeconfig()).expect("admin kubeconfig");
    let server = admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .expect("server")
        .to_string();
    let ca = admin
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("certificate-authority-data: ")
                .map(str::to_string)
        })
        .or_else(|| {
            admin
                .lines()
                .find_map(|l| l.trim().strip_prefix("certificate-authority: "))
                .and_then(|p| std::fs::read(p).ok())
                .map(|b| {
                    let o = Command::new("base64")
                        .arg("-w0")
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn();
                    let mut child = o.expect("base64");
                    use std::io::Write as _;
                    child
                        .stdin
                        .take()
                        .expect("stdin")
                        .write_all(&b)
                        .expect("write");
                    String::from_utf8_lossy(&child.wait_with_output().expect("b64").stdout)
                        .into_owned()
                })
        })
        .expect("ca");
    let tmp = tempfile::tempdir().expect("tempdir");
    let kc = tmp.path().join("sa.kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: sa\n  user:\n    token: {token}\ncontexts:\n- name: sa\n  context:\n    cluster: c\n    user: sa\n    namespace: {}\ncurrent-context: sa\n",
            ns
        ),
    )
    .expect("kubeconfig");
    (tmp, kc)
}

/// `schedule --apply` creates the CronJob, ServiceAccount, Role and
/// RoleBinding (batch/v1beta1 on this Kubernetes 1.20), and a Job made from
/// the CronJob runs the plugin's image, under that least-privilege Role, to a
/// verified backup.
#[test]
fn scheduled_backup_runs_to_completion() {
    let s = Scene::new("schedule", 6436, "redis", &[]);
    assert_eq!(s.cli(&["SET", "scheduled", "yes"]), "OK");
    let image = "kubectl-redis/kubectl-redis:e2e";
    let status = Command::new(repo().join("scripts/cluster.sh"))
        .args(["plugin-image", bin().to_str().expect("utf8"), image])
        .status()
        .expect("cluster.sh plugin-image");
    assert!(status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let host = dir.path().to_str().expect("utf8");
    let (code, stdout, stderr) = run(plugin(&[
        "schedule",
        "--every",
        "1h",
        "-n",
        &s.ns,
        "--image",
        image,
        "--host-path",
        host,
        "--method",
        "stream",
        "--apply",
    ]));
    assert_eq!(code, 0, "{stderr}");
    for kind in ["serviceaccount", "role", "rolebinding", "cronjob"] {
        assert!(
            stdout.contains(&format!("{kind}/kubectl-redis-backup applied")),
            "{stdout}"
        );
    }
    // The least the stream method needs: no exec, write on its own Lease
    // only; the Job below succeeds with just that.
    let rules = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "role",
        "kubectl-redis-backup",
        "-o",
        "jsonpath={.rules}",
    ]);
    assert!(!rules.contains("pods/exec"), "{rules}");
    assert!(
        rules.contains(r#""resourceNames":["kubectl-redis-redis"]"#),
        "{rules}"
    );
    let api = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "cronjob",
        "kubectl-redis-backup",
        "-o",
        "jsonpath={.apiVersion} {.spec.schedule}",
    ]);
    assert_eq!(api.trim(), "batch/v1beta1 0 * * * *");
    let (last, logs) = run_cronjob_now(&s.ns, "now");
    assert!(last.starts_with('1'), "the Job failed ({last}):\n{logs}");
    assert!(logs.contains("[backup] OK"), "{logs}");
    assert!(logs.contains("streaming a snapshot (SYNC)"), "{logs}");
    let names = files_in(dir.path());
    let rdb: Vec<&String> = names.iter().filter(|n| n.ends_with(".rdb")).collect();
    assert_eq!(rdb.len(), 1, "{names:?}");
    assert!(names.contains(&format!("{}.json", rdb[0])), "{names:?}");
    let (code, out, err) = run(plugin(&[
        "verify",
        dir.path().join(rdb[0]).to_str().expect("utf8"),
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let v = schema_checked("verify", &out);
    assert_eq!(v["files"][0]["keys"], 1);
    assert_eq!(v["files"][0]["manifest"], "match");
}

/// kubectl's own plugin completion (1.26+) runs `kubectl_complete-redis`:
/// subcommands, flags and values come back; namespaces from the real
/// cluster; with an unreachable cluster, from the kubeconfig alone; backup
/// files for --file.
#[test]
fn kubectl_completes_the_plugin() {
    let dir = bin().parent().expect("target dir").to_path_buf();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let complete = |kc: &str, words: &[&str], extra: &[(&str, &str)]| -> Vec<String> {
        let mut c = Command::new("kubectl");
        c.arg("__complete")
            .arg("redis")
            .args(words)
            .env("PATH", &path)
            .env("KUBECONFIG", kc);
        for (k, v) in extra {
            c.env(k, v);
        }
        let o = c.output().expect("kubectl __complete");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect()
    };
    let kc = kubeconfig();
    let c = complete(&kc, &["ba"], &[]);
    assert_eq!(c, ["backup", ":4"], "{c:?}");
    let c = complete(&kc, &["backup", "--me"], &[]);
    assert!(
        c.contains(&"--method".to_string()) && c.contains(&"--metrics-file".to_string()),
        "{c:?}"
    );
    let c = complete(&kc, &["backup", "--method", ""], &[]);
    assert_eq!(c, ["auto", "bgsave", "stream", ":4"]);
    let c = complete(&kc, &["status", "-n", "oc"], &[]);
    assert_eq!(c, ["october", ":4"], "namespaces from the cluster: {c:?}");
    let c = complete(&kc, &["backup", "-n", "october", "--pod", "redis-"], &[]);
    assert!(c.iter().any(|p| p.starts_with("redis-")), "{c:?}");

    // Backups for --file, from $OUT_DIR.
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = tmp.path().join("redis-backup-20251024_180500.rdb");
    std::fs::copy(repo().join("core/tests/fixtures/empty-7.0.rdb"), &f).expect("copy");
    let c = complete(
        &kc,
        &["restore", "--file", ""],
        &[("OUT_DIR", tmp.path().to_str().expect("utf8"))],
    );
    assert_eq!(c, [f.to_str().expect("utf8"), ":0"], "{c:?}");

    // A cluster that does not answer: the kubeconfig's own namespaces.
    let dead = tmp.path().join("dead.kubeconfig");
    std::fs::write(
        &dead,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://10.255.255.1:6443\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: x\ncontexts:\n- name: prod\n  context:\n    cluster: dead\n    user: u\n    namespace: payments\ncurrent-context: prod\n",
    )
    .expect("kubeconfig");
    let c = complete(dead.to_str().expect("utf8"), &["backup", "-n", ""], &[]);
    assert_eq!(c, ["default", "payments", ":4"], "{c:?}");
    let c = complete(
        dead.to_str().expect("utf8"),
        &["backup", "--context", ""],
        &[],
    );
    assert_eq!(c, ["prod", ":4"], "{c:?}");
}

/// An image with only sh, cat and Redis: both backup methods work; a
/// file-swap restore is refused before anything changes, naming what the
/// image lacks (the writers keep running, the data stays).
#[test]
fn minimal_image_backs_up_and_refuses_swap_restore_first() {
    let s = Scene::build(
        "minimal",
        6440,
        "redis",
        &[],
        &[],
        ("kubectl-redis/redis-minimal", "7.0"),
    );
    s.add_worker(2);
    assert_eq!(s.cli(&["SET", "k", "original"]), "OK");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    for method in ["bgsave", "stream"] {
        let (code, stdout, stderr) = run(plugin(&[
            "backup",
            "--method",
            method,
            "-n",
            &s.ns,
            "--out-dir",
            out,
        ]));
        assert_eq!(code, 0, "{method}: {stderr}");
        assert!(stdout.trim().ends_with(".rdb"), "{stdout}");
    }
    let file = files_in(tmp.path())
        .into_iter()
        .find(|f| f.ends_with(".rdb"))
        .expect("a backup");
    let file = tmp.path().join(file);
    assert_eq!(s.cli(&["SET", "k", "changed"]), "OK");
    let restore = |method: &str| {
        run(plugin(&[
            "restore",
            "-n",
            &s.ns,
            "--file",
            file.to_str().expect("utf8"),
            "--method",
            method,
            "--yes",
        ]))
    };
    let (code, _, stderr) = restore("swap");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("has no head, mv, rm; nothing was changed"),
        "{stderr}"
    );
    assert!(!stderr.contains("scale worker to 0"), "{stderr}");
    assert_eq!(s.worker(), ("2".into(), String::new()));
    assert_eq!(s.cli(&["GET", "k"]), "changed");
    // auto: the swap cannot run here, so the restore goes live.
    let (code, _, stderr) = restore("auto");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("auto: live restore (the container lacks head, mv, rm"),
        "{stderr}"
    );
    assert_eq!(s.cli(&["GET", "k"]), "original");
    assert_eq!(s.worker(), ("2".into(), String::new()));
}

/// Runs a Job from the scheduled CronJob's template now, on this cluster
/// (host network, the API server on loopback, the local image): its
/// The JSON patch that runs the plugin's pod template at `pod` on this
/// cluster: it has no CNI or kube-proxy, so pods use the host's network and
/// reach the API server on loopback (and the image is never pulled). That
/// is the only change made.
fn host_network_patch(pod: &str) -> String {
    let admin = std::fs::read_to_string(kubeconfig()).expect("kubeconfig");
    let server = admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://"))
        .expect("server");
    let (h, p) = server.rsplit_once(':').expect("host:port");
    format!(
        r#"[{{"op":"add","path":"{pod}/hostNetwork","value":true}},
{{"op":"add","path":"{pod}/containers/0/imagePullPolicy","value":"Never"}},
{{"op":"add","path":"{pod}/containers/0/env/-","value":{{"name":"KUBERNETES_SERVICE_HOST","value":"{h}"}}}},
{{"op":"add","path":"{pod}/containers/0/env/-","value":{{"name":"KUBERNETES_SERVICE_PORT","value":"{p}"}}}}]"#
    )
}

/// `succeeded/failed` and its logs.
fn run_cronjob_now(ns: &str, name: &str) -> (String, String) {
    let patch = host_network_patch("/spec/jobTemplate/spec/template/spec");
    kubectl_ok(&[
        "-n",
        ns,
        "patch",
        "cronjob",
        "kubectl-redis-backup",
        "--type=json",
        "-p",
        &patch,
    ]);
    // A Job from the CronJob's template, as `kubectl create job --from=cronjob/...`
    // does (this kubectl does not read batch/v1beta1 CronJobs).
    let cj: serde_json::Value = serde_json::from_str(&kubectl_ok(&[
        "-n",
        ns,
        "get",
        "cronjob",
        "kubectl-redis-backup",
        "-o",
        "json",
    ]))
    .expect("cronjob json");
    let job = serde_json::json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": cj["spec"]["jobTemplate"]["spec"],
    });
    apply(&job.to_string());
    let mut last = String::new();
    wait_until(180, "the scheduled Job to finish", || {
        last = kubectl_ok(&[
            "-n",
            ns,
            "get",
            "job",
            name,
            "-o",
            "jsonpath={.status.succeeded}/{.status.failed}",
        ]);
        last.starts_with('1') || last.ends_with("/1") || last.ends_with("/2")
    });
    let logs =
        String::from_utf8_lossy(&kubectl(&["-n", ns, "logs", &format!("job/{name}")]).stdout)
            .into_owned();
    (last, logs)
}

/// The plugin with moto's S3 credentials (scripts/stores.sh).
fn plugin_s3(args: &[&str]) -> Command {
    let mut c = plugin(args);
    c.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:19000")
        .env("AWS_REGION", "us-east-1");
    c
}

/// A TCP proxy to 127.0.0.1:`upstream` on a free port that passes `limit`
/// bytes back from upstream in all, then cuts every connection and refuses
/// new ones: a network gone in the middle of a download. Runs until the
/// test process ends.
fn cutting_proxy(upstream: u16, limit: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        for client in l.incoming().flatten() {
            if total.load(std::sync::atomic::Ordering::SeqCst) >= limit {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
            let total = total.clone();
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c2, mut s2) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let (mut server, mut client) = (server, client);
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match server.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let sent = total.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                    let n = n.min(limit.saturating_sub(sent));
                    if n == 0 || client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

/// Object storage on the real cluster: the scene's Redis backed up to S3
/// (moto, started by scripts/stores.sh) encrypted with age; a restore with
/// the wrong identity changes nothing (exit 13); `restore --latest --repo`
/// with the right one brings the value back; no plaintext copy is left in
/// TMPDIR.
#[test]
fn restore_from_s3_encrypted() {
    let up = Command::new(repo().join("scripts/stores.sh"))
        .arg("up")
        .status()
        .expect("scripts/stores.sh up");
    assert!(up.success());
    let s = Scene::new("s3", 6445, "redis", &["--enable-debug-command", "yes"]);
    let keys = tempfile::tempdir().expect("tempdir");
    let (id, public) = age_key(keys.path(), "id.txt");
    let (wrong, _) = age_key(keys.path(), "wrong.txt");
    let url = format!("s3://backups/e2e-{}", std::process::id());
    let tmpdir = tempfile::tempdir().expect("tempdir");
    let with_s3 = |args: &[&str]| {
        let mut c = plugin_s3(args);
        c.env("TMPDIR", tmpdir.path());
        c
    };
    assert_eq!(s.cli(&["SET", "offsite", "original"]), "OK");
    // Enough data (about 10 MB) for a download to be cut in the middle.
    assert_eq!(
        s.cli(&["DEBUG", "POPULATE", "300000", "filler", "20"]),
        "OK"
    );
    let (code, out, err) = run(with_s3(&[
        "backup",
        "-n",
        &s.ns,
        "--repo",
        &url,
        "--encrypt-to",
        &public,
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.trim().starts_with(&url) && out.trim().ends_with(".rdb.age"),
        "{out}"
    );
    assert_eq!(s.cli(&["SET", "offsite", "changed"]), "OK");

    let (code, _, err) = run(with_s3(&[
        "restore",
        "-n",
        &s.ns,
        "--latest",
        "--repo",
        &url,
        "-i",
        wrong.to_str().expect("utf8"),
        "--yes",
        "--no-scale-down",
    ]));
    assert_eq!(code, 13, "{err}");
    assert_eq!(s.cli(&["GET", "offsite"]), "changed", "nothing changed");

    // The connection to the store cut in the middle of the download: exit
    // 12, nothing changed in Redis, nothing left in TMPDIR.
    let proxy = cutting_proxy(19000, 2 << 20);
    let mut c = with_s3(&[
        "restore",
        "-n",
        &s.ns,
        "--latest",
        "--repo",
        &url,
        "-i",
        id.to_str().expect("utf8"),
        "--yes",
        "--no-scale-down",
    ]);
    c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{proxy}"))
        .env("KUBECTL_REDIS_STORE_RETRIES", "2");
    let (code, _, err) = run(c);
    assert_eq!(code, 12, "{err}");
    assert_eq!(s.cli(&["GET", "offsite"]), "changed", "nothing changed");
    assert_eq!(std::fs::read_dir(tmpdir.path()).expect("tmpdir").count(), 0);

    let (code, out, err) = run(with_s3(&[
        "restore",
        "-n",
        &s.ns,
        "--latest",
        "--repo",
        &url,
        "-i",
        id.to_str().expect("utf8"),
        "--yes",
        "--no-scale-down",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let j = schema_checked("restore", &out);
    assert_eq!(j["keys_loaded"], 300_001);
    assert_eq!(s.cli(&["GET", "offsite"]), "original");
    let left: Vec<_> = std::fs::read_dir(tmpdir.path())
        .expect("read tmpdir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "plaintext copies left behind: {left:?}");

    // The same through Azure Blob (Azurite): backup, then restore --file URL.
    let az = format!("az://backups/e2e-{}", std::process::id());
    let with_az = |args: &[&str]| {
        let mut c = plugin(args);
        c.env("AZURE_STORAGE_USE_EMULATOR", "true")
            .env("AZURITE_BLOB_STORAGE_URL", "http://127.0.0.1:19002")
            .env("TMPDIR", tmpdir.path());
        c
    };
    assert_eq!(s.cli(&["SET", "offsite", "azure"]), "OK");
    let (code, out, err) = run(with_az(&[
        "backup",
        "-n",
        &s.ns,
        "--repo",
        &az,
        "--encrypt-to",
        &public,
    ]));
    assert_eq!(code, 0, "{err}");
    let path = out.trim().to_string();
    assert!(path.starts_with(&az), "{path}");
    assert_eq!(s.cli(&["SET", "offsite", "changed again"]), "OK");
    let (code, _, err) = run(with_az(&[
        "restore",
        "-n",
        &s.ns,
        "--file",
        &path,
        "-i",
        id.to_str().expect("utf8"),
        "--yes",
        "--no-scale-down",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.cli(&["GET", "offsite"]), "azure");
}

/// The runbook's hourly CronJob, offsite: `schedule --repo s3://...
/// --encrypt-to --repo-credentials-from-secret --pushgateway --apply`; a
/// Job from it backs the scene up to S3 (moto) with credentials from a
/// Secret, encrypted; the backup lists verified and decrypts; the run
/// reported to the Pushgateway.
#[test]
fn scheduled_backup_to_s3_with_credentials_from_a_secret() {
    let up = Command::new(repo().join("scripts/stores.sh"))
        .arg("up")
        .status()
        .expect("scripts/stores.sh up");
    assert!(up.success());
    let s = Scene::new("schedule-s3", 6446, "redis", &[]);
    assert_eq!(s.cli(&["SET", "offsite", "hourly"]), "OK");
    let image = "kubectl-redis/kubectl-redis:e2e";
    let status = Command::new(repo().join("scripts/cluster.sh"))
        .args(["plugin-image", bin().to_str().expect("utf8"), image])
        .status()
        .expect("cluster.sh plugin-image");
    assert!(status.success());
    let keys = tempfile::tempdir().expect("tempdir");
    let (id, public) = age_key(keys.path(), "id.txt");
    // A value found nowhere else: the logs and objects below must not hold it.
    let secret = format!("sEcReT-{}-never-printed", std::process::id());
    kubectl_ok(&[
        "-n",
        &s.ns,
        "create",
        "secret",
        "generic",
        "backup-s3",
        "--from-literal=AWS_ACCESS_KEY_ID=test",
        &format!("--from-literal=AWS_SECRET_ACCESS_KEY={secret}"),
        "--from-literal=AWS_ENDPOINT_URL=http://127.0.0.1:19000",
        "--from-literal=AWS_REGION=us-east-1",
    ]);
    let url = format!("s3://backups/scheduled-{}", std::process::id());
    let (code, _, stderr) = run(plugin(&[
        "schedule",
        "--every",
        "1h",
        "-n",
        &s.ns,
        "--image",
        image,
        "--method",
        "stream",
        "--repo",
        &url,
        "--encrypt-to",
        &public,
        "--repo-credentials-from-secret",
        "backup-s3",
        "--pushgateway",
        "http://127.0.0.1:19091",
        "--service-account-annotation",
        "eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/redis-backup",
        "--apply",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (last, logs) = run_cronjob_now(&s.ns, "now");
    assert!(last.starts_with('1'), "the Job failed ({last}):\n{logs}");
    assert!(logs.contains("read back: sha256"), "{logs}");
    assert!(
        !logs.contains(&secret),
        "the secret in the Job's logs:\n{logs}"
    );
    // Nor in the CronJob, its Jobs or their pods: only a reference to the Secret.
    let objects = kubectl_ok(&["-n", &s.ns, "get", "cronjobs,jobs,pods", "-o", "json"]);
    assert!(
        objects.contains("backup-s3") && !objects.contains(&secret),
        "the CronJob must refer to the Secret, never hold its value"
    );
    let with_s3 = plugin_s3;
    let (code, out, err) = run(with_s3(&["list", "--repo", &url, "-o", "json"]));
    assert_eq!(code, 0, "{err}");
    let l = schema_checked("list", &out);
    assert_eq!(l["backups"].as_array().map(Vec::len), Some(1), "{l}");
    assert_eq!(l["backups"][0]["status"], "verified");
    let path = l["backups"][0]["path"].as_str().expect("path").to_string();
    assert!(path.ends_with(".rdb.age"), "{path}");
    let (code, out, err) = run(with_s3(&[
        "verify",
        &path,
        "-i",
        id.to_str().expect("utf8"),
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(schema_checked("verify", &out)["files"][0]["keys"], 1);
    // The ServiceAccount carries the IRSA annotation.
    let sa = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "serviceaccount",
        "kubectl-redis-backup",
        "-o",
        "jsonpath={.metadata.annotations.eks\\.amazonaws\\.com/role-arn}",
    ]);
    assert_eq!(sa.trim(), "arn:aws:iam::123456789012:role/redis-backup");
    // The identity from a Secret decrypts it too.
    kubectl_ok(&[
        "-n",
        &s.ns,
        "create",
        "secret",
        "generic",
        "backup-key",
        &format!("--from-file=key.txt={}", id.display()),
    ]);
    let (code, out, err) = run(with_s3(&[
        "verify",
        &path,
        "-n",
        &s.ns,
        "--identity-from-secret",
        "backup-key/key.txt",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        schema_checked("verify", &out)["files"][0]["checked"],
        "every-byte"
    );
    let pg = Command::new("curl")
        .args(["-sf", "http://127.0.0.1:19091/metrics"])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&pg.stdout);
    // This namespace's group: another test's push cannot satisfy it.
    let ours = format!("redis_namespace=\"{}\"", s.ns);
    assert!(
        text.lines()
            .any(|l| l.starts_with("kubectl_redis_backup_last_exit_code{")
                && l.contains("job=\"kubectl-redis-backup\"")
                && l.contains(&ours)
                && l.ends_with(" 0")),
        "no metrics pushed for {}:\n{text}",
        s.ns
    );
}

/// The pod pair the Redis Deployment runs now: name and restart count.
fn pod_state(s: &Scene) -> String {
    kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "pods",
        "-l",
        "app=redis",
        "-o",
        "jsonpath={.items[0].metadata.name} {.items[0].status.containerStatuses[0].restartCount}",
    ])
}

/// A live restore through the port-forward into an image with no shell
/// and no redis-cli, as a ServiceAccount that may not exec: `--method
/// auto` chooses live and says why, the data is the backup's, nothing
/// restarted, the writer came back; `--method swap` is refused before any
/// change.
#[test]
fn live_restore_without_exec_or_shell() {
    let s = Scene::build(
        "live",
        6447,
        "redis",
        &["--enable-debug-command", "yes"],
        &[],
        ("kubectl-redis/redis-noshell", "7.0"),
    );
    s.add_worker(2);
    assert_eq!(resp(s.port, &["SET", "k", "original"]), "OK");
    assert_eq!(
        resp(s.port, &["DEBUG", "POPULATE", "20000", "pop", "50"]),
        "OK"
    );
    assert_eq!(resp(s.port, &["HSET", "h", "f", "v"]), ":1");
    let (_kc_dir, kc) = sa_kubeconfig(
        &s.ns,
        "restorer",
        r#"[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]},
          {"apiGroups":[""],"resources":["pods/portforward"],"verbs":["get","create"]},
          {"apiGroups":["apps"],"resources":["deployments","statefulsets"],"verbs":["get","list","patch"]},
          {"apiGroups":["apps"],"resources":["deployments/scale","statefulsets/scale"],"verbs":["get","patch","update"]},
          {"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["get","create","update","patch","delete"]}]"#,
    );
    let as_sa = |args: &[&str]| {
        let mut c = Command::new(bin());
        c.args(args)
            .env("KUBECONFIG", &kc)
            .env("NO_COLOR", "1")
            .env_remove("NS");
        run(c)
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    let (code, file, stderr) = as_sa(&["backup", "--out-dir", out]);
    assert_eq!(code, 0, "{stderr}");
    let file = file.trim().to_string();
    let digest = digest_of("DEBUG DIGEST", &resp(s.port, &["DEBUG", "DIGEST"]));
    assert_eq!(resp(s.port, &["SET", "k", "changed"]), "OK");
    assert_eq!(resp(s.port, &["SET", "extra", "1"]), "OK");
    let before = pod_state(&s);

    // A swap needs exec: refused before any change, naming the way out.
    let (code, _, stderr) = as_sa(&["restore", "--method", "swap", "--file", &file, "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(resp(s.port, &["GET", "k"]), "changed");
    assert_eq!(s.worker(), ("2".into(), String::new()));

    let (code, stdout, stderr) = as_sa(&["restore", "--file", &file, "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let r = schema_checked("restore", &stdout);
    assert_eq!(r["method"], "live", "{stdout}");
    assert!(
        r["method_reason"].as_str().unwrap_or("").contains("exec"),
        "{stdout}"
    );
    assert!(stderr.contains("auto: live restore"), "{stderr}");
    assert!(stderr.contains("scale worker to 0"), "{stderr}");
    assert_eq!(r["load"]["keys_restored"], 20002, "{stdout}");
    assert_eq!(resp(s.port, &["GET", "k"]), "original");
    assert_eq!(resp(s.port, &["EXISTS", "extra"]), ":0");
    assert_eq!(
        digest_of("DEBUG DIGEST", &resp(s.port, &["DEBUG", "DIGEST"])),
        digest
    );
    assert_eq!(pod_state(&s), before, "Redis restarted");
    assert_eq!(s.worker(), ("2".into(), String::new()));
}

/// `drill`: the newest backup restored into a throwaway pod beside
/// production, counts and a sample compared, the time printed, the pod
/// deleted; production untouched. An image that cannot start fails the
/// drill (exit 1) and the pod is still deleted.
#[test]
fn drill_restores_into_a_throwaway_pod() {
    let s = Scene::new("drill", 6448, "redis", &[]);
    for i in 0..300 {
        let k = format!("k{i}");
        assert_eq!(resp(s.port, &["SET", &k, &format!("v{i}")]), "OK");
    }
    resp(s.port, &["RPUSH", "list", "a", "b", "c"]);
    resp(s.port, &["HSET", "hash", "f", "v"]);
    resp(s.port, &["ZADD", "z", "1.5", "m"]);
    resp(s.port, &["SADD", "set", "x", "y"]);
    resp(s.port, &["XADD", "st", "*", "f", "v"]);
    resp(s.port, &["SET", "ttl", "v", "EX", "3600"]);
    let (tmp, _) = backup_of(&s);
    let repo = tmp.path().to_str().expect("utf8");
    let before = pod_state(&s);
    let drills = || {
        kubectl_ok(&[
            "-n",
            &s.ns,
            "get",
            "pods",
            "-l",
            "kubectl-redis.io/drill",
            "-o",
            "name",
        ])
    };
    let (code, stdout, stderr) = run(plugin(&[
        "drill",
        "--latest",
        "--repo",
        repo,
        "-n",
        &s.ns,
        "--host-network",
        "--port",
        "6449",
        "--sample",
        "50",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let r = schema_checked("drill", &stdout);
    assert_eq!(r["ok"], true, "{stdout}");
    assert_eq!(r["keys_restored"], 306, "{stdout}");
    assert!(r["sampled"].as_u64().unwrap_or(0) >= 40, "{stdout}");
    assert_eq!(r["mismatches"], serde_json::json!([]), "{stdout}");
    assert_eq!(r["pod_deleted"], true, "{stdout}");
    assert_eq!(r["image"], "kubectl-redis/redis:7.0", "{stdout}");
    assert!(stderr.contains("PASSED: 306 keys restored in"), "{stderr}");
    // On the node's network the throwaway server holds production data
    // where every process there can reach it: it had a random password,
    // set after it started (never in the pod's spec).
    assert!(
        stderr.contains("AUTH with the password from the drill server's own random password"),
        "{stderr}"
    );
    wait_until(60, "the drill pod to go", || drills().trim().is_empty());
    assert_eq!(pod_state(&s), before, "production was touched");
    assert_eq!(resp(s.port, &["GET", "k7"]), "v7");
    // The audit trail: DrillSucceeded on production's Deployment, and the
    // read recorded in the repository.
    let events = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "events.events.k8s.io",
        "--field-selector",
        "reason=DrillSucceeded",
        "-o",
        "jsonpath={.items[*].regarding.kind}/{.items[*].regarding.name}/{.items[*].note}",
    ]);
    assert!(
        events.starts_with("Deployment/redis/drill of redis-backup-"),
        "{events}"
    );
    assert!(events.contains("306 keys restored"), "{events}");
    let (code, trail, _) = run(plugin(&["audit", "--repo", repo, "-o", "json"]));
    assert_eq!(code, 0);
    let trail = schema_checked("audit", &trail);
    assert!(
        trail["records"]
            .as_array()
            .expect("records")
            .iter()
            .any(|r| r["action"] == "read" && r["by_command"] == "drill"),
        "{trail}"
    );

    // A throwaway server that changes k7 as the restore writes it (the
    // tamper image, keyspace events): the counts agree, the sample (every
    // key) does not: exit 7 naming the key.
    let (code, stdout, stderr) = run(plugin(&[
        "drill",
        "--latest",
        "--repo",
        repo,
        "-n",
        &s.ns,
        "--host-network",
        "--port",
        "6449",
        "--image",
        "kubectl-redis/redis-tamper:7.0",
        "--sample",
        "1000",
        "-o",
        "json",
    ]));
    assert_eq!(code, 7, "{stderr}");
    let r = schema_checked("drill", &stdout);
    assert_eq!(r["ok"], false, "{stdout}");
    assert_eq!(r["keys_restored"], 306, "{stdout}");
    let mismatches = r["mismatches"].as_array().cloned().unwrap_or_default();
    assert_eq!(mismatches.len(), 1, "{stdout}");
    assert!(
        mismatches[0].as_str().unwrap_or("").contains("\"k7\""),
        "{stdout}"
    );
    assert!(stderr.contains("drill FAILED: 1 of"), "{stderr}");
    assert_eq!(r["pod_deleted"], true, "{stdout}");
    wait_until(60, "the drill pod to go", || drills().trim().is_empty());

    let (code, stdout, stderr) = run(plugin(&[
        "drill",
        "--latest",
        "--repo",
        repo,
        "-n",
        &s.ns,
        "--host-network",
        "--port",
        "6449",
        "--image",
        "kubectl-redis/does-not-exist:1",
        "--timeout",
        "60s",
        "-o",
        "json",
    ]));
    assert_eq!(code, 1, "{stderr}");
    let r = schema_checked("drill", &stdout);
    assert_eq!(r["ok"], false, "{stdout}");
    assert_eq!(r["pod_deleted"], true, "{stdout}");
    assert!(stderr.contains("did not start"), "{stderr}");
    wait_until(60, "the failed drill pod to go", || {
        drills().trim().is_empty()
    });
}

/// A workload of `kind` (Deployment or StatefulSet) named `name` running
/// one Redis container with host networking, probed on `port` over TCP.
fn redis_workload(
    ns: &str,
    kind: &str,
    name: &str,
    labels: &str,
    container: &str,
    port: u16,
    volumes: &str,
) -> String {
    let extra = if kind == "StatefulSet" {
        format!(r#""serviceName":"{name}","#)
    } else {
        String::new()
    };
    format!(
        r#"{{"apiVersion":"apps/v1","kind":"{kind}","metadata":{{"name":"{name}","namespace":"{ns}","labels":{labels}}},
 "spec":{{{extra}"replicas":1,"selector":{{"matchLabels":{labels}}},
  "template":{{"metadata":{{"labels":{labels}}},"spec":{{"hostNetwork":true,"terminationGracePeriodSeconds":1,
   "containers":[{container}],"volumes":{volumes}}}}}}}}}"#
    )
    .replace(
        "\"PROBE\"",
        &format!(r#"{{"tcpSocket":{{"host":"127.0.0.1","port":{port}}},"periodSeconds":1}}"#),
    )
}

/// `workload` (a StatefulSet) with its data on a claim of storage class
/// `class`, mounted at /data in every container.
fn with_data_claim(workload: &str, class: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(workload).expect("workload JSON");
    v["spec"]["volumeClaimTemplates"] = serde_json::json!([{
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                 "resources": {"requests": {"storage": "1Gi"}}}
    }]);
    if let Some(cs) = v["spec"]["template"]["spec"]["containers"].as_array_mut() {
        for c in cs {
            let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
            let mut mounts = mounts;
            mounts.push(serde_json::json!({"name": "data", "mountPath": "/data"}));
            c["volumeMounts"] = serde_json::Value::Array(mounts);
        }
    }
    v.to_string()
}

/// `n` hostPath PersistentVolumes of storage class `class`, in fresh
/// directories under /var/tmp (removed first, with the volumes).
fn host_path_volumes(class: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("{class}-{i}");
            let _ = kubectl(&["delete", "pv", &name, "--ignore-not-found", "--wait=true"]);
            let dir = format!("/var/tmp/{name}");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("pv dir");
            format!(
                r#"{{"apiVersion":"v1","kind":"PersistentVolume","metadata":{{"name":"{name}"}},"spec":{{"capacity":{{"storage":"1Gi"}},"accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain","storageClassName":"{class}","hostPath":{{"path":"{dir}","type":"DirectoryOrCreate"}}}}}}"#
            )
        })
        .collect()
}

/// The shapes users deploy: a port set only by `--port` in the command
/// line, one set only by `REDIS_PORT`, and a Bitnami-shaped primary and
/// two replicas (StatefulSets with their data on hostPath-backed claims,
/// `app.kubernetes.io/*` labels, a port named `tcp-redis`, the password in
/// a file on a Secret volume). The plugin finds each without flags beyond
/// -l (none for the chart), says why, reads the password file through the
/// API, backs up from a healthy replica (the next one when the first is
/// cut off, the primary when both are), and restores live into the primary
/// while both replicas catch up.
#[test]
fn chart_shaped_deployments_are_found() {
    let ns = "e2e-charts";
    remove_namespace(ns);
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    let file = "/opt/bitnami/redis/secrets/redis-password";
    let pw = "chart-Secret-7";
    let secret_vol = r#"[{"name":"redis-password","secret":{"secretName":"redis","items":[{"key":"redis-password","path":"redis-password"}]}}]"#;
    let mount = r#"[{"name":"redis-password","mountPath":"/opt/bitnami/redis/secrets"}]"#;
    let env = format!(r#"[{{"name":"REDIS_PASSWORD_FILE","value":"{file}"}}]"#);
    let undeclared = format!(
        r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["redis-server","--port","6491","--bind","127.0.0.1","--save",""],"readinessProbe":"PROBE"}}"#
    );
    let envport = format!(
        r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port $REDIS_PORT --bind 127.0.0.1 --save ''"],"env":[{{"name":"REDIS_PORT","value":"6492"}}],"readinessProbe":"PROBE"}}"#
    );
    let primary = format!(
        r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port 6493 --bind 127.0.0.1 --dir /data --save '' --requirepass \"$(cat {file})\""],"env":{env},"ports":[{{"name":"tcp-redis","containerPort":6493}}],"volumeMounts":{mount},"readinessProbe":"PROBE"}}"#
    );
    let replica = |port: u16| {
        format!(
            r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port {port} --bind 127.0.0.1 --dir /data --save '' --replicaof 127.0.0.1 6493 --masterauth \"$(cat {file})\" --requirepass \"$(cat {file})\""],"env":{env},"ports":[{{"name":"tcp-redis","containerPort":{port}}}],"volumeMounts":{mount},"readinessProbe":"PROBE"}}"#
        )
    };
    let chart = |component: &str| {
        format!(
            r#"{{"app.kubernetes.io/name":"redis","app.kubernetes.io/instance":"r","app.kubernetes.io/component":"{component}"}}"#
        )
    };
    // The chart's primary and two replicas keep their data on claims
    // (hostPath volumes here), one replica per StatefulSet: on the host's
    // network each needs its own port.
    let mut items = host_path_volumes("kr-e2e-chart", 3);
    items.extend([
        format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#),
        format!(
            r#"{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"redis","namespace":"{ns}"}},"stringData":{{"redis-password":"{pw}"}}}}"#
        ),
        redis_workload(
            ns,
            "Deployment",
            "undeclared",
            r#"{"app":"undeclared"}"#,
            &undeclared,
            6491,
            "[]",
        ),
        redis_workload(
            ns,
            "Deployment",
            "envport",
            r#"{"app":"envport"}"#,
            &envport,
            6492,
            "[]",
        ),
        with_data_claim(
            &redis_workload(
                ns,
                "StatefulSet",
                "r-redis-master",
                &chart("master"),
                &primary,
                6493,
                secret_vol,
            ),
            "kr-e2e-chart",
        ),
        with_data_claim(
            &redis_workload(
                ns,
                "StatefulSet",
                "r-redis-replicas",
                &chart("replica"),
                &replica(6494),
                6494,
                secret_vol,
            ),
            "kr-e2e-chart",
        ),
        with_data_claim(
            &redis_workload(
                ns,
                "StatefulSet",
                "r-redis-replicas-b",
                &chart("replica").replace('}', r#","r-set":"b"}"#),
                &replica(6495),
                6495,
                secret_vol,
            ),
            "kr-e2e-chart",
        ),
    ]);
    apply_all(&items);
    for w in [
        "deploy/undeclared",
        "deploy/envport",
        "sts/r-redis-master",
        "sts/r-redis-replicas",
        "sts/r-redis-replicas-b",
    ] {
        kubectl_ok(&["-n", ns, "rollout", "status", w, "--timeout=120s"]);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    for (label, port, why) in [
        ("app=undeclared", 6491, "--port in its command line"),
        ("app=envport", 6492, "its REDIS_PORT environment variable"),
    ] {
        let (code, _, stderr) = run(plugin(&["backup", "-n", ns, "-l", label, "--out-dir", out]));
        assert_eq!(code, 0, "{label}: {stderr}");
        assert!(
            stderr.contains(&format!("port {port}: {why}")),
            "{label}: {stderr}"
        );
    }
    // The chart: no -l; found by its labels, the primary chosen, the
    // password read from the file's Secret.
    let auth = |port: u16, args: &[&str]| {
        resp_all(port, &[&["AUTH", pw], args])
            .pop()
            .unwrap_or_default()
    };
    assert_eq!(auth(6493, &["SET", "k", "original"]), "OK");
    wait_until(60, "the replicas to have k", || {
        auth(6494, &["GET", "k"]) == "original" && auth(6495, &["GET", "k"]) == "original"
    });
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("app.kubernetes.io/name=redis"), "{stderr}");
    assert!(stderr.contains("r-redis-master-0"), "{stderr}");
    assert!(
        stderr.contains("the container's REDIS_PASSWORD_FILE (Secret redis/redis-password)"),
        "{stderr}"
    );
    assert!(!stderr.contains(pw), "the password is printed: {stderr}");
    // Read from the healthy replica, sparing the primary the fork.
    let r = schema_checked("backup", &stdout);
    assert_eq!(r["source"]["pod"], "r-redis-replicas-0", "{stdout}");
    assert_eq!(r["source"]["role"], "replica", "{stdout}");
    assert_eq!(r["keys"], 1, "{stdout}");
    assert!(
        stderr.contains("reading from r-redis-replicas-0 spares the primary the fork"),
        "{stderr}"
    );
    assert!(
        stderr.contains("replica of 127.0.0.1:6493: link up"),
        "{stderr}"
    );
    let backup = r["path"].as_str().unwrap_or_default().to_string();
    // A replica can be linked and recently heard from, yet behind its
    // primary: `CLIENT PAUSE WRITE` holds back the primary's stream into
    // it too, so it lacks the write below. The backup waits for it to reach
    // the offset the primary had, and reads it once it has (here, once
    // unpaused)...
    assert_eq!(auth(6494, &["CLIENT", "PAUSE", "120000", "WRITE"]), "OK");
    assert_eq!(auth(6493, &["SET", "late", "1"]), "OK");
    let mut child = plugin(&["backup", "-n", ns, "--out-dir", out, "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let seen = read_until(&mut lines, "waiting up to 10 s for it to catch up");
    assert!(seen.contains("r-redis-replicas-0: "), "{seen}");
    assert_eq!(auth(6494, &["CLIENT", "UNPAUSE"]), "OK");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("stdout");
    let rest = rest.join("\n");
    assert!(child.wait().expect("wait").success(), "{seen}{rest}");
    assert!(rest.contains("caught up with its primary after"), "{rest}");
    let r = schema_checked("backup", &stdout);
    assert_eq!(r["source"]["pod"], "r-redis-replicas-0", "{stdout}");
    assert_eq!(
        r["keys"], 2,
        "the replica was read before it had `late`: {stdout}"
    );
    // ...or, still behind after 10 s, passes it over for the next replica.
    assert_eq!(auth(6494, &["CLIENT", "PAUSE", "120000", "WRITE"]), "OK");
    assert_eq!(auth(6493, &["SET", "later", "1"]), "OK");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(auth(6494, &["CLIENT", "UNPAUSE"]), "OK");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("not backing up from r-redis-replicas-0: ")
            && stderr.contains("bytes behind its primary after 10 s"),
        "{stderr}"
    );
    let r = schema_checked("backup", &stdout);
    assert_eq!(r["source"]["pod"], "r-redis-replicas-b-0", "{stdout}");
    assert_eq!(r["keys"], 3, "{stdout}");
    // The bgsave method checks the same through redis-cli in the pods.
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "--method",
        "bgsave",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("r-redis-master-0 (primary): replication offset"),
        "{stderr}"
    );
    let r = schema_checked("backup", &stdout);
    assert_eq!(r["source"]["pod"], "r-redis-replicas-0", "{stdout}");
    assert_eq!(r["keys"], 3, "{stdout}");
    // A replica cut off from its primary is not backed up from: the next
    // one is read; with both cut, --from replica fails (exit 11) and auto
    // falls back to the primary.
    assert_eq!(auth(6494, &["REPLICAOF", "127.0.0.1", "1"]), "OK");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let r = schema_checked("backup", &stdout);
    assert_eq!(r["source"]["pod"], "r-redis-replicas-b-0", "{stdout}");
    assert!(
        stderr.contains("its link to 127.0.0.1:1 is down"),
        "{stderr}"
    );
    assert_eq!(auth(6495, &["REPLICAOF", "127.0.0.1", "1"]), "OK");
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "--from",
        "replica",
    ]));
    assert_eq!(code, 11, "{stderr}");
    assert!(
        stderr.contains("its link to 127.0.0.1:1 is down"),
        "{stderr}"
    );
    let (code, _, stderr) = run(plugin(&["backup", "-n", ns, "--out-dir", out]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("backing up from the primary r-redis-master-0 instead"),
        "{stderr}"
    );
    for port in [6494, 6495] {
        assert_eq!(auth(port, &["REPLICAOF", "127.0.0.1", "6493"]), "OK");
    }
    wait_until(60, "the replicas to be linked again", || {
        [6494, 6495]
            .iter()
            .all(|&p| auth(p, &["INFO", "replication"]).contains("master_link_status:up"))
    });
    assert_eq!(auth(6493, &["SET", "k", "changed"]), "OK");
    // A swap would restart a primary with a replica attached: auto goes live.
    let (code, _, stderr) = run(plugin(&[
        "restore",
        "-n",
        ns,
        "--file",
        &backup,
        "--no-scale-down",
        "--yes",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("auto: live restore (2 replica(s) attached"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 2 replica(s) caught up (WAIT)"),
        "{stderr}"
    );
    assert_eq!(auth(6493, &["GET", "k"]), "original");
    for port in [6494, 6495] {
        assert_eq!(auth(port, &["GET", "k"]), "original", "replica on {port}");
    }
    // The data lives on the claims: each pod's /data is its own volume.
    for (pod, pv) in [
        ("r-redis-master-0", "kr-e2e-chart"),
        ("r-redis-replicas-0", "kr-e2e-chart"),
        ("r-redis-replicas-b-0", "kr-e2e-chart"),
    ] {
        let claim = kubectl_ok(&[
            "-n",
            ns,
            "get",
            "pvc",
            &format!("data-{pod}"),
            "-o",
            "jsonpath={.status.phase} {.spec.volumeName}",
        ]);
        assert!(claim.starts_with(&format!("Bound {pv}-")), "{pod}: {claim}");
    }
    let _ = kubectl(&["delete", "namespace", ns, "--wait=false"]);
    for i in 0..3 {
        let _ = kubectl(&["delete", "pv", &format!("kr-e2e-chart-{i}"), "--wait=false"]);
    }
}

/// Three pods shaped like the Bitnami chart with Sentinel (`-node`
/// StatefulSets `s-redis-node-{a,b,c}`, a `redis` and a `sentinel`
/// container in each, no role labels) in namespace `ns`: Redis on `base`,
/// `base + 1`, `base + 2` (the first the primary), each Sentinel on its
/// Redis port + 20000, master name `mymaster`. Returns once the replicas
/// are linked and Sentinel knows them.
fn sentinel_trio(ns: &str, base: u16) {
    remove_namespace(ns);
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    let nodes = [("a", base), ("b", base + 1), ("c", base + 2)];
    let mut items = vec![format!(
        r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#
    )];
    for (n, port) in nodes {
        let sport = port + 20000;
        let replicaof = if n == "a" {
            String::new()
        } else {
            format!(" --replicaof 127.0.0.1 {base}")
        };
        let redis = format!(
            r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port {port} --bind 127.0.0.1 --save '' --enable-debug-command yes{replicaof}"],"ports":[{{"name":"redis","containerPort":{port}}}],"readinessProbe":"PROBE"}}"#
        );
        let conf = format!(
            "port {sport}\\nbind 127.0.0.1\\nsentinel monitor mymaster 127.0.0.1 {base} 2\\nsentinel down-after-milliseconds mymaster 5000\\nsentinel failover-timeout mymaster 20000\\n"
        );
        let sentinel = format!(
            r#"{{"name":"sentinel","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","printf '{conf}' > /conf/sentinel.conf && exec redis-server /conf/sentinel.conf --sentinel"],"ports":[{{"name":"redis-sentinel","containerPort":{sport}}}],"volumeMounts":[{{"name":"conf","mountPath":"/conf"}}]}}"#
        );
        items.push(redis_workload(
            ns,
            "StatefulSet",
            &format!("s-redis-node-{n}"),
            r#"{"app.kubernetes.io/name":"redis","app.kubernetes.io/instance":"s","app.kubernetes.io/component":"node"}"#
                .replace("\"node\"", &format!("\"node\",\"node\":\"{n}\""))
                .as_str(),
            &format!("{redis},{sentinel}"),
            port,
            r#"[{"name":"conf","emptyDir":{}}]"#,
        ));
    }
    apply_all(&items);
    for (n, _) in nodes {
        kubectl_ok(&[
            "-n",
            ns,
            "rollout",
            "status",
            &format!("sts/s-redis-node-{n}"),
            "--timeout=120s",
        ]);
    }
    let sentinel = base + 20000;
    wait_until(60, "both replicas to be linked", || {
        resp(base, &["INFO", "replication"]).contains("connected_slaves:2")
    });
    wait_until(60, "the three Sentinels to know each other", || {
        TcpStream::connect(("127.0.0.1", sentinel)).is_ok()
            && resp(sentinel, &["SENTINEL", "CKQUORUM", "mymaster"]).starts_with("OK 3 usable")
    });
    // Sentinel learns replicas from the primary's INFO, every 10 s.
    wait_until(60, "Sentinel to know both replicas", || {
        resp(sentinel, &["SENTINEL", "REPLICAS", "mymaster"]) == "*2"
    });
}

/// The Sentinel trio ([`sentinel_trio`]): Sentinel names the primary, `status` shows its view, a backup
/// reads a replica, a swap is refused before any change, auto restores
/// live, and after a forced `SENTINEL FAILOVER` the new primary still
/// holds the backup's data, and the plugin follows it.
#[test]
fn sentinel_names_the_primary_and_a_failover_keeps_the_restore() {
    let ns = "e2e-sentinel";
    sentinel_trio(ns, 6501);
    for i in 0..200 {
        resp(6501, &["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    assert_eq!(resp(6501, &["SET", "k", "original"]), "OK");
    wait_until(60, "the replicas to have k", || {
        [6502, 6503]
            .iter()
            .all(|p| resp(*p, &["GET", "k"]) == "original")
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");

    // status: Sentinel's view, the primary it names.
    let (_, stdout, stderr) = run(plugin(&[
        "status",
        "-n",
        ns,
        "-l",
        "app.kubernetes.io/name=redis",
        "-o",
        "json",
    ]));
    let s = schema_checked("status", &stdout);
    assert_eq!(s["pod"]["name"], "s-redis-node-a-0", "{stdout}\n{stderr}");
    let sv = &s["sentinel"];
    assert_eq!(sv["master_name"], "mymaster", "{stdout}");
    assert_eq!(sv["primary"]["pod"], "s-redis-node-a-0", "{stdout}");
    assert_eq!(sv["quorum"], 2, "{stdout}");
    assert_eq!(sv["sentinels"], 3, "{stdout}");
    assert_eq!(sv["replicas"].as_array().map(Vec::len), Some(2), "{stdout}");
    assert_eq!(sv["failover_in_progress"], false, "{stdout}");

    // backup: Sentinel names the primary; a replica is read.
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("127.0.0.1:6501 the primary of mymaster: pod s-redis-node-a-0"),
        "{stderr}"
    );
    let b = schema_checked("backup", &stdout);
    assert_eq!(b["source"]["role"], "replica", "{stdout}");
    assert_eq!(b["source"]["pod"], "s-redis-node-b-0", "{stdout}");
    assert_eq!(b["keys"], 201, "{stdout}");
    let backup = b["path"].as_str().unwrap_or_default().to_string();

    assert_eq!(resp(6501, &["SET", "k", "changed"]), "OK");
    assert_eq!(resp(6501, &["SET", "extra", "1"]), "OK");
    // A swap would stop a Sentinel-managed primary: refused, nothing changed.
    let restore = |method: &str| {
        run(plugin(&[
            "restore",
            "-n",
            ns,
            "--file",
            &backup,
            "--method",
            method,
            "--no-scale-down",
            "--yes",
        ]))
    };
    let (code, _, stderr) = restore("swap");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Sentinel runs beside Redis"), "{stderr}");
    assert_eq!(resp(6501, &["GET", "k"]), "changed");
    let (code, _, stderr) = restore("auto");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("auto: live restore"), "{stderr}");
    assert!(
        stderr.contains("2 of 2 replica(s) caught up (WAIT)"),
        "{stderr}"
    );
    assert_eq!(resp(6501, &["GET", "k"]), "original");

    // The danger a swap runs into, forced: Sentinel fails over. The new
    // primary was a replica of the restored one, so it holds the backup.
    assert_eq!(resp(26501, &["SENTINEL", "FAILOVER", "mymaster"]), "OK");
    let mut new_port = 0;
    wait_until(90, "a replica to be promoted", || {
        new_port = [6502u16, 6503]
            .into_iter()
            .find(|p| poll_resp(*p, &["INFO", "replication"]).contains("role:master"))
            .unwrap_or(0);
        new_port != 0
    });
    assert_eq!(resp(new_port, &["GET", "k"]), "original");
    assert_eq!(resp(new_port, &["EXISTS", "extra"]), ":0");
    assert_eq!(resp(new_port, &["DBSIZE"]), ":201");
    // The plugin follows Sentinel to the new primary.
    let new_pod = if new_port == 6502 {
        "s-redis-node-b-0"
    } else {
        "s-redis-node-c-0"
    };
    wait_until(60, "Sentinel to name the new primary", || {
        poll_resp(26501, &["SENTINEL", "CKQUORUM", "mymaster"]).starts_with("OK")
            && poll_resp(6501, &["INFO", "replication"]).contains("role:slave")
    });
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "--from",
        "primary",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "127.0.0.1:{new_port} the primary of mymaster: pod {new_pod}"
        )),
        "{stderr}"
    );
    let _ = kubectl(&["delete", "namespace", ns, "--wait=false"]);
}

/// A command to a Redis Cluster on this host, following one MOVED.
fn cluster_resp(port: u16, args: &[&str]) -> String {
    let r = resp(port, args);
    match r.strip_prefix("-MOVED ") {
        Some(rest) => {
            let to: u16 = rest
                .rsplit(':')
                .next()
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(port);
            resp(to, args)
        }
        None => r,
    }
}

/// A 6-node Redis Cluster on the real Kubernetes (3 primaries and a
/// replica each, one StatefulSet per node on its own host port, no role
/// labels): `backup -l` finds it and backs up every primary into one
/// verified file listing the shards and their pods; after FLUSHALL the
/// restore through one node's pod routes every key to its slot's primary.
#[test]
fn redis_cluster_backup_and_restore_on_kubernetes() {
    let ns = "e2e-rcluster";
    remove_namespace(ns);
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    let ports: Vec<u16> = (6531..6537).collect();
    let mut items = vec![format!(
        r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#
    )];
    for (i, port) in ports.iter().enumerate() {
        let redis = format!(
            r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port {port} --bind 127.0.0.1 --save '' --cluster-enabled yes --cluster-config-file /conf/nodes.conf --dir /conf"],"ports":[{{"name":"redis","containerPort":{port}}}],"volumeMounts":[{{"name":"conf","mountPath":"/conf"}}],"readinessProbe":"PROBE"}}"#
        );
        items.push(redis_workload(
            ns,
            "StatefulSet",
            &format!("rc-{i}"),
            &format!(r#"{{"app":"rcluster","node":"n{i}"}}"#),
            &redis,
            *port,
            r#"[{"name":"conf","emptyDir":{}}]"#,
        ));
    }
    apply_all(&items);
    for i in 0..6 {
        kubectl_ok(&[
            "-n",
            ns,
            "rollout",
            "status",
            &format!("sts/rc-{i}"),
            "--timeout=120s",
        ]);
    }
    let base = ports[0];
    for p in &ports[1..] {
        assert_eq!(
            resp(base, &["CLUSTER", "MEET", "127.0.0.1", &p.to_string()]),
            "OK"
        );
    }
    for (i, (a, b)) in [(0, 5460), (5461, 10922), (10923, 16383)]
        .iter()
        .enumerate()
    {
        assert_eq!(
            resp(
                ports[i],
                &["CLUSTER", "ADDSLOTSRANGE", &a.to_string(), &b.to_string()]
            ),
            "OK"
        );
    }
    wait_until(60, "every node to know the others", || {
        ports
            .iter()
            .all(|p| resp(*p, &["CLUSTER", "NODES"]).matches("connected").count() >= 6)
    });
    for i in 0..3 {
        let id = resp(ports[i], &["CLUSTER", "MYID"]);
        wait_until(30, "a replica to follow its primary", || {
            resp(ports[i + 3], &["CLUSTER", "REPLICATE", &id]) == "OK"
        });
    }
    wait_until(60, "cluster_state:ok", || {
        ports
            .iter()
            .all(|p| resp(*p, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    wait_until(60, "the replicas to be linked", || {
        ports[3..]
            .iter()
            .all(|p| resp(*p, &["INFO", "replication"]).contains("master_link_status:up"))
    });
    // The backup reads the shards from the node it enters by: every node
    // must have heard (by gossip) that the three replicas are replicas.
    wait_until(60, "every node to know the three replicas", || {
        ports.iter().all(|p| {
            resp(*p, &["CLUSTER", "NODES"])
                .lines()
                .filter(|l| l.contains("slave"))
                .count()
                == 3
        })
    });
    for i in 0..300 {
        assert_eq!(
            cluster_resp(base, &["SET", &format!("k{i}"), &format!("v{i}")]),
            "OK"
        );
    }
    let primaries = &ports[..3];
    let keys = || -> u64 {
        primaries
            .iter()
            .map(|p| {
                resp(*p, &["DBSIZE"])
                    .trim_start_matches(':')
                    .parse::<u64>()
                    .unwrap_or(0)
            })
            .sum()
    };
    assert_eq!(keys(), 300);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("is a Redis Cluster node: backing up the whole cluster"),
        "{stderr}"
    );
    let b = schema_checked("backup", &stdout);
    assert_eq!(b["keys"], 300, "{stdout}");
    let pods: Vec<&str> = b["shards"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["pod"].as_str()).collect())
        .unwrap_or_default();
    // Each shard read from its healthy replica.
    assert_eq!(pods, ["rc-3-0", "rc-4-0", "rc-5-0"], "{stdout}\n{stderr}");
    let roles: Vec<&str> = b["shards"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["role"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(roles, ["replica"; 3], "{stdout}");
    let file = b["path"].as_str().unwrap_or_default().to_string();
    let (code, _, stderr) = run(plugin(&["verify", &file]));
    assert_eq!(code, 0, "{stderr}");
    // The same backup as a Job next to the cluster (`--in-cluster`),
    // straight to S3: every shard from its replica over the pod network,
    // no byte through this machine.
    let (image, overrides) = in_cluster_setup(ns);
    let url = format!("s3://backups/rcluster-{}", std::process::id());
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--in-cluster",
        "--job-image",
        &image,
        "--job-overrides",
        &overrides,
        "--repo",
        &url,
        "--no-encrypt",
        "--repo-credentials-from-secret",
        "s3",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let j = schema_checked("backup", &stdout);
    assert_eq!(j["keys"], 300, "{stdout}");
    let fields = |v: &serde_json::Value| -> Vec<(String, String, u64)> {
        v["shards"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["pod"].as_str().unwrap_or_default().to_string(),
                            s["role"].as_str().unwrap_or_default().to_string(),
                            s["keys"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        fields(&j),
        fields(&b),
        "each shard from its replica: {stdout}"
    );
    assert_eq!(j["run"]["port_forward_bytes"], 0, "{stdout}");
    assert!(stderr.contains("backing up the whole cluster"), "{stderr}");
    // A backup set: the first Job planned it, one Job per shard stored
    // its snapshot straight into S3, the last to finish sealed the set.
    let set_path = j["path"].as_str().unwrap_or_default().to_string();
    assert!(set_path.ends_with(".set"), "{stdout}");
    assert_eq!(
        j["set"]["files"].as_array().map(Vec::len),
        Some(3),
        "{stdout}"
    );
    for slot in [0, 5461, 10923] {
        assert!(
            stderr.contains(&format!("shard at slot {slot}: run ")),
            "{stderr}"
        );
    }
    let listed = |want: usize| -> serde_json::Value {
        let (code, out, err) = run(plugin_s3(&["list", "--repo", &url, "-o", "json"]));
        assert_eq!(code, 0, "{err}");
        let l = schema_checked("list", &out);
        assert_eq!(l["backups"].as_array().map(Vec::len), Some(want), "{out}");
        l
    };
    let l = listed(1);
    assert_eq!(l["backups"][0]["shards"], 3, "{l}");
    assert_eq!(l["backups"][0]["keys"], 300, "{l}");
    assert_eq!(l["backups"][0]["status"], "verified", "{l}");
    assert_eq!(l["partial"], serde_json::json!([]), "{l}");
    let (code, vout, err) = run(plugin_s3(&["verify", &set_path]));
    assert_eq!(code, 0, "{err}");
    assert!(
        vout.contains("3 shards, 300 keys, every slot once"),
        "{vout}"
    );
    // A drill of the set: its shards fetched, checked and merged, loaded
    // into a throwaway server beside the cluster, compared.
    let (code, dout, err) = run(plugin_s3(&[
        "drill",
        "--file",
        &set_path,
        "-n",
        ns,
        "--pod",
        "rc-0-0",
        "--host-network",
        "--port",
        "6537",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let d = schema_checked("drill", &dout);
    assert_eq!(d["ok"], true, "{dout}");
    assert_eq!(d["keys_restored"], 300, "{dout}");
    // A shard's Job that fails: --from replica, with the replica of the
    // shard at slot 5461 cut from its primary (a wrong masterauth). The
    // set is not written, the other shards' files are removed, and the
    // failing shard is named with its log's last lines.
    assert_eq!(
        resp(ports[4], &["CONFIG", "SET", "masterauth", "wrong"]),
        "OK"
    );
    let _ = resp(ports[4], &["CLIENT", "KILL", "TYPE", "master"]);
    wait_until(30, "the replica cut from its primary", || {
        resp(ports[4], &["INFO", "replication"]).contains("master_link_status:down")
    });
    let (code, _, err) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--from",
        "replica",
        "--in-cluster",
        "--job-image",
        &image,
        "--job-overrides",
        &overrides,
        "--repo",
        &url,
        "--no-encrypt",
        "--repo-credentials-from-secret",
        "s3",
    ]));
    assert_eq!(resp(ports[4], &["CONFIG", "SET", "masterauth", ""]), "OK");
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("the shard at slot 5461 failed (run "), "{err}");
    assert!(err.contains("no healthy, caught-up replica"), "{err}");
    assert!(
        err.contains("was not written and the other shards' files were removed; its last lines: "),
        "{err}"
    );
    let l = listed(1);
    assert_eq!(l["partial"], serde_json::json!([]), "{l}");
    wait_until(60, "the replica linked again", || {
        resp(ports[4], &["INFO", "replication"]).contains("master_link_status:up")
    });
    // Restored into one server (another shape): every shard's keys.
    let single = 6590u16;
    let stop_single = || {
        let _ = Command::new("redis-cli")
            .args(["-p", &single.to_string(), "shutdown", "nosave"])
            .output();
    };
    stop_single();
    let started = Command::new("redis-server")
        .args([
            "--port",
            &single.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--daemonize",
            "yes",
            "--dir",
        ])
        .arg(tmp.path())
        .status()
        .expect("redis-server");
    assert!(started.success());
    wait_until(10, "the single server", || {
        TcpStream::connect(("127.0.0.1", single)).is_ok()
    });
    let (code, _, err) = run(plugin_s3(&[
        "restore",
        "--url",
        &format!("redis://127.0.0.1:{single}"),
        "--file",
        &set_path,
        "--yes",
    ]));
    let got = resp(single, &["DBSIZE"]);
    let k7 = resp(single, &["GET", "k7"]);
    stop_single();
    assert_eq!(code, 0, "{err}");
    assert_eq!((got.as_str(), k7.as_str()), (":300", "v7"), "{err}");
    // Back into the cluster, in a Job, after a FLUSHALL.
    for p in primaries {
        assert_eq!(resp(*p, &["FLUSHALL"]), "OK");
    }
    let (code, stdout, stderr) = run(plugin(&[
        "restore",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--in-cluster",
        "--job-image",
        &image,
        "--job-overrides",
        &overrides,
        "--repo-credentials-from-secret",
        "s3",
        "--file",
        &set_path,
        "--no-scale-down",
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let r = schema_checked("restore", &stdout);
    assert_eq!(r["load"]["keys_restored"], 300, "{stdout}");
    assert_eq!(r["keys_loaded"], 300, "{stdout}");
    assert_eq!(r["run"]["port_forward_bytes"], 0, "{stdout}");
    // One Job per target primary, each its own slots, under the
    // cluster's Lease held by the plugin.
    let pods: Vec<&str> = r["primaries"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["pod"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(pods, ["rc-0-0", "rc-1-0", "rc-2-0"], "{stdout}");
    assert!(
        stderr.contains("primary rc-1-0 (slots 5461-10922): run "),
        "{stderr}"
    );
    assert!(
        stderr.contains("lock: Lease kubectl-redis-rc-0, the cluster's, held here"),
        "{stderr}"
    );
    let per: Vec<u64> = r["primaries"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["keys_loaded"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(per.iter().sum::<u64>(), 300, "{stdout}");
    assert!(
        per.iter().all(|n| *n > 50),
        "every primary got its share: {stdout}"
    );
    wait_until(30, "the keys in the cluster", || keys() == 300);
    // The shards' Jobs held in an init container, so that they are still
    // running: Ctrl-C stops them and removes their files (nothing listed);
    // the plugin killed instead leaves them to finish and seal the set.
    let held: serde_json::Value = {
        let mut v: serde_json::Value = serde_json::from_str(&overrides).expect("overrides");
        if let Some(a) = v.as_array_mut() {
            a.push(serde_json::json!({"op": "add", "path": "/initContainers", "value": [
                {"name": "hold", "image": img, "imagePullPolicy": "Never", "command": ["sleep", "8"]}
            ]}));
        }
        v
    };
    let held = held.to_string();
    let set_args = [
        "backup",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--in-cluster",
        "--job-image",
        &image,
        "--job-overrides",
        &held,
        "--repo",
        &url,
        "--no-encrypt",
        "--repo-credentials-from-secret",
        "s3",
    ];
    let until_shards_run = |child: &mut std::process::Child| {
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.contains("shard at slot 10923: run ") => break,
                Ok(_) => {}
                Err(e) => panic!("the shards' Jobs did not start: {e}"),
            }
        }
        reader
    };
    let mut child = plugin(&set_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("backup");
    let reader = until_shards_run(&mut child);
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let status = child.wait().expect("wait");
    let err = reader.join().expect("stderr");
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("nothing is listed"), "{err}");
    let l = listed(1);
    assert_eq!(
        l["partial"],
        serde_json::json!([]),
        "the shards' files removed: {l}"
    );
    let left = kubectl_ok(&[
        "-n",
        ns,
        "get",
        "jobs",
        "-o",
        "jsonpath={.items[*].status.active}",
    ]);
    assert!(left.trim().is_empty(), "no Job still running: {left}");
    let mut child = plugin(&set_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("backup");
    let reader = until_shards_run(&mut child);
    child.kill().expect("kill -9");
    let _ = child.wait();
    let _ = reader.join();
    wait_until(180, "the shards' Jobs to finish and seal the set", || {
        let (code, out, _) = run(plugin_s3(&["list", "--repo", &url, "-o", "json"]));
        code == 0
            && serde_json::from_str::<serde_json::Value>(&out)
                .ok()
                .and_then(|v| v["backups"].as_array().map(Vec::len))
                == Some(2)
    });
    let l = listed(2);
    assert_eq!(l["backups"][0]["shards"], 3, "{l}");
    assert_eq!(l["backups"][0]["keys"], 300, "{l}");
    // One Lease for the whole cluster (the smallest of its nodes' workload
    // names, rc-0): held by another run, it refuses the backup and a
    // restore through any node, before anything changes.
    let now = String::from_utf8_lossy(
        &Command::new("date")
            .args(["-u", "+%Y-%m-%dT%H:%M:%S.000000Z"])
            .output()
            .expect("date")
            .stdout,
    )
    .trim()
    .to_string();
    apply(&format!(
        r#"{{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{{"name":"kubectl-redis-rc-0","namespace":"{ns}"}},"spec":{{"holderIdentity":"someone@elsewhere/1","leaseDurationSeconds":3600,"acquireTime":"{now}","renewTime":"{now}"}}}}"#
    ));
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--out-dir",
        out,
    ]));
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("Lease kubectl-redis-rc-0 is held by someone@elsewhere/1"),
        "{stderr}"
    );
    let (code, _, stderr) = run(plugin(&[
        "restore",
        "-n",
        ns,
        "--pod",
        "rc-2-0",
        "--file",
        &file,
        "--no-scale-down",
        "--yes",
    ]));
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("lock: Lease kubectl-redis-rc-0, the cluster's"),
        "{stderr}"
    );
    assert_eq!(keys(), 300, "a refused restore changed the data");
    kubectl_ok(&["-n", ns, "delete", "lease", "kubectl-redis-rc-0"]);
    for p in primaries {
        assert_eq!(resp(*p, &["FLUSHALL"]), "OK");
    }
    assert_eq!(keys(), 0);
    // Restored by label alone: through the pod serving slot 0's primary.
    let (code, stdout, stderr) = run(plugin(&[
        "restore",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--file",
        &file,
        "--no-scale-down",
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("is a Redis Cluster node: restoring into the whole cluster"),
        "{stderr}"
    );
    assert!(stderr.contains("through pod rc-0-0"), "{stderr}");
    let r = schema_checked("restore", &stdout);
    assert_eq!(r["method"], "live", "{stdout}");
    assert_eq!(r["load"]["keys_restored"], 300, "{stdout}");
    assert!(stderr.contains("Redis Cluster: 3 primaries"), "{stderr}");
    // The Lease was released at the end.
    assert_eq!(
        String::from_utf8_lossy(&kubectl(&["-n", ns, "get", "lease", "-o", "name"]).stdout).trim(),
        ""
    );
    assert_eq!(keys(), 300);
    assert_eq!(cluster_resp(base, &["GET", "k123"]), "v123");
    // status through one node: the cluster's state and slot coverage.
    let (_, stdout, _) = run(plugin(&[
        "status", "-n", ns, "--pod", "rc-0-0", "-o", "json",
    ]));
    let st = schema_checked("status", &stdout);
    assert_eq!(st["redis_cluster"]["state"], "ok", "{stdout}");
    assert_eq!(st["redis_cluster"]["slots_ok"], 16384, "{stdout}");
    assert_eq!(st["redis_cluster"]["primaries"], 3, "{stdout}");

    // The archive of every shard, found by label through the API (what
    // `archive start`'s pod runs), and a restore through the pods to a
    // second before a FLUSHALL.
    let repo = tmp.path().join("pitr");
    let repo_s = repo.to_string_lossy().into_owned();
    let log = tmp.path().join("archiver.log");
    let mut archiver = plugin(&[
        "archive",
        "run",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--repo",
        &repo_s,
        "--segment-interval",
        "1s",
    ])
    .stderr(std::fs::File::create(&log).expect("log"))
    .spawn()
    .expect("start the archiver");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_until(90, "the archiver to follow every shard's pod", || {
        read_log().matches("  following pod rc-").count() >= 3
    });
    assert!(
        read_log().contains("one follower per shard (e2e-rcluster-rc-0.shard-0, e2e-rcluster-rc-0.shard-5461, e2e-rcluster-rc-0.shard-10923)"),
        "{}",
        read_log()
    );
    // Each primary's writes and their WAIT on one connection: WAIT counts
    // the replicas that acknowledged this connection's last write (on a
    // connection that wrote nothing it answers at once). Its replica and the
    // archiver (which acknowledges only what it stored) must both have them.
    let mut writes: std::collections::BTreeMap<u16, Vec<Vec<String>>> = Default::default();
    for i in 0..100 {
        let key = format!("p{i}");
        let owner = resp(base, &["GET", &key])
            .strip_prefix("-MOVED ")
            .and_then(|rest| rest.rsplit(':').next()?.trim().parse().ok())
            .unwrap_or(base);
        writes
            .entry(owner)
            .or_default()
            .push(vec!["SET".into(), key, format!("pv{i}")]);
    }
    assert_eq!(writes.len(), 3, "{writes:?}");
    for (port, mut cmds) in writes {
        cmds.push(vec!["WAIT".into(), "2".into(), "30000".into()]);
        let replies = resp_all_owned(port, &cmds);
        assert!(
            replies[..replies.len() - 1].iter().all(|r| r == "OK"),
            "{replies:?}"
        );
        assert_eq!(
            replies.last().map(String::as_str),
            Some(":2"),
            "{}",
            read_log()
        );
    }
    let t = now_s();
    wait_until(3, "the next second", || now_s() > t);
    for p in primaries {
        assert_eq!(
            resp_all(*p, &[&["FLUSHALL"], &["WAIT", "2", "30000"]]),
            ["OK", ":2"]
        );
    }
    assert!(Command::new("kill")
        .args(["-TERM", &archiver.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let st = archiver.wait().expect("wait");
    assert_eq!(st.code(), Some(0), "{}", read_log());
    assert_eq!(keys(), 0);
    let (code, stdout, stderr) = run(plugin(&[
        "restore",
        "-n",
        ns,
        "-l",
        "app=rcluster",
        "--repo",
        &repo_s,
        "--to-time",
        &utc(t),
        "--no-scale-down",
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let r = schema_checked("restore", &stdout);
    assert!(
        r["point_in_time"]["commands"].as_u64() >= Some(100),
        "{stdout}"
    );
    assert_eq!(keys(), 400, "{stderr}");
    assert_eq!(cluster_resp(base, &["GET", "p42"]), "pv42");
    assert_eq!(cluster_resp(base, &["GET", "k123"]), "v123");
    let _ = kubectl(&["delete", "namespace", ns, "--wait=false"]);
}

/// Redis in a StatefulSet whose data directory is a PersistentVolumeClaim
/// (a hostPath PersistentVolume here), with a StatefulSet writer: a swap
/// restore puts the file on the claim, scales the writer StatefulSet down
/// and back, and the data survives the pod being deleted and replaced (a
/// new pod, same name, the same claim).
#[test]
fn swap_restore_on_a_persistent_volume_survives_pod_replacement() {
    let ns = "e2e-pvc";
    remove_namespace(ns);
    let _ = kubectl(&[
        "delete",
        "pv",
        "kr-e2e-pv",
        "--ignore-not-found",
        "--wait=true",
    ]);
    let dir = "/var/tmp/kr-e2e-pv";
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("pv dir");
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    let port = 6541;
    let items = [
        format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#),
        format!(
            r#"{{"apiVersion":"v1","kind":"PersistentVolume","metadata":{{"name":"kr-e2e-pv"}},"spec":{{"capacity":{{"storage":"1Gi"}},"accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain","storageClassName":"kr-manual","hostPath":{{"path":"{dir}","type":"DirectoryOrCreate"}}}}}}"#
        ),
        format!(
            r#"{{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{{"name":"pv-redis","namespace":"{ns}"}},
 "spec":{{"serviceName":"pv-redis","replicas":1,"selector":{{"matchLabels":{{"app":"redis"}}}},
  "template":{{"metadata":{{"labels":{{"app":"redis"}}}},"spec":{{"hostNetwork":true,"terminationGracePeriodSeconds":1,
   "containers":[{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["redis-server","--port","{port}","--bind","127.0.0.1","--dir","/data","--save",""],
     "ports":[{{"name":"redis","containerPort":{port}}}],"volumeMounts":[{{"name":"data","mountPath":"/data"}}],
     "readinessProbe":{{"tcpSocket":{{"host":"127.0.0.1","port":{port}}},"periodSeconds":1}}}}]}}}},
  "volumeClaimTemplates":[{{"metadata":{{"name":"data"}},"spec":{{"accessModes":["ReadWriteOnce"],"storageClassName":"kr-manual","resources":{{"requests":{{"storage":"1Gi"}}}}}}}}]}}}}"#
        ),
        format!(
            r#"{{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{{"name":"writer","namespace":"{ns}"}},
 "spec":{{"serviceName":"writer","replicas":2,"selector":{{"matchLabels":{{"app":"writer"}}}},
  "template":{{"metadata":{{"labels":{{"app":"writer"}}}},"spec":{{"terminationGracePeriodSeconds":1,
   "containers":[{{"name":"w","image":"{img}","imagePullPolicy":"Never","command":["sleep","3600"]}}]}}}}}}}}"#
        ),
    ];
    apply_all(&items);
    for w in ["sts/pv-redis", "sts/writer"] {
        kubectl_ok(&["-n", ns, "rollout", "status", w, "--timeout=120s"]);
    }
    for i in 0..100 {
        assert_eq!(resp(port, &["SET", &format!("k{i}"), "original"]), "OK");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    let (code, stdout, stderr) = run(plugin(&["backup", "-n", ns, "--out-dir", out]));
    assert_eq!(code, 0, "{stderr}");
    let file = stdout.trim().to_string();
    assert_eq!(resp(port, &["FLUSHALL"]), "OK");
    assert_eq!(resp(port, &["SET", "extra", "1"]), "OK");
    let uid = || {
        kubectl_ok(&[
            "-n",
            ns,
            "get",
            "pod",
            "pv-redis-0",
            "-o",
            "jsonpath={.metadata.uid}",
        ])
    };
    let before = uid();
    let (code, stdout, stderr) = run(plugin(&[
        "restore",
        "-n",
        ns,
        "--file",
        &file,
        "--method",
        "swap",
        "--scale-down",
        "sts/writer",
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let r = schema_checked("restore", &stdout);
    assert_eq!(r["pod"], "pv-redis-0", "{stdout}");
    assert!(stderr.contains("scale writer to 0"), "{stderr}");
    assert_eq!(
        kubectl_ok(&[
            "-n",
            ns,
            "get",
            "sts",
            "writer",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "2"
    );
    assert_eq!(resp(port, &["DBSIZE"]), ":100");
    // The pod is replaced; the claim, and the restored file on it, stay.
    kubectl_ok(&[
        "-n",
        ns,
        "delete",
        "pod",
        "pv-redis-0",
        "--wait=true",
        "--timeout=60s",
    ]);
    wait_until(120, "a new pv-redis-0 to be Ready", || {
        let u = uid();
        !u.is_empty()
            && u != before
            && kubectl(&[
                "-n",
                ns,
                "get",
                "pod",
                "pv-redis-0",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ])
            .stdout
                == b"True"
    });
    wait_until(30, "Redis to answer", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert_eq!(resp(port, &["DBSIZE"]), ":100");
    assert_eq!(resp(port, &["GET", "k7"]), "original");
    assert_eq!(resp(port, &["EXISTS", "extra"]), ":0");
    let _ = kubectl(&["delete", "namespace", ns, "--wait=false"]);
    let _ = kubectl(&["delete", "pv", "kr-e2e-pv", "--wait=false"]);
}

/// The namespace `ns`, a Redis primary (on `ports.0`) and its replica (on
/// `ports.1`) in two Deployments, `cache-a` and `cache-b`, whose pods share
/// the label `app=cache` (and `member=a|b`) and carry no role label; with
/// `password`, both require it and the containers have it as
/// `REDIS_PASSWORD`. The objects, to apply with others.
fn cache_pair(ns: &str, ports: (u16, u16), password: Option<&str>) -> Vec<String> {
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    let (auth, env) = match password {
        Some(pw) => (
            format!(" --requirepass {pw} --masterauth {pw}"),
            format!(r#","env":[{{"name":"REDIS_PASSWORD","value":"{pw}"}}]"#),
        ),
        None => (String::new(), String::new()),
    };
    let mut items = vec![format!(
        r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#
    )];
    let of = format!(" --replicaof 127.0.0.1 {}", ports.0);
    for (n, port, of) in [("a", ports.0, ""), ("b", ports.1, of.as_str())] {
        let redis = format!(
            r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port {port} --bind 127.0.0.1 --save ''{auth}{of}"]{env},"ports":[{{"name":"redis","containerPort":{port}}}],"readinessProbe":"PROBE"}}"#
        );
        items.push(redis_workload(
            ns,
            "Deployment",
            &format!("cache-{n}"),
            &format!(r#"{{"app":"cache","member":"{n}"}}"#),
            &redis,
            port,
            "[]",
        ));
    }
    items
}

/// A backup's `-o json` (checked against its schema) read from the pod
/// `replica`, holding `keys` keys: its path.
fn read_from_replica(stdout: &str, replica: &str, keys: u64) -> String {
    let j = schema_checked("backup", stdout);
    assert_eq!(j["source"]["role"], "replica", "{stdout}");
    assert_eq!(j["source"]["pod"], replica, "{stdout}");
    assert_eq!(j["keys"], keys, "{stdout}");
    j["path"].as_str().expect("path").to_string()
}

/// `status -o json` for the pods labelled `app=cache` in `ns`, checked
/// against its schema; and its stdout and stderr.
fn cache_status(ns: &str) -> (serde_json::Value, String, String) {
    let (_, stdout, stderr) = run(plugin(&[
        "status",
        "-n",
        ns,
        "-l",
        "app=cache",
        "-o",
        "json",
    ]));
    (schema_checked("status", &stdout), stdout, stderr)
}

/// Waits until these Deployments of `ns` have rolled out.
fn rolled_out(ns: &str, deployments: &[&str]) {
    for d in deployments {
        kubectl_ok(&[
            "-n",
            ns,
            "rollout",
            "status",
            &format!("deploy/{d}"),
            "--timeout=120s",
        ]);
    }
}

/// The name of the first pod of `ns` matching `selector`.
fn first_pod(ns: &str, selector: &str) -> String {
    kubectl_ok(&[
        "-n",
        ns,
        "get",
        "pods",
        "-l",
        selector,
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ])
}

/// A primary and its replica in two Deployments whose pods share one label
/// and carry no role label (issue 21): backup and restore by that label
/// ask each pod its INFO replication, take the one primary whose replica
/// the other is (the backup reads the replica, the restore goes into the
/// primary), and `status` shows the roles and how they were found. Once
/// the replica is made a primary of its own, the choice is refused, naming
/// each pod's role.
#[test]
fn unlabelled_primary_is_found_by_asking() {
    let ns = "e2e-asked";
    remove_namespace(ns);
    apply_all(&cache_pair(ns, (6593, 6594), None));
    rolled_out(ns, &["cache-a", "cache-b"]);
    let (a, b) = (first_pod(ns, "member=a"), first_pod(ns, "member=b"));
    wait_until(60, "the replica to be linked", || {
        resp(6594, &["INFO", "replication"]).contains("master_link_status:up")
    });
    for i in 0..20 {
        resp(6593, &["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(resp(6593, &["SET", "k", "original"]), "OK");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");

    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "-l",
        "app=cache",
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "asked each of the 2 Ready pods for its INFO replication: {a} is the primary"
        )),
        "{stderr}"
    );
    let file = read_from_replica(&stdout, &b, 21);
    let (s, stdout, stderr) = cache_status(ns);
    assert_eq!(s["pod"]["name"], a.as_str(), "{stdout}\n{stderr}");
    assert_eq!(s["roles"]["how"], "info", "{stdout}");
    let roles: Vec<(String, String)> = s["roles"]["pods"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|p| {
            (
                p["pod"].as_str().unwrap_or("").into(),
                p["role"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let mut want = vec![
        (a.clone(), "primary".to_string()),
        (b.clone(), "replica".to_string()),
    ];
    want.sort();
    assert_eq!(roles, want, "{stdout}");

    // The restore goes into the primary, found the same way.
    assert_eq!(resp(6593, &["SET", "k", "changed"]), "OK");
    let (code, stdout, stderr) = run(plugin(&[
        "restore",
        "-n",
        ns,
        "-l",
        "app=cache",
        "--file",
        &file,
        "--method",
        "live",
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let r = schema_checked("restore", &stdout);
    assert_eq!(r["pod"], a.as_str(), "{stdout}");
    assert_eq!(resp(6593, &["GET", "k"]), "original");
    wait_until(30, "the replica to follow the restore", || {
        resp(6594, &["GET", "k"]) == "original"
    });

    // Two independent primaries: refused, naming each pod's role.
    assert_eq!(resp(6594, &["REPLICAOF", "NO", "ONE"]), "OK");
    wait_until(30, "the first primary to drop its replica", || {
        resp(6593, &["INFO", "replication"]).contains("connected_slaves:0")
    });
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "-l",
        "app=cache",
        "--out-dir",
        out,
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("2 of them are primaries")
            && stderr.contains(&format!("{a}: primary with 0 replica(s)"))
            && stderr.contains(&format!("{b}: primary with 0 replica(s)"))
            && stderr.contains("--pod"),
        "{stderr}"
    );
    remove_namespace(ns);
}

/// Sentinel deployed on its own (issue 21): a Redis primary and its replica
/// in two Deployments with no role labels, and a Sentinel in a third whose
/// container is known only by its command line (`--sentinel`). The
/// Sentinel is found in the namespace and asked: the backup reads the
/// replica it names, a swap restore is refused (stopping this Redis would
/// make that Sentinel fail over), `auto` restores live into the primary,
/// and `status` shows Sentinel's view and the roles it gave.
#[test]
fn sentinel_on_its_own_is_found_and_asked() {
    let ns = "e2e-sentinel-apart";
    remove_namespace(ns);
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    // With a password: the plugin finds it in the containers' env, and it
    // appears in no output, -v included.
    const PASSWORD: &str = "Sentinel-apart-Pa55";
    let mut items = cache_pair(ns, (6571, 6572), Some(PASSWORD));
    let conf = format!("bind 127.0.0.1\\nsentinel monitor cache 127.0.0.1 6571 1\\nsentinel auth-pass cache {PASSWORD}\\nsentinel down-after-milliseconds cache 5000\\n");
    let watcher = format!(
        r#"{{"name":"watcher","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","printf '{conf}' > /conf/s.conf && exec redis-server /conf/s.conf --sentinel --port 26571"],"readinessProbe":"PROBE","volumeMounts":[{{"name":"conf","mountPath":"/conf"}}]}}"#
    );
    items.push(redis_workload(
        ns,
        "Deployment",
        "watch",
        r#"{"app":"watch"}"#,
        &watcher,
        26571,
        r#"[{"name":"conf","emptyDir":{}}]"#,
    ));
    apply_all(&items);
    rolled_out(ns, &["cache-a", "cache-b", "watch"]);
    let (a, b, w) = (
        first_pod(ns, "member=a"),
        first_pod(ns, "member=b"),
        first_pod(ns, "app=watch"),
    );
    let resp = |port: u16, args: &[&str]| {
        if port == 26571 {
            return resp(port, args);
        }
        resp_all(port, &[&["AUTH", PASSWORD], args])
            .pop()
            .unwrap_or_default()
    };
    wait_until(60, "the replica to be linked", || {
        resp(6572, &["INFO", "replication"]).contains("master_link_status:up")
    });
    // Sentinel learns replicas from the primary's INFO, every 10 s.
    wait_until(60, "Sentinel to know the replica", || {
        resp(26571, &["SENTINEL", "REPLICAS", "cache"]) == "*1"
    });
    for i in 0..30 {
        resp(6571, &["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(resp(6571, &["SET", "k", "original"]), "OK");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");

    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-v",
        "-n",
        ns,
        "-l",
        "app=cache",
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
        "the password in the backup's output"
    );
    assert!(
        stderr.contains(&format!(
            "Sentinel (asked in pod {w}) names 127.0.0.1:6571 the primary of cache: pod {a} (a Sentinel on its own, watching 2 pod(s) here"
        )),
        "{stderr}"
    );
    let file = read_from_replica(&stdout, &b, 31);
    let (s, stdout, stderr) = cache_status(ns);
    assert_eq!(s["pod"]["name"], a.as_str(), "{stdout}\n{stderr}");
    assert_eq!(s["sentinel"]["asked_pod"], w.as_str(), "{stdout}");
    assert_eq!(s["sentinel"]["primary"]["pod"], a.as_str(), "{stdout}");
    assert_eq!(s["roles"]["how"], "sentinel", "{stdout}");

    assert_eq!(resp(6571, &["SET", "k", "changed"]), "OK");
    let restore = |method: &str| {
        run(plugin(&[
            "restore",
            "-v",
            "-n",
            ns,
            "-l",
            "app=cache",
            "--file",
            &file,
            "--method",
            method,
            "--no-scale-down",
            "--yes",
            "-o",
            "json",
        ]))
    };
    let (code, _, stderr) = restore("swap");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("Sentinel runs in pod {w}, watching it"))
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(resp(6571, &["GET", "k"]), "changed");
    let (code, stdout, stderr) = restore("auto");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
        "the password in the restore's output"
    );
    let r = schema_checked("restore", &stdout);
    assert_eq!(r["method"], "live", "{stdout}");
    assert!(
        r["method_reason"]
            .as_str()
            .unwrap_or("")
            .contains("Sentinel runs in pod"),
        "{stdout}"
    );
    assert_eq!(r["pod"], a.as_str(), "{stdout}");
    assert_eq!(resp(6571, &["GET", "k"]), "original");
    remove_namespace(ns);
}

/// Redis as the Bitnami chart runs it with `tls.enabled`: the plain port
/// off, TLS on the port named redis, the chart's REDIS_TLS_* variables,
/// the certificates in a kubernetes.io/tls Secret mounted where the chart
/// mounts them, client certificates required. With no TLS flag at all the
/// plugin finds the TLS port and says why, reads the CA and a client
/// certificate through the API from that Secret, checks the server's
/// certificate against the pod's DNS name (a wildcard for its headless
/// Service; never localhost), and backs up by stream and by bgsave (redis-cli
/// in the pod with --tls), restores by swap (SHUTDOWN through redis-cli
/// --tls) and live. A name the certificate lacks exits 2 naming the flag.
#[test]
fn bitnami_shaped_tls_is_used_without_flags() {
    let ns = "e2e-tls";
    remove_namespace(ns);
    let pk = tempfile::tempdir().expect("tempdir");
    let certs = pk.path();
    pki(
        certs,
        &[&format!("*.t-redis-master.{ns}.svc.cluster.local")],
    );
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    let dir = "/opt/bitnami/redis/certs";
    let port = 6496u16;
    let env = format!(
        r#"[{{"name":"REDIS_TLS_ENABLED","value":"yes"}},{{"name":"REDIS_TLS_PORT","value":"{port}"}},{{"name":"REDIS_TLS_AUTH_CLIENTS","value":"yes"}},{{"name":"REDIS_TLS_CERT_FILE","value":"{dir}/tls.crt"}},{{"name":"REDIS_TLS_KEY_FILE","value":"{dir}/tls.key"}},{{"name":"REDIS_TLS_CA_FILE","value":"{dir}/ca.crt"}}]"#
    );
    // The chart's start script, inlined: `--port 0` and the TLS options
    // from the environment.
    let container = format!(
        r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port 0 --bind 127.0.0.1 --dir /data --save '' --tls-port $REDIS_TLS_PORT --tls-cert-file $REDIS_TLS_CERT_FILE --tls-key-file $REDIS_TLS_KEY_FILE --tls-ca-cert-file $REDIS_TLS_CA_FILE --tls-auth-clients $REDIS_TLS_AUTH_CLIENTS --tls-replication yes"],"env":{env},"ports":[{{"name":"redis","containerPort":{port}}}],"volumeMounts":[{{"name":"redis-certificates","mountPath":"{dir}","readOnly":true}},{{"name":"data","mountPath":"/data"}}],"readinessProbe":"PROBE"}}"#
    );
    let labels = r#"{"app.kubernetes.io/name":"redis","app.kubernetes.io/instance":"t","app.kubernetes.io/component":"master"}"#;
    let read = |f: &str| std::fs::read_to_string(certs.join(f)).expect("read pki");
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "t-redis-crt", "namespace": ns},
        "stringData": {"tls.crt": read("server.crt"), "tls.key": read("server.key"), "ca.crt": read("ca.crt")}
    });
    apply_all(&[
        format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#),
        secret.to_string(),
        redis_workload(
            ns,
            "StatefulSet",
            "t-redis-master",
            labels,
            &container,
            port,
            r#"[{"name":"redis-certificates","secret":{"secretName":"t-redis-crt","defaultMode":256}},{"name":"data","emptyDir":{}}]"#,
        ),
    ]);
    kubectl_ok(&[
        "-n",
        ns,
        "rollout",
        "status",
        "sts/t-redis-master",
        "--timeout=120s",
    ]);
    // From the host (the pod is on its network), as a client of the CA.
    let cli = |args: &[&str]| {
        let o = Command::new("redis-cli")
            .args(["--tls", "--cacert"])
            .arg(certs.join("ca.crt"))
            .arg("--cert")
            .arg(certs.join("client.crt"))
            .arg("--key")
            .arg(certs.join("client.key"))
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(cli(&["SET", "k", "original"]), "OK");
    assert_eq!(cli(&["SET", "other", "1"]), "OK");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    let pod = "t-redis-master-0";
    let mut files = Vec::new();
    for method in ["stream", "bgsave"] {
        let (code, stdout, stderr) = run(plugin(&[
            "backup",
            "-n",
            ns,
            "--method",
            method,
            "--out-dir",
            out,
            "-o",
            "json",
        ]));
        assert_eq!(code, 0, "{method} over TLS without a flag: {stderr}");
        assert!(
            stderr.contains(&format!("TLS: port {port} is its TLS port")),
            "{method}: the reason is said: {stderr}"
        );
        assert!(stderr.contains(pod), "{method}: {stderr}");
        let b = schema_checked("backup", &stdout);
        assert_eq!(b["keys"], 2, "{method}: {stdout}");
        files.push(b["path"].as_str().expect("path").to_string());
    }
    // A name the certificate lacks: exit 2, the flag named.
    let (code, _, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--tls-server-name",
        "redis.elsewhere.example",
        "--out-dir",
        out,
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tls-server-name"), "{stderr}");
    assert!(stderr.contains("redis.elsewhere.example"), "{stderr}");

    // status: the TLS port, the certificate, its days left, the client
    // certificate asked for, what the plugin uses.
    let (_, stdout, stderr) = run(plugin(&[
        "status",
        "-n",
        ns,
        "-l",
        "app.kubernetes.io/name=redis",
        "-o",
        "json",
    ]));
    let st = schema_checked("status", &stdout);
    let tls = &st["tls"];
    assert_eq!(tls["port"], port, "{stdout}\n{stderr}");
    assert_eq!(tls["error"], serde_json::Value::Null, "{stdout}");
    assert_eq!(tls["client_cert_asked"], true, "{stdout}");
    assert!(
        tls["subject"]
            .as_str()
            .is_some_and(|s| s.contains("CN=redis")),
        "{stdout}"
    );
    assert!(
        tls["days_left"]
            .as_i64()
            .is_some_and(|d| (28..=30).contains(&d)),
        "{stdout}"
    );
    assert!(
        tls["uses"]
            .as_str()
            .is_some_and(|u| u.contains("Secret t-redis-crt/ca.crt")),
        "{stdout}"
    );
    let (_, text, _) = run(plugin(&[
        "status",
        "-n",
        ns,
        "-l",
        "app.kubernetes.io/name=redis",
    ]));
    assert!(
        text.contains(&format!("ok   tls          port {port} is its TLS port")),
        "{text}"
    );
    // Swap: the file goes in, SHUTDOWN NOSAVE goes through redis-cli --tls
    // in the pod, the container restarts onto it.
    assert_eq!(cli(&["SET", "k", "changed"]), "OK");
    let (code, stdout, stderr) = run(plugin(&[
        "restore", "-n", ns, "--method", "swap", "--file", &files[1], "--yes", "-o", "json",
    ]));
    assert_eq!(code, 0, "swap over TLS: {stderr}");
    let j = schema_checked("restore", &stdout);
    assert_eq!(j["keys_loaded"], 2, "{stdout}");
    wait_until(60, "the restarted server to answer", || {
        cli(&["GET", "k"]) == "original"
    });
    // Live: RESTOREs over TLS through the port-forward.
    assert_eq!(cli(&["SET", "k", "changed-again"]), "OK");
    let (code, _, stderr) = run(plugin(&[
        "restore", "-n", ns, "--method", "live", "--file", &files[0], "--yes",
    ]));
    assert_eq!(code, 0, "live over TLS: {stderr}");
    assert_eq!(cli(&["GET", "k"]), "original");

    // Scheduled: the Job finds TLS in the pod's spec as the plugin did, its
    // Role may read the Secret the certificates live on and list the
    // Services whose names the certificate carries.
    let image = "kubectl-redis/kubectl-redis:e2e";
    let status = Command::new(repo().join("scripts/cluster.sh"))
        .args(["plugin-image", bin().to_str().expect("utf8"), image])
        .status()
        .expect("cluster.sh plugin-image");
    assert!(status.success());
    let host = tempfile::tempdir().expect("tempdir");
    let schedule = |extra: &[&str]| {
        let mut a = vec![
            "schedule",
            "--every",
            "1h",
            "-n",
            ns,
            "-l",
            "app.kubernetes.io/name=redis",
            "--image",
            image,
            "--host-path",
            host.path().to_str().expect("utf8"),
            "--method",
            "stream",
            "--apply",
        ];
        a.extend_from_slice(extra);
        let (code, _, stderr) = run(plugin(&a));
        assert_eq!(code, 0, "{stderr}");
        kubectl_ok(&[
            "-n",
            ns,
            "get",
            "role",
            "kubectl-redis-backup",
            "-o",
            "jsonpath={.rules}",
        ])
    };
    let rules = schedule(&[]);
    assert!(
        rules.contains(r#""resourceNames":["t-redis-crt"]"#),
        "{rules}"
    );
    assert!(rules.contains(r#""resources":["services"]"#), "{rules}");
    let (last, logs) = run_cronjob_now(ns, "tls-from-pod");
    assert!(last.starts_with('1'), "the Job failed ({last}):\n{logs}");
    assert!(logs.contains("[backup] OK"), "{logs}");
    assert!(
        logs.contains(&format!("TLS: port {port} is its TLS port")),
        "{logs}"
    );

    // --tls-from-secret: a client certificate of the Job's own, mounted
    // into its pod; its Role reads no Secret at all, so the Job can only
    // have used the mounted one.
    let client = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "backup-client-tls", "namespace": ns},
        "stringData": {"tls.crt": read("client.crt"), "tls.key": read("client.key"), "ca.crt": read("ca.crt")}
    });
    apply(&client.to_string());
    let rules = schedule(&["--tls-from-secret", "backup-client-tls"]);
    assert!(!rules.contains("secrets"), "{rules}");
    let args = kubectl_ok(&[
        "-n",
        ns,
        "get",
        "cronjob",
        "kubectl-redis-backup",
        "-o",
        "jsonpath={.spec.jobTemplate.spec.template.spec.containers[0].args}",
    ]);
    assert!(
        args.contains(r#""--tls-from-dir","/etc/kubectl-redis/tls""#),
        "{args}"
    );
    let (last, logs) = run_cronjob_now(ns, "tls-from-secret");
    assert!(last.starts_with('1'), "the Job failed ({last}):\n{logs}");
    assert!(logs.contains("[backup] OK"), "{logs}");
    let rdb = files_in(host.path())
        .into_iter()
        .filter(|n| n.ends_with(".rdb"))
        .count();
    assert_eq!(rdb, 2, "one backup per Job");
    remove_namespace(ns);
}

/// Sentinel over TLS, as the Bitnami chart runs it with `tls.enabled`: a
/// TLS-only Redis and a TLS-only Sentinel beside it (REDIS_TLS_* and
/// REDIS_SENTINEL_TLS_* variables, the certificates on a Secret volume).
/// With no TLS flag, `status` asks Sentinel over TLS and shows its primary,
/// and a backup names the primary as Sentinel does and reads it over TLS.
#[test]
fn sentinel_over_tls_is_asked_without_flags() {
    let ns = "e2e-sentinel-tls";
    remove_namespace(ns);
    let pk = tempfile::tempdir().expect("tempdir");
    let certs = pk.path();
    pki(certs, &[&format!("*.s-redis-node.{ns}.svc.cluster.local")]);
    let img = format!("{}:{}", REDIS_IMAGE.0, REDIS_IMAGE.1);
    let (port, sport) = (6511u16, 26511u16);
    let dir = "/opt/bitnami/redis/certs";
    let redis_env = format!(
        r#"[{{"name":"REDIS_TLS_ENABLED","value":"yes"}},{{"name":"REDIS_TLS_PORT","value":"{port}"}},{{"name":"REDIS_TLS_CERT_FILE","value":"{dir}/tls.crt"}},{{"name":"REDIS_TLS_KEY_FILE","value":"{dir}/tls.key"}},{{"name":"REDIS_TLS_CA_FILE","value":"{dir}/ca.crt"}}]"#
    );
    let sentinel_env = format!(
        r#"[{{"name":"REDIS_SENTINEL_TLS_ENABLED","value":"yes"}},{{"name":"REDIS_SENTINEL_TLS_PORT_NUMBER","value":"{sport}"}},{{"name":"REDIS_SENTINEL_TLS_CERT_FILE","value":"{dir}/tls.crt"}},{{"name":"REDIS_SENTINEL_TLS_KEY_FILE","value":"{dir}/tls.key"}},{{"name":"REDIS_SENTINEL_TLS_CA_FILE","value":"{dir}/ca.crt"}},{{"name":"REDIS_SENTINEL_TLS_AUTH_CLIENTS","value":"no"}}]"#
    );
    let tls_opts = format!(
        "--tls-cert-file {dir}/tls.crt --tls-key-file {dir}/tls.key --tls-ca-cert-file {dir}/ca.crt"
    );
    let mounts = format!(
        r#"[{{"name":"certs","mountPath":"{dir}","readOnly":true}},{{"name":"conf","mountPath":"/conf"}}]"#
    );
    let redis = format!(
        r#"{{"name":"redis","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","exec redis-server --port 0 --tls-port {port} --bind 127.0.0.1 --save '' --dir /conf {tls_opts} --tls-replication yes"],"env":{redis_env},"ports":[{{"name":"redis","containerPort":{port}}}],"volumeMounts":{mounts},"readinessProbe":"PROBE"}}"#
    );
    let conf = format!(
        "port 0\\ntls-port {sport}\\nbind 127.0.0.1\\ntls-replication yes\\ntls-auth-clients no\\ntls-cert-file {dir}/tls.crt\\ntls-key-file {dir}/tls.key\\ntls-ca-cert-file {dir}/ca.crt\\nsentinel monitor mymaster 127.0.0.1 {port} 1\\n"
    );
    let sentinel = format!(
        r#"{{"name":"sentinel","image":"{img}","imagePullPolicy":"Never","command":["sh","-c","printf '{conf}' > /conf/sentinel.conf && exec redis-server /conf/sentinel.conf --sentinel"],"env":{sentinel_env},"ports":[{{"name":"redis-sentinel","containerPort":{sport}}}],"volumeMounts":{mounts}}}"#
    );
    let read = |f: &str| std::fs::read_to_string(certs.join(f)).expect("read pki");
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "s-redis-crt", "namespace": ns},
        "stringData": {"tls.crt": read("server.crt"), "tls.key": read("server.key"), "ca.crt": read("ca.crt")}
    });
    apply_all(&[
        format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#),
        secret.to_string(),
        redis_workload(
            ns,
            "StatefulSet",
            "s-redis-node",
            r#"{"app.kubernetes.io/name":"redis","app.kubernetes.io/instance":"s","app.kubernetes.io/component":"node"}"#,
            &format!("{redis},{sentinel}"),
            port,
            r#"[{"name":"certs","secret":{"secretName":"s-redis-crt","defaultMode":256}},{"name":"conf","emptyDir":{}}]"#,
        ),
    ]);
    kubectl_ok(&[
        "-n",
        ns,
        "rollout",
        "status",
        "sts/s-redis-node",
        "--timeout=120s",
    ]);
    let cli = |p: u16, args: &[&str]| {
        let o = Command::new("redis-cli")
            .args(["--tls", "--cacert"])
            .arg(certs.join("ca.crt"))
            .arg("--cert")
            .arg(certs.join("client.crt"))
            .arg("--key")
            .arg(certs.join("client.key"))
            .args(["-p", &p.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    wait_until(60, "Sentinel to answer over TLS", || {
        cli(sport, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]).contains(&port.to_string())
    });
    assert_eq!(cli(port, &["SET", "k", "v"]), "OK");
    let (_, stdout, stderr) = run(plugin(&[
        "status",
        "-n",
        ns,
        "-l",
        "app.kubernetes.io/name=redis",
        "-o",
        "json",
    ]));
    let s = schema_checked("status", &stdout);
    assert_eq!(
        s["sentinel"]["master_name"], "mymaster",
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        s["sentinel"]["primary"]["pod"], "s-redis-node-0",
        "{stdout}"
    );
    assert_eq!(s["tls"]["port"], port, "{stdout}");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_str().expect("utf8");
    let (code, stdout, stderr) = run(plugin(&[
        "backup",
        "-n",
        ns,
        "--out-dir",
        out,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "127.0.0.1:{port} the primary of mymaster: pod s-redis-node-0"
        )),
        "{stderr}"
    );
    assert_eq!(schema_checked("backup", &stdout)["keys"], 1, "{stdout}");
    remove_namespace(ns);
}

/// The archiver as `archive start` deploys it, from the plugin's image, with
/// its own least RBAC and the storage credentials from a Secret: it follows
/// Redis through the API, is killed mid-stream (its pod deleted) and the
/// new pod continues the chain; `WAIT 1` means "archived"; `backup --from
/// replica` never takes it for a replica; after `archive stop` and a bad
/// deploy's FLUSHALL, `restore --to-time` gives back exactly the digest
/// recorded at that second.
#[test]
fn archive_deployment_restores_to_a_second() {
    let up = Command::new(repo().join("scripts/stores.sh"))
        .arg("up")
        .status()
        .expect("scripts/stores.sh up");
    assert!(up.success());
    let s = Scene::new("pitr", 6457, "redis", &["--enable-debug-command", "yes"]);
    let image = "kubectl-redis/kubectl-redis:e2e";
    let status = Command::new(repo().join("scripts/cluster.sh"))
        .args(["plugin-image", bin().to_str().expect("utf8"), image])
        .status()
        .expect("cluster.sh plugin-image");
    assert!(status.success());
    let keys = tempfile::tempdir().expect("tempdir");
    let (id, public) = age_key(keys.path(), "id.txt");
    kubectl_ok(&[
        "-n",
        &s.ns,
        "create",
        "secret",
        "generic",
        "archive-s3",
        "--from-literal=AWS_ACCESS_KEY_ID=test",
        "--from-literal=AWS_SECRET_ACCESS_KEY=test",
        "--from-literal=AWS_ENDPOINT_URL=http://127.0.0.1:19000",
        "--from-literal=AWS_REGION=us-east-1",
    ]);
    let url = format!("s3://backups/pitr-{}", std::process::id());
    let (code, out, err) = run(plugin(&[
        "archive",
        "start",
        "-n",
        &s.ns,
        "--image",
        image,
        "--repo",
        &url,
        "--encrypt-to",
        &public,
        "--segment-interval",
        "1s",
        "--repo-credentials-from-secret",
        "archive-s3",
        "--apply",
    ]));
    assert_eq!(code, 0, "{err}");
    for kind in [
        "serviceaccount",
        "role",
        "rolebinding",
        "deployment",
        "service",
    ] {
        assert!(
            out.contains(&format!("{kind}/kubectl-redis-archiver applied")),
            "{out}"
        );
    }
    let rules = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "role",
        "kubectl-redis-archiver",
        "-o",
        "jsonpath={.rules}",
    ]);
    assert!(
        !rules.contains("pods/exec") && !rules.contains("secrets"),
        "{rules}"
    );
    let patch = host_network_patch("/spec/template/spec");
    kubectl_ok(&[
        "-n",
        &s.ns,
        "patch",
        "deployment",
        "kubectl-redis-archiver",
        "--type=json",
        "-p",
        &patch,
    ]);
    let logs = || {
        String::from_utf8_lossy(
            &kubectl(&["-n", &s.ns, "logs", "deploy/kubectl-redis-archiver"]).stdout,
        )
        .into_owned()
    };
    wait_until(180, "the archiver's pod to follow Redis", || {
        logs().contains("following pod redis-")
    });
    assert!(logs().contains("new base from"), "{}", logs());
    // It says so in an Event about its pod, with its own RBAC.
    wait_until(30, "the archiver's ArchiveNewBase Event", || {
        kubectl_ok(&[
            "-n",
            &s.ns,
            "get",
            "events",
            "--field-selector",
            "reason=ArchiveNewBase",
            "-o",
            "jsonpath={.items[*].message}",
        ])
        .contains("starts the archive")
    });
    let load = |round: &str, n: usize| {
        let cmds: Vec<Vec<String>> = (0..n)
            .flat_map(|i| {
                [
                    vec!["SET".to_string(), format!("k:{i}"), format!("{round}-{i}")],
                    vec!["INCR".to_string(), "counter".to_string()],
                ]
            })
            .chain([vec![
                "WAIT".to_string(),
                "1".to_string(),
                "20000".to_string(),
            ]])
            .collect();
        let replies = resp_all_owned(s.port, &cmds);
        assert_eq!(
            replies.last().map(String::as_str),
            Some(":1"),
            "WAIT 1 after {round}"
        );
    };
    load("one", 200);
    let d1 = digest_of("DEBUG DIGEST", &resp(s.port, &["DEBUG", "DIGEST"]));
    let t1 = now_s();
    wait_until(3, "the next second", || now_s() > t1);
    // Not a replica to back up from.
    let out_dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--from",
        "replica",
        "--out-dir",
        out_dir.path().to_str().expect("utf8"),
    ]));
    assert_eq!(code, 2, "the archiver is no replica to back up from: {err}");
    assert!(
        err.contains("no Running and Ready pod known as a replica"),
        "{err}"
    );
    let (code, out, err) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--from",
        "auto",
        "--out-dir",
        out_dir.path().to_str().expect("utf8"),
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let b = schema_checked("backup", &out);
    assert!(
        b["source"]["pod"]
            .as_str()
            .is_some_and(|p| p.starts_with("redis-")),
        "{out}"
    );
    assert_eq!(
        b["source"]["role"],
        serde_json::Value::Null,
        "read from the primary: {out}"
    );
    // The archiver's pod killed mid-stream: the next continues the chain.
    resp(s.port, &["SET", "in-flight", "1"]);
    kubectl_ok(&[
        "-n",
        &s.ns,
        "delete",
        "pod",
        "-l",
        "app.kubernetes.io/component=archiver",
        "--wait=false",
    ]);
    wait_until(180, "a new archiver to continue the chain", || {
        logs().contains("(+CONTINUE)")
    });
    load("two", 100);
    // Its metrics, on the port its Service names.
    let metrics = {
        let mut c = TcpStream::connect(("127.0.0.1", 9121)).expect("metrics port");
        c.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").expect("get");
        let mut body = String::new();
        c.read_to_string(&mut body).expect("read");
        body
    };
    assert!(metrics.contains("kubectl_redis_archive_up{"), "{metrics}");
    assert!(
        metrics.contains("kubectl_redis_archive_segments_stored"),
        "{metrics}"
    );
    // A bad deploy.
    assert_eq!(
        resp_all(s.port, &[&["FLUSHALL"], &["WAIT", "1", "20000"]])[1],
        ":1"
    );
    let (code, out, err) = run(plugin(&["archive", "stop", "-n", &s.ns]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("deployment/kubectl-redis-archiver deleted"),
        "{out}"
    );
    // The audit trail: the archive's start and stop, as Events on the
    // Redis Deployment.
    for reason in ["ArchiveStarted", "ArchiveStopped"] {
        let e = kubectl_ok(&[
            "-n",
            &s.ns,
            "get",
            "events.events.k8s.io",
            "--field-selector",
            &format!("reason={reason}"),
            "-o",
            "jsonpath={.items[*].regarding.kind}/{.items[*].regarding.name}/{.items[*].note}",
        ]);
        assert!(
            e.starts_with("Deployment/redis/archiver kubectl-redis-archiver"),
            "{reason}: {e}"
        );
    }

    let (code, out, err) = run(plugin_s3(&[
        "archive", "status", "--repo", &url, "-o", "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let st = schema_checked("archive-status", &out);
    assert_eq!(
        st["archives"][0]["windows"].as_array().map(Vec::len),
        Some(1),
        "{out}"
    );
    assert_eq!(
        st["archives"][0]["broken"],
        serde_json::json!([]),
        "no gap, no duplicate across the kill: {out}"
    );
    let when = utc(t1);
    // The same point in time drilled first: the base restored into a
    // throwaway pod and sampled, then every archived write up to that
    // second replayed into it and accepted; production untouched.
    let (code, out, err) = run(plugin_s3(&[
        "drill",
        "-n",
        &s.ns,
        "--repo",
        &url,
        "--to-time",
        &when,
        "--identity",
        id.to_str().expect("utf8"),
        "--host-network",
        "--port",
        "6458",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let dr = schema_checked("drill", &out);
    assert_eq!(dr["ok"], true, "{out}");
    assert_eq!(dr["point_in_time"]["to"], when.as_str(), "{out}");
    assert!(
        dr["point_in_time"]["commands"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{out}"
    );
    assert_eq!(
        dr["point_in_time"]["replayed"], dr["point_in_time"]["commands"],
        "{out}"
    );
    assert_eq!(dr["pod_deleted"], true, "{out}");
    assert!(err.contains("archived commands replayed in"), "{err}");
    assert_eq!(
        resp(s.port, &["DBSIZE"]),
        ":0",
        "the drill left production alone"
    );
    // The writers stay stopped until the archived writes are replayed.
    s.add_worker(1);
    let (code, out, err) = run(plugin_s3(&[
        "restore",
        "-n",
        &s.ns,
        "--repo",
        &url,
        "--to-time",
        &when,
        "--identity",
        id.to_str().expect("utf8"),
        "--yes",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let r = schema_checked("restore", &out);
    assert_eq!(r["point_in_time"]["to"], when.as_str(), "{out}");
    assert_eq!(
        r["point_in_time"]["replayed"], r["point_in_time"]["commands"],
        "{out}"
    );
    assert_eq!(r["writers"][0]["restored"], true, "{out}");
    let (replay, back) = (
        err.find("writers still stopped").expect("the replay said"),
        err.find("scale worker back to 1").expect("the worker back"),
    );
    assert!(replay < back, "replayed before the worker came back: {err}");
    wait_until(60, "Redis to answer after the restore", || {
        resp(s.port, &["PING"]) == "PONG"
    });
    assert_eq!(
        digest_of("DEBUG DIGEST", &resp(s.port, &["DEBUG", "DIGEST"])),
        d1,
        "the data at {when}"
    );
}

/// The archiver follows a Sentinel failover: it finds the primary as
/// `backup` does (Sentinel's answer) and, when Sentinel promotes a replica,
/// follows the new primary without anyone's help, and a restore to a second
/// after the failover gives exactly the data of that second. The chain
/// continues (`+CONTINUE` on the old id, kept by the new primary as its
/// second one), one base in all: when the old primary kept streaming after
/// the promotion (PINGs), the archiver continues from the promotion point
/// the new primary's `INFO replication` names. Sentinel never takes the
/// archiver for a replica.
#[test]
fn archive_follows_a_sentinel_failover() {
    let ns = "e2e-archive-sentinel";
    let base = 6581u16;
    sentinel_trio(ns, base);
    let sentinel = base + 20000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo_dir = tmp.path().join("repo");
    let log = tmp.path().join("archiver.log");
    let child = plugin(&[
        "archive",
        "run",
        "-n",
        ns,
        "-l",
        "app.kubernetes.io/name=redis",
        "--repo",
        repo_dir.to_str().expect("utf8"),
        "--segment-interval",
        "1s",
    ])
    .stderr(std::fs::File::create(&log).expect("log"))
    .spawn()
    .expect("start the archiver");
    // Killed however the test ends.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Kill(child);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_until(120, "the archiver to follow the primary", || {
        read().contains("following pod s-redis-node-a-0")
    });
    // Every write below acknowledged by both replicas and the archiver.
    let load = |port: u16, round: &str, want: &str| {
        let mut cmds: Vec<Vec<String>> = (0..100)
            .map(|i| vec!["SET".into(), format!("{round}:{i}"), "v".into()])
            .collect();
        cmds.push(vec!["INCR".into(), "counter".into()]);
        cmds.push(vec!["WAIT".into(), want.into(), "9000".into()]);
        let r = resp_all_owned(port, &cmds);
        assert_eq!(
            r.last().map(String::as_str),
            Some(format!(":{want}").as_str()),
            "{round}: {}",
            read()
        );
    };
    load(base, "before", "3");

    assert_eq!(resp(sentinel, &["SENTINEL", "FAILOVER", "mymaster"]), "OK");
    let mut primary = 0u16;
    wait_until(90, "a replica to be promoted", || {
        primary = [base + 1, base + 2]
            .into_iter()
            .find(|p| poll_resp(*p, &["INFO", "replication"]).contains("role:master"))
            .unwrap_or(0);
        primary != 0
    });
    let new_pod = if primary == base + 1 {
        "s-redis-node-b-0"
    } else {
        "s-redis-node-c-0"
    };
    wait_until(90, "the archiver to follow the new primary", || {
        read().contains(&format!("following pod {new_pod}"))
    });
    wait_until(60, "the old primary to replicate the new one", || {
        poll_resp(primary, &["INFO", "replication"]).contains("connected_slaves:3")
    });
    load(primary, "after", "3");
    let digest = digest_of("DEBUG DIGEST", &resp(primary, &["DEBUG", "DIGEST"]));
    let t = now_s();
    wait_until(3, "the next second", || now_s() > t);
    load(primary, "later", "3");
    let _ = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status();
    assert_eq!(child.0.wait().expect("wait").code(), Some(0), "{}", read());
    let log_text = read();
    // The chain continues on the promoted replica (+CONTINUE on the old
    // id), from its promotion point when the old primary kept streaming
    // past it (PINGs; Sentinel's hello PUBLISHes are not stored): one base.
    let continued = log_text.contains("continues the chain under a new replication id");
    let bases = log_text.matches("new base from").count();
    assert!(
        continued && bases == 1,
        "the chain continues across the failover: {log_text}"
    );
    // Sentinel learns of the archiver from the primary's INFO as
    // 127.0.0.1:0 (it announces no port) and can never reach it there: it
    // stays down and disconnected, never a candidate.
    let replicas = Command::new("redis-cli")
        .args([
            "-p",
            &sentinel.to_string(),
            "SENTINEL",
            "REPLICAS",
            "mymaster",
        ])
        .output()
        .expect("redis-cli");
    let lines: Vec<String> = String::from_utf8_lossy(&replicas.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    for (i, l) in lines.iter().enumerate() {
        if l == "name" && lines.get(i + 1).is_some_and(|n| n.ends_with(":0")) {
            let flags = lines
                .iter()
                .skip(i)
                .skip_while(|x| *x != "flags")
                .nth(1)
                .cloned()
                .unwrap_or_default();
            assert!(flags.contains("disconnected"), "{lines:?}");
        }
    }
    let repo_s = repo_dir.to_string_lossy().into_owned();
    let (code, out, err) = run(plugin(&[
        "archive", "status", "--repo", &repo_s, "-o", "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let st = schema_checked("archive-status", &out);
    assert_eq!(
        st["archives"][0]["windows"].as_array().map(Vec::len),
        Some(bases),
        "{out}"
    );
    assert_eq!(st["archives"][0]["broken"], serde_json::json!([]), "{out}");
    // Into a fresh server on this host (Debian's, as in the pods).
    let fresh = 6589u16;
    let _ = Command::new("redis-cli")
        .args(["-p", &fresh.to_string(), "shutdown", "nosave"])
        .output();
    let started = Command::new("redis-server")
        .args([
            "--port",
            &fresh.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--daemonize",
            "yes",
        ])
        .args(["--enable-debug-command", "yes", "--dir"])
        .arg(tmp.path())
        .status()
        .expect("redis-server");
    assert!(started.success());
    wait_until(10, "the fresh server", || {
        TcpStream::connect(("127.0.0.1", fresh)).is_ok()
    });
    let when = utc(t as i64);
    let (code, _, err) = run(plugin(&[
        "restore",
        "--url",
        &format!("redis://127.0.0.1:{fresh}"),
        "--repo",
        &repo_s,
        "--to-time",
        &when,
        "--yes",
    ]));
    let got = resp(fresh, &["DEBUG", "DIGEST"]);
    let _ = Command::new("redis-cli")
        .args(["-p", &fresh.to_string(), "shutdown", "nosave"])
        .output();
    assert_eq!(code, 0, "{err}");
    assert_eq!(got, digest, "the data at {when}, after the failover");
    let _ = kubectl(&["delete", "namespace", ns, "--wait=false"]);
}

/// The objects of a run as a Kubernetes Job (`core::ops::job`, issue 26's
/// groundwork: no command creates them yet) pass the real API server's
/// validation, by a server-side dry run: the Job with its restricted pod,
/// its ServiceAccount, Role and RoleBinding, and a `--job-overrides` patch.
#[test]
fn in_cluster_run_objects_pass_the_api_server() {
    use kubectl_redis_core::ops::job::{manifests, run_name, Resources, Run, SecretEnv};
    let name = run_name("backup", 1_764_930_600, &format!("{}", std::process::id()));
    let mut r = Run {
        name: name.clone(),
        namespace: "default".into(),
        command: "backup".into(),
        image: "kubectl-redis:e2e".into(),
        args: vec![
            "backup".into(),
            "--url".into(),
            "redis://127.0.0.1:6390".into(),
        ],
        env: vec![SecretEnv {
            name: "REDISCLI_AUTH".into(),
            secret: "redis".into(),
            key: "password".into(),
        }],
        env_from: Some("repo-credentials".into()),
        pvc: Some("backups".into()),
        node: Some("localhost".into()),
        resources: Resources::default(),
        ttl_s: 600,
        deadline_s: 3600,
        rules: vec![
            serde_json::json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}),
        ],
        overrides: None,
        sa_annotations: Vec::new(),
    };
    for overrides in [
        None,
        Some(serde_json::json!({"hostNetwork": true, "affinity": null})),
    ] {
        r.overrides = overrides;
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": manifests(&r).expect("manifests")});
        let mut child = Command::new("kubectl")
            .args(["apply", "--dry-run=server", "-f", "-"])
            .env("KUBECONFIG", kubeconfig())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl apply");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(list.to_string().as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for kind in [
            "serviceaccount",
            "role.rbac.authorization.k8s.io",
            "rolebinding.rbac.authorization.k8s.io",
            "job.batch",
        ] {
            assert!(
                stdout.contains(&format!("{kind}/{name} created (server dry run)")),
                "{stdout}"
            );
        }
    }
}

/// The storage secret's value in [`in_cluster_setup`]'s Secret: found
/// nowhere else, so logs and objects can be searched for it.
fn in_cluster_secret() -> String {
    format!("sEcReT-{}-in-cluster", std::process::id())
}

/// What an `--in-cluster` run needs on this cluster, in `ns`: the local
/// stores up, the plugin's image built from the binary under test, a
/// Secret `s3` with the S3 server's credentials; returns the image and the
/// JSON patch (`--job-overrides`) for the Job's pod: host network (no CNI
/// here), the local image, the API server on loopback. What a user of a
/// real cluster gives instead: nothing, or node selectors and tolerations.
fn in_cluster_setup(ns: &str) -> (String, String) {
    let up = Command::new(repo().join("scripts/stores.sh"))
        .arg("up")
        .status()
        .expect("scripts/stores.sh up");
    assert!(up.success());
    let image = "kubectl-redis/kubectl-redis:e2e";
    let status = Command::new(repo().join("scripts/cluster.sh"))
        .args(["plugin-image", bin().to_str().expect("utf8"), image])
        .status()
        .expect("cluster.sh plugin-image");
    assert!(status.success());
    kubectl_ok(&[
        "-n",
        ns,
        "create",
        "secret",
        "generic",
        "s3",
        "--from-literal=AWS_ACCESS_KEY_ID=test",
        &format!(
            "--from-literal=AWS_SECRET_ACCESS_KEY={}",
            in_cluster_secret()
        ),
        "--from-literal=AWS_ENDPOINT_URL=http://127.0.0.1:19000",
        "--from-literal=AWS_REGION=us-east-1",
    ]);
    (image.to_string(), host_network_patch("").replace('\n', ""))
}

/// `backup --in-cluster`: a Job next to Redis, from the plugin's image,
/// backs the scene up straight to S3 (moto) with credentials from a
/// Secret, encrypted; this process moved no byte through a port-forward,
/// showed the Job's progress and printed its result. The run's
/// ServiceAccount, Role and RoleBinding are gone after it, its Job stays
/// for its log. Detached, it is followed, listed and deleted with `runs`.
/// `restore --in-cluster` brings the backup back from S3 (identity from a
/// Secret, the worker scaled down and back), and without --yes and a
/// terminal starts nothing. An image that does not exist is said within
/// its first minute and the run removed; a user who may not create Jobs is
/// refused before anything is created.
#[test]
fn in_cluster_backup_runs_as_a_job_next_to_redis() {
    let s = Scene::new("in-cluster", 6458, "redis", &[]);
    for i in 0..100 {
        assert_eq!(s.cli(&["SET", &format!("k{i}"), &format!("v{i}")]), "OK");
    }
    let (image, overrides) = in_cluster_setup(&s.ns);
    let image = image.as_str();
    let keys = tempfile::tempdir().expect("tempdir");
    let (id, public) = age_key(keys.path(), "id.txt");
    let secret = in_cluster_secret();
    let url = format!("s3://backups/in-cluster-{}", std::process::id());
    // The local process has no storage credentials: only the Job has.
    let (code, out, err) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--in-cluster",
        "--job-image",
        image,
        "--job-overrides",
        &overrides,
        "--repo",
        &url,
        "--encrypt-to",
        &public,
        "--repo-credentials-from-secret",
        "s3",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    let v = schema_checked("backup", &out);
    assert_eq!(v["keys"], 100, "{v}");
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["run"]["port_forward_bytes"], 0, "{v}");
    let run_name = v["run"]["name"].as_str().expect("run name").to_string();
    let path = v["path"].as_str().expect("path").to_string();
    assert!(
        path.starts_with(&url) && path.ends_with(".rdb.age"),
        "{path}"
    );
    // The Job's progress, shown here as it came.
    assert!(
        err.contains("[backup] streaming a snapshot (SYNC)"),
        "{err}"
    );
    assert!(err.contains("read back: sha256"), "{err}");
    assert!(!err.contains(&secret) && !out.contains(&secret), "{err}");
    // Listed and whole in the repository.
    let (code, out, err) = run(plugin_s3(&["list", "--repo", &url, "-o", "json"]));
    assert_eq!(code, 0, "{err}");
    let l = schema_checked("list", &out);
    assert_eq!(l["backups"].as_array().map(Vec::len), Some(1), "{l}");
    assert_eq!(l["backups"][0]["status"], "verified");
    let (code, out, err) = run(plugin_s3(&[
        "verify",
        &path,
        "-i",
        id.to_str().expect("utf8"),
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(schema_checked("verify", &out)["files"][0]["keys"], 100);
    // What is left: the Job (its log), labelled; no secret value in it.
    let label = format!("kubectl-redis.io/run={run_name}");
    let left = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "jobs,serviceaccounts,roles,rolebindings",
        "-l",
        &label,
        "-o",
        "name",
    ]);
    assert_eq!(left.trim(), format!("job.batch/{run_name}"), "{left}");
    let job = kubectl_ok(&["-n", &s.ns, "get", "job", &run_name, "-o", "json"]);
    assert!(job.contains("\"s3\"") && !job.contains(&secret), "{job}");
    assert!(job.contains("\"readOnlyRootFilesystem\": true"), "{job}");
    // Checked and copied inside the cluster too: `verify --in-cluster` reads
    // every byte with the identity from a Secret, `copy --in-cluster`
    // copies it to another prefix; the Role reads that Secret, nothing else.
    kubectl_ok(&[
        "-n",
        &s.ns,
        "create",
        "secret",
        "generic",
        "backup-key",
        &format!("--from-file=key.txt={}", id.display()),
    ]);
    let ic = |cmd: &[&str]| {
        let mut a: Vec<&str> = cmd.to_vec();
        a.extend([
            "-n",
            &s.ns,
            "--in-cluster",
            "--job-image",
            image,
            "--job-overrides",
            &overrides,
            "--repo-credentials-from-secret",
            "s3",
            "-o",
            "json",
        ]);
        run(plugin(&a))
    };
    let (code, out, err) = ic(&[
        "verify",
        &path,
        "--identity-from-secret",
        "backup-key/key.txt",
    ]);
    assert_eq!(code, 0, "{err}\n{out}");
    let v = schema_checked("verify", &out);
    assert_eq!(v["files"][0]["checked"], "every-byte", "{v}");
    assert_eq!(v["files"][0]["keys"], 100, "{v}");
    assert_eq!(v["run"]["port_forward_bytes"], 0, "{v}");
    // A drill in the cluster: the backup from S3 into a throwaway pod
    // beside Redis (host network here, its own port), compared value by
    // value, the pod removed.
    let (code, out, err) = ic(&[
        "drill",
        "--file",
        &path,
        "--identity-from-secret",
        "backup-key/key.txt",
        "--host-network",
        "--port",
        "6459",
    ]);
    assert_eq!(code, 0, "{err}\n{out}");
    let d = schema_checked("drill", &out);
    assert_eq!(d["ok"], true, "{d}");
    assert_eq!(d["keys_restored"], 100, "{d}");
    assert_eq!(d["pod_deleted"], true, "{d}");
    assert_eq!(d["run"]["port_forward_bytes"], 0, "{d}");
    let copies = format!("{url}-copies");
    let (code, out, err) = ic(&[
        "copy",
        &url,
        &copies,
        "--latest",
        "1",
        "--identity-from-secret",
        "backup-key/key.txt",
    ]);
    assert_eq!(code, 0, "{err}\n{out}");
    let c = schema_checked("copy", &out);
    assert_eq!(c["copied"].as_array().map(Vec::len), Some(1), "{c}");
    let (code, out, err) = run(plugin_s3(&["list", "--repo", &copies, "-o", "json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        schema_checked("list", &out)["backups"][0]["status"],
        "verified"
    );
    // Detached: the run's name at once; `runs logs` follows it to its
    // result and exit code; `runs` lists it with its result; `runs delete`
    // removes it.
    let (code, out, err) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--in-cluster",
        "--job-image",
        image,
        "--job-overrides",
        &overrides,
        "--repo",
        &url,
        "--encrypt-to",
        &public,
        "--repo-credentials-from-secret",
        "s3",
        "--detach",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let d = schema_checked("run", &out);
    assert_eq!(d["state"], "created", "{d}");
    let detached = d["name"].as_str().expect("name").to_string();
    let (code, out, err) = run(plugin(&[
        "runs", "logs", "-n", &s.ns, &detached, "-o", "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let r = schema_checked("backup", &out);
    assert_eq!(r["keys"], 100, "{r}");
    assert_eq!(r["run"]["name"], detached.as_str(), "{r}");
    assert!(err.contains("read back: sha256"), "{err}");
    let (code, out, err) = run(plugin(&["runs", "-n", &s.ns, "-o", "json"]));
    assert_eq!(code, 0, "{err}");
    let l = schema_checked("runs", &out);
    let row = l["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|x| x["name"] == detached.as_str())
        .cloned()
        .expect("the detached run listed");
    assert_eq!(row["state"], "succeeded", "{row}");
    assert_eq!(row["exit_code"], 0, "{row}");
    assert_eq!(row["result"]["path"], r["path"], "{row}");
    let (code, out, err) = run(plugin(&[
        "runs", "delete", "-n", &s.ns, &detached, "-o", "json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(schema_checked("run", &out)["state"], "deleted");
    let (code, _, err) = run(plugin(&["runs", "logs", "-n", &s.ns, &detached]));
    assert_eq!(code, 2, "{err}");
    // The restore as a Job: the backup from S3, decrypted with an identity
    // from a Secret, swapped in while the worker is scaled to 0 and back.
    assert_eq!(s.cli(&["SET", "k1", "changed"]), "OK");
    assert_eq!(s.cli(&["SET", "extra", "x"]), "OK");
    s.add_worker(2);
    let workers = s.worker();
    assert_eq!(workers, ("2".into(), String::new()));
    let restore_args = |yes: bool| {
        let mut a = vec![
            "restore",
            "-n",
            &s.ns,
            "--in-cluster",
            "--job-image",
            image,
            "--job-overrides",
            &overrides,
            "--file",
            &path,
            "--identity-from-secret",
            "backup-key/key.txt",
            "--repo-credentials-from-secret",
            "s3",
            "-o",
            "json",
        ];
        if yes {
            a.push("--yes");
        }
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    // Without --yes and without a terminal: refused before any Job.
    let a = restore_args(false);
    let (code, _, err) = run(plugin(&a.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("refusing to replace all data without confirmation"),
        "{err}"
    );
    assert!(!err.contains("a Job in"), "no run started: {err}");
    let a = restore_args(true);
    let (code, out, err) = run(plugin(&a.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(code, 0, "{err}\n{out}");
    let r = schema_checked("restore", &out);
    assert_eq!(r["keys_loaded"], 100, "{r}");
    assert_eq!(r["run"]["port_forward_bytes"], 0, "{r}");
    assert_eq!(r["writers"][0]["restored"], true, "{r}");
    assert!(err.contains("[restore] scale worker to 0"), "{err}");
    assert_eq!(s.cli(&["GET", "k1"]), "v1");
    assert_eq!(s.cli(&["EXISTS", "extra"]), "0");
    assert_eq!(
        s.worker(),
        workers,
        "the worker scaled back, nothing recorded"
    );
    // Ctrl-C once the worker is scaled to 0: the run is stopped (its pod
    // gets SIGTERM and the restore in it scales the worker back) and removed.
    let mut child = plugin(&a.iter().map(String::as_str).collect::<Vec<_>>())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("restore");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains("[restore] scale worker to 0") => break,
            Ok(_) => {}
            Err(e) => panic!("the restore did not scale the worker down: {e}"),
        }
    }
    wait_until(30, "the worker at 0", || s.worker().0 == "0");
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill")
        .success());
    let status = child.wait().expect("wait");
    let err = reader.join().expect("stderr");
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("was stopped and removed"), "{err}");
    let stopped = err
        .lines()
        .find_map(|l| l.strip_prefix("run "))
        .and_then(|l| l.split(':').next())
        .expect("the run's name")
        .to_string();
    wait_until(60, "the worker back, nothing recorded", || {
        s.worker() == workers
    });
    let left = kubectl_ok(&[
        "-n",
        &s.ns,
        "get",
        "jobs,serviceaccounts,roles,rolebindings",
        "-l",
        &format!("kubectl-redis.io/run={stopped}"),
        "-o",
        "name",
    ]);
    assert!(left.trim().is_empty(), "{left}");
    // An image that does not exist (never pulled here): said, and the run
    // removed.
    let t0 = std::time::Instant::now();
    let (code, _, err) = run(plugin(&[
        "backup",
        "-n",
        &s.ns,
        "--in-cluster",
        "--job-image",
        "kubectl-redis/does-not-exist:e2e",
        "--job-overrides",
        &overrides,
        "--repo",
        &url,
        "--no-encrypt",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the Job's pod cannot start: ErrImageNeverPull"),
        "{err}"
    );
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
    let name = err
        .lines()
        .find_map(|l| l.strip_prefix("run "))
        .and_then(|l| l.split(':').next())
        .expect("the run's name")
        .to_string();
    wait_until(60, "the failed run's objects removed", || {
        kubectl_ok(&[
            "-n",
            &s.ns,
            "get",
            "jobs,serviceaccounts,roles,rolebindings",
            "-l",
            &format!("kubectl-redis.io/run={name}"),
            "-o",
            "name",
        ])
        .trim()
        .is_empty()
    });
    let (code, out, _) = run(plugin_s3(&["list", "--repo", &url, "-o", "json"]));
    assert_eq!(code, 0);
    assert_eq!(
        schema_checked("list", &out)["backups"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "nothing more listed"
    );
    // A user who may read pods but not create Jobs: refused, nothing made.
    let jobs_before = kubectl_ok(&["-n", &s.ns, "get", "jobs", "-o", "name"]);
    let (_kc_dir, kc) = sa_kubeconfig(
        &s.ns,
        "no-jobs",
        r#"[{"apiGroups":[""],"resources":["pods","pods/log"],"verbs":["get","list"]}]"#,
    );
    let mut c = Command::new(bin());
    c.args([
        "backup",
        "-n",
        &s.ns,
        "--in-cluster",
        "--job-image",
        image,
        "--repo",
        &url,
        "--no-encrypt",
    ])
    .env("KUBECONFIG", &kc)
    .env("NO_COLOR", "1");
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--in-cluster needs permissions you do not have")
            && err.contains("create jobs.batch")
            && err.contains("create serviceaccounts")
            && err.contains("nothing was created"),
        "{err}"
    );
    let jobs = kubectl_ok(&["-n", &s.ns, "get", "jobs", "-o", "name"]);
    assert_eq!(jobs, jobs_before);
}
