//! Redis Cluster: key slots (CRC16 with hash tags), the slot map from
//! `CLUSTER SHARDS` or `CLUSTER SLOTS`, and the [`Router`] that sends a
//! live restore's commands to the primary owning each key, following
//! `MOVED` and `ASK` and keeping each key's commands in order.

use crate::wire::repl::parse_reply;
use crate::wire::reply::Reply;
use std::collections::{BTreeMap, VecDeque};

/// Slots in a Redis Cluster.
pub const SLOTS: usize = 16384;

/// CRC16-XMODEM (polynomial 0x1021, initial value 0), as Redis Cluster
/// hashes keys.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The slot of a key: the CRC16 of the whole key, or of the text between
/// the first `{` and the next `}` when that text is not empty.
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&c| c == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        let close = rest.iter().position(|&c| c == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    crc16(tagged.unwrap_or(key)) & (SLOTS as u16 - 1)
}

/// One node as the cluster announces it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Node {
    /// Node id (40 hex characters), when known.
    pub id: String,
    /// Announced address.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// Which primary owns each slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotMap {
    /// The nodes, primaries first as found; replicas are not routed to.
    pub nodes: Vec<Node>,
    owner: Vec<u16>,
    /// Each primary's replicas, from `CLUSTER SHARDS` (with their health)
    /// or `CLUSTER SLOTS` (before 7.0; without it).
    pub replicas: BTreeMap<usize, Vec<Replica>>,
}

/// A replica as `CLUSTER SHARDS` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Replica {
    /// The node.
    pub node: Node,
    /// `health` is `fail`: the cluster considers it down.
    pub failed: bool,
}

const NONE: u16 = u16::MAX;

fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Text(t) => t.clone(),
        Reply::Integer(n) => n.to_string(),
        _ => String::new(),
    }
}

fn int(r: &Reply) -> Option<i64> {
    match r {
        Reply::Integer(n) => Some(*n),
        other => text(other).parse().ok(),
    }
}

