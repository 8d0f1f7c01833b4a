//! Newtype ids: an Autotask id and a Passportal id are both integers on the wire, and mixing
//! them up would link the wrong records, so the type system keeps them apart.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The id of a record in Autotask (companies, resources, contacts, ...). Id 0 is valid: it is the
/// tenant's own company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AutotaskId(pub i64);

/// The id of a record in Passportal (clients, users, documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PassportalId(pub i64);

impl fmt::Display for AutotaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for PassportalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
