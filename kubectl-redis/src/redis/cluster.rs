//! A live restore into a Redis Cluster: the slot map (`CLUSTER SHARDS`, or
//! `CLUSTER SLOTS` before 7.0), a connection to every primary (straight for
//! `--url`, else a port-forward to the pod with the node's address), and
//! the core's [`Router`] between the [`Loader`] and them: each key goes to
//! the primary owning its slot, `MOVED` and `ASK` are followed, and a node
//! the cluster names later is connected to on the way.

use super::auth::Auth;
use super::Conn;
use crate::kube::portforward::Forward;
use crate::ui::{Progress, Ui};
use k8s_openapi::api::core::v1::Pod;
use kubectl_redis_core::backup::{Endpoint, Line};
use kubectl_redis_core::kube::pods;
use kubectl_redis_core::restore::live::{LoadError, Loader, Options};
use kubectl_redis_core::restore::Loaded;
use kubectl_redis_core::topo::cluster::{Router, SlotMap, SLOTS};
use kubectl_redis_core::wire::repl::parse_reply;
use kubectl_redis_core::wire::reply::Reply;
use std::io::Read;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// Commands answered or not, across all nodes, before the file waits.
const MAX_IN_FLIGHT: usize = 50_000;
/// Bytes of unanswered commands kept for a redirection.
const MAX_RETAINED: usize = 64 << 20;

/// The slot map, asked of one node, reached at `entry` (a node listed
/// without an address is that one).
pub async fn slot_map(conn: &mut Conn, entry: &str) -> Result<SlotMap, String> {
    let ask = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut map = match conn.command(&ask(&["CLUSTER", "SHARDS"])).await? {
        Reply::Error(_) => match conn.command(&ask(&["CLUSTER", "SLOTS"])).await? {
            Reply::Error(e) => Err(format!("CLUSTER SLOTS: {e}")),
            r => SlotMap::from_slots(&r),
        },
        r => SlotMap::from_shards(&r),
    }?;
    map.resolve_unknown(entry);
    Ok(map)
}

/// Open connections to the nodes, each read and written by its own task.
struct Nodes<'a> {
    pods: Option<&'a kube::Api<Pod>>,
    auth: &'a Auth,
    tx: Vec<mpsc::UnboundedSender<Vec<u8>>>,
    /// Chunks read from the nodes, bounded: a node sending faster than the
    /// load consumes (or without end) waits, memory stays bounded.
    rx: mpsc::Receiver<(usize, Result<Vec<u8>, String>)>,
    back: mpsc::Sender<(usize, Result<Vec<u8>, String>)>,
    bufs: Vec<Vec<u8>>,
    forwards: Vec<Forward>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The namespace's pods, listed once (again only for a node not in it).
    listed: Vec<kubectl_redis_core::kube::pods::PodInfo>,
}

impl<'a> Nodes<'a> {
    fn new(pods: Option<&'a kube::Api<Pod>>, auth: &'a Auth) -> Self {
        let (back, rx) = mpsc::channel(64);
        Nodes {
            pods,
            auth,
            tx: Vec::new(),
            rx,
            back,
            bufs: Vec::new(),
            forwards: Vec::new(),
            tasks: Vec::new(),
            listed: Vec::new(),
        }
    }

