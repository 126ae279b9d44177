//! `kubectl_complete-redis`: what kubectl (1.26+) runs to complete
//! `kubectl redis ...`. It hands the words to `kubectl-redis __complete`,
//! found next to this binary or on PATH; the answer is Cobra's format.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let here = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("kubectl-redis")))
        .filter(|p| p.is_file());
    let bin = here
        .map(|p| p.into_os_string())
        .unwrap_or_else(|| "kubectl-redis".into());
    let mut c = Command::new(bin);
    c.arg("__complete").args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = c.exec();
        eprintln!("kubectl_complete-redis: cannot run kubectl-redis: {e}");
        // Cobra's "error" directive: the shell shows no candidates.
        println!(":1");
        ExitCode::FAILURE
    }
    #[cfg(not(unix))]
    match c.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        _ => {
            println!(":1");
            ExitCode::FAILURE
        }
    }
}
