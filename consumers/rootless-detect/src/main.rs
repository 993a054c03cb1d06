//! A consumer of podnet-rootless-detect: classifies this process and parses an id map.

fn main() -> Result<(), rootless_detect::Error> {
    let class = rootless_detect::classify()?;
    println!("rootless-detect: {class}");
    let maps = rootless_detect::parse_id_map("0 1000 1\n1 100000 65536\n")?;
    assert_eq!(maps.len(), 2);
    assert_eq!(maps[1].host_id, 100_000);
    println!("rootless-detect: parsed {maps:?}");
    Ok(())
}
