//! The CNI commands a runtime sends in `CNI_COMMAND`.

use std::fmt;

/// A CNI command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Attach the container to the network.
    Add,
    /// Detach it (idempotent: missing things are not an error).
    Del,
    /// Verify the attachment still matches the cached result (0.4.0+).
    Check,
    /// Ask the plugin which configuration versions it accepts.
    Version,
}

impl Command {
    /// The value of `CNI_COMMAND`.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Add => "ADD",
            Command::Del => "DEL",
            Command::Check => "CHECK",
            Command::Version => "VERSION",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
