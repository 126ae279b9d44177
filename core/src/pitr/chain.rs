//! Bases and their segments as chains: which moments can be restored, where
//! the gaps are, and the plan for a target time.

use super::stream::SegmentInfo;

/// A base: an ordinary backup that starts a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// The backup's name.
    pub name: String,
    pub replid: String,
    /// `+FULLRESYNC`'s offset.
    pub offset: u64,
    /// When the snapshot was asked for (Unix ms): it holds every write
    /// that arrived before.
    pub time_ms: i64,
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

    /// Commands stored.
    pub fn commands(&self) -> u64 {
        self.segments.iter().map(|s| s.info.commands).sum()
    }
}

/// `base`'s chain from its `segments` (any order): sorted by offset, each
/// starting where the one before ended. The first that does not is where
/// the chain stops; it and the rest are listed as broken.
pub fn chain(base: Base, mut segments: Vec<Segment>) -> Chain {
    segments.sort_by_key(|s| s.info.first_offset);
    let mut next = base.offset + 1;
    let mut good = Vec::new();
    let mut broken = Vec::new();
    for s in segments {
        if broken.is_empty() && s.info.first_offset == next && s.info.last_offset >= next - 1 {
            next = s.info.last_offset + 1;
            good.push(s);
        } else {
            broken.push(format!(
                "{} (offsets {}..={}, expected to start at {next})",
                s.name, s.info.first_offset, s.info.last_offset
            ));
        }
    }
    Chain {
        base,
        segments: good,
        broken,
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
