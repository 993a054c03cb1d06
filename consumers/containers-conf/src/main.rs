//! A consumer of podnet-containers-conf: reads containers.conf from a directory standing
//! for `/`.

use containers_conf::{load, NetworkBackend, Sources};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::temp_dir().join(format!("consumer-conf-{}", std::process::id()));
    let etc = root.join("etc/containers");
    std::fs::create_dir_all(&etc)?;
    std::fs::write(
        etc.join("containers.conf"),
        "[network]\nnetwork_backend = \"netavark\"\n",
    )?;
    let conf = load(&Sources::under(&root, 0))?;
    assert_eq!(conf.network.network_backend, Some(NetworkBackend::Netavark));
    println!("containers-conf: read {:?}", conf.files);
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