    /// Connects to `host:port` (the next node index) and authenticates.
    async fn add(&mut self, host: &str, port: u16) -> Result<(), String> {
        let to = match self.pods {
            None => Endpoint::Url(kubectl_redis_core::backup::Url {
                host: host.to_string(),
                port,
            }),
            Some(api) => {
                if pods::serving(&self.listed, host, port).is_none() {
                    self.listed = crate::kube::pods::list_pods(api, "", None).await?;
                }
                Endpoint::Pod(pods::target_serving(&self.listed, host, port)?)
            }
        };
        let (conn, fwd) = super::open_authed(&to, self.pods, self.auth).await?;
        let i = self.tx.len();
        let (rd, mut wr) = tokio::io::split(conn.io);
        let (tx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
        let back = self.back.clone();
        self.tasks.push(tokio::spawn(async move {
            while let Some(b) = wrx.recv().await {
                if let Err(e) = wr.write_all(&b).await {
                    let _ = back.send((i, Err(format!("writing: {e}")))).await;
                    return;
                }
            }
        }));
        let back = self.back.clone();
        let mut rd = rd;
        self.tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 64 << 10];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) => {
                        let _ = back
                            .send((i, Err("the node closed the connection".into())))
                            .await;
                        return;
                    }
                    Ok(n) => {
                        if back.send((i, Ok(buf[..n].to_vec()))).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = back.send((i, Err(format!("reading: {e}")))).await;
                        return;
                    }
                }
            }
        }));
        self.tx.push(tx);
        self.bufs.push(conn.buf);
        if let Some(f) = fwd {
            self.forwards.push(f);
        }
        Ok(())
    }

    /// Connects to every node of `map`; with `--url`, only once all of
    /// them are addresses the user allowed (checked before any is dialed).
    async fn add_all(&mut self, map: &SlotMap) -> Result<(), String> {
        if self.pods.is_none() {
            super::allowed_hosts()
                .ok_or("no host was allowed for this --url run")?
                .check_all(
                    map.nodes.iter().map(|n| (n.host.as_str(), n.port)),
                    "the cluster's slot map",
                )?;
        }
        for n in &map.nodes {
            self.add(&n.host, n.port).await?;
        }
        Ok(())
    }

    /// Writes what `router` routed to each node, connecting first to a
    /// node a `MOVED` or `ASK` named.
    async fn flush(&mut self, router: &mut Router, ui: &Ui) -> Result<(), String> {
        while self.tx.len() < router.nodes() {
            let n = &router.map.nodes[self.tx.len()];
            let (host, port) = (n.host.clone(), n.port);
            ui.line(
                "restore",
                &Line::Detail(format!(
                    "a redirection names the node {host}:{port}: connecting"
                )),
            );
            self.add(&host, port).await?;
        }
        for n in 0..router.nodes() {
            let out = router.take_out(n);
            if !out.is_empty() {
                self.send(n, out)?;
            }
        }
        Ok(())
    }

    /// Bytes read from node `n`: its whole replies go to `router`, and
    /// what is answered in the order it was pushed is added to `ordered`.
    fn replies(
        &mut self,
        n: usize,
        bytes: &[u8],
        router: &mut Router,
        ordered: &mut Vec<u8>,
    ) -> Result<(), String> {
        self.bufs[n].extend_from_slice(bytes);
        let used = router.replies(n, &self.bufs[n])?;
        self.bufs[n].drain(..used);
        router.ordered(ordered);
        Ok(())
    }

    fn send(&self, i: usize, bytes: Vec<u8>) -> Result<(), String> {
        self.tx
            .get(i)
            .ok_or("no such node")?
            .send(bytes)
            .map_err(|_| "the connection's writer stopped".to_string())
    }

    /// One command to each of `nodes`, and their replies.
    async fn ask_each(&mut self, nodes: &[usize], args: &[&str]) -> Result<Vec<Reply>, String> {
        let mut cmd = Vec::new();
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        kubectl_redis_core::restore::live::resp(&mut cmd, &a);
        for &n in nodes {
            self.send(n, cmd.clone())?;
        }
        let mut got: Vec<Option<Reply>> = vec![None; nodes.len()];
        let deadline = Instant::now() + crate::env::stall();
        loop {
            for (k, &n) in nodes.iter().enumerate() {
                if got[k].is_none() {
                    if let Some((r, used)) = parse_reply(&self.bufs[n]) {
                        self.bufs[n].drain(..used);
                        got[k] = Some(r);
                    }
                }
            }
            if got.iter().all(Option::is_some) {
                return Ok(got.into_iter().flatten().collect());
            }
            match tokio::time::timeout_at(deadline.into(), self.rx.recv()).await {
                Ok(Some((n, Ok(b)))) => self.bufs[n].extend_from_slice(&b),
                Ok(Some((n, Err(e)))) => return Err(format!("cluster node {n}: {e}")),
                Ok(None) | Err(_) => return Err(format!("{} got no answer", args.join(" "))),
            }
        }
    }

    fn close(self) {
        for t in self.tasks {
            t.abort();
        }
        for f in self.forwards {
            f.close();
        }
    }
}

