//! The krew manifest `scripts/release.sh render` makes from the template in
//! krew-manifest/ is what krew-index accepts: the v1alpha2 Plugin, the five
//! platforms with their archive's URI and sha256, both executables, and
//! caveats that explain the completion helper.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const PLATFORMS: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn rendered_manifest_is_valid_for_krew_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sums = Vec::new();
    for (os, arch) in PLATFORMS {
        let ext = if os == "windows" { "zip" } else { "tar.gz" };
        let name = format!("kubectl-redis_1.2.3_{os}_{arch}.{ext}");
        let body = format!("archive for {os}/{arch}");
        std::fs::write(dir.path().join(&name), &body).expect("write");
        let sum: String = Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        sums.push((os, arch, name, sum));
    }
    let out = Command::new(repo().join("scripts/release.sh"))
        .args([
            "render",
            "1.2.3",
            dir.path().to_str().expect("utf8"),
            "https://example.test/v1.2.3",
        ])
        .output()
        .expect("release.sh render");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).expect("valid YAML");
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(m["metadata"]["name"], "redis");
    let spec = &m["spec"];
    assert_eq!(spec["version"], "v1.2.3");
    assert!(spec["homepage"]
        .as_str()
        .is_some_and(|h| h.starts_with("https://")));
    let short = spec["shortDescription"].as_str().expect("shortDescription");
    assert!(
        !short.is_empty() && short.len() <= 60,
        "krew-index keeps it short: {short}"
    );
    let caveats = spec["caveats"].as_str().expect("caveats");
    assert!(
        caveats.contains("kubectl_complete-redis") && caveats.contains("v1.2.3"),
        "{caveats}"
    );
    assert!(
        !serde_yaml::to_string(&m).expect("yaml").contains("{{"),
        "no placeholder left"
    );
    let platforms = spec["platforms"].as_sequence().expect("platforms");
    assert_eq!(platforms.len(), 5);
    for ((os, arch, name, sum), p) in sums.iter().zip(platforms) {
        assert_eq!(p["selector"]["matchLabels"]["os"], *os);
        assert_eq!(p["selector"]["matchLabels"]["arch"], *arch);
        assert_eq!(
            p["uri"],
            format!("https://example.test/v1.2.3/{name}").as_str()
        );
        assert_eq!(p["sha256"], sum.as_str());
        let exe = if *os == "windows" { ".exe" } else { "" };
        assert_eq!(p["bin"], format!("kubectl-redis{exe}").as_str());
        let from: Vec<&str> = p["files"]
            .as_sequence()
            .expect("files")
            .iter()
            .filter_map(|f| f["from"].as_str())
            .collect();
        assert_eq!(
            from,
            [
                format!("kubectl-redis{exe}").as_str(),
                &format!("kubectl_complete-redis{exe}"),
                "LICENSE"
            ]
        );
    }

    // A missing archive is refused, not rendered with a hole.
    std::fs::remove_file(dir.path().join(&sums[2].2)).expect("rm");
    let out = Command::new(repo().join("scripts/release.sh"))
        .args(["render", "1.2.3", dir.path().to_str().expect("utf8")])
        .output()
        .expect("release.sh render");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
