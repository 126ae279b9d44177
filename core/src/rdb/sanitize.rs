//! A sanitized copy of an RDB file: keys dropped, values masked with a keyed
//! pseudonym, expiries given, by a list of rules; everything no rule names
//! is copied byte for byte.
//!
//! The [`Sanitizer`] is fed the [`Record`]s of a
//! [`Splitter`](super::records::Splitter) and writes a new file through the
//! [`Merger`]'s writer (one header, functions, keys, a new CRC-64). A key
//! kept, given an expiry or not matched keeps its value's bytes as they
//! were; a masked value is decoded ([`Decoder`]) and written again in a plain
//! encoding (a string, a list, a set, a zset with binary scores, a hash),
//! which every server loads and packs again as it likes.
//!
//! Rules are tried in order; the first whose `keys` glob, `type` and `db`
//! fit a key decides it (`keep` makes exceptions to later rules). A rule
//! naming `fields` fits hashes only; one naming `members` fits lists, sets
//! and zsets only. Mask rules naming `fields` share a hash: when one decides
//! it, every later one that fits it masks its own fields in its own format
//! (a field is masked by the first rule naming it).
//!
//! Masks are HMAC-SHA256 under a key of at least 32 bytes, over the input
//! alone: the same input masks to the same output in every key, every file
//! and every run with that key, so joins between keys survive. Formats:
//! `hash` (32 hex digits, the default), `length` (letters and digits, as
//! many bytes as the input), `email` (`HEX@example.invalid`), `digits`
//! (each ASCII digit replaced, everything else kept: phone numbers, card
//! numbers). In a set or zset, a mask that makes two members equal is an
//! error (a server refuses such a file), found for every format but `hash`.
//!
//! Memory: a value that is kept streams through; a masked string streams
//! (only `digits` holds it, up to [`MAX_DIGITS_VALUE`] bytes); a masked hash,
//! set or zset saved in a plain encoding streams element by element; a
//! masked value saved packed (listpack, ziplist, intset, quicklist) is held
//! while it is written again: its plain form, as big as the value.

use super::glob;
use super::merge::Merger;
use super::records::Record;
use super::values::{self, Decoder, Item, Shape};
use super::Flavor;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Arc;

type HmacSha256 = Hmac<Sha256>;

/// The shortest mask key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The biggest string `digits` masks (it holds the value).
pub const MAX_DIGITS_VALUE: usize = 1 << 20;

/// A rules file as written (YAML or JSON): see `schemas/sanitize-rules.schema.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// The rules, tried in order.
    pub rules: Vec<RuleSpec>,
}

/// One rule as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A glob on the key's name (default `*`).
    #[serde(default)]
    pub keys: Option<String>,
    /// Only keys of this type.
    #[serde(default, rename = "type")]
    pub ty: Option<TypeName>,
    /// Only keys of this database.
    #[serde(default)]
    pub db: Option<u64>,
    /// What to do.
    pub action: Action,
    /// `mask`: the hash fields (globs) whose values are masked.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// `mask`: the list, set or zset members (a glob) that are masked.
    #[serde(default)]
    pub members: Option<String>,
    /// `mask`: the output's format (default `hash`).
    #[serde(default)]
    pub format: Option<Format>,
    /// `ttl`: seconds, or `30m`, `12h`, `7d`, `2w`.
    #[serde(default)]
    pub ttl: Option<TtlSpec>,
}

/// What a rule does to the keys it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Leave the key out.
    Drop,
    /// Replace values, fields' values or members with pseudonyms.
    Mask,
    /// Give the key an expiry (or keep its own, if sooner).
    Ttl,
    /// Copy the key as it is (an exception to later rules).
    Keep,
}

/// A key's type, as `TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeName {
    String,
    List,
    Set,
    Zset,
    Hash,
    Stream,
    /// A module's type.
    Module,
}

/// A mask's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// 32 hex digits.
    #[default]
    Hash,
    /// Letters and digits, as many bytes as the input.
    Length,
    /// `HEX@example.invalid`.
    Email,
    /// Each ASCII digit replaced by another, the rest kept.
    Digits,
}

/// A `ttl` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TtlSpec {
    Seconds(u64),
    Text(String),
}

/// One rule, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub keys: Vec<u8>,
    pub ty: Option<TypeName>,
    pub db: Option<u64>,
    pub action: Action,
    /// Hash field globs; empty: every field.
    pub fields: Vec<Vec<u8>>,
    /// Member glob; `None`: every member.
    pub members: Option<Vec<u8>>,
    pub format: Format,
    /// `ttl`: the expiry given, in ms from the time of the copy.
    pub ttl_ms: i64,
}

