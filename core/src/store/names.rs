//! Backup file names and UTC civil time, without a clock or a time crate.
//!
//! A backup is `redis-backup-YYYYMMDD_HHMMSS.rdb` (UTC, as the runbook), or
//! `redis-backup-YYYYMMDD_HHMMSS-N.rdb` when a second backup lands in the same
//! second. While it is written it lives under a hidden temporary name that
//! starts with [`TEMP_PREFIX`], so no reader ever sees a partial file under a
//! final name.
//!
//! A sanitized copy of a backup (`copy --sanitize`) is named
//! `redis-backup-YYYYMMDD_HHMMSS[-N]-sanitized.rdb`: its own name, so it
//! never takes a full backup's place, with the time of the backup it came
//! from.

/// Every final backup name starts with this.
pub const PREFIX: &str = "redis-backup-";
/// Every final backup name ends with this.
pub const SUFFIX: &str = ".rdb";
/// An encrypted backup (an age file) ends with this.
pub const ENCRYPTED_SUFFIX: &str = ".rdb.age";
/// What a sanitized copy's name has before [`SUFFIX`].
pub const SANITIZED: &str = "-sanitized";
/// Temporary files (being written, or left by a crash) start with this.
pub const TEMP_PREFIX: &str = ".redis-backup-";

/// A UTC calendar time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year, e.g. 2025.
    pub year: i64,
    /// 1-12.
    pub month: u32,
    /// 1-31.
    pub day: u32,
    /// 0-23.
    pub hour: u32,
    /// 0-59.
    pub minute: u32,
    /// 0-59.
    pub second: u32,
}

/// Seconds since the Unix epoch to UTC civil time (proleptic Gregorian).
pub fn civil_from_unix(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem / 60 % 60) as u32,
        second: (rem % 60) as u32,
    }
}

