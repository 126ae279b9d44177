//! The real binary's help, error messages and exit codes, without a cluster
//! (insta-cmd snapshots record exit code, stdout and stderr).

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use kubectl_redis_e2e::schema_checked;
use std::process::Command;

fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(get_cargo_bin("kubectl-redis"));
    c.args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("KUBECONFIG")
        .env_remove("NS")
        .env_remove("APP_LABEL")
        .env_remove("OUT_DIR")
        .env_remove("BACKUPS_DIR")
        .env("HOME", "/nonexistent-home");
    c
}

#[test]
fn help() {
    assert_cmd_snapshot!(cmd(&["--help"]));
}

#[test]
fn backup_help() {
    assert_cmd_snapshot!(cmd(&["backup", "--help"]));
}

#[test]
fn restore_help() {
    assert_cmd_snapshot!(cmd(&["restore", "--help"]));
}

#[test]
fn restore_needs_a_file() {
    assert_cmd_snapshot!(
        cmd(&["restore", "--kubeconfig", "/dev/null"]).env("HOME", "/nonexistent-home")
    );
}

#[test]
fn restore_bad_writer_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("config");
    std::fs::write(&kc, KUBECONFIG_UNREACHABLE).expect("write");
    assert_cmd_snapshot!(
        cmd(&["restore", "--file", "x.rdb", "--scale-down", "job/nightly"]).env("KUBECONFIG", &kc)
    );
}

#[test]
fn list_help() {
    assert_cmd_snapshot!(cmd(&["list", "--help"]));
}

#[test]
fn unknown_flag_exits_2() {
    assert_cmd_snapshot!(cmd(&["backup", "--nope"]));
}

#[test]
fn bad_timeout_exits_2() {
    assert_cmd_snapshot!(cmd(&["backup", "--timeout", "soon"]));
    assert_cmd_snapshot!(cmd(&["backup", "--timeout", "5parsecs"]));
    assert_cmd_snapshot!(cmd(&["backup", "--timeout", "0s"]));
}

#[test]
fn pod_and_selector_conflict() {
    assert_cmd_snapshot!(cmd(&["backup", "--pod", "redis-0", "-l", "app=redis"]));
}

#[test]
fn missing_kubeconfig_exits_1() {
    assert_cmd_snapshot!(cmd(&["backup", "--kubeconfig", "/nonexistent/kubeconfig"]));
}

#[test]
fn no_kubeconfig_at_all_exits_1() {
    assert_cmd_snapshot!(cmd(&["backup"]));
}

#[test]
fn unknown_context_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("config");
    std::fs::write(&kc, KUBECONFIG_UNREACHABLE).expect("write");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    settings.bind(|| {
        assert_cmd_snapshot!(cmd(&["backup", "--context", "nope"]).env("KUBECONFIG", &kc));
    });
}

/// A cluster that refuses connections: exit 1 with what to check; nothing
/// is written.
#[test]
fn unreachable_cluster_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("config");
    std::fs::write(&kc, KUBECONFIG_UNREACHABLE).expect("write");
    let out = cmd(&["backup", "-n", "october", "--out-dir"])
        .arg(dir.path().join("b"))
        .env("KUBECONFIG", &kc)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cannot list pods in namespace october:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: check the cluster with `kubectl cluster-info`"),
        "{stderr}"
    );
    assert!(!dir.path().join("b").exists());
}

const KUBECONFIG_UNREACHABLE: &str = "apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: not-a-secret
contexts:
- name: gone
  context:
    cluster: gone
    user: u
    namespace: from-context
current-context: gone
";