impl Rule {
    /// A short description: `drop session:*`, `mask user:* fields email`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {}",
            action_name(self.action),
            String::from_utf8_lossy(&self.keys)
        );
        if let Some(t) = self.ty {
            s.push_str(&format!(" type {}", type_name(t)));
        }
        if let Some(d) = self.db {
            s.push_str(&format!(" db {d}"));
        }
        if !self.fields.is_empty() {
            let f: Vec<_> = self
                .fields
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            s.push_str(&format!(" fields {}", f.join(",")));
        }
        if let Some(m) = &self.members {
            s.push_str(&format!(" members {}", String::from_utf8_lossy(m)));
        }
        if self.action == Action::Mask && self.format != Format::Hash {
            s.push_str(&format!(" as {}", format_name(self.format)));
        }
        if self.action == Action::Ttl {
            s.push_str(&format!(" {}s", self.ttl_ms / 1000));
        }
        s
    }

    fn fits(&self, db: u64, name: &[u8], ty: TypeName) -> bool {
        self.db.is_none_or(|d| d == db)
            && self.ty.is_none_or(|t| t == ty)
            && (self.fields.is_empty() || ty == TypeName::Hash)
            && (self.members.is_none()
                || matches!(ty, TypeName::List | TypeName::Set | TypeName::Zset))
            && glob::matches(&self.keys, name)
    }
}

pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::Drop => "drop",
        Action::Mask => "mask",
        Action::Ttl => "ttl",
        Action::Keep => "keep",
    }
}

pub fn type_name(t: TypeName) -> &'static str {
    match t {
        TypeName::String => "string",
        TypeName::List => "list",
        TypeName::Set => "set",
        TypeName::Zset => "zset",
        TypeName::Hash => "hash",
        TypeName::Stream => "stream",
        TypeName::Module => "module",
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Hash => "hash",
        Format::Length => "length",
        Format::Email => "email",
        Format::Digits => "digits",
    }
}

/// `30`, `30s`, `15m`, `12h`, `7d`, `2w` in ms.
fn ttl_ms(t: &TtlSpec) -> Result<i64, String> {
    let (n, unit) = match t {
        TtlSpec::Seconds(n) => (*n, 1),
        TtlSpec::Text(s) => {
            let s = s.trim();
            let at = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (num, unit) = s.split_at(at);
            let n: u64 = num
                .parse()
                .map_err(|_| format!("ttl '{s}' is not a duration: use e.g. 3600, 30m, 12h, 7d"))?;
            let unit = match unit {
                "" | "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                "w" => 604_800,
                u => {
                    return Err(format!(
                        "ttl '{s}': unknown unit '{u}': use s, m, h, d or w"
                    ))
                }
            };
            (n, unit)
        }
    };
    let ms = n
        .checked_mul(unit)
        .and_then(|s| s.checked_mul(1000))
        .and_then(|ms| i64::try_from(ms).ok())
        .ok_or_else(|| "ttl too long".to_string())?;
    if ms == 0 {
        return Err("ttl must be more than zero".into());
    }
    Ok(ms)
}

/// The rules of a file, checked: every problem is named with its rule's
/// number (from 1).
pub fn compile(file: RulesFile) -> Result<Vec<Rule>, String> {
    if file.rules.is_empty() {
        return Err("the rules file has no rules".into());
    }
    let mut out = Vec::new();
    for (i, r) in file.rules.into_iter().enumerate() {
        let n = i + 1;
        let bad = |what: &str| Err(format!("rule {n}: {what}"));
        let mask = r.action == Action::Mask;
        if !mask && r.fields.is_some() {
            return bad("`fields` belongs to action mask");
        }
        if !mask && r.members.is_some() {
            return bad("`members` belongs to action mask");
        }
        if !mask && r.format.is_some() {
            return bad("`format` belongs to action mask");
        }
        if r.fields.is_some() && r.members.is_some() {
            return bad("`fields` (hashes) and `members` (lists, sets, zsets) cannot both be in one rule: make two rules");
        }
        if r.fields.as_ref().is_some_and(|f| f.is_empty()) {
            return bad("`fields` is empty: name the fields to mask, or leave `fields` out to mask every field");
        }
        let ttl = match (&r.ttl, r.action) {
            (Some(t), Action::Ttl) => ttl_ms(t).map_err(|e| format!("rule {n}: {e}"))?,
            (None, Action::Ttl) => return bad("action ttl needs `ttl` (e.g. ttl: 7d)"),
            (Some(_), _) => return bad("`ttl` belongs to action ttl"),
            (None, _) => 0,
        };
        if mask {
            let ty = r.ty;
            if matches!(ty, Some(TypeName::Stream | TypeName::Module)) {
                return bad("streams and module values cannot be masked: drop them, or keep them");
            }
            if r.fields.is_some() && ty.is_some_and(|t| t != TypeName::Hash) {
                return bad("`fields` are a hash's: this rule's type is not hash");
            }
            if r.members.is_some()
                && ty.is_some_and(|t| !matches!(t, TypeName::List | TypeName::Set | TypeName::Zset))
            {
                return bad(
                    "`members` are a list's, set's or zset's: this rule's type is none of them",
                );
            }
        }
        out.push(Rule {
            keys: r.keys.unwrap_or_else(|| "*".into()).into_bytes(),
            ty: r.ty,
            db: r.db,
            action: r.action,
            fields: r
                .fields
                .unwrap_or_default()
                .into_iter()
                .map(String::into_bytes)
                .collect(),
            members: r.members.map(String::into_bytes),
            format: r.format.unwrap_or_default(),
            ttl_ms: ttl,
        });
    }
    Ok(out)
}

