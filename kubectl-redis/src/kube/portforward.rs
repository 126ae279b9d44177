//! A port-forward to a pod's Redis port, through the API server (kube-rs,
//! websocket): a byte stream both ways, and the forwarder to stop.

use super::api_error;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Portforwarder;
use kube::Api;
use kubectl_redis_core::backup::ConnectError;
use kubectl_redis_core::kube::pods::Target;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes this process moved through port-forwards, both ways.
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Bytes this process has moved through port-forwards so far, both ways
/// (an `--in-cluster` run reports it: none).
pub fn bytes() -> u64 {
    BYTES.load(Ordering::Relaxed)
}

/// A stream whose bytes are counted in [`BYTES`].
struct Counted<S>(S);

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.0).poll_read(cx, buf);
        BYTES.fetch_add((buf.filled().len() - before) as u64, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.0).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = &r {
            BYTES.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// An open port-forward; dropping the stream and calling
/// [`Forward::close`] ends it.
pub struct Forward {
    pf: Portforwarder,
}

impl Forward {
    pub fn close(self) {
        self.pf.abort();
    }
}

/// Opens a port-forward to `t.pod`:`t.port`. RBAC refusals are
/// [`ConnectError::Forbidden`].
pub async fn open(
    api: &Api<Pod>,
    t: &Target,
) -> Result<
    (
        Forward,
        impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    ),
    ConnectError,
> {
    let mut pf = match api.portforward(&t.pod, &[t.port]).await {
        Ok(pf) => pf,
        Err(kube::Error::Api(ae)) if ae.code == 403 => {
            return Err(ConnectError::Forbidden(ae.message));
        }
        Err(e) => return Err(ConnectError::Failed(api_error(e))),
    };
    match pf.take_stream(t.port) {
        Some(s) => Ok((Forward { pf }, Counted(s))),
        None => {
            pf.abort();
            Err(ConnectError::Failed(
                "the port-forward has no stream".into(),
            ))
        }
    }
}
