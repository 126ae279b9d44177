//! The streaming RDB reader against files written by real servers (Redis
//! 6.2.14, 7.0.15, 8.2.3 and Valkey 9.1.2, filled with every data type by
//! `tests/fill` logic), fed whole and in every chunk size; and against
//! damaged copies of them: truncated at every byte, bit-flipped, with
//! trailing garbage.

use kubectl_redis_core::rdb::inspect::{render, Inspector, Options as InspectOptions, Report};
use kubectl_redis_core::rdb::reader::{
    read_all, Error, ErrorKind, Event, Options, Reader, Summary,
};

/// Counts the bytes this thread allocates, so that a test can measure what
/// one call allocated (other tests run on other threads).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATED: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counting;

    // SAFETY: every call is passed to the system allocator unchanged; the
    // counter is a thread-local Cell that never allocates.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(l.size())));
            // SAFETY: the caller's layout, as GlobalAlloc requires.
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            // SAFETY: `p` came from `alloc` above with this layout.
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(new)));
            // SAFETY: as for `alloc` and `dealloc`.
            unsafe { System.realloc(p, l, new) }
        }
    }

    /// Bytes allocated by this thread so far.
    pub fn allocated() -> usize {
        ALLOCATED.with(Cell::get)
    }
}

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

const FIXTURES: &[(&str, &[u8])] = &[
    ("6.2", include_bytes!("fixtures/all-types-6.2.rdb")),
    ("7.0", include_bytes!("fixtures/all-types-7.0.rdb")),
    ("8.2", include_bytes!("fixtures/all-types-8.2.rdb")),
    (
        "valkey-9.1",
        include_bytes!("fixtures/all-types-valkey-9.1.rdb"),
    ),
];

/// Every event as a line of text, for comparing runs.
fn trace(e: &Event<'_>) -> String {
    match e {
        Event::Key(k) => format!(
            "key db{} {:?} {}/{} el={} bytes={} exp={} at={}",
            k.db,
            String::from_utf8_lossy(k.name),
            k.kind.ty,
            k.kind.encoding,
            k.elements,
            k.bytes,
            k.expire_ms.is_some(),
            k.offset
        ),
        Event::Aux { key, value } => format!(
            "aux {}={}",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(value)
        ),
        other => format!("{other:?}"),
    }
}

fn read_chunked(bytes: &[u8], chunk: usize) -> (Vec<String>, Result<Summary, Error>) {
    let mut r = Reader::new(Options::default());
    let mut out = Vec::new();
    for c in bytes.chunks(chunk.max(1)) {
        if let Err(e) = r.feed(c, &mut |e| out.push(trace(&e))) {
            return (out, Err(e));
        }
    }
    let s = r.finish();
    (out, s)
}

fn inspect(bytes: &[u8]) -> Report {
    let mut i = Inspector::new(InspectOptions {
        top: 5,
        prefix_sep: Some(":".into()),
    });
    let s = read_all(bytes, &mut |e| i.on(&e)).expect("fixture reads");
    i.report(&s)
}

#[test]
fn real_files_read_and_match_the_servers_key_counts() {
    // DBSIZE summed over db0 and db2 as the fill script left them.
    let want = [("6.2", 16), ("7.0", 16), ("8.2", 18), ("valkey-9.1", 18)];
    for ((name, bytes), (_, keys)) in FIXTURES.iter().zip(want) {
        let s = read_all(bytes, &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.keys(), keys, "{name}");
        assert!(s.checksum.is_verified(), "{name}: {:?}", s.checksum);
        assert_eq!(s.bytes, bytes.len() as u64);
        assert_eq!(s.unchecked, 0);
    }
}

