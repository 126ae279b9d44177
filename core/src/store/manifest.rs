//! The sidecar manifest written next to every backup
//! (`redis-backup-....rdb.json`): what the file is, proven when it was
//! written, so `list`, `verify` and `restore` can trust or doubt it later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rdb::reader::{Checksum, Summary};

/// The `format` field of every manifest this version writes.
pub const FORMAT: &str = "kubectl-redis.io/backup-manifest/v1";

/// The manifest's file name for a backup file name.
pub fn name_for(backup: &str) -> String {
    format!("{backup}.json")
}

/// Where the data came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// kubeconfig context, when through Kubernetes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// `redis://host:port` for `--url` (never with a password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `replica` when the snapshot was read from a replica of the primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Keys of one database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbKeys {
    /// Keys.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The backup's file name (no directory).
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    /// `redis` or `valkey`.
    pub flavor: String,
    /// RDB format version.
    pub rdb_version: u32,
    /// The server's version from the file's aux fields.
    pub redis_version: Option<String>,
    /// The CRC-64 stored in the file, hex; `none` when the server saved without one.
    pub crc64: String,
    /// Every byte was read and checked when the backup was written.
    pub verified: bool,
    /// Keys per database.
    pub keys_per_db: BTreeMap<String, DbKeys>,
    /// Keys in all databases.
    pub keys: u64,
    /// Where it came from.
    pub source: Source,
    /// `bgsave` (BGSAVE + copy from the pod) or `stream` (replication SYNC).
    pub method: String,
    /// When the backup was made, RFC 3339.
    pub created: String,
    /// `kubectl-redis x.y.z`.
    pub tool: String,
    /// Present when the stored object is an age file: `size` and `sha256`
    /// above are then the plaintext RDB's, these the stored bytes'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// A Redis Cluster backup: the shards whose snapshots the file merges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<Shard>,
    /// The base of a point-in-time archive: the replication link its
    /// snapshot came on, where the archive's segments continue it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitr: Option<PitrBase>,
    /// A sanitized copy (`copy --sanitize`): not a full backup; a restore
    /// refuses it without `--allow-sanitized`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sanitized: bool,
    /// How it was sanitized, when `sanitized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanitize: Option<Sanitize>,
    /// Who made it, and from where (the kubeconfig user, `$USER@host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by: Option<crate::ops::audit::Who>,
}

/// How a sanitized copy was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sanitize {
    /// The backup it was made from (file name).
    pub from: String,
    /// SHA-256 of the rules file's bytes, hex.
    pub rules_sha256: String,
    /// The mask key's id (not the key): copies with the same id mask alike.
    pub key_id: String,
    /// Keys read and written.
    pub keys_in: u64,
    pub keys_out: u64,
    /// What each rule did, in order.
    pub rules: Vec<SanitizeRule>,
}

/// What one rule did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanitizeRule {
    /// Its number in the rules file, from 1.
    pub rule: usize,
    /// What it is: `drop session:*`, `mask user:* fields email`.
    pub text: String,
    /// Keys it decided.
    pub keys: u64,
    /// Values, fields' values and members it masked.
    pub masked: u64,
}

/// Where a base sits on its replication link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PitrBase {
    /// The archive it starts a chain of (`pitr/ARCHIVE/...`).
    pub archive: String,
    /// `+FULLRESYNC`'s replication id and offset.
    pub replid: String,
    pub offset: u64,
    /// When the snapshot was asked for (Unix ms): it holds every write
    /// that arrived before.
    pub time_ms: i64,
    /// A Redis Cluster shard's archive: the slot ranges its primary served
    /// when the snapshot was taken, `[first, last]` (a restore checks that
    /// its shards' bases cover every slot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<[u16; 2]>,
}

/// One shard of a Redis Cluster backup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// The primary's node id.
    pub node_id: String,
    /// Where its snapshot was read: `host:port` as the cluster announces it.
    pub address: String,
    /// `primary`, or `replica` when a healthy replica of it was read.
    #[serde(default)]
    pub role: String,
    /// The pod, through Kubernetes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Slot ranges it owned, `[first, last]`.
    pub slots: Vec<[u16; 2]>,
    /// Keys in its snapshot.
    pub keys: u64,
    /// SHA-256 of its snapshot as received.
    pub sha256: String,
}

/// How a backup was encrypted, and the stored (encrypted) object's checks,
/// so that integrity can be proven without a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// Always `age` (age-encryption.org/v1).
    pub format: String,
    /// The public recipients (`age1...` or SSH public keys); never a secret.
    pub recipients: Vec<String>,
    /// Size of the stored object in bytes.
    pub size: u64,
    /// SHA-256 of the stored object, hex.
    pub sha256: String,
    /// Keys held by a KMS: the age identity the file is (also) encrypted
    /// to, wrapped by each KMS key (never in plaintext).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kms: Vec<KmsKey>,
}

/// An age identity wrapped by a KMS key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsKey {
    /// `awskms://arn:aws:kms:REGION:ACCOUNT:key/ID`,
    /// `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K`, or
    /// `azurekv://HOST/keys/NAME/VERSION` (the version that wrapped it).
    pub key: String,
    /// The identity, encrypted by the KMS key (base64 of its ciphertext).
    pub wrapped: String,
    /// The identity's public recipient (`age1...`): what it opens.
    pub recipient: String,
}

impl Manifest {
    /// A manifest for a file that the reader checked whole.
    pub fn new(
        file: &str,
        sha256: &str,
        s: &Summary,
        source: Source,
        method: &str,
        created: &str,
        tool: &str,
    ) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            file: file.into(),
            size: s.bytes,
            sha256: sha256.into(),
            flavor: match s.header.flavor {
                crate::rdb::Flavor::Redis => "redis".into(),
                crate::rdb::Flavor::Valkey => "valkey".into(),
            },
            rdb_version: s.header.version,
            redis_version: s.server_version.clone(),
            crc64: match s.checksum {
                Checksum::Verified { crc } => format!("{crc:016x}"),
                _ => "none".into(),
            },
            verified: true,
            keys_per_db: s
                .dbs
                .iter()
                .map(|(db, c)| {
                    (
                        db.to_string(),
                        DbKeys {
                            keys: c.keys,
                            expires: c.expires,
                        },
                    )
                })
                .collect(),
            keys: s.keys(),
            source,
            method: method.into(),
            created: created.into(),
            tool: tool.into(),
            encryption: None,
            shards: Vec::new(),
            pitr: None,
            sanitized: false,
            sanitize: None,
            made_by: None,
        }
    }

    /// The stored object's size and SHA-256 (the ciphertext's when
    /// encrypted): what can be checked without a key.
    pub fn stored(&self) -> (u64, &str) {
        match &self.encryption {
            Some(e) => (e.size, &e.sha256),
            None => (self.size, &self.sha256),
        }
    }

    /// Compares a file as read now with this manifest; the differences, if any.
    pub fn differences(&self, size: u64, sha256: &str, s: Option<&Summary>) -> Vec<String> {
        let mut d = Vec::new();
        if size != self.size {
            d.push(format!(
                "size is {size} bytes, the manifest says {}",
                self.size
            ));
        }
        if !sha256.eq_ignore_ascii_case(&self.sha256) {
            d.push(format!(
                "sha256 is {sha256}, the manifest says {}",
                self.sha256
            ));
        }
        if let Some(s) = s {
            if s.keys() != self.keys {
                d.push(format!(
                    "{} keys, the manifest says {}",
                    s.keys(),
                    self.keys
                ));
            }
        }
        d
    }
}
