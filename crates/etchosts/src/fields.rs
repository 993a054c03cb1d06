//! Byte-level twins of the Go helpers the reference code leans on: `strings.Fields`
//! (Unicode white space, invalid UTF-8 kept as non-space) and RE2's ASCII `\s`.

/// RE2's `\s`: `[\t\n\f\r ]` (no vertical tab).
pub(crate) fn is_re_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// Skips RE2 `\s` bytes from `i`; returns the first index that is not one.
pub(crate) fn skip_re_space(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_re_space(s[i]) {
        i += 1;
    }
    i
}

/// `s` without leading RE2 `\s` bytes.
pub(crate) fn trim_re_space_start(s: &[u8]) -> &[u8] {
    &s[skip_re_space(s, 0)..]
}

/// `s` without trailing RE2 `\s` bytes.
pub(crate) fn trim_re_space_end(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0 && is_re_space(s[end - 1]) {
        end -= 1;
    }
    &s[..end]
}

/// Decodes one char at `i` like Go's `utf8.DecodeRune`: `(None, 1)` for an invalid byte.
fn decode(s: &[u8], i: usize) -> (Option<char>, usize) {
    let b = s[i];
    if b < 0x80 {
        return (Some(char::from(b)), 1);
    }
    let width = match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (None, 1),
    };
    match s.get(i..i + width).map(std::str::from_utf8) {
        Some(Ok(text)) => (text.chars().next(), width),
        _ => (None, 1),
    }
}

/// Go's `strings.Fields` on bytes: splits at Unicode white space; invalid UTF-8 bytes
/// count as ordinary characters and are kept as they are.
pub(crate) fn go_fields(s: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        let (space, width) = if b < 0x80 {
            (matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' '), 1)
        } else {
            let (c, width) = decode(s, i);
            (c.is_some_and(char::is_whitespace), width)
        };
        match (space, start) {
            (true, Some(st)) => {
                out.push(&s[st..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
        i += width;
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_on_unicode_space_and_keep_invalid_bytes() {
        let input = b"  a\tb\xc2\xa0c \xff\xfe d\x0be\r\n";
        let got = go_fields(input);
        let want: Vec<&[u8]> = vec![b"a", b"b", b"c", b"\xff\xfe", b"d", b"e"];
        assert_eq!(got, want);
    }

    #[test]
    fn fields_of_blank_is_empty() {
        assert!(go_fields(b" \t\r ").is_empty());
        assert!(go_fields(b"").is_empty());
    }

    #[test]
    fn re_space_excludes_vertical_tab() {
        assert!(!is_re_space(0x0b));
        assert_eq!(trim_re_space_start(b" \t\x0bx"), b"\x0bx");
        assert_eq!(trim_re_space_end(b"x \r"), b"x");
    }
}
