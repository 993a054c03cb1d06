//! The `until=` value of `podman network ls/prune --filter`, read as containers/common's
//! `timetype.GetTimestamp` reads it: a Go duration before now (`10m`, `1h30m`, `-5s`; the
//! instant is cut to whole seconds, as podman does), an RFC 3339 time or a shorter form of
//! it (`2006-01-02`, `2006-01-02T15`, `2006-01-02T15:04`, `...:05`, `...:05.999999999`, each
//! with `Z` or `±07:00`, else in the local time zone), or Unix seconds (`1700000000[.nnn]`).
//! A network passes when it was created strictly before that instant. Instants are
//! nanoseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch.
pub(crate) type Nanos = i128;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// What an `until=` value may be, for the error line.
pub(crate) const UNTIL_FORMS: &str =
    "expected a Go duration before now (10m, 1h30m), an RFC 3339 time \
    (2006-01-02T15:04:05Z, +07:00 or local; or its date, hour or minute alone) or Unix seconds \
    (1700000000[.nnn])";

/// The instant `value` names, `now` being the reference of a duration and
/// `local_offset` (seconds east of UTC) the zone of a time without one; `None` when it is
/// none of the accepted forms.
pub(crate) fn parse_until(value: &str, now: Nanos, local_offset: i64) -> Option<Nanos> {
    // "0" is Unix time 0, not a zero duration (containers/common's exception)
    if value != "0" {
        if let Some(d) = go_duration(value) {
            let instant = now.checked_sub(d)?;
            return Some(instant.div_euclid(NANOS_PER_SEC) * NANOS_PER_SEC);
        }
    }
    if let Some(t) = rfc3339(value, Some(local_offset)) {
        return Some(t);
    }
    // a value with a `-` was meant as a date
    if value.contains('-') {
        return None;
    }
    unix_seconds(value)
}

/// A network's `created` field (RFC 3339 with its zone, as podman and podnet write it).
pub(crate) fn parse_created(text: &str) -> Option<Nanos> {
    rfc3339(text, None)
}

/// Now, for [`parse_until`].
pub(crate) fn now() -> Nanos {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(i128::MAX),
    }
}

/// The local zone's offset from UTC now, in seconds (Go's `time.Local`: `TZ`, else
/// /etc/localtime); 0 when the C library cannot tell.
pub(crate) fn local_offset() -> i64 {
    let t: libc::time_t = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => libc::time_t::try_from(d.as_secs()).unwrap_or(0),
        Err(_) => 0,
    };
    // SAFETY: an all-zero `tm` is a valid value of that plain C struct
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals; localtime_r is the thread-safe variant
    let filled = unsafe { libc::localtime_r(&t, &mut tm) };
    if filled.is_null() {
        0
    } else {
        tm.tm_gmtoff
    }
}

/// Go's `time.ParseDuration`: `[-+]` then one or more `<decimal><unit>`, unit one of
/// ns, us, µs, μs, ms, s, m, h.
fn go_duration(text: &str) -> Option<Nanos> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: Nanos = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3_600 * NANOS_PER_SEC,
            _ => return None,
        };
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut part = whole.checked_mul(scale)?;
        // the fraction's digits, each a tenth of the one before
        let mut place = scale;
        for digit in fraction.bytes() {
            place /= 10;
            part += i128::from(digit - b'0') * place;
        }
        total = total.checked_add(part)?;
        rest = tail;
    }
    // Go's Duration is an int64 of nanoseconds
    if total > i128::from(i64::MAX) {
        return None;
    }
    Some(if negative { -total } else { total })
}

/// Unix seconds with an optional fraction (`1700000000`, `1700000000.5`).
fn unix_seconds(text: &str) -> Option<Nanos> {
    let (secs, fraction) = text.split_once('.').unwrap_or((text, ""));
    let secs: i64 = secs.parse().ok()?;
    let mut nanos: i128 = 0;
    if !fraction.is_empty() {
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = fraction
            .chars()
            .chain("000000000".chars())
            .take(9)
            .collect();
        nanos = digits.parse().ok()?;
    }
    Some(i128::from(secs) * NANOS_PER_SEC + nanos)
}

