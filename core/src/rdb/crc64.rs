//! CRC-64/REDIS ("Jones"): polynomial 0xad93d23594c935a9, reflected, initial
//! value 0, no final xor. Check value for `123456789`: 0xe9c6d914c4b8d9ca.
//!
//! [`Crc64`] uses carry-less multiplication (PCLMULQDQ, PMULL) through the
//! `crc-fast` crate on x86_64 and aarch64 when the CPU has it. [`update`] is
//! our own table-driven slicing by 16 (sixteen 256-entry tables built at
//! compile time), pure safe Rust: the fallback everywhere else (wasm), and
//! the reference the fast path is tested against.

/// The reflected polynomial.
pub const POLY: u64 = 0x95ac_9329_ac4b_c9b5;

const fn tables() -> [[u64; 256]; 16] {
    let mut t = [[0u64; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static T: [[u64; 256]; 16] = tables();

/// Continues a CRC over `data` (start with 0).
pub fn update(mut crc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let lo = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ crc;
        let hi = u64::from_le_bytes([c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]]);
        crc = T[15][(lo & 0xff) as usize]
            ^ T[14][((lo >> 8) & 0xff) as usize]
            ^ T[13][((lo >> 16) & 0xff) as usize]
            ^ T[12][((lo >> 24) & 0xff) as usize]
            ^ T[11][((lo >> 32) & 0xff) as usize]
            ^ T[10][((lo >> 40) & 0xff) as usize]
            ^ T[9][((lo >> 48) & 0xff) as usize]
            ^ T[8][(lo >> 56) as usize]
            ^ T[7][(hi & 0xff) as usize]
            ^ T[6][((hi >> 8) & 0xff) as usize]
            ^ T[5][((hi >> 16) & 0xff) as usize]
            ^ T[4][((hi >> 24) & 0xff) as usize]
            ^ T[3][((hi >> 32) & 0xff) as usize]
            ^ T[2][((hi >> 40) & 0xff) as usize]
            ^ T[1][((hi >> 48) & 0xff) as usize]
            ^ T[0][(hi >> 56) as usize];
    }
    for &b in chunks.remainder() {
        crc = T[0][((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// The CRC of `data` alone.
pub fn checksum(data: &[u8]) -> u64 {
    let mut c = Crc64::new();
    c.update(data);
    c.value()
}

/// A running CRC-64/REDIS, the fastest way this target has.
#[derive(Clone, Copy, Debug)]
pub struct Crc64 {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    d: crc_fast::Digest,
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    crc: u64,
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    /// At the start (CRC 0).
    pub fn new() -> Self {
        Crc64 {
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            d: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis),
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            crc: 0,
        }
    }

    /// Continues over `data`.
    pub fn update(&mut self, data: &[u8]) {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        self.d.update(data);
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            self.crc = update(self.crc, data);
        }
    }

    /// The CRC so far.
    pub fn value(&self) -> u64 {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        return self.d.finalize();
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        self.crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitwise(data: &[u8]) -> u64 {
        let mut crc = 0u64;
        for &b in data {
            crc ^= u64::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_value() {
        assert_eq!(checksum(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(update(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    /// [`Crc64`] (carry-less multiplication on x86_64/aarch64, the tables
    /// elsewhere) against the bitwise reference, fed in pieces.
    #[test]
    fn incremental_crc_matches_the_bitwise_reference_in_any_pieces() {
        let data: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for split in [0, 1, 15, 16, 17, 255, 4096, 65_537, 99_999] {
            let mut c = Crc64::new();
            c.update(&data[..split]);
            c.update(&data[split..]);
            assert_eq!(c.value(), bitwise(&data), "split at {split}");
        }
    }

    #[test]
    fn slicing_matches_bitwise_at_every_length_and_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 13) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(checksum(&data[..n]), bitwise(&data[..n]), "length {n}");
        }
        for split in 0..data.len() {
            let c = update(update(0, &data[..split]), &data[split..]);
            assert_eq!(c, bitwise(&data), "split at {split}");
        }
    }
}
