//! The archive's sans-I/O parts: the stream cut into segments, segments
//! read back and cut at a second, chains, windows, gaps and plans.

use kubectl_redis_core::pitr::chain::{self, Base, Segment};
use kubectl_redis_core::pitr::replay;
use kubectl_redis_core::pitr::stream::{Event, Follower, Limits, SegmentInfo};
use kubectl_redis_core::pitr::{self, parse_to_time};
use kubectl_redis_core::wire::repl::resp;

fn shown(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n\n")
}

/// As Redis 7.0.15 sent it after `+FULLRESYNC` (pitr.md): SELECT, a SET,
/// an EVAL's effects in MULTI/EXEC, SETEX as SET PXAT, PINGs, a GETACK.
fn stream() -> Vec<(i64, Vec<u8>)> {
    vec![
        (1_796_388_869_100, resp(&["SELECT", "0"])),
        (1_796_388_869_100, resp(&["SET", "a", "1"])),
        (1_796_388_869_400, resp(&["PING"])),
        (1_796_388_870_050, resp(&["MULTI"])),
        (1_796_388_870_050, resp(&["SET", "b", "2"])),
        (1_796_388_870_050, resp(&["INCR", "a"])),
        (1_796_388_870_050, resp(&["EXEC"])),
        (1_796_388_870_900, resp(&["REPLCONF", "GETACK", "*"])),
        (1_796_388_871_000, resp(&["SELECT", "3"])),
        (
            1_796_388_871_000,
            resp(&["SET", "t", "v", "PXAT", "1796388971000"]),
        ),
        (1_796_388_879_000, resp(&["PING"])),
    ]
}

#[test]
fn the_stream_becomes_an_aof_segment_with_ts_lines() {
    let mut f = Follower::new("8a6c", 100, None, Limits::default());
    let mut events = Vec::new();
    let mut total = 0u64;
    for (t, b) in stream() {
        total += b.len() as u64;
        // Fed in two halves: a command split across reads waits whole.
        let (x, y) = b.split_at(b.len() / 2);
        events.extend(f.feed(x, t).expect("feed"));
        events.extend(f.feed(y, t).expect("feed"));
    }
    assert_eq!(events, [Event::GetAck]);
    assert_eq!(f.received(), 100 + total);
    assert!(!f.due(1_796_388_878_000));
    assert!(f.due(1_796_388_879_100), "10 s after its first command");
    let s = f.seal().expect("a segment");
    assert_eq!(s.info.first_offset, 101);
    assert_eq!(s.info.last_offset, 100 + total, "the PINGs are covered");
    assert_eq!(f.sealed(), 100 + total);
    insta::assert_snapshot!("segment_bytes", shown(&s.bytes));
    insta::assert_json_snapshot!("segment_info", s.info);
    // Read back: the commands and their seconds; cut at a second.
    let cmds = replay::commands(&s.bytes).expect("parses");
    let names: Vec<(String, i64)> = cmds.iter().map(|c| (c.name.clone(), c.ts)).collect();
    insta::assert_debug_snapshot!("segment_commands", names);
    let at = |to| replay::cut(&cmds, to);
    assert_eq!(at(1_796_388_868).commands, 0);
    assert_eq!(at(1_796_388_869).commands, 2);
    assert_eq!(at(1_796_388_870).commands, 6, "the transaction whole");
    assert_eq!(at(1_796_388_871).commands, 8);
    assert!(!at(1_796_388_871).more);
    // What a replay sends: the commands' own bytes, the #TS: lines left
    // out, MULTI/EXEC too for a cluster's shard; a range of them.
    let joined = |range: core::ops::Range<usize>, no_tx: bool| -> Vec<u8> {
        cmds[range]
            .iter()
            .filter(|c| !(no_tx && (c.name == "MULTI" || c.name == "EXEC")))
            .flat_map(|c| s.bytes[c.range.clone()].to_vec())
            .collect()
    };
    for (from, take, no_tx) in [
        (0, 8, false),
        (0, 8, true),
        (1, 6, false),
        (3, 5, true),
        (8, 8, false),
    ] {
        let mut out = Vec::new();
        let n = replay::payload(&s.bytes, from, take, no_tx, &mut out).expect("payload");
        let want = joined(from..take, no_tx);
        assert_eq!(out, want, "{from}..{take} no_tx={no_tx}");
        assert!(
            !out.windows(4).any(|w| w == b"#TS:"),
            "no #TS: line is sent"
        );
        let counted = cmds[from..take]
            .iter()
            .filter(|c| !(no_tx && (c.name == "MULTI" || c.name == "EXEC")))
            .count() as u64;
        assert_eq!(n, counted, "{from}..{take} no_tx={no_tx}");
    }
    assert!(
        joined(0..8, true).len() < joined(0..8, false).len(),
        "the segment has a transaction"
    );
    // The next segment opens with the database selected at the cut.
    f.feed(&resp(&["DEL", "t"]), 1_796_388_880_000)
        .expect("feed");
    let n = f.seal().expect("segment");
    assert_eq!(n.info.first_offset, 100 + total + 1);
    assert!(
        shown(&n.bytes)
            .starts_with("#TS:1796388880\\r\\n\n*2\\r\\n\n$6\\r\\n\nSELECT\\r\\n\n$1\\r\\n\n3"),
        "{}",
        shown(&n.bytes)
    );
    assert_eq!(
        n.info.commands, 1,
        "the SELECT it opens with is not counted"
    );
}

