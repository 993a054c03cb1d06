//! TODO: backend
