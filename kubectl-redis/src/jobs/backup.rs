//! The interpreter of the core's backup machine: one arm per effect, the
//! only place where a backup touches the cluster, Redis or the disk. Used
//! by `backup` (both methods) and `verify --url` (stream, check only).

use crate::kube::exec;
use crate::kube::lease::Locks;
use crate::kube::portforward::Forward;
use crate::kube::Kube;
use crate::redis::auth::Auth;
use crate::redis::Conn;
use crate::store::crypt::Recipients;
use crate::store::files;
use crate::store::multi::Fanout;
use crate::store::put::Put;
use crate::store::repo::{self, Repo};
use crate::ui::{Progress, Ui};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubectl_redis_core::backup::{
    Backup, CommitError, ConnectError, CopyError, Effect, Endpoint, Failure, Finish, Input, Line,
    Plan, SyncError,
};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::kube::lock::{Answer, LeaseError, Request};
use std::collections::{HashMap, VecDeque};
use std::pin::pin;
use std::time::{Duration, Instant};

/// What the effects act on.
pub struct Shell<'a> {
    ui: &'a Ui,
    /// The cluster; `None` with `--url`.
    kube: Option<(Kube, Api<Pod>, Locks)>,
    /// The password for the Redis connection (never in the machine).
    auth: Auth,
    /// Open sinks by the path (or URL) the machine knows them by.
    files: HashMap<String, Fanout>,
    conn: Option<(Conn, Option<Forward>)>,
    /// Where the backup goes.
    repo: Repo,
    /// `--encrypt-to`.
    recipients: Option<Recipients>,
    /// More repositories (`--repo` given again), each with its recipients.
    copies: Vec<(Repo, Option<Recipients>)>,
    /// How each copy ended: (repository, path, error).
    pub copy_results: Vec<(String, String, Option<String>)>,
    /// What the committed backup stored (its size and sha256: the
    /// ciphertext's when encrypted), for the report.
    pub stored: Option<crate::store::sink::Stored>,
    /// The loss of a Lease held for this backup by its caller.
    outer_lease: Option<tokio::sync::watch::Receiver<Option<String>>>,
}

impl<'a> Shell<'a> {
    pub fn new(
        ui: &'a Ui,
        kube: Option<Kube>,
        auth: Auth,
        holder: String,
        repo: Repo,
        recipients: Option<Recipients>,
    ) -> Self {
        let kube = kube.map(|k| {
            let api = Api::namespaced(k.client.clone(), &k.namespace);
            let locks = Locks::new(k.client.clone(), &k.namespace, holder);
            (k, api, locks)
        });
        Shell {
            ui,
            kube,
            auth,
            files: HashMap::new(),
            conn: None,
            repo,
            recipients,
            stored: None,
            copies: Vec::new(),
            copy_results: Vec::new(),
            outer_lease: None,
        }
    }

    /// Stops this backup when `lost` says a Lease held for it elsewhere
    /// (a whole cluster's, held by the cluster backup) was lost.
    pub fn with_lease_of(
        mut self,
        lost: Option<tokio::sync::watch::Receiver<Option<String>>>,
    ) -> Self {
        self.outer_lease = lost;
        self
    }

    /// Where the loss of the Lease this backup relies on shows: the one it
    /// takes itself, else one held for it.
    fn lost_watch(&self) -> Option<tokio::sync::watch::Receiver<Option<String>>> {
        self.outer_lease
            .clone()
            .or_else(|| self.kube.as_ref().map(|(_, _, l)| l.lost_watch()))
    }

    /// Also writes the snapshot into these repositories.
    pub fn with_copies(mut self, copies: Vec<(Repo, Option<Recipients>)>) -> Self {
        self.copies = copies;
        self
    }

    fn cluster(&mut self) -> Result<&mut (Kube, Api<Pod>, Locks), String> {
        self.kube
            .as_mut()
            .ok_or_else(|| "no cluster connection (--url)".to_string())
    }

