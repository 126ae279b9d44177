//! LZF decompression (the format of Redis's compressed strings), safe and
//! bounded: it writes into a buffer of exactly the declared length and fails
//! on any reference outside it.

/// Why a compressed string is corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LzfError {
    /// A literal run or back reference goes past the declared length.
    OutputOverrun,
    /// The input ends inside an instruction.
    InputTruncated,
    /// A back reference points before the start of the output.
    BadReference,
    /// The input ended before the declared length was produced.
    ShortOutput { produced: usize },
}

impl core::fmt::Display for LzfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LzfError::OutputOverrun => write!(f, "LZF data expands past its declared length"),
            LzfError::InputTruncated => write!(f, "LZF data ends inside an instruction"),
            LzfError::BadReference => write!(f, "LZF back reference points before the start"),
            LzfError::ShortOutput { produced } => {
                write!(f, "LZF data expands to only {produced} bytes")
            }
        }
    }
}

/// The largest expansion LZF can reach: a 3-byte back reference copies up
/// to 264 bytes. A declared length above `input * MAX_RATIO` is corrupt, so
/// nothing is allocated for it.
pub const MAX_RATIO: usize = 89;

/// Decompresses `input` into `out`, which is cleared and resized to `len`.
pub fn decompress_into(input: &[u8], len: usize, out: &mut Vec<u8>) -> Result<(), LzfError> {
    out.clear();
    if len
        > input
            .len()
            .saturating_mul(MAX_RATIO)
            .saturating_add(MAX_RATIO)
    {
        return Err(LzfError::OutputOverrun);
    }
    out.reserve(len);
    let mut i = 0usize;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(i..i + run).ok_or(LzfError::InputTruncated)?;
            if out.len() + run > len {
                return Err(LzfError::OutputOverrun);
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut run = ctrl >> 5;
            if run == 7 {
                run += usize::from(*input.get(i).ok_or(LzfError::InputTruncated)?);
                i += 1;
            }
            run += 2;
            let low = usize::from(*input.get(i).ok_or(LzfError::InputTruncated)?);
            i += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            if back > out.len() {
                return Err(LzfError::BadReference);
            }
            if out.len() + run > len {
                return Err(LzfError::OutputOverrun);
            }
            let start = out.len() - back;
            if back >= run {
                out.extend_from_within(start..start + run);
            } else if back == 1 {
                // A run of one byte (zero padding, mostly).
                let b = out[start];
                out.resize(out.len() + run, b);
            } else {
                // An overlapping reference repeats the last `back` bytes.
                let mut left = run;
                while left > 0 {
                    let n = left.min(back);
                    let s = out.len() - back;
                    out.extend_from_within(s..s + n);
                    left -= n;
                }
            }
        }
    }
    if out.len() != len {
        return Err(LzfError::ShortOutput {
            produced: out.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_overlapping_reference() {
        // "ab" literal, then copy 6 bytes from 2 back: "abababab".
        let input = [1, b'a', b'b', (4 << 5), 1];
        let mut out = Vec::new();
        decompress_into(&input, 8, &mut out).unwrap();
        assert_eq!(out, b"abababab");
    }

    #[test]
    fn overlapping_references_of_every_period() {
        // A literal of `p` bytes, then a reference `p` back copying 40 bytes.
        for p in 1..=8usize {
            let lit: Vec<u8> = (0..p as u8).map(|i| b'a' + i).collect();
            let mut input = vec![(p - 1) as u8];
            input.extend_from_slice(&lit);
            let run = 40usize;
            input.push((7 << 5) as u8);
            input.push((run - 2 - 7) as u8);
            input.push((p - 1) as u8);
            let mut out = Vec::new();
            decompress_into(&input, p + run, &mut out).unwrap();
            let want: Vec<u8> = (0..p + run).map(|i| lit[i % p]).collect();
            assert_eq!(out, want, "period {p}");
        }
    }

    #[test]
    fn errors() {
        let mut out = Vec::new();
        assert_eq!(
            decompress_into(&[5, b'a'], 6, &mut out),
            Err(LzfError::InputTruncated)
        );
        assert_eq!(
            decompress_into(&[0, b'a', 0x20, 5], 9, &mut out),
            Err(LzfError::BadReference)
        );
        assert_eq!(
            decompress_into(&[1, b'a', b'b'], 3, &mut out),
            Err(LzfError::ShortOutput { produced: 2 })
        );
        assert_eq!(
            decompress_into(&[1, b'a', b'b'], 1, &mut out),
            Err(LzfError::OutputOverrun)
        );
        assert_eq!(
            decompress_into(&[0, b'a'], 10_000, &mut out),
            Err(LzfError::OutputOverrun)
        );
    }
}