/// The keyed pseudonyms.
#[derive(Clone)]
pub struct Masker {
    mac: HmacSha256,
}

impl core::fmt::Debug for Masker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Masker(..)")
    }
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn hex(b: &[u8]) -> String {
    let mut v = Vec::with_capacity(b.len() * 2);
    hex_into(b, &mut v);
    String::from_utf8_lossy(&v).into_owned()
}

fn hex_into(b: &[u8], out: &mut Vec<u8>) {
    const D: &[u8; 16] = b"0123456789abcdef";
    for x in b {
        out.push(D[usize::from(x >> 4)]);
        out.push(D[usize::from(x & 15)]);
    }
}

impl Masker {
    /// A masker under `key`: at least [`MIN_KEY_BYTES`] bytes.
    pub fn new(key: &[u8]) -> Result<Masker, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the mask key is {} bytes; it must be at least {MIN_KEY_BYTES} (e.g. `head -c 32 /dev/urandom | base64`)",
                key.len()
            ));
        }
        let mac = HmacSha256::new_from_slice(key).map_err(|e| e.to_string())?;
        Ok(Masker { mac })
    }

    /// A name for the key that does not reveal it (16 hex digits): two
    /// copies masked with the same key show the same id.
    pub fn key_id(&self) -> String {
        hex(&self.digest(b"kubectl-redis sanitize key id")[..8])
    }

    fn digest(&self, input: &[u8]) -> [u8; 32] {
        let mut m = self.mac.clone();
        m.update(input);
        m.finalize().into_bytes().into()
    }

    /// `n` bytes of `alphabet` drawn from a digest, from its 32-byte block
    /// `counter` on (a long output is made in pieces of whole blocks).
    fn expand(&self, seed: &[u8; 32], n: usize, alphabet: &[u8], out: &mut Vec<u8>) {
        self.expand_from(seed, 0, n, alphabet, out)
    }

    fn expand_from(
        &self,
        seed: &[u8; 32],
        mut counter: u64,
        n: usize,
        alphabet: &[u8],
        out: &mut Vec<u8>,
    ) {
        while out.len() < n {
            // Block 0 is the digest itself (most masks need no more);
            // block i is HMAC("expand" || digest || i).
            let block: [u8; 32] = if counter == 0 {
                *seed
            } else {
                let mut m = self.mac.clone();
                m.update(b"expand");
                m.update(seed);
                m.update(&counter.to_be_bytes());
                m.finalize().into_bytes().into()
            };
            counter += 1;
            for b in block.iter() {
                if out.len() == n {
                    break;
                }
                out.push(alphabet[usize::from(*b) % alphabet.len()]);
            }
        }
    }

    /// The pseudonym of `input` in `format`.
    pub fn mask(&self, format: Format, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.mask_into(format, input, &mut out);
        out
    }

    /// The pseudonym of `input` in `format`, in `out` (cleared first): no
    /// allocation once `out` has room.
    pub fn mask_into(&self, format: Format, input: &[u8], out: &mut Vec<u8>) {
        let d = self.digest(input);
        self.finish_into(format, &d, input.len(), Some(input), out)
    }

    /// The output for a digest; `digits` needs the input itself.
    fn finish(&self, format: Format, d: &[u8; 32], len: usize, input: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        self.finish_into(format, d, len, input, &mut out);
        out
    }

    fn finish_into(
        &self,
        format: Format,
        d: &[u8; 32],
        len: usize,
        input: Option<&[u8]>,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        match format {
            Format::Hash => hex_into(&d[..16], out),
            Format::Email => {
                hex_into(&d[..6], out);
                out.extend_from_slice(b"@example.invalid");
            }
            Format::Length => {
                out.reserve(len);
                self.expand(d, len, ALNUM, out);
            }
            Format::Digits => {
                let input = input.unwrap_or_default();
                let digits = input.iter().filter(|b| b.is_ascii_digit()).count();
                // The replacement digits first, then the input around them
                // (the digits drawn are those `expand` gives alone).
                out.reserve(digits + input.len());
                self.expand(d, digits, b"0123456789", out);
                let mut next = 0usize;
                for &b in input {
                    if b.is_ascii_digit() {
                        let r = out.get(next).copied().unwrap_or(b'0');
                        next += 1;
                        out.push(r);
                    } else {
                        out.push(b);
                    }
                }
                out.drain(..digits);
            }
        }
    }
}

