//! Redis's glob patterns (`KEYS`, `SCAN MATCH`): `*` any run of bytes, `?`
//! one byte, `[abc]`, `[^abc]`, `[a-z]` a byte of a class, `\x` the byte `x`
//! itself. Matching is over bytes and case-sensitive, as in Redis; a `[`
//! without its `]` runs to the end of the pattern, as in Redis.
//!
//! ```
//! use kubectl_redis_core::rdb::glob::matches;
//! assert!(matches(b"session:*", b"session:42"));
//! assert!(matches(b"user:[0-9]?", b"user:7a"));
//! assert!(!matches(b"user:[^0-9]*", b"user:7a"));
//! assert!(matches(br"a\*b", b"a*b") && !matches(br"a\*b", b"axb"));
//! ```

/// Whether `s` matches the pattern `pat`.
pub fn matches(pat: &[u8], s: &[u8]) -> bool {
    // The common patterns first: a name as it is, or a prefix and `*`.
    match pat
        .iter()
        .position(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'))
    {
        None => return pat == s,
        Some(n) if n + 1 == pat.len() && pat[n] == b'*' => return s.starts_with(&pat[..n]),
        Some(_) => {}
    }
    general(pat, s)
}

/// Any pattern, by backtracking to the last `*`.
fn general(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    // Where the last `*` was, and where in `s` it is tried to end next.
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if let Some(&c) = pat.get(p) {
            let step = match c {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => Some(p + 1),
                b'[' => {
                    let (ok, next) = class(pat, p + 1, s[i]);
                    ok.then_some(next)
                }
                b'\\' if p + 1 < pat.len() => (pat[p + 1] == s[i]).then_some(p + 2),
                c => (c == s[i]).then_some(p + 1),
            };
            if let Some(next) = step {
                p = next;
                i += 1;
                continue;
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p.min(pat.len())..].iter().all(|&c| c == b'*')
}

/// A class starting after its `[` at `p`: whether `b` is in it, and where
/// the pattern continues after its `]`.
fn class(pat: &[u8], mut p: usize, b: u8) -> (bool, usize) {
    let not = pat.get(p) == Some(&b'^');
    if not {
        p += 1;
    }
    let mut hit = false;
    loop {
        match pat.get(p) {
            None => break,
            Some(b']') => {
                p += 1;
                break;
            }
            Some(b'\\') if p + 1 < pat.len() => {
                hit |= pat[p + 1] == b;
                p += 2;
            }
            Some(&lo) if pat.get(p + 1) == Some(&b'-') && p + 2 < pat.len() => {
                let hi = pat[p + 2];
                let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                hit |= (lo..=hi).contains(&b);
                p += 3;
            }
            Some(&c) => {
                hit |= c == b;
                p += 1;
            }
        }
    }
    (hit != not, p)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_as_redis_does() {
        let yes: &[(&[u8], &[u8])] = &[
            (b"*", b""),
            (b"*", b"anything"),
            (b"a*", b"a"),
            (b"*b", b"aab"),
            (b"a*b*c", b"axxbyyc"),
            (b"a*b*c", b"abbc"),
            (b"h?llo", b"hello"),
            (b"h[ae]llo", b"hallo"),
            (b"h[^e]llo", b"hallo"),
            (b"h[a-b]llo", b"hbllo"),
            (b"h[b-a]llo", b"hbllo"),
            (br"\*", b"*"),
            (br"[\]]", b"]"),
            (b"user:*:email", b"user:1:2:email"),
            (b"[abc", b"b"),
            (b"session:*", b"session:"),
            (b"email", b"email"),
        ];
        for (p, s) in yes {
            assert!(
                matches(p, s),
                "{} should match {}",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(s)
            );
        }
        let no: &[(&[u8], &[u8])] = &[
            (b"a*", b""),
            (b"a*b", b"aab c"),
            (b"h?llo", b"hllo"),
            (b"h[ae]llo", b"hillo"),
            (b"h[^e]llo", b"hello"),
            (br"\*", b"x"),
            (b"session:*", b"sessions:1"),
            (b"", b"x"),
            (b"abc", b"ab"),
            (b"email", b"emails"),
            (b"email", b"emai"),
        ];
        for (p, s) in no {
            assert!(
                !matches(p, s),
                "{} should not match {}",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(s)
            );
        }
    }

    /// The shortcuts for a plain name and for a prefix and `*` answer as
    /// the general matcher does.
    #[test]
    fn shortcuts_agree_with_the_general_matcher() {
        let pats: &[&[u8]] = &[b"", b"*", b"a", b"ab", b"a*", b"ab*", b"b*", b"abc*"];
        let names: &[&[u8]] = &[b"", b"a", b"ab", b"abc", b"abcd", b"b", b"ba", b"a*"];
        for p in pats {
            for s in names {
                assert_eq!(matches(p, s), super::general(p, s), "{p:?} {s:?}");
            }
        }
    }
}
