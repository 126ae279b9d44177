//! Flag groups that several commands share, and value parsers. A leaf:
//! it imports nothing from the rest of the shell.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Cluster selection, as kubectl's global flags.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Cluster")]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace (default: $NS, then the context's namespace, then "default")
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Output")]
pub struct UiArgs {
    /// When to use colour (NO_COLOR is honoured with auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
    /// Print each step of the state machine to stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Output {
    /// Human-readable text
    #[default]
    Text,
    /// One JSON document on stdout
    Json,
}

/// Which Redis: the same flags for every command that talks to one.
#[derive(Args, Debug)]
pub struct TargetArgs {
    /// Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Use this pod instead of searching by label
    #[arg(long, value_name = "NAME", conflicts_with = "selector")]
    pub pod: Option<String>,
    /// Container running Redis (default: the pod's default container, else one named redis)
    #[arg(short = 'c', long, value_name = "NAME")]
    pub container: Option<String>,
    /// Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)
    #[arg(long, value_name = "PORT")]
    pub redis_port: Option<u16>,
}

impl TargetArgs {
    /// What the user asked for, as the core's pod choice takes it.
    pub fn wanted(&self) -> kubectl_redis_core::kube::pods::Wanted<'_> {
        kubectl_redis_core::kube::pods::Wanted {
            pod: self.pod.as_deref(),
            container: self.container.as_deref(),
            port: self.redis_port,
        }
    }
}

/// `30s`, `2m`, `1h`, `1500ms` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration: use e.g. 30s, 2m, 1h"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" => Duration::from_secs(n.saturating_mul(86_400)),
        "w" => Duration::from_secs(n.saturating_mul(604_800)),
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{s}': use ms, s, m, h, d or w"
            ))
        }
    };
    if d.is_zero() {
        return Err("the duration must be more than zero".to_string());
    }
    Ok(d)
}

/// A size: `1048576`, `512KiB`, `16MiB`, `1GiB` (K/M/G and KB/MB/GB are
/// taken as powers of 1024 too).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{s}' is not a size (like 16MiB or 1048576)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("'{s}': unknown unit (use B, KiB, MiB or GiB)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' is too big"))
}

/// TLS to Redis: the same flags for every command that talks to one.
/// Keys come from files or Secrets only, never from the command line.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// Connect with TLS. Implied by rediss:// and by every other TLS flag; a pod whose spec
    /// says TLS (REDIS_TLS_ENABLED, --tls-port, a port named tls) needs no flag
    #[arg(long)]
    pub tls: bool,
    /// CA certificate(s) that signed the server's certificate (PEM) [default: the CA file the
    /// pod's TLS options name, read from its Secret; with --url, the system's CAs]
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate for mutual TLS (PEM; with --key) [default: for a pod that asks for
    /// one, the pod's own certificate from its Secret]
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (a PEM file; a file others can read is warned about)
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The name the server's certificate must carry [default: --url's host; for a pod, its DNS
    /// names and those of the Services selecting it, never localhost]
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Do not check the server's certificate at all (anyone in the path can read the password
    /// and the data; a warning is printed)
    #[arg(long)]
    pub insecure_skip_verify: bool,
    /// A kubernetes.io/tls Secret (as cert-manager writes): ca.crt checks the server, tls.crt
    /// and tls.key are the client's certificate
    #[arg(long, value_name = "NAME", conflicts_with = "cert")]
    pub tls_from_secret: Option<String>,
    /// Such a Secret mounted as a directory (ca.crt, tls.crt, tls.key as files): what a
    /// scheduled Job is given, so it needs no access to the Secret through the API
    #[arg(long, value_name = "DIR", conflicts_with_all = ["cert", "tls_from_secret"])]
    pub tls_from_dir: Option<PathBuf>,
}

impl TlsArgs {
    /// Any TLS flag was given.
    pub fn any(&self) -> bool {
        self.tls
            || self.cacert.is_some()
            || self.cert.is_some()
            || self.tls_server_name.is_some()
            || self.insecure_skip_verify
            || self.tls_from_secret.is_some()
            || self.tls_from_dir.is_some()
    }
}