/// What each rule did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    /// The rule's number in the file, from 1.
    pub rule: usize,
    /// What it is (`drop session:*`).
    pub rule_text: String,
    /// `drop`, `mask`, `ttl` or `keep`.
    pub action: Action,
    /// Keys it decided.
    pub keys: u64,
    /// Values, fields' values and members it masked.
    pub masked: u64,
}

/// What a sanitized copy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Keys read.
    pub keys_in: u64,
    /// Keys written.
    pub keys_out: u64,
    /// Per rule, in order.
    pub rules: Vec<RuleCount>,
}

impl Report {
    /// The rules that decided no key (a typo, or data that changed).
    pub fn unmatched(&self) -> Vec<&RuleCount> {
        self.rules.iter().filter(|r| r.keys == 0).collect()
    }
}

/// A key's type from its type byte.
pub fn type_of(code: u8, flavor: Flavor) -> TypeName {
    match values::shape(code, flavor) {
        Ok(Shape::String) => TypeName::String,
        Ok(Shape::List) => TypeName::List,
        Ok(Shape::Set) => TypeName::Set,
        Ok(Shape::Zset) => TypeName::Zset,
        Ok(Shape::Hash) => TypeName::Hash,
        Ok(Shape::Stream) => TypeName::Stream,
        Err(_) => TypeName::Module,
    }
}

/// Why a copy cannot be sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The rules do not fit the data (a stream to mask, a set whose masked
    /// members collide, a `digits` string too long): the rules must change.
    Rules(String),
    /// The input is not a valid file.
    Corrupt(String),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Rules(s) | Error::Corrupt(s) => f.write_str(s),
        }
    }
}

/// A hash field held: its name, value and expiry.
type TtlField = (Vec<u8>, Vec<u8>, Option<i64>);

/// Where a key's head goes once its element count is known.
#[derive(Debug)]
struct Head {
    db: u64,
    name: Vec<u8>,
    expire_ms: Option<i64>,
    idle: Option<u64>,
    freq: Option<u8>,
}

/// A masked value being written.
#[derive(Debug)]
struct Masking {
    rule: usize,
    head: Head,
    shape: Shape,
    /// The type byte written.
    out_code: u8,
    decoder: Decoder,
    /// Plain inputs (types 1-5) declare their count first: the head is
    /// written then, and elements stream; packed ones are held.
    declared: Option<u64>,
    /// The first bytes of a plain input until its count can be read.
    pending: Vec<u8>,
    plain: bool,
    /// Elements encoded, not yet written.
    body: Vec<u8>,
    items: u64,
    masked: u64,
    /// A hash: the mask rules for its fields (the deciding rule, then every
    /// later mask rule naming `fields` that fits the key), and what each
    /// masked; a field is masked by the first of them that names it.
    field_rules: Vec<(usize, u64)>,
    /// Members written (a digest of each), for sets and zsets masked in
    /// formats that can collide.
    seen: Option<HashSet<[u8; 16]>>,
    /// A Redis hash with field expiries: its fields held, then written as
    /// type 24 (or a plain hash when none expires).
    ttl_fields: Option<Vec<TtlField>>,
    /// A Valkey hash with field expiries (type 22, written again as such).
    valkey_ttl: bool,
    /// A string: the running HMAC, its length, and (for `digits`) its bytes.
    string: Option<(HmacSha256, u64, Vec<u8>)>,
    fail: Option<Error>,
}

#[derive(Debug)]
enum Current {
    /// The big key's bytes are copied.
    Pass,
    /// The big key is left out.
    Drop,
    Mask(Box<Masking>),
}

/// The sanitizer. See the module documentation.
#[derive(Debug)]
pub struct Sanitizer {
    rules: Arc<Vec<Rule>>,
    masker: Masker,
    now_ms: i64,
    merger: Merger,
    flavor: Flavor,
    current: Option<Current>,
    counts: Vec<RuleCount>,
    keys_in: u64,
    /// The bytes of the record being written (kept between records).
    buf: Vec<u8>,
    /// Kept between packed hashes masked: the field rules, the elements
    /// written, the blob decompressed, a masked value, the key's head.
    field_rules: Vec<(usize, u64)>,
    body: Vec<u8>,
    scratch: Vec<u8>,
    masked: Vec<u8>,
    head: Vec<u8>,
}

use super::merge::{length as push_length, string as push_string};

fn show(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    if s.len() > 80 {
        format!("'{}...'", s.chars().take(77).collect::<String>())
    } else {
        format!("'{s}'")
    }
}

