//! Sanitized copies of files written by real servers (Redis 6.2.14, 7.0.15,
//! 8.2.3, Valkey 9.1.2, every type and encoding): each rule's effect checked
//! key by key against the input, with values held whole and streamed in
//! pieces (a 16-byte limit makes every value "big").

use kubectl_redis_core::rdb::reader::{read_all, Checksum};
use kubectl_redis_core::rdb::records::{Record, Splitter};
use kubectl_redis_core::rdb::sanitize::{self, Error, Format, Masker, Report, Sanitizer};
use kubectl_redis_core::rdb::values::{Decoder, Item};
use kubectl_redis_core::rdb::Flavor;
use std::collections::BTreeMap;

const FIXTURES: &[(&str, &[u8])] = &[
    ("6.2", include_bytes!("fixtures/all-types-6.2.rdb")),
    ("7.0", include_bytes!("fixtures/all-types-7.0.rdb")),
    ("8.2", include_bytes!("fixtures/all-types-8.2.rdb")),
    (
        "valkey-9.1",
        include_bytes!("fixtures/all-types-valkey-9.1.rdb"),
    ),
];

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";
const NOW_MS: i64 = 1_800_000_000_000;

/// One key as a file holds it.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    code: u8,
    value: Vec<u8>,
    expire_ms: Option<i64>,
}

fn flavor(bytes: &[u8]) -> Flavor {
    if bytes.starts_with(b"VALKEY") {
        Flavor::Valkey
    } else {
        Flavor::Redis
    }
}

fn keys(bytes: &[u8]) -> BTreeMap<(u64, Vec<u8>), Held> {
    let mut out = BTreeMap::new();
    let mut s = Splitter::new(usize::MAX);
    s.feed(bytes, &mut |r| {
        if let Record::Key { key, value } = r {
            out.insert(
                (key.db, key.name.to_vec()),
                Held {
                    code: key.kind.code,
                    value: value.to_vec(),
                    expire_ms: key.expire_ms,
                },
            );
        }
    })
    .expect("split");
    s.finish().expect("whole");
    out
}

fn items(h: &Held, f: Flavor) -> Vec<Item> {
    let mut d = Decoder::new(h.code, f).expect("decodable");
    let mut got = Vec::new();
    d.feed(&h.value, &mut |i| got.push(i)).expect("decode");
    d.finish().expect("whole value");
    // A string comes in pieces: one item.
    let mut s = Vec::new();
    let mut rest = Vec::new();
    for i in got {
        match i {
            Item::Str(p) => s.extend(p),
            other => rest.push(other),
        }
    }
    if h.code == 0 {
        vec![Item::Str(s)]
    } else {
        rest
    }
}

fn rules(json: &str) -> Vec<sanitize::Rule> {
    sanitize::compile(serde_json::from_str(json).expect("rules parse")).expect("rules check")
}

fn run(input: &[u8], rules: Vec<sanitize::Rule>, limit: usize) -> Result<(Vec<u8>, Report), Error> {
    let mut s = Sanitizer::new(
        rules,
        Masker::new(KEY).expect("key"),
        NOW_MS,
        Some("7.0.15".into()),
    );
    let mut out = Vec::new();
    let mut sp = Splitter::new(limit);
    let mut err = None;
    for chunk in input.chunks(97) {
        sp.feed(chunk, &mut |r| {
            if err.is_none() {
                if let Err(e) = s.record(r, &mut |b| out.extend_from_slice(b)) {
                    err = Some(e);
                }
            }
        })
        .expect("split");
        if let Some(e) = err.take() {
            return Err(e);
        }
    }
    sp.finish().expect("whole input");
    let report = s.finish(&mut |b| out.extend_from_slice(b))?;
    Ok((out, report))
}

const RULES: &str = r#"{"rules": [
  {"keys": "s:int", "action": "keep"},
  {"type": "stream", "action": "drop"},
  {"keys": "s:*", "type": "string", "action": "mask", "format": "length"},
  {"keys": "h:*", "fields": ["f1*"], "action": "mask"},
  {"keys": "set:*", "members": "*1*", "action": "mask"},
  {"keys": "z:*", "action": "mask"},
  {"keys": "l:*", "action": "mask", "format": "digits"},
  {"keys": "nothing:*", "action": "drop"},
  {"db": 2, "action": "ttl", "ttl": "1h"}
]}"#;

