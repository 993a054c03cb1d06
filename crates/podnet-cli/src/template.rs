//! The Go `text/template` subset podman's and docker's docs and users' scripts use, over
//! JSON values: fields (`.A.B`, `.`, `$`), variables (`{{$x := ...}}`, `{{range $k, $v :=
//! ...}}`, `$x.A`), `range`/`if`/`with` with `else` and `end`, pipes, parentheses, string
//! and number literals, `{{-`/`-}}` trimming, and the functions
//! `json`, `index`, `len`, `join`, `upper`, `lower`, `title`, `truncate`, `eq`, `ne`, `not`,
//! `and`, `or`. So `{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}` and
//! `{{(index .NetworkSettings.Networks "podman").IPAddress}}` work as under podman.
//!
//! A field is looked up by its exact name first, then ignoring case and `_`, because podman's
//! Go structs name as `LeaseRange` what the JSON podnet holds names `lease_range`.

use serde_json::Value;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Text(String),
    Action(Pipeline),
    If(Branch),
    With(Branch),
    Range(Branch),
}

/// `if`/`with`/`range`: the pipeline, its body and the `else` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub pipeline: Pipeline,
    pub body: Vec<Node>,
    pub otherwise: Vec<Node>,
}

/// Commands joined by `|`: each one's value is the last argument of the next; `decl` names
/// the variables it declares (`$x :=`; `range` may declare two: `$k, $v :=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub decl: Vec<String>,
    pub commands: Vec<Vec<Arg>>,
}

/// An operand of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `.A.B` (empty: `.`).
    Field(Vec<String>),
    /// `$x.A.B`: a variable and a path in it; the variable `$` (named "") is the whole
    /// object.
    Var(String, Vec<String>),
    Str(String),
    Int(i64),
    Bool(bool),
    Nil,
    /// A function's name.
    Func(String),
    /// `(pipeline).A.B`.
    Paren(Box<Pipeline>, Vec<String>),
}

const FUNCTIONS: &[&str] = &[
    "json", "index", "len", "join", "upper", "lower", "title", "truncate", "printf", "eq", "ne",
    "not", "and", "or",
];

/// The first names of the field paths in `nodes` (`Name` of `.Name.X`), each once.
pub fn top_fields(nodes: &[Node], out: &mut Vec<String>) {
    fn pipeline(p: &Pipeline, out: &mut Vec<String>) {
        for arg in p.commands.iter().flatten() {
            match arg {
                Arg::Field(path) | Arg::Var(_, path) => {
                    if let Some(first) = path.first() {
                        if !out.contains(first) {
                            out.push(first.clone());
                        }
                    }
                }
                Arg::Paren(inner, _) => pipeline(inner, out),
                _ => {}
            }
        }
    }
    for node in nodes {
        match node {
            Node::Text(_) => {}
            Node::Action(p) => pipeline(p, out),
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                pipeline(&b.pipeline, out);
                top_fields(&b.body, out);
                top_fields(&b.otherwise, out);
            }
        }
    }
}

/// Parses template text (the `table` prefix and escapes already handled).
pub fn parse(text: &str) -> Result<Tree, String> {
    let segments = segments(text)?;
    let mut parser = Parser { segments, at: 0 };
    let (nodes, stop) = parser.nodes()?;
    match stop {
        None => Ok(Tree { nodes }),
        Some(word) => Err(format!("unexpected {{{{{word}}}}}")),
    }
}

enum Segment {
    Text(String),
    Action(String),
}

/// Splits text into literal text and the insides of `{{ }}`, applying `{{-` and `-}}`.
fn segments(text: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut literal = &rest[..start];
        if trim_next {
            literal = literal.trim_start();
        }
        let after = &rest[start + 2..];
        let trim_before = after.starts_with("- ") || after.starts_with("-\t");
        if trim_before {
            literal = literal.trim_end();
        }
        if !literal.is_empty() {
            out.push(Segment::Text(literal.to_string()));
        }
        let end = closing(after).ok_or_else(|| "unclosed {{".to_string())?;
        let mut inner = &after[..end];
        if trim_before {
            inner = &inner[1..];
        }
        trim_next = inner.ends_with(" -") || inner.ends_with("\t-");
        if trim_next {
            inner = &inner[..inner.len() - 1];
        }
        out.push(Segment::Action(inner.trim().to_string()));
        rest = &after[end + 2..];
    }
    let literal = if trim_next { rest.trim_start() } else { rest };
    if !literal.is_empty() {
        out.push(Segment::Text(literal.to_string()));
    }
    Ok(out)
}

