//! Consistency checks of the packed encodings stored inside RDB strings:
//! listpack, ziplist, intset and zipmap. Each check walks every entry and
//! returns the number of entries, or what is wrong and where (an offset
//! inside the blob).

/// A packed encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pack {
    /// Redis 7.0+ listpack.
    Listpack,
    /// Redis 3.2-6.2 ziplist.
    Ziplist,
    /// Sorted integers.
    Intset,
    /// Redis 2.x hash zipmap.
    Zipmap,
}

impl Pack {
    /// Lower-case name, as in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Pack::Listpack => "listpack",
            Pack::Ziplist => "ziplist",
            Pack::Intset => "intset",
            Pack::Zipmap => "zipmap",
        }
    }
}

/// What is wrong with a packed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    /// Offset inside the blob.
    pub at: usize,
    /// What was expected there.
    pub what: String,
}

fn err<T>(at: usize, what: impl Into<String>) -> Result<T, PackError> {
    Err(PackError {
        at,
        what: what.into(),
    })
}

/// Checks `blob` as `pack` and returns its entry count.
pub fn check(pack: Pack, blob: &[u8]) -> Result<u64, PackError> {
    match pack {
        Pack::Listpack => listpack(blob),
        Pack::Ziplist => ziplist(blob),
        Pack::Intset => intset(blob),
        Pack::Zipmap => zipmap(blob),
    }
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Listpack: `<total u32><count u16> entries... 0xFF`; each entry is an
/// encoding, its data, and its own length backwards (1-5 bytes).
pub fn listpack(b: &[u8]) -> Result<u64, PackError> {
    let Some(total) = u32le(b, 0) else {
        return err(0, "a 6-byte listpack header");
    };
    if total as usize != b.len() {
        return err(
            0,
            format!("a listpack of {} bytes (its header says {total})", b.len()),
        );
    }
    let declared = u16le(b, 4).unwrap_or(0);
    let mut at = 6usize;
    let mut n = 0u64;
    loop {
        let Some(&e) = b.get(at) else {
            return err(at, "another listpack entry or the 0xFF terminator");
        };
        if e == 0xFF {
            if at + 1 != b.len() {
                return err(at, "the listpack terminator at the end of the blob");
            }
            break;
        }
        let (head, data) = if e & 0x80 == 0 {
            (1, 0)
        } else if e & 0xC0 == 0x80 {
            (1, usize::from(e & 0x3F))
        } else if e & 0xE0 == 0xC0 {
            (2, 0)
        } else if e & 0xF0 == 0xE0 {
            let Some(&l) = b.get(at + 1) else {
                return err(at, "a 12-bit string length");
            };
            (2, (usize::from(e & 0x0F) << 8) | usize::from(l))
        } else {
            match e {
                0xF0 => match u32le(b, at + 1) {
                    Some(l) => (5, l as usize),
                    None => return err(at, "a 32-bit string length"),
                },
                0xF1 => (3, 0),
                0xF2 => (4, 0),
                0xF3 => (5, 0),
                0xF4 => (9, 0),
                _ => return err(at, format!("a listpack entry encoding (found 0x{e:02x})")),
            }
        };
        let len = head + data;
        let back = match len {
            0..=127 => 1,
            128..=16383 => 2,
            16384..=2097151 => 3,
            2097152..=268435455 => 4,
            _ => 5,
        };
        let end = at.checked_add(len).and_then(|x| x.checked_add(back));
        let Some(end) = end.filter(|&x| x < b.len()) else {
            return err(at, "a listpack entry that fits inside the blob");
        };
        // The back length is read from its last byte backwards, 7 bits a byte.
        let mut v = 0usize;
        let mut shift = 0;
        let mut i = end - 1;
        loop {
            let byte = b[i];
            v |= usize::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 || i == at + len {
                break;
            }
            shift += 7;
            i -= 1;
        }
        if v != len || i != at + len {
            return err(
                at + len,
                format!("a back length of {len} for the entry at {at}"),
            );
        }
        at = end;
        n += 1;
    }
    if declared != u16::MAX && u64::from(declared) != n {
        return err(
            4,
            format!("{declared} entries as the header says, found {n}"),
        );
    }
    Ok(n)
}

/// Ziplist: `<zlbytes u32><zltail u32><zllen u16> entries... 0xFF`; each
/// entry starts with the previous entry's length.
pub fn ziplist(b: &[u8]) -> Result<u64, PackError> {
    let (Some(bytes), Some(tail), Some(declared)) = (u32le(b, 0), u32le(b, 4), u16le(b, 8)) else {
        return err(0, "a 10-byte ziplist header");
    };
    if bytes as usize != b.len() {
        return err(
            0,
            format!("a ziplist of {} bytes (its header says {bytes})", b.len()),
        );
    }
    let mut at = 10usize;
    let mut prev = 0usize;
    let mut last = 10usize;
    let mut n = 0u64;
    loop {
        let Some(&first) = b.get(at) else {
            return err(at, "another ziplist entry or the 0xFF terminator");
        };
        if first == 0xFF {
            if at + 1 != b.len() {
                return err(at, "the ziplist terminator at the end of the blob");
            }
            break;
        }
        let (plen, pl) = if first < 254 {
            (usize::from(first), 1)
        } else if first == 254 {
            match u32le(b, at + 1) {
                Some(v) => (v as usize, 5),
                None => return err(at, "a 5-byte previous-entry length"),
            }
        } else {
            return err(at, "a previous-entry length");
        };
        if plen != prev {
            return err(
                at,
                format!("a previous-entry length of {prev}, found {plen}"),
            );
        }
        let e_at = at + pl;
        let Some(&e) = b.get(e_at) else {
            return err(e_at, "a ziplist entry encoding");
        };
        let (head, data) = match e >> 6 {
            0 => (1, usize::from(e & 0x3F)),
            1 => match b.get(e_at + 1) {
                Some(&l) => (2, (usize::from(e & 0x3F) << 8) | usize::from(l)),
                None => return err(e_at, "a 14-bit string length"),
            },
            2 if e == 0x80 => match b.get(e_at + 1..e_at + 5) {
                Some(s) => (5, u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize),
                None => return err(e_at, "a 32-bit string length"),
            },
            _ => match e {
                0xC0 => (1, 2),
                0xD0 => (1, 4),
                0xE0 => (1, 8),
                0xF0 => (1, 3),
                0xFE => (1, 1),
                0xF1..=0xFD => (1, 0),
                _ => return err(e_at, format!("a ziplist entry encoding (found 0x{e:02x})")),
            },
        };
        let len = pl + head + data;
        let Some(end) = at.checked_add(len).filter(|&x| x < b.len()) else {
            return err(at, "a ziplist entry that fits inside the blob");
        };
        last = at;
        prev = len;
        at = end;
        n += 1;
    }
    if tail as usize != last {
        return err(4, format!("the tail offset {last}, found {tail}"));
    }
    if declared != u16::MAX && u64::from(declared) != n {
        return err(
            8,
            format!("{declared} entries as the header says, found {n}"),
        );
    }
    Ok(n)
}

/// Intset: `<encoding u32: 2, 4 or 8><length u32>` then sorted integers.
pub fn intset(b: &[u8]) -> Result<u64, PackError> {
    let (Some(enc), Some(len)) = (u32le(b, 0), u32le(b, 4)) else {
        return err(0, "an 8-byte intset header");
    };
    if !matches!(enc, 2 | 4 | 8) {
        return err(
            0,
            format!("an intset encoding of 2, 4 or 8 bytes, found {enc}"),
        );
    }
    let want = (enc as usize)
        .checked_mul(len as usize)
        .and_then(|x| x.checked_add(8));
    if want != Some(b.len()) {
        return err(
            4,
            format!("{len} integers of {enc} bytes in a {}-byte intset", b.len()),
        );
    }
    let mut prev: Option<i64> = None;
    for (i, c) in b[8..].chunks_exact(enc as usize).enumerate() {
        let v = match enc {
            2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
            4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        };
        if prev.is_some_and(|p| p >= v) {
            return err(8 + i * enc as usize, "integers in strictly ascending order");
        }
        prev = Some(v);
    }
    Ok(u64::from(len))
}

/// Zipmap (Redis 2.x hashes): `<zmlen>` then `<len>key<len><free>value` pairs, 0xFF.
pub fn zipmap(b: &[u8]) -> Result<u64, PackError> {
    let mut at = 1usize;
    let mut n = 0u64;
    let read_len = |at: usize| -> Option<(usize, usize)> {
        let f = *b.get(at)?;
        match f {
            0..=253 => Some((usize::from(f), 1)),
            254 => Some((u32le(b, at + 1)? as usize, 5)),
            _ => None,
        }
    };
    if b.is_empty() {
        return err(0, "a zipmap length byte");
    }
    loop {
        match b.get(at) {
            Some(0xFF) if at + 1 == b.len() => break,
            Some(_) => {}
            None => return err(at, "another zipmap entry or the 0xFF terminator"),
        }
        let Some((kl, kh)) = read_len(at) else {
            return err(at, "a zipmap key length");
        };
        let v_at = at + kh + kl;
        let Some((vl, vh)) = read_len(v_at) else {
            return err(v_at, "a zipmap value length");
        };
        let Some(&free) = b.get(v_at + vh) else {
            return err(v_at, "a zipmap free byte count");
        };
        let end = v_at + vh + 1 + vl + usize::from(free);
        if end >= b.len() {
            return err(at, "a zipmap entry that fits inside the blob");
        }
        at = end;
        n += 2;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp(entries: &[&[u8]]) -> Vec<u8> {
        // Strings of up to 63 bytes, 6-bit encoding.
        let mut body = Vec::new();
        for e in entries {
            body.push(0x80 | e.len() as u8);
            body.extend_from_slice(e);
            body.push(1 + e.len() as u8);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((6 + body.len() + 1) as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    #[test]
    fn listpack_counts_and_rejects() {
        let good = lp(&[b"a", b"hello", b""]);
        assert_eq!(listpack(&good), Ok(3));
        let mut bad = good.clone();
        bad[4] = 4;
        assert!(listpack(&bad).unwrap_err().what.contains("4 entries"));
        let mut bad = good.clone();
        bad[8] = 9; // back length of the first entry
        assert!(listpack(&bad).is_err());
        assert!(listpack(&good[..good.len() - 1]).is_err());
    }

    #[test]
    fn intset_order() {
        let mut b = vec![2, 0, 0, 0, 2, 0, 0, 0];
        b.extend_from_slice(&1i16.to_le_bytes());
        b.extend_from_slice(&5i16.to_le_bytes());
        assert_eq!(intset(&b), Ok(2));
        b[8] = 7;
        assert!(intset(&b).is_err());
    }

    #[test]
    fn ziplist_walks() {
        // two entries: "ab" (prevlen 0) and int8 5 (prevlen 4)
        let mut b = vec![0u8; 10];
        b.extend_from_slice(&[0, 0x02, b'a', b'b']);
        b.extend_from_slice(&[4, 0xFE, 5]);
        b.push(0xFF);
        let n = b.len() as u32;
        b[0..4].copy_from_slice(&n.to_le_bytes());
        b[4..8].copy_from_slice(&14u32.to_le_bytes());
        b[8..10].copy_from_slice(&2u16.to_le_bytes());
        assert_eq!(ziplist(&b), Ok(2));
        b[14] = 3;
        assert!(ziplist(&b).is_err());
    }
}
