//! Exit codes, shared by every command. The first four match the runbook's
//! `redis-backup.sh`; the others are documented in README.md.

use serde::Serialize;

/// How a command ended, and the process exit code that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exit {
    /// 0: success.
    Ok,
    /// 1: anything else: the cluster is unreachable, a local write failed,
    /// the copy broke off, the user answered no.
    Error,
    /// 2: pod not found, bad input, the file failed validation, or TLS cannot
    /// work as set (unknown CA, name mismatch, client certificate missing...).
    Invalid,
    /// 3: BGSAVE did not finish within `--timeout`.
    BgsaveTimeout,
    /// 4: the backup file was empty or missing in the pod.
    EmptyBackup,
    /// 5: Redis refused BGSAVE or reported that it failed.
    BgsaveFailed,
    /// 6: another backup or restore of this Redis holds its Lease.
    Locked,
    /// 7: the restored Redis did not come back, or does not hold the backup.
    VerifyFailed,
    /// 8: an RDB file is corrupt (checksum or structure), or differs from its manifest.
    Corrupt,
    /// 9: `--method stream` was asked for and the server refused replication (SYNC).
    SyncRefused,
    /// 10: `check`: no verified backup, or the newest is older than `--max-age`.
    Stale,
    /// 11: `status` found a problem that will make backups or restores fail;
    /// `backup --from replica` found no healthy, caught-up replica.
    Unhealthy,
    /// 12: the backup repository (object storage) refused a request or
    /// could not be reached; with several `--repo`, some copies failed.
    Storage,
    /// 13: an encrypted backup, and no identity given or none fits.
    Key,
    /// 1: the user did not confirm a restore (the runbook's code).
    Aborted,
    /// 130: interrupted (Ctrl-C); nothing was left under a final name.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Invalid => 2,
            Exit::BgsaveTimeout => 3,
            Exit::EmptyBackup => 4,
            Exit::BgsaveFailed => 5,
            Exit::Locked => 6,
            Exit::VerifyFailed => 7,
            Exit::Corrupt => 8,
            Exit::SyncRefused => 9,
            Exit::Stale => 10,
            Exit::Unhealthy => 11,
            Exit::Storage => 12,
            Exit::Key => 13,
            Exit::Aborted => 1,
            Exit::Interrupted => 130,
        }
    }

    /// The exit of a process that ended with `code` (a run's Job): the one
    /// [`Exit`] with that code, [`Exit::Error`] for 1 and for codes no
    /// [`Exit`] has.
    pub fn from_code(code: i32) -> Exit {
        Exit::ALL
            .iter()
            .copied()
            .find(|e| i32::from(e.code()) == code && *e != Exit::Aborted)
            .unwrap_or(Exit::Error)
    }

    /// Every exit code with its meaning, for `--help` and the README.
    pub const ALL: [Exit; 15] = [
        Exit::Ok,
        Exit::Error,
        Exit::Invalid,
        Exit::BgsaveTimeout,
        Exit::EmptyBackup,
        Exit::BgsaveFailed,
        Exit::Locked,
        Exit::VerifyFailed,
        Exit::Corrupt,
        Exit::SyncRefused,
        Exit::Stale,
        Exit::Unhealthy,
        Exit::Storage,
        Exit::Key,
        Exit::Interrupted,
    ];

    /// One line saying what the code means.
    pub const fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "success",
            Exit::Error => "other error (cluster unreachable, local I/O, copy broken off); restore: not confirmed",
            Exit::Invalid => "pod not found, bad input, file validation failed, or TLS that cannot work as set",
            Exit::BgsaveTimeout => "BGSAVE did not finish within --timeout",
            Exit::EmptyBackup => "backup file empty or missing in the pod",
            Exit::BgsaveFailed => "Redis refused BGSAVE or reported it failed",
            Exit::Locked => "another backup or restore of this Redis is running (its Lease is held)",
            Exit::VerifyFailed => "restore: Redis did not come back, or does not hold the backup's keys; drill: a difference",
            Exit::Corrupt => "an RDB file is corrupt (checksum or structure) or differs from its manifest",
            Exit::SyncRefused => "--method stream: the server refused SYNC (use --method bgsave)",
            Exit::Stale => "check: no verified backup, or the newest is older than --max-age",
            Exit::Unhealthy => "status: a problem that makes backups or restores fail; --from replica: no healthy, caught-up replica",
            Exit::Storage => "object storage refused or unreachable (the message names the credential source); several --repo: some copies failed, the others are kept",
            Exit::Key => "keys: an encrypted backup and no --identity (or none fits); a backup not signed by a trusted key; recipients not the pinned ones",
            Exit::Aborted => "restore: not confirmed (answer other than yes, or no terminal without --yes)",
            Exit::Interrupted => "interrupted; no partial file left behind, writers scaled back",
        }
    }
}

/// The exit-code table as help text.
pub fn help_table() -> String {
    let mut s = String::from("Exit codes:\n");
    for e in Exit::ALL {
        s.push_str(&format!("  {:>3}  {}\n", e.code(), e.meaning()));
    }
    s
}
