//! Everything printed to the user: progress on stderr, results on stdout.

use crate::args::{ColorWhen, UiArgs};
use kubectl_redis_core::backup::Line;
use kubectl_redis_core::human;
use owo_colors::{OwoColorize, Stream};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Ui {
    pub verbose: bool,
    /// stderr is a terminal: live progress may redraw a line.
    pub live: bool,
}

impl Ui {
    pub fn new(args: &UiArgs) -> Self {
        match args.color {
            ColorWhen::Always => owo_colors::set_override(true),
            ColorWhen::Never => owo_colors::set_override(false),
            ColorWhen::Auto => {
                if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                    owo_colors::set_override(false);
                }
            }
        }
        Ui {
            verbose: args.verbose,
            live: std::io::stderr().is_terminal(),
        }
    }

    /// A progress line of a command (`prefix` is `backup`, `restore`, ...).
    pub fn line(&self, prefix: &str, line: &Line) {
        let text = match line {
            Line::Step(s) => format!(
                "{} {s}",
                format!("[{prefix}]").if_supports_color(Stream::Stderr, |t| t.cyan())
            ),
            Line::Detail(s) => format!("  {s}"),
            Line::Plain(s) => s.clone(),
            Line::Warn(s) => format!(
                "{} {}",
                format!("[{prefix}]").if_supports_color(Stream::Stderr, |t| t.cyan()),
                format!("warning: {s}").if_supports_color(Stream::Stderr, |t| t.yellow())
            ),
        };
        eprintln!("{text}");
    }

    pub fn trace(&self, what: &str) {
        if self.verbose {
            eprintln!(
                "{}",
                format!("  · {what}").if_supports_color(Stream::Stderr, |t| t.dimmed())
            );
        }
    }

    pub fn note(&self, s: &str) {
        eprintln!("{}", s.if_supports_color(Stream::Stderr, |t| t.dimmed()));
    }

    /// `warning: ...` in yellow, outside any job's prefix.
    pub fn warn(&self, s: &str) {
        warning(s);
    }

    /// `error: message` and, when known, `  hint: what to do`.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        eprintln!(
            "{} {message}",
            "error:".if_supports_color(Stream::Stderr, |t| t.red())
        );
        if let Some(h) = hint {
            eprintln!(
                "  {} {h}",
                "hint:".if_supports_color(Stream::Stderr, |t| t.green())
            );
        }
    }
}

/// A byte counter that redraws one stderr line at most every 200 ms, only on
/// a terminal.
pub struct Progress<'a> {
    ui: &'a Ui,
    label: String,
    total: Option<u64>,
    start: Instant,
    last: Instant,
    drawn: bool,
}

impl<'a> Progress<'a> {
    pub fn new(ui: &'a Ui, label: &str) -> Self {
        let now = Instant::now();
        Progress {
            ui,
            label: label.to_string(),
            total: None,
            start: now,
            last: now,
            drawn: false,
        }
    }

    pub fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }

    pub fn update(&mut self, done: u64) {
        if !self.ui.live || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        self.drawn = true;
        let rate = done as f64 / self.start.elapsed().as_secs_f64().max(0.001);
        let of = match self.total {
            Some(t) if t > 0 => format!(
                " / {} ({}%)",
                human::bytes(t),
                (done.saturating_mul(100) / t).min(100)
            ),
            _ => String::new(),
        };
        eprint!(
            "\r\x1b[K  {} {}{of}  {}/s",
            self.label,
            human::bytes(done),
            human::bytes(rate as u64)
        );
        let _ = std::io::stderr().flush();
    }

    pub fn finish(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[K");
            let _ = std::io::stderr().flush();
        }
    }
}

pub fn flush() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// `warning: ...` on stderr, where no [`Ui`] is at hand.
pub fn warning(s: &str) {
    eprintln!(
        "{}",
        format!("warning: {s}").if_supports_color(Stream::Stderr, |t| t.yellow())
    );
}