#[test]
fn no_segment_closes_inside_a_transaction() {
    let mut f = Follower::new(
        "x",
        0,
        Some(0),
        Limits {
            bytes: 10,
            interval_ms: 1,
        },
    );
    f.feed(&resp(&["MULTI"]), 0).expect("feed");
    f.feed(&resp(&["SET", "a", "1"]), 5).expect("feed");
    assert!(f.in_transaction());
    assert!(!f.due(100));
    assert_eq!(f.seal(), None);
    f.feed(&resp(&["EXEC"]), 6).expect("feed");
    assert!(f.due(100));
    let s = f.seal().expect("sealed");
    assert_eq!(s.info.commands, 3);
    // A transaction a segment does not finish (cut off by a dropped link
    // in a file made by hand) is not replayed at all.
    let mut half = b"#TS:0\r\n".to_vec();
    half.extend(resp(&["SET", "x", "1"]));
    half.extend(resp(&["MULTI"]));
    half.extend(resp(&["SET", "a", "1"]));
    let cmds = replay::commands(&half).expect("parses");
    assert_eq!(replay::cut(&cmds, 0).commands, 1);
}

#[test]
fn idle_pings_give_a_heartbeat_segment_and_bad_bytes_are_refused() {
    let mut f = Follower::new("x", 7, Some(0), Limits::default());
    assert_eq!(f.heartbeat(1_000), None, "nothing moved");
    f.feed(&resp(&["PING"]), 500).expect("ping");
    let h = f.heartbeat(20_000).expect("heartbeat");
    assert_eq!(h.info.commands, 0);
    assert_eq!((h.info.first_offset, h.info.last_offset), (8, 7 + 14));
    assert_eq!(h.bytes, b"#TS:20\r\n");
    assert_eq!(replay::commands(&h.bytes).expect("parses"), []);
    let e = f.feed(b"+OK\r\n", 0).expect_err("not a command");
    assert!(e.to_string().contains("RESP array"), "{e}");
    let e = f.feed(b"*1\r\n:1\r\n", 0).expect_err("not a bulk");
    assert!(e.to_string().contains("bulk"), "{e}");
    let e = replay::commands(b"*1\r\n$4\r\nPING\r\n").expect_err("no #TS");
    assert!(e.0.contains("#TS"), "{e}");
    let e = replay::commands(b"#TS:1\r\n*2\r\n$3\r\nGET\r\n").expect_err("cut");
    assert!(e.0.contains("ends inside a command"), "{e}");
}

