//! The kinds of record the sync moves, named once: the Autotask entity, the Passportal record it
//! becomes, and the name used for staged files, review tables and ledger rows.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// Autotask Companies → Passportal clients.
    Companies,
    /// Autotask Resources (the MSP's staff) → Passportal users.
    Resources,
    /// Autotask CompanyLocations → `location` documents under the company's client.
    Locations,
    /// Autotask Contacts → `contact` documents under the company's client.
    Contacts,
    /// Autotask ConfigurationItems (of the selected types) → `asset` documents.
    ConfigurationItems,
}

impl Entity {
    /// Every entity, parents before children (the order the load applies them in).
    pub const ALL: &'static [Entity] = &[
        Entity::Companies,
        Entity::Resources,
        Entity::Locations,
        Entity::Contacts,
        Entity::ConfigurationItems,
    ];

    /// The name in file names, review tables and the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Companies => "companies",
            Entity::Resources => "resources",
            Entity::Locations => "locations",
            Entity::Contacts => "contacts",
            Entity::ConfigurationItems => "configuration_items",
        }
    }

    /// The Autotask REST endpoint.
    pub fn autotask_endpoint(self) -> &'static str {
        match self {
            Entity::Companies => "Companies",
            Entity::Resources => "Resources",
            Entity::Locations => "CompanyLocations",
            Entity::Contacts => "Contacts",
            Entity::ConfigurationItems => "ConfigurationItems",
        }
    }

    /// What Passportal calls the record it becomes.
    pub fn passportal_kind(self) -> &'static str {
        match self {
            Entity::Companies => "clients",
            Entity::Resources => "users",
            Entity::Locations => "locations",
            Entity::Contacts => "contacts",
            Entity::ConfigurationItems => "assets",
        }
    }

    /// Children live under a company's client.
    pub fn is_child(self) -> bool {
        matches!(
            self,
            Entity::Locations | Entity::Contacts | Entity::ConfigurationItems
        )
    }

    /// Where the extract stages this entity's Autotask records, relative to the run folder.
    pub fn autotask_file(self) -> &'static str {
        use staged::autotask as at;
        match self {
            Entity::Companies => at::COMPANIES,
            Entity::Resources => at::RESOURCES,
            Entity::Locations => at::LOCATIONS,
            Entity::Contacts => at::CONTACTS,
            Entity::ConfigurationItems => at::CONFIGURATION_ITEMS,
        }
    }

    /// Where the extract stages the Passportal records this entity matches against.
    pub fn passportal_file(self) -> &'static str {
        use staged::passportal as pp;
        match self {
            Entity::Companies => pp::CLIENTS,
            Entity::Resources => pp::USERS,
            Entity::Locations => pp::LOCATIONS,
            Entity::Contacts => pp::CONTACTS,
            Entity::ConfigurationItems => pp::ASSETS,
        }
    }

    /// The document type of a child entity.
    pub fn doc_type(self) -> Option<DocType> {
        match self {
            Entity::Locations => Some(DocType::Location),
            Entity::Contacts => Some(DocType::Contact),
            Entity::ConfigurationItems => Some(DocType::Asset),
            _ => None,
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

/// Where the extract stages each file, relative to the run folder.
pub mod staged {
    /// The Autotask side.
    pub mod autotask {
        pub const COMPANIES: &str = "extract/autotask/companies.parquet";
        pub const RESOURCES: &str = "extract/autotask/resources.parquet";
        pub const CONTACTS: &str = "extract/autotask/contacts.parquet";
        pub const LOCATIONS: &str = "extract/autotask/company_locations.parquet";
        pub const CONFIGURATION_ITEMS: &str = "extract/autotask/configuration_items.parquet";
        pub const CONFIGURATION_ITEM_TYPES: &str =
            "extract/autotask/configuration_item_types.parquet";
        /// Linked records a deletion sweep found gone: `entity` (`Entity::as_str`), `id`.
        pub const DELETED: &str = "extract/autotask/deleted.parquet";
    }
    /// The Passportal side.
    pub mod passportal {
        pub const CLIENTS: &str = "extract/passportal/clients.parquet";
        pub const USERS: &str = "extract/passportal/users.parquet";
        pub const CONTACTS: &str = "extract/passportal/contacts.parquet";
        pub const LOCATIONS: &str = "extract/passportal/locations.parquet";
        pub const ASSETS: &str = "extract/passportal/assets.parquet";
    }
}

/// The document types the sync reads and writes (Passportal has more; these are ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocType {
    Contact,
    Location,
    Asset,
}

impl DocType {
    pub const ALL: [DocType; 3] = [DocType::Contact, DocType::Location, DocType::Asset];

    /// The `type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Contact => "contact",
            DocType::Location => "location",
            DocType::Asset => "asset",
        }
    }

    /// From the `type` value on the wire (case-insensitive).
    pub fn from_wire(s: &str) -> Option<DocType> {
        DocType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for DocType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
