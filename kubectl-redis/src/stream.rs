//! `backup --method stream`: the snapshot over the replication protocol
//! (`REPLCONF capa eof`, `REPLCONF rdb-only 1`, `SYNC`) through a kube-rs
//! port-forward, or straight to `--url`. No exec, no shell in the image, no
//! free space on the Redis volume (with diskless sync). The bytes are
//! verified by the core's reader as they arrive and written to a temporary
//! file that gets its final name only once whole.

use crate::auth::Auth;
use crate::files;
use crate::lease::{self, Locks};
use crate::rdbfile::hex;
use crate::ui::{Progress, Ui};
use kubectl_redis_core::backup::{join, CommitError, Line};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::lock::{self, Decision};
use kubectl_redis_core::manifest::{self, Manifest};
use kubectl_redis_core::names;
use kubectl_redis_core::repl::{self, Download, Framing};
use kubectl_redis_core::{human, inspect};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A byte stream both ways: a TCP socket or a port-forward.
pub trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

/// How a stream backup failed.
#[derive(Debug)]
pub enum Failed {
    /// The server (or the cluster) does not allow it: bgsave may still work.
    Refused { message: String, hint: String },
    /// Anything else: exit code, message, hint.
    Other {
        exit: Exit,
        message: String,
        hint: Option<String>,
    },
}

