//! TODO crate doc.
