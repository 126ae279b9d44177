//! The replication download decoder on arbitrary socket bytes: never panics,
//! hands on only bytes it was given, in order.
#![no_main]

use kubectl_redis_core::wire::repl::Download;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split) + 1;
    let mut d = Download::new();
    let mut out = 0usize;
    for c in rest.chunks(chunk) {
        match d.feed(c) {
            Ok(r) => {
                assert!(r.start <= r.end && r.end <= c.len());
                out += r.len();
            }
            Err(_) => break,
        }
        if d.is_done() {
            break;
        }
    }
    assert!(out <= rest.len());
    let _ = d.finish();
});