/// Where `}}` closes an action, skipping quoted strings that may hold one.
fn closing(action: &str) -> Option<usize> {
    let bytes = action.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == b'\\' && q == b'"' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'`' => quote = Some(b),
            None if bytes[i..].starts_with(b"}}") => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

struct Parser {
    segments: Vec<Segment>,
    at: usize,
}

impl Parser {
    /// Nodes up to the end of the text or an `else`/`end`, which is returned.
    fn nodes(&mut self) -> Result<(Vec<Node>, Option<String>), String> {
        let mut nodes = Vec::new();
        while let Some(segment) = self.segments.get(self.at) {
            self.at += 1;
            let action = match segment {
                Segment::Text(t) => {
                    nodes.push(Node::Text(t.clone()));
                    continue;
                }
                Segment::Action(a) => a.clone(),
            };
            let (word, rest) = match action.split_once(char::is_whitespace) {
                Some((w, r)) => (w, r.trim()),
                None => (action.as_str(), ""),
            };
            match word {
                "else" if rest.starts_with("if ") => {
                    return Ok((nodes, Some(format!("else {rest}"))))
                }
                "end" | "else" if !rest.is_empty() => {
                    return Err(format!("unsupported template action {{{{{action}}}}}"))
                }
                "end" | "else" => return Ok((nodes, Some(word.to_string()))),
                "if" | "with" | "range" => {
                    let branch = self.branch(&action, rest)?;
                    if branch.pipeline.decl.len() > 1 && word != "range" {
                        return Err(format!(
                            "{{{{{action}}}}}: only range declares two variables"
                        ));
                    }
                    nodes.push(match word {
                        "if" => Node::If(branch),
                        "with" => Node::With(branch),
                        _ => Node::Range(branch),
                    });
                }
                "" => return Err("empty action {{}}".into()),
                _ => {
                    let p = pipeline(&action)?;
                    if p.decl.len() > 1 {
                        return Err(format!(
                            "{{{{{action}}}}}: only range declares two variables"
                        ));
                    }
                    nodes.push(Node::Action(p));
                }
            }
        }
        Ok((nodes, None))
    }

    fn branch(&mut self, action: &str, rest: &str) -> Result<Branch, String> {
        let pipeline = pipeline(rest)?;
        let unclosed = || format!("{{{{{action}}}}} has no {{{{end}}}}");
        let (body, stop) = self.nodes()?;
        let otherwise = match stop.as_deref() {
            Some("end") => Vec::new(),
            // `{{else if C}}` opens an `if` that shares this one's `{{end}}`
            Some(chained) if chained.starts_with("else if ") => {
                let condition = &chained["else if ".len()..];
                vec![Node::If(self.branch(chained, condition)?)]
            }
            Some(_) => match self.nodes()? {
                (otherwise, Some(end)) if end == "end" => otherwise,
                (_, Some(_)) => return Err(format!("{{{{{action}}}}} has two {{{{else}}}}")),
                (_, None) => return Err(unclosed()),
            },
            None => return Err(unclosed()),
        };
        Ok(Branch {
            pipeline,
            body,
            otherwise,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A field, variable or literal: an operand as it stands.
    Operand(Arg),
    Word(String),
    Pipe,
    Open,
    /// `)` and the fields that follow it.
    Close(Vec<String>),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word_end = |from: usize| {
        let mut j = from;
        while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '.')
        {
            j += 1;
        }
        j
    };
    let path = |s: &str| -> Vec<String> {
        s.split('.')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '|' => {
                out.push(Token::Pipe);
                i += 1;
            }
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                let j = word_end(i + 1);
                let fields: String = chars[i + 1..j].iter().collect();
                if !fields.is_empty() && !fields.starts_with('.') {
                    return Err(format!("unexpected {fields:?} after )"));
                }
                out.push(Token::Close(path(&fields)));
                i = j;
            }
            '.' | '$' => {
                let j = word_end(i + 1);
                let text: String = chars[i + 1..j].iter().collect();
                if c == '$' {
                    let (name, rest) = text.split_once('.').unwrap_or((&text, ""));
                    out.push(Token::Operand(Arg::Var(name.to_string(), path(rest))));
                } else {
                    out.push(Token::Operand(Arg::Field(path(&text))));
                }
                i = j;
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => {
                            s.push(match chars.get(j + 1) {
                                Some('n') => '\n',
                                Some('t') => '\t',
                                Some(&other) => other,
                                None => return Err("unterminated string".into()),
                            });
                            j += 2;
                        }
                        Some(&other) => {
                            s.push(other);
                            j += 1;
                        }
                    }
                }
                out.push(Token::Operand(Arg::Str(s)));
                i = j + 1;
            }
            '`' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&ch| ch == '`')
                    .ok_or_else(|| "unterminated raw string".to_string())?;
                out.push(Token::Operand(Arg::Str(
                    chars[i + 1..i + 1 + close].iter().collect(),
                )));
                i += close + 2;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let n = text.parse().map_err(|_| format!("bad number {text:?}"))?;
                out.push(Token::Operand(Arg::Int(n)));
                i = j;
            }
            c if c.is_alphabetic() => {
                let j = word_end(i);
                out.push(Token::Word(chars[i..j].iter().collect()));
                i = j;
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    Ok(out)
}

