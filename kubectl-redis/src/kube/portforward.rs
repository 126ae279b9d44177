//! A port-forward to a pod's Redis port, through the API server (kube-rs,
//! websocket): a byte stream both ways, and the forwarder to stop.

use super::api_error;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Portforwarder;
use kube::Api;
use kubectl_redis_core::backup::ConnectError;
use kubectl_redis_core::kube::pods::Target;

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
        Some(s) => Ok((Forward { pf }, s)),
        None => {
            pf.abort();
            Err(ConnectError::Failed(
                "the port-forward has no stream".into(),
            ))
        }
    }
}
