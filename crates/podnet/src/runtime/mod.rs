//! TODO: runtime