fn pipeline(text: &str) -> Result<Pipeline, String> {
    let (decl, body) = declaration(text);
    let tokens = tokens(body).map_err(|why| format!("in {{{{{text}}}}}: {why}"))?;
    let mut at = 0;
    let mut p = parse_pipeline(&tokens, &mut at)
        .map_err(|why| format!("unsupported template action {{{{{text}}}}}: {why}"))?;
    if at != tokens.len() {
        return Err(format!(
            "unsupported template action {{{{{text}}}}}: unbalanced )"
        ));
    }
    p.decl = decl;
    Ok(p)
}

/// `$a := rest` or `$a, $b := rest`: the declared names and `rest`; else no names and the
/// whole text.
fn declaration(text: &str) -> (Vec<String>, &str) {
    let Some((left, rest)) = text.split_once(":=") else {
        return (Vec::new(), text);
    };
    let names: Option<Vec<String>> = left
        .split(',')
        .map(|v| {
            let name = v.trim().strip_prefix('$')?;
            let ok = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            ok.then(|| name.to_string())
        })
        .collect();
    match names {
        Some(names) if names.len() <= 2 => (names, rest.trim()),
        // not a declaration: the tokenizer names what is wrong
        _ => (Vec::new(), text),
    }
}

fn parse_pipeline(tokens: &[Token], at: &mut usize) -> Result<Pipeline, String> {
    let mut commands = Vec::new();
    let mut args = Vec::new();
    while let Some(token) = tokens.get(*at) {
        *at += 1;
        match token {
            Token::Close(_) => {
                *at -= 1;
                break;
            }
            Token::Pipe => {
                if args.is_empty() {
                    return Err("empty command before |".into());
                }
                commands.push(std::mem::take(&mut args));
            }
            Token::Operand(arg) => args.push(arg.clone()),
            Token::Word(w) => args.push(match w.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                f if FUNCTIONS.contains(&f) => Arg::Func(f.to_string()),
                other => {
                    return Err(format!(
                        "function {other:?} is not supported (podnet has {})",
                        FUNCTIONS.join(", ")
                    ))
                }
            }),
            Token::Open => {
                let inner = parse_pipeline(tokens, at)?;
                match tokens.get(*at) {
                    Some(Token::Close(fields)) => {
                        *at += 1;
                        args.push(Arg::Paren(Box::new(inner), fields.clone()));
                    }
                    _ => return Err("unclosed (".into()),
                }
            }
        }
    }
    if args.is_empty() {
        return Err("empty command".into());
    }
    commands.push(args);
    for cmd in commands.iter().skip(1) {
        if !matches!(cmd.first(), Some(Arg::Func(_))) {
            return Err("only a function can follow |".into());
        }
    }
    Ok(Pipeline {
        decl: Vec::new(),
        commands,
    })
}

