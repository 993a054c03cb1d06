//! `--format` as podman reads it: `json`, or a Go template ([`crate::template`]'s subset:
//! fields, `range`/`if`/`with`, pipes and podman's common functions), with a `table` prefix
//! for aligned columns under a header, `\t` and `\n` escapes. Values print as Go prints them
//! (`true`, `map[k:v]`, `[a b]`, `<nil>`). Tables are aligned as podman's tabwriter does:
//! each column at least 12 wide, two spaces of padding.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;

use crate::run::CliError;
use crate::template::{self, Node, Tree};

/// How a list or an object is printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Pretty JSON (`--format json` or `{{json .}}`).
    Json,
    /// A template, applied to each row.
    Template(Template),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// `table ...`: columns aligned, a header row.
    table: bool,
    tree: Tree,
}

/// Column minimum width and padding of podman's tabwriter.
const MIN_WIDTH: usize = 12;
const PADDING: usize = 2;

impl Format {
    /// Parses `--format`; `None` is `default` (a table template of the command).
    pub fn parse(given: Option<&str>, default: &str) -> Result<Format, CliError> {
        let text = given.unwrap_or(default);
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if text.trim() == "json" || compact == "{{json.}}" {
            return Ok(Format::Json);
        }
        Template::parse(text).map(Format::Template)
    }
}

impl Template {
    fn parse(text: &str) -> Result<Template, CliError> {
        let (table, body) = match text.strip_prefix("table") {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => (true, rest.trim_start()),
            _ => (false, text),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut tree = template::parse(&body).map_err(|why| CliError::Argument {
            what: "--format",
            value: text.to_string(),
            why,
        })?;
        if table {
            // podman's table formats separate columns by spaces too
            columns_at_spaces(&mut tree.nodes);
        }
        Ok(Template { table, tree })
    }

    /// Prints `rows` (objects keyed by podman's Go field names); `header` names a column
    /// for fields whose header is not derived from the name (`ID`: `NETWORK ID`).
    pub fn render(
        &self,
        rows: &[Value],
        headers: &BTreeMap<&str, &str>,
        with_header: bool,
    ) -> Result<String, CliError> {
        let mut lines = Vec::new();
        if self.table && with_header {
            lines.push(self.header(headers));
        }
        for row in rows {
            lines.push(template::execute(&self.tree, row).map_err(CliError::Template)?);
        }
        let mut out = if self.table {
            align(&lines)
        } else {
            lines.join("\n")
        };
        if !out.ends_with('\n') && !lines.is_empty() {
            out.push('\n');
        }
        Ok(out)
    }

    /// The header row, made as podman makes it: the template run over a row whose every
    /// field holds its header, the field's name in words (`{{.DNSEnabled}}`: `DNS ENABLED`)
    /// unless `headers` names it; so `{{if .Internal}} (internal){{end}}` heads its column
    /// ` (internal)` and `{{.Driver | upper}}` heads it `DRIVER`.
    fn header(&self, headers: &BTreeMap<&str, &str>) -> String {
        let mut names = Vec::new();
        template::top_fields(&self.tree.nodes, &mut names);
        let row: serde_json::Map<String, Value> = names
            .into_iter()
            .map(|name| {
                let header = match headers.get(name.as_str()) {
                    Some(h) => h.to_string(),
                    None => camel_words(&name).join(" ").to_uppercase(),
                };
                (name, Value::String(header))
            })
            .collect();
        // a header of a nested field (`.A.B`) cannot be made this way: podman errors; an
        // empty header row is kinder
        template::execute(&self.tree, &Value::Object(row)).unwrap_or_default()
    }
}

fn columns_at_spaces(nodes: &mut [Node]) {
    for node in nodes {
        match node {
            Node::Text(t) => *t = t.replace(' ', "\t"),
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                columns_at_spaces(&mut b.body);
                columns_at_spaces(&mut b.otherwise);
            }
            Node::Action(_) => {}
        }
    }
}

