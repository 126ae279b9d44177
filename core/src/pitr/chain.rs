//! Bases and their segments as chains: which moments can be restored, where
//! the gaps are, and the plan for a target time.

use super::stream::SegmentInfo;

/// A base: an ordinary backup that starts a chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Base {
    /// The backup's name.
    pub name: String,
    pub replid: String,
    /// `+FULLRESYNC`'s offset.
    pub offset: u64,
    /// When the snapshot was asked for (Unix ms): it holds every write
    /// that arrived before.
    pub time_ms: i64,
    /// A Redis Cluster shard's base: the slot ranges it held.
    pub slots: Vec<[u16; 2]>,
}

/// A stored segment (one with its manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Its object name in the repository.
    pub name: String,
    pub info: SegmentInfo,
}

/// A base and the segments that continue it without a gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub base: Base,
    pub segments: Vec<Segment>,
    /// Segments of this base that do not continue it (a missing one before
    /// them, or an overlap): named, never used.
    pub broken: Vec<String>,
}

impl Chain {
    /// The first second a restore on this chain can reach.
    pub fn from_s(&self) -> i64 {
        self.base.time_ms.div_euclid(1000)
    }

    /// The last second it reaches (its last segment's).
    pub fn to_s(&self) -> i64 {
        self.segments
            .last()
            .map_or(self.from_s(), |s| s.info.last_ms.div_euclid(1000))
    }

    /// The offset the archive has stored up to.
    pub fn last_offset(&self) -> u64 {
        self.segments
            .last()
            .map_or(self.base.offset, |s| s.info.last_offset)
    }

    /// The offset of the last byte of the last stored command (the base's
    /// offset when no segment stores one).
    pub fn commands_to(&self) -> u64 {
        self.segments
            .iter()
            .fold(self.base.offset, |to, s| commands_end(s, to))
    }

    /// Stretches of seconds (first, last) whose writes' times are not
    /// known: the archiver was behind (its spool was full), and commands
    /// read late may have executed any time from when it stopped reading.
    pub fn uncertain(&self) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for s in &self.segments {
            let Some(f) = s.info.late_from_ms else {
                continue;
            };
            let (a, b) = (f.div_euclid(1000), s.info.last_ms.div_euclid(1000));
            match out.last_mut() {
                Some(l) if a <= l.1 + 1 => l.1 = l.1.max(b),
                _ => out.push((a, b)),
            }
        }
        out
    }

    /// Commands stored.
    pub fn commands(&self) -> u64 {
        self.segments.iter().map(|s| s.info.commands).sum()
    }
}

/// `base`'s chain from its `segments` (any order): from the base on, the
/// segment starting where the chain ends, else one that rewinds to it
/// (`rewound_from` says where the chain ended when it was written; it
/// starts after the chain's last stored command: a promoted replica
/// continued the stream from where it had it, and what it never had was
/// only `PING`s and the like). Where neither exists the chain stops; the
/// segments left are listed as broken.
pub fn chain(base: Base, mut segments: Vec<Segment>) -> Chain {
    segments.sort_by_key(|s| (s.info.first_offset, s.info.last_offset));
    let mut next = base.offset + 1;
    // The offset of the last stored command's last byte.
    let mut commands_to = base.offset;
    let mut good = Vec::new();
    loop {
        let plain = segments
            .iter()
            .position(|s| s.info.first_offset == next && s.info.rewound_from.is_none());
        let rewind = || {
            segments.iter().position(|s| {
                s.info.rewound_from == Some(next - 1)
                    && s.info.first_offset <= next
                    && s.info.first_offset > commands_to
            })
        };
        let Some(i) = plain.or_else(rewind) else {
            break;
        };
        let s = segments.remove(i);
        if s.info.last_offset + 1 < s.info.first_offset {
            segments.push(s);
            break;
        }
        next = s.info.last_offset + 1;
        commands_to = commands_end(&s, commands_to);
        good.push(s);
    }
    let broken = segments
        .into_iter()
        .map(|s| {
            format!(
                "{} (offsets {}..={}, expected to start at {next})",
                s.name, s.info.first_offset, s.info.last_offset
            )
        })
        .collect();
    Chain {
        base,
        segments: good,
        broken,
    }
}

/// The offset of the last stored command's last byte after `s`, from
/// `before`: its own last command's, `before` when it stores none, or all
/// of it (a manifest from before the field was written).
fn commands_end(s: &Segment, before: u64) -> u64 {
    match s.info.last_command_offset {
        Some(o) => o,
        None if s.info.commands == 0 => before,
        None => s.info.last_offset,
    }
}

/// What can be restored: each chain's window, oldest first, and the gaps
/// between them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    /// The base's name.
    pub base: String,
    /// First and last second (Unix).
    pub from: i64,
    pub to: i64,
    pub segments: usize,
    pub commands: u64,
}

/// A stretch no chain covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Gap {
    /// The last second before it that can be restored, and the first after.
    pub after: i64,
    pub before: i64,
}

