//! A consumer of podnet-cni: parses a conflist as podman 4.3 writes it.

const CONFLIST: &str = r#"{"cniVersion":"1.0.0","name":"web","plugins":[
{"type":"bridge","bridge":"cni-podman1","isGateway":true,"ipMasq":true,
 "ipam":{"type":"host-local","ranges":[[{"subnet":"10.89.0.0/24"}]]}},
{"type":"portmap","capabilities":{"portMappings":true}}]}"#;

fn main() -> Result<(), cni::Error> {
    let list = cni::NetworkConfigList::from_conflist_bytes(CONFLIST.as_bytes(), "web.conflist")?;
    assert_eq!(list.name(), "web");
    let types: Vec<&str> = list.plugins().iter().map(|p| p.plugin_type()).collect();
    assert_eq!(types, ["bridge", "portmap"]);
    assert!(list.plugins()[1].has_capability("portMappings"));
    println!(
        "cni: {} (CNI {:?}): {types:?}",
        list.name(),
        list.cni_version()
    );
    Ok(())
}
