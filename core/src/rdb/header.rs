//! The RDB file header: `REDIS` + 4 ASCII digits, or Valkey's `VALKEY` + 3.

use serde::Serialize;

/// Bytes needed to check a header (both forms are 9 bytes long).
pub const HEADER_LEN: usize = 9;

/// Which server family wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// `REDIS0012`
    Redis,
    /// `VALKEY080`
    Valkey,
}

/// A valid header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Header {
    /// Redis or Valkey.
    pub flavor: Flavor,
    /// The RDB format version (e.g. 10 for Redis 7.0, 80 for Valkey 9.0).
    pub version: u32,
}

/// Why bytes are not the start of an RDB file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// No bytes at all.
    Empty,
    /// Fewer than [`HEADER_LEN`] bytes.
    TooShort(usize),
    /// Neither `REDIS` nor `VALKEY` at the start; holds the bytes, escaped.
    BadMagic(String),
    /// The magic is right but the version digits are not digits.
    BadVersion(String),
}

impl core::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HeaderError::Empty => write!(f, "the file is empty"),
            HeaderError::TooShort(n) => {
                write!(f, "the file is {n} bytes long, shorter than an RDB header ({HEADER_LEN} bytes)")
            }
            HeaderError::BadMagic(found) => write!(
                f,
                "not an RDB file: it starts with \"{found}\", expected \"REDIS\" or \"VALKEY\" followed by a version"
            ),
            HeaderError::BadVersion(found) => {
                write!(f, "not an RDB file: bad version digits \"{found}\" after the magic")
            }
        }
    }
}

/// Checks the first bytes of a file (at least [`HEADER_LEN`] when available).
pub fn parse_header(bytes: &[u8]) -> Result<Header, HeaderError> {
    if bytes.is_empty() {
        return Err(HeaderError::Empty);
    }
    let (flavor, magic_len, digits) = if bytes.starts_with(b"REDIS") {
        (Flavor::Redis, 5, 4)
    } else if bytes.starts_with(b"VALKEY") {
        (Flavor::Valkey, 6, 3)
    } else {
        let n = bytes.len().min(HEADER_LEN);
        return Err(HeaderError::BadMagic(escape(&bytes[..n])));
    };
    if bytes.len() < magic_len + digits {
        return Err(HeaderError::TooShort(bytes.len()));
    }
    let v = &bytes[magic_len..magic_len + digits];
    if !v.iter().all(u8::is_ascii_digit) {
        return Err(HeaderError::BadVersion(escape(v)));
    }
    let version = v.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    Ok(Header { flavor, version })
}

/// Printable ASCII as is, everything else as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// What the start of an RDB file says, read without parsing any key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Prelude {
    /// `redis-ver` aux field: the version of the server that wrote the file.
    pub redis_ver: Option<String>,
    /// `ctime` aux field: when the file was written (Unix seconds).
    pub ctime: Option<i64>,
    /// The first database's RESIZEDB hint: its key count when the file was
    /// written.
    pub first_db: Option<DbSize>,
    /// The file holds no key at all (EOF right after the aux fields).
    pub empty: bool,
    /// Whether the scan reached a conclusion (a RESIZEDB, a key, or EOF)
    /// within the bytes given.
    pub complete: bool,
}

/// A database's size from its RESIZEDB hint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DbSize {
    /// Database number.
    pub db: u64,
    /// Keys.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
}

