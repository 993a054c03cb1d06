//! Namespace names: validation and random names (`netns-` + a UUID, as podman makes them).

use rand::RngCore;

use crate::Error;

/// Longest accepted name, in bytes (a file name on Linux is at most 255 bytes).
pub(crate) const MAX_NAME_LEN: usize = 255;

/// Checks that `name` is usable as a single file name inside the pin directory.
pub(crate) fn validate(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("longer than 255 bytes")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are not names")
    } else if name.contains('/') {
        Some("contains `/`")
    } else if name.contains('\0') {
        Some("contains NUL")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// A fresh random name of the form `netns-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub(crate) fn random() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    // RFC 4122 version 4, variant 1
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = |s: &[u8]| s.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "netns-{}-{}-{}-{}-{}",
        hex(&b[0..4]),
        hex(&b[4..6]),
        hex(&b[6..8]),
        hex(&b[8..10]),
        hex(&b[10..16])
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["a", "netns-1", "pod.net", "x..y", "é", &"n".repeat(255)] {
            assert!(validate(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn rejects_bad_names_with_reason() {
        let cases = [
            ("", "empty"),
            (".", "`.` and `..` are not names"),
            ("..", "`.` and `..` are not names"),
            ("a/b", "contains `/`"),
            ("../x", "contains `/`"),
            ("a\0b", "contains NUL"),
        ];
        for (name, want) in cases {
            match validate(name) {
                Err(Error::InvalidName { name: n, reason }) => {
                    assert_eq!(n, name);
                    assert_eq!(reason, want);
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
        assert!(matches!(
            validate(&"n".repeat(256)),
            Err(Error::InvalidName {
                reason: "longer than 255 bytes",
                ..
            })
        ));
    }

    #[test]
    fn random_names_are_valid_uuid_shaped_and_distinct() {
        let a = random();
        let b = random();
        assert_ne!(a, b);
        assert!(validate(&a).is_ok());
        let uuid = a.strip_prefix("netns-").unwrap_or_default();
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(&uuid[14..15], "4", "version nibble in {a}");
        assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
