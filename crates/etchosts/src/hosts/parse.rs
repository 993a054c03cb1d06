//! Reading and writing hosts-file lines the way containers/common does: `bufio.Scanner`
//! lines (a trailing `\r` dropped, 64 KiB at most), comments cut at `#`, `strings.Fields`,
//! lines with fewer than two fields skipped; written back as `IP<TAB>name name...\n`.

use std::path::Path;

use crate::fields::go_fields;
use crate::Error;

/// The longest line accepted, without its newline: Go's `bufio.MaxScanTokenSize` less
/// the newline byte. containers/common fails on longer lines ("token too long") too.
pub const MAX_LINE: usize = 64 * 1024 - 1;

/// One parsed line: the first field and the rest, borrowed from the file's bytes.
pub(crate) struct Line<'a> {
    pub ip: &'a [u8],
    pub names: Vec<&'a [u8]>,
}

/// Parses hosts-file content; `path` only names the file in errors.
pub(crate) fn parse<'a>(content: &'a [u8], path: &Path) -> Result<Vec<Line<'a>>, Error> {
    let mut out = Vec::new();
    let mut rest = content;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (mut line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if line.len() > MAX_LINE {
            return Err(Error::LineTooLong {
                path: path.to_path_buf(),
                line: number,
                max: MAX_LINE,
            });
        }
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        if let Some(c) = line.iter().position(|&b| b == b'#') {
            line = &line[..c];
        }
        let mut fields = go_fields(line);
        if fields.len() < 2 {
            continue;
        }
        let ip = fields.remove(0);
        out.push(Line { ip, names: fields });
    }
    Ok(out)
}

/// Appends `ip<TAB>names joined by spaces<LF>` to `out`.
pub(crate) fn format_line<'n>(
    out: &mut Vec<u8>,
    ip: &[u8],
    names: impl IntoIterator<Item = &'n [u8]>,
) {
    out.extend_from_slice(ip);
    out.push(b'\t');
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(name);
    }
    out.push(b'\n');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn render(content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for l in parse(content, Path::new("t")).unwrap() {
            format_line(&mut out, l.ip, l.names.iter().copied());
        }
        out
    }

    #[test]
    fn comments_blank_and_single_field_lines_go() {
        let input = b"# comment\n\n127.0.0.1   localhost  # trailing\r\n10.0.0.1\n  ::1\tip6-localhost ip6-loopback\nfoo bar";
        assert_eq!(
            render(input),
            b"127.0.0.1\tlocalhost\n::1\tip6-localhost ip6-loopback\nfoo\tbar\n"
        );
    }

    #[test]
    fn non_utf8_is_kept_byte_for_byte() {
        assert_eq!(
            render(b"10.0.0.1 caf\xe9 x\xff\n"),
            b"10.0.0.1\tcaf\xe9 x\xff\n"
        );
    }

    #[test]
    fn over_long_line_is_rejected_with_its_number() {
        let mut input = b"1.1.1.1 a\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
        input.push(b'\n');
        let err = parse(&input, Path::new("/base")).err().unwrap();
        assert_eq!(
            err.to_string(),
            "line 2 of /base is longer than 65535 bytes"
        );
        let mut ok = b"1.1.1.1 ".to_vec();
        ok.extend(std::iter::repeat_n(b'y', MAX_LINE - 8));
        assert_eq!(parse(&ok, Path::new("/base")).unwrap().len(), 1);
    }
}
