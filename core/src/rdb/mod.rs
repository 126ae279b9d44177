//! The RDB file format, read in one streaming pass with bounded memory.
//!
//! - [`header`] (re-exported here): `REDIS0012` / `VALKEY080`, which server
//!   versions load which RDB versions.
//! - [`reader`]: every opcode, key and value, checked as bytes arrive.
//! - [`packed`]: listpacks, ziplists, intsets and zipmaps inside values.
//! - [`lzf`]: compressed strings. [`crc64`]: the checksum at the end.
//! - [`inspect`]: what a file holds, for `kubectl redis inspect`.
//! - [`records`]: keys with their values' raw bytes, for `RESTORE` payloads;
//!   [`values`]: values decoded into elements, for plain commands.
//! - [`merge`]: several files into one; [`sanitize`]: a copy with keys
//!   dropped, masked or given expiries by rules ([`glob`] patterns).
pub mod crc64;
pub mod glob;
pub mod header;
pub mod inspect;
pub mod lzf;
pub mod merge;
pub mod packed;
pub mod reader;
pub mod records;
pub mod sanitize;
pub mod values;

pub use header::*;