/// Every rule's effect, key by key, in every fixture, whole and streamed.
#[test]
fn every_rule_does_exactly_its_work_on_every_type() {
    let masker = Masker::new(KEY).expect("key");
    let m = |f: Format, x: &[u8]| masker.mask(f, x);
    for (name, input) in FIXTURES {
        let f = flavor(input);
        let before = keys(input);
        let mut outputs = Vec::new();
        for limit in [usize::MAX, 16] {
            let (out, report) = run(input, rules(RULES), limit).expect("sanitized");
            let sum = read_all(&out, &mut |_| {}).expect("the output reads");
            assert!(
                matches!(sum.checksum, Checksum::Verified { .. }),
                "{name}: {sum:?}"
            );
            let inp = read_all(input, &mut |_| {}).expect("input");
            assert_eq!(sum.functions, inp.functions, "{name}: functions kept");
            let after = keys(&out);
            assert_eq!(report.keys_in, before.len() as u64, "{name}");
            assert_eq!(report.keys_out, after.len() as u64, "{name}");
            let mut masked_any = [0u32; 5];
            for ((db, key), h) in &before {
                let k = String::from_utf8_lossy(key).into_owned();
                let got = after.get(&(*db, key.clone()));
                let ty = sanitize::type_of(h.code, f);
                if ty == sanitize::TypeName::Stream {
                    assert!(got.is_none(), "{name}: {k} dropped");
                    continue;
                }
                let got = got.unwrap_or_else(|| panic!("{name}: {k} kept"));
                if *db == 2 {
                    let at = NOW_MS + 3_600_000;
                    assert_eq!(got.expire_ms, Some(h.expire_ms.map_or(at, |e| e.min(at))));
                    assert_eq!(got.value, h.value, "{name}: {k} value untouched");
                    continue;
                }
                assert_eq!(got.expire_ms, h.expire_ms, "{name}: {k} expiry");
                let (old, new) = (items(h, f), items(got, f));
                let rule = ["s:", "h:", "set:", "z:", "l:"]
                    .iter()
                    .position(|p| k.starts_with(p) && k != "s:int");
                let Some(rule) = rule else {
                    assert_eq!(got.value, h.value, "{name}: {k} byte for byte");
                    continue;
                };
                assert_eq!(old.len(), new.len(), "{name}: {k} element count");
                let mut changed = 0u32;
                for (a, b) in old.iter().zip(&new) {
                    let want = match (rule, a) {
                        (0, Item::Str(s)) => Item::Str(m(Format::Length, s)),
                        (1, Item::Field(fl, v)) if fl.starts_with(b"f1") => {
                            Item::Field(fl.clone(), m(Format::Hash, v))
                        }
                        (1, Item::FieldExpiring(fl, v, at)) if fl.starts_with(b"f1") => {
                            Item::FieldExpiring(fl.clone(), m(Format::Hash, v), *at)
                        }
                        (2, Item::Elem(e)) if e.contains(&b'1') => Item::Elem(m(Format::Hash, e)),
                        (3, Item::Scored(e, s)) => Item::Scored(m(Format::Hash, e), s.clone()),
                        (4, Item::Elem(e)) => Item::Elem(m(Format::Digits, e)),
                        (_, other) => other.clone(),
                    };
                    if want != *a {
                        changed += 1;
                    }
                    // Sets come back in the order written; compare as sets.
                    if rule != 2 {
                        assert_eq!(*b, want, "{name}: {k}");
                    }
                }
                if rule == 2 {
                    let want: std::collections::BTreeSet<Vec<u8>> = old
                        .iter()
                        .map(|i| match i {
                            Item::Elem(e) if e.contains(&b'1') => m(Format::Hash, e),
                            Item::Elem(e) => e.clone(),
                            other => panic!("{other:?}"),
                        })
                        .collect();
                    let got: std::collections::BTreeSet<Vec<u8>> = new
                        .iter()
                        .map(|i| match i {
                            Item::Elem(e) => e.clone(),
                            other => panic!("{other:?}"),
                        })
                        .collect();
                    assert_eq!(got, want, "{name}: {k}");
                }
                masked_any[rule] += changed;
            }
            assert!(
                masked_any.iter().all(|n| *n > 0),
                "{name}: every mask rule changed something: {masked_any:?}"
            );
            assert_eq!(report.rules[7].keys, 0, "{name}: nothing:* matched nothing");
            assert_eq!(report.unmatched().len(), 1);
            if *name == "7.0" && limit == usize::MAX {
                insta::assert_json_snapshot!("report-7.0", report);
            }
            outputs.push(keys(&out));
        }
        // Held whole or streamed, the same keys and values.
        assert_eq!(outputs[0], outputs[1], "{name}: whole and streamed agree");
    }
}

