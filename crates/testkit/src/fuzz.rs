//! How many cases a fuzz target runs.

/// Cases per fuzz target: `PODNET_FUZZ_CASES`, else 4000 (what CI runs; the long runs
/// recorded under `crates/*/fuzz-logs/` set it high).
pub fn fuzz_cases() -> u32 {
    std::env::var("PODNET_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4000)
}
