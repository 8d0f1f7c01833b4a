//! The kinds of record the sync moves, named once: the Autotask entity, the Passportal record it
//! becomes, and the name used for staged files, review tables and ledger rows.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// Autotask Companies → Passportal clients.
    Companies,
}

impl Entity {
    /// Every entity, parents before children (the order the load applies them in).
    pub const ALL: &'static [Entity] = &[Entity::Companies];

    /// The name in file names, review tables and the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Companies => "companies",
        }
    }

    /// What Passportal calls the record it becomes.
    pub fn passportal_kind(self) -> &'static str {
        match self {
            Entity::Companies => "clients",
        }
    }

    pub fn parse(name: &str) -> Option<Entity> {
        Entity::ALL.iter().copied().find(|e| e.as_str() == name)
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
