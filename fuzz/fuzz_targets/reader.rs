//! The RDB reader on arbitrary bytes, fed in chunks whose sizes the input
//! chooses: it must never panic, never allocate more than a bound set by the
//! input's size, and always finish (libFuzzer's -timeout catches a loop).
#![no_main]

use kubectl_redis_core::rdb::inspect::{Inspector, Options as InspectOptions};
use kubectl_redis_core::rdb::reader::{Options, Reader};
use libfuzzer_sys::fuzz_target;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live heap bytes and their peak.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new > l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    // A real header most of the time, so the fuzzer gets past it.
    let mut input = Vec::with_capacity(rest.len() + 9);
    if split & 0x80 == 0 {
        input.extend_from_slice(if split & 0x40 == 0 { b"REDIS0011" } else { b"VALKEY080" });
    }
    input.extend_from_slice(rest);
    let chunk = usize::from(split & 0x3F) + 1;

    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    {
        let mut r = Reader::new(Options {
            max_buffered: 1 << 16,
            check_values: true,
        });
        let mut i = Inspector::new(InspectOptions {
            top: 3,
            prefix_sep: Some(":".into()),
        });
        let mut failed = false;
        for c in input.chunks(chunk) {
            if r.feed(c, &mut |e| i.on(&e)).is_err() {
                failed = true;
                break;
            }
        }
        if !failed {
            if let Ok(s) = r.finish() {
                let _ = i.report(&s);
            }
        }
    }
    // LZF expands at most 89 times; everything else is a copy of the input.
    let used = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let bound = 256 * input.len() + (256 << 10);
    assert!(used <= bound, "{used} bytes allocated for {} bytes of input", input.len());
});