/// Renders `tree` with `dot` as `.` and `$`.
pub fn execute(tree: &Tree, dot: &Value) -> Result<String, String> {
    let mut out = String::new();
    let mut exec = Exec {
        vars: vec![(String::new(), dot.clone())],
    };
    exec.nodes(&tree.nodes, dot, &mut out)?;
    Ok(out)
}

/// The variables in scope, innermost last; `$` (named "") first.
struct Exec {
    vars: Vec<(String, Value)>,
}

impl Exec {
    /// Runs `nodes`; a variable declared among them goes out of scope at their end (Go: at
    /// the `end` of the enclosing `if`, `with` or `range`).
    fn nodes(&mut self, nodes: &[Node], dot: &Value, out: &mut String) -> Result<(), String> {
        let scope = self.vars.len();
        let done = self.each_node(nodes, dot, out);
        self.vars.truncate(scope);
        done
    }

    fn each_node(&mut self, nodes: &[Node], dot: &Value, out: &mut String) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => {
                    let value = self.pipeline(p, dot)?;
                    // a declaration prints nothing
                    if !self.declare(&p.decl, None, &value) {
                        out.push_str(&go_print(&value));
                    }
                }
                Node::If(b) => {
                    let scope = self.vars.len();
                    let value = self.pipeline(&b.pipeline, dot)?;
                    self.declare(&b.pipeline.decl, None, &value);
                    let body = if truth(&value) { &b.body } else { &b.otherwise };
                    let done = self.nodes(body, dot, out);
                    self.vars.truncate(scope);
                    done?;
                }
                Node::With(b) => {
                    let scope = self.vars.len();
                    let value = self.pipeline(&b.pipeline, dot)?;
                    self.declare(&b.pipeline.decl, None, &value);
                    let done = if truth(&value) {
                        self.nodes(&b.body, &value, out)
                    } else {
                        self.nodes(&b.otherwise, dot, out)
                    };
                    self.vars.truncate(scope);
                    done?;
                }
                Node::Range(b) => {
                    let items: Vec<(Value, Value)> = match self.pipeline(&b.pipeline, dot)? {
                        Value::Array(items) => items
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Value::from(i), v))
                            .collect(),
                        // Go ranges over a map in key order
                        Value::Object(map) => {
                            let mut entries: Vec<_> = map.into_iter().collect();
                            entries.sort_by(|a, b| a.0.cmp(&b.0));
                            entries
                                .into_iter()
                                .map(|(k, v)| (Value::String(k), v))
                                .collect()
                        }
                        Value::Null => Vec::new(),
                        other => {
                            return Err(format!("range can't iterate over {}", go_print(&other)))
                        }
                    };
                    if items.is_empty() {
                        self.nodes(&b.otherwise, dot, out)?;
                    }
                    for (key, item) in &items {
                        let scope = self.vars.len();
                        self.declare(&b.pipeline.decl, Some(key), item);
                        let done = self.nodes(&b.body, item, out);
                        self.vars.truncate(scope);
                        done?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Declares `names` (none, `$v`, or `range`'s `$k, $v`); whether there were any.
    fn declare(&mut self, names: &[String], key: Option<&Value>, value: &Value) -> bool {
        match (names, key) {
            ([], _) => return false,
            ([k, v], Some(key)) => {
                self.vars.push((k.clone(), key.clone()));
                self.vars.push((v.clone(), value.clone()));
            }
            ([v, ..], _) => self.vars.push((v.clone(), value.clone())),
        }
        true
    }

    fn pipeline(&self, p: &Pipeline, dot: &Value) -> Result<Value, String> {
        let mut last: Option<Value> = None;
        for cmd in &p.commands {
            last = Some(self.command(cmd, dot, last.take())?);
        }
        Ok(last.unwrap_or(Value::Null))
    }

    fn command(&self, cmd: &[Arg], dot: &Value, piped: Option<Value>) -> Result<Value, String> {
        match cmd {
            [Arg::Func(name), rest @ ..] => {
                let mut args = rest
                    .iter()
                    .map(|a| self.arg(a, dot))
                    .collect::<Result<Vec<_>, _>>()?;
                args.extend(piped);
                call(name, &args)
            }
            [single] => self.arg(single, dot),
            _ => Err("a command of several operands must start with a function".into()),
        }
    }

    fn arg(&self, arg: &Arg, dot: &Value) -> Result<Value, String> {
        match arg {
            Arg::Field(path) => lookup(dot, path),
            Arg::Var(name, path) => {
                let (_, value) = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| format!("undefined variable ${name}"))?;
                lookup(value, path)
            }
            Arg::Str(s) => Ok(Value::String(s.clone())),
            Arg::Int(n) => Ok(Value::from(*n)),
            Arg::Bool(b) => Ok(Value::Bool(*b)),
            Arg::Nil => Ok(Value::Null),
            Arg::Func(name) => call(name, &[]),
            Arg::Paren(p, path) => lookup(&self.pipeline(p, dot)?, path),
        }
    }
}

