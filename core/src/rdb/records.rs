//! An RDB file cut into records as it streams by: each key with its value's
//! raw bytes (what a `RESTORE` payload is made of) and each function
//! library's, with every byte still checked by the [`Reader`].
//!
//! Memory is bounded by `limit`: a value whose record grows past it is not
//! held; it is handed on in pieces ([`Record::BigStart`], [`Record::BigPart`],
//! [`Record::BigEnd`]) for a caller that can decode it as it streams
//! ([`crate::rdb::values::Decoder`]).

use crate::rdb::reader::{Error, ErrorKind, Event, Key, Options, Reader, Summary};
use crate::rdb::values;

/// One record.
#[derive(Debug, PartialEq)]
pub enum Record<'a> {
    /// The file's header.
    Header(crate::rdb::Header),
    /// A whole key; `value` is the value's bytes after the key name (the
    /// type byte is `key.kind.code`).
    Key { key: Key<'a>, value: &'a [u8] },
    /// A key too big to hold: its name and what preceded it. Its value's
    /// bytes follow in [`Record::BigPart`]s.
    BigStart {
        /// Database.
        db: u64,
        /// Name.
        name: &'a [u8],
        /// Type byte.
        code: u8,
        /// Absolute expiry, Unix ms.
        expire_ms: Option<i64>,
    },
    /// The next bytes of a big key's value.
    BigPart(&'a [u8]),
    /// The big key ended (the reader's view of it).
    BigEnd(Key<'a>),
    /// A function library record: the bytes after the 0xF5 opcode.
    Function(&'a [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    /// Inside a big key's value.
    Big,
}

/// The splitter. Feed it the file in chunks of any size.
#[derive(Debug)]
pub struct Splitter {
    reader: Reader,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    base: u64,
    limit: usize,
    mode: Mode,
    /// A function record whose bytes are not all here yet: (start, end).
    function: Option<(u64, u64)>,
}

impl Splitter {
    /// Values whose record exceeds `limit` bytes are streamed, not held.
    pub fn new(limit: usize) -> Self {
        Splitter {
            reader: Reader::new(Options::default()),
            buf: Vec::new(),
            base: 0,
            limit: limit.max(64),
            mode: Mode::Normal,
            function: None,
        }
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Feeds the next bytes; `sink` sees each record as soon as it is whole.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut dyn FnMut(Record<'_>)) -> Result<(), Error> {
        let Splitter {
            reader,
            buf,
            base,
            mode,
            limit,
            function,
        } = self;
        buf.extend_from_slice(chunk);
        let b: &[u8] = buf;
        let base0 = *base;
        // A function record is emitted once all its bytes are here (the
        // reader reports it when its string begins), before anything after it.
        let emit_function = |f: &mut Option<(u64, u64)>, sink: &mut dyn FnMut(Record<'_>)| {
            if let Some((start, end)) = *f {
                if end <= base0 + b.len() as u64 && start >= base0 {
                    let s = (start - base0) as usize + 1;
                    sink(Record::Function(&b[s..(end - base0) as usize]));
                    *f = None;
                }
            }
        };
        emit_function(function, sink);
        let mut big_done_at: Option<u64> = None;
        let mut fail: Option<Error> = None;
        reader.feed(chunk, &mut |e| match e {
            Event::Header(h) => sink(Record::Header(h)),
            Event::Key(k) if k.offset < base0 => {
                // The end of the big key: the rest of its bytes, then the end.
                let end = k.offset + k.bytes;
                let upto = (end - base0) as usize;
                if upto > 0 {
                    sink(Record::BigPart(&b[..upto]));
                }
                sink(Record::BigEnd(k));
                big_done_at = Some(end);
            }
            Event::Key(k) => {
                let start = (k.offset - base0) as usize;
                let raw = &b[start..start + k.bytes as usize];
                match values::string_size(&raw[1..]) {
                    Ok(Some(n)) if n < raw.len() => sink(Record::Key {
                        key: k,
                        value: &raw[1 + n..],
                    }),
                    _ => {
                        fail.get_or_insert(Error {
                            offset: k.offset,
                            kind: ErrorKind::Corrupt("a key name that cannot be read".into()),
                        });
                    }
                }
            }
            Event::Function { offset, .. } => {
                let start = (offset - base0) as usize;
                match values::string_size(&b[start + 1..]) {
                    Ok(Some(n)) => {
                        *function = Some((offset, offset + 1 + n as u64));
                        emit_function(function, sink);
                    }
                    _ => {
                        fail.get_or_insert(Error {
                            offset,
                            kind: ErrorKind::Corrupt(
                                "a function record that cannot be read".into(),
                            ),
                        });
                    }
                }
            }
            _ => {}
        })?;
        if let Some(e) = fail {
            return Err(e);
        }
        if big_done_at.is_some() {
            *mode = Mode::Normal;
        }
        if *mode == Mode::Big {
            // Every byte held belongs to the big value.
            if !buf.is_empty() {
                sink(Record::BigPart(buf));
            }
            *base += buf.len() as u64;
            buf.clear();
            return Ok(());
        }
        // Keep only the record in progress.
        let keep = reader.record_start().max(*base);
        let drop = (keep - *base) as usize;
        buf.drain(..drop.min(buf.len()));
        *base = keep;
        if buf.len() > *limit {
            if let Some(k) = reader.pending_key() {
                let (db, name, expire_ms) = (k.db, k.name, k.expire_ms);
                let code = buf[0];
                let Ok(Some(n)) = values::string_size(&buf[1..]) else {
                    return Err(Error {
                        offset: *base,
                        kind: ErrorKind::Corrupt("a key name that cannot be read".into()),
                    });
                };
                sink(Record::BigStart {
                    db,
                    name,
                    code,
                    expire_ms,
                });
                if 1 + n < buf.len() {
                    sink(Record::BigPart(&buf[1 + n..]));
                }
                *base += buf.len() as u64;
                buf.clear();
                *mode = Mode::Big;
            }
        }
        Ok(())
    }

    /// Ends the input: the summary if the file was whole.
    pub fn finish(&mut self) -> Result<Summary, Error> {
        self.reader.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(file: &[u8], chunk: usize, limit: usize) -> Vec<String> {
        let mut s = Splitter::new(limit);
        let mut got = Vec::new();
        for c in file.chunks(chunk) {
            s.feed(c, &mut |r| {
                got.push(match r {
                    Record::Header(_) => "header".to_string(),
                    Record::Key { key, value } => format!(
                        "key {} code {} value {}",
                        String::from_utf8_lossy(key.name),
                        key.kind.code,
                        value.len()
                    ),
                    Record::BigStart { name, code, .. } => {
                        format!("big {} code {code}", String::from_utf8_lossy(name))
                    }
                    Record::BigPart(p) => format!("part {}", p.len()),
                    Record::BigEnd(k) => format!("end {}", k.bytes),
                    Record::Function(f) => format!("function {}", f.len()),
                })
            })
            .unwrap();
        }
        s.finish().unwrap();
        got
    }

    fn file(keys: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut f = b"REDIS0009".to_vec();
        f.extend_from_slice(&[0xFE, 0]);
        for (k, v) in keys {
            f.push(0);
            f.push(k.len() as u8);
            f.extend_from_slice(k);
            f.push(0x40 | (v.len() >> 8) as u8);
            f.push(v.len() as u8);
            f.extend_from_slice(v);
        }
        f.push(0xFF);
        let crc = crate::rdb::crc64::checksum(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        f
    }

    #[test]
    fn keys_whole_at_any_chunk_size() {
        let f = file(&[(b"a", &[1u8; 10]), (b"bb", &[2u8; 300])]);
        for chunk in [1, 2, 7, 64, 4096] {
            assert_eq!(
                split(&f, chunk, 1 << 20),
                vec!["header", "key a code 0 value 12", "key bb code 0 value 302"],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn big_values_stream_in_parts() {
        let f = file(&[(b"a", &[1u8; 10]), (b"big", &[2u8; 1000]), (b"c", b"x")]);
        // A chunk holding the whole key gives it whole: memory is bounded by
        // the chunk size plus the limit either way.
        assert!(split(&f, 4096, 100).contains(&"key big code 0 value 1002".to_string()));
        for chunk in [1, 3, 50] {
            let got = split(&f, chunk, 100);
            let parts: usize = got
                .iter()
                .filter_map(|l| l.strip_prefix("part "))
                .map(|n| n.parse::<usize>().unwrap())
                .sum();
            assert_eq!(parts, 1002, "chunk {chunk}: {got:?}");
            assert!(got.contains(&"big big code 0".to_string()), "{got:?}");
            assert_eq!(got.last().unwrap(), "key c code 0 value 3", "{got:?}");
        }
    }
}
