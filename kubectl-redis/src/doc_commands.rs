//! Every `kubectl redis ...` command line in the README and `docs/` parses
//! with the real clap parser, so the documentation cannot drift from the
//! flags. Test-only.

use std::path::{Path, PathBuf};

/// The documentation files: the README and every page under `docs/`.
fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    let mut all = vec![root.join("README.md")];
    all.extend(docs);
    all
}

/// The command lines of a page, with their line numbers and whether they
/// are in a fenced code block: there, each line holding `kubectl redis ` (a
/// `$ ` prompt and lines continued with `\` joined); in prose, each inline
/// code span starting with it. Placeholders for any subcommand (`kubectl
/// redis COMMAND`) are not command lines.
fn command_lines(text: &str) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            if let Some((at, mut acc)) = pending.take() {
                acc.push(' ');
                acc.push_str(line.trim());
                match acc.strip_suffix('\\') {
                    Some(more) => pending = Some((at, more.to_string())),
                    None => out.push((at, acc, true)),
                }
                continue;
            }
            if let Some(p) = line.find("kubectl redis ") {
                let cmd = line[p..].to_string();
                match cmd.strip_suffix('\\') {
                    Some(more) => pending = Some((n, more.to_string())),
                    None => out.push((n, cmd, true)),
                }
            }
            continue;
        }
        let mut rest = line;
        while let Some(a) = rest.find('`') {
            let Some(b) = rest[a + 1..].find('`') else {
                break;
            };
            let span = &rest[a + 1..a + 1 + b];
            if span.starts_with("kubectl redis ") {
                out.push((n, span.to_string(), false));
            }
            rest = &rest[a + 2 + b..];
        }
    }
    out.retain(|(_, c, _)| {
        c.split_whitespace()
            .nth(2)
            .is_none_or(|sub| sub.starts_with('-') || sub.chars().all(|ch| ch.is_ascii_lowercase()))
    });
    out
}

/// The words of a command line as a shell splits them, up to the first
/// unquoted comment, pipe, redirection, `;`, `&&` or `)`; `kubectl redis`
/// becomes the binary's name.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                has = true;
            }
            (None, '#') if !has => break,
            (None, '|' | '>' | '<' | ';' | ')' | '&') => break,
            (None, c) if c.is_whitespace() => {
                if has {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        words.push(cur);
    }
    if words.len() >= 2 && words[0] == "kubectl" && words[1] == "redis" {
        words.splice(0..2, ["kubectl-redis".to_string()]);
    }
    words
}

/// A command named in prose (`kubectl redis backup --url`, `kubectl redis
/// inspect FILE [--top N]`): its subcommands exist, and so does every flag
/// it names (values and placeholders are not checked).
fn names_exist(w: &[String]) -> Result<(), String> {
    let mut cmd = crate::cli::command();
    cmd.build();
    let mut at = &cmd;
    for word in w.iter().skip(1) {
        let flag = word.trim_start_matches('[').trim_end_matches(']');
        let flag = flag.split('=').next().unwrap_or(flag);
        if let Some(long) = flag.strip_prefix("--") {
            if !at.get_arguments().any(|a| {
                a.get_long() == Some(long)
                    || a.get_visible_aliases().is_some_and(|v| v.contains(&long))
            }) {
                return Err(format!("{} has no flag --{long}", at.get_name()));
            }
        } else if let Some(short) = flag.strip_prefix('-').filter(|s| s.len() == 1) {
            let c = short.chars().next();
            if !at.get_arguments().any(|a| a.get_short() == c) {
                return Err(format!("{} has no flag -{short}", at.get_name()));
            }
        } else if let Some(sub) = at.find_subcommand(word) {
            at = sub;
        } else if at.has_subcommands() && at.get_positionals().next().is_none() {
            return Err(format!("{} has no subcommand {word}", at.get_name()));
        }
    }
    Ok(())
}

#[test]
fn every_documented_command_line_parses() {
    let mut checked = 0;
    let mut bad = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", page.display()));
        for (n, line, fenced) in command_lines(&text) {
            let w = words(&line);
            let parsed = if fenced {
                match crate::cli::command().try_get_matches_from(&w) {
                    Ok(_) => Ok(()),
                    Err(e)
                        if matches!(
                            e.kind(),
                            clap::error::ErrorKind::DisplayHelp
                                | clap::error::ErrorKind::DisplayVersion
                        ) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(e.to_string().lines().next().unwrap_or_default().to_string()),
                }
            } else {
                names_exist(&w)
            };
            match parsed {
                Ok(()) => checked += 1,
                Err(e) => bad.push(format!("{}:{n}: {line}\n    {e}", page.display())),
            }
        }
    }
    assert!(
        bad.is_empty(),
        "command lines that do not parse:\n{}",
        bad.join("\n")
    );
    assert!(checked > 50, "only {checked} command lines found");
}

/// A flag or subcommand that does not exist is caught in prose too.
#[test]
fn prose_names_only_flags_that_exist() {
    let w = |s: &str| words(s);
    assert_eq!(names_exist(&w("kubectl redis backup --url")), Ok(()));
    assert_eq!(
        names_exist(&w("kubectl redis inspect FILE [--top N] [-o json]")),
        Ok(())
    );
    assert_eq!(
        names_exist(&w("kubectl redis repo init URL --encrypt-to X")),
        Ok(())
    );
    assert!(names_exist(&w("kubectl redis backup --no-such-flag")).is_err());
    assert!(names_exist(&w("kubectl redis repo nope")).is_err());
}

#[test]
fn command_lines_are_read_as_a_shell_would() {
    let page = "Run `kubectl redis list -o json` or `kubectl redis COMMAND --help`.\n```console\n$ kubectl redis backup -n prod \\\n    --pod redis-0   # a named pod\nsource <(kubectl redis completion bash)\n```\n";
    let lines = command_lines(page);
    let got: Vec<Vec<String>> = lines.iter().map(|(_, l, _)| words(l)).collect();
    assert_eq!(
        got,
        vec![
            vec!["kubectl-redis", "list", "-o", "json"],
            vec!["kubectl-redis", "backup", "-n", "prod", "--pod", "redis-0"],
            vec!["kubectl-redis", "completion", "bash"],
        ]
    );
    assert_eq!(
        lines.iter().map(|(n, _, f)| (*n, *f)).collect::<Vec<_>>(),
        [(1, false), (3, true), (5, true)]
    );
    assert_eq!(
        words("kubectl redis repo init s3://b/p --encrypt-to \"$(age-keygen -y k.txt)\" | jq ."),
        [
            "kubectl-redis",
            "repo",
            "init",
            "s3://b/p",
            "--encrypt-to",
            "$(age-keygen -y k.txt)"
        ]
    );
}
