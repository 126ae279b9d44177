//! Replies of `redis-cli --no-raw`, run in the Redis container.
//!
//! `redis-cli` prints errors on stdout and (before 7.2) exits 0 on them, so
//! the reply type is read from its typed output format: `(error) ...`,
//! `(integer) N`, `(nil)`, quoted bulk strings, numbered array items, and
//! plain text for status replies and `INFO`.

use std::collections::BTreeMap;

/// One reply, as far as the commands we send need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`, `Background saving started`, or `INFO`'s text.
    Text(String),
    /// `-ERR ...`, without the `(error) ` prefix.
    Error(String),
    /// `:N`
    Integer(i64),
    /// A bulk string, unescaped.
    Bulk(Vec<u8>),
    /// A nil bulk or array.
    Nil,
    /// A flat array.
    Array(Vec<Reply>),
}

/// Parses the whole stdout of one `redis-cli --no-raw CMD ...` run.
pub fn parse_cli_output(out: &str) -> Reply {
    let out = out.strip_suffix('\n').unwrap_or(out);
    let out = out.strip_suffix('\r').unwrap_or(out);
    if let Some(e) = out.strip_prefix("(error) ") {
        return Reply::Error(e.to_string());
    }
    if out == "(empty array)" || out == "(empty list or set)" {
        return Reply::Array(Vec::new());
    }
    if out.starts_with("1) ") {
        let mut items = Vec::new();
        for line in out.lines() {
            match split_item(line) {
                Some(v) => items.push(parse_scalar(v)),
                None => return Reply::Text(out.to_string()),
            }
        }
        return Reply::Array(items);
    }
    if !out.contains('\n') {
        return parse_scalar(out);
    }
    Reply::Text(out.to_string())
}

fn split_item(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let (n, rest) = line.split_once(") ")?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(rest)
}

fn parse_scalar(s: &str) -> Reply {
    if s == "(nil)" {
        return Reply::Nil;
    }
    if let Some(n) = s.strip_prefix("(integer) ") {
        if let Ok(n) = n.trim().parse() {
            return Reply::Integer(n);
        }
    }
    if let Some(e) = s.strip_prefix("(error) ") {
        return Reply::Error(e.to_string());
    }
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        if let Some(b) = unescape(&s[1..s.len() - 1]) {
            return Reply::Bulk(b);
        }
    }
    Reply::Text(s.to_string())
}

/// Undoes `sdscatrepr`: `\\ \" \n \r \t \a \b \xHH`.
fn unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = *b.get(i + 1)?;
        i += 2;
        out.push(match c {
            b'\\' => b'\\',
            b'"' => b'"',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'a' => 0x07,
            b'b' => 0x08,
            b'x' => {
                let h = s.get(i..i + 2)?;
                i += 2;
                u8::from_str_radix(h, 16).ok()?
            }
            _ => return None,
        });
    }
    Some(out)
}

impl Reply {
    /// The value of `CONFIG GET name` (`["name", "value"]`).
    /// `CONFIG GET pattern`'s answer as `name -> value` (name/value pairs).
    pub fn config_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if let Reply::Array(items) = self {
            for pair in items.chunks(2) {
                if let [Reply::Bulk(k), Reply::Bulk(v)] = pair {
                    m.insert(
                        String::from_utf8_lossy(k).to_lowercase(),
                        String::from_utf8_lossy(v).into_owned(),
                    );
                }
            }
        }
        m
    }

    pub fn config_value(&self, name: &str) -> Option<String> {
        match self {
            Reply::Array(items) => match items.as_slice() {
                [Reply::Bulk(k), Reply::Bulk(v)] if k.eq_ignore_ascii_case(name.as_bytes()) => {
                    String::from_utf8(v.clone()).ok()
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// `INFO` text as `field -> value`, sections and blank lines skipped.
pub fn info_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Keys and keys with an expiry per database, from `INFO` fields
/// (`db0:keys=3,expires=1,avg_ttl=0`).
pub fn keyspace(fields: &BTreeMap<String, String>) -> BTreeMap<u64, (u64, u64)> {
    fields
        .iter()
        .filter_map(|(k, v)| {
            let db = k.strip_prefix("db")?.parse::<u64>().ok()?;
            let field = |name: &str| {
                v.split(',')
                    .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
                    .and_then(|x| x.trim().parse::<u64>().ok())
                    .unwrap_or(0)
            };
            Some((db, (field("keys"), field("expires"))))
        })
        .collect()
}