    /// Does one effect; `None` when it has no answer.
    async fn perform(&mut self, effect: Effect) -> Option<Input> {
        let ui = self.ui;
        Some(match effect {
            Effect::Say(line) => {
                ui.line("backup", &line);
                return None;
            }
            Effect::Finish(_) => return None,
            Effect::Disconnect => {
                if let Some((conn, fwd)) = self.conn.take() {
                    drop(conn);
                    if let Some(f) = fwd {
                        f.close();
                    }
                }
                return None;
            }
            Effect::ListPods {
                id, selector, name, ..
            } => {
                let r = match self.cluster() {
                    Ok((_, api, _)) => {
                        crate::kube::pods::find_pods(ui, api, &selector, name.as_deref()).await
                    }
                    Err(e) => Err(e),
                };
                Input::Pods(id, r)
            }
            Effect::Redis { id, target, args } => {
                let r = match self.cluster() {
                    Ok((_, api, _)) => exec::redis_cli(api, &target, &args).await,
                    Err(e) => Err(e),
                };
                Input::Redis(id, r)
            }
            Effect::Probe { id, target, tools } => {
                let r = match self.cluster() {
                    Ok((_, api, _)) => exec::probe(api, &target, &tools).await,
                    Err(e) => Err(e),
                };
                Input::Probed(id, r)
            }
            Effect::Timer { id, after_ms } => {
                tokio::time::sleep(Duration::from_millis(after_ms)).await;
                Input::Timer(id)
            }
            Effect::CreateTemp {
                id,
                dir,
                prefix,
                dest,
            } => Input::TempCreated(id, self.create_temp(&dir, &prefix, &dest).await),
            Effect::CopyOut {
                id,
                target,
                remote_path,
                local_path,
                label,
            } => {
                let r = match (self.files.get_mut(&local_path), &self.kube) {
                    (Some(f), Some((_, api, _))) => {
                        let mut p = Progress::new(ui, &label);
                        let hint = f.hint();
                        exec::copy_out(api, &target, &remote_path, f, &mut p, &hint).await
                    }
                    _ => Err(CopyError::Failed(format!("{local_path} is not open"))),
                };
                Input::Copied(id, r)
            }
            Effect::Commit {
                id,
                temp,
                dest,
                manifest,
            } => Input::Committed(id, self.commit(&temp, &dest, manifest).await),
            Effect::Discard { id, path } => {
                self.discard(&path).await;
                Input::Discarded(id)
            }
            Effect::Lock { id, request } => match (self.ui, self.cluster()) {
                (ui, Ok((_, _, locks))) => Input::Lock(id, locks.perform(ui, request).await),
                (_, Err(e)) => Input::Lock(id, no_cluster(request, e)),
            },
            Effect::PodPassword { id, target } => {
                let r = self.pod_password(&target.pod, &target.container).await;
                Input::PodPassword(id, r)
            }
            Effect::Connect { id, to } => Input::Connected(id, self.connect(to).await),
            Effect::Send { id, args } => {
                let r = match &mut self.conn {
                    Some((c, _)) => c.command(&args).await,
                    None => Err("not connected".into()),
                };
                Input::Reply(id, r)
            }
            Effect::Auth { id, user } => {
                let r = match (&mut self.conn, &self.auth.password) {
                    (Some((c, _)), Some(pw)) => c.auth(user.as_deref(), pw).await,
                    _ => Err("no connection or no password".into()),
                };
                Input::Reply(id, r)
            }
            Effect::Sync {
                id,
                local_path,
                label,
                timeout_ms,
            } => {
                let timeout = Duration::from_millis(timeout_ms);
                let r = match (&mut self.conn, local_path) {
                    (None, _) => Err(SyncError::Io("not connected".into())),
                    (Some((c, _)), None) => {
                        let hint = crate::store::sink::SizeHint::default();
                        c.sync(ui, tokio::io::sink(), &label, timeout, &hint).await
                    }
                    (Some((c, _)), Some(p)) => match self.files.get_mut(&p) {
                        Some(f) => {
                            let hint = f.hint();
                            c.sync(ui, f, &label, timeout, &hint).await
                        }
                        None => Err(SyncError::Io(format!("{p} is not open"))),
                    },
                };
                Input::Synced(id, r)
            }
        })
    }