/// The slot ranges of [`restrict_to`].
static ONLY: std::sync::OnceLock<Vec<[u16; 2]>> = std::sync::OnceLock::new();

/// Restricts this run's live restore into a Redis Cluster to the primary
/// serving these slot ranges (one Job per target primary of a backup set):
/// only it is flushed, loaded and counted. Set once, before the restore.
pub fn restrict_to(slots: Vec<[u16; 2]>) {
    let _ = ONLY.set(slots);
}

/// The slot ranges [`restrict_to`] set, if any.
pub fn restricted() -> Option<&'static [[u16; 2]]> {
    ONLY.get().map(Vec::as_slice)
}

/// Loads the file at `path` into the cluster `first` (reached at `entry`)
/// belongs to.
#[allow(clippy::too_many_arguments)]
pub async fn load(
    ui: &Ui,
    first: &mut Conn,
    entry: &str,
    pods: Option<&kube::Api<Pod>>,
    auth: &Auth,
    path: &str,
    total: u64,
    options: Options,
) -> Loaded {
    let t0 = Instant::now();
    let mut nodes = Nodes::new(pods, auth);
    let mut loaded = Loaded {
        report: Default::default(),
        keyspace: None,
        error: None,
        interrupted: false,
        elapsed_ms: 0,
    };
    let r = pump(
        ui,
        first,
        entry,
        &mut nodes,
        path,
        total,
        options,
        &mut loaded,
    )
    .await;
    if let Err(e) = r {
        loaded.error.get_or_insert(e);
    }
    nodes.close();
    loaded.elapsed_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    loaded
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    ui: &Ui,
    first: &mut Conn,
    entry: &str,
    nodes: &mut Nodes<'_>,
    path: &str,
    total: u64,
    options: Options,
    loaded: &mut Loaded,
) -> Result<(), String> {
    let say = |s: String| ui.line("restore", &Line::Detail(s));
    let map = slot_map(first, entry).await?;
    if map.covered() < SLOTS {
        return Err(format!(
            "{} of {SLOTS} slots have no primary: the cluster is not whole (see CLUSTER INFO); nothing was loaded",
            SLOTS - map.covered()
        ));
    }
    let mut primaries = map.primaries();
    // One Job per target primary: this one's primary alone.
    if let Some(only) = restricted() {
        let owners: Vec<usize> = map
            .ranges()
            .iter()
            .filter(|(a, b, _)| only.iter().any(|[x, y]| a <= y && x <= b))
            .map(|(_, _, n)| *n)
            .collect();
        primaries.retain(|n| owners.contains(n));
        if primaries.len() != 1 {
            return Err(format!(
                "the slots this run restores are served by {} primaries now, not one (the cluster was resharded since the plan); nothing was loaded",
                primaries.len()
            ));
        }
    }
    say(format!(
        "Redis Cluster: {} primaries; {}",
        primaries.len(),
        map.ranges()
            .iter()
            .map(|(a, b, n)| format!("{a}-{b} {}:{}", map.nodes[*n].host, map.nodes[*n].port))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // Before anything is flushed.
    nodes.add_all(&map).await?;
    if !options.merge {
        for (r, &n) in nodes
            .ask_each(&primaries, &["FLUSHALL", "ASYNC"])
            .await?
            .iter()
            .zip(&primaries)
        {
            if let Reply::Error(e) = r {
                return Err(format!(
                    "FLUSHALL ASYNC refused by {}:{}: {e}; nothing was loaded (use --merge to keep existing keys)",
                    map.nodes[n].host, map.nodes[n].port
                ));
            }
        }
    }
    let mut router = Router::new(map);
    let mut loader = Loader::new(options);
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut progress = Progress::new(ui, "load");
    progress.set_total(Some(total));
    let mut chunk = vec![0u8; 256 << 10];
    let mut produced: Vec<u8> = Vec::new();
    let mut ordered: Vec<u8> = Vec::new();
    let mut eof = false;
    let mut error: Option<String> = None;
    let mut ctrl_c = std::pin::pin!(crate::signals::interrupted());
    let mut last = Instant::now();
    loop {
        let stopping = loaded.interrupted || error.is_some() || loader.failed().is_some();
        while !eof
            && !stopping
            && loader.in_flight() < MAX_IN_FLIGHT
            && router.retained() < MAX_RETAINED
        {
            match file.read(&mut chunk) {
                Ok(0) => {
                    eof = true;
                    if let Err(e) = loader.finish() {
                        error = Some(e.to_string());
                    }
                }
                Ok(n) => {
                    let r = loader.feed(&chunk[..n], &mut produced);
                    if let Err(e) = router.push(&produced) {
                        error.get_or_insert(e);
                    }
                    produced.clear();
                    if let Err(e) = r {
                        if !matches!(e, LoadError::Server { .. }) {
                            error.get_or_insert(e.to_string());
                        }
                        break;
                    }
                    progress.update(loader.report().bytes_read);
                    if error.is_some() {
                        break;
                    }
                }
                Err(e) => {
                    error = Some(format!("reading {path}: {e}"));
                    break;
                }
            }
        }
        nodes.flush(&mut router, ui).await?;
        let done_producing =
            eof || loaded.interrupted || error.is_some() || loader.failed().is_some();
        if done_producing && router.in_flight() == 0 {
            break;
        }
        if error.is_some() && router.in_flight() == 0 {
            break;
        }
        tokio::select! {
            m = nodes.rx.recv() => match m {
                Some((n, Ok(b))) => {
                    nodes.replies(n, &b, &mut router, &mut ordered)?;
                    let used = loader.replies(&ordered);
                    ordered.drain(..used);
                    last = Instant::now();
                }
                Some((n, Err(e))) => {
                    let node = &router.map.nodes[n];
                    error.get_or_insert(format!("cluster node {}:{}: {e}", node.host, node.port));
                    break;
                }
                None => break,
            },
            _ = &mut ctrl_c, if !loaded.interrupted => {
                loaded.interrupted = true;
                ui.line("restore", &Line::Warn(
                    "interrupted: sending what is already prepared, then stopping".into()));
            }
            _ = tokio::time::sleep_until((last + crate::env::stall()).into()) => {
                error.get_or_insert(crate::env::stalled("the cluster neither read nor answered"));
                break;
            }
        }
    }
    progress.finish();
    loaded.report = loader.report().clone();
    if error.is_none() {
        error = loader.failed().map(|e| e.to_string());
    }
    let s = router.stats;
    if s.moved + s.asked > 0 {
        say(format!(
            "redirections followed: {} MOVED, {} ASK",
            s.moved, s.asked
        ));
    }
    if let Some(e) = error {
        loaded.error = Some(e);
        return Ok(());
    }
    if loaded.interrupted {
        return Ok(());
    }
    // The count check: every primary's keys, summed (one Job per target
    // primary: its own primary's).
    let primaries = if restricted().is_some() {
        primaries
    } else {
        router.map.primaries()
    };
    let mut keys = 0u64;
    let mut expires = 0u64;
    for r in nodes.ask_each(&primaries, &["INFO", "keyspace"]).await? {
        let text = match r {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            Reply::Text(t) => t,
            Reply::Error(e) => return Err(format!("INFO keyspace: {e}")),
            _ => String::new(),
        };
        let f = kubectl_redis_core::wire::reply::info_fields(&text);
        if let Some((k, e)) = kubectl_redis_core::wire::reply::keyspace(&f).get(&0) {
            keys += k;
            expires += e;
        }
    }
    loaded.keyspace = Some(if keys > 0 {
        format!("# Keyspace\r\ndb0:keys={keys},expires={expires},avg_ttl=0\r\n")
    } else {
        "# Keyspace\r\n".into()
    });
    // Each primary's replicas acknowledge what it received.
    let mut waited = Vec::new();
    for (r, &n) in nodes
        .ask_each(&primaries, &["INFO", "replication"])
        .await?
        .iter()
        .zip(&primaries)
    {
        let text = match r {
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        let rep = kubectl_redis_core::topo::replication::Replication::parse(&text);
        if !rep.replicas.is_empty() {
            waited.push((n, rep.replicas.len()));
        }
    }
    for (n, want) in waited {
        let w = want.to_string();
        let got = match nodes.ask_each(&[n], &["WAIT", &w, "10000"]).await?.pop() {
            Some(Reply::Integer(k)) => k,
            _ => 0,
        };
        let node = &router.map.nodes[n];
        if got < want as i64 {
            ui.line(
                "restore",
                &Line::Warn(format!(
                    "{}:{}: {got} of {want} replica(s) acknowledged the restore within 10 s",
                    node.host, node.port
                )),
            );
        } else {
            say(format!(
                "{}:{}: {got} of {want} replica(s) caught up (WAIT)",
                node.host, node.port
            ));
        }
    }
    Ok(())
}

/// `restore --to-time` into a Redis Cluster: the archived commands, after
/// the base, each to the primary owning its key's slot (the core's
/// [`Router`]: `MOVED` and `ASK` followed, `SELECT` and other key-less
/// commands sent to every primary), every reply checked; the first error
/// is named. Returns the commands replayed.
pub async fn replay(
    ui: &Ui,
    first: &mut Conn,
    entry: &str,
    pods: Option<&kube::Api<Pod>>,
    auth: &Auth,
    p: &crate::archive::replay::Prepared,
) -> Result<u64, String> {
    let mut nodes = Nodes::new(pods, auth);
    let r = replay_pump(ui, first, entry, &mut nodes, p).await;
    nodes.close();
    r
}

async fn replay_pump(
    ui: &Ui,
    first: &mut Conn,
    entry: &str,
    nodes: &mut Nodes<'_>,
    p: &crate::archive::replay::Prepared,
) -> Result<u64, String> {
    let map = slot_map(first, entry).await?;
    nodes.add_all(&map).await?;
    let total = crate::archive::replay::to_send(p, true);
    let (mut rx, producer) = crate::archive::replay::produce(p, true);
    let mut router = Router::new(map);
    let mut progress = Progress::new(ui, "replay");
    progress.set_total(Some(total));
    let mut ordered: Vec<u8> = Vec::new();
    let mut answered = 0u64;
    let mut first_err: Option<(u64, String)> = None;
    let mut eof = false;
    let mut last = Instant::now();
    loop {
        nodes.flush(&mut router, ui).await?;
        if eof && router.in_flight() == 0 {
            break;
        }
        let room = !eof && router.in_flight() < MAX_IN_FLIGHT && router.retained() < MAX_RETAINED;
        tokio::select! {
            b = rx.recv(), if room => match b {
                Some(b) => router.push(&b)?,
                None => eof = true,
            },
            m = nodes.rx.recv() => match m {
                Some((n, Ok(b))) => {
                    nodes.replies(n, &b, &mut router, &mut ordered)?;
                    let mut at = 0;
                    while let Some((r, used)) = parse_reply(&ordered[at..]) {
                        at += used;
                        if let Reply::Error(e) = r {
                            first_err.get_or_insert((answered, e));
                        }
                        answered += 1;
                    }
                    ordered.drain(..at);
                    progress.update(answered);
                    last = Instant::now();
                }
                Some((n, Err(e))) => {
                    let node = &router.map.nodes[n];
                    return Err(format!("cluster node {}:{}: {e}", node.host, node.port));
                }
                None => return Err("every cluster connection closed".into()),
            },
            _ = tokio::time::sleep_until((last + crate::env::stall()).into()) => {
                return Err(crate::env::stalled("the cluster neither read nor answered the replay"));
            }
        }
    }
    progress.finish();
    match producer.await {
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(format!("internal error: {e}")),
        Ok(Ok(_)) => {}
    }
    let s = router.stats;
    if s.moved + s.asked > 0 {
        ui.line(
            "restore",
            &Line::Detail(format!(
                "replay: redirections followed: {} MOVED, {} ASK",
                s.moved, s.asked
            )),
        );
    }
    match first_err {
        Some((i, e)) => Err(format!(
            "replaying command {} of {total} failed: {e}; the data may differ from the moment asked for",
            i + 1
        )),
        None => Ok(answered),
    }
}
