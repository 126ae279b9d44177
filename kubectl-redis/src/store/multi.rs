//! One snapshot into several repositories at once (`backup --repo A --repo
//! B`): every chunk goes to each [`Put`]; a repository that fails is set
//! aside with its error while the others go on, so one broken region does
//! not cost the backup everywhere.

use crate::store::put::Put;
use crate::store::sink::Stored;
use kubectl_redis_core::backup::CommitError;
use kubectl_redis_core::store::manifest::Manifest;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;

/// How one further repository ended.
pub struct CopyOutcome {
    /// The repository, as the user named it.
    pub label: String,
    /// Where the backup is (or would have been) there.
    pub path: String,
    pub result: Result<Stored, String>,
}

/// The same bytes into several puts. The first is the primary: the backup
/// machine knows its name; the others are copies.
pub struct Fanout {
    pub puts: Vec<Put>,
    /// Each repository, as the user named it.
    pub labels: Vec<String>,
    /// A repository set aside, with why.
    pub errors: Vec<Option<String>>,
    /// Which puts took the current buffer (a write is retried with the same
    /// buffer after `Pending`).
    accepted: Vec<bool>,
}

impl Fanout {
    pub fn new(puts: Vec<Put>, labels: Vec<String>, errors: Vec<Option<String>>) -> Fanout {
        let n = puts.len();
        // One size hint for all: whoever learns the size tells every sink.
        let mut puts = puts;
        let hint = crate::store::sink::SizeHint::default();
        for p in &mut puts {
            p.sink.hint = hint.clone();
        }
        Fanout {
            puts,
            labels,
            errors,
            accepted: vec![false; n],
        }
    }

    /// Commits the primary repository (a taken local name can be retried by
    /// the caller with everything kept).
    pub async fn commit_primary(
        &mut self,
        dest: &str,
        manifest: Manifest,
        on_stored: &mut dyn FnMut(&Stored),
    ) -> Result<Stored, CommitError> {
        match self.errors[0].clone() {
            Some(e) => Err(CommitError::Failed(e)),
            None => self.puts[0].commit(Some(dest), manifest, on_stored).await,
        }
    }

    /// Throws away what the primary repository got.
    pub async fn abort_primary(&mut self) {
        self.puts[0].abort_mut().await;
    }

    /// Commits the other repositories, all at once; each one that failed
    /// (now or while writing) is aborted and said why.
    pub async fn commit_copies(&mut self, manifest: &Manifest) -> Vec<CopyOutcome> {
        let errors = self.errors.clone();
        let results =
            futures::future::join_all(self.puts.iter_mut().enumerate().skip(1).map(|(i, p)| {
                let m = manifest.clone();
                let failed = errors[i].clone();
                async move {
                    let r = match failed {
                        Some(e) => Err(e),
                        None => p.commit(None, m, &mut |_| {}).await.map_err(|e| match e {
                            CommitError::Exists => "the name is taken there".to_string(),
                            CommitError::Failed(m) => m,
                        }),
                    };
                    if r.is_err() {
                        p.abort_mut().await;
                    }
                    (i, r)
                }
            }))
            .await;
        results
            .into_iter()
            .map(|(i, result)| CopyOutcome {
                label: self.labels[i].clone(),
                path: self.puts[i].final_path(),
                result,
            })
            .collect()
    }

    /// The size hint every sink shares.
    pub fn hint(&self) -> crate::store::sink::SizeHint {
        self.puts
            .first()
            .map(|p| p.sink.hint.clone())
            .unwrap_or_default()
    }

    fn all_failed(&self) -> Option<std::io::Error> {
        if self.errors.iter().all(Option::is_some) {
            let msg = self
                .labels
                .iter()
                .zip(&self.errors)
                .map(|(l, e)| format!("{l}: {}", e.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("; ");
            return Some(std::io::Error::other(msg));
        }
        None
    }
}

impl AsyncWrite for Fanout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let mut pending = false;
        for i in 0..this.puts.len() {
            if this.accepted[i] || this.errors[i].is_some() {
                continue;
            }
            match Pin::new(&mut this.puts[i].sink).poll_write(cx, buf) {
                Poll::Ready(Ok(_)) => this.accepted[i] = true,
                Poll::Ready(Err(e)) => this.errors[i] = Some(e.to_string()),
                Poll::Pending => pending = true,
            }
        }
        if let Some(e) = this.all_failed() {
            return Poll::Ready(Err(e));
        }
        if pending {
            return Poll::Pending;
        }
        this.accepted.iter_mut().for_each(|a| *a = false);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let mut pending = false;
        for i in 0..this.puts.len() {
            if this.errors[i].is_some() {
                continue;
            }
            match Pin::new(&mut this.puts[i].sink).poll_flush(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => this.errors[i] = Some(e.to_string()),
                Poll::Pending => pending = true,
            }
        }
        if let Some(e) = this.all_failed() {
            return Poll::Ready(Err(e));
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}
