//! A small fake Redis for the tests of what a hostile or broken server can
//! do to the plugin: it parses the RESP commands it is sent and answers
//! what the test's closure says, including nothing at all (a stall), a
//! reply that never ends, or a cluster's slot map naming another host. It
//! records every connection and command, so a test can assert what a
//! server it should never have reached did not receive.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the fake does with one command.
pub enum Act {
    /// Writes these bytes, then reads the next command.
    Reply(Vec<u8>),
    /// Writes these bytes, then never writes again (reads and drops
    /// whatever comes, until the peer closes): a stalled server.
    ReplyThenStall(Vec<u8>),
    /// Writes these bytes as long as the peer reads them (a reply that
    /// never ends): `chunk` repeated until the socket fails.
    Endless { head: Vec<u8>, chunk: Vec<u8> },
    /// Closes the connection.
    Close,
}

/// A RESP simple string.
pub fn simple(s: &str) -> Act {
    Act::Reply(format!("+{s}\r\n").into_bytes())
}

/// A RESP error.
pub fn error(s: &str) -> Act {
    Act::Reply(format!("-{s}\r\n").into_bytes())
}

/// A RESP bulk string.
pub fn bulk(b: &[u8]) -> Act {
    let mut v = format!("${}\r\n", b.len()).into_bytes();
    v.extend_from_slice(b);
    v.extend_from_slice(b"\r\n");
    Act::Reply(v)
}

type Answer = dyn Fn(&[String]) -> Act + Send + Sync;

/// A running fake server; it serves until the test process ends.
pub struct Fake {
    pub addr: SocketAddr,
    /// `redis://ADDR`.
    pub addr_url: String,
    seen: Arc<Mutex<Vec<Vec<String>>>>,
    connections: Arc<AtomicUsize>,
}

impl Fake {
    /// Listens on `bind` (`127.0.0.1:0` for any port) and answers each
    /// command with `answer` (given the command's arguments, the name as
    /// sent).
    pub fn start(bind: &str, answer: impl Fn(&[String]) -> Act + Send + Sync + 'static) -> Fake {
        let l = TcpListener::bind(bind).unwrap_or_else(|e| panic!("fake redis on {bind}: {e}"));
        let addr = l.local_addr().expect("the fake's address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let answer: Arc<Answer> = Arc::new(answer);
        let (s, c) = (seen.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in l.incoming().flatten() {
                c.fetch_add(1, Ordering::SeqCst);
                let (s, a) = (s.clone(), answer.clone());
                std::thread::spawn(move || serve(stream, &s, &*a));
            }
        });
        Fake {
            addr,
            addr_url: format!("redis://{addr}"),
            seen,
            connections,
        }
    }

    /// Every command received so far, on every connection.
    pub fn seen(&self) -> Vec<Vec<String>> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Whether a command named `name` (any case) was received.
    pub fn saw(&self, name: &str) -> bool {
        self.seen()
            .iter()
            .any(|c| c.first().is_some_and(|n| n.eq_ignore_ascii_case(name)))
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `redis://ADDR`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }
}

/// One command from `buf`: the arguments and the bytes it took, or `None`
/// until whole.
fn parse(buf: &[u8]) -> Option<(Vec<String>, usize)> {
    fn line(buf: &[u8], from: usize) -> Option<(&[u8], usize)> {
        let end = buf.get(from..)?.windows(2).position(|w| w == b"\r\n")?;
        Some((&buf[from..from + end], from + end + 2))
    }
    if buf.first() != Some(&b'*') {
        // An inline command.
        let (l, next) = line(buf, 0)?;
        let args = String::from_utf8_lossy(l)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        return Some((args, next));
    }
    let (l, mut at) = line(buf, 0)?;
    let n: usize = std::str::from_utf8(&l[1..]).ok()?.parse().ok()?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n {
        let (l, next) = line(buf, at)?;
        let len: usize = std::str::from_utf8(l.get(1..)?).ok()?.parse().ok()?;
        let body = buf.get(next..next + len)?;
        args.push(String::from_utf8_lossy(body).into_owned());
        at = next + len + 2;
        if buf.len() < at {
            return None;
        }
    }
    Some((args, at))
}

fn serve(mut s: TcpStream, seen: &Mutex<Vec<Vec<String>>>, answer: &Answer) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 << 10];
    loop {
        while let Some((args, n)) = parse(&buf) {
            buf.drain(..n);
            if let Ok(mut v) = seen.lock() {
                v.push(args.clone());
            }
            match answer(&args) {
                Act::Reply(b) => {
                    if s.write_all(&b).is_err() {
                        return;
                    }
                }
                Act::ReplyThenStall(b) => {
                    let _ = s.write_all(&b);
                    while matches!(s.read(&mut chunk), Ok(n) if n > 0) {}
                    return;
                }
                Act::Endless { head, chunk } => {
                    if s.write_all(&head).is_err() {
                        return;
                    }
                    while s.write_all(&chunk).is_ok() {}
                    return;
                }
                Act::Close => return,
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