fn fixture(names: &[(&str, usize)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (n, size) in names {
        std::fs::write(dir.path().join(n), vec![b'x'; *size]).expect("write");
    }
    dir
}

#[test]
fn list_newest_first() {
    let dir = fixture(&[
        ("redis-backup-20251024_180500.rdb", 2048),
        ("redis-backup-20251025_090000.rdb", 10),
        (".redis-backup-20251026_000000.rdb.4f2a", 7),
        ("README.txt", 1),
    ]);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[DIR]");
    settings.add_filter(
        r"(?m)(\d+d\d\dh|\d+h\d\dm|\d+m\d\ds|\d+s)( +20\d\d-)",
        "[AGE]$2",
    );
    settings.add_filter(r#""age_seconds": \d+"#, r#""age_seconds": [AGE]"#);
    settings.bind(|| {
        assert_cmd_snapshot!(cmd(&["list", "--out-dir"]).arg(dir.path()));
        assert_cmd_snapshot!(cmd(&["list", "-o", "json"]).env("OUT_DIR", dir.path()));
    });
}

#[test]
fn list_missing_dir_is_empty() {
    assert_cmd_snapshot!(cmd(&["list", "--out-dir", "/nonexistent/backups"]));
    assert_cmd_snapshot!(cmd(&[
        "list",
        "--out-dir",
        "/nonexistent/backups",
        "-o",
        "json"
    ]));
}

/// The committed completion scripts match what the binary generates.
#[test]
fn committed_completions_are_current() {
    for (shell, file) in [
        ("bash", "kubectl-redis.bash"),
        ("zsh", "_kubectl-redis"),
        ("fish", "kubectl-redis.fish"),
        ("powershell", "kubectl-redis.ps1"),
    ] {
        let out = cmd(&["completion", shell]).output().expect("run");
        assert!(out.status.success());
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../completions")
            .join(file);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "{} is stale: regenerate with `make completions`",
            path.display()
        );
    }
}

/// Colour only on a terminal: `script(1)` gives the binary a pty. NO_COLOR
/// and --color=never turn it off there; --color=always turns it on in a pipe.
#[test]
fn colour_only_on_a_terminal() {
    let bin = get_cargo_bin("kubectl-redis");
    let on_pty = |extra: &str, no_color: bool| -> String {
        let mut c = Command::new("script");
        c.args([
            "-qec",
            &format!(
                "{} backup --kubeconfig /nonexistent/kubeconfig {extra}",
                bin.display()
            ),
            "/dev/null",
        ])
        .env_remove("NO_COLOR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        let out = c.output().expect("script(1) from util-linux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let esc = "\u{1b}[";
    let plain = on_pty("", false);
    assert!(plain.contains("error:") && plain.contains(esc), "{plain:?}");
    let no_color = on_pty("", true);
    assert!(
        no_color.contains("error:") && !no_color.contains(esc),
        "{no_color:?}"
    );
    let never = on_pty("--color never", false);
    assert!(
        never.contains("error:") && !never.contains(esc),
        "{never:?}"
    );
    let piped = cmd(&["backup", "--kubeconfig", "/nonexistent/kubeconfig"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&piped.stderr).contains(esc));
    let forced = cmd(&[
        "backup",
        "--kubeconfig",
        "/nonexistent/kubeconfig",
        "--color",
        "always",
    ])
    .env_remove("NO_COLOR")
    .output()
    .expect("run");
    assert!(String::from_utf8_lossy(&forced.stderr).contains(esc));
}

/// $KUBECONFIG is a list, as for kubectl: a missing first file is skipped
/// and the context (and its namespace) come from the next one.
#[test]
fn kubeconfig_list_is_honoured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("config");
    std::fs::write(&kc, KUBECONFIG_UNREACHABLE).expect("write");
    let list = format!("{}:{}", dir.path().join("missing").display(), kc.display());
    let out = cmd(&["backup", "--out-dir"])
        .arg(dir.path().join("b"))
        .env("KUBECONFIG", list)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("namespace from-context (from the context)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot list pods in namespace from-context"),
        "{stderr}"
    );
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures");

/// A copy of a fixture in a temporary directory, optionally damaged.
fn fixture_copy(name: &str, flip: Option<usize>) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture");
    if let Some(at) = flip {
        b[at] ^= 0x20;
    }
    let p = dir.path().join(name);
    std::fs::write(&p, b).expect("write");
    let p = p.to_string_lossy().into_owned();
    (dir, p)
}

#[test]
fn verify_good_bad_and_missing() {
    let (_a, good) = fixture_copy("all-types-8.2.rdb", None);
    let (_b, bad) = fixture_copy("all-types-7.0.rdb", Some(3000));
    let filters = vec![(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]")];
    insta::with_settings!({ filters => filters }, {
        assert_cmd_snapshot!("verify_good", cmd(&["verify", &good]));
        assert_cmd_snapshot!("verify_corrupt", cmd(&["verify", &good, &bad]));
        assert_cmd_snapshot!("verify_missing", cmd(&["verify", "/nonexistent/x.rdb"]));
        assert_cmd_snapshot!("verify_json", cmd(&["verify", &bad, "-o", "json"]));
    });
}

#[test]
fn verify_checks_the_manifest() {
    let (dir, good) = fixture_copy("all-types-7.0.rdb", None);
    let manifest = format!("{good}.json");
    // A manifest from another file: same name, other sha256 and key count.
    std::fs::write(
        &manifest,
        r#"{"format":"kubectl-redis.io/backup-manifest/v1","file":"all-types-7.0.rdb","size":12012,
"sha256":"00","flavor":"redis","rdb_version":10,"redis_version":"7.0.15","crc64":"00",
"verified":true,"keys_per_db":{},"keys":15,"source":{},"method":"bgsave",
"created":"2025-10-24T18:05:00Z","tool":"kubectl-redis 0.1.0"}"#,
    )
    .expect("manifest");
    let out = cmd(&["verify", &good]).output().expect("run");
    assert_eq!(out.status.code(), Some(8));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("differs from its manifest"), "{err}");
    assert!(err.contains("16 keys, the manifest says 15"), "{err}");
    drop(dir);
}