fn base(name: &str, offset: u64, t: i64) -> Base {
    Base {
        name: name.into(),
        replid: "r".into(),
        offset,
        time_ms: t * 1000,
        ..Default::default()
    }
}

fn seg(first: u64, last: u64, from: i64, to: i64) -> Segment {
    Segment {
        name: format!("{first:020}.aof"),
        info: SegmentInfo {
            replid: "r".into(),
            first_offset: first,
            last_offset: last,
            first_ms: from * 1000,
            last_ms: to * 1000 + 999,
            commands: 3,
            db: Some(0),
            last_command_offset: Some(last),
            rewound_from: None,
            late_from_ms: None,
        },
    }
}

#[test]
fn chains_windows_gaps_and_plans() {
    // Chain one: base at offset 100, three segments, the third overlapping
    // (a duplicate): it is named, not used.
    let one = chain::chain(
        base("redis-backup-a.rdb", 100, 1_000),
        vec![
            seg(151, 200, 1_010, 1_020),
            seg(101, 150, 1_001, 1_009),
            seg(180, 260, 1_021, 1_030),
        ],
    );
    assert_eq!(one.segments.len(), 2);
    assert_eq!(one.broken.len(), 1);
    assert_eq!((one.from_s(), one.to_s()), (1_000, 1_020));
    // Chain two after a backlog overrun: a new base later.
    let two = chain::chain(
        base("redis-backup-b.rdb", 9_000, 1_100),
        vec![seg(9_001, 9_100, 1_101, 1_150)],
    );
    let chains = [one, two];
    let (w, gaps) = chain::windows(&chains);
    insta::assert_json_snapshot!("windows", (w, &gaps));
    let p = chain::plan(&chains, 1_015).expect("in the first window");
    assert_eq!(p.base.name, "redis-backup-a.rdb");
    assert_eq!(p.segments.len(), 2);
    let p = chain::plan(&chains, 1_005).expect("in the first window");
    assert_eq!(
        p.segments.len(),
        1,
        "the second starts after the second asked"
    );
    let p = chain::plan(&chains, 1_120).expect("in the second");
    assert_eq!(p.base.name, "redis-backup-b.rdb");
    let refusals: Vec<String> = [999, 1_050, 1_151]
        .into_iter()
        .map(|t| chain::plan(&chains, t).expect_err("refused").to_string())
        .collect();
    insta::assert_debug_snapshot!("refusals", refusals);
    assert_eq!(
        chain::plan(&[], 5).expect_err("empty").to_string(),
        "the archive holds no base to restore from"
    );
}

