//! A consumer of podnet-bbolt: writes a bucket in a new database file and reads it back.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("consumer-bbolt-{}.db", std::process::id()));
    let mut db = bbolt::Db::open(&path)?;
    db.update(|tx| -> bbolt::Result<()> {
        tx.create_bucket_if_not_exists(b"leases")?
            .put(b"10.89.0.2", b"c0ffee")
    })?;
    drop(db);
    let db = bbolt::Db::open_read_only(&path)?;
    let owner = db.view(|tx| -> bbolt::Result<Option<Vec<u8>>> {
        Ok(tx
            .bucket(b"leases")
            .and_then(|b| b.get(b"10.89.0.2"))
            .map(<[u8]>::to_vec))
    })?;
    assert_eq!(owner.as_deref(), Some(&b"c0ffee"[..]));
    println!("bbolt: 10.89.0.2 -> c0ffee in {}", path.display());
    std::fs::remove_file(&path)?;
    Ok(())
}