#[test]
fn inspect_json_and_text() {
    let (_a, f) = fixture_copy("all-types-valkey-9.1.rdb", None);
    let out = cmd(&[
        "inspect",
        &f,
        "-o",
        "json",
        "--top",
        "2",
        "--prefix-sep",
        ":",
    ])
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v = schema_checked("inspect", &String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["kind"], "InspectReport");
    assert_eq!(v["keys"], 18);
    assert_eq!(v["flavor"], "valkey");
    assert_eq!(v["server_version"], "9.1.2");
    assert_eq!(v["biggest"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["checksum"]["status"], "verified");
    let text = cmd(&["inspect", &f]).output().expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("format     VALKEY RDB version 80"), "{text}");
    let (_b, bad) = fixture_copy("all-types-valkey-9.1.rdb", Some(100));
    let out = cmd(&["inspect", &bad]).output().expect("run");
    assert_eq!(out.status.code(), Some(8));
}

/// A directory of backups named for `stamps` (YYYYMMDD_HHMMSS), each with a
/// manifest saying it verified, plus two files that are not ours.
fn backups_with_manifests(stamps: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for s in stamps {
        let name = format!("redis-backup-{s}.rdb");
        std::fs::write(dir.path().join(&name), b"0123456789").expect("write");
        let m = serde_json::json!({
            "format": "kubectl-redis.io/backup-manifest/v1", "file": name, "size": 10,
            "sha256": "00", "flavor": "redis", "rdb_version": 10, "redis_version": "7.0.15",
            "crc64": "00", "verified": true, "keys_per_db": {"0": {"keys": 7, "expires": 0}},
            "keys": 7, "source": {}, "method": "stream", "created": "x", "tool": "t"
        });
        std::fs::write(dir.path().join(format!("{name}.json")), m.to_string()).expect("write");
    }
    std::fs::write(dir.path().join("dump.rdb"), b"x").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"x").expect("write");
    dir
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn prune_is_a_dry_run_until_yes_and_removes_manifests_too() {
    let stamps = [
        "20251020_010000",
        "20251020_020000",
        "20251021_010000",
        "20251021_020000",
        "20251022_010000",
    ];
    let dir = backups_with_manifests(&stamps);
    let d = dir.path().to_str().expect("utf8");
    let before = names_in(dir.path());
    let out = cmd(&[
        "prune",
        "--out-dir",
        d,
        "--keep-last",
        "1",
        "--keep-daily",
        "2",
    ])
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(names_in(dir.path()), before, "a dry run removes nothing");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dry run: 3 would be removed, 2 kept"), "{err}");

    let out = cmd(&[
        "prune",
        "--out-dir",
        d,
        "--keep-last",
        "1",
        "--keep-daily",
        "2",
        "--yes",
        "-o",
        "json",
    ])
    .output()
    .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = schema_checked("prune", &String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["kept"], 2);
    // The deletions are recorded in the audit trail (audit/).
    assert_eq!(
        names_in(dir.path()),
        [
            "audit",
            "dump.rdb",
            "notes.txt",
            "redis-backup-20251021_020000.rdb",
            "redis-backup-20251021_020000.rdb.json",
            "redis-backup-20251022_010000.rdb",
            "redis-backup-20251022_010000.rdb.json",
        ]
    );
    // No rule at all is refused.
    let out = cmd(&["prune", "--out-dir", d, "--yes"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_exit_codes_and_metrics() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // A backup stamped about an hour ago, in the plugin's own naming.
    let stamp = {
        let out = Command::new("date")
            .args(["-u", "-d", &format!("@{}", now - 3600), "+%Y%m%d_%H%M%S"])
            .output()
            .expect("date");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let dir = backups_with_manifests(&[&stamp]);
    let d = dir.path().to_str().expect("utf8");
    let prom = dir.path().join("m.prom");
    std::fs::write(
        &prom,
        "# HELP node_other x\n# TYPE node_other gauge\nnode_other 3\n",
    )
    .expect("write");
    let p = prom.to_str().expect("utf8");
    let out = cmd(&[
        "check",
        "--out-dir",
        d,
        "--max-age",
        "2h",
        "--metrics-file",
        p,
    ])
    .output()
    .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = std::fs::read_to_string(&prom).expect("metrics");
    assert!(m.contains("node_other 3"), "other metrics kept:\n{m}");
    assert!(m.contains("kubectl_redis_backup_check_ok{dir="), "{m}");
    assert!(
        m.contains(&format!(
            "kubectl_redis_backup_newest_keys{{dir=\"{d}\"}} 7"
        )),
        "{m}"
    );
    let age = m
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!(
                "kubectl_redis_backup_newest_age_seconds{{dir=\"{d}\"}} "
            ))
        })
        .and_then(|v| v.parse::<u64>().ok())
        .expect("age sample");
    assert!((3600..3700).contains(&age), "{age}");
    let out = cmd(&["check", "--out-dir", d, "--max-age", "30m"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 30m"));
    // A size that disagrees with the manifest is not a verified backup.
    std::fs::write(
        dir.path().join(format!("redis-backup-{stamp}.rdb")),
        b"short",
    )
    .expect("write");
    let out = cmd(&["check", "--out-dir", d, "--max-age", "2h", "-o", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(10));
    let v = schema_checked("check", &String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["ok"], false);
    assert!(v["error"]["message"].is_string(), "{v}");
}

#[test]
fn a_failed_backup_records_its_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prom = dir.path().join("m.prom");
    let out = cmd(&[
        "backup",
        "--url",
        "redis://127.0.0.1:1",
        "--metrics-file",
        prom.to_str().expect("utf8"),
    ])
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let m = std::fs::read_to_string(&prom).expect("metrics");
    assert!(m.contains("kubectl_redis_backup_last_exit_code 1"), "{m}");
    assert!(!m.contains("last_success"), "{m}");
}

/// Every `-o json` document this binary can print without a cluster
/// matches its schema in `schemas/`: listings, verification (files and a
/// server that cannot be reached), inspection of every fixture, prune and
/// check, and the failure documents of backup, restore and status.
#[test]
fn json_outputs_match_their_schemas() {
    let run = |args: &[&str]| {
        let out = cmd(args).output().expect("run");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (dir, good) = fixture_copy("all-types-7.0.rdb", None);
    let (_b, bad) = fixture_copy("all-types-7.0.rdb", Some(3000));
    let d = dir.path().to_str().expect("utf8").to_string();
    // A backup-named copy with a manifest, so list and check have one.
    let name = "redis-backup-20251024_180500.rdb";
    std::fs::copy(&good, dir.path().join(name)).expect("copy");
    let v = schema_checked("list", &run(&["list", "--out-dir", &d, "-o", "json"]));
    assert_eq!(v["kind"], "BackupList");
    assert_eq!(v["apiVersion"], "kubectl-redis.io/v1");
    schema_checked(
        "list",
        &run(&["list", "--out-dir", "/nonexistent", "-o", "json"]),
    );
    let v = schema_checked(
        "verify",
        &run(&["verify", &good, &bad, "/nonexistent/x.rdb", "-o", "json"]),
    );
    assert_eq!(
        v["files"][1]["error"]["message"]
            .as_str()
            .map(|m| m.starts_with("corrupt")),
        Some(true),
        "{v}"
    );
    assert!(v["files"][2]["error"]["message"].is_string(), "{v}");
    assert_eq!(v["files"][0]["checksum"]["crc64"], "1aa6c7814c5a58e9");
    let v = schema_checked(
        "snapshot-check",
        &run(&["verify", "--url", "redis://127.0.0.1:1", "-o", "json"]),
    );
    assert_eq!(v["exit_code"], 1, "{v}");
    for f in [
        "all-types-6.2.rdb",
        "all-types-8.2.rdb",
        "all-types-valkey-9.1.rdb",
        "empty-7.0.rdb",
    ] {
        let (_t, p) = fixture_copy(f, None);
        schema_checked(
            "inspect",
            &run(&["inspect", &p, "-o", "json", "--prefix-sep", ":"]),
        );
    }
    schema_checked("check", &run(&["check", "--out-dir", &d, "-o", "json"]));
    schema_checked(
        "prune",
        &run(&["prune", "--out-dir", &d, "--keep-last", "1", "-o", "json"]),
    );
    // Failures before any work: the cluster cannot be reached, bad input.
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, KUBECONFIG_UNREACHABLE).expect("kubeconfig");
    let kc = kc.to_str().expect("utf8");
    let v = schema_checked(
        "backup",
        &run(&[
            "backup",
            "--kubeconfig",
            kc,
            "--context",
            "nope",
            "-o",
            "json",
        ]),
    );
    assert_eq!(v["exit_code"], 1, "{v}");
    assert!(v["error"]["hint"].is_string(), "{v}");
    schema_checked(
        "backup",
        &run(&["backup", "--url", "redis://127.0.0.1:1", "-o", "json"]),
    );
    schema_checked("backup", &run(&["backup", "--url", "bad", "-o", "json"]));
    let v = schema_checked("restore", &run(&["restore", "-o", "json"]));
    assert_eq!(v["exit_code"], 2, "{v}");
    schema_checked(
        "status",
        &run(&[
            "status",
            "--kubeconfig",
            kc,
            "--context",
            "nope",
            "-o",
            "json",
        ]),
    );
    schema_checked(
        "recover",
        &run(&[
            "restore",
            "--recover",
            "--kubeconfig",
            kc,
            "--context",
            "nope",
            "-o",
            "json",
        ]),
    );
}

/// The Dockerfile's final image is what the README and `schedule` promise:
/// a distroless base, a non-root user, the plugin binary alone as the
/// entrypoint. (No registry is reachable here to build it; the e2e test runs
/// the same content, imported by `scripts/cluster.sh plugin-image`.)
#[test]
fn dockerfile_runs_the_plugin_alone_as_non_root() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Dockerfile"))
        .expect("Dockerfile");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let last_from = lines
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("a FROM");
    let final_stage = &lines[last_from..];
    let from = final_stage[0];
    assert!(from.starts_with("FROM gcr.io/distroless/"), "{from}");
    assert!(from.ends_with(":nonroot"), "{from}");
    let copies: Vec<&&str> = final_stage
        .iter()
        .filter(|l| l.starts_with("COPY"))
        .collect();
    assert_eq!(copies.len(), 1, "only the binary goes in: {copies:?}");
    assert!(
        copies[0].ends_with("/usr/local/bin/kubectl-redis"),
        "{copies:?}"
    );
    assert!(final_stage.contains(&"USER nonroot"), "{final_stage:?}");
    assert_eq!(
        final_stage.iter().find(|l| l.starts_with("ENTRYPOINT")),
        Some(&r#"ENTRYPOINT ["/usr/local/bin/kubectl-redis"]"#)
    );
    assert!(
        !final_stage.iter().any(|l| l.starts_with("RUN")),
        "no shell in the final image"
    );
}

/// `copy --sanitize`: a separate `-sanitized` backup with its rules' counts,
/// listed as such, refused by restore without --allow-sanitized and passed
/// over by --latest; bad rules and keys are refused before anything is read.
#[test]
fn sanitized_copies_are_made_listed_and_never_mistaken_for_full_backups() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    let dst = dir.path().join("dst");
    std::fs::create_dir_all(&src).expect("src");
    let name = "redis-backup-20251024_180500.rdb";
    std::fs::copy(format!("{FIXTURES}/all-types-7.0.rdb"), src.join(name)).expect("copy");
    let key = dir.path().join("mask.key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").expect("key");
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - type: stream\n    action: drop\n  - keys: \"h:*\"\n    fields: [f1]\n    action: mask\n  - keys: \"session:*\"\n    action: drop\n",
    )
    .expect("rules");
    let (s, d, k, r) = (
        src.to_str().expect("utf8"),
        dst.to_str().expect("utf8"),
        key.to_str().expect("utf8"),
        rules.to_str().expect("utf8"),
    );
    let out = cmd(&[
        "copy",
        s,
        d,
        "--sanitize",
        r,
        "--sanitize-key-file",
        k,
        "-o",
        "json",
    ])
    .output()
    .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v = schema_checked("copy", &String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        v["copied"][0]["file"],
        "redis-backup-20251024_180500-sanitized.rdb"
    );
    let rules_done = &v["sanitized"][0]["rules"];
    assert_eq!(rules_done[0]["keys"], 1, "{v}");
    assert_eq!(rules_done[1]["keys"], 2, "{v}");
    assert_eq!(rules_done[1]["masked"], 1, "{v}");
    assert_eq!(rules_done[2]["keys"], 0, "{v}");
    // A rule that matched nothing is a warning, naming it.
    assert!(
        stderr.contains("rule 3 (drop session:*) matched no key"),
        "{stderr}"
    );
    let copy = dst.join("redis-backup-20251024_180500-sanitized.rdb");
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!("{}.json", copy.display())).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["sanitized"], true);
    assert_eq!(m["sanitize"]["from"], name);
    assert_eq!(m["sanitize"]["keys_in"], 16);
    assert_eq!(m["sanitize"]["keys_out"], 15);
    assert_eq!(m["keys"], 15);
    // Again: already there (same backup, rules and key), nothing rewritten.
    let again = cmd(&["copy", s, d, "--sanitize", r, "--sanitize-key-file", k])
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in"));
    // Listed as sanitized.
    let l = schema_checked(
        "list",
        &String::from_utf8_lossy(
            &cmd(&["list", "--out-dir", d, "-o", "json"])
                .output()
                .expect("list")
                .stdout,
        ),
    );
    assert_eq!(l["backups"][0]["sanitized"], true, "{l}");
    // Restore refuses it by name and passes over it with --latest.
    let c = copy.to_str().expect("utf8");
    let out = cmd(&["restore", "--file", c, "--url", "redis://127.0.0.1:1", "-y"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a sanitized copy") && err.contains("--allow-sanitized"),
        "{err}"
    );
    let out = cmd(&[
        "restore",
        "--latest",
        "--repo",
        d,
        "--url",
        "redis://127.0.0.1:1",
        "-y",
    ])
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 sanitized copies passed over"), "{err}");
    // Bad input, refused before anything is read: nothing new appears.
    let bad = dir.path().join("bad.yaml");
    let short = dir.path().join("short.key");
    std::fs::write(&short, "too short").expect("short key");
    let cases: [(&str, &str); 4] = [
        ("rules:\n  - action: scramble\n", k),
        ("rules: [\n", k),
        ("rules:\n  - action: ttl\n", k),
        ("rules:\n  - action: drop\n", short.to_str().expect("utf8")),
    ];
    let filters = vec![(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]")];
    for (i, (text, key)) in cases.iter().enumerate() {
        std::fs::write(&bad, text).expect("rules");
        let b = bad.to_str().expect("utf8");
        insta::with_settings!({ filters => filters.clone() }, {
            assert_cmd_snapshot!(
                format!("sanitize_bad_input_{i}"),
                cmd(&["copy", s, dir.path().join("other").to_str().expect("utf8"), "--sanitize", b, "--sanitize-key-file", key])
            );
        });
    }
    assert!(
        !dir.path().join("other").exists()
            || std::fs::read_dir(dir.path().join("other"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0
    );
    // No key at all.
    let out = cmd(&["copy", s, d, "--sanitize", r]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a mask key"));
    // A restore to a second would replay the archive's writes unsanitized:
    // refused before anything is read or asked.
    let out = cmd(&[
        "restore",
        "--repo",
        d,
        "--to-time",
        "2025-10-24T18:05:00Z",
        "--url",
        "redis://127.0.0.1:1",
        "--sanitize",
        r,
        "--sanitize-key-file",
        k,
        "-y",
    ])
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--sanitize cannot be used with --to-time"),
        "{err}"
    );
    // The shipped example parses and passes its schema.
    let ex: serde_json::Value = serde_json::to_value(
        serde_norway::from_str::<serde_json::Value>(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../examples/sanitize-rules.yaml"
            ))
            .expect("example"),
        )
        .expect("yaml"),
    )
    .expect("value");
    kubectl_redis_e2e::assert_schema("sanitize-rules", &ex);
}

/// Every access to a local repository leaves a record under audit/: the
/// copy's read at the source, its write at the destination, prune's
/// deletion; `audit` lists them oldest first, in its schema.
#[test]
fn the_audit_trail_records_copies_and_deletions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    let dst = dir.path().join("dst");
    std::fs::create_dir_all(&src).expect("src");
    let (a, b) = (
        "redis-backup-20251024_180500.rdb",
        "redis-backup-20251025_180500.rdb",
    );
    for n in [a, b] {
        std::fs::copy(format!("{FIXTURES}/all-types-7.0.rdb"), src.join(n)).expect("copy");
    }
    let (s, d) = (src.to_str().expect("utf8"), dst.to_str().expect("utf8"));
    let out = cmd(&["copy", s, d]).output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cmd(&["prune", "--out-dir", d, "--keep-last", "1", "--yes"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trail = |repo: &str| {
        let out = cmd(&["audit", "--repo", repo, "-o", "json"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0));
        schema_checked("audit", &String::from_utf8_lossy(&out.stdout))
    };
    let t = trail(d);
    let acts: Vec<String> = t["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["action"].as_str().unwrap_or(""),
                r["by_command"].as_str().unwrap_or(""),
                r["file"].as_str().unwrap_or("")
            )
        })
        .collect();
    // Copied newest first, then the older one pruned.
    assert_eq!(
        acts,
        vec![
            format!("backup-written copy {b}"),
            format!("backup-written copy {a}"),
            format!("deleted prune {a}"),
        ],
        "{t}"
    );
    assert_eq!(t["records"][0]["peer"], s);
    let t = trail(s);
    assert_eq!(t["records"].as_array().map(Vec::len), Some(2), "{t}");
    assert_eq!(t["records"][0]["action"], "read");
    assert_eq!(t["records"][0]["peer"], d);
    // Records are whole files, never rewritten: each its own name, 0600.
    let names: Vec<_> = std::fs::read_dir(dst.join("audit"))
        .expect("audit dir")
        .flatten()
        .collect();
    assert_eq!(names.len(), 3);
    #[cfg(unix)]
    for n in &names {
        use std::os::unix::fs::PermissionsExt;
        let mode = n.metadata().expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{:?}", n.path());
    }
    // A repository without a trail: none, exit 0.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("empty");
    let t = trail(empty.to_str().expect("utf8"));
    assert_eq!(t["records"].as_array().map(Vec::len), Some(0));
}