#[test]
fn inspect_reports() {
    for (name, bytes) in FIXTURES {
        let r = inspect(bytes);
        insta::assert_json_snapshot!(format!("inspect-{name}"), r, {
            ".created_unix" => "[ctime]",
            ".used_mem" => "[used-mem]",
            ".aux" => "[aux]",
            ".biggest[].expire_ms" => "[expiry]",
        });
    }
    let r = inspect(FIXTURES[1].1);
    let text = render(&r, r.created_unix.unwrap_or(0) + 90);
    let text = text
        .lines()
        .filter(|l| !l.starts_with("created") && !l.starts_with("used mem"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("inspect-7.0-text", text);
}

#[test]
fn every_chunk_size_gives_the_same_events() {
    for (name, bytes) in FIXTURES {
        let (whole, s) = read_chunked(bytes, bytes.len());
        let s = s.expect("whole");
        for chunk in [1, 2, 3, 5, 7, 16, 100, 1000, 4096] {
            let (events, s2) = read_chunked(bytes, chunk);
            assert_eq!(events, whole, "{name} in chunks of {chunk}");
            assert_eq!(s2.expect("chunked"), s, "{name} in chunks of {chunk}");
        }
    }
}

#[test]
fn a_truncated_file_is_an_error_at_every_length() {
    for (name, bytes) in FIXTURES {
        for n in (0..bytes.len()).step_by(3) {
            let (_, r) = read_chunked(&bytes[..n], 64);
            let e = r.expect_err("truncated file must fail");
            assert!(
                matches!(e.kind, ErrorKind::Truncated(_) | ErrorKind::Header(_)),
                "{name} cut at {n}: {e}"
            );
            assert!(
                e.offset <= n as u64,
                "{name} cut at {n}: offset {}",
                e.offset
            );
        }
    }
}

#[test]
fn every_flipped_byte_is_caught() {
    // Flip one bit at each of a spread of offsets: the structure check or
    // the CRC must catch every one. Never a panic.
    for (name, bytes) in FIXTURES {
        for at in (0..bytes.len()).step_by(11) {
            let mut b = bytes.to_vec();
            b[at] ^= 0x10;
            let (_, r) = read_chunked(&b, 512);
            assert!(r.is_err(), "{name}: flipping byte {at} went unnoticed");
        }
    }
}

#[test]
fn trailing_bytes_and_errors_stick() {
    let bytes = FIXTURES[1].1;
    let mut b = bytes.to_vec();
    b.extend_from_slice(b"\0\0\0");
    let e = read_all(&b, &mut |_| {}).expect_err("trailing");
    assert_eq!(e.kind, ErrorKind::Trailing(3));
    assert_eq!(e.offset, bytes.len() as u64);
    assert_eq!(
        e.to_string(),
        format!(
            "3 unexpected bytes after the end of the RDB data at byte {}",
            bytes.len()
        )
    );
}

#[test]
fn checksum_mismatch_names_both_values() {
    let bytes = FIXTURES[0].1;
    let mut b = bytes.to_vec();
    let n = b.len();
    b[n - 1] ^= 0xFF;
    let e = read_all(&b, &mut |_| {}).expect_err("bad crc");
    assert!(matches!(e.kind, ErrorKind::Checksum { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("checksum mismatch: the file says "),
        "{e}"
    );
}

#[test]
fn too_new_and_not_rdb() {
    let e = read_all(b"REDIS0099\xff", &mut |_| {}).expect_err("too new");
    assert_eq!(
        e.to_string(),
        "this file is Redis RDB version 99, newer than supported (up to 13); upgrade kubectl-redis"
    );
    let e = read_all(b"VALKEY099\xff", &mut |_| {}).expect_err("too new");
    assert!(e.to_string().contains("Valkey RDB version 99"), "{e}");
    let e = read_all(b"PK\x03\x04zip", &mut |_| {}).expect_err("not rdb");
    assert!(e.to_string().starts_with("not an RDB file"), "{e}");
    let e = read_all(b"", &mut |_| {}).expect_err("empty");
    assert_eq!(e.to_string(), "the file is empty");
}

#[test]
fn checksum_disabled_and_old_versions() {
    // A hand-made version-9 file with one key and a zero checksum
    // (rdbchecksum no), and a version-4 file with no checksum at all.
    let mut v9 = b"REDIS0009".to_vec();
    v9.extend_from_slice(&[0xFE, 0, 0, 1, b'k', 1, b'v', 0xFF]);
    v9.extend_from_slice(&[0; 8]);
    let s = read_all(&v9, &mut |_| {}).expect("v9");
    assert_eq!(s.keys(), 1);
    assert_eq!(
        s.checksum,
        kubectl_redis_core::rdb::reader::Checksum::Disabled
    );
    let mut v4 = b"REDIS0004".to_vec();
    v4.extend_from_slice(&[0xFE, 0, 0, 1, b'k', 0xC0, 7, 0xFF]);
    let s = read_all(&v4, &mut |_| {}).expect("v4");
    assert_eq!(
        s.checksum,
        kubectl_redis_core::rdb::reader::Checksum::Absent
    );
}

#[test]
fn a_huge_declared_length_allocates_nothing() {
    // A key claiming 2^62 bytes: the reader waits for data, never allocates.
    let mut b = b"REDIS0010".to_vec();
    b.extend_from_slice(&[0, 0x81, 0x40, 0, 0, 0, 0, 0, 0, 0]);
    let before = counting::allocated();
    let e = read_all(&b, &mut |_| {}).expect_err("truncated");
    let used = counting::allocated() - before;
    assert!(matches!(e.kind, ErrorKind::Truncated(_)), "{e}");
    // The reader's own buffers only: far below the declared length.
    assert!(used < 256 * 1024, "allocated {used} bytes");
    // The counter does see allocations (the bound above could fail).
    let before = counting::allocated();
    let v = std::hint::black_box(vec![0u8; 300 * 1024]);
    assert!(counting::allocated() - before >= v.len());
}

/// A small file as server version `v` writes it: aux fields (7+), a
/// database with RESIZEDB (7+), a string, an integer-encoded string with an
/// expiry (in milliseconds from 3 on, seconds before), and the CRC-64 (5+).
fn constructed(magic: &str, v: u32) -> Vec<u8> {
    let mut b = format!(
        "{magic}{v:0width$}",
        width = if magic == "REDIS" { 4 } else { 3 }
    )
    .into_bytes();
    if v >= 7 {
        b.extend_from_slice(&[0xFA, 9]);
        b.extend_from_slice(b"redis-ver");
        b.extend_from_slice(&[5]);
        b.extend_from_slice(b"7.0.0");
    }
    b.extend_from_slice(&[0xFE, 0]);
    if v >= 7 {
        b.extend_from_slice(&[0xFB, 2, 1]);
    }
    // "k" = "v"
    b.extend_from_slice(&[0, 1, b'k', 1, b'v']);
    // "n" = 42 (int-encoded), expiring
    if v >= 3 {
        b.push(0xFC);
        b.extend_from_slice(&4_102_444_800_000u64.to_le_bytes());
    } else {
        b.push(0xFD);
        b.extend_from_slice(&4_102_444_800u32.to_le_bytes());
    }
    b.extend_from_slice(&[0, 1, b'n', 0xC0, 42]);
    b.push(0xFF);
    if v >= 5 {
        let crc = kubectl_redis_core::rdb::crc64::checksum(&b);
        b.extend_from_slice(&crc.to_le_bytes());
    }
    b
}

/// Every RDB version the README claims is read: Redis 1 to 13 and Valkey
/// 80 and 81 (the real-server fixtures above cover 9, 10, 12 and 80; these
/// are built by the rules each version follows), each with its checksum
/// rule; the next versions are refused by name.
#[test]
fn every_claimed_version_is_read() {
    let versions = (1..=13)
        .map(|v| ("REDIS", v))
        .chain([("VALKEY", 80), ("VALKEY", 81)]);
    for (magic, v) in versions {
        let f = constructed(magic, v);
        for chunk in [1, 3, f.len()] {
            let mut r = Reader::new(Options::default());
            let mut res = Ok(());
            for c in f.chunks(chunk) {
                res = r.feed(c, &mut |_| {});
                if res.is_err() {
                    break;
                }
            }
            let s = res
                .and_then(|()| r.finish())
                .unwrap_or_else(|e| panic!("{magic} {v} in chunks of {chunk}: {e}"));
            assert_eq!(s.header.version, v);
            assert_eq!(s.keys(), 2, "{magic} {v}");
            assert_eq!(s.dbs[&0].expires, 1, "{magic} {v}");
            assert_eq!(
                s.checksum.is_verified(),
                v >= 5,
                "{magic} {v}: {:?}",
                s.checksum
            );
        }
        if v >= 5 {
            // The CRC is really checked: one flipped bit in the value.
            let mut bad = f.clone();
            let at = bad.len() - 12;
            bad[at] ^= 1;
            assert!(read_all(&bad, &mut |_| {}).is_err(), "{magic} {v}");
        }
    }
    for (magic, v) in [("REDIS", 14), ("VALKEY", 82)] {
        let e = read_all(&constructed(magic, v), &mut |_| {}).expect_err("too new");
        assert!(
            e.to_string().contains("newer than supported"),
            "{magic} {v}: {e}"
        );
    }
}

/// Found by `scripts/fuzz.sh` (CI, 2026-12-05): two RESIZEDB hints each
/// claiming u64::MAX keys overflowed the inspector's sum. Claimed counts
/// saturate; the file is still read (and its real keys counted).
#[test]
fn huge_resizedb_claims_do_not_overflow() {
    let mut f = b"REDIS0011".to_vec();
    for _ in 0..2 {
        f.extend_from_slice(&[0xFB, 0x81]);
        f.extend_from_slice(&u64::MAX.to_be_bytes());
        f.push(0x00);
    }
    f.push(0xFF);
    f.extend_from_slice(&[0; 8]);
    let mut i = Inspector::new(InspectOptions::default());
    let s = read_all(&f, &mut |e| i.on(&e)).expect("a file of hints only reads");
    let r = i.report(&s);
    assert_eq!(r.dbs[0].announced_keys, Some(u64::MAX));
}