/// UTC civil time to seconds since the Unix epoch.
pub fn unix_from_civil(c: Civil) -> i64 {
    let y = c.year - i64::from(c.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(c.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(c.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + i64::from(c.hour) * 3600 + i64::from(c.minute) * 60 + i64::from(c.second)
}

/// `YYYYMMDD_HHMMSS` for a Unix time.
pub fn stamp(secs: i64) -> String {
    let c = civil_from_unix(secs);
    format!(
        "{:04}{:02}{:02}_{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// RFC 3339 UTC, e.g. `2025-10-24T18:05:00Z`.
pub fn rfc3339(secs: i64) -> String {
    let c = civil_from_unix(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The final file name of a backup taken at `secs`; `attempt` 0 is the plain
/// name, later attempts add `-2`, `-3`, ... (used when the name is taken).
pub fn backup_file_name(secs: i64, attempt: u32) -> String {
    if attempt == 0 {
        format!("{PREFIX}{}{SUFFIX}", stamp(secs))
    } else {
        format!("{PREFIX}{}-{}{SUFFIX}", stamp(secs), attempt + 1)
    }
}

/// [`backup_file_name`], ending in [`ENCRYPTED_SUFFIX`] when `encrypted`.
pub fn backup_file_name_for(secs: i64, attempt: u32, encrypted: bool) -> String {
    let n = backup_file_name(secs, attempt);
    if encrypted {
        format!("{n}.age")
    } else {
        n
    }
}

/// Whether `name` is an encrypted backup's name (`.rdb.age`).
pub fn is_encrypted_name(name: &str) -> bool {
    name.ends_with(ENCRYPTED_SUFFIX)
}

/// Whether `name` is a sanitized copy's name.
pub fn is_sanitized_name(name: &str) -> bool {
    let n = name.strip_suffix(".age").unwrap_or(name);
    n.strip_suffix(SUFFIX)
        .is_some_and(|n| n.ends_with(SANITIZED))
}

/// The name of a sanitized copy of the backup `name` (`.age` when
/// `encrypted`); `None` when `name` is not a full backup's name.
pub fn sanitized_name(name: &str, encrypted: bool) -> Option<String> {
    parse_backup_file_name(name)?;
    if is_sanitized_name(name) {
        return None;
    }
    let n = name.strip_suffix(".age").unwrap_or(name);
    let core = n.strip_suffix(SUFFIX)?;
    Some(format!(
        "{core}{SANITIZED}{SUFFIX}{}",
        if encrypted { ".age" } else { "" }
    ))
}

/// The prefix of the temporary file a backup taken at `secs` is written to.
pub fn temp_prefix(secs: i64) -> String {
    format!("{TEMP_PREFIX}{}{SUFFIX}.", stamp(secs))
}

/// The Unix time encoded in a final backup name, or `None` if `name` is not
/// one (temporary files, other files). Encrypted names (`.rdb.age`) count.
pub fn parse_backup_file_name(name: &str) -> Option<i64> {
    let name = name.strip_suffix(".age").unwrap_or(name);
    let core = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let core = core.strip_suffix(SANITIZED).unwrap_or(core);
    let (stamp, suffix) = match core.split_once('-') {
        Some((s, n)) => (s, Some(n)),
        None => (core, None),
    };
    if let Some(n) = suffix {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let b = stamp.as_bytes();
    if b.len() != 15 || b[8] != b'_' {
        return None;
    }
    let digits = |r: core::ops::Range<usize>| -> Option<u32> {
        let s = stamp.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let c = Civil {
        year: i64::from(digits(0..4)?),
        month: digits(4..6)?,
        day: digits(6..8)?,
        hour: digits(9..11)?,
        minute: digits(11..13)?,
        second: digits(13..15)?,
    };
    let valid = (1..=12).contains(&c.month)
        && (1..=31).contains(&c.day)
        && c.hour < 24
        && c.minute < 60
        && c.second < 60;
    let secs = unix_from_civil(c);
    // Reject dates like Feb 31 that do not survive a round trip.
    (valid && civil_from_unix(secs) == c).then_some(secs)
}

/// Whether `name` is a temporary file of ours (in progress or left by a crash).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// Whether an unfinished multipart upload is a killed backup's, to be
/// aborted: started before `before_unix` and no part uploaded since then.
/// A backup running longer than the cut-off keeps uploading parts, so its
/// newest part (`last_part_unix`) is recent. `None`: no part at all (the
/// start time decides); unknown (the parts could not be listed) is never
/// abandoned.
pub fn upload_abandoned(
    initiated_unix: i64,
    last_part_unix: Option<Option<i64>>,
    before_unix: i64,
) -> bool {
    match last_part_unix {
        None => false,
        Some(None) => initiated_unix < before_unix,
        Some(Some(t)) => initiated_unix < before_unix && t < before_unix,
    }
}

#[cfg(test)]
mod upload_tests {
    use super::upload_abandoned;

    #[test]
    fn a_long_upload_still_sending_parts_is_not_abandoned() {
        let cut = 10_000;
        // Started long ago, a part a minute ago: a long backup, alive.
        assert!(!upload_abandoned(1_000, Some(Some(cut + 60)), cut));
        // Started long ago, last part long ago: killed.
        assert!(upload_abandoned(1_000, Some(Some(2_000)), cut));
        // No part at all, started long ago: killed before its first part.
        assert!(upload_abandoned(1_000, Some(None), cut));
        // Parts unknown: left alone.
        assert!(!upload_abandoned(1_000, None, cut));
        // Started after the cut-off: young.
        assert!(!upload_abandoned(cut + 1, Some(None), cut));
    }
}

#[cfg(test)]
mod sanitized_tests {
    use super::*;

    #[test]
    fn a_sanitized_copy_has_its_own_name_and_the_backups_time() {
        let full = "redis-backup-20261205_070000.rdb";
        let s = sanitized_name(full, false).expect("a backup's name");
        assert_eq!(s, "redis-backup-20261205_070000-sanitized.rdb");
        assert_eq!(
            sanitized_name("redis-backup-20261205_070000-2.rdb.age", true).as_deref(),
            Some("redis-backup-20261205_070000-2-sanitized.rdb.age")
        );
        assert!(is_sanitized_name(&s) && !is_sanitized_name(full));
        assert!(is_sanitized_name(
            "redis-backup-20261205_070000-sanitized.rdb.age"
        ));
        assert_eq!(parse_backup_file_name(&s), parse_backup_file_name(full));
        assert!(parse_backup_file_name("redis-backup-20261205_070000-2-sanitized.rdb").is_some());
        // Never a sanitized copy of a sanitized copy, nor of other files.
        assert_eq!(sanitized_name(&s, false), None);
        assert_eq!(sanitized_name("dump.rdb", false), None);
    }
}
