//! The Autotask entities an extract can read, declared once each: the staged file, the REST
//! endpoint, the ledger entity and the change stamp incremental runs filter on, and which of them
//! a pipeline selects.

use crate::model::entity::Entity;
use crate::model::pipeline::ExtractConfig;

/// One extracted entity: its file, endpoint, ledger entity and change stamp.
pub struct Spec {
    pub key: &'static str,
    pub endpoint: &'static str,
    /// The entity in the ledger (watermarks, links); none for configuration item types.
    pub entity: Option<Entity>,
    /// The wire field incremental runs filter on; `None`: always read in full.
    pub stamp_field: Option<&'static str>,
    pub path: &'static str,
}

pub static SPECS: &[Spec] = &[
    Spec {
        key: "companies",
        endpoint: "Companies",
        entity: Some(Entity::Companies),
        stamp_field: Some("lastTrackedModifiedDateTime"),
        path: super::COMPANIES,
    },
    Spec {
        key: "resources",
        endpoint: "Resources",
        entity: Some(Entity::Resources),
        stamp_field: None,
        path: super::RESOURCES,
    },
    Spec {
        key: "contacts",
        endpoint: "Contacts",
        entity: Some(Entity::Contacts),
        stamp_field: Some("lastModifiedDate"),
        path: super::CONTACTS,
    },
    Spec {
        key: "company_locations",
        endpoint: "CompanyLocations",
        entity: Some(Entity::Locations),
        stamp_field: None,
        path: super::LOCATIONS,
    },
    Spec {
        key: "configuration_items",
        endpoint: "ConfigurationItems",
        entity: Some(Entity::ConfigurationItems),
        stamp_field: Some("lastModifiedTime"),
        path: super::CONFIGURATION_ITEMS,
    },
    Spec {
        key: "configuration_item_types",
        endpoint: "ConfigurationItemTypes",
        entity: None,
        stamp_field: None,
        path: super::CONFIGURATION_ITEM_TYPES,
    },
];

/// The entities the pipeline selects (companies always; item types with configuration items).
pub fn selected(cfg: &ExtractConfig) -> Vec<&'static Spec> {
    SPECS
        .iter()
        .filter(|s| match s.key {
            "companies" => true,
            "resources" => cfg.resources,
            "contacts" => cfg.contacts,
            "company_locations" => cfg.locations,
            _ => cfg.configuration_items,
        })
        .collect()
}
