//! The Redis Cluster router on arbitrary replies from its nodes: whatever a
//! broken or hostile server answers (redirections to slots, hosts and ports
//! that do not exist, partial and garbled RESP), it never panics; it follows
//! what it can or returns an error.
#![no_main]

use kubectl_redis_core::topo::cluster::{Router, SlotMap};
use kubectl_redis_core::wire::reply::Reply;
use libfuzzer_sys::fuzz_target;

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

/// Three primaries on 127.0.0.1:7000-7002, as `CLUSTER SLOTS` lists them.
fn three() -> Option<SlotMap> {
    let range = |a: i64, b: i64, port: i64| {
        Reply::Array(vec![
            Reply::Integer(a),
            Reply::Integer(b),
            Reply::Array(vec![bulk("127.0.0.1"), Reply::Integer(port), bulk(&format!("n{port}"))]),
        ])
    };
    SlotMap::from_slots(&Reply::Array(vec![
        range(0, 5460, 7000),
        range(5461, 10922, 7001),
        range(10923, 16383, 7002),
    ]))
    .ok()
}

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some(map) = three() else { return };
    let mut r = Router::new(map);
    let mut all = cmd(&["SELECT", "0"]);
    for k in ["foo", "bar", "baz", "{user1}.a", "qux"] {
        all.extend(cmd(&["SET", k, "v"]));
    }
    all.extend(cmd(&["RPUSH", "foo", "a", "b"]));
    if r.push(&all).is_err() {
        return;
    }
    // Each step: a node (first byte), a length (second), that many bytes
    // as its replies.
    let mut rest = data;
    let mut out = Vec::new();
    while let [node, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        let node = usize::from(*node) % (r.nodes() + 1);
        let _ = r.take_out(node);
        match r.replies(node, chunk) {
            Ok(used) => assert!(used <= chunk.len()),
            Err(_) => break,
        }
        r.ordered(&mut out);
    }
});
