//! Repository rules checked as a unit test: every Rust file opens with a `//!` doc line, no
//! test carries the ignore attribute (a skipped test must say why and fail in CI instead), and every
//! crate says `[lints] workspace = true`.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    fn workspace_files() -> Vec<PathBuf> {
        let root = crate::project_root();
        let mut files = Vec::new();
        rust_files(&root.join("crates"), &mut files);
        rust_files(&root.join("xtask"), &mut files);
        assert!(
            files.len() > 10,
            "tidy found only {} Rust files",
            files.len()
        );
        files
    }

    #[test]
    fn every_rust_file_starts_with_a_module_doc() {
        let missing: Vec<String> = workspace_files()
            .into_iter()
            .filter(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                !text.trim_start().starts_with("//!")
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(
            missing.is_empty(),
            "files without a `//!` doc line: {missing:#?}"
        );
    }

    #[test]
    fn no_test_is_ignored() {
        let attribute = ["#[", "ignore"].concat();
        let offenders: Vec<String> = workspace_files()
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(p)
                    .unwrap_or_default()
                    .contains(&attribute)
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(offenders.is_empty(), "ignored tests in: {offenders:#?}");
    }

    /// Every test skip goes through `testkit::skip`, the one path xtask counts: a hand-made
    /// "SKIPPED" print would pass silently. Benches print their own (they are not counted).
    #[test]
    fn every_skip_goes_through_testkit() {
        let marker = ["SKIP", "PED"].concat();
        let offenders: Vec<String> = workspace_files()
            .into_iter()
            .filter(|p| {
                let path = p.to_string_lossy();
                !path.contains("/crates/testkit/")
                    && !path.contains("/benches/")
                    && !path.contains("/xtask/")
            })
            .filter(|p| {
                std::fs::read_to_string(p)
                    .unwrap_or_default()
                    .contains(&marker)
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(
            offenders.is_empty(),
            "skips printed by hand instead of testkit::skip: {offenders:#?}"
        );
    }

    #[test]
    fn every_crate_uses_the_workspace_lints() {
        let root = crate::project_root();
        let mut manifests = vec![root.join("xtask/Cargo.toml")];
        for entry in std::fs::read_dir(root.join("crates"))
            .into_iter()
            .flatten()
            .flatten()
        {
            manifests.push(entry.path().join("Cargo.toml"));
        }
        for manifest in manifests {
            let text = std::fs::read_to_string(&manifest).unwrap_or_default();
            assert!(
                text.contains("[lints]\nworkspace = true"),
                "{} does not say `[lints] workspace = true`",
                manifest.display()
            );
        }
    }

    /// The facade's crate-doc example cannot run as a doctest (root, netavark), so the
    /// consumer program compiles it downstream; each of its lines must be there.
    #[test]
    fn the_facade_example_is_compiled_by_its_consumer() {
        let root = crate::project_root();
        let lib =
            std::fs::read_to_string(root.join("crates/podnet/src/lib.rs")).unwrap_or_default();
        let consumer =
            std::fs::read_to_string(root.join("consumers/podnet/src/main.rs")).unwrap_or_default();
        let example: Vec<&str> = lib
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .map(str::trim)
            .skip_while(|l| !l.starts_with("```"))
            .skip(1)
            .take_while(|l| !l.starts_with("```"))
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("use "))
            .collect();
        assert!(
            example.len() > 5,
            "no example found in the facade's crate doc"
        );
        let compiled: Vec<&str> = consumer.lines().map(str::trim).collect();
        for line in example {
            assert!(
                compiled.contains(&line),
                "consumers/podnet/src/main.rs lacks the crate-doc example's line `{line}`"
            );
        }
    }
}
