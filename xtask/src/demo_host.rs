//! The demo's stand-in for the host: a network namespace `podnet-demo` and a root directory
//! for podnet's files, both removed by [`DemoHost::clean_up`] (and on drop).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NETNS: &str = "podnet-demo";

/// The demo host.
pub struct DemoHost {
    root: PathBuf,
    podnet: PathBuf,
    cleaned: std::cell::Cell<bool>,
}

impl DemoHost {
    /// Creates the namespace (replacing a leftover one) and the root directory.
    pub fn new() -> Result<Self, String> {
        let _ = Command::new("ip").args(["netns", "del", NETNS]).output();
        let root = std::env::temp_dir().join("podnet-demo");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        for args in [
            vec!["netns", "add", NETNS],
            vec!["-n", NETNS, "link", "set", "lo", "up"],
        ] {
            let mut ip = Command::new("ip");
            ip.args(&args);
            crate::cmd::output(ip)?;
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::project_root().join("target"));
        Ok(Self {
            root,
            podnet: target.join("debug/podnet"),
            cleaned: std::cell::Cell::new(false),
        })
    }

    fn in_host(&self, program: &std::path::Path) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/run/netns/{NETNS}"))
            .arg("--")
            .arg(program);
        c
    }

    fn podnet_command(&self, args: &[&str]) -> Command {
        let mut c = self.in_host(&self.podnet);
        c.arg("--root").arg(&self.root).args(args);
        c
    }

    /// Runs `podnet ARGS`, printing the command and its output (cut to `lines`; 0: all).
    pub fn podnet(&self, args: &[&str], lines: usize) -> Result<String, String> {
        println!("$ podnet {}", args.join(" "));
        show(self.podnet_command(args), lines)
    }

    /// Runs a program in the demo host, printing the command and its output.
    pub fn host(&self, args: &[&str]) -> Result<String, String> {
        println!("$ {}", args.join(" "));
        let mut c = self.in_host(std::path::Path::new(args[0]));
        c.args(&args[1..]);
        show(c, 0)
    }

    /// A one-shot TCP listener in a container that answers `text`.
    pub fn listen(&self, container: &str, port: u16, text: &str) -> Result<Listener, String> {
        let port_s = port.to_string();
        let child = self
            .podnet_command(&[
                "exec", container, "--", "busybox", "nc", "-l", "-p", &port_s, "-e", "echo", text,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting a listener in {container}: {e}"))?;
        let listener = Listener(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let out = self
                .podnet_command(&["exec", container, "--", "busybox", "netstat", "-ltn"])
                .output()
                .map_err(|e| e.to_string())?;
            if String::from_utf8_lossy(&out.stdout).contains(&format!(":{port} ")) {
                println!("(web listens on port {port} and will answer {text:?})");
                return Ok(listener);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("the listener in {container} did not come up"))
    }

    /// Removes every container, network, pin, the namespace and the root directory.
    pub fn clean_up(&self) -> Result<(), String> {
        if self.cleaned.replace(true) {
            return Ok(());
        }
        if let Ok(out) = self.podnet_command(&["ps", "--format", "json"]).output() {
            if let Ok(list) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
                for c in list.as_array().into_iter().flatten() {
                    if let Some(name) = c["Name"].as_str() {
                        let _ = self.podnet_command(&["rm", "--force", name]).output();
                    }
                }
            }
        }
        let pins = self.root.join("netns");
        let leftover: Vec<String> = std::fs::read_dir(&pins)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let _ = Command::new("umount").arg("-l").arg(&pins).output();
        let del = Command::new("ip").args(["netns", "del", NETNS]).output();
        let _ = std::fs::remove_dir_all(&self.root);
        let leftover: Vec<&String> = leftover.iter().filter(|n| !n.starts_with('.')).collect();
        if !leftover.is_empty() {
            return Err(format!("pins left behind: {leftover:?}"));
        }
        match del {
            Ok(out) if out.status.success() => {
                println!("\nclean: no container, network, pin or namespace of the demo is left");
                Ok(())
            }
            _ => Err(format!("could not delete the demo namespace {NETNS}")),
        }
    }
}

impl Drop for DemoHost {
    fn drop(&mut self) {
        let _ = self.clean_up();
    }
}

/// A listener process, killed on drop.
pub struct Listener(Child);

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a command, prints its output (first `lines` lines; 0: all) and fails on a non-zero
/// exit with its stderr.
fn show(mut command: Command, lines: usize) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|e| format!("{}: {e}", crate::cmd::display(&command)))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let total = stdout.lines().count();
    let keep = if lines == 0 { total } else { lines.min(total) };
    for line in stdout.lines().take(keep) {
        println!("{line}");
    }
    if keep < total {
        println!("... ({} more lines)", total - keep);
    }
    if out.status.success() {
        Ok(stdout)
    } else {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        println!("{err}");
        Err(err)
    }
}