impl Failed {
    fn other(exit: Exit, message: impl Into<String>, hint: Option<&str>) -> Self {
        Failed::Other {
            exit,
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

/// Where the snapshot comes from, for messages and the manifest.
pub struct Origin {
    pub source: manifest::Source,
    /// `pod october/redis-0:6379` or `redis://127.0.0.1:6390`.
    pub label: String,
}

/// What a stream backup produced.
pub struct Done {
    pub path: String,
    pub manifest: Manifest,
    pub framing: Framing,
    pub duration_ms: u64,
    pub sync_ms: u64,
}

fn io_err(what: &str, e: std::io::Error) -> Failed {
    Failed::other(
        Exit::Error,
        format!("{what}: {e}"),
        Some("check the connection and run the backup again; nothing was saved"),
    )
}

/// Reads one `+OK` / `-ERR` line.
async fn reply(conn: &mut dyn Duplex, buf: &mut Vec<u8>) -> Result<Result<String, String>, Failed> {
    read_reply(conn, buf, repl::simple_reply).await
}

type Parse = fn(&[u8]) -> Option<(Result<String, String>, usize)>;

async fn read_reply(
    conn: &mut dyn Duplex,
    buf: &mut Vec<u8>,
    parse: Parse,
) -> Result<Result<String, String>, Failed> {
    loop {
        if let Some((r, n)) = parse(buf) {
            buf.drain(..n);
            return Ok(r);
        }
        let mut tmp = [0u8; 512];
        let n = conn
            .read(&mut tmp)
            .await
            .map_err(|e| io_err("reading from Redis", e))?;
        if n == 0 {
            return Err(Failed::other(
                Exit::Error,
                "Redis closed the connection during the handshake",
                Some("check --redis-port (or the port in --url) and that this is a Redis server"),
            ));
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

fn auth_hint() -> String {
    "give the password with --password-from-secret NAME/KEY, $REDISCLI_AUTH, or a REDIS_PASSWORD env on the Redis container (and --user-name for an ACL user)".into()
}

/// Handshake, SYNC and download into `file`. Returns the reader's summary,
/// the sha256 and the framing.
pub async fn download(
    ui: &Ui,
    conn: &mut dyn Duplex,
    auth: &Auth,
    file: impl AsyncWrite + Unpin,
    label: &str,
    prepare_timeout: Duration,
) -> Result<(kubectl_redis_core::reader::Summary, String, Framing, u64), Failed> {
    let mut buf = Vec::new();
    if let Some(pw) = &auth.password {
        ui.line(
            "backup",
            &Line::Detail(format!(
                "AUTH{} with the password from {}",
                auth.user
                    .as_deref()
                    .map(|u| format!(" as {u}"))
                    .unwrap_or_default(),
                auth.source.as_deref().unwrap_or("the environment")
            )),
        );
        conn.write_all(&repl::auth(auth.user.as_deref(), pw.expose()))
            .await
            .map_err(|e| io_err("writing to Redis", e))?;
        if let Err(e) = reply(conn, &mut buf).await? {
            // The server's words, which never contain the password.
            return Err(Failed::other(
                Exit::Invalid,
                format!("Redis refused the credentials: {e}"),
                Some(&auth_hint()),
            ));
        }
    }
    // Which server: Valkey needs to hear our version to send its own format.
    conn.write_all(&repl::resp(&["INFO", "server"]))
        .await
        .map_err(|e| io_err("writing to Redis", e))?;
    match read_reply(conn, &mut buf, repl::bulk_reply).await? {
        Ok(info) => {
            let fields = kubectl_redis_core::reply::info_fields(&info);
            if let Some(server) = kubectl_redis_core::rdb::Server::from_info(&fields) {
                let (a, b, c) = server.version;
                ui.line(
                    "backup",
                    &Line::Detail(format!("{:?} {a}.{b}.{c}", server.flavor)),
                );
                if server.flavor == kubectl_redis_core::rdb::Flavor::Valkey {
                    conn.write_all(&repl::announce_version(server.version))
                        .await
                        .map_err(|e| io_err("writing to Redis", e))?;
                    if let Err(e) = reply(conn, &mut buf).await? {
                        ui.trace(&format!("REPLCONF version refused: {e}"));
                    }
                }
            }
        }
        Err(e) if e.starts_with("NOAUTH") || e.starts_with("WRONGPASS") => {
            return Err(Failed::other(
                Exit::Invalid,
                format!("Redis needs a password: {e}"),
                Some(&auth_hint()),
            ))
        }
        Err(e) => ui.trace(&format!("INFO server refused: {e}")),
    }
    let [capa, rdb_only, sync] = repl::handshake();
    conn.write_all(&capa.1)
        .await
        .map_err(|e| io_err("writing to Redis", e))?;
    match reply(conn, &mut buf).await? {
        Ok(_) => {}
        Err(e) if e.starts_with("NOAUTH") || e.starts_with("WRONGPASS") => {
            return Err(Failed::other(
                Exit::Invalid,
                format!("Redis needs a password: {e}"),
                Some(&auth_hint()),
            ))
        }
        Err(e) => {
            return Err(Failed::Refused {
                message: format!("Redis refused {}: {e}", capa.0),
                hint: "replication commands are blocked here; use --method bgsave".into(),
            })
        }
    }
    conn.write_all(&rdb_only.1)
        .await
        .map_err(|e| io_err("writing to Redis", e))?;
    if let Err(e) = reply(conn, &mut buf).await? {
        ui.trace(&format!(
            "{} not supported ({e}); the server sends the snapshot anyway",
            rdb_only.0
        ));
    }
    conn.write_all(&sync.1)
        .await
        .map_err(|e| io_err("writing to Redis", e))?;

    let mut d = Download::new();
    let mut sha = Sha256::new();
    let mut w = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut progress = Progress::new(ui, label);
    let mut pending_write: Option<std::io::Error> = None;
    let mut chunk = vec![0u8; 1 << 20];
    let started = Instant::now();
    // What the handshake read past its replies is the start of the answer to SYNC.
    let mut carried = std::mem::take(&mut buf);
    loop {
        let n = if !carried.is_empty() {
            let n = carried.len().min(chunk.len());
            chunk[..n].copy_from_slice(&carried[..n]);
            carried.drain(..n);
            n
        } else {
            if let Some(Framing::Disk(n)) = d.framing() {
                progress.set_total(Some(n));
            }
            let read = conn.read(&mut chunk);
            let n = if d.framing().is_none() {
                // Waiting for the server to prepare the snapshot (keepalives).
                let left = prepare_timeout.saturating_sub(started.elapsed());
                match tokio::time::timeout(left, read).await {
                    Ok(r) => r,
                    Err(_) => {
                        progress.finish();
                        return Err(Failed::other(
                            Exit::BgsaveTimeout,
                            format!(
                                "Redis did not start sending the snapshot within {}",
                                human::millis(prepare_timeout.as_millis() as u64)
                            ),
                            Some("raise --timeout for a large dataset; nothing was saved"),
                        ));
                    }
                }
            } else {
                read.await
            }
            .map_err(|e| io_err("reading the snapshot", e))?;
            if n == 0 {
                progress.finish();
                let e = match d.finish() {
                    Ok(_) => "the connection closed early".to_string(),
                    Err(e) => e.to_string(),
                };
                return Err(Failed::other(
                    Exit::Error,
                    e,
                    Some("nothing was saved; run the backup again"),
                ));
            }
            n
        };
        let data = &chunk[..n];
        let r = d.feed(data);
        if let Ok(range) = &r {
            let rdb = &data[range.clone()];
            sha.update(rdb);
            if !rdb.is_empty() && pending_write.is_none() {
                if let Err(e) = w.write_all(rdb).await {
                    pending_write = Some(e);
                }
            }
        }
        progress.update(d.received());
        if let Err(e) = r {
            progress.finish();
            return Err(match e {
                repl::Error::Refused(m) if m.starts_with("NOAUTH") || m.starts_with("NOPERM") => {
                    Failed::Refused {
                        message: format!("Redis refused SYNC: {m}"),
                        hint: format!(
                            "{}; or use --method bgsave",
                            if m.starts_with("NOAUTH") {
                                auth_hint()
                            } else {
                                "the ACL user lacks +sync".into()
                            }
                        ),
                    }
                }
                repl::Error::Refused(m) => Failed::Refused {
                    message: format!("Redis refused SYNC: {m}"),
                    hint: "SYNC is renamed or blocked on this server; use --method bgsave".into(),
                },
                repl::Error::Rdb(e) => Failed::other(
                    Exit::Corrupt,
                    format!("the snapshot is corrupt: {e}"),
                    Some("nothing was saved; run the backup again"),
                ),
                other => Failed::other(
                    Exit::Error,
                    other.to_string(),
                    Some("nothing was saved; run the backup again"),
                ),
            });
        }
        if d.is_done() {
            break;
        }
    }
    progress.finish();
    if let Some(e) = pending_write {
        return Err(io_err("writing the local file", e));
    }
    w.flush()
        .await
        .map_err(|e| io_err("writing the local file", e))?;
    let framing = d.framing().unwrap_or(Framing::Diskless);
    let bytes = d.received();
    let summary = d.finish().map_err(|e| {
        Failed::other(
            Exit::Corrupt,
            format!("the snapshot is corrupt: {e}"),
            Some("nothing was saved"),
        )
    })?;
    Ok((summary, hex(&sha.finalize()), framing, bytes))
}

/// The whole stream backup: temp file, download, commit under the first
/// free name, manifest. `conn` is already connected.
#[allow(clippy::too_many_arguments)]
pub async fn backup(
    ui: &Ui,
    conn: &mut dyn Duplex,
    auth: &Auth,
    origin: &Origin,
    out_dir: &str,
    started_unix: i64,
    timeout: Duration,
    tool: &str,
) -> Result<Done, Failed> {
    let t0 = Instant::now();
    let (temp, file) = files::create_temp(out_dir, &names::temp_prefix(started_unix)).map_err(|e| {
        Failed::other(
            Exit::Error,
            format!("cannot create a file in {out_dir}: {e}"),
            Some("check the directory's permissions and free space, or choose another with --out-dir"),
        )
    })?;
    let guard = TempGuard(Some(temp.clone()));
    let first = join(out_dir, &names::backup_file_name(started_unix, 0));
    ui.line(
        "backup",
        &Line::Step(format!(
            "streaming a snapshot (SYNC) from {} -> {first}",
            origin.label
        )),
    );
    let (summary, sha, framing, bytes) = download(
        ui,
        conn,
        auth,
        tokio::fs::File::from_std(file),
        &first,
        timeout,
    )
    .await?;
    let sync_ms = t0.elapsed().as_millis() as u64;
    ui.line(
        "backup",
        &Line::Detail(format!(
            "{} ({}), verified: {} keys in {} database(s), {}",
            human::bytes(bytes),
            match framing {
                Framing::Diskless => "diskless: nothing written on the server",
                Framing::Disk(_) => "the server wrote it to its disk first",
            },
            summary.keys(),
            summary.dbs.len(),
            inspect::checksum_text(&summary.checksum)
        )),
    );
    let created = names::rfc3339(started_unix);
    for attempt in 0..100 {
        let name = names::backup_file_name(started_unix, attempt);
        let dest = join(out_dir, &name);
        match files::commit(&temp, &dest) {
            Ok(()) => {
                guard.disarm();
                let m = Manifest::new(
                    &name,
                    &sha,
                    &summary,
                    origin.source.clone(),
                    "stream",
                    &created,
                    tool,
                );
                crate::backup::write_manifest(ui, &dest, &m);
                return Ok(Done {
                    path: dest,
                    manifest: m,
                    framing,
                    duration_ms: t0.elapsed().as_millis() as u64,
                    sync_ms,
                });
            }
            Err(CommitError::Exists) => continue,
            Err(CommitError::Failed(e)) => {
                return Err(Failed::other(
                    Exit::Error,
                    format!("cannot save {dest}: {e}"),
                    Some("check free space and permissions of --out-dir"),
                ))
            }
        }
    }
    Err(Failed::other(
        Exit::Error,
        "every candidate file name is taken",
        None,
    ))
}

/// Removes the temporary file unless the backup was committed.
struct TempGuard(Option<String>);

impl TempGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            files::discard(&p);
        }
    }
}

/// Takes the same Lease as the bgsave path; `Ok(None)` when leases are not
/// allowed (warned, the backup proceeds unlocked as bgsave does).
pub async fn lock(
    ui: &Ui,
    locks: &mut Locks,
    owner: &str,
    pod: &str,
) -> Result<Option<String>, Failed> {
    let name = lock::lease_name(owner, pod);
    let found = match locks.get(&name).await {
        Ok(f) => f,
        Err(kubectl_redis_core::lock::LeaseError::Forbidden(e)) => {
            ui.line(
                "backup",
                &Line::Warn(format!(
                    "cannot use the lock Lease ({e}); proceeding without it"
                )),
            );
            return Ok(None);
        }
        Err(e) => {
            return Err(Failed::other(
                Exit::Error,
                format!("cannot read Lease {name}: {e}"),
                None,
            ))
        }
    };
    match lock::decide(
        found.as_ref(),
        &name,
        &crate::lease::holder(),
        crate::cli::unix_now(),
    ) {
        Decision::Held { message, hint } => Err(Failed::Other {
            exit: Exit::Locked,
            message,
            hint: Some(hint),
        }),
        Decision::Take { replaces, warning } => {
            if let Some(w) = warning {
                ui.line("backup", &Line::Warn(w));
            }
            match locks.take(&name, lease::DURATION_S, replaces).await {
                Ok(()) => Ok(Some(name)),
                Err(kubectl_redis_core::lock::LeaseError::Forbidden(e)) => {
                    ui.line(
                        "backup",
                        &Line::Warn(format!(
                            "cannot use the lock Lease ({e}); proceeding without it"
                        )),
                    );
                    Ok(None)
                }
                Err(e) => Err(Failed::Other {
                    exit: Exit::Locked,
                    message: format!("cannot take Lease {name}: {e}"),
                    hint: Some(
                        "another backup or restore may have started at the same moment; try again"
                            .into(),
                    ),
                }),
            }
        }
    }
}
