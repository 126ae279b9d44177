//! The archiver's Prometheus metrics, served over HTTP (`GET /metrics`,
//! hyper's server) on `--metrics-port`: the link, the lag, segments and
//! bases stored, the spool, errors.

use super::run::Shared;
use kubectl_redis_core::ops::metrics::{merge, Gauge};

/// The metrics text for the archiver's state now (`now_ms`: the clock).
pub fn render(state: &Shared, archive: &str, now_ms: i64) -> String {
    let Ok(s) = state.lock() else {
        return String::new();
    };
    let l = || vec![("archive", archive.to_string())];
    let lag_s = s
        .pending_since_ms
        .map(|t| ((now_ms - t).max(0) as f64) / 1000.0)
        .unwrap_or(0.0);
    let gauges = vec![
        Gauge::one(
            "kubectl_redis_archive_up",
            "1 while the replication link to the primary is up.",
            vec![
                ("archive", archive.to_string()),
                ("primary", s.primary.clone()),
            ],
            if s.up { 1.0 } else { 0.0 },
        ),
        Gauge::one(
            "kubectl_redis_archive_received_offset",
            "The replication offset received from the primary.",
            l(),
            s.received as f64,
        ),
        Gauge::one(
            "kubectl_redis_archive_stored_offset",
            "The replication offset stored in the repository (what REPLCONF ACK reports).",
            l(),
            s.stored as f64,
        ),
        Gauge::one(
            "kubectl_redis_archive_lag_bytes",
            "Stream bytes received and not yet stored.",
            l(),
            s.received.saturating_sub(s.stored) as f64,
        ),
        Gauge::one(
            "kubectl_redis_archive_lag_seconds",
            "How long the oldest write not yet stored has waited.",
            l(),
            lag_s,
        ),
        Gauge::one(
            "kubectl_redis_archive_last_stored_timestamp_seconds",
            "When the newest stored write arrived (Unix seconds).",
            l(),
            s.last_stored_unix as f64,
        ),
        Gauge::one(
            "kubectl_redis_archive_segments_stored",
            "Segments stored by this archiver since it started.",
            l(),
            s.segments as f64,
        ),
        Gauge::one(
            "kubectl_redis_archive_bases_stored",
            "Bases (new chains) stored by this archiver since it started.",
            l(),
            s.bases as f64,
        ),
        Gauge::one(
            "kubectl_redis_archive_spool_bytes",
            "Sealed segments waiting for the repository.",
            l(),
            s.spool_bytes as f64,
        ),
        Gauge::one(
            "kubectl_redis_archive_spool_full",
            "1 while the spool is full and reading has stopped.",
            l(),
            if s.spool_full { 1.0 } else { 0.0 },
        ),
        Gauge::one(
            "kubectl_redis_archive_errors",
            "Dropped links and failed uploads since it started.",
            l(),
            s.errors as f64,
        ),
    ];
    merge("", &gauges)
}

/// Serves [`render`] on `port` until the process ends.
pub async fn serve(port: u16, state: Shared, archive: String) -> Result<(), String> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .map_err(|e| format!("--metrics-port {port}: {e}"))?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (state, archive) = (state.clone(), archive.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (code, body) = if req.uri().path() == "/metrics" {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_millis() as i64)
                            .unwrap_or(0);
                        (200, render(&state, &archive, now))
                    } else {
                        (404, "not found: GET /metrics\n".to_string())
                    };
                    async move {
                        hyper::Response::builder()
                            .status(code)
                            .header("content-type", "text/plain; version=0.0.4")
                            .body(Full::new(Bytes::from(body)))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(())
}