#[test]
fn names_and_times() {
    assert_eq!(
        pitr::segment_name(
            "prod-redis",
            "redis-backup-20261204_120000.rdb.age",
            &seg(101, 200, 1, 2).info,
            true
        ),
        "pitr/prod-redis/redis-backup-20261204_120000/00000000000000000101.aof.age"
    );
    let mut r = seg(101, 200, 1, 2);
    r.info.rewound_from = Some(300);
    assert_eq!(
        pitr::segment_name("a", "redis-backup-20261204_120000.rdb", &r.info, false),
        "pitr/a/redis-backup-20261204_120000/00000000000000000101-after-00000000000000000300.aof"
    );
    assert_eq!(
        pitr::segment_manifest_name("pitr/a/b/00000000000000000101.aof.age"),
        "pitr/a/b/00000000000000000101.aof.json"
    );
    let pack = pitr::pack_name("a", "redis-backup-20261204_120000.rdb.age", 101, 9_000);
    assert_eq!(
        pack,
        "pitr/a/redis-backup-20261204_120000/pack-00000000000000000101-00000000000000009000.json"
    );
    assert!(pitr::is_pack(&pack));
    assert!(!pitr::is_pack("pitr/a/b/00000000000000000101.aof.json"));
    assert_eq!(
        pitr::archive_name("october/redis:6379"),
        "october-redis-6379"
    );
    assert_eq!(pitr::shard_archive("prod-rc", 5461), "prod-rc.shard-5461");
    assert_eq!(
        pitr::shard_of("prod-rc.shard-5461"),
        Some(("prod-rc", 5461))
    );
    assert_eq!(pitr::shard_of("prod-rc.shard-16384"), None, "no such slot");
    assert_eq!(pitr::shard_of("prod-rc.shard-05"), None, "not as written");
    assert_eq!(pitr::shard_of("prod-rc"), None);
    let names: Vec<String> = ["a.shard-10923", "a.shard-0", "ab.shard-1", "a"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        pitr::shards_of(&names, "a"),
        vec![(0, "a.shard-0"), (10923, "a.shard-10923")]
    );
    let now = 1_796_400_000;
    assert_eq!(parse_to_time("latest", now), Ok(None));
    assert_eq!(parse_to_time("-10m", now), Ok(Some(now - 600)));
    assert_eq!(
        parse_to_time("2026-12-04T12:00:05Z", now),
        Ok(Some(1_796_385_605))
    );
    assert_eq!(
        parse_to_time("2026-12-04T12:00:05.750Z", now),
        Ok(Some(1_796_385_605))
    );
    for bad in [
        "yesterday",
        "-3w",
        "2026-12-04 12:00:05",
        "2026-13-04T12:00:05Z",
    ] {
        let e = parse_to_time(bad, now).expect_err(bad);
        assert!(e.starts_with("--to-time"), "{e}");
    }
}

/// PUBLISH (Sentinel's hello every 2 s) and PING move the offset but are
/// not stored; the segment records where its last command ends.
#[test]
fn publish_is_not_data_and_the_last_command_is_marked() {
    let mut f = Follower::new("r", 0, Some(0), Limits::default());
    let set = resp(&["SET", "a", "1"]);
    let hello = resp(&["PUBLISH", "__sentinel__:hello", "10.0.0.1,26379,..."]);
    f.feed(&set, 1_000).expect("feed");
    f.feed(&hello, 1_000).expect("feed");
    f.feed(&resp(&["PING"]), 1_000).expect("feed");
    let s = f.seal().expect("a segment");
    assert_eq!(s.info.commands, 1);
    assert_eq!(s.info.last_command_offset, Some(set.len() as u64));
    assert!(s.info.last_offset > set.len() as u64);
    assert!(!shown(&s.bytes).contains("PUBLISH"));
    f.feed(&hello, 40_000).expect("feed");
    let h = f.heartbeat(40_000).expect("a heartbeat");
    assert_eq!(h.info.last_command_offset, None);
}

