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