    /// A new sink: a hidden 0600 file in a local directory, or an upload
    /// straight to `dest` in object storage (refused when that name or its
    /// manifest exists: nothing is ever overwritten).
    async fn create_temp(&mut self, dir: &str, prefix: &str, dest: &str) -> Result<String, String> {
        let (_, name) = repo::split(dest);
        let repo = match &self.repo {
            Repo::Local(_) => Repo::Local(dir.to_string()),
            r => r.clone(),
        };
        let put = Put::begin(&repo, &name, prefix, self.recipients.as_ref()).await?;
        let handle = put.handle();
        let mut puts = vec![put];
        let mut labels = vec![repo.display()];
        let mut errors = vec![None];
        for (r, rec) in &self.copies {
            labels.push(r.display());
            match Put::begin(r, &name, prefix, rec.as_ref()).await {
                Ok(p) => {
                    puts.push(p);
                    errors.push(None);
                }
                Err(e) => {
                    self.ui.line(
                        "backup",
                        &Line::Warn(format!("{}: {e}; going on without it", r.display())),
                    );
                    self.copy_results
                        .push((r.display(), String::new(), Some(e)));
                    labels.pop();
                }
            }
        }
        self.files
            .insert(handle.clone(), Fanout::new(puts, labels, errors));
        Ok(handle)
    }

    /// Completes the stored bytes, then writes the manifest (see
    /// [`Put::commit`]), in the primary repository first, then in the
    /// others at once. The backup exists once the manifest does.
    async fn commit(
        &mut self,
        temp: &str,
        dest: &str,
        mut manifest: kubectl_redis_core::store::manifest::Manifest,
    ) -> Result<(), CommitError> {
        let ui = self.ui;
        // A key held by KMS: the wrapped identity goes with the manifest.
        if let (Some(e), Some(r)) = (manifest.encryption.as_mut(), self.recipients.as_ref()) {
            e.kms = r.kms.clone();
        }
        // Who made it, and from where.
        manifest.made_by = Some(crate::audit::who(
            self.kube.as_ref().and_then(|(k, _, _)| k.user.as_deref()),
        ));
        let Some(group) = self.files.get_mut(temp) else {
            return Err(CommitError::Failed(format!("{temp} is not open")));
        };
        let remote = matches!(self.repo, Repo::Remote(_));
        let say_stored = |s: &crate::store::sink::Stored, label: &str| {
            if remote || !label.is_empty() {
                ui.line(
                    "backup",
                    &Line::Detail(format!(
                        "stored {} bytes{}{}: sha256 {}",
                        s.size,
                        if label.is_empty() {
                            String::new()
                        } else {
                            format!(" in {label}")
                        },
                        if label.is_empty() || label.contains("://") {
                            ", read back"
                        } else {
                            ""
                        },
                        &s.sha256[..16.min(s.sha256.len())]
                    )),
                );
            }
        };
        let primary = group
            .commit_primary(dest, manifest.clone(), &mut |s| say_stored(s, ""))
            .await;
        if matches!(primary, Err(CommitError::Exists)) {
            // Kept for a retry under another name.
            return Err(CommitError::Exists);
        }
        let Some(mut group) = self.files.remove(temp) else {
            return Err(CommitError::Failed(format!("{temp} is not open")));
        };
        for c in group.commit_copies(&manifest).await {
            match c.result {
                Ok(s) => {
                    say_stored(&s, &c.label);
                    self.copy_results.push((c.label, c.path, None));
                }
                Err(e) => {
                    ui.line("backup", &Line::Warn(format!("{}: {e}", c.label)));
                    self.copy_results.push((c.label, c.path, Some(e)));
                }
            }
        }
        match primary {
            Ok(st) => {
                self.stored = Some(st);
                Ok(())
            }
            // Locally, a backup without its manifest still stands (as before).
            Err(CommitError::Failed(m)) if !remote && m.starts_with("the backup is saved as") => {
                ui.line("backup", &Line::Warn(m));
                Ok(())
            }
            Err(e) => {
                let kept: Vec<&str> = self
                    .copy_results
                    .iter()
                    .filter(|c| c.2.is_none())
                    .map(|c| c.1.as_str())
                    .collect();
                group.abort_primary().await;
                if kept.is_empty() {
                    Err(e)
                } else {
                    let m = match e {
                        CommitError::Exists => "the name is taken".to_string(),
                        CommitError::Failed(m) => m,
                    };
                    Err(CommitError::Failed(format!(
                        "{m}; the copies are kept: {}",
                        kept.join(", ")
                    )))
                }
            }
        }
    }