#[test]
fn masks_are_keyed_deterministic_and_keep_their_format() {
    let a = Masker::new(KEY).expect("key");
    let b = Masker::new(b"another key that is long enough: 32+ bytes").expect("key");
    let x = b"alice@example.com";
    assert_eq!(a.mask(Format::Hash, x), a.mask(Format::Hash, x));
    assert_ne!(a.mask(Format::Hash, x), b.mask(Format::Hash, x));
    assert_ne!(
        a.mask(Format::Hash, x),
        a.mask(Format::Hash, b"bob@example.com")
    );
    assert_eq!(a.mask(Format::Hash, x).len(), 32);
    let e = a.mask(Format::Email, x);
    assert!(
        e.ends_with(b"@example.invalid"),
        "{}",
        String::from_utf8_lossy(&e)
    );
    let l = a.mask(Format::Length, x);
    assert_eq!(l.len(), x.len());
    assert!(l.iter().all(u8::is_ascii_alphanumeric));
    let d = a.mask(Format::Digits, b"+1 (555) 010-9999");
    assert_eq!(d.len(), 17);
    let shape = |s: &[u8]| -> Vec<bool> { s.iter().map(u8::is_ascii_digit).collect() };
    assert_eq!(shape(&d), shape(b"+1 (555) 010-9999"));
    assert_ne!(d, b"+1 (555) 010-9999".to_vec());
    assert_eq!(a.key_id(), Masker::new(KEY).expect("key").key_id());
    assert_ne!(a.key_id(), b.key_id());
    assert_eq!(a.key_id().len(), 16);
    assert!(Masker::new(b"short").is_err());
}

/// A long string masked with `length` streams: the same bytes as masking
/// it whole.
#[test]
fn a_big_string_streams_to_the_same_mask() {
    let v: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut value = vec![0x80];
    value.extend_from_slice(&(v.len() as u32).to_be_bytes());
    value.extend_from_slice(&v);
    let f = file(0, b"big", &value);
    for format in ["length", "hash", "email", "digits"] {
        let r = rules(&format!(
            r#"{{"rules": [{{"keys": "big", "action": "mask", "format": "{format}"}}]}}"#
        ));
        let (whole, _) = run(&f, r.clone(), usize::MAX).expect("whole");
        let (streamed, rep) = run(&f, r, 1024).expect("streamed");
        assert_eq!(whole, streamed, "{format}");
        assert_eq!(rep.rules[0].masked, 1);
        let k = keys(&streamed);
        let got = items(&k[&(0, b"big".to_vec())], Flavor::Redis);
        let fmt: Format = serde_json::from_str(&format!("\"{format}\"")).expect("format");
        assert_eq!(
            got,
            vec![Item::Str(Masker::new(KEY).expect("key").mask(fmt, &v))],
            "{format}"
        );
    }
}