/// The point-in-time archive has no manifest per segment to carry a
/// KMS-wrapped key: a KMS recipient is refused (exit 2) before the KMS or
/// Redis is asked, and nothing is written.
#[test]
fn the_archive_refuses_kms_recipients() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("pitr");
    let out = cmd(&[
        "archive",
        "run",
        "--url",
        "redis://127.0.0.1:1",
        "--repo",
        repo.to_str().expect("utf8"),
        "--encrypt-to",
        "awskms://arn:aws:kms:us-east-1:123456789012:key/abc",
    ])
    .env("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the archive cannot be encrypted to a KMS key yet"),
        "{err}"
    );
    assert!(
        !repo.exists() || std::fs::read_dir(&repo).map(|d| d.count()).unwrap_or(0) == 0,
        "something was written"
    );
    // Recorded by `repo init` rather than given: the same refusal.
    let kms = "awskms://arn:aws:kms:us-east-1:123456789012:key/abc";
    let r = repo.to_str().expect("utf8");
    let init = cmd(&["repo", "init", r, "--encrypt-to", kms])
        .output()
        .expect("run");
    assert_eq!(
        init.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = cmd(&[
        "archive",
        "run",
        "--url",
        "redis://127.0.0.1:1",
        "--repo",
        r,
    ])
    .env("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the archive cannot be encrypted to a KMS key yet"),
        "{err}"
    );
}

