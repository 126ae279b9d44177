//! Exec in the Redis container: running redis-cli in it, and streaming a
//! file out of it or into it, all through the API server (kube-rs exec, no
//! kubectl).

use super::api_error;
use crate::ui::Progress;
use k8s_openapi::api::core::v1::Pod;
use kube::api::AttachParams;
use kube::Api;
use kubectl_redis_core::backup::{CliOutput, CopyError, CopyReport};
use kubectl_redis_core::kube::pods::Target;
use kubectl_redis_core::rdb::HEADER_LEN;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// Runs redis-cli through `sh` so that a password in the container's
/// REDIS_PASSWORD, or in the file REDIS_PASSWORD_FILE names (the Bitnami
/// charts' default), reaches it as REDISCLI_AUTH: never in any argv.
const REDIS_CLI: &str = "if [ -z \"${REDISCLI_AUTH:-}\" ]; then if [ -n \"${REDIS_PASSWORD:-}\" ]; then REDISCLI_AUTH=\"$REDIS_PASSWORD\"; export REDISCLI_AUTH; elif [ -n \"${REDIS_PASSWORD_FILE:-}\" ] && [ -r \"$REDIS_PASSWORD_FILE\" ]; then REDISCLI_AUTH=\"$(cat \"$REDIS_PASSWORD_FILE\")\"; export REDISCLI_AUTH; fi; fi; exec redis-cli \"$@\"";

/// With a password from the user (a Secret, or their $REDISCLI_AUTH): it
/// arrives on stdin, never in argv.
const REDIS_CLI_STDIN: &str =
    "IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; exec redis-cli \"$@\"";

pub async fn redis_cli(api: &Api<Pod>, t: &Target, args: &[String]) -> Result<CliOutput, String> {
    let auth = crate::redis::auth::global();
    let password = auth.and_then(|a| a.password.as_ref());
    let mut argv: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        if password.is_some() {
            REDIS_CLI_STDIN
        } else {
            REDIS_CLI
        }
        .into(),
        "redis-cli".into(),
        "--no-raw".into(),
        "-p".into(),
        t.port.to_string(),
    ];
    argv.extend(crate::redis::tls::cli_args(api, t).await);
    if let Some(u) = auth.and_then(|a| a.user.as_ref()) {
        argv.push("--user".into());
        argv.push(u.clone());
    }
    argv.extend(args.iter().cloned());
    let input = password.map(|p| format!("{}\n", p.expose()).into_bytes());
    run_with_input(api, t, argv, input).await
}

/// Runs `argv` in the target container; collects stdout, stderr and the
/// exit code.
pub async fn run(api: &Api<Pod>, t: &Target, argv: Vec<String>) -> Result<CliOutput, String> {
    run_with_input(api, t, argv, None).await
}

/// [`run`], writing `input` to the command's stdin first.
pub async fn run_with_input(
    api: &Api<Pod>,
    t: &Target,
    argv: Vec<String>,
    input: Option<Vec<u8>>,
) -> Result<CliOutput, String> {
    let ap = AttachParams::default()
        .container(&t.container)
        .stderr(true)
        .stdin(input.is_some());
    let mut proc = api.exec(&t.pod, argv, &ap).await.map_err(api_error)?;
    // stdin stays open until the command ends: closing it early tears the
    // whole exec stream down. The script reads exactly one line.
    let mut stdin = None;
    if let Some(bytes) = input {
        if let Some(mut w) = proc.stdin() {
            w.write_all(&bytes)
                .await
                .map_err(|e| format!("writing to redis-cli: {e}"))?;
            w.flush()
                .await
                .map_err(|e| format!("writing to redis-cli: {e}"))?;
            stdin = Some(w);
        }
    }
    let mut out = Vec::new();
    let mut err = Vec::new();
    let (mut so, mut se) = (proc.stdout(), proc.stderr());
    let read_out = async {
        match so.as_mut() {
            Some(s) => read_capped(s, &mut out, MAX_OUTPUT).await,
            None => Ok(false),
        }
    };
    let read_err = async {
        match se.as_mut() {
            Some(s) => read_capped(s, &mut err, MAX_STDERR).await,
            None => Ok(false),
        }
    };
    let (a, b) = tokio::join!(read_out, read_err);
    let (cut, _) = a
        .and_then(|x| b.map(|y| (x, y)))
        .map_err(|e| format!("reading redis-cli output: {e}"))?;
    if cut {
        return Err(format!(
            "redis-cli in the pod printed more than {} MiB; nothing more was read (a broken or hostile container)",
            MAX_OUTPUT >> 20
        ));
    }
    let status = match proc.take_status() {
        Some(s) => s.await,
        None => None,
    };
    drop(stdin);
    let _ = proc.join().await;
    Ok(CliOutput {
        exit_code: status.as_ref().map(exit_code),
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    })
}