impl Sanitizer {
    /// A sanitizer; `now_ms` (Unix ms) is when `ttl` expiries start;
    /// `redis_ver` is written as the file's `redis-ver`.
    pub fn new(rules: Vec<Rule>, masker: Masker, now_ms: i64, redis_ver: Option<String>) -> Self {
        let counts = rules
            .iter()
            .enumerate()
            .map(|(i, r)| RuleCount {
                rule: i + 1,
                rule_text: r.describe(),
                action: r.action,
                keys: 0,
                masked: 0,
            })
            .collect();
        Sanitizer {
            rules: Arc::new(rules),
            masker,
            now_ms,
            merger: Merger::new(redis_ver),
            flavor: Flavor::Redis,
            current: None,
            counts,
            keys_in: 0,
            buf: Vec::new(),
            field_rules: Vec::new(),
            body: Vec::new(),
            scratch: Vec::new(),
            masked: Vec::new(),
            head: Vec::new(),
        }
    }

    fn decide(&self, db: u64, name: &[u8], code: u8) -> Option<usize> {
        let ty = type_of(code, self.flavor);
        self.rules.iter().position(|r| r.fits(db, name, ty))
    }

    fn expiry(&self, rule: &Rule, had: Option<i64>) -> Option<i64> {
        let at = self.now_ms.saturating_add(rule.ttl_ms);
        Some(had.map_or(at, |h| h.min(at)))
    }

