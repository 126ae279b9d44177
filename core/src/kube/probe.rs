//! What a probe of the Redis container (`command -v` for each tool a job
//! runs there) means for the job: go on, or an error naming what is missing
//! and what to do. Backup (bgsave) and restore share it.

use super::pods::Target;

/// How a job describes itself in the probe's messages.
pub struct Needs<'a> {
    /// `--method bgsave`, `a file-swap restore`.
    pub what: &'a str,
    /// The hint for a missing tool or shell.
    pub tools_hint: String,
    /// Appended to the exec-forbidden hint (an alternative without exec).
    pub without_exec: &'a str,
    /// Appended to every message (`; nothing was changed`).
    pub suffix: &'a str,
}

/// `Ok` when every tool is there; else `(message, hint)`.
pub fn verdict(
    r: Result<Vec<String>, String>,
    ns: &str,
    t: &Target,
    n: &Needs<'_>,
) -> Result<(), (String, String)> {
    let (c, pod, sfx) = (&t.container, &t.pod, n.suffix);
    match r {
        Ok(missing) if missing.is_empty() => Ok(()),
        Ok(missing) => Err((
            format!("container {c} of {ns}/{pod} has no {}{sfx}", missing.join(", ")),
            n.tools_hint.clone(),
        )),
        Err(e) if e.contains("forbidden") => Err((
            format!("exec in {ns}/{pod} is not allowed: {e}{sfx}"),
            format!(
                "{} needs create on pods/exec (get before Kubernetes 1.31): `kubectl auth can-i create pods/exec -n {ns}`{}",
                n.what, n.without_exec
            ),
        )),
        Err(e) => Err((
            format!("cannot run sh in container {c} of {ns}/{pod}: {e}{sfx}"),
            n.tools_hint.clone(),
        )),
    }
}
