//! Serde helper: read JSON `null` like an absent field (Go and netavark write both).

use serde::{Deserialize, Deserializer};

/// Deserializes `null` as `T::default()`; use with `#[serde(default)]` so an
/// absent field is the default too.
pub(crate) fn default_if_null<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
