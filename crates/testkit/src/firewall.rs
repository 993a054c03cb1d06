//! Firewall rules left in the current network namespace, read from every backend netavark
//! may use: iptables (legacy or nft-compat), ip6tables and native nftables.

use std::process::Command;

/// Lines of `iptables-save`, `ip6tables-save` and `nft list ruleset` in the current netns
/// that contain `needle`, each prefixed with the tool that printed it. Panics naming the
/// tool when one cannot be run: a check that cannot read the firewall must not pass.
pub fn firewall_leftovers(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for argv in [
        &["iptables-save"][..],
        &["ip6tables-save"][..],
        &["nft", "list", "ruleset"][..],
    ] {
        let out = Command::new(argv[0])
            .args(&argv[1..])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", argv.join(" ")));
        assert!(
            out.status.success(),
            "{} failed ({}): {}",
            argv.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains(needle))
                .map(|l| format!("{}: {}", argv[0], l.trim())),
        );
    }
    found
}