/// A file of one key, made by hand: type `code`, `value` its bytes.
fn file(code: u8, name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut f = b"REDIS0010".to_vec();
    f.extend_from_slice(&[0xFE, 0, code, name.len() as u8]);
    f.extend_from_slice(name);
    f.extend_from_slice(value);
    f.push(0xFF);
    let crc = kubectl_redis_core::rdb::crc64::checksum(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

fn failure(r: Result<(Vec<u8>, Report), Error>) -> Error {
    match r {
        Ok((_, rep)) => panic!("sanitized, yet it should fail: {rep:?}"),
        Err(e) => e,
    }
}

#[test]
fn rules_that_cannot_fit_the_data_stop_the_copy() {
    let (_, input) = FIXTURES[1];
    // A stream cannot be masked.
    let e = failure(run(
        input,
        rules(r#"{"rules": [{"action": "mask"}]}"#),
        usize::MAX,
    ));
    assert!(
        matches!(&e, Error::Rules(m) if m.contains("'st'") && m.contains("stream")),
        "{e}"
    );
    // Set members masked to one digit collide: refused, naming the key.
    // A set of "0" to "99" (type 2): one digit per member cannot hold
    // 100 members apart.
    let mut set = vec![0x40, 100u8];
    for i in 0..100 {
        let m = i.to_string();
        set.push(m.len() as u8);
        set.extend_from_slice(m.as_bytes());
    }
    let f = file(2, b"pins", &set);
    let r = rules(r#"{"rules": [{"keys": "pins", "action": "mask", "format": "digits"}]}"#);
    for limit in [usize::MAX, 16] {
        let e = failure(run(&f, r.clone(), limit));
        assert!(
            matches!(&e, Error::Rules(m) if m.contains("'pins'") && m.contains("equal")),
            "{e}"
        );
    }
    // As hashes (the default), they stay apart.
    let r = rules(r#"{"rules": [{"keys": "pins", "action": "mask"}]}"#);
    let (out, rep) = run(&f, r, 16).expect("masked");
    assert_eq!(rep.rules[0].masked, 100);
    assert!(read_all(&out, &mut |_| {}).is_ok());
}

#[test]
fn bad_rules_are_named_by_number() {
    let cases = [
        r#"{"rules": []}"#,
        r#"{"rules": [{"action": "ttl"}]}"#,
        r#"{"rules": [{"action": "ttl", "ttl": "3 fortnights"}]}"#,
        r#"{"rules": [{"action": "drop", "fields": ["x"]}]}"#,
        r#"{"rules": [{"action": "keep"}, {"action": "mask", "fields": ["a"], "members": "b"}]}"#,
        r#"{"rules": [{"action": "mask", "type": "stream"}]}"#,
        r#"{"rules": [{"action": "mask", "type": "set", "fields": ["a"]}]}"#,
        r#"{"rules": [{"action": "mask", "fields": []}]}"#,
        r#"{"rules": [{"action": "drop", "ttl": 5}]}"#,
    ];
    let msgs: Vec<String> = cases
        .iter()
        .map(
            |c| match sanitize::compile(serde_json::from_str(c).expect("parses")) {
                Ok(r) => panic!("{c} should be refused: {r:?}"),
                Err(e) => e,
            },
        )
        .collect();
    insta::assert_json_snapshot!("bad-rules", msgs);
    // Unknown actions and fields are refused by the parser.
    assert!(
        serde_json::from_str::<sanitize::RulesFile>(r#"{"rules": [{"action": "scramble"}]}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<sanitize::RulesFile>(
        r#"{"rules": [{"action": "drop", "key": "x"}]}"#
    )
    .is_err());
}

/// Mask rules naming `fields` share a hash: each masks its own fields in
/// its own format; the first rule naming a field decides it.
#[test]
fn field_rules_share_a_hash() {
    let mut h = vec![3u8];
    for (f, v) in [
        ("email", "alice@example.com"),
        ("phone", "+1 555 0100"),
        ("name", "Alice"),
    ] {
        h.push(f.len() as u8);
        h.extend_from_slice(f.as_bytes());
        h.push(v.len() as u8);
        h.extend_from_slice(v.as_bytes());
    }
    let f = file(4, b"user:1", &h);
    let r = rules(
        r#"{"rules": [
        {"keys": "user:*", "fields": ["email"], "action": "mask", "format": "email"},
        {"keys": "user:*", "fields": ["phone", "email"], "action": "mask", "format": "digits"},
        {"keys": "other:*", "fields": ["name"], "action": "mask"}
    ]}"#,
    );
    for limit in [usize::MAX, 16] {
        let (out, rep) = run(&f, r.clone(), limit).expect("masked");
        let k = keys(&out);
        let got = items(&k[&(0, b"user:1".to_vec())], Flavor::Redis);
        let m = Masker::new(KEY).expect("key");
        assert_eq!(
            got,
            vec![
                Item::Field(
                    b"email".to_vec(),
                    m.mask(Format::Email, b"alice@example.com")
                ),
                Item::Field(b"phone".to_vec(), m.mask(Format::Digits, b"+1 555 0100")),
                Item::Field(b"name".to_vec(), b"Alice".to_vec()),
            ]
        );
        let counts: Vec<(u64, u64)> = rep.rules.iter().map(|c| (c.keys, c.masked)).collect();
        assert_eq!(counts, vec![(1, 1), (1, 1), (0, 0)]);
    }
}