fn pairs(r: &Reply) -> BTreeMap<String, &Reply> {
    match r {
        Reply::Array(a) => a
            .chunks(2)
            .filter_map(|p| match p {
                [k, v] => Some((text(k), v)),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

impl Default for SlotMap {
    fn default() -> Self {
        SlotMap {
            nodes: Vec::new(),
            owner: vec![NONE; SLOTS],
            replicas: BTreeMap::new(),
        }
    }
}

impl SlotMap {
    /// The node at `host:port`, added when new.
    pub fn node_index(&mut self, host: &str, port: u16) -> usize {
        if let Some(i) = self
            .nodes
            .iter()
            .position(|n| n.host == host && n.port == port)
        {
            return i;
        }
        self.nodes.push(Node {
            id: String::new(),
            host: host.to_string(),
            port,
        });
        self.nodes.len() - 1
    }

    fn assign(&mut self, from: i64, to: i64, node: usize) -> Result<(), String> {
        if !(0..SLOTS as i64).contains(&from) || !(from..SLOTS as i64).contains(&to) {
            return Err(format!("slot range {from}-{to} is out of bounds"));
        }
        let n = u16::try_from(node).map_err(|_| "too many nodes".to_string())?;
        for s in from..=to {
            self.owner[s as usize] = n;
        }
        Ok(())
    }

    /// From `CLUSTER SLOTS`: `[[start, end, [ip, port, id], replicas...]...]`.
    pub fn from_slots(r: &Reply) -> Result<Self, String> {
        let Reply::Array(ranges) = r else {
            return Err(format!("CLUSTER SLOTS: unexpected reply {r:?}"));
        };
        let mut m = SlotMap::default();
        for range in ranges {
            let Reply::Array(f) = range else { continue };
            let (Some(a), Some(b), Some(Reply::Array(primary))) =
                (f.first().and_then(int), f.get(1).and_then(int), f.get(2))
            else {
                return Err("CLUSTER SLOTS: a range without its primary".into());
            };
            let host = primary.first().map(text).unwrap_or_default();
            let port = primary
                .get(1)
                .and_then(int)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or("CLUSTER SLOTS: a primary without a port")?;
            let i = m.node_index(&host, port);
            if let Some(id) = primary.get(2).map(text) {
                m.nodes[i].id = id;
            }
            m.assign(a, b, i)?;
            // The replicas follow the primary. SLOTS gives no health: each
            // is checked on its own (`INFO replication`) before it is read.
            let reps: Vec<Replica> = f
                .iter()
                .skip(3)
                .filter_map(|r| {
                    let Reply::Array(n) = r else { return None };
                    Some(Replica {
                        node: Node {
                            host: n.first().map(text)?,
                            port: n.get(1).and_then(int).and_then(|p| u16::try_from(p).ok())?,
                            id: n.get(2).map(text).unwrap_or_default(),
                        },
                        failed: false,
                    })
                })
                .collect();
            let known = m.replicas.entry(i).or_default();
            for r in reps {
                if !known
                    .iter()
                    .any(|k| k.node.host == r.node.host && k.node.port == r.node.port)
                {
                    known.push(r);
                }
            }
        }
        m.replicas.retain(|_, r| !r.is_empty());
        Ok(m)
    }

    /// From `CLUSTER SHARDS` (7.0+): each shard's `slots` (pairs of
    /// bounds) and the `nodes` whose `role` is `master`.
    pub fn from_shards(r: &Reply) -> Result<Self, String> {
        let Reply::Array(shards) = r else {
            return Err(format!("CLUSTER SHARDS: unexpected reply {r:?}"));
        };
        let mut m = SlotMap::default();
        for shard in shards {
            let f = pairs(shard);
            let slots: Vec<i64> = match f.get("slots") {
                Some(Reply::Array(s)) => s.iter().filter_map(int).collect(),
                _ => Vec::new(),
            };
            if slots.is_empty() {
                continue;
            }
            let Some(Reply::Array(nodes)) = f.get("nodes") else {
                continue;
            };
            let primary = nodes
                .iter()
                .map(pairs)
                .find(|n| n.get("role").map(|r| text(r)) == Some("master".into()));
            let Some(p) = primary else {
                return Err("CLUSTER SHARDS: a shard with slots and no primary".into());
            };
            let host = p
                .get("ip")
                .or_else(|| p.get("endpoint"))
                .map(|r| text(r))
                .unwrap_or_default();
            let port = p
                .get("port")
                .or_else(|| p.get("tls-port"))
                .and_then(|r| int(r))
                .and_then(|p| u16::try_from(p).ok())
                .ok_or("CLUSTER SHARDS: a primary without a port")?;
            let i = m.node_index(&host, port);
            if let Some(id) = p.get("id") {
                m.nodes[i].id = text(id);
            }
            let reps: Vec<Replica> = nodes
                .iter()
                .map(pairs)
                .filter(|n| n.get("role").map(|r| text(r)) == Some("replica".into()))
                .filter_map(|n| {
                    Some(Replica {
                        node: Node {
                            id: n.get("id").map(|r| text(r)).unwrap_or_default(),
                            host: n.get("ip").or_else(|| n.get("endpoint")).map(|r| text(r))?,
                            port: n
                                .get("port")
                                .and_then(|r| int(r))
                                .and_then(|p| u16::try_from(p).ok())?,
                        },
                        failed: n.get("health").map(|r| text(r)) == Some("fail".into()),
                    })
                })
                .collect();
            if !reps.is_empty() {
                m.replicas.insert(i, reps);
            }
            for pair in slots.chunks(2) {
                if let [a, b] = pair {
                    m.assign(*a, *b, i)?;
                }
            }
        }
        Ok(m)
    }

    /// Gives `host`, the address the asked node was reached at, to every
    /// node listed without one (an empty or `?` endpoint: a node that no
    /// other has met yet, such as the only node of a one-node cluster,
    /// does not know its own address).
    pub fn resolve_unknown(&mut self, host: &str) {
        let unknown = |h: &str| h.is_empty() || h == "?";
        for n in self
            .nodes
            .iter_mut()
            .chain(self.replicas.values_mut().flatten().map(|r| &mut r.node))
        {
            if unknown(&n.host) {
                n.host = host.to_string();
            }
        }
    }

    /// The replicas of `primary` the cluster does not consider failed,
    /// to be checked one by one (`INFO replication`: CLUSTER SHARDS's
    /// offsets travel by gossip and lag behind); or why there are none.
    pub fn replica_candidates(&self, primary: usize) -> Result<Vec<&Replica>, String> {
        let Some(reps) = self.replicas.get(&primary).filter(|r| !r.is_empty()) else {
            return Err("no replica".into());
        };
        let ok: Vec<&Replica> = reps.iter().filter(|r| !r.failed).collect();
        if ok.is_empty() {
            return Err(format!("its {} replica(s) are marked failed", reps.len()));
        }
        Ok(ok)
    }

    /// The node owning `slot`.
    pub fn owner(&self, slot: u16) -> Option<usize> {
        self.owner
            .get(slot as usize)
            .filter(|&&n| n != NONE)
            .map(|&n| n as usize)
    }

    /// Slots with an owner.
    pub fn covered(&self) -> usize {
        self.owner.iter().filter(|&&n| n != NONE).count()
    }

    /// Nodes owning at least one slot, in node order.
    pub fn primaries(&self) -> Vec<usize> {
        let mut seen = vec![false; self.nodes.len()];
        for &n in &self.owner {
            if n != NONE {
                seen[n as usize] = true;
            }
        }
        (0..self.nodes.len()).filter(|&i| seen[i]).collect()
    }

    /// The primaries in slot order, each with the lowest slot it serves:
    /// how a backup set and an archive name a cluster's shards.
    pub fn primaries_by_slot(&self) -> Vec<(u16, usize)> {
        let mut out: Vec<(u16, usize)> = Vec::new();
        for (a, _, n) in self.ranges() {
            if !out.iter().any(|(_, m)| *m == n) {
                out.push((a, n));
            }
        }
        out
    }

    /// `(first, last, node)` for each run of slots with one owner.
    pub fn ranges(&self) -> Vec<(u16, u16, usize)> {
        let mut out: Vec<(u16, u16, usize)> = Vec::new();
        for (s, &n) in self.owner.iter().enumerate() {
            if n == NONE {
                continue;
            }
            let s = s as u16;
            match out.last_mut() {
                Some((_, last, node)) if *node == n as usize && *last + 1 == s => *last = s,
                _ => out.push((s, s, n as usize)),
            }
        }
        out
    }

    fn set(&mut self, slot: u16, node: usize) {
        if let (Some(o), Ok(n)) = (self.owner.get_mut(slot as usize), u16::try_from(node)) {
            *o = n;
        }
    }
}

/// One command on its way to a node.
#[derive(Debug, Clone)]
struct Sent {
    seq: u64,
    slot: Option<u16>,
    /// Its bytes in the queue's `kept` journal; `None`: the `ASKING` before
    /// an asked command (its reply is dropped).
    len: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct Queue {
    out: Vec<u8>,
    inflight: VecDeque<Sent>,
    /// The unanswered commands' bytes, in sending order from `kept_at`:
    /// one buffer rather than one allocation per command; a redirected
    /// command is copied out of it.
    kept: Vec<u8>,
    kept_at: usize,
    /// Per slot: this node's unanswered commands (empty until one is sent).
    per_slot: Vec<u32>,
}

impl Queue {
    /// Takes the oldest kept command's bytes off the journal.
    fn unkeep(&mut self, len: usize) -> core::ops::Range<usize> {
        let r = self.kept_at..self.kept_at + len;
        self.kept_at += len;
        r
    }

    /// Drops the answered commands' bytes once they are most of the buffer.
    fn compact(&mut self) {
        if self.kept_at == self.kept.len() {
            self.kept.clear();
            self.kept_at = 0;
        } else if self.kept_at > (1 << 20) && self.kept_at * 2 > self.kept.len() {
            self.kept.drain(..self.kept_at);
            self.kept_at = 0;
        }
    }
}

/// Counts of what routing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RouteStats {
    /// `MOVED` replies followed (the map was updated).
    pub moved: u64,
    /// `ASK` replies followed (`ASKING` + the command to the importing node).
    pub asked: u64,
    /// Commands sent to every primary (`SELECT`, `FUNCTION RESTORE`).
    pub broadcast: u64,
}

/// Routes the loader's commands by slot. Feed it the loader's output with
/// [`Router::push`], write each node's [`Router::take_out`], give each
/// node's replies to [`Router::replies`], and hand [`Router::ordered`]
/// (replies in the loader's order) back to the loader.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// The slot map, updated by `MOVED`.
    pub map: SlotMap,
    queues: Vec<Queue>,
    partial: Vec<u8>,
    seq: u64,
    released: u64,
    /// Replies by sequence number from `released` on; an empty one is `+OK`.
    done: VecDeque<Option<Vec<u8>>>,
    /// Broadcast commands: replies still expected, and the first error.
    broadcast: BTreeMap<u64, (usize, Option<Vec<u8>>)>,
    /// Per slot: commands in flight on all nodes together (each node's own
    /// count is its queue's `per_slot`).
    slot_inflight: Vec<u32>,
    /// Per slot: commands held until the old owner's in-flight ones are
    /// answered, so they cannot overtake them.
    parked: BTreeMap<u16, VecDeque<(u64, Vec<u8>)>>,
    retained: usize,
    /// What routing did.
    pub stats: RouteStats,
}

/// One command's length and the ranges of its verb and its key, if it has one.
type Split = (
    usize,
    core::ops::Range<usize>,
    Option<core::ops::Range<usize>>,
);

/// `*N\r\n` or `$N\r\n` at `at`: N and where the next line starts.
fn line(buf: &[u8], at: usize) -> Option<(i64, usize)> {
    let rest = buf.get(at + 1..)?;
    let mut n: i64 = 0;
    for (i, &c) in rest.iter().enumerate() {
        match c {
            b'0'..=b'9' => n = n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?,
            b'\r' => {
                return (rest.get(i + 1) == Some(&b'\n')).then_some((n, at + 1 + i + 2));
            }
            _ => return None,
        }
    }
    None
}

/// The parts of one command the router needs, or `None` while incomplete.
fn split_command(buf: &[u8]) -> Result<Option<Split>, String> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] != b'*' {
        return Err("the loader wrote something that is not a command".into());
    }
    let Some((n, mut at)) = line(buf, 0) else {
        return Ok(None);
    };
    let mut args: [core::ops::Range<usize>; 3] = [0..0, 0..0, 0..0];
    for i in 0..n {
        if at >= buf.len() {
            return Ok(None);
        }
        if buf[at] != b'$' {
            return Err("the loader wrote an argument that is not a bulk string".into());
        }
        let Some((len, start)) = line(buf, at) else {
            return Ok(None);
        };
        let end = start + usize::try_from(len).map_err(|_| "a negative length")?;
        if end + 2 > buf.len() {
            return Ok(None);
        }
        if let Some(a) = usize::try_from(i).ok().and_then(|i| args.get_mut(i)) {
            *a = start..end;
        }
        at = end + 2;
    }
    let verb = &buf[args[0].clone()];
    let is = |w: &[u8]| verb.eq_ignore_ascii_case(w);
    // Key-less commands go to every primary; a few name their key later.
    let key = if is(b"SELECT")
        || is(b"FUNCTION")
        || is(b"FLUSHALL")
        || is(b"FLUSHDB")
        || is(b"SCRIPT")
        || is(b"PING")
        || n < 2
    {
        None
    } else if is(b"XGROUP") || is(b"BITOP") {
        Some(args[2].clone())
    } else {
        Some(args[1].clone())
    };
    Ok(Some((at, args[0].clone(), key)))
}

/// Where a redirection points: `MOVED|ASK slot host:port`.
fn redirect(e: &str) -> Option<(bool, u16, String, u16)> {
    let mut w = e.split_whitespace();
    let moved = match w.next()? {
        "MOVED" => true,
        "ASK" => false,
        _ => return None,
    };
    let slot = w.next()?.parse().ok()?;
    let addr = w.next()?;
    let (host, port) = addr.rsplit_once(':')?;
    Some((
        moved,
        slot,
        host.trim_matches(['[', ']']).to_string(),
        port.parse().ok()?,
    ))
}

impl Router {
    /// A router over `map`.
    pub fn new(map: SlotMap) -> Self {
        let n = map.nodes.len();
        Router {
            map,
            queues: vec![Queue::default(); n],
            ..Router::default()
        }
    }

    /// Nodes known (a `MOVED` or `ASK` may add one: connect to it).
    pub fn nodes(&self) -> usize {
        self.map.nodes.len()
    }

    /// Commands sent and not yet answered, parked ones included.
    pub fn in_flight(&self) -> usize {
        self.queues.iter().map(|q| q.inflight.len()).sum::<usize>()
            + self.parked.values().map(VecDeque::len).sum::<usize>()
    }

    /// Bytes of commands kept for a possible redirection.
    pub fn retained(&self) -> usize {
        self.retained
    }

    /// Takes the loader's output: complete commands are routed, a partial
    /// one waits for the rest.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), String> {
        // Routed from a buffer of its own: `self` is changed meanwhile.
        let mut partial = core::mem::take(&mut self.partial);
        partial.extend_from_slice(bytes);
        let mut used = 0;
        let r = loop {
            let (len, verb, key) = match split_command(&partial[used..]) {
                Ok(Some(c)) => c,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            let at = used;
            used += len;
            let cmd = &partial[at..at + len];
            let seq = self.seq;
            self.seq += 1;
            self.done.push_back(None);
            let routed = match key {
                Some(k) => self.route(seq, key_slot(&cmd[k]), cmd),
                None => self.broadcast(seq, &cmd[verb], cmd),
            };
            if let Err(e) = routed {
                break Err(e);
            }
        };
        partial.drain(..used);
        self.partial = partial;
        r
    }

    fn broadcast(&mut self, seq: u64, verb: &[u8], cmd: &[u8]) -> Result<(), String> {
        let primaries = self.map.primaries();
        if primaries.is_empty() {
            return Err(format!(
                "no primary serves any slot to send {} to",
                String::from_utf8_lossy(verb)
            ));
        }
        self.stats.broadcast += 1;
        self.broadcast.insert(seq, (primaries.len(), None));
        for n in primaries {
            self.send(n, seq, None, cmd);
        }
        Ok(())
    }

    fn send(&mut self, node: usize, seq: u64, slot: Option<u16>, cmd: &[u8]) {
        if self.queues.len() <= node {
            self.queues.resize(node + 1, Queue::default());
        }
        if let Some(s) = slot {
            self.inflight_add(s, node);
        }
        self.retained += cmd.len();
        let q = &mut self.queues[node];
        q.out.extend_from_slice(cmd);
        q.kept.extend_from_slice(cmd);
        q.inflight.push_back(Sent {
            seq,
            slot,
            len: Some(cmd.len()),
        });
    }

    fn route(&mut self, seq: u64, slot: u16, cmd: &[u8]) -> Result<(), String> {
        let Some(target) = self.map.owner(slot) else {
            return Err(format!(
                "slot {slot} is served by no primary (cluster_state fail?)"
            ));
        };
        if self.elsewhere(slot, target) || self.parked.get(&slot).is_some_and(|p| !p.is_empty()) {
            self.retained += cmd.len();
            self.parked
                .entry(slot)
                .or_default()
                .push_back((seq, cmd.to_vec()));
            return Ok(());
        }
        self.send(target, seq, Some(slot), cmd);
        Ok(())
    }

    /// Sends the parked commands of `slot` once nothing for it is in flight
    /// anywhere but its owner.
    fn unpark(&mut self, slot: u16) -> Result<(), String> {
        if self.parked.is_empty() {
            return Ok(());
        }
        let Some(target) = self.map.owner(slot) else {
            return Ok(());
        };
        if self.elsewhere(slot, target) {
            return Ok(());
        }
        if let Some(p) = self.parked.remove(&slot) {
            for (seq, cmd) in p {
                self.retained = self.retained.saturating_sub(cmd.len());
                self.send(target, seq, Some(slot), &cmd);
            }
        }
        Ok(())
    }

    /// Bytes to write to `node`.
    pub fn take_out(&mut self, node: usize) -> Vec<u8> {
        self.queues
            .get_mut(node)
            .map(|q| std::mem::take(&mut q.out))
            .unwrap_or_default()
    }

    /// Takes `node`'s replies at the start of `buf`; returns the bytes used.
    pub fn replies(&mut self, node: usize, buf: &[u8]) -> Result<usize, String> {
        // The journal's ranges taken out below live until the next call.
        if let Some(q) = self.queues.get_mut(node) {
            q.compact();
        }
        let mut used = 0;
        loop {
            if self.queues.get(node).is_none_or(|q| q.inflight.is_empty()) {
                return Ok(used);
            }
            let rest = &buf[used..];
            let (reply, n) = if rest.starts_with(b"+OK\r\n") {
                (None, 5)
            } else {
                match parse_reply(rest) {
                    Some((r, n)) => (Some(r), n),
                    None => return Ok(used),
                }
            };
            // `+OK` is kept as an empty reply.
            let raw = if reply.is_none() {
                Vec::new()
            } else {
                rest[..n].to_vec()
            };
            used += n;
            let q = &mut self.queues[node];
            let Some(sent) = q.inflight.pop_front() else {
                return Ok(used);
            };
            let Some(len) = sent.len else {
                continue; // ASKING's +OK
            };
            let kept = q.unkeep(len);
            self.retained = self.retained.saturating_sub(len);
            if let Some(s) = sent.slot {
                self.inflight_done(s, node);
            }
            let redirected = match &reply {
                Some(Reply::Error(e)) => redirect(e),
                _ => None,
            };
            // Only a redirected command is copied out of the journal.
            let cmd = |r: &Self| r.queues[node].kept[kept.clone()].to_vec();
            // A redirection is followed only for the slot the command was
            // sent for: a server naming another (or none that exists) is
            // not believed, and the load stops saying so.
            if let (Some((moved, named, _, _)), Some(slot)) = (&redirected, sent.slot) {
                if *named != slot {
                    return Err(format!(
                        "node {node} answered {} {named} for a command of slot {slot}: a redirection to another slot is not followed",
                        if *moved { "MOVED" } else { "ASK" }
                    ));
                }
            }
            match (redirected, sent.slot) {
                (Some((true, slot, host, port)), Some(_)) => {
                    self.stats.moved += 1;
                    let cmd = cmd(self);
                    let to = self.map.node_index(&host, port);
                    self.map.set(slot, to);
                    self.send(to, sent.seq, Some(slot), &cmd);
                }
                (Some((false, slot, host, port)), Some(_)) => {
                    self.stats.asked += 1;
                    let cmd = cmd(self);
                    let to = self.map.node_index(&host, port);
                    if self.queues.len() <= to {
                        self.queues.resize(to + 1, Queue::default());
                    }
                    let q = &mut self.queues[to];
                    q.out.extend_from_slice(b"*1\r\n$6\r\nASKING\r\n");
                    q.inflight.push_back(Sent {
                        seq: sent.seq,
                        slot: None,
                        len: None,
                    });
                    self.send(to, sent.seq, Some(slot), &cmd);
                }
                _ => self.answered(sent.seq, raw, matches!(reply, Some(Reply::Error(_)))),
            }
            if let Some(s) = sent.slot {
                self.unpark(s)?;
            }
        }
    }

    fn answered(&mut self, seq: u64, raw: Vec<u8>, error: bool) {
        let raw = match self.broadcast.get_mut(&seq) {
            Some((left, first_error)) => {
                *left = left.saturating_sub(1);
                if error && first_error.is_none() {
                    *first_error = Some(raw.clone());
                }
                if *left > 0 {
                    return;
                }
                let e = self.broadcast.remove(&seq).and_then(|(_, e)| e);
                e.unwrap_or(raw)
            }
            None => raw,
        };
        let i = usize::try_from(seq - self.released).unwrap_or(usize::MAX);
        if let Some(slot) = self.done.get_mut(i) {
            *slot = Some(raw);
        }
    }

    // Two flat counters per slot (all nodes, and each node's own), not a
    // list per slot: every command touches them.
    fn inflight_add(&mut self, slot: u16, node: usize) {
        if self.slot_inflight.is_empty() {
            self.slot_inflight = vec![0; SLOTS];
        }
        let q = &mut self.queues[node];
        if q.per_slot.is_empty() {
            q.per_slot = vec![0; SLOTS];
        }
        q.per_slot[slot as usize] += 1;
        self.slot_inflight[slot as usize] += 1;
    }

    fn inflight_done(&mut self, slot: u16, node: usize) {
        let s = slot as usize;
        if let Some(c) = self
            .queues
            .get_mut(node)
            .and_then(|q| q.per_slot.get_mut(s))
            .filter(|c| **c > 0)
        {
            *c -= 1;
            if let Some(t) = self.slot_inflight.get_mut(s) {
                *t = t.saturating_sub(1);
            }
        }
    }

    /// Commands for `slot` are in flight on a node other than `target`.
    fn elsewhere(&self, slot: u16, target: usize) -> bool {
        let s = slot as usize;
        let all = self.slot_inflight.get(s).copied().unwrap_or(0);
        let here = self
            .queues
            .get(target)
            .and_then(|q| q.per_slot.get(s))
            .copied()
            .unwrap_or(0);
        all > here
    }

    /// Replies in the order the loader sent its commands, as far as they
    /// are all in.
    pub fn ordered(&mut self, out: &mut Vec<u8>) {
        while let Some(Some(_)) = self.done.front() {
            if let Some(Some(r)) = self.done.pop_front() {
                if r.is_empty() {
                    out.extend_from_slice(b"+OK\r\n");
                } else {
                    out.extend_from_slice(&r);
                }
            }
            self.released += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn slots_are_crc16_of_the_key_or_its_tag() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"{user1000}.followers"), key_slot(b"user1000"));
        // An empty tag hashes the whole key; only the first tag counts.
        assert_eq!(key_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") & 16383);
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
    }

    fn three() -> SlotMap {
        let shard = |a: i64, b: i64, port: i64, id: &str| {
            Reply::Array(vec![
                bulk("slots"),
                Reply::Array(vec![Reply::Integer(a), Reply::Integer(b)]),
                bulk("nodes"),
                Reply::Array(vec![
                    Reply::Array(vec![
                        bulk("id"),
                        bulk(&format!("{id}r")),
                        bulk("port"),
                        Reply::Integer(port + 100),
                        bulk("ip"),
                        bulk("127.0.0.1"),
                        bulk("role"),
                        bulk("replica"),
                    ]),
                    Reply::Array(vec![
                        bulk("id"),
                        bulk(id),
                        bulk("port"),
                        Reply::Integer(port),
                        bulk("ip"),
                        bulk("127.0.0.1"),
                        bulk("role"),
                        bulk("master"),
                    ]),
                ]),
            ])
        };
        SlotMap::from_shards(&Reply::Array(vec![
            shard(0, 5460, 7000, "a"),
            shard(5461, 10922, 7001, "b"),
            shard(10923, 16383, 7002, "c"),
        ]))
        .expect("map")
    }

    #[test]
    fn primaries_in_slot_order_with_their_lowest_slot() {
        let m = three();
        let by = m.primaries_by_slot();
        let named: Vec<(u16, &str)> = by
            .iter()
            .map(|(s, n)| (*s, m.nodes[*n].id.as_str()))
            .collect();
        assert_eq!(named, [(0, "a"), (5461, "b"), (10923, "c")]);
    }

    #[test]
    fn replicas_the_cluster_has_not_failed_are_candidates() {
        let node = |health: &str, off: i64| {
            Reply::Array(vec![
                bulk("id"),
                bulk("r"),
                bulk("port"),
                Reply::Integer(7100),
                bulk("ip"),
                bulk("127.0.0.1"),
                bulk("role"),
                bulk("replica"),
                bulk("replication-offset"),
                Reply::Integer(off),
                bulk("health"),
                bulk(health),
            ])
        };
        let map = |replica: Reply| {
            SlotMap::from_shards(&Reply::Array(vec![Reply::Array(vec![
                bulk("slots"),
                Reply::Array(vec![Reply::Integer(0), Reply::Integer(16383)]),
                bulk("nodes"),
                Reply::Array(vec![
                    Reply::Array(vec![
                        bulk("id"),
                        bulk("p"),
                        bulk("port"),
                        Reply::Integer(7000),
                        bulk("ip"),
                        bulk("127.0.0.1"),
                        bulk("role"),
                        bulk("master"),
                        bulk("replication-offset"),
                        Reply::Integer(5_000_000),
                    ]),
                    replica,
                ]),
            ])]))
            .expect("map")
        };
        let m = map(node("loading", 0));
        let c = m.replica_candidates(0).expect("a candidate");
        assert_eq!(c[0].node.port, 7100);
        let down = map(node("fail", 5_000_000));
        assert!(down
            .replica_candidates(0)
            .is_err_and(|e| e.contains("marked failed")));
    }

    #[test]
    fn shards_and_slots_give_the_same_map() {
        let m = three();
        assert_eq!(m.covered(), SLOTS);
        assert_eq!(m.primaries(), vec![0, 1, 2]);
        assert_eq!(
            m.ranges(),
            vec![(0, 5460, 0), (5461, 10922, 1), (10923, 16383, 2)]
        );
        assert_eq!(m.nodes[1].id, "b");
        let range = |a: i64, b: i64, port: i64, id: &str| {
            Reply::Array(vec![
                Reply::Integer(a),
                Reply::Integer(b),
                Reply::Array(vec![bulk("127.0.0.1"), Reply::Integer(port), bulk(id)]),
                Reply::Array(vec![
                    bulk("127.0.0.1"),
                    Reply::Integer(port + 100),
                    bulk("r"),
                ]),
            ])
        };
        let mut s = SlotMap::from_slots(&Reply::Array(vec![
            range(0, 5460, 7000, "a"),
            range(5461, 10922, 7001, "b"),
            range(10923, 16383, 7002, "c"),
        ]))
        .expect("map");
        assert_eq!((s.nodes.clone(), s.ranges()), (m.nodes.clone(), m.ranges()));
        // CLUSTER SLOTS lists replicas too, without their health: each is a
        // candidate, to be checked on its own.
        let c = s.replica_candidates(1).expect("candidates");
        assert_eq!(
            c.iter()
                .map(|r| (
                    r.node.host.as_str(),
                    r.node.port,
                    r.node.id.as_str(),
                    r.failed
                ))
                .collect::<Vec<_>>(),
            vec![("127.0.0.1", 7101, "r", false)]
        );
        let bare = SlotMap::from_slots(&Reply::Array(vec![Reply::Array(vec![
            Reply::Integer(0),
            Reply::Integer(16383),
            Reply::Array(vec![bulk("10.0.0.1"), Reply::Integer(6379)]),
        ])]))
        .expect("map");
        assert_eq!(
            bare.replica_candidates(0).err().as_deref(),
            Some("no replica")
        );
        // A one-node cluster does not know its own address: it is the one
        // the node was reached at.
        let mut alone = SlotMap::from_slots(&Reply::Array(vec![Reply::Array(vec![
            Reply::Integer(0),
            Reply::Integer(16383),
            Reply::Array(vec![bulk(""), Reply::Integer(7000), bulk("a")]),
        ])]))
        .expect("map");
        alone.resolve_unknown("10.1.2.3");
        assert_eq!(
            (alone.nodes[0].host.as_str(), alone.nodes[0].port),
            ("10.1.2.3", 7000)
        );
        s.resolve_unknown("10.1.2.3");
        assert_eq!(s.nodes[0].host, "127.0.0.1", "a known address is kept");
    }

    fn cmd(args: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        crate::restore::live::resp(&mut out, &a);
        out
    }

    fn ordered(r: &mut Router) -> String {
        let mut o = Vec::new();
        r.ordered(&mut o);
        String::from_utf8_lossy(&o).into_owned()
    }

    #[test]
    fn commands_go_to_their_slot_owner_and_replies_come_back_in_order() {
        let mut r = Router::new(three());
        let mut all = cmd(&["SELECT", "0"]);
        all.extend(cmd(&["SET", "foo", "1"])); // slot 12182: node 2
        all.extend(cmd(&["SET", "bar", "2"])); // slot 5061: node 0
        all.extend(cmd(&["XGROUP", "CREATE", "foo", "g", "0"]));
        // Split anywhere: a partial command waits.
        r.push(&all[..7]).expect("push");
        r.push(&all[7..]).expect("push");
        assert_eq!(r.stats.broadcast, 1);
        let out: Vec<String> = (0..3)
            .map(|n| String::from_utf8_lossy(&r.take_out(n)).into_owned())
            .collect();
        assert!(
            out[0].contains("SELECT") && out[0].contains("bar"),
            "{out:?}"
        );
        assert!(
            out[1].contains("SELECT") && !out[1].contains("SET"),
            "{out:?}"
        );
        assert!(
            out[2].contains("foo") && out[2].contains("XGROUP"),
            "{out:?}"
        );
        assert_eq!(r.in_flight(), 6);
        // Node 2 answers first: held until the earlier replies are in.
        assert_eq!(r.replies(2, b"+OK\r\n+OK\r\n+OK\r\n"), Ok(15));
        assert_eq!(ordered(&mut r), "");
        assert_eq!(r.replies(0, b"+OK\r\n:1\r\n"), Ok(9));
        assert_eq!(ordered(&mut r), "");
        assert_eq!(r.replies(1, b"-ERR boom\r\n"), Ok(11));
        // SELECT's combined reply is its first error; then SET foo, SET bar, XGROUP.
        assert_eq!(ordered(&mut r), "-ERR boom\r\n+OK\r\n:1\r\n+OK\r\n");
        assert_eq!(r.in_flight(), 0);
        assert_eq!(r.retained(), 0);
    }

    #[test]
    fn moved_updates_the_map_and_later_commands_wait_their_turn() {
        let mut r = Router::new(three());
        let mut all = cmd(&["RPUSH", "foo", "a"]);
        all.extend(cmd(&["RPUSH", "foo", "b"]));
        r.push(&all).expect("push");
        let _ = r.take_out(2);
        // The first is answered MOVED to a new node; the second is still out.
        let moved = b"-MOVED 12182 127.0.0.1:7009\r\n";
        assert_eq!(r.replies(2, moved), Ok(moved.len()));
        assert_eq!(r.nodes(), 4);
        assert_eq!(r.stats.moved, 1);
        // A third command for the slot is parked behind the one in flight.
        r.push(&cmd(&["RPUSH", "foo", "c"])).expect("push");
        let sent = String::from_utf8_lossy(&r.take_out(3)).into_owned();
        assert_eq!(sent.matches("RPUSH").count(), 1, "{sent}");
        assert_eq!(r.replies(2, moved), Ok(moved.len()));
        let sent = String::from_utf8_lossy(&r.take_out(3)).into_owned();
        // b, then c: in the loader's order.
        let (b, c) = (sent.find("\r\nb\r\n"), sent.find("\r\nc\r\n"));
        assert!(b.is_some() && c.is_some() && b < c, "{sent}");
        assert_eq!(r.replies(3, b":1\r\n:2\r\n:3\r\n"), Ok(12));
        assert_eq!(ordered(&mut r), ":1\r\n:2\r\n:3\r\n");
        assert_eq!(r.map.owner(12182), Some(3));
    }

    /// A redirection naming another slot than the command's, out of range
    /// included (`-MOVED 20000`, which indexed past the slot table): an
    /// error naming it, not followed, no panic; the map is unchanged.
    #[test]
    fn a_redirection_to_another_slot_is_refused() {
        for reply in [
            &b"-MOVED 20000 127.0.0.1:7009\r\n"[..],
            b"-MOVED 65535 127.0.0.1:7009\r\n",
            b"-ASK 1 127.0.0.1:7009\r\n",
        ] {
            let mut r = Router::new(three());
            r.push(&cmd(&["SET", "foo", "1"])).expect("push"); // slot 12182
            let _ = r.take_out(2);
            let e = r.replies(2, reply).expect_err("another slot");
            assert!(e.contains("for a command of slot 12182"), "{e}");
            assert_eq!(r.nodes(), 3, "no node added");
            assert_eq!(r.map.owner(12182), Some(2));
            assert_eq!(r.stats.moved + r.stats.asked, 0);
        }
    }

    #[test]
    fn ask_sends_asking_then_the_command_without_changing_the_map() {
        let mut r = Router::new(three());
        r.push(&cmd(&["SET", "bar", "1"])).expect("push");
        let _ = r.take_out(0);
        let ask = b"-ASK 5061 127.0.0.1:7001\r\n";
        assert_eq!(r.replies(0, ask), Ok(ask.len()));
        assert_eq!(r.stats.asked, 1);
        let sent = String::from_utf8_lossy(&r.take_out(1)).into_owned();
        assert!(
            sent.starts_with("*1\r\n$6\r\nASKING\r\n*3\r\n$3\r\nSET"),
            "{sent}"
        );
        assert_eq!(r.replies(1, b"+OK\r\n+OK\r\n"), Ok(10));
        assert_eq!(ordered(&mut r), "+OK\r\n");
        assert_eq!(r.map.owner(5061), Some(0));
    }

    #[test]
    fn a_command_redirected_after_many_answers_is_resent_whole() {
        // Enough commands that the journal of unanswered ones is compacted
        // before the redirected one is copied out of it.
        let mut r = Router::new(three());
        let value = "v".repeat(100);
        let n = 30_000;
        let mut all = Vec::new();
        for i in 0..n {
            all.extend(cmd(&["RPUSH", "foo", &format!("{i}-{value}")]));
        }
        r.push(&all).expect("push");
        assert_eq!(r.retained(), all.len());
        let _ = r.take_out(2);
        let half = b":1\r\n".repeat(n / 2);
        assert_eq!(r.replies(2, &half), Ok(half.len()));
        let moved = b"-MOVED 12182 127.0.0.1:7009\r\n";
        assert_eq!(r.replies(2, moved), Ok(moved.len()));
        let resent = r.take_out(3);
        assert_eq!(
            resent,
            cmd(&["RPUSH", "foo", &format!("{}-{value}", n / 2)]),
            "the next unanswered command, byte for byte"
        );
        // The rest answered: nothing is retained and replies come in order.
        let rest = b":1\r\n".repeat(n / 2 - 1);
        assert_eq!(r.replies(2, &rest), Ok(rest.len()));
        assert_eq!(r.replies(3, b":2\r\n"), Ok(4));
        assert_eq!(r.retained(), 0);
        assert_eq!(r.in_flight(), 0);
        let o = ordered(&mut r);
        assert_eq!(o.matches(":1\r\n").count(), n - 1);
        assert!(
            o.ends_with(":1\r\n"),
            "the resent one is answered in its place"
        );
        assert_eq!(o.find(":2\r\n"), Some((n / 2) * 4));
    }

    #[test]
    fn an_unserved_slot_is_an_error() {
        let mut m = SlotMap::default();
        m.node_index("127.0.0.1", 7000);
        let mut r = Router::new(m);
        assert!(r
            .push(&cmd(&["SET", "foo", "1"]))
            .is_err_and(|e| e.contains("slot 12182")));
        assert!(r.push(&cmd(&["SELECT", "0"])).is_err());
    }
}