/// Reads the aux fields and the first SELECTDB/RESIZEDB after the header.
/// Needs only the first few kilobytes; stops at the first key. Returns what
/// it found; an odd byte stops the scan without an error (the full check is
/// the RDB reader's job).
pub fn scan_prelude(bytes: &[u8]) -> Prelude {
    let mut p = Prelude::default();
    if parse_header(bytes).is_err() {
        return p;
    }
    let mut r = Cursor {
        b: bytes,
        at: HEADER_LEN,
    };
    let mut db = 0u64;
    loop {
        let Some(op) = r.byte() else { return p };
        match op {
            0xFA => {
                let (Some(k), Some(v)) = (r.string(), r.string()) else {
                    return p;
                };
                match k.as_slice() {
                    b"redis-ver" | b"valkey-ver" => {
                        p.redis_ver = String::from_utf8(v).ok();
                    }
                    b"ctime" => {
                        p.ctime = core::str::from_utf8(&v).ok().and_then(|s| s.parse().ok());
                    }
                    _ => {}
                }
            }
            0xFE => {
                let Some(n) = r.length() else { return p };
                db = n;
            }
            0xFB => {
                let (Some(keys), Some(expires)) = (r.length(), r.length()) else {
                    return p;
                };
                p.first_db = Some(DbSize { db, keys, expires });
                p.complete = true;
                return p;
            }
            0xFF => {
                p.empty = true;
                p.complete = true;
                return p;
            }
            // Functions (0xF5, 0xF6) are strings before the first database.
            0xF5 | 0xF6 => {
                if r.string().is_none() {
                    return p;
                }
            }
            // A key with no RESIZEDB before it (or a module aux field):
            // the count is unknown without reading everything.
            _ => {
                p.complete = true;
                return p;
            }
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    /// A length; special encodings are returned as `Err(kind)` by
    /// [`Cursor::length_or_special`].
    fn length(&mut self) -> Option<u64> {
        self.length_or_special()?.ok()
    }

    fn length_or_special(&mut self) -> Option<Result<u64, u8>> {
        let first = self.byte()?;
        Some(match first >> 6 {
            0 => Ok(u64::from(first & 0x3f)),
            1 => Ok((u64::from(first & 0x3f) << 8) | u64::from(self.byte()?)),
            2 => match first {
                0x80 => {
                    let s = self.take(4)?;
                    Ok(u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])))
                }
                0x81 => {
                    let s = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    Ok(u64::from_be_bytes(a))
                }
                _ => return None,
            },
            _ => Err(first & 0x3f),
        })
    }

    /// A string; integers come back as their decimal text, LZF strings are
    /// skipped and come back empty (no aux field we read is compressed).
    fn string(&mut self) -> Option<Vec<u8>> {
        match self.length_or_special()? {
            Ok(n) => Some(self.take(usize::try_from(n).ok()?)?.to_vec()),
            Err(0) => Some((self.byte()? as i8).to_string().into_bytes()),
            Err(1) => {
                let s = self.take(2)?;
                Some(i16::from_le_bytes([s[0], s[1]]).to_string().into_bytes())
            }
            Err(2) => {
                let s = self.take(4)?;
                Some(
                    i32::from_le_bytes([s[0], s[1], s[2], s[3]])
                        .to_string()
                        .into_bytes(),
                )
            }
            Err(3) => {
                let clen = self.length()?;
                let _len = self.length()?;
                self.take(usize::try_from(clen).ok()?)?;
                Some(Vec::new())
            }
            Err(_) => None,
        }
    }
}

/// A server's version as `INFO server` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Server {
    /// Redis or Valkey.
    pub flavor: Flavor,
    /// `major.minor.patch`
    pub version: (u32, u32, u32),
}

impl Server {
    /// From `INFO server` fields: `valkey_version` if present (Valkey 8+,
    /// which also reports a compatible `redis_version`), else `redis_version`
    /// (plus `server_name:valkey` on Valkey 7.2).
    pub fn from_info(fields: &std::collections::BTreeMap<String, String>) -> Option<Server> {
        let parse = |s: &str| -> Option<(u32, u32, u32)> {
            let mut it = s.trim().split('.').map(|p| p.parse::<u32>().ok());
            Some((
                it.next()??,
                it.next().flatten().unwrap_or(0),
                it.next().flatten().unwrap_or(0),
            ))
        };
        if let Some(v) = fields.get("valkey_version") {
            return Some(Server {
                flavor: Flavor::Valkey,
                version: parse(v)?,
            });
        }
        let v = parse(fields.get("redis_version")?)?;
        let flavor = if fields.get("server_name").map(|s| s.trim()) == Some("valkey") {
            Flavor::Valkey
        } else {
            Flavor::Redis
        };
        Some(Server { flavor, version: v })
    }

    /// The newest RDB version this server loads.
    pub fn max_rdb_version(&self) -> u32 {
        let (ma, mi, _) = self.version;
        match self.flavor {
            Flavor::Valkey if ma >= 9 => 80 + (mi / 2).min(1),
            Flavor::Valkey => 11,
            Flavor::Redis => match (ma, mi) {
                (0..=2, _) => 6,
                (3, 0..=1) => 6,
                (3, _) => 7,
                (4, _) => 8,
                (5..=6, _) => 9,
                (7, 0..=1) => 10,
                (7, 2..=3) => 11,
                (7, _) | (8, 0..=5) => 12,
                _ => 13,
            },
        }
    }

    /// Whether this server can load a file with `header`; the error says why not.
    pub fn can_load(&self, header: &Header) -> Result<(), String> {
        let (ma, mi, pa) = self.version;
        let name = match self.flavor {
            Flavor::Redis => "Redis",
            Flavor::Valkey => "Valkey",
        };
        if header.flavor == Flavor::Valkey && self.flavor == Flavor::Redis {
            return Err(format!(
                "the backup was written by Valkey (VALKEY{:03}); Redis {ma}.{mi}.{pa} cannot load it",
                header.version
            ));
        }
        // Valkey refuses Redis's 12-79 (its own numbers start at 80).
        let refused = self.flavor == Flavor::Valkey
            && header.flavor == Flavor::Redis
            && header.version >= 12
            && header.version < 80;
        if refused || header.version > self.max_rdb_version() {
            return Err(format!(
                "the backup is RDB version {}, newer than {name} {ma}.{mi}.{pa} can load (up to {})",
                header.version,
                self.max_rdb_version()
            ));
        }
        Ok(())
    }
}
