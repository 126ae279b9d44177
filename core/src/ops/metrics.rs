//! Prometheus text-format metrics for node-exporter's textfile collector.
//! Several commands (check, backup, restore) write the same file: each
//! replaces only its own metric families and keeps the others.

/// One gauge with its help text and samples (labels, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// Metric name, e.g. `kubectl_redis_backup_newest_age_seconds`.
    pub name: &'static str,
    /// `# HELP` text.
    pub help: &'static str,
    /// Samples: label pairs and the value.
    pub samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Gauge {
    /// A gauge with one sample.
    pub fn one(
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        v: f64,
    ) -> Gauge {
        Gauge {
            name,
            help,
            samples: vec![(labels, v)],
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render_one(g: &Gauge, out: &mut String) {
    out.push_str(&format!(
        "# HELP {} {}\n# TYPE {} gauge\n",
        g.name, g.help, g.name
    ));
    for (labels, v) in &g.samples {
        out.push_str(g.name);
        if !labels.is_empty() {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            out.push('{');
            out.push_str(&l.join(","));
            out.push('}');
        }
        let value = if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{}", *v as i64)
        } else {
            format!("{v}")
        };
        out.push(' ');
        out.push_str(&value);
        out.push('\n');
    }
}

/// `existing` (a metrics file's text, possibly empty) with `gauges`' families
/// replaced or added; other families are kept as they were.
pub fn merge(existing: &str, gauges: &[Gauge]) -> String {
    let ours = |line: &str| {
        let name = line
            .strip_prefix("# HELP ")
            .or_else(|| line.strip_prefix("# TYPE "))
            .unwrap_or(line);
        let name = name.split([' ', '{']).next().unwrap_or("");
        gauges.iter().any(|g| g.name == name)
    };
    let mut out: String = existing
        .lines()
        .filter(|l| !l.trim().is_empty() && !ours(l))
        .map(|l| format!("{l}\n"))
        .collect();
    for g in gauges {
        render_one(g, &mut out);
    }
    out
}