/// Go's `camelcase.Split`, which podman's headers come from (`DNSEnabled`: `DNS Enabled`).
fn camel_words(name: &str) -> Vec<String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Lower,
        Upper,
        Digit,
        Other,
    }
    let class = |c: char| match c {
        c if c.is_lowercase() => Class::Lower,
        c if c.is_uppercase() => Class::Upper,
        c if c.is_ascii_digit() => Class::Digit,
        _ => Class::Other,
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = None;
    for c in name.chars() {
        let k = class(c);
        match runs.last_mut() {
            Some(run) if last == Some(k) => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = Some(k);
    }
    // an upper-case run followed by a lower-case one gives its last letter to it
    for i in 0..runs.len().saturating_sub(1) {
        let upper = runs[i].first().is_some_and(|c| c.is_uppercase());
        let next_lower = runs[i + 1].first().is_some_and(|c| c.is_lowercase());
        if upper && next_lower {
            if let Some(c) = runs[i].pop() {
                runs[i + 1].insert(0, c);
            }
        }
    }
    runs.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().collect())
        .collect()
}

/// Aligns tab-separated cells: every cell but a line's last is padded to its column's
/// width (widest cell plus padding, at least the minimum width).
fn align(lines: &[String]) -> String {
    let cells: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &cells {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            let want = (cell.chars().count() + PADDING).max(MIN_WIDTH);
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(want),
                None => widths.push(want),
            }
        }
    }
    let mut out = String::new();
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                out.push_str(&format!("{cell:<width$}", width = widths[i]));
            } else {
                out.push_str(cell.trim_end());
            }
        }
        out.push('\n');
    }
    out
}

/// Prints `podnet: error:`, the error and its causes on one line to stderr (a cause an
/// error already states in its own message is not repeated).
pub fn error_line(error: &dyn std::error::Error) {
    // one line, whatever the input held
    let line = podnet::error_chain(error).replace(['\n', '\r'], " ");
    eprintln!("podnet: error: {line}");
}

/// Writes `text` to stdout; a closed pipe (`podnet ps | head`) is not an error of ours.
pub fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Value> {
        vec![
            json!({"Name": "pnta", "ID": "3bf459dedc79", "Driver": "bridge", "Labels": "a=b", "Internal": false}),
            json!({"Name": "pntlongername", "ID": "d794fbdfd45f", "Driver": "bridge", "Labels": "", "Internal": false}),
        ]
    }

    fn render(format: &str, header: bool) -> String {
        let headers = BTreeMap::from([("ID", "NETWORK ID")]);
        match Format::parse(Some(format), "").unwrap() {
            Format::Template(t) => t.render(&rows(), &headers, header).unwrap(),
            Format::Json => "JSON".into(),
        }
    }

    #[test]
    fn tables_align_as_podman_43_prints_them() {
        // captured from podman 4.3 `network ls` for the same networks
        assert_eq!(
            render("table {{.Name}}\\t{{.Labels}} x{{.Internal}}", true),
            "NAME           LABELS      xINTERNAL\n\
             pnta           a=b         xfalse\n\
             pntlongername              xfalse\n"
        );
        assert_eq!(
            render("table {{.ID}}\\t{{.Name}}\\t{{.Driver}}", false),
            "3bf459dedc79  pnta           bridge\nd794fbdfd45f  pntlongername  bridge\n"
        );
    }

    #[test]
    fn plain_templates_json_and_headers() {
        assert_eq!(
            render("{{.Name}}\\t{{.Driver}}", true),
            "pnta\tbridge\npntlongername\tbridge\n"
        );
        assert_eq!(
            render("{{.Name}} {{json .Labels}}", true),
            "pnta \"a=b\"\npntlongername \"\"\n"
        );
        assert_eq!(render("json", true), "JSON");
        assert_eq!(render("{{ json . }}", true), "JSON");
        assert_eq!(
            template::go_print(&json!({"a": "b", "c": ["d", true]})),
            "map[a:b c:[d true]]"
        );
        for (name, want) in [
            ("IPv6Enabled", "I PV 6 ENABLED"),
            ("DNSEnabled", "DNS ENABLED"),
            ("NetworkInterface", "NETWORK INTERFACE"),
        ] {
            assert_eq!(camel_words(name).join(" ").to_uppercase(), want);
        }
    }

    #[test]
    fn bad_templates_are_one_line_errors() {
        assert!(Format::parse(Some("{{.Name"), "").is_err());
        assert!(Format::parse(Some("{{range .}}"), "").is_err());
        assert!(Format::parse(Some("{{sprintf .Name}}"), "").is_err());
        let t = match Format::parse(Some("{{.Nope}}"), "").unwrap() {
            Format::Template(t) => t,
            Format::Json => unreachable!(),
        };
        let err = t.render(&rows(), &BTreeMap::new(), true).unwrap_err();
        assert!(err.to_string().contains("Nope"), "{err}");
    }
}