fn exit_code(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> i32 {
    if s.status.as_deref() == Some("Success") {
        return 0;
    }
    s.details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
        .and_then(|c| c.message.as_deref())
        .and_then(|m| m.parse().ok())
        .unwrap_or(1)
}

fn status_text(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> String {
    s.message
        .clone()
        .unwrap_or_else(|| format!("exit {}", exit_code(s)))
}

/// Pipe buffer between kube-rs's websocket task and our reader/writer
/// (kube-rs's default is 1 KiB, which costs a task switch per KiB).
const STREAM_BUF: usize = 1 << 20;

/// Opens the file first, prints its size (of the open file, so a concurrent
/// save that renames a new dump into place cannot make the two disagree),
/// then streams exactly that file.
/// Prints which of the tools named in the arguments the container lacks
/// (`command -v` is a shell builtin: nothing else is needed to ask).
const PROBE: &str = "for t do command -v \"$t\" >/dev/null 2>&1 || echo \"$t\"; done";

/// The tools (of `tools`) that the container does not have; `Err` when not
/// even `sh` runs there.
pub async fn probe(api: &Api<Pod>, t: &Target, tools: &[String]) -> Result<Vec<String>, String> {
    let mut argv = vec![
        "sh".to_string(),
        "-c".to_string(),
        PROBE.to_string(),
        "kubectl-redis".to_string(),
    ];
    argv.extend(tools.iter().cloned());
    let o = run(api, t, argv).await?;
    if o.exit_code.is_some_and(|c| c != 0) {
        let e = if o.stderr.trim().is_empty() {
            &o.stdout
        } else {
            &o.stderr
        };
        return Err(e.trim().to_string());
    }
    Ok(o.stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// `cat` the file out; `stat`, when the image has it, only gives the
/// progress its total (the RDB reader proves the copy whole).
const CAT: &str = "exec 3<\"$1\" || exit 66; printf '%s\\n' \"$(stat -L -c %s /proc/self/fd/3 2>/dev/null || echo -)\"; exec cat <&3";

/// Streams `remote` out of the container into `file`, returning what arrived.
pub async fn copy_out(
    api: &Api<Pod>,
    t: &Target,
    remote: &str,
    file: impl tokio::io::AsyncWrite + Unpin,
    progress: &mut Progress<'_>,
    hint: &crate::store::sink::SizeHint,
) -> Result<CopyReport, CopyError> {
    let argv = vec![
        "sh".to_string(),
        "-c".to_string(),
        CAT.to_string(),
        "kubectl-redis".to_string(),
        remote.to_string(),
    ];
    // kube-rs pipes stdout through a 1 KiB buffer unless told otherwise.
    let ap = AttachParams::default()
        .container(&t.container)
        .stderr(true)
        .max_stdout_buf_size(STREAM_BUF);
    let mut proc = api
        .exec(&t.pod, argv, &ap)
        .await
        .map_err(|e| CopyError::Failed(api_error(e)))?;
    let (Some(stdout), stderr) = (proc.stdout(), proc.stderr()) else {
        return Err(CopyError::Failed(
            "the exec stream has no stdout".to_string(),
        ));
    };
    let mut reader = tokio::io::BufReader::with_capacity(1 << 20, stdout);
    let err_task = async {
        let mut buf = Vec::new();
        if let Some(mut s) = stderr {
            let _ = read_capped(&mut s, &mut buf, MAX_STDERR).await;
        }
        String::from_utf8_lossy(&buf).into_owned()
    };
    let copy_task = async {
        let mut size_line = String::new();
        reader
            .read_line(&mut size_line)
            .await
            .map_err(|e| CopyError::Failed(format!("reading from the pod: {e}")))?;
        let expected = size_line.trim().parse::<u64>().ok();
        progress.set_total(expected);
        if let Some(n) = expected {
            hint.set(n);
        }
        let mut w = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let mut head = Vec::with_capacity(HEADER_LEN);
        let mut bytes = 0u64;
        // Verified while it streams: no second pass over the file.
        let mut check = crate::store::rdbfile::Inline::new(true);
        loop {
            // No byte for the stall timeout: the copy stopped (a half-open
            // stream through the API server), not slow.
            let buf = tokio::time::timeout(crate::env::stall(), reader.fill_buf())
                .await
                .map_err(|_| CopyError::Failed(crate::env::stalled("the pod sent nothing")))?
                .map_err(|e| CopyError::Failed(format!("reading from the pod: {e}")))?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len();
            if head.len() < HEADER_LEN {
                let take = (HEADER_LEN - head.len()).min(n);
                head.extend_from_slice(&buf[..take]);
            }
            check.feed(buf);
            tokio::time::timeout(crate::env::stall(), w.write_all(buf))
                .await
                .map_err(|_| {
                    CopyError::Failed(crate::env::stalled("the destination accepted no bytes"))
                })?
                .map_err(|e| CopyError::Failed(format!("writing the local file: {e}")))?;
            reader.consume(n);
            bytes += n as u64;
            progress.update(bytes);
        }
        w.flush()
            .await
            .map_err(|e| CopyError::Failed(format!("writing the local file: {e}")))?;
        Ok::<_, CopyError>((bytes, expected, head, size_line, check))
    };
    let (copied, stderr_text) = tokio::join!(copy_task, err_task);
    progress.finish();
    let status = match proc.take_status() {
        Some(s) => s.await,
        None => None,
    };
    let _ = proc.join().await;
    let (bytes, expected, head, size_line, check) = copied?;
    if let Some(s) = status
        .as_ref()
        .filter(|s| s.status.as_deref() != Some("Success"))
    {
        let detail = if stderr_text.trim().is_empty() {
            status_text(s)
        } else {
            stderr_text.trim().to_string()
        };
        let missing = detail.contains("No such file")
            || detail.contains("nonexistent")
            || detail.contains("an't open")
            || detail.contains("annot open");
        if bytes == 0 && size_line.is_empty() && missing {
            return Err(CopyError::Missing(detail));
        }
        return Err(CopyError::Failed(detail));
    }
    let (sha256, verified) = check.finish();
    let sha256 = sha256.unwrap_or_default();
    Ok(CopyReport {
        bytes,
        expected,
        head,
        sha256,
        verified,
    })
}

/// Writes exactly `$1` bytes of stdin to `$2`, then sends the file back:
/// the plugin counts and hashes what the pod holds (no wc or sha256sum
/// needed in the image; `kube-rs` cannot close stdin before Kubernetes 1.29,
/// hence `head -c`).
const UPLOAD: &str = "head -c \"$1\" > \"$2\" || exit 1; exec cat \"$2\"";

/// Streams the local file `local` into `remote` in the container and checks
/// that all of it arrived.
pub async fn upload(
    api: &Api<Pod>,
    t: &Target,
    local: &str,
    remote: &str,
    bytes: u64,
    verified_sha256: &str,
    progress: &mut Progress<'_>,
) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    let mut file = tokio::fs::File::open(local)
        .await
        .map_err(|e| format!("opening {local}: {e}"))?;
    let argv = vec![
        "sh".to_string(),
        "-c".to_string(),
        UPLOAD.to_string(),
        "kubectl-redis".to_string(),
        bytes.to_string(),
        remote.to_string(),
    ];
    let ap = AttachParams::default()
        .container(&t.container)
        .stdin(true)
        .stderr(true)
        .max_stdin_buf_size(STREAM_BUF);
    let mut proc = api.exec(&t.pod, argv, &ap).await.map_err(api_error)?;
    let mut stdin = proc.stdin().ok_or("the exec stream has no stdin")?;
    let mut so = proc.stdout();
    let mut se = proc.stderr();
    progress.set_total(Some(bytes));
    let send = async {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut sent = 0u64;
        while sent < bytes {
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| format!("reading {local}: {e}"))?;
            if n == 0 {
                return Err(format!(
                    "{local} shrank while being sent ({sent} of {bytes} bytes)"
                ));
            }
            let n = n.min(usize::try_from(bytes - sent).unwrap_or(usize::MAX));
            hasher.update(&buf[..n]);
            stdin
                .write_all(&buf[..n])
                .await
                .map_err(|e| format!("sending to the pod: {e}"))?;
            sent += n as u64;
            progress.update(sent);
        }
        stdin
            .flush()
            .await
            .map_err(|e| format!("sending to the pod: {e}"))?;
        Ok::<_, String>(hex(&hasher.finalize()))
    };
    // What the pod holds, read back: counted and hashed, never buffered.
    let mut err = Vec::new();
    let recv = async {
        let mut h = Sha256::new();
        let mut n = 0u64;
        if let Some(s) = so.as_mut() {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => {
                        h.update(&buf[..k]);
                        n += k as u64;
                    }
                }
            }
        }
        if let Some(s) = se.as_mut() {
            let _ = read_capped(s, &mut err, MAX_STDERR).await;
        }
        (n, hex(&h.finalize()))
    };
    let (sent, (got, remote_hash)) = tokio::join!(send, recv);
    progress.finish();
    let status = match proc.take_status() {
        Some(s) => s.await,
        None => None,
    };
    drop(stdin);
    let _ = proc.join().await;
    let local_hash = sent?;
    if let Some(s) = status
        .as_ref()
        .filter(|s| s.status.as_deref() != Some("Success"))
    {
        let e = String::from_utf8_lossy(&err);
        return Err(if e.trim().is_empty() {
            status_text(s)
        } else {
            e.trim().to_string()
        });
    }
    if got != bytes {
        return Err(format!("the pod holds {got} of {bytes} bytes"));
    }
    if !verified_sha256.is_empty() && local_hash != verified_sha256 {
        return Err(format!(
            "{local} changed after it was verified (sha256 {verified_sha256} then, {local_hash} sent): what was sent is not installed"
        ));
    }
    if remote_hash != local_hash {
        return Err(format!(
            "checksum mismatch in the pod: sha256 {remote_hash}, expected {local_hash}"
        ));
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The most a command's output is kept (redis-cli's answers to our
/// commands are small; more is a broken or hostile container).
const MAX_OUTPUT: usize = 16 << 20;
/// The most of a command's stderr kept for messages; the rest is read and
/// dropped so the stream never stalls.
const MAX_STDERR: usize = 1 << 20;

/// Reads `s` to its end, keeping at most `cap` bytes in `out` (the rest
/// read and dropped); whether anything was dropped.
async fn read_capped(
    s: &mut (impl tokio::io::AsyncRead + Unpin),
    out: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<bool> {
    let mut chunk = vec![0u8; 64 << 10];
    let mut cut = false;
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(cut);
        }
        let room = cap.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..n.min(room)]);
        cut |= n > room;
    }
}