/// The windows of `chains` (by base time) and the gaps between them.
pub fn windows(chains: &[Chain]) -> (Vec<Window>, Vec<Gap>) {
    let mut w: Vec<Window> = chains
        .iter()
        .map(|c| Window {
            base: c.base.name.clone(),
            from: c.from_s(),
            to: c.to_s(),
            segments: c.segments.len(),
            commands: c.commands(),
        })
        .collect();
    w.sort_by_key(|w| (w.from, w.to));
    let mut gaps = Vec::new();
    let mut reach: Option<i64> = None;
    for x in &w {
        if let Some(r) = reach {
            if x.from > r + 1 {
                gaps.push(Gap {
                    after: r,
                    before: x.from,
                });
            }
        }
        reach = Some(reach.map_or(x.to, |r| r.max(x.to)));
    }
    (w, gaps)
}

/// The seconds every one of a Redis Cluster's shards can be restored to:
/// the intersection of the shards' windows (`(from, to)`, inclusive),
/// oldest first. Empty when one shard has no window there.
pub fn common(shards: &[Vec<Window>]) -> Vec<(i64, i64)> {
    let mut acc: Option<Vec<(i64, i64)>> = None;
    for windows in shards {
        let mine: Vec<(i64, i64)> = windows.iter().map(|w| (w.from, w.to)).collect();
        acc = Some(match acc {
            None => mine,
            Some(prev) => {
                let mut out = Vec::new();
                for &(a, b) in &prev {
                    for &(c, d) in &mine {
                        let (lo, hi) = (a.max(c), b.min(d));
                        if lo <= hi {
                            out.push((lo, hi));
                        }
                    }
                }
                out
            }
        });
    }
    let mut out = acc.unwrap_or_default();
    out.sort_unstable();
    // Overlapping windows of one shard give overlapping pieces: merged.
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (a, b) in out {
        match merged.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// How to reach a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The base to load.
    pub base: Base,
    /// The segments to replay, in order (the last one maybe in part).
    pub segments: Vec<Segment>,
}

/// Why a moment cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No chain at all.
    Empty,
    /// Before the oldest base, or after the newest segment.
    Outside { to: i64, from: i64, until: i64 },
    /// Inside a gap between chains.
    InGap { to: i64, gap: Gap },
    /// Where the archiver was behind: writes' seconds are not known.
    Uncertain { to: i64, from: i64, until: i64 },
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::store::names::rfc3339;
        match self {
            Refusal::Empty => write!(f, "the archive holds no base to restore from"),
            Refusal::Outside { to, from, until } => write!(
                f,
                "{} is outside the recovery window {} .. {}",
                rfc3339(*to),
                rfc3339(*from),
                rfc3339(*until)
            ),
            Refusal::Uncertain { to, from, until } => write!(
                f,
                "{} falls where the archiver was behind (its spool was full) from {} to {}: the writes it read late may have executed any time in between, so that second cannot be restored exactly; restore to a second before {} or after {}",
                rfc3339(*to),
                rfc3339(*from),
                rfc3339(*until),
                rfc3339(*from),
                rfc3339(*until)
            ),
            Refusal::InGap { to, gap } => write!(
                f,
                "{} falls in a gap of the archive: nothing was archived between {} and {} (a new base was taken after it)",
                rfc3339(*to),
                rfc3339(gap.after),
                rfc3339(gap.before)
            ),
        }
    }
}

/// The plan for second `to`: the newest base at or before it whose chain
/// reaches it, and the segments up to the first that reaches it.
pub fn plan(chains: &[Chain], to: i64) -> Result<Plan, Refusal> {
    let best = chains
        .iter()
        .filter(|c| c.from_s() <= to && c.to_s() >= to)
        .max_by_key(|c| c.base.time_ms);
    if let Some(c) = best {
        if let Some(&(from, until)) = c.uncertain().iter().find(|(a, b)| *a <= to && to < *b) {
            return Err(Refusal::Uncertain { to, from, until });
        }
        let mut segs = Vec::new();
        for s in &c.segments {
            // Segments that start after the second cannot hold it.
            if s.info.first_ms.div_euclid(1000) > to {
                break;
            }
            segs.push(s.clone());
        }
        return Ok(Plan {
            base: c.base.clone(),
            segments: segs,
        });
    }
    let (w, gaps) = windows(chains);
    let (Some(first), Some(last)) = (w.first(), w.iter().map(|w| w.to).max()) else {
        return Err(Refusal::Empty);
    };
    if let Some(g) = gaps.iter().find(|g| g.after < to && to < g.before) {
        return Err(Refusal::InGap { to, gap: g.clone() });
    }
    Err(Refusal::Outside {
        to,
        from: first.from,
        until: last,
    })
}

/// Where a chain stored up to `stored` on link `replid`, whose last stored
/// command ends at `commands_to`, continues on a server whose `INFO
/// replication` says `replid2` and `second_offset` (`master_replid2`,
/// `second_repl_offset`): a promoted replica accepts `PSYNC replid2 N` for
/// `N <= second_offset`. When the archive stored past that (the old primary
/// kept streaming after the promotion) but no command of it lies past it,
/// the chain continues from `second_offset - 1`: returns that. `None`:
/// continue as usual (`PSYNC replid stored+1`), or the server cannot.
pub fn continue_at(
    replid: &str,
    stored: u64,
    commands_to: u64,
    replid2: &str,
    second_offset: i64,
) -> Option<u64> {
    let second = u64::try_from(second_offset).ok()?;
    (replid == replid2 && stored + 1 > second && second > commands_to && second >= 1)
        .then(|| second - 1)
}
