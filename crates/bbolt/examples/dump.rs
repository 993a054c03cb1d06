//! Prints every bucket and key of a bbolt file, nested buckets indented (like bbolt's
//! own `bbolt keys`, recursively), under a shared lock.
//!
//! Run: `cargo run -p podnet-bbolt --example dump -- /run/containers/networks/ipam.db`

fn show(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => s.to_string(),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn print(bucket: &bbolt::Bucket, depth: usize) {
    for (key, entry) in bucket.iter() {
        match entry {
            bbolt::Entry::Value(v) => println!("{:depth$}{} = {}", "", show(key), show(v)),
            bbolt::Entry::Bucket(b) => {
                println!("{:depth$}{}/", "", show(key));
                print(b, depth + 2);
            }
        }
    }
}

fn main() -> Result<(), bbolt::Error> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE");
        std::process::exit(2);
    };
    let db = bbolt::Db::open_read_only(path)?;
    db.view(|tx| {
        for (name, entry) in tx.buckets() {
            if let bbolt::Entry::Bucket(b) = entry {
                println!("{}/", show(name));
                print(b, 2);
            }
        }
        Ok(())
    })
}
