//! Reading a segment back: its commands with the second each arrived, and
//! where to stop for a target time (whole transactions only).

use super::stream::{command_extent, parse_command, Error};

/// One command of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Where its RESP bytes are in the segment.
    pub range: core::ops::Range<usize>,
    /// Uppercase name.
    pub name: String,
    /// The second it arrived (the last `#TS:` before it).
    pub ts: i64,
}

/// A segment's commands, in order. Every `#TS:` line must be well formed
/// and every command whole: a segment that does not parse is refused (a
/// restore stops before any change).
pub fn commands(seg: &[u8]) -> Result<Vec<Command>, Error> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut ts: Option<i64> = None;
    while at < seg.len() {
        if seg[at] == b'#' {
            let Some(end) = seg[at..].windows(2).position(|w| w == b"\r\n") else {
                return Err(Error(format!("an annotation without its end at byte {at}")));
            };
            let line = &seg[at + 1..at + end];
            if let Some(n) = line.strip_prefix(b"TS:") {
                let n = core::str::from_utf8(n)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| Error(format!("a bad #TS: line at byte {at}")))?;
                ts = Some(n);
            }
            at += end + 2;
            continue;
        }
        let Some((len, name, _)) = parse_command(&seg[at..])? else {
            return Err(Error(format!(
                "the segment ends inside a command (byte {at} of {})",
                seg.len()
            )));
        };
        let Some(t) = ts else {
            return Err(Error("a command before any #TS: line".into()));
        };
        out.push(Command {
            range: at..at + len,
            name,
            ts: t,
        });
        at += len;
    }
    Ok(out)
}

/// Where to cut: the commands to replay for target second `to` (every
/// command that arrived in that second or before; a transaction whole or
/// not at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The first `n` commands.
    pub commands: usize,
    /// Their bytes end here.
    pub bytes: usize,
    /// The second of the last one (`None`: none).
    pub last_ts: Option<i64>,
    /// The commands keep going after `to`.
    pub more: bool,
}

/// The cut of `cmds` at second `to`.
pub fn cut(cmds: &[Command], to: i64) -> Cut {
    let mut keep = 0;
    let mut in_tx = false;
    let mut tx_start = 0;
    for (i, c) in cmds.iter().enumerate() {
        if c.ts > to && !in_tx {
            break;
        }
        match c.name.as_str() {
            "MULTI" => {
                in_tx = true;
                tx_start = i;
            }
            "EXEC" | "DISCARD" => {
                in_tx = false;
                keep = i + 1;
            }
            _ if !in_tx => keep = i + 1,
            _ => {}
        }
    }
    // A transaction the segment does not finish is not replayed.
    if in_tx && keep > tx_start {
        keep = tx_start;
    }
    Cut {
        commands: keep,
        bytes: if keep == 0 {
            0
        } else {
            cmds[keep - 1].range.end
        },
        last_ts: keep.checked_sub(1).map(|i| cmds[i].ts),
        more: keep < cmds.len(),
    }
}

/// Appends to `out` the bytes of commands `from..take` of segment `seg`,
/// as a replay sends them: its `#` annotation lines left out, and with
/// `no_tx` its `MULTI` and `EXEC` too. Copies runs of commands whole and
/// allocates nothing per command. Returns how many commands it appended.
pub fn payload(
    seg: &[u8],
    from: usize,
    take: usize,
    no_tx: bool,
    out: &mut Vec<u8>,
) -> Result<u64, Error> {
    let mut at = 0;
    let mut i = 0;
    let mut n = 0u64;
    let mut run: Option<usize> = None;
    while at < seg.len() && i < take {
        if seg[at] == b'#' {
            if let Some(r) = run.take() {
                out.extend_from_slice(&seg[r..at]);
            }
            let Some(end) = seg[at..].windows(2).position(|w| w == b"\r\n") else {
                return Err(Error(format!("an annotation without its end at byte {at}")));
            };
            at += end + 2;
            continue;
        }
        let Some((len, name, _)) = command_extent(&seg[at..])? else {
            return Err(Error(format!(
                "the segment ends inside a command (byte {at} of {})",
                seg.len()
            )));
        };
        let verb = &seg[at + name.start..at + name.end];
        let skip = i < from
            || (no_tx
                && (verb.eq_ignore_ascii_case(b"MULTI") || verb.eq_ignore_ascii_case(b"EXEC")));
        if skip {
            if let Some(r) = run.take() {
                out.extend_from_slice(&seg[r..at]);
            }
        } else {
            run.get_or_insert(at);
            n += 1;
        }
        at += len;
        i += 1;
    }
    if let Some(r) = run {
        out.extend_from_slice(&seg[r..at]);
    }
    Ok(n)
}