/// `YYYY-MM-DD[THH[:MM[:SS[.fff]]]][Z|±HH:MM]`; a time without a zone is at
/// `local_offset`, or refused when that is `None`.
fn rfc3339(text: &str, local_offset: Option<i64>) -> Option<Nanos> {
    let mut cur = Cursor(text);
    let year = cur.digits(4)?;
    cur.expect('-')?;
    let month = cur.digits(2)?;
    cur.expect('-')?;
    let day = cur.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if cur.eat('T') {
        hour = cur.digits(2)?;
        if cur.eat(':') {
            minute = cur.digits(2)?;
            if cur.eat(':') {
                second = cur.digits(2)?;
                if cur.eat('.') {
                    nanos = cur.fraction()?;
                }
            }
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset = match cur.0.chars().next() {
        None => local_offset?,
        Some('Z' | 'z') => {
            cur.0 = &cur.0[1..];
            0
        }
        Some(sign @ ('+' | '-')) => {
            cur.0 = &cur.0[1..];
            let h = cur.digits(2)?;
            cur.expect(':')?;
            let m = cur.digits(2)?;
            let secs = h * 3_600 + m * 60;
            if sign == '-' {
                -secs
            } else {
                secs
            }
        }
        Some(_) => return None,
    };
    if !cur.0.is_empty() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset;
    Some(i128::from(secs) * NANOS_PER_SEC + i128::from(nanos))
}

/// The rest of a text being read.
struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let head = self.0.get(..n)?;
        if !head.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.0 = &self.0[n..];
        head.parse().ok()
    }

    fn eat(&mut self, c: char) -> bool {
        match self.0.strip_prefix(c) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// One to nine digits of a second, as nanoseconds.
    fn fraction(&mut self) -> Option<i64> {
        let len = self
            .0
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.0.len());
        if len == 0 || len > 9 {
            return None;
        }
        let padded: String = self.0[..len]
            .chars()
            .chain("00000000".chars())
            .take(9)
            .collect();
        self.0 = &self.0[len..];
        padded.parse().ok()
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i128 = NANOS_PER_SEC;
    /// 2026-11-29T04:00:00Z, with half a second.
    const NOW: Nanos = 1_795_924_800 * S + S / 2;

    fn until(value: &str) -> Option<Nanos> {
        parse_until(value, NOW, 3_600)
    }

    #[test]
    fn durations_count_back_from_now_in_whole_seconds() {
        assert_eq!(until("10m"), Some(1_795_924_800 * S - 600 * S));
        assert_eq!(until("1h30m"), Some((1_795_924_800 - 5_400) * S));
        assert_eq!(until("1.5h"), Some((1_795_924_800 - 5_400) * S));
        assert_eq!(until("-5s"), Some((1_795_924_800 + 5) * S));
        assert_eq!(until("1500ms"), Some((1_795_924_800 - 1) * S));
        assert_eq!(until("2us"), Some(1_795_924_800 * S));
        assert_eq!(until("0"), Some(0), "0 is Unix time 0");
        assert_eq!(until("0s"), Some(1_795_924_800 * S));
    }

    #[test]
    fn rfc3339_forms_with_a_zone_or_in_the_local_one() {
        let base = 1_795_924_800 * S;
        assert_eq!(until("2026-11-29T04:00:00Z"), Some(base));
        assert_eq!(until("2026-11-29T05:00:00+01:00"), Some(base));
        assert_eq!(until("2026-11-29T03:00:00-01:00"), Some(base));
        assert_eq!(until("2026-11-29T04:00:00.25Z"), Some(base + S / 4));
        assert_eq!(until("2026-11-29T04Z"), Some(base));
        assert_eq!(until("2026-11-29T04:00Z"), Some(base));
        assert_eq!(until("2026-11-29Z"), Some(base - 4 * 3_600 * S));
        // no zone: the local one (here one hour east of UTC)
        assert_eq!(until("2026-11-29T05:00:00"), Some(base));
        assert_eq!(until("2026-11-29"), Some(base - 5 * 3_600 * S));
        assert_eq!(
            parse_created("2026-11-29T04:00:00.123456789Z"),
            Some(base + 123_456_789)
        );
        assert_eq!(
            parse_created("2026-11-29T04:00:00"),
            None,
            "a file's time has its zone"
        );
        assert_eq!(until("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(until("2024-02-29T00:00:00Z"), Some(1_709_164_800 * S));
    }

    #[test]
    fn unix_seconds_with_a_fraction() {
        assert_eq!(until("1700000000"), Some(1_700_000_000 * S));
        assert_eq!(until("1700000000.5"), Some(1_700_000_000 * S + S / 2));
        assert_eq!(until("1700000000.000000001"), Some(1_700_000_000 * S + 1));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "yesterday",
            "10x",
            "m",
            "1.2.3s",
            "2026-13-01",
            "2025-02-29",
            "2026-11-29T24:00:00Z",
            "2026-11-29T04:00:00+0100",
            "2026-11-29 04:00:00",
            "-1700000000",
            "17e8",
            "1700000000.x",
            "99999999999999999999h",
        ] {
            assert_eq!(until(bad), None, "{bad:?}");
        }
    }
}