/// `backup --in-cluster` refuses, before reaching any cluster, what the Job
/// could not do: a repository that is a directory on this machine (without
/// --pvc and /backups), flags naming local files, overrides that are not
/// JSON; the Job's flags need --in-cluster.
#[test]
fn in_cluster_refuses_what_the_job_cannot_reach() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("backups");
    let l = local.to_str().expect("utf8");
    let cases: &[(&[&str], &str)] = &[
        (
            &["backup", "--in-cluster", "--repo", l],
            "--in-cluster writes straight to the repository, and",
        ),
        (
            &["backup", "--in-cluster", "--pvc", "claim", "--repo", l],
            "is a directory on this machine",
        ),
        (
            &[
                "backup",
                "--in-cluster",
                "--repo",
                "s3://b/p",
                "--metrics-file",
                "m.prom",
            ],
            "--metrics-file cannot be used with --in-cluster",
        ),
        (
            &[
                "backup",
                "--in-cluster",
                "--repo",
                "s3://b/p",
                "--passphrase-file",
                "p",
            ],
            "--passphrase-file cannot be used with --in-cluster",
        ),
        (
            &["copy", l, "s3://b/p", "--in-cluster"],
            "--in-cluster copies inside the cluster, and",
        ),
        (
            &["verify", "s3://b/p/x.rdb", "--in-cluster", "-i", "key.txt"],
            "--identity cannot be used with --in-cluster",
        ),
        (
            &["verify", l, "--in-cluster"],
            "--in-cluster verifies inside the cluster, and",
        ),
        (
            &[
                "drill",
                "--file",
                "s3://b/p/x.rdb",
                "--in-cluster",
                "--in",
                "drills",
            ],
            "--in cannot be used with --in-cluster",
        ),
        (
            &["restore", "--file", l, "--in-cluster", "--yes"],
            "--in-cluster reads and writes straight in the repository, and",
        ),
        (
            &[
                "restore",
                "--file",
                "s3://b/p/x.rdb",
                "--in-cluster",
                "--detach",
            ],
            "--detach without --yes cannot be used with --in-cluster",
        ),
    ];
    for (args, want) in cases {
        let out = cmd(args)
            .env("KUBECONFIG", dir.path().join("none"))
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!local.exists(), "{args:?} wrote {l}");
    }
    // -o json: the refusal as a BackupResult.
    let out = cmd(&["backup", "--in-cluster", "--repo", l, "-o", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kind"], "BackupResult");
    assert_eq!(v["exit_code"], 2);
    // The Job's own flags mean nothing without it.
    let out = cmd(&["backup", "--job-image", "x", "--repo", "s3://b/p"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--in-cluster"), "{err}");
}
