//! Redis credentials: where they come from, and keeping them out of every
//! argv, log line and error message.
//!
//! Sources, first found wins: `--password-from-secret NAME/KEY` (read
//! through the API), then `$REDISCLI_AUTH` in the user's environment, then
//! (for connections from outside the pod) the Redis container's own
//! `REDIS_PASSWORD` env, literal or from a Secret. `--user-name` selects an
//! ACL user. Inside the pod, redis-cli gets the password on stdin.

use kube::Client;
use std::sync::OnceLock;

pub use crate::kube::secrets::Password;

/// What to authenticate with.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    pub user: Option<String>,
    pub password: Option<Password>,
    /// Where the password came from, for messages (never the value).
    pub source: Option<String>,
}

static GLOBAL: OnceLock<Auth> = OnceLock::new();

/// Set once per run for the exec path (redis-cli in the pod).
pub fn set_global(a: Auth) {
    let _ = GLOBAL.set(a);
}

pub fn global() -> Option<&'static Auth> {
    GLOBAL.get()
}

/// `NAME/KEY` from `--password-from-secret`.
pub fn parse_secret_ref(s: &str) -> Result<(String, String), String> {
    match s.split_once('/') {
        Some((n, k)) if !n.is_empty() && !k.is_empty() && !k.contains('/') => Ok((n.into(), k.into())),
        _ => Err(format!(
            "--password-from-secret takes NAME/KEY (a Secret in the namespace and a key in it), got '{s}'"
        )),
    }
}

/// The password from the flag or `$REDISCLI_AUTH` (not the pod's env).
pub async fn explicit(
    client: Option<&Client>,
    ns: &str,
    secret_ref: Option<&str>,
    user: Option<String>,
) -> Result<Auth, String> {
    if let Some(r) = secret_ref {
        let (name, key) = parse_secret_ref(r)?;
        let Some(c) = client else {
            return Err(
                "--password-from-secret needs a cluster; with --url use $REDISCLI_AUTH".into(),
            );
        };
        let pw = crate::kube::secrets::from_secret(c, ns, &name, &key).await?;
        return Ok(Auth {
            user,
            password: Some(pw),
            source: Some(format!("Secret {name}/{key}")),
        });
    }
    if let Some(pw) = std::env::var("REDISCLI_AUTH")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return Ok(Auth {
            user,
            password: Some(Password::new(pw)),
            source: Some("$REDISCLI_AUTH".into()),
        });
    }
    Ok(Auth {
        user,
        password: None,
        source: None,
    })
}
