//! The checks that keep the crates publishable: every crate packages cleanly in dependency
//! order, the libraries build with the toolchain `rust-version` names, and the docs build
//! without warnings.

use std::process::Command;

use crate::cmd;

/// `cargo package` of every publishable crate (xtask and test-only crates are `publish =
/// false`), without the verification build: a manifest mistake (missing metadata, a path
/// dependency without a version, a file outside the package) fails here in seconds.
pub fn package() -> Result<(), String> {
    let mut package = cmd::cargo();
    package.args([
        "package",
        "--workspace",
        "--no-verify",
        "--allow-dirty",
        "--quiet",
    ]);
    for unpublished in unpublished_packages()? {
        package.args(["--exclude", &unpublished]);
    }
    cmd::run(package)
}

/// The libraries and binaries (not the tests: dev-dependencies may need a newer compiler) with
/// the toolchain of the workspace's `rust-version`, installed through rustup when missing.
pub fn msrv() -> Result<(), String> {
    let version = rust_version()?;
    let toolchain = format!("+{version}");
    let installed = Command::new("rustup")
        .args(["run", &version, "rustc", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !installed {
        let mut install = Command::new("rustup");
        install.args(["toolchain", "install", &version, "--profile", "minimal"]);
        cmd::run(install).map_err(|e| {
            format!("{e}\n  the rust-version check needs the {version} toolchain: rustup toolchain install {version}")
        })?;
    }
    // rustup's proxy picks the toolchain from `+VERSION`; $CARGO would pin ours
    let mut check = Command::new("cargo");
    check
        .current_dir(crate::project_root())
        .env(
            "CARGO_TARGET_DIR",
            crate::project_root().join("target-msrv"),
        )
        .env_remove("RUSTC")
        .args([
            &toolchain,
            "check",
            "--workspace",
            "--lib",
            "--bins",
            "--quiet",
        ]);
    for unpublished in unpublished_packages()? {
        check.args(["--exclude", &unpublished]);
    }
    cmd::run(check)
}

/// `cargo doc` of the workspace with every rustdoc warning an error (broken links included).
pub fn docs() -> Result<(), String> {
    let mut doc = cmd::cargo();
    doc.env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps", "--quiet"]);
    cmd::run(doc)
}

fn metadata() -> Result<serde_json::Value, String> {
    let mut meta = cmd::cargo();
    meta.args(["metadata", "--format-version", "1", "--no-deps"]);
    let out = cmd::output(meta)?;
    serde_json::from_str(&out).map_err(|e| format!("cargo metadata: {e}"))
}

/// Workspace packages with `publish = false`.
fn unpublished_packages() -> Result<Vec<String>, String> {
    let json = metadata()?;
    Ok(json["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["publish"]
                .as_array()
                .is_some_and(|registries| registries.is_empty())
        })
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect())
}

/// The `rust-version` the publishable packages declare (one for the whole workspace).
fn rust_version() -> Result<String, String> {
    let json = metadata()?;
    json["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|p| p["rust_version"].as_str().map(String::from))
        .ok_or_else(|| "no package declares a rust-version".to_string())
}
