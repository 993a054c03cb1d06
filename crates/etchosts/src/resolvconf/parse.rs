//! resolv.conf reading with containers/common's exact rules. The Go code uses regular
//! expressions; each is emulated here by hand, byte for byte, with RE2's leftmost-first
//! choice (greedy parts take the most they can while the rest still matches):
//!
//! - `(?m)^nameserver\s+((127\.([0-9]{1,3}\.){2}[0-9]{1,3})|(::1)$)\s*\n*` (localhost)
//! - `(?m)^nameserver\s+IPV6\s*\n*` (any IPv6, when IPv6 is off)
//! - `(?m)^nameserver\s+IPV6%.*\s*\n*` (IPv6 with a zone, when IPv6 is on)
//! - `^\s*nameserver\s*((IPV4)|(IPV6))\s*$`, `^\s*search\s*(.*)$`, `^\s*options\s*(.*)$`
//!   per comment-stripped line, where `IPV6 = ([0-9A-Fa-f]{0,4}:){2,7}([0-9A-Fa-f]{0,4})(%\w+)?`
//!   and `IPV4` is four dotted blocks of `25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?`.
//!
//! `\s` is RE2's ASCII `[\t\n\f\r ]`; search and options values are split with Go's
//! `strings.Fields`. `domain` and `sortlist` (and every `options` line) are this crate's
//! additions: containers/common drops them.

use crate::fields::{go_fields, skip_re_space, trim_re_space_end, trim_re_space_start};

/// Lines of `content` split at `\n`, each cut at its first `#`.
fn lines(content: &[u8]) -> impl Iterator<Item = &[u8]> {
    content
        .split(|&b| b == b'\n')
        .map(|l| match l.iter().position(|&b| b == b'#') {
            Some(c) => &l[..c],
            None => l,
        })
}