    /// Removes a sink's leftovers: the local files, or the uploads' parts.
    async fn discard(&mut self, path: &str) {
        match self.files.remove(path) {
            Some(g) => {
                for p in g.puts {
                    p.abort().await;
                }
            }
            None => {
                if matches!(self.repo, Repo::Local(_)) {
                    files::discard(path);
                }
            }
        }
    }

    /// The Redis container's own password, kept here; the machine hears
    /// only where it came from.
    async fn pod_password(&mut self, pod: &str, container: &str) -> Result<Option<String>, String> {
        let (k, api, _) = self.cluster()?;
        match crate::redis::pod_password(k, api, pod, container).await? {
            Some((pw, from)) => {
                self.auth.password = Some(pw);
                self.auth.source = Some(from.clone());
                Ok(Some(from))
            }
            None => Ok(None),
        }
    }

    async fn connect(&mut self, to: Endpoint) -> Result<(), ConnectError> {
        let api = match &to {
            Endpoint::Url(_) => None,
            Endpoint::Pod(_) => Some(self.cluster().map_err(ConnectError::Failed)?.1.clone()),
        };
        self.conn = Some(crate::redis::open(&to, api.as_ref()).await?);
        Ok(())
    }
}

/// The answer to a lock request made with no cluster (never, with `--url`).
pub fn no_cluster(request: Request, e: String) -> Answer {
    match request {
        Request::Get { .. } => Answer::Found(Err(LeaseError::Other(e))),
        Request::Take { .. } => Answer::Taken(Err(LeaseError::Other(e))),
        Request::Release { .. } => Answer::Released(Err(e)),
        Request::Note { .. } => Answer::Noted(Err(e)),
    }
}

/// Effects that must run to completion even on Ctrl-C: saving and removing
/// files, and releasing the lock.
fn must_finish(e: &Effect) -> bool {
    matches!(
        e,
        Effect::Commit { .. }
            | Effect::Discard { .. }
            | Effect::Disconnect
            | Effect::Lock {
                request: Request::Release { .. },
                ..
            }
            | Effect::Finish(_)
    )
}

/// Runs the machine to its end, doing each effect; Ctrl-C is an input.
pub async fn drive(shell: &mut Shell<'_>, plan: Plan) -> Finish {
    let ui = shell.ui;
    let t0 = Instant::now();
    let now = || u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut m = Backup::new(plan);
    let mut inputs = VecDeque::from([Input::Start]);
    // Signals are this loop's to handle (the run winds down itself).
    let _handled = crate::signals::Handled::new();
    let mut ctrl_c = pin!(crate::signals::interrupted());
    let mut interrupted = false;
    // The Lease's renewal (this run's own, or a whole cluster backup's)
    // says when it was lost.
    let mut lost = shell.lost_watch();
    while let Some(input) = inputs.pop_front() {
        ui.trace(&format!("< {input:?}"));
        for effect in m.handle(now(), input) {
            if let Effect::Finish(f) = effect {
                return f;
            }
            if !matches!(effect, Effect::Say(_)) {
                ui.trace(&format!("> {effect:?}"));
            }
            let lost_now = async {
                match lost.as_mut() {
                    Some(l) => crate::kube::lease::lost_signal(l).await,
                    None => std::future::pending().await,
                }
            };
            let result = if interrupted || must_finish(&effect) {
                shell.perform(effect).await
            } else {
                tokio::select! {
                    biased;
                    why = lost_now => {
                        interrupted = true;
                        ui.line("backup", &Line::Warn(format!("the lock Lease was lost ({why}); nothing was saved, cleaning up")));
                        Some(Input::LeaseLost(why))
                    }
                    _ = &mut ctrl_c => {
                        interrupted = true;
                        ui.line("backup", &Line::Warn("interrupted; nothing was saved, cleaning up".to_string()));
                        Some(Input::Interrupt)
                    }
                    r = shell.perform(effect) => r,
                }
            };
            if let Some(next) = result {
                inputs.push_back(next);
            }
        }
    }
    // The machine always finishes; reaching here is a bug worth reporting.
    Finish {
        exit: Exit::Error,
        report: None,
        error: Some(Failure {
            message: "internal error: the backup stopped without a result".to_string(),
            hint: Some("please report this with the output of --verbose".to_string()),
        }),
    }
}
