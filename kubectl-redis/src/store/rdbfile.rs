//! Reading a local RDB file through the core's reader, with its SHA-256,
//! in 1 MiB chunks (memory stays flat whatever the file's size).

use kubectl_redis_core::rdb::reader::{self, Event, Options, Reader, Summary};
use kubectl_redis_core::store::manifest::{self, Manifest};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// A file as read.
pub struct Checked {
    /// Bytes read.
    pub size: u64,
    /// SHA-256, hex, when asked for.
    pub sha256: Option<String>,
    /// The reader's verdict.
    pub result: Result<Summary, reader::Error>,
}

/// Why a file could not be read at all (as opposed to being corrupt).
pub type IoError = String;

/// Reads `path` whole; `sink` sees every event. `hash`: also compute its SHA-256.
pub fn check(path: &Path, hash: bool, sink: &mut dyn FnMut(Event<'_>)) -> Result<Checked, IoError> {
    let md = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !md.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let mut f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut check = Inline::new(hash);
    let size = each_chunk(&mut f, &mut |c| {
        check.feed_with(c, sink);
        Ok(())
    })
    .map_err(|e| match e {
        ChunkError::Read(e) => format!("reading {}: {e}", path.display()),
        ChunkError::Stop(m) => m,
    })?;
    let (sha256, result) = check.finish();
    Ok(Checked {
        size,
        sha256,
        result,
    })
}

/// Why [`each_chunk`] stopped early.
pub enum ChunkError {
    /// Reading failed.
    Read(std::io::Error),
    /// The callback said to stop, and why.
    Stop(String),
}

/// Reads `r` to its end in 1 MiB chunks, handing each to `f`; the bytes read.
pub fn each_chunk(
    r: &mut dyn Read,
    f: &mut dyn FnMut(&[u8]) -> Result<(), String>,
) -> Result<u64, ChunkError> {
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(size),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ChunkError::Read(e)),
        };
        size += n as u64;
        f(&buf[..n]).map_err(ChunkError::Stop)?;
    }
}

/// Checks bytes as they stream by (a copy, a download): SHA-256 and the
/// reader, fed the same chunks that are written to disk.
pub struct Inline {
    reader: Reader,
    sha: Option<Sha256>,
    failed: Option<reader::Error>,
}

impl Inline {
    /// `hash`: also compute the SHA-256 of the bytes.
    pub fn new(hash: bool) -> Self {
        Inline {
            reader: Reader::new(Options::default()),
            sha: hash.then(Sha256::new),
            failed: None,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.feed_with(chunk, &mut |_| {});
    }

    /// [`Inline::feed`], with `sink` seeing the reader's events.
    pub fn feed_with(&mut self, chunk: &[u8], sink: &mut dyn FnMut(Event<'_>)) {
        if let Some(h) = &mut self.sha {
            h.update(chunk);
        }
        if self.failed.is_none() {
            if let Err(e) = self.reader.feed(chunk, sink) {
                self.failed = Some(e);
            }
        }
    }

    /// The SHA-256 (when asked for) and the reader's verdict.
    pub fn finish(mut self) -> (Option<String>, Result<Summary, reader::Error>) {
        let v = match self.failed {
            Some(e) => Err(e),
            None => self.reader.finish(),
        };
        (self.sha.map(|h| hex(&h.finalize())), v)
    }
}

/// The manifest next to `path`, if there is one: `Ok(None)` when absent,
/// `Err` when present but unreadable.
pub fn manifest_for(path: &Path) -> Result<Option<Manifest>, String> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let mp = path.with_file_name(manifest::name_for(name));
    match std::fs::read(&mp) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| format!("{} is not a valid manifest: {e}", mp.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", mp.display())),
    }
}

pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}