fn count(s: &[u8], from: usize, class: impl Fn(u8) -> bool) -> usize {
    s.get(from..)
        .map_or(0, |t| t.iter().take_while(|&&b| class(b)).count())
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `^nameserver\s+` at `i`: the index after the white space.
fn nameserver_ws(s: &[u8], i: usize) -> Option<usize> {
    let j = i + s.get(i..)?.strip_prefix(b"nameserver").map(|_| 10)?;
    let k = skip_re_space(s, j);
    (k > j).then_some(k)
}

/// `([0-9A-Fa-f]{0,4}:){2,7}([0-9A-Fa-f]{0,4})` greedy at `p`: where it ends.
fn ipv6_body(s: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    let mut groups = 0;
    while groups < 7 {
        let h = count(s, q, |b| b.is_ascii_hexdigit());
        if h <= 4 && s.get(q + h) == Some(&b':') {
            q += h + 1;
            groups += 1;
        } else {
            break;
        }
    }
    if groups < 2 {
        return None;
    }
    Some(q + count(s, q, |b| b.is_ascii_hexdigit()).min(4))
}

fn match_localhost(s: &[u8], i: usize) -> Option<usize> {
    let p = nameserver_ws(s, i)?;
    if s[p..].starts_with(b"127.") {
        let mut q = p + 4;
        let mut ok = true;
        for _ in 0..2 {
            let n = count(s, q, |b| b.is_ascii_digit());
            if (1..=3).contains(&n) && s.get(q + n) == Some(&b'.') {
                q += n + 1;
            } else {
                ok = false;
                break;
            }
        }
        let n = count(s, q, |b| b.is_ascii_digit());
        if ok && n > 0 {
            return Some(skip_re_space(s, q + n.min(3)));
        }
    }
    if s[p..].starts_with(b"::1") {
        let e = p + 3;
        if e == s.len() || s[e] == b'\n' {
            return Some(skip_re_space(s, e));
        }
    }
    None
}

fn match_ipv6(s: &[u8], i: usize) -> Option<usize> {
    let mut q = ipv6_body(s, nameserver_ws(s, i)?)?;
    if s.get(q) == Some(&b'%') {
        let w = count(s, q + 1, is_word);
        if w > 0 {
            q += 1 + w;
        }
    }
    Some(skip_re_space(s, q))
}

fn match_ipv6_zone(s: &[u8], i: usize) -> Option<usize> {
    let q = ipv6_body(s, nameserver_ws(s, i)?)?;
    if s.get(q) != Some(&b'%') {
        return None;
    }
    let eol = s[q..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(s.len(), |n| q + n);
    Some(skip_re_space(s, eol))
}

/// Go's `Regexp.ReplaceAll(src, "")` for a `(?m)^`-anchored pattern.
fn remove_all(s: &[u8], matcher: fn(&[u8], usize) -> Option<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let (mut last, mut i) = (0, 0);
    while i < s.len() {
        if i == 0 || s[i - 1] == b'\n' {
            if let Some(end) = matcher(s, i) {
                out.extend_from_slice(&s[last..i]);
                last = end;
                i = end;
                continue;
            }
        }
        match s[i..].iter().position(|&b| b == b'\n') {
            Some(n) => i += n + 1,
            None => break,
        }
    }
    out.extend_from_slice(&s[last..]);
    out
}

/// containers/common's `filterResolvDNS` for a private network namespace: localhost
/// servers go, IPv6 ones too unless `ipv6`, zoned IPv6 ones always; when no server is
/// left, `fallback` lines are appended.
pub(crate) fn filter_private(content: &[u8], ipv6: bool, fallback: &[String]) -> Vec<u8> {
    let cleaned = remove_all(content, match_localhost);
    let mut cleaned = remove_all(&cleaned, if ipv6 { match_ipv6_zone } else { match_ipv6 });
    if nameservers(&cleaned).is_empty() && !fallback.is_empty() {
        tracing::info!(servers = ?fallback, "no usable nameserver left in resolv.conf; using the fallback servers");
        for ns in fallback {
            cleaned.extend_from_slice(b"\nnameserver ");
            cleaned.extend_from_slice(ns.as_bytes());
        }
    }
    cleaned
}

fn ipv4_block(b: &[u8]) -> bool {
    match b {
        [d] | [d, _] if d.is_ascii_digit() => b.iter().all(u8::is_ascii_digit),
        [b'0' | b'1', x, y] => x.is_ascii_digit() && y.is_ascii_digit(),
        [b'2', b'0'..=b'4', y] => y.is_ascii_digit(),
        [b'2', b'5', b'0'..=b'5'] => true,
        _ => false,
    }
}

fn is_ipv4_re(t: &[u8]) -> bool {
    let parts: Vec<&[u8]> = t.split(|&b| b == b'.').collect();
    parts.len() == 4 && parts.iter().all(|p| ipv4_block(p))
}

fn is_ipv6_re(t: &[u8]) -> bool {
    let (main, zone) = match t.iter().position(|&b| b == b'%') {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if zone.is_some_and(|z| z.is_empty() || !z.iter().all(|&b| is_word(b))) {
        return false;
    }
    let parts: Vec<&[u8]> = main.split(|&b| b == b':').collect();
    (3..=8).contains(&parts.len())
        && parts
            .iter()
            .all(|p| p.len() <= 4 && p.iter().all(u8::is_ascii_hexdigit))
}

/// Every `nameserver` address, in order.
pub(crate) fn nameservers(content: &[u8]) -> Vec<Vec<u8>> {
    lines(content)
        .filter_map(|l| {
            let rest = trim_re_space_start(l).strip_prefix(b"nameserver")?;
            let token = trim_re_space_end(trim_re_space_start(rest));
            (is_ipv4_re(token) || is_ipv6_re(token)).then(|| token.to_vec())
        })
        .collect()
}

/// Fields of each line starting (after white space) with `keyword`, Go-regex style:
/// nothing needs to separate the keyword from its value.
fn keyword_lines<'a>(
    content: &'a [u8],
    keyword: &'a [u8],
) -> impl Iterator<Item = Vec<Vec<u8>>> + 'a {
    lines(content).filter_map(move |l| {
        let rest = trim_re_space_start(l).strip_prefix(keyword)?;
        Some(go_fields(rest).into_iter().map(<[u8]>::to_vec).collect())
    })
}

/// The last `search` line's domains.
pub(crate) fn searches(content: &[u8]) -> Vec<Vec<u8>> {
    keyword_lines(content, b"search").last().unwrap_or_default()
}

/// The options of every `options` line, in order (containers/common keeps the last line).
pub(crate) fn options(content: &[u8]) -> Vec<Vec<u8>> {
    keyword_lines(content, b"options").flatten().collect()
}

/// Fields of the last line whose first field is exactly `keyword`.
fn last_exact(content: &[u8], keyword: &[u8]) -> Vec<Vec<u8>> {
    lines(content)
        .filter(|l| l.windows(keyword.len()).any(|w| w == keyword))
        .filter_map(|l| {
            let f = go_fields(l);
            (f.first() == Some(&keyword)).then(|| f[1..].iter().map(|x| x.to_vec()).collect())
        })
        .last()
        .unwrap_or_default()
}

/// The last `domain` line's domain (dropped by containers/common).
pub(crate) fn domain(content: &[u8]) -> Option<Vec<u8>> {
    last_exact(content, b"domain").into_iter().next()
}

/// The last `sortlist` line's values (dropped by containers/common).
pub(crate) fn sortlist(content: &[u8]) -> Vec<Vec<u8>> {
    last_exact(content, b"sortlist")
}

/// What a container resolv.conf says, in the order it is written.
#[derive(Debug, Default)]
pub(crate) struct Resolv {
    pub domain: Option<Vec<u8>>,
    pub searches: Vec<Vec<u8>>,
    pub nameservers: Vec<Vec<u8>>,
    pub sortlist: Vec<Vec<u8>>,
    pub options: Vec<Vec<u8>>,
}

impl Resolv {
    /// Everything a container resolv.conf holds.
    pub(crate) fn parse(content: &[u8]) -> Self {
        Self {
            domain: domain(content),
            searches: searches(content),
            nameservers: nameservers(content),
            sortlist: sortlist(content),
            options: options(content),
        }
    }

    /// containers/common's `build`: `search` (unless only `.`), `nameserver` lines,
    /// `options` (unless blank); plus `domain` first and `sortlist` before options.
    pub(crate) fn build(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line = |key: &[u8], values: &[Vec<u8>]| {
            out.extend_from_slice(key);
            for v in values {
                out.push(b' ');
                out.extend_from_slice(v);
            }
            out.push(b'\n');
        };
        if let Some(d) = &self.domain {
            line(b"domain", std::slice::from_ref(d));
        }
        if !self.searches.is_empty() {
            let joined = self.searches.join(&b' ');
            let trimmed: &[u8] = trim_spaces(&joined);
            if trimmed != b"." {
                line(b"search", &self.searches);
            }
        }
        for ns in &self.nameservers {
            line(b"nameserver", std::slice::from_ref(ns));
        }
        if !self.sortlist.is_empty() {
            line(b"sortlist", &self.sortlist);
        }
        if !self.options.is_empty() && !trim_spaces(&self.options.join(&b' ')).is_empty() {
            line(b"options", &self.options);
        }
        out
    }
}

/// Go's `strings.Trim(s, " ")`.
fn trim_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ').map_or(start, |e| e + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests;
