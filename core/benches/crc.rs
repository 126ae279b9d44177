//! Raw CRC-64/REDIS speed (`cargo bench -p kubectl-redis-core --bench crc`):
//! GB/s over a 256 MiB buffer, best of five: the reader's CRC, our own
//! slicing-by-16 tables (the wasm path) and a bytewise table-driven CRC
//! (what most RDB tools use) as the reference.

use kubectl_redis_core::rdb::crc64;
use std::hint::black_box;
use std::time::Instant;

fn bytewise(data: &[u8]) -> u64 {
    static T: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let t = T.get_or_init(|| {
        let mut t = [0u64; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u64;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    (c >> 1) ^ crc64::POLY
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    data.iter().fold(0u64, |crc, &b| {
        t[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

fn best(data: &[u8], f: impl Fn(&[u8]) -> u64) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut v = 0;
    for _ in 0..5 {
        let t = Instant::now();
        v = black_box(f(black_box(data)));
        best = best.min(t.elapsed().as_secs_f64());
    }
    (data.len() as f64 / best / 1e9, v)
}

fn main() {
    let n = 256 << 20;
    let data: Vec<u8> = (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u8)
        .collect();
    let (ours, a) = best(&data, crc64::checksum);
    let (tables, b) = best(&data, |d| crc64::update(0, d));
    let (reference, c) = best(&data, bytewise);
    assert!(a == b && b == c, "all compute the same CRC");
    println!("crc64 (as the reader uses it): {ours:6.2} GB/s   goal: at least 2.5 GB/s");
    println!("crc64 slicing-by-16 (wasm):    {tables:6.2} GB/s");
    println!("crc64 bytewise table:          {reference:6.2} GB/s   (what most RDB tools use)");
    println!("ratio to bytewise: {:.1}x", ours / reference);
}
