#!/usr/bin/env python3
"""Writes the JSON Schemas of every `-o json` document into this folder.

The schemas are the documented contract; tests validate real outputs
against them (kubectl-redis/tests/cli.rs, tests/tests/e2e.rs,
tests/tests/matrix.rs). Edit this file, run it, commit both.
    python3 schemas/generate.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
API = "kubectl-redis.io/v1"

S = {"type": "string"}
I = {"type": "integer"}
U = {"type": "integer", "minimum": 0}
B = {"type": "boolean"}


def null(t):
    return {"anyOf": [t, {"type": "null"}]}


def obj(props, required=None, extra=False, desc=None):
    o = {
        "type": "object",
        "properties": props,
        "required": sorted(props) if required is None else required,
        "additionalProperties": extra,
    }
    if desc:
        o["description"] = desc
    return o


def arr(t):
    return {"type": "array", "items": t}


def d(t, desc):
    t = dict(t)
    t["description"] = desc
    return t


ERROR = obj(
    {"message": d(S, "What went wrong."), "hint": d(null(S), "What to do about it.")},
    desc="An error, as every document carries it.",
)
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
CRC64 = {"type": "string", "pattern": "^([0-9a-f]{16}|none)$"}
TIME = d(S, "RFC 3339, UTC.")
KEYS_PER_DB = {
    "type": "object",
    "description": "Database number (as a string) -> counts.",
    "additionalProperties": obj({"keys": U, "expires": U}),
}
CHECKSUM = {
    "description": "The CRC-64 at the end of the file.",
    "oneOf": [
        obj({"status": {"const": "verified"}, "crc64": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}),
        obj({"status": {"enum": ["disabled", "absent"]}}),
    ],
}
SOURCE = obj(
    {"context": null(S), "namespace": null(S), "pod": null(S), "url": null(S),
     "role": d({"const": "replica"}, "Present when the snapshot was read from a replica of the primary (`backup --from`).")},
    required=[],
    desc="Where the snapshot came from.",
)
SHARD = obj({
    "node_id": d(S, "The primary's node id."),
    "address": d(S, "Where the snapshot was read: host:port as the cluster announces it."),
    "role": d({"enum": ["primary", "replica"]}, "The shard's primary, or a healthy replica of it (online, within 1 MiB of its primary)."),
    "pod": null(S),
    "slots": d(arr({"type": "array", "items": U, "minItems": 2, "maxItems": 2}), "Slot ranges, [first, last]."),
    "keys": U,
    "sha256": d(S, "Of its snapshot as received."),
}, required=["node_id", "address", "role", "slots", "keys", "sha256"])
EXIT = d(U, "The process exit code (see `kubectl redis backup --help`).")
ENCRYPTION = obj(
    {
        "format": {"const": "age"},
        "recipients": d(arr(S), "Public keys (age1... or SSH) and KMS keys (awskms://ARN, gcpkms://projects/..., azurekv://VAULT/keys/NAME) the file is encrypted to."),
        "size": d(U, "Size of the stored (encrypted) object."),
        "sha256": d(SHA256, "SHA-256 of the stored (encrypted) object."),
        "kms": d(arr(obj({
            "key": d(S, "The KMS key: awskms://arn:aws:kms:REGION:ACCOUNT:key/ID, gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K, or azurekv://HOST/keys/NAME/VERSION (the version that wrapped it)."),
            "wrapped": d(S, "The backup's age identity encrypted by that key (base64); never in plaintext."),
            "recipient": d(S, "The age recipient (age1...) that identity opens."),
        })), "Keys held by a KMS (manifests)."),
    },
    required=["format", "recipients", "size", "sha256"],
    desc="How the stored object is encrypted, and its own checks (no key needed).",
)


def doc(kind, desc, props, required=None, **kw):
    p = {"apiVersion": {"const": API}, "kind": {"const": kind}}
    p.update(props)
    req = sorted(p) if required is None else sorted(set(required) | {"apiVersion", "kind"})
    s = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://kubectl-redis.io/schemas/v1/{kind}.json",
        "title": kind,
        "description": desc,
        "type": "object",
        "properties": p,
        "required": req,
        "additionalProperties": False,
    }
    s.update(kw)
    return s


def failure_or(success_required):
    """Success documents carry these fields; failures carry `error`."""
    return {
        "if": {"properties": {"exit_code": {"const": 0}}},
        "then": {"required": success_required},
        "else": {"required": ["error"]},
    }


backup_ok = [
    "path", "bytes", "method", "rdb_version", "rdb_flavor", "created", "duration_ms",
    "keys", "keys_per_db", "sha256", "crc64", "verified", "manifest",
]
backup_set_ok = [
    "path", "bytes", "method", "rdb_version", "rdb_flavor", "created", "duration_ms",
    "keys", "keys_per_db", "verified", "shards", "set",
]
SANITIZE_RULE = obj({
    "rule": d(U, "Its number in the rules file, from 1."),
    "text": d(S, "What it is: `drop session:*`, `mask user:* fields email`."),
    "keys": d(U, "Keys it decided (the first rule that fits a key decides it)."),
    "masked": d(U, "Values, hash fields' values and members it masked."),
})
SANITIZE = obj({
    "from": d(S, "The backup the copy was made from (file name)."),
    "rules_sha256": d(SHA256, "SHA-256 of the rules file's bytes."),
    "key_id": d({"type": "string", "pattern": "^[0-9a-f]{16}$"}, "The mask key's id (not the key): copies masked with the same key show the same id."),
    "keys_in": d(U, "Keys read."), "keys_out": d(U, "Keys written."),
    "rules": arr(SANITIZE_RULE),
}, desc="How a sanitized copy was made (see docs/sanitize.md).")

ROW = obj({
    "file": S, "path": S, "bytes": U,
    "created_unix": d(I, "Unix seconds."), "created": TIME,
    "age_seconds": I, "keys": null(U),
    "status": {"enum": ["verified", "unverified", "no manifest", "bad manifest", "size differs from manifest", "shard file missing", "shard file size differs"]},
    "method": null(S),
    "archive": d(null(S), "The point-in-time archive whose chain this backup starts (it is that chain's base), or null."),
    "sanitized": d(B, "A sanitized copy (`--sanitize`: keys dropped or masked), never a full backup: `restore --latest` passes over it."),
    "shards": d(null(U), "A backup set (a Redis Cluster backed up one Job per shard, `--in-cluster`): how many shards' files it holds; `file` is the set's name, `bytes` its shards' together. null for a single file."),
}, desc="A backup, or a backup set, in a repository.")

PITR_FIELDS = {
    "to": d(TIME, "The second restored to: every write the archive received up to its end."),
    "base": d(S, "The base backup loaded first."),
    "segments": d(arr(S), "The segments read, in order."),
    "commands": d(U, "Archived commands up to that second (the segments' own SELECTs included)."),
    "replayed": d(null(U), "Commands the server accepted; null when the replay did not run (a dry run, or the base failed)."),
    "last_command_at": d(null(TIME), "The second the last replayed command was received."),
}
PITR = obj(PITR_FIELDS)

ARCHIVE = obj({
    "archive": d(S, "Its name (pitr/NAME/ in the repository)."),
    "windows": d(arr(obj({
        "base": d(S, "The base backup that starts the chain."),
        "from": TIME, "to": TIME,
        "from_unix": I, "to_unix": I,
        "segments": d(U, "Segments that continue the base without a gap."),
        "commands": d(U, "Commands they hold."),
    })), "One per chain (a base and its segments), oldest first: any second from `from` to `to` can be restored."),
    "gaps": d(arr(obj({
        "after": TIME, "before": TIME, "after_unix": I, "before_unix": I,
    })), "Stretches no chain covers: nothing was archived after `after` until the base at `before`."),
    "broken": d(arr(S), "Segments that do not continue their chain (a missing one before them, or an overlap): never used."),
    "uncertain": d(arr(obj({
        "from": TIME, "to": TIME, "from_unix": I, "to_unix": I,
    })), "Stretches where the archiver was behind (its spool was full): writes it read late may have executed any time from `from`, so restores to a second from `from` up to (not including) `to` are refused."),
    "latest": d(null(TIME), "The newest second that can be restored."),
    "last_offset": d(null(U), "The replication offset the newest chain is stored up to."),
})


RUN = obj({
    "name": d(S, "The run's name: its Job's, ServiceAccount's, Role's and RoleBinding's, and the value of their label kubectl-redis.io/run. A backup set: the first shard's run."),
    "names": d(arr(S), "A backup set: every shard's run, in slot order."),
    "namespace": S,
    "image": d(S, "The image the Job ran."),
    "port_forward_bytes": d(U, "Bytes the plugin moved through port-forwards during the run: 0, the data went from Redis to the repository inside the cluster."),
}, required=["image", "name", "namespace", "port_forward_bytes"])

schemas = {
    "backup": doc(
        "BackupResult",
        "`kubectl redis backup -o json`. On failure only `error` and `exit_code`.",
        {
            "path": d(S, "The backup file."),
            "bytes": U,
            "method": {"enum": ["stream", "bgsave"]},
            "rdb_version": U,
            "rdb_flavor": {"enum": ["redis", "valkey"]},
            "created": TIME,
            "duration_ms": d(U, "The whole backup, milliseconds."),
            "keys": U,
            "keys_per_db": KEYS_PER_DB,
            "sha256": SHA256,
            "crc64": CRC64,
            "verified": B,
            "manifest": d(S, "The manifest beside the backup."),
            "namespace": S, "pod": S, "container": S,
            "remote_path": d(S, "bgsave: the dump's path in the pod."),
            "lastsave_unix": d(I, "bgsave: LASTSAVE of the snapshot, Unix seconds."),
            "bgsave_ms": d(U, "bgsave: BGSAVE until LASTSAVE advanced."),
            "copy_ms": d(U, "bgsave: the copy out of the pod."),
            "diskless": d(null(B), "stream: sent without writing to the server's disk."),
            "redis_version": null(S),
            "source": SOURCE,
            "sync_ms": d(U, "stream: from the connection to the last byte."),
            "encryption": d(null(ENCRYPTION), "Present when the backup is an age file; `bytes` and `sha256` above are then the plaintext RDB's."),
            "copies": d(arr(obj({
                "repository": S, "path": S, "ok": B, "error": null(ERROR),
            })), "With several --repo: the same snapshot in each further repository (`path` above is the first's)."),
            "shards": d(arr(SHARD), "A Redis Cluster: the primaries whose snapshots the file merges (a backup set: whose snapshots its files are)."),
            "set": d(obj({
                "name": d(S, "The set's name (`path` is its location)."),
                "sealed": d(B, "Its manifest is written: every shard's file is stored."),
                "files": d(arr(obj({
                    "slot": d(U, "The lowest slot of the shard (in the file's name)."),
                    "path": S, "bytes": U, "keys": U, "sha256": SHA256,
                    "duration_ms": d(U, "That shard's Job, from its start."),
                })), "Each shard's file, in slot order."),
            }), "`--in-cluster` of a Redis Cluster: a backup set, one Job per shard (without --merge)."),
            "sanitized": d(B, "`--sanitize`: the backup stored is a sanitized copy (present and true only then)."),
            "sanitize": d(SANITIZE, "`--sanitize`: how the copy was made."),
            "run": d(RUN, "`--in-cluster`: the Job that did the backup (the other fields are its result)."),
            "error": null(ERROR),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **{
            "if": {"properties": {"exit_code": {"const": 0}}},
            "then": {
                # A backup set has no one file: no sha256, crc64 or manifest.
                "if": {"required": ["set"]},
                "then": {"required": backup_set_ok},
                "else": {"required": backup_ok},
            },
            "else": {"required": ["error"]},
        },
    ),
    "restore": doc(
        "RestoreResult",
        "`kubectl redis restore -o json` (also with --dry-run).",
        {
            "file": S, "bytes": U, "namespace": S,
            "pod": d(S, "The pod before the restart."),
            "pod_after": d(null(S), "The pod serving afterwards."),
            "method": d(null({"enum": ["rdb", "aof", "aof-preamble", "live"]}),
                        "How the backup got in: a file swap (`rdb`, `aof`: the base of a new multi-part AOF, "
                        "`aof-preamble`), or `live`: replayed into the running server."),
            "method_reason": d(null(S), "Why `--method auto` chose the method."),
            "keys_expected": d(null(U), "Keys the backup holds in the databases `databases` lists: all of them once the "
                                        "file verified (only its first with --force-unverified); null when unknown."),
            "keys_loaded": d(null(U), "Keys the server holds afterwards in those same databases; null until counted "
                                      "(and with --merge, where other keys are kept)."),
            "databases": d(arr(obj({
                "db": U,
                "keys_expected": d(null(U), "Keys the backup holds there (0: a database only the server has keys in)."),
                "keys_loaded": d(null(U), "Keys the server holds there afterwards, once counted."),
            })), "The same two counts per database, in database order; their sums are the totals above."),
            "writers": arr(obj({"name": S, "replicas": I, "restored": B})),
            "changed": d(B, "Whether anything in the cluster was changed."),
            "load": d(null(obj({
                "keys_restored": d(U, "Keys the server confirmed."),
                "keys_by_payload": d(U, "Of those, sent as RESTORE with the value's bytes from the file."),
                "keys_by_commands": d(U, "Of those, sent as plain commands (a type the server does not know, or a big value)."),
                "keys_expired": d(U, "Keys whose TTL had passed: not sent."),
                "dbs": d({"type": "object", "additionalProperties": U}, "Database number (as a string) -> keys confirmed."),
                "functions": d(U, "Function libraries restored."),
                "commands": d(U, "Commands sent."),
                "bytes_read": d(U, "Bytes of the file read."),
            })), "A live restore: what was sent and confirmed (also when it stopped early)."),
            "duration_ms": U,
            "point_in_time": d(PITR, "`--to-time`: what was replayed after the base."),
            "error": null(ERROR),
            "run": d(RUN, "`--in-cluster`: the Job that did the restore (the other fields are its result)."),
            "primaries": d(arr(obj({
                "pod": d(S, "The primary's pod."),
                "slots": d(S, "The slot ranges its Job restored (FIRST-LAST,...)."),
                "run": d(S, "Its Job."),
                "keys_loaded": null(U),
                "duration_ms": null(U),
            })), "`--in-cluster` of a backup set into a Redis Cluster: one Job per target primary, each loading the keys of its slots from every shard's file; the counts above are their sums."),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["file", "bytes", "namespace", "pod", "pod_after", "method", "method_reason", "keys_expected",
                      "keys_loaded", "databases", "writers", "changed", "load", "duration_ms"]),
    ),
    "drill": doc(
        "DrillResult",
        "`kubectl redis drill -o json`: a backup restored into a throwaway pod and checked. "
        "On an early failure only `error` and `exit_code`; a failed check (exit 7) has the counts too.",
        {
            "file": d(S, "The backup (a local path; a private copy when it came from object storage or was encrypted)."),
            "pod": d(S, "The throwaway pod."),
            "namespace": S,
            "image": d(S, "Its image."),
            "keys": d(U, "Keys the backup holds (restored plus skipped as expired)."),
            "keys_restored": d(U, "Keys the server confirmed."),
            "restore_ms": d(U, "How long the restore took, from reading the file to checking the counts."),
            "pod_ready_ms": d(U, "How long the pod took to be ready."),
            "sampled": d(U, "Keys compared value by value (read back with plain commands)."),
            "sample_skipped": d(U, "Keys picked for the sample but too big or about to expire."),
            "mismatches": d(arr(S), "What differs; empty when the drill passed."),
            "pod_deleted": d(B, "Whether the pod was deleted (it deletes itself after its deadline otherwise)."),
            "ok": d(B, "The drill passed."),
            "point_in_time": d(obj(dict(PITR_FIELDS, replay_ms=d(null(U), "How long the replay took; null when it did not run."))),
                               "`--to-time`: after the base was restored and sampled, the archived writes replayed into the pod (absent without --to-time)."),
            "error": null(ERROR),
            "run": d(RUN, "`--in-cluster`: the Job that ran the drill (the other fields are its result)."),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["file", "pod", "namespace", "image", "keys", "keys_restored", "restore_ms",
                      "pod_ready_ms", "sampled", "sample_skipped", "mismatches", "pod_deleted", "ok"]),
    ),
    "recover": doc(
        "RecoverResult",
        "`kubectl redis restore --recover -o json`.",
        {
            "namespace": S,
            "writers": arr(obj({"name": S, "replicas": I, "restored": B})),
            "installs": arr(obj({"pod": S, "path": S, "action": {"enum": ["finished", "reverted", "pod_gone"]}, "done": B})),
            "released_leases": arr(S),
            "error": null(ERROR),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["namespace", "writers", "installs", "released_leases"]),
    ),
    "run": doc(
        "Run",
        "`--in-cluster --detach -o json`: the run started as a Job, which goes on without the plugin; "
        "`runs delete NAME -o json`: the run removed. (`runs logs NAME -o json` prints the run's own result "
        "document, as the command that started it does, with `run`.)",
        {
            "name": d(S, "The run's name: its Job's, and the value of the label kubectl-redis.io/run on its objects."),
            "namespace": S,
            "command": d(S, "The command the Job runs: backup, ..."),
            "image": S,
            "state": {"enum": ["created", "deleted"]},
            "error": null(ERROR),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["name", "namespace", "state"]),
    ),
    "runs": doc(
        "RunList",
        "`kubectl redis runs -o json`: the namespace's runs, newest first.",
        {
            "namespace": S,
            "runs": arr(obj({
                "name": S,
                "command": d(S, "backup, ..."),
                "state": {"enum": ["starting", "running", "succeeded", "failed"]},
                "started": d(null(S), "When its Job started (RFC 3339)."),
                "finished": d(null(S), "When it ended."),
                "exit_code": d(null(I), "Its container's exit code, once it ended."),
                "reason": d(null(S), "Why the Job failed, when Kubernetes says (a deadline passed, ...)."),
                "result": d(null({"type": "object"}), "Its result document (a BackupResult, ...), from the pod's termination message."),
            })),
            "error": null(ERROR),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["namespace", "runs"]),
    ),
    "list": doc(
        "BackupList",
        "`kubectl redis list -o json`: newest first.",
        {
            "dir": d(S, "The repository: a directory or an object-storage URL."),
            "backups": arr(ROW),
            "archives": d(arr(ARCHIVE), "The point-in-time archives in the repository (pitr/NAME/): what `restore --to-time` can reach."),
            "partial": d(arr(S), "Leftovers of interrupted backups: hidden temporary files, and objects uploaded without a manifest (which do not count); `prune` removes those older than an hour."),
        },
    ),
    "verify": doc(
        "VerifyResult",
        "`kubectl redis verify FILE... -o json`.",
        {
            "ok": B,
            "files": arr(obj({
                "file": S, "ok": B, "bytes": U, "sha256": null(SHA256),
                "rdb_version": null(U), "flavor": null({"enum": ["redis", "valkey"]}),
                "keys": null(U), "checksum": null(CHECKSUM),
                "encrypted": d(B, "The stored bytes are an age file."),
                "checked": d({"enum": ["every-byte", "stored-bytes"]}, "every-byte: the RDB was read whole (decrypted when encrypted); stored-bytes: an encrypted file's size and sha256 checked against its manifest, without a key."),
                "manifest": {"enum": ["match", "mismatch", "none", "unreadable"]},
                "error": null(ERROR), "exit_code": EXIT,
            })),
            "chains": d(arr(obj({
                "archive": S, "base": d(S, "The chain's base (also checked as a backup in `files`)."),
                "ok": B, "from": TIME, "to": TIME,
                "segments": d(U, "Segments that continue the base without a gap."),
                "commands": U,
                "checked": d({"enum": ["every-byte", "stored-bytes"]}, "every-byte: every segment decrypted, its sha256 compared and every command parsed; stored-bytes: encrypted segments checked against their manifests without a key."),
                "broken": d(arr(S), "Segments of the base that do not continue its chain: the chain fails."),
                "error": null(ERROR), "exit_code": EXIT,
            })), "`verify --archive`: one per chain of the archive(s); empty otherwise."),
            "sets": d(arr(obj({
                "set": d(S, "The set as given."),
                "ok": d(B, "Its manifest read, and its shards serve every slot exactly once (each shard's file is checked in `files`)."),
                "shards": U, "keys": U,
                "error": null(ERROR), "exit_code": EXIT,
            })), "Backup sets given: one each; their shards' files are in `files`."),
            "error": d(null(ERROR), "Why nothing could be checked (no such archive, storage unreachable)."),
            "run": d(RUN, "`--in-cluster`: the Job that did the verify (the other fields are its result)."),
            "exit_code": EXIT,
        },
        required=["exit_code", "error"],
        **failure_or(["ok", "files", "chains"]),
    ),
    "snapshot-check": doc(
        "SnapshotCheck",
        "`kubectl redis verify --url URL -o json`: a live snapshot, checked, not saved.",
        {
            "ok": B, "url": S, "bytes": U, "sha256": SHA256, "rdb_version": U,
            "flavor": {"enum": ["redis", "valkey"]}, "keys": U, "keys_per_db": KEYS_PER_DB,
            "checksum": null(CHECKSUM), "diskless": null(B),
            "error": null(ERROR), "exit_code": EXIT,
        },
        required=["ok", "url", "error", "exit_code"],
        **failure_or(["bytes", "sha256", "rdb_version", "flavor", "keys", "keys_per_db", "checksum"]),
    ),
    "inspect": doc(
        "InspectReport",
        "`kubectl redis inspect FILE -o json`. Sizes are bytes in the file.",
        {
            "file": S, "sha256": null(SHA256),
            "flavor": {"enum": ["redis", "valkey"]}, "rdb_version": U,
            "server_version": null(S), "created_unix": d(null(I), "Unix seconds."),
            "used_mem_bytes": d(null(U), "Memory in use when saved."),
            "aof_base": B, "bytes": U, "checksum": CHECKSUM, "keys": U, "expires": U,
            "dbs": arr(obj({"db": U, "keys": U, "expires": U, "announced_keys": null(U)})),
            "types": arr(obj({"type": S, "encoding": S, "keys": U, "elements": U, "bytes": U})),
            "biggest": arr(obj({
                "db": U, "key": S, "type": S, "encoding": S, "bytes": U, "elements": U,
                "expires_at_unix_ms": null(I),
            })),
            "prefixes": arr(obj({"prefix": S, "keys": U, "bytes": U})),
            "functions": U, "module_aux": U, "compressed_strings": U,
            "unchecked": d(U, "Strings too large to check beyond the CRC."),
            "aux": {"type": "object", "additionalProperties": S},
        },
    ),
    "check": doc(
        "BackupCheck",
        "`kubectl redis check -o json`.",
        {
            "ok": B, "dir": S, "max_age_seconds": U,
            "newest": null(ROW),
            "archives": d(null(arr(obj({
                "archive": S,
                "latest": d(null(TIME), "The newest second it can restore."),
                "lag_seconds": null(I),
                "ok": d(B, "Within --max-archive-lag."),
            }))), "With --max-archive-lag: each point-in-time archive's newest second; null without it."),
            "message": S, "error": null(ERROR), "exit_code": EXIT,
        },
        required=["ok", "dir", "max_age_seconds", "newest", "message", "error", "exit_code"],
    ),
    "prune": doc(
        "PruneResult",
        "`kubectl redis prune -o json` (a dry run unless --yes).",
        {
            "dir": S, "dry_run": B,
            "policy": obj({
                "last": null(U), "within_seconds": null(U), "hourly": null(U),
                "daily": null(U), "weekly": null(U),
            }),
            "backups": arr(obj({
                "file": S, "path": S, "created": TIME, "bytes": U, "keep": B, "reasons": arr(S),
            })),
            "kept": U, "removed": arr(S), "would_remove": arr(S),
            "pitr_segments_removed": d(U, "Segments of point-in-time archives removed with their bases (--keep-pitr)."),
            "leftovers": d(arr(S), "Leftovers of interrupted backups older than an hour: removed with --yes, else would be."),
            "leftovers_removed": B,
            "unfinished_uploads": d(arr(obj({"key": S, "initiated_unix": I})), "S3: multipart uploads a killed backup left, older than --leftovers-older-than: aborted with --yes, else would be."),
            "errors": arr(ERROR), "exit_code": EXIT,
        },
    ),
    "copy": doc(
        "CopyResult",
        "`kubectl redis copy SRC DST -o json`. On failure before any copy, only `error` and `exit_code`.",
        {
            "source": S, "destination": S,
            "copied": arr(obj({
                "file": S, "destination": d(S, "Where the copy is."),
                "bytes": d(U, "Stored bytes written."), "sha256": SHA256, "encrypted": B,
            })),
            "skipped": d(arr(S), "Already at the destination with the same sha256 (with --sanitize: made from the same backup by the same rules and key)."),
            "sanitized": d(arr(obj({
                "file": d(S, "The sanitized copy's name."), "from": d(S, "The backup it was made from."),
                "keys_in": U, "keys_out": U,
                "rules": arr(obj({
                    "rule": U, "rule_text": S, "action": {"enum": ["drop", "mask", "ttl", "keep"]},
                    "keys": U, "masked": U,
                })),
            })), "With --sanitize: what each copy's rules did."),
            "sets": d(arr(S), "Backup sets copied shard by shard (their shards' files are in `copied`; the set's manifest was written last)."),
            "errors": arr(ERROR),
            "error": null(ERROR),
            "run": d(RUN, "`--in-cluster`: the Job that did the copy (the other fields are its result)."),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["source", "destination", "copied", "skipped", "errors"]),
    ),
    "repo": doc(
        "RepoConfig",
        "`kubectl redis repo init|show -o json`.",
        {
            "repository": S,
            "recipients": arr(S),
            "signers": arr(S),
            "recipients_fingerprint": S,
            "created": TIME,
            "error": null(ERROR),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["repository", "recipients", "signers", "recipients_fingerprint", "created"]),
    ),
    "status": doc(
        "StatusReport",
        "`kubectl redis status -o json`. Facts a lookup could not find are null.",
        {
            "namespace": S, "context": null(S),
            "cluster": obj({"reachable": B, "kubernetes_version": null(S)}),
            "pod": null(obj({
                "name": S, "container": S, "port": U, "ready": B, "restarts": U,
                "other_matching_pods": U,
            })),
            "redis": null(obj({
                "version": null(S), "role": null(S), "connected_replicas": null(I),
                "keys": U, "keys_per_db": KEYS_PER_DB,
                "last_save_unix": d(null(I), "Unix seconds."),
                "last_bgsave_ok": null(B), "bgsave_in_progress": null(B),
                "used_memory_bytes": null(I),
            })),
            "persistence": obj({
                "save": null(S), "appendonly": null(S), "dir": null(S),
                "dbfilename": null(S), "repl_diskless_sync": null(S),
            }),
            "disk": null(obj({"used_bytes": U, "free_bytes": U}, desc="The data volume.")),
            "sync_available": null(B),
            "writers": arr(obj({
                "name": S, "replicas": null(I), "recorded_replicas": null(I), "error": null(S),
            })),
            "newest_backup": null(obj({"file": S, "age_seconds": I, "status": S})),
            "tls": d(null(obj({
                "port": U,
                "why": d(S, "Why the port is TLS: the pod's spec (REDIS_TLS_*, --tls-port, a port named tls) or a flag."),
                "subject": d(null(S), "The server certificate's subject, when the handshake got that far."),
                "names": d(arr(S), "The DNS names and addresses the certificate is issued for."),
                "not_before_unix": null(I), "not_after_unix": null(I),
                "days_left": d(null(I), "Whole days until the certificate ends (negative: ended); under 14 is a warning."),
                "client_cert_asked": d(null(B), "The server asked for a client certificate (tls-auth-clients yes or optional)."),
                "uses": d(S, "What the plugin uses: the CA and where it came from, the name it checks, the client certificate."),
                "error": d(null(S), "Why a TLS connection failed, naming the flag that fixes it."),
            })), "TLS to the pod's port when it speaks TLS, else null."),
            "redis_cluster": d(null(obj({
                "state": null(S), "slots_assigned": null(U), "slots_ok": null(U),
                "slots_pfail": null(U), "slots_fail": null(U), "primaries": null(U), "known_nodes": null(U),
            })), "CLUSTER INFO when the server runs in cluster mode, else null."),
            "roles": d(null(obj({
                "how": d({"enum": ["labels", "sentinel", "info"]},
                         "`labels` (charts' and operators' role labels), `sentinel` (the pod Sentinel names), "
                         "`info` (each Ready pod asked for its INFO replication, as no pod has a role label)."),
                "pods": arr(obj({
                    "pod": S,
                    "role": {"enum": ["primary", "replica", "unknown"]},
                    "detail": d(null(S), "`info`: what the pod said (`primary with 1 replica(s)`, `replica of 10.0.0.5:6379`, `no answer (...)`)."),
                })),
                "unsettled": d(null(S), "`info`: why no primary was found (several independent primaries, none, a stray pod); "
                                        "backup and restore then need --pod."),
            })), "The Ready pods' roles and how they are known; null when no pod has a role and only one matched."),
            "sentinel": d(null({"oneOf": [
                obj({
                    "master_name": S,
                    "primary": obj({"ip": S, "port": U, "pod": d(null(S), "The pod serving that address, when one does.")}),
                    "quorum": U, "sentinels": d(U, "Sentinels watching it, the one asked included."),
                    "flags": arr(S), "failover_in_progress": B, "failover_state": null(S),
                    "replicas": arr(obj({"ip": S, "port": U, "flags": arr(S)})),
                    "other_sentinels": arr(obj({"ip": S, "port": U, "flags": arr(S)})),
                    "asked_pod": d(S, "The pod whose Sentinel answered."),
                }),
                obj({"error": S}, desc="Sentinel runs beside Redis and could not be asked."),
            ]}), "Sentinel's view when Sentinel runs beside Redis (a sentinel container or port 26379), else null."),
            "checks": arr(obj({
                "what": S, "level": {"enum": ["ok", "warn", "fail", "unknown"]},
                "detail": S, "fix": null(S),
            })),
            "rbac": arr(obj({"permission": S, "allowed": null(B), "without_it": S})),
            "error": d(null(ERROR), "The first failing check, when one fails."),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["namespace", "context", "cluster", "pod", "redis", "persistence", "disk",
                      "sync_available", "writers", "newest_backup", "tls", "redis_cluster", "roles", "sentinel", "checks", "rbac"]),
    ),
    "archive-status": doc(
        "ArchiveStatus",
        "`kubectl redis archive status -o json`: the point-in-time archives in a repository.",
        {
            "repo": d(S, "The repository."),
            "archives": arr(ARCHIVE),
            "clusters": d(arr(obj({
                "archive": d(S, "The name its shards share (`restore --to-time --archive NAME`)."),
                "shards": d(arr(S), "Its shards' archives, NAME.shard-SLOT (SLOT: the lowest slot the shard served when archiving began)."),
                "windows": d(arr(obj({
                    "from": TIME, "to": TIME, "from_unix": I, "to_unix": I,
                })), "The seconds every shard reaches, oldest first: what a restore of the whole cluster to one second can use."),
            })), "Redis Cluster archives: shards archived together by one `archive run`."),
            "error": null(ERROR),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["repo", "archives", "clusters"]),
    ),
    "audit": doc(
        "AuditTrail",
        "`kubectl redis audit -o json`: a repository's audit records (under audit/), oldest first.",
        {
            "repo": d(S, "The repository."),
            "since": d(null(TIME), "With --since: the oldest time shown."),
            "records": arr(obj({
                "format": {"const": "kubectl-redis.io/audit/v1"},
                "time": d(S, "RFC 3339 with milliseconds, UTC."),
                "time_ms": d(I, "Unix milliseconds."),
                "action": d({"enum": ["backup-written", "read", "deleted"]}, "What happened to the backup."),
                "by_command": d(S, "The command: backup, backup --sanitize, copy, copy --sanitize, restore, drill, prune."),
                "file": d(S, "The backup's name in the repository."),
                "sha256": d(SHA256, "Its stored bytes' SHA-256, when known."),
                "decrypted": d(B, "The stored object was decrypted with a key."),
                "who": obj({
                    "kube_user": d(null(S), "The kubeconfig user (null without a cluster)."),
                    "local": d(S, "$USER@host."),
                }),
                "tool": d(S, "kubectl-redis x.y.z."),
                "peer": d(S, "Where from or to: the Redis it was taken from, the other repository of a copy."),
            }, required=["format", "time", "time_ms", "action", "by_command", "file", "decrypted", "who", "tool"])),
            "unreadable": d(arr(S), "Records that could not be read (name: why)."),
            "error": null(ERROR),
            "exit_code": EXIT,
        },
        required=["exit_code"],
        **failure_or(["repo", "records", "unreadable"]),
    ),
}

# Not an output: the rules file `--sanitize RULES` reads (YAML or JSON).
GLOB = d(S, "A Redis glob (as KEYS and SCAN MATCH): * any run, ? one byte, [abc] [^abc] [a-z] a class, \\x the byte x.")
schemas["sanitize-rules"] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://kubectl-redis.io/schemas/sanitize-rules.schema.json",
    "title": "SanitizeRules",
    "description": "The rules file of `--sanitize RULES` (backup, copy, restore, drill): tried in order, the first rule that fits a key decides it; keys no rule fits are copied as they are. See docs/sanitize.md.",
    **obj({
        "rules": {**arr(obj({
            "keys": d(GLOB, "The key names it fits (default `*`)."),
            "type": d({"enum": ["string", "list", "set", "zset", "hash", "stream", "module"]}, "Only keys of this type."),
            "db": d(U, "Only keys of this database."),
            "action": d({"enum": ["drop", "mask", "ttl", "keep"]},
                        "drop: leave the key out. mask: replace values with keyed pseudonyms (HMAC-SHA256 under the mask key). "
                        "ttl: give the key an expiry (its own is kept if sooner). keep: copy it as it is (an exception to later rules)."),
            "fields": d({**arr(GLOB), "minItems": 1}, "mask: the hash fields whose values are masked (default every field); the rule then fits hashes only."),
            "members": d(GLOB, "mask: the list, set or zset members masked (default every member); the rule then fits those types only."),
            "format": d({"enum": ["hash", "length", "email", "digits"]},
                        "mask: hash (32 hex digits, the default), length (letters and digits, as many bytes as the input), "
                        "email (HEX@example.invalid), digits (each ASCII digit replaced, the rest kept)."),
            "ttl": d({"anyOf": [U, {"type": "string", "pattern": "^[0-9]+[smhdw]?$"}]}, "ttl: seconds, or 30m, 12h, 7d, 2w, from the time the copy is made."),
        }, required=["action"])), "minItems": 1},
    }),
}

for name, schema in schemas.items():
    with open(os.path.join(HERE, f"{name}.schema.json"), "w") as f:
        json.dump(schema, f, indent=2, sort_keys=False)
        f.write("\n")
print(f"wrote {len(schemas)} schemas")
