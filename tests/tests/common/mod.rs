//! Helpers shared by the end-to-end test binaries.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The plugin binary built beside this test (`cargo build --workspace --bins`).
pub fn bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let b = dir.join("kubectl-redis");
    assert!(
        b.exists(),
        "{} missing: run `cargo build --workspace --bins` first",
        b.display()
    );
    b
}

/// Polls `f` every 100 ms until it holds; fails the test after `secs`,
/// naming `what`.
#[allow(dead_code)] // not every test binary waits
pub fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A new age identity file in `dir` and its public key (Debian's age-keygen).
#[allow(dead_code)] // not every test binary encrypts
pub fn age_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let p = dir.join(name);
    let st = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&p)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("age-keygen");
    assert!(st.success());
    let out = std::process::Command::new("age-keygen")
        .arg("-y")
        .arg(&p)
        .output()
        .expect("age-keygen -y");
    (p, String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A small PKI made with the openssl command line (X.509 v3, EC keys):
/// `ca.crt`, a server pair `server.{crt,key}` for `127.0.0.1`, `localhost`
/// and `names` (both server and client use, as Helm's genSignedCert and
/// many cert-manager Issuers make them), a client pair `client.{crt,key}`
/// from the same CA, and a CA of its own with a pair it signed
/// (`other-ca.crt`, `other.{crt,key}`). Keys are mode 0600.
#[allow(dead_code)]
pub fn pki(dir: &Path, names: &[&str]) {
    let run = |args: &[&str]| openssl(dir, args);
    let ca = |name: &str, cn: &str| {
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "30",
            "-subj",
            &format!("/CN={cn}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    };
    let leaf = |name: &str, ca: &str, cn: &str, sans: &str, eku: &str| {
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={cn}"),
        ]);
        let ext = format!("{name}.ext");
        let mut text = format!("basicConstraints=CA:FALSE\nextendedKeyUsage={eku}\n");
        if !sans.is_empty() {
            text.push_str(&format!("subjectAltName={sans}\n"));
        }
        std::fs::write(dir.join(&ext), text).expect("write ext");
        run(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "30",
            "-extfile",
            &ext,
        ]);
    };
    ca("ca", "kubectl-redis test CA");
    ca("other-ca", "another CA");
    let mut sans = vec!["IP:127.0.0.1".to_string(), "DNS:localhost".to_string()];
    sans.extend(names.iter().map(|n| format!("DNS:{n}")));
    leaf(
        "server",
        "ca",
        "redis",
        &sans.join(","),
        "serverAuth,clientAuth",
    );
    leaf("client", "ca", "backup-client", "", "clientAuth");
    leaf("other", "other-ca", "stranger", "", "clientAuth");
    for k in ["ca", "other-ca", "server", "client", "other"] {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(format!("{k}.key"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

/// In a [`pki`] directory, a server pair `expired.{crt,key}` for
/// `127.0.0.1` signed by its CA and valid only on 2020-01-01 (`openssl ca`
/// takes explicit dates; `x509 -req` does not).
#[allow(dead_code)]
pub fn expired_pair(dir: &Path) {
    let run = |args: &[&str]| openssl(dir, args);
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n[ext]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ca.cnf");
    std::fs::write(dir.join("index.txt"), "").expect("index");
    std::fs::write(dir.join("serial"), "1000\n").expect("serial");
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "expired.key",
        "-out",
        "expired.csr",
        "-subj",
        "/CN=expired",
    ]);
    run(&[
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.crt",
        "-keyfile",
        "ca.key",
        "-in",
        "expired.csr",
        "-out",
        "expired.crt",
        "-startdate",
        "20200101000000Z",
        "-enddate",
        "20200102000000Z",
        "-extensions",
        "ext",
        "-notext",
    ]);
}

/// Runs the openssl command line in `dir`; its error output on failure.
#[allow(dead_code)]
fn openssl(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (scripts/cluster.sh deps installs it)");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
