//! `IdMapping` and the strict parser for the kernel's `uid_map`/`gid_map` format.

use std::path::Path;

use crate::Error;

/// One line of a user namespace id map: `size` ids starting at `container_id`
/// inside the namespace correspond to ids starting at `host_id` outside it.
///
/// The field names follow the OCI runtime spec (`containerID`, `hostID`, `size`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdMapping {
    /// First id inside the namespace.
    pub container_id: u32,
    /// First id in the parent namespace.
    pub host_id: u32,
    /// Number of consecutive ids; never 0 in a parsed map.
    pub size: u32,
}

impl IdMapping {
    /// The host id that `container_id` maps to, if this mapping covers it.
    pub fn to_host(&self, container_id: u32) -> Option<u32> {
        let offset = container_id.checked_sub(self.container_id)?;
        (offset < self.size).then(|| self.host_id + offset)
    }

    /// True if `host_id` lies in this mapping's host range.
    pub fn contains_host(&self, host_id: u32) -> bool {
        host_id
            .checked_sub(self.host_id)
            .is_some_and(|offset| offset < self.size)
    }
}

/// Parses the text of a `uid_map` or `gid_map` file: one mapping per line,
/// three whitespace-separated unsigned decimal fields (`container host size`).
///
/// Strict: every field must be plain ASCII digits that fit in `u32`, `size`
/// must be positive and `id + size` may not exceed `u32::MAX` (the kernel's
/// rule: id 4294967295 is the invalid id -1). Blank lines
/// are skipped (an empty text gives an empty map). The error names the line.
pub fn parse_id_map(text: &str) -> Result<Vec<IdMapping>, Error> {
    parse_id_map_from("input", text)
}

/// Reads and parses an id map file such as `/proc/self/uid_map`.
pub fn read_id_map(path: &Path) -> Result<Vec<IdMapping>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadIdMap {
        path: path.to_path_buf(),
        source,
    })?;
    parse_id_map_from(&path.display().to_string(), &text)
}

pub(crate) fn parse_id_map_from(origin: &str, text: &str) -> Result<Vec<IdMapping>, Error> {
    let mut maps = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| Error::InvalidIdMap {
            origin: origin.to_string(),
            line: index + 1,
            text: line.to_string(),
            reason,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [container, host, size] = fields[..] else {
            return Err(bad(format!("expected 3 fields, found {}", fields.len())));
        };
        let container_id = parse_u32(container).map_err(|r| bad(format!("container id {r}")))?;
        let host_id = parse_u32(host).map_err(|r| bad(format!("host id {r}")))?;
        let size = parse_u32(size).map_err(|r| bad(format!("size {r}")))?;
        if size == 0 {
            return Err(bad("size is 0".to_string()));
        }
        // The kernel's rule: first + count must not overflow 32 bits
        // (id 4294967295 is the invalid id -1).
        if container_id.checked_add(size).is_none() {
            return Err(bad("container id + size exceeds 4294967295".to_string()));
        }
        if host_id.checked_add(size).is_none() {
            return Err(bad("host id + size exceeds 4294967295".to_string()));
        }
        maps.push(IdMapping {
            container_id,
            host_id,
            size,
        });
    }
    Ok(maps)
}

/// Parses a plain unsigned decimal `u32` (no sign, no spaces).
pub(crate) fn parse_u32(field: &str) -> Result<u32, &'static str> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not an unsigned decimal number");
    }
    field.parse::<u32>().map_err(|_| "does not fit in 32 bits")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(container_id: u32, host_id: u32, size: u32) -> IdMapping {
        IdMapping {
            container_id,
            host_id,
            size,
        }
    }

    #[test]
    fn parses_kernel_formatted_lines() {
        let text = "         0       1000          1\n         1     200000      65536\n";
        assert_eq!(
            parse_id_map(text).unwrap(),
            vec![m(0, 1000, 1), m(1, 200000, 65536)]
        );
    }

    #[test]
    fn parses_initial_namespace_full_map() {
        assert_eq!(
            parse_id_map("0 0 4294967295").unwrap(),
            vec![m(0, 0, u32::MAX)]
        );
    }

    #[test]
    fn empty_and_blank_input_is_an_empty_map() {
        assert!(parse_id_map("").unwrap().is_empty());
        assert!(parse_id_map("\n  \n").unwrap().is_empty());
    }

    fn err(text: &str) -> String {
        parse_id_map(text).unwrap_err().to_string()
    }

    #[test]
    fn rejects_wrong_field_count_naming_line() {
        assert_eq!(
            err("0 0 1\n0 1000"),
            "invalid id map line 2 of input: \"0 1000\": expected 3 fields, found 2"
        );
        assert_eq!(
            err("0 1 2 3"),
            "invalid id map line 1 of input: \"0 1 2 3\": expected 3 fields, found 4"
        );
    }

    #[test]
    fn rejects_signs_and_non_numbers() {
        assert_eq!(
            err("-1 0 1"),
            "invalid id map line 1 of input: \"-1 0 1\": container id is not an unsigned decimal number"
        );
        assert!(err("0 +5 1").contains("host id is not an unsigned decimal number"));
        assert!(err("0 0 x").contains("size is not an unsigned decimal number"));
        assert!(err("0 0 0x10").contains("size is not an unsigned decimal number"));
    }

    #[test]
    fn rejects_values_past_u32() {
        assert!(err("4294967296 0 1").contains("container id does not fit in 32 bits"));
    }

    #[test]
    fn rejects_zero_size() {
        assert!(err("0 0 0").ends_with("size is 0"));
    }

    #[test]
    fn rejects_range_overflow() {
        assert!(err("1 0 4294967295").ends_with("container id + size exceeds 4294967295"));
        assert!(err("0 4294967294 2").ends_with("host id + size exceeds 4294967295"));
        assert!(err("4294967295 0 1").ends_with("container id + size exceeds 4294967295"));
        // Up to id 4294967294 is fine.
        assert_eq!(
            parse_id_map("4294967294 4294967294 1").unwrap(),
            vec![m(u32::MAX - 1, u32::MAX - 1, 1)]
        );
    }

    #[test]
    fn read_id_map_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("uid_map");
        std::fs::write(&path, "0 1000 1\nbogus\n").unwrap();
        let msg = read_id_map(&path).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("line 2 of {}", path.display())),
            "{msg}"
        );

        let missing = dir.path().join("missing");
        let e = read_id_map(&missing).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot read id map {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
    }

    #[test]
    fn to_host_and_contains_host() {
        let map = m(1, 200000, 10);
        assert_eq!(map.to_host(0), None);
        assert_eq!(map.to_host(1), Some(200000));
        assert_eq!(map.to_host(10), Some(200009));
        assert_eq!(map.to_host(11), None);
        assert!(map.contains_host(200009));
        assert!(!map.contains_host(200010));
        assert!(!map.contains_host(199999));
    }
}