/// A Sentinel failover: the old primary streamed PINGs past the promotion
/// point X; the promoted replica accepts PSYNC on the old id up to X + 1
/// only. The chain continues from X (the next segment says it rewinds from
/// where the chain was stored), its commands stay whole, and a segment
/// rewinding past a stored command is refused.
#[test]
fn a_chain_continues_at_a_promotion_point() {
    // Stored up to 300, the last command ending at 250; promoted at 270.
    assert_eq!(chain::continue_at("old", 300, 250, "old", 271), Some(270));
    // Not the same history, or nothing to rewind, or a command past it.
    assert_eq!(chain::continue_at("old", 300, 250, "other", 271), None);
    assert_eq!(chain::continue_at("old", 300, 250, "old", 400), None);
    assert_eq!(chain::continue_at("old", 300, 290, "old", 271), None);
    assert_eq!(chain::continue_at("old", 300, 250, "", -1), None);

    let mut a = seg(101, 300, 1_001, 1_009);
    a.info.last_command_offset = Some(250);
    let mut b = seg(271, 400, 1_010, 1_020);
    b.name = "00000000000000000271-after-00000000000000000300.aof".into();
    b.info.rewound_from = Some(300);
    // After the rewind the offsets go on from b, below a's end.
    let c = seg(401, 450, 1_021, 1_030);
    let ch = chain::chain(
        base("redis-backup-a.rdb", 100, 1_000),
        vec![c.clone(), b.clone(), a.clone()],
    );
    assert_eq!(ch.broken, Vec::<String>::new());
    let names: Vec<&str> = ch.segments.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [a.name.as_str(), b.name.as_str(), c.name.as_str()]);
    assert_eq!((ch.last_offset(), ch.commands_to()), (450, 450));
    // A rewind past a stored command would replay it twice: refused.
    let mut early = b.clone();
    early.info.first_offset = 240;
    let ch = chain::chain(
        base("redis-backup-a.rdb", 100, 1_000),
        vec![a.clone(), early],
    );
    assert_eq!(ch.segments.len(), 1);
    assert_eq!(ch.broken.len(), 1, "{:?}", ch.broken);
    // A rewind from another end than where the chain stands: refused.
    let mut other = b.clone();
    other.info.rewound_from = Some(299);
    let ch = chain::chain(base("redis-backup-a.rdb", 100, 1_000), vec![a, other]);
    assert_eq!(ch.broken.len(), 1, "{:?}", ch.broken);
}

/// Reading stopped (the spool was full): what arrives until the link is
/// drained is marked late from when reading stopped, and a restore to a
/// second from then until the late segment's last is refused, naming it.
#[test]
fn seconds_read_late_are_named_and_refused() {
    let mut f = Follower::new("r", 0, Some(0), Limits::default());
    f.feed(&resp(&["SET", "a", "1"]), 1_000_500).expect("feed");
    let on_time = f.seal().expect("a segment");
    assert_eq!(on_time.info.late_from_ms, None);
    f.behind(1_001_200);
    f.feed(&resp(&["SET", "b", "2"]), 1_005_300).expect("feed");
    f.caught_up();
    f.feed(&resp(&["SET", "c", "3"]), 1_006_100).expect("feed");
    let late = f.seal().expect("a segment");
    assert_eq!(late.info.late_from_ms, Some(1_001_200));
    assert!(!f.is_behind());
    let ch = chain::chain(
        Base {
            name: "b.rdb".into(),
            replid: "r".into(),
            offset: 0,
            time_ms: 1_000_000,
            ..Default::default()
        },
        vec![
            Segment {
                name: "1.aof".into(),
                info: on_time.info,
            },
            Segment {
                name: "2.aof".into(),
                info: late.info,
            },
        ],
    );
    assert_eq!(ch.uncertain(), [(1_001, 1_006)]);
    let chains = [ch];
    assert!(chain::plan(&chains, 1_000).is_ok(), "before it");
    assert!(chain::plan(&chains, 1_006).is_ok(), "its last second");
    let e = chain::plan(&chains, 1_003)
        .expect_err("inside it")
        .to_string();
    assert!(e.contains("the archiver was behind"), "{e}");
}

#[test]
fn a_clusters_window_is_every_shards() {
    let w = |from: i64, to: i64| chain::Window {
        base: String::new(),
        from,
        to,
        segments: 0,
        commands: 0,
    };
    // Shard b has a gap (a new base at 150); shard c started late.
    let shards = vec![
        vec![w(100, 300)],
        vec![w(90, 140), w(150, 310)],
        vec![w(120, 305)],
    ];
    assert_eq!(chain::common(&shards), vec![(120, 140), (150, 300)]);
    assert_eq!(chain::common(&[vec![w(1, 5)], vec![w(7, 9)]]), vec![]);
    assert_eq!(chain::common(&[]), vec![]);
}
