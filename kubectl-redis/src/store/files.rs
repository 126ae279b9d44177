//! Local files: temporary files that appear whole under their final name or
//! not at all (create 0600 + fsync + no-replace link + fsync of the directory).

use kubectl_redis_core::backup::CommitError;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Creates `dir` (0700, with parents) if missing, then a new empty file in it
/// named `prefix` + a random suffix, mode 0600. Never reuses a name.
pub fn create_temp(dir: &str, prefix: &str) -> io::Result<(String, File)> {
    if !Path::new(dir).is_dir() {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    for _ in 0..100 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let suffix = format!("{:x}{:x}{n}", std::process::id(), nanos);
        let path = kubectl_redis_core::backup::join(dir, &format!("{prefix}{suffix}"));
        let mut o = OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        match o.open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("could not find a free temporary name"))
}

/// fsyncs `temp`, gives it the name `dest` unless that name exists, removes
/// the temporary name and fsyncs the directory.
pub fn commit(temp: &str, dest: &str) -> Result<(), CommitError> {
    let failed = |what: &str, e: io::Error| CommitError::Failed(format!("{what}: {e}"));
    File::open(temp)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed("fsync", e))?;
    match fs::hard_link(temp, dest) {
        Ok(()) => {
            fs::remove_file(temp).map_err(|e| failed("removing the temporary name", e))?;
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(CommitError::Exists),
        // File systems without hard links: check, then rename (a window
        // remains only against another writer choosing the same second).
        Err(_) => {
            if Path::new(dest).exists() {
                return Err(CommitError::Exists);
            }
            fs::rename(temp, dest).map_err(|e| failed("rename", e))?;
        }
    }
    if let Some(parent) = Path::new(dest).parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        // Directories cannot be opened for fsync on every platform.
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Removes a temporary file; best effort.
pub fn discard(path: &str) {
    let _ = fs::remove_file(path);
}

/// Writes `bytes` to `path` whole or not at all: a 0600 temporary file in the
/// same directory, fsync, rename over `path`, fsync of the directory.
pub fn write_whole(path: &str, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let p = Path::new(path);
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_string_lossy().into_owned(),
        _ => ".".to_string(),
    };
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (temp, mut f) = create_temp(&dir, &format!(".{name}."))?;
    let r = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| fs::rename(&temp, path));
    if r.is_err() {
        discard(&temp);
    }
    r?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes the manifest `dest.json` whole or not at all.
pub fn write_manifest(
    dest: &str,
    m: &kubectl_redis_core::store::manifest::Manifest,
) -> Result<(), String> {
    let path = format!("{dest}.json");
    let mut b = serde_json::to_vec_pretty(m).map_err(|e| format!("{path}: {e}"))?;
    b.push(b'\n');
    write_whole(&path, &b).map_err(|e| format!("{path}: {e}"))
}