    /// Writes what one record becomes; `out` gets the bytes.
    pub fn record(&mut self, rec: Record<'_>, out: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        match rec {
            Record::Header(h) => {
                self.flavor = h.flavor;
                self.merger
                    .record(Record::Header(h), &mut b)
                    .map_err(Error::Corrupt)?;
            }
            Record::Function(raw) => {
                self.merger
                    .record(Record::Function(raw), &mut b)
                    .map_err(Error::Corrupt)?;
            }
            Record::Key { key, value } => {
                self.keys_in += 1;
                match self.decide(key.db, key.name, key.kind.code) {
                    None => self.merger.record(Record::Key { key, value }, &mut b),
                    Some(i) => {
                        self.counts[i].keys += 1;
                        let rules = Arc::clone(&self.rules);
                        let rule = &rules[i];
                        match rule.action {
                            Action::Drop => Ok(()),
                            Action::Keep => self.merger.record(Record::Key { key, value }, &mut b),
                            Action::Ttl => {
                                let mut k = key;
                                k.expire_ms = self.expiry(rule, key.expire_ms);
                                self.merger.record(Record::Key { key: k, value }, &mut b)
                            }
                            Action::Mask if matches!(key.kind.code, 13 | 16) => {
                                self.mask_packed_hash(i, &key, value, &mut b)?;
                                Ok(())
                            }
                            Action::Mask => {
                                let head = Head {
                                    db: key.db,
                                    name: key.name.to_vec(),
                                    expire_ms: key.expire_ms,
                                    idle: key.idle,
                                    freq: key.freq,
                                };
                                let mut m = self.start_mask(i, head, key.kind.code)?;
                                self.mask_bytes(&mut m, value, &mut b)?;
                                self.end_mask(m, &mut |x: &[u8]| b.extend_from_slice(x))?;
                                Ok(())
                            }
                        }
                    }
                }
                .map_err(Error::Corrupt)?;
            }
            Record::BigStart {
                db,
                name,
                code,
                expire_ms,
            } => {
                self.keys_in += 1;
                let cur = match self.decide(db, name, code) {
                    None => None,
                    Some(i) => {
                        self.counts[i].keys += 1;
                        Some(i)
                    }
                };
                let rules = Arc::clone(&self.rules);
                let cur = cur.map(|i| (i, &rules[i]));
                let (cur, expire_ms) = match cur {
                    None => (Current::Pass, expire_ms),
                    Some((_, r)) if r.action == Action::Keep => (Current::Pass, expire_ms),
                    Some((_, r)) if r.action == Action::Ttl => {
                        (Current::Pass, self.expiry(r, expire_ms))
                    }
                    Some((_, r)) if r.action == Action::Drop => (Current::Drop, expire_ms),
                    Some((i, _)) => {
                        let head = Head {
                            db,
                            name: name.to_vec(),
                            expire_ms,
                            idle: None,
                            freq: None,
                        };
                        (
                            Current::Mask(Box::new(self.start_mask(i, head, code)?)),
                            expire_ms,
                        )
                    }
                };
                if let Current::Pass = cur {
                    self.merger
                        .record(
                            Record::BigStart {
                                db,
                                name,
                                code,
                                expire_ms,
                            },
                            &mut b,
                        )
                        .map_err(Error::Corrupt)?;
                }
                self.current = Some(cur);
            }
            Record::BigPart(p) => match self.current.take() {
                Some(Current::Pass) => {
                    self.current = Some(Current::Pass);
                    self.merger.raw(&mut b, p);
                }
                Some(Current::Drop) => self.current = Some(Current::Drop),
                Some(Current::Mask(mut m)) => {
                    let r = self.mask_bytes(&mut m, p, &mut b);
                    self.current = Some(Current::Mask(m));
                    r?;
                }
                None => return Err(Error::Corrupt("a big value's bytes outside a key".into())),
            },
            Record::BigEnd(_) => {
                if let Some(Current::Mask(m)) = self.current.take() {
                    self.end_mask(*m, &mut |bytes: &[u8]| b.extend_from_slice(bytes))?;
                }
            }
        }
        out(&b);
        self.buf = b;
        Ok(())
    }

    fn start_mask(&self, rule: usize, head: Head, code: u8) -> Result<Masking, Error> {
        let r = &self.rules[rule];
        let unsupported = |what: &str| {
            Error::Rules(format!(
                "rule {} ({}) fits {} {}, which cannot be masked: put a rule that drops or keeps it before this one",
                rule + 1,
                r.describe(),
                what,
                show(&head.name)
            ))
        };
        let ttls = values::has_field_ttls(code, self.flavor);
        let valkey_ttl = ttls && self.flavor == Flavor::Valkey;
        let shape = match values::shape(code, self.flavor) {
            Ok(Shape::Stream) => return Err(unsupported("the stream")),
            Ok(s) => s,
            Err(_) => return Err(unsupported("the module value")),
        };
        let decoder = Decoder::new(code, self.flavor).map_err(|e| Error::Corrupt(e.to_string()))?;
        let out_code = match shape {
            Shape::Hash if valkey_ttl => 22,
            Shape::String => 0,
            Shape::List => 1,
            Shape::Set => 2,
            Shape::Zset => 5,
            Shape::Hash => 4,
            Shape::Stream => return Err(unsupported("the stream")),
        };
        let collide = matches!(shape, Shape::Set | Shape::Zset) && r.format != Format::Hash;
        let mut field_rules = Vec::new();
        if shape == Shape::Hash {
            field_rules.push((rule, 0));
            if !r.fields.is_empty() {
                let ty = type_of(code, self.flavor);
                for (i, x) in self.rules.iter().enumerate().skip(rule + 1) {
                    if x.action == Action::Mask
                        && !x.fields.is_empty()
                        && x.fits(head.db, &head.name, ty)
                    {
                        field_rules.push((i, 0));
                    }
                }
            }
        }
        Ok(Masking {
            field_rules,
            rule,
            head,
            shape,
            out_code,
            decoder,
            declared: None,
            pending: Vec::new(),
            plain: (1..=5).contains(&code) || valkey_ttl,
            body: Vec::new(),
            items: 0,
            masked: 0,
            seen: collide.then(HashSet::new),
            ttl_fields: (ttls && !valkey_ttl).then(Vec::new),
            valkey_ttl,
            string: (shape == Shape::String).then(|| (self.masker.mac.clone(), 0, Vec::new())),
            fail: None,
        })
    }

    fn write_head(&mut self, m: &Masking, count: Option<u64>, out: &mut Vec<u8>) {
        let h = &m.head;
        let mut b = Vec::new();
        self.merger
            .key_head(&mut b, h.db, h.expire_ms, h.idle, h.freq);
        b.push(m.out_code);
        push_string(&mut b, &h.name);
        if let Some(n) = count {
            push_length(&mut b, n);
        }
        self.merger.raw(out, &b);
        self.merger.keys += 1;
    }

    /// A masked hash saved packed (a listpack or ziplist) and whole in one
    /// record: written again as a plain hash (type 4) as [`Self::mask_bytes`]
    /// writes it, without a [`Decoder`] or an allocation per field (most
    /// small hashes, the common case).
    fn mask_packed_hash(
        &mut self,
        rule: usize,
        key: &super::reader::Key<'_>,
        value: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let rules = Arc::clone(&self.rules);
        let r = &rules[rule];
        let mut fr = std::mem::take(&mut self.field_rules);
        fr.clear();
        fr.push((rule, 0u64));
        if !r.fields.is_empty() {
            for (i, x) in rules.iter().enumerate().skip(rule + 1) {
                if x.action == Action::Mask
                    && !x.fields.is_empty()
                    && x.fits(key.db, key.name, TypeName::Hash)
                {
                    fr.push((i, 0));
                }
            }
        }
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut y = std::mem::take(&mut self.masked);
        let masker = &self.masker;
        let n = values::packed_hash(key.kind.code, value, &mut scratch, &mut |f, v| {
            push_string(&mut body, f);
            let by = fr.iter_mut().find(|(i, _)| {
                let r = &rules[*i];
                r.fields.is_empty() || r.fields.iter().any(|g| glob::matches(g, f))
            });
            match by {
                Some((i, n)) => {
                    *n += 1;
                    masker.mask_into(rules[*i].format, v, &mut y);
                    push_string(&mut body, &y);
                }
                None => push_string(&mut body, v),
            }
        })
        .map_err(|e| Error::Corrupt(format!("{}: {e}", show(key.name))))?;
        let mut head = std::mem::take(&mut self.head);
        head.clear();
        self.merger
            .key_head(&mut head, key.db, key.expire_ms, key.idle, key.freq);
        head.push(4);
        push_string(&mut head, key.name);
        push_length(&mut head, n);
        self.merger.raw(out, &head);
        self.merger.keys += 1;
        self.merger.raw(out, &body);
        for (i, n) in &fr {
            self.counts[*i].masked += n;
            // A later rule that masked fields of this key counts it too.
            if *i != rule && *n > 0 {
                self.counts[*i].keys += 1;
            }
        }
        (
            self.field_rules,
            self.body,
            self.scratch,
            self.masked,
            self.head,
        ) = (fr, body, scratch, y, head);
        Ok(())
    }

    fn mask_bytes(&mut self, m: &mut Masking, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if m.plain && m.declared.is_none() {
            m.pending.extend_from_slice(data);
            if let Some((n, _)) =
                values::length(&m.pending).map_err(|e| Error::Corrupt(e.to_string()))?
            {
                m.declared = Some(n);
                m.pending = Vec::new();
                self.write_head(m, Some(n), out);
            }
        }
        // Room for the elements written again (about the input's size).
        m.body.reserve(data.len() + 64);
        let rules = Arc::clone(&self.rules);
        let rule = &rules[m.rule];
        let masker = &self.masker;
        let Masking {
            head,
            decoder,
            body,
            field_rules,
            ttl_fields,
            valkey_ttl,
            items,
            masked,
            seen,
            string,
            fail,
            ..
        } = m;
        decoder
            .feed(data, &mut |item| {
                if fail.is_some() {
                    return;
                }
                let mut member = |x: Vec<u8>, wanted: bool, masked: &mut u64| -> Vec<u8> {
                    let y = if wanted {
                        *masked += 1;
                        masker.mask(rule.format, &x)
                    } else {
                        x
                    };
                    if let Some(seen) = seen.as_mut() {
                        let d: [u8; 32] = Sha256::digest(&y).into();
                        let mut k = [0u8; 16];
                        k.copy_from_slice(&d[..16]);
                        if !seen.insert(k) {
                            fail.get_or_insert(Error::Rules(format!(
                                "masking the members of {} as {} made two of them equal, which a server refuses to load: mask them as hash (the default), or drop the key",
                                show(&head.name),
                                format_name(rule.format)
                            )));
                        }
                    }
                    y
                };
                let members_fit =
                    |x: &[u8]| rule.members.as_ref().is_none_or(|g| glob::matches(g, x));
                match item {
                    Item::Str(piece) => {
                        if let Some((mac, len, held)) = string.as_mut() {
                            mac.update(&piece);
                            *len += piece.len() as u64;
                            if rule.format == Format::Digits {
                                if held.len() + piece.len() > MAX_DIGITS_VALUE {
                                    fail.get_or_insert(Error::Rules(format!(
                                        "the string {} is over {} bytes; format digits masks values up to that size: use format length or hash",
                                        show(&head.name),
                                        MAX_DIGITS_VALUE
                                    )));
                                }
                                held.extend_from_slice(&piece);
                            }
                        }
                    }
                    Item::Elem(e) => {
                        let want = members_fit(&e);
                        let y = member(e, want, masked);
                        push_string(body, &y);
                        *items += 1;
                    }
                    Item::Scored(mem, score) => {
                        let want = members_fit(&mem);
                        let y = member(mem, want, masked);
                        let s = std::str::from_utf8(&score)
                            .ok()
                            .and_then(|s| s.parse::<f64>().ok());
                        match s {
                            Some(s) => {
                                push_string(body, &y);
                                body.extend_from_slice(&s.to_le_bytes());
                                *items += 1;
                            }
                            None => {
                                fail.get_or_insert(Error::Corrupt(format!(
                                    "a score of {} that is not a number",
                                    show(&head.name)
                                )));
                            }
                        }
                    }
                    item @ (Item::Field(..) | Item::FieldExpiring(..))
                        if ttl_fields.is_some() || *valkey_ttl || matches!(item, Item::Field(..)) =>
                    {
                        let (f, v, at) = match item {
                            Item::Field(f, v) => (f, v, None),
                            Item::FieldExpiring(f, v, at) => (f, v, Some(at)),
                            _ => return,
                        };
                        let by = field_rules.iter_mut().find(|(i, _)| {
                            let r = &rules[*i];
                            r.fields.is_empty() || r.fields.iter().any(|g| glob::matches(g, &f))
                        });
                        let v = match by {
                            Some((i, n)) => {
                                *n += 1;
                                masker.mask(rules[*i].format, &v)
                            }
                            None => v,
                        };
                        if let Some(held) = ttl_fields.as_mut() {
                            held.push((f, v, at));
                        } else {
                            push_string(body, &f);
                            push_string(body, &v);
                            if *valkey_ttl {
                                body.extend_from_slice(&at.unwrap_or(-1).to_le_bytes());
                            }
                        }
                        *items += 1;
                    }
                    _ => {
                        fail.get_or_insert(Error::Rules(format!(
                            "{} holds what cannot be masked (field expiries or stream entries)",
                            show(&head.name)
                        )));
                    }
                }
            })
            .map_err(|e| Error::Corrupt(format!("{}: {e}", show(&head.name))))?;
        if let Some(f) = m.fail.take() {
            return Err(f);
        }
        if m.declared.is_some() && !m.body.is_empty() {
            let body = std::mem::take(&mut m.body);
            self.merger.raw(out, &body);
        }
        Ok(())
    }

    fn end_mask(&mut self, mut m: Masking, out: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
        m.decoder
            .finish()
            .map_err(|e| Error::Corrupt(format!("{}: {e}", show(&m.head.name))))?;
        let rules = Arc::clone(&self.rules);
        let rule = &rules[m.rule];
        let mut b = Vec::new();
        if m.shape == Shape::String {
            let Some((mac, len, held)) = m.string.take() else {
                return Err(Error::Corrupt("a string without its state".into()));
            };
            let d: [u8; 32] = mac.finalize().into_bytes().into();
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            self.write_head(&m, None, &mut b);
            out(&b);
            b.clear();
            if rule.format == Format::Length {
                // As many bytes as the input, made in pieces.
                let mut head = Vec::new();
                push_length(&mut head, len as u64);
                self.merger.raw(&mut b, &head);
                out(&b);
                // Pieces of 64 KiB: 2,048 blocks of 32 bytes each, so the
                // bytes are those `Masker::mask` gives for the whole value.
                const PIECE: usize = 1 << 16;
                let mut done = 0usize;
                while done < len {
                    let n = (len - done).min(PIECE);
                    let mut piece = Vec::with_capacity(n);
                    let first_block = (done / 32) as u64;
                    self.masker
                        .expand_from(&d, first_block, n, ALNUM, &mut piece);
                    b.clear();
                    self.merger.raw(&mut b, &piece);
                    out(&b);
                    done += n;
                }
                b.clear();
            } else {
                let y = self.masker.finish(rule.format, &d, len, Some(&held));
                let mut s = Vec::new();
                push_string(&mut s, &y);
                self.merger.raw(&mut b, &s);
            }
            self.counts[m.rule].masked += 1;
        } else {
            match m.declared {
                Some(n) if n != m.items => {
                    return Err(Error::Corrupt(format!(
                        "{} declared {n} elements and held {}",
                        show(&m.head.name),
                        m.items
                    )))
                }
                Some(_) => {}
                None => {
                    if let Some(held) = m.ttl_fields.take() {
                        // Type 24: the soonest expiry, then (TTL from it + 1
                        // or 0 for none, field, value) per field.
                        match held.iter().filter_map(|x| x.2).min() {
                            Some(min) => {
                                m.out_code = 24;
                                self.write_head(&m, None, &mut b);
                                let mut v = min.to_le_bytes().to_vec();
                                push_length(&mut v, held.len() as u64);
                                for (f, x, at) in held {
                                    let t = at.map_or(0, |at| at.saturating_sub(min) as u64 + 1);
                                    push_length(&mut v, t);
                                    push_string(&mut v, &f);
                                    push_string(&mut v, &x);
                                }
                                m.body = v;
                            }
                            None => {
                                m.out_code = 4;
                                self.write_head(&m, Some(held.len() as u64), &mut b);
                                for (f, x, _) in held {
                                    push_string(&mut m.body, &f);
                                    push_string(&mut m.body, &x);
                                }
                            }
                        }
                    } else {
                        self.write_head(&m, Some(m.items), &mut b)
                    }
                }
            }
            let body = std::mem::take(&mut m.body);
            self.merger.raw(&mut b, &body);
            self.counts[m.rule].masked += m.masked;
            for (i, n) in &m.field_rules {
                self.counts[*i].masked += n;
                // A later rule that masked fields of this key counts it too.
                if *i != m.rule && *n > 0 {
                    self.counts[*i].keys += 1;
                }
            }
        }
        out(&b);
        Ok(())
    }

    /// The end of the input: `EOF`, the checksum, and what every rule did.
    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<Report, Error> {
        let mut b = Vec::new();
        self.merger.finish(&mut b).map_err(Error::Corrupt)?;
        out(&b);
        Ok(Report {
            keys_in: self.keys_in,
            keys_out: self.merger.keys,
            rules: self.counts.clone(),
        })
    }
}

/// The SHA-256 of a rules file's bytes, hex (the manifest records it).
pub fn rules_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
