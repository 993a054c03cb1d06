//! A consumer of podnet-netstatus: parses what `netavark setup` prints.

const SETUP_OUTPUT: &str = r#"{"podman":{"dns_search_domains":[],"dns_server_ips":[],
"interfaces":{"eth0":{"mac_address":"2e:34:e1:11:a2:0c",
"subnets":[{"gateway":"10.88.0.1","ipnet":"10.88.0.5/16"}]}}}}"#;

fn main() -> Result<(), netstatus::Error> {
    let status = netstatus::parse_setup_output("netavark setup", SETUP_OUTPUT)?;
    let eth0 = &status["podman"].interfaces["eth0"];
    assert_eq!(eth0.subnets[0].ipnet.to_string(), "10.88.0.5/16");
    println!("netstatus: {status:?}");
    Ok(())
}