/// `.A.B` from `value`: by exact name, else ignoring case and underscores.
pub fn lookup(value: &Value, path: &[String]) -> Result<Value, String> {
    let mut value = value;
    for name in path {
        let map = value
            .as_object()
            .ok_or_else(|| format!("can't evaluate field {name} in {}", go_print(value)))?;
        let loose = |k: &str| k.replace('_', "").eq_ignore_ascii_case(name);
        value = map
            .get(name)
            .or_else(|| map.iter().find(|(k, _)| loose(k)).map(|(_, v)| v))
            .ok_or_else(|| format!("can't evaluate field {name}"))?;
    }
    Ok(value.clone())
}

fn truth(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let want = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!("{name} wants {n} argument(s), got {}", args.len()))
        }
    };
    let text = |v: &Value| go_print(v);
    Ok(match name {
        "json" => {
            want(1)?;
            Value::String(serde_json::to_string(&args[0]).map_err(|e| e.to_string())?)
        }
        "index" => {
            let (first, keys) = args.split_first().ok_or("index wants a value")?;
            let mut v = first.clone();
            for key in keys {
                v = match (&v, key) {
                    (Value::Array(items), Value::Number(n)) => n
                        .as_u64()
                        .and_then(|i| items.get(usize::try_from(i).ok()?))
                        .cloned()
                        .ok_or_else(|| format!("index {n} out of range"))?,
                    // podman's maps hold strings: a missing key is Go's zero value, ""
                    (Value::Object(map), Value::String(k)) => {
                        map.get(k).cloned().unwrap_or_else(|| Value::from(""))
                    }
                    (Value::Null, _) => Value::Null,
                    (v, k) => return Err(format!("can't index {} with {}", text(v), text(k))),
                };
            }
            v
        }
        "len" => {
            want(1)?;
            Value::from(match &args[0] {
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                Value::String(s) => s.len(),
                Value::Null => 0,
                other => return Err(format!("len of {}", text(other))),
            })
        }
        "join" => {
            want(2)?;
            let items = match &args[0] {
                Value::Array(a) => a.iter().map(text).collect::<Vec<_>>(),
                Value::Null => Vec::new(),
                other => vec![text(other)],
            };
            Value::String(items.join(&text(&args[1])))
        }
        "upper" | "lower" | "title" => {
            want(1)?;
            let s = text(&args[0]);
            Value::String(match name {
                "upper" => s.to_uppercase(),
                "lower" => s.to_lowercase(),
                _ => title(&s),
            })
        }
        "truncate" => {
            want(2)?;
            let n = args[1]
                .as_u64()
                .ok_or_else(|| format!("truncate wants a length, got {}", text(&args[1])))?;
            Value::String(text(&args[0]).chars().take(n as usize).collect())
        }
        "printf" => {
            let (format, values) = args.split_first().ok_or("printf wants a format")?;
            Value::String(printf(&text(format), values)?)
        }
        "eq" | "ne" => {
            want(2)?;
            Value::Bool((args[0] == args[1]) == (name == "eq"))
        }
        "not" => {
            want(1)?;
            Value::Bool(!truth(&args[0]))
        }
        // Go's and/or return the deciding operand, not a bool
        "and" => args
            .iter()
            .find(|v| !truth(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "or" => args
            .iter()
            .find(|v| truth(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        other => return Err(format!("function {other:?} is not supported")),
    })
}

/// Go's `printf` for the verbs templates use: `%s`, `%v`, `%d`, `%q`, with `-` and a width.
fn printf(format: &str, values: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut values = values.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let left = chars.next_if_eq(&'-').is_some();
        let mut width = 0usize;
        while let Some(d) = chars.next_if(char::is_ascii_digit) {
            width = width * 10 + d.to_digit(10).unwrap_or(0) as usize;
        }
        let verb = chars.next().ok_or("printf format ends in %")?;
        let value = values
            .next()
            .ok_or_else(|| format!("printf: %{verb} has no value"))?;
        let cell = match verb {
            's' | 'v' => go_print(value),
            'd' if value.is_i64() || value.is_u64() => go_print(value),
            'q' => serde_json::to_string(&go_print(value)).map_err(|e| e.to_string())?,
            other => {
                return Err(format!(
                    "printf verb %{other} is not supported (%s %v %d %q)"
                ))
            }
        };
        let pad = width.saturating_sub(cell.chars().count());
        if left {
            out.push_str(&cell);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&cell);
        }
    }
    Ok(out)
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

/// A value as Go's `fmt` prints it in a template.
pub fn go_print(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_print).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => format!(
            "map[{}]",
            map.iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(template: &str, dot: &Value) -> String {
        execute(&parse(template).unwrap(), dot).unwrap()
    }

    fn container() -> Value {
        json!({
            "Name": "web",
            "NetworkSettings": {
                "Networks": {
                    "podman": {"IPAddress": "10.88.0.5", "Aliases": ["web", "w"]},
                    "app": {"IPAddress": "10.89.0.7", "Aliases": []}
                }
            },
            "Subnets": [{"subnet": "10.89.0.0/24", "lease_range": {"start_ip": "10.89.0.10"}}],
        })
    }

    #[test]
    fn docker_and_podman_idioms() {
        let c = container();
        assert_eq!(
            run(
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                &c
            ),
            "10.89.0.7 10.88.0.5 "
        );
        assert_eq!(
            run(
                r#"{{(index .NetworkSettings.Networks "podman").IPAddress}}"#,
                &c
            ),
            "10.88.0.5"
        );
        assert_eq!(
            run(
                r#"{{index .NetworkSettings.Networks.podman.Aliases 1}}"#,
                &c
            ),
            "w"
        );
        assert_eq!(
            run(
                r#"{{join .NetworkSettings.Networks.podman.Aliases ","}}"#,
                &c
            ),
            "web,w"
        );
        assert_eq!(run("{{.Name | upper}}", &c), "WEB");
        assert_eq!(
            run(r#"{{printf "%-5s|%3d|%q" .Name (len .Subnets) .Name}}"#, &c),
            "web  |  1|\"web\""
        );
        assert_eq!(run("{{len .NetworkSettings.Networks}}", &c), "2");
        assert_eq!(
            run(
                "{{range .Subnets}}{{.Subnet}} from {{.LeaseRange.StartIP}}{{end}}",
                &c
            ),
            "10.89.0.0/24 from 10.89.0.10"
        );
        assert_eq!(
            run("{{json .Subnets}}", &c),
            r#"[{"subnet":"10.89.0.0/24","lease_range":{"start_ip":"10.89.0.10"}}]"#
        );
    }

    #[test]
    fn conditions_with_else_and_trimming() {
        let c = container();
        assert_eq!(
            run(r#"{{if eq .Name "web"}}yes{{else}}no{{end}}"#, &c),
            "yes"
        );
        assert_eq!(
            run(
                "{{with .NetworkSettings.Networks.app}}{{.IPAddress}}{{end}}",
                &c
            ),
            "10.89.0.7"
        );
        assert_eq!(
            run(
                "{{range .NetworkSettings.Networks.app.Aliases}}x{{else}}none{{end}}",
                &c
            ),
            "none"
        );
        assert_eq!(run("a  {{- .Name -}}  b", &c), "awebb");
        assert_eq!(
            run(
                r#"{{if eq .Name "db"}}db{{else if eq .Name "web"}}web{{else}}?{{end}}"#,
                &c
            ),
            "web"
        );
        assert_eq!(
            run("{{range .NetworkSettings.Networks}}{{$.Name}}{{end}}", &c),
            "webweb"
        );
        assert_eq!(run(r#"{{"}}"}}"#, &c), "}}");
        // variables: declared, in scope to the end of their block, `range`'s key and value
        assert_eq!(
            run(
                "{{range $net, $conf := .NetworkSettings.Networks}}{{$net}}={{$conf.IPAddress}} {{end}}",
                &c
            ),
            "app=10.89.0.7 podman=10.88.0.5 "
        );
        assert_eq!(
            run(
                "{{range $i, $a := .NetworkSettings.Networks.podman.Aliases}}{{$i}}:{{$a}} {{end}}",
                &c
            ),
            "0:web 1:w "
        );
        assert_eq!(
            run("{{$n := .Name}}{{with .Subnets}}{{$n}}{{end}}", &c),
            "web"
        );
        assert_eq!(
            run("{{range $v := .Subnets}}{{$v.Subnet}}{{end}}", &c),
            "10.89.0.0/24"
        );
        let err = execute(
            &parse("{{range .Subnets}}{{$x := 1}}{{end}}{{$x}}").unwrap(),
            &c,
        );
        assert!(err.unwrap_err().contains("undefined variable $x"));
    }

    #[test]
    fn what_it_cannot_do_is_named() {
        for (text, says) in [
            ("{{range .X}}", "no {{end}}"),
            ("{{end}}", "unexpected {{end}}"),
            ("{{sprintf \"%s\" .Name}}", "sprintf"),
            ("{{if $a, $b := .X}}{{end}}", "only range declares two"),
            ("{{$a, $b := .X}}", "only range declares two"),
            ("{{.Name", "unclosed"),
            ("{{(.Name}}", "unclosed ("),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        let err = execute(&parse("{{.Nope}}").unwrap(), &container()).unwrap_err();
        assert!(err.contains("Nope"), "{err}");
    }
}

/// Templates come from the command line: whatever the text, parsing and running it end in
/// output or one error, never a panic. Cases: `PODNET_FUZZ_CASES` (default 4000, as CI runs).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: testkit::fuzz_cases(),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// Text dense in the template's own syntax, plus any character.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("{{".to_string()),
            Just("}}".to_string()),
            Just("{{-".to_string()),
            Just("-}}".to_string()),
            Just(" ".to_string()),
            Just(".".to_string()),
            Just("$".to_string()),
            Just("|".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("\"".to_string()),
            Just("`".to_string()),
            Just("\\".to_string()),
            Just("-".to_string()),
            Just("7".to_string()),
            Just("Name".to_string()),
            Just("A".to_string()),
            prop::sample::select(FUNCTIONS.to_vec()).prop_map(str::to_string),
            prop::sample::select(vec!["range", "if", "with", "else", "end", "else if", ":="])
                .prop_map(str::to_string),
            any::<char>().prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text_parses_and_runs_or_errs(text in hostile()) {
            let dot = json!({"Name": "n", "A": {"Name": ["x", 1, null, true]}, "7": {}});
            if let Ok(tree) = parse(&text) {
                let _ = execute(&tree, &dot);
            }
        }
    }
}
