//! One match spec per entity, as data: which rule compares it, where its candidates come from
//! (all of Passportal, or only the documents of its company's client), the columns the rule
//! blocks on and compares, the thresholds that turn scores into decisions, and what is out of
//! scope. The pipeline file gives the thresholds and scope; the schema table
//! (`model::schema`, `match_keys`) names the columns, and a test proves every rule's columns are
//! exactly its entity's match keys. `decide::match_all` runs the specs.

use crate::model::entity::Entity;
use crate::model::pipeline::{MatchingConfig, Pipeline, Thresholds};
use crate::model::schema::Schema;

/// How an entity's records are compared with their candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Companies → clients: identical, normalised, qualified, then similar name (a trigram
    /// index blocks), the client's document phones and postal codes as evidence against a name.
    CompanyName,
    /// Resources → users: the e-mail address, then first and last name, straight or swapped.
    Person,
    /// Contacts → contact documents: Fellegi–Sunter over every field, blocked on a shared name
    /// word, postal code, phone, e-mail, address or initials.
    ContactModel,
    /// Locations → location documents: the name, then the address (a different city lowers it).
    NameThenAddress,
    /// Configuration items → asset documents: the serial number, then title or hostname.
    SerialThenName,
}

impl Rule {
    /// The rule of `entity`.
    pub fn of(entity: Entity) -> Rule {
        match entity {
            Entity::Companies => Rule::CompanyName,
            Entity::Resources => Rule::Person,
            Entity::Contacts => Rule::ContactModel,
            Entity::Locations => Rule::NameThenAddress,
            Entity::ConfigurationItems => Rule::SerialThenName,
        }
    }

    /// The staged columns whose values make a pair a candidate at all.
    pub fn blocking(self) -> &'static [&'static str] {
        match self {
            Rule::CompanyName => &["company_name"],
            Rule::Person => &["email", "first_name", "last_name"],
            Rule::ContactModel => &[
                "first_name",
                "last_name",
                "zip_code",
                "phone",
                "mobile_phone",
                "email_address",
                "address_line",
            ],
            // Within the parent's client every document is compared.
            Rule::NameThenAddress | Rule::SerialThenName => &[],
        }
    }
}

/// Where an entity's candidates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    /// Every Passportal record of its kind (clients, users).
    Everything,
    /// The documents of the client its company is linked to; a child follows its company.
    ParentClient,
}

/// How one entity is matched.
#[derive(Debug, Clone)]
pub struct MatchSpec {
    pub entity: Entity,
    pub rule: Rule,
    /// The staged columns the rule reads: the schema table's match keys.
    pub keys: &'static [&'static str],
    pub within: Within,
    pub thresholds: Thresholds,
    /// Inactive Autotask records are matched too (otherwise excluded).
    pub include_inactive: bool,
    /// The type labels in scope (company types for companies, configuration item types for
    /// configuration items), compared case-insensitively; empty: every type.
    pub types: Vec<String>,
}

impl MatchSpec {
    /// The spec of `entity` with these thresholds and the default scope: active records of
    /// every type.
    pub fn new(entity: Entity, thresholds: Thresholds) -> MatchSpec {
        MatchSpec {
            entity,
            rule: Rule::of(entity),
            keys: Schema::of(entity).match_keys,
            within: if entity.is_child() {
                Within::ParentClient
            } else {
                Within::Everything
            },
            thresholds,
            include_inactive: false,
            types: Vec::new(),
        }
    }

    /// The spec of `entity` under a pipeline's thresholds and scope.
    pub fn of(entity: Entity, pipeline: &Pipeline) -> MatchSpec {
        let types = match entity {
            Entity::Companies => pipeline.sync.company_types.clone(),
            Entity::ConfigurationItems => pipeline.extract.configuration_item_types.clone(),
            _ => Vec::new(),
        };
        MatchSpec {
            include_inactive: pipeline.sync.include_inactive,
            types,
            ..MatchSpec::new(entity, thresholds(&pipeline.matching, entity))
        }
    }

    /// Every entity's spec under a pipeline, parents before children (the order `match_all`
    /// needs).
    pub fn all(pipeline: &Pipeline) -> Vec<MatchSpec> {
        Entity::ALL
            .iter()
            .map(|e| MatchSpec::of(*e, pipeline))
            .collect()
    }

    /// Every entity's spec with these thresholds and the default scope.
    pub fn defaults(matching: &MatchingConfig) -> Vec<MatchSpec> {
        Entity::ALL
            .iter()
            .map(|e| MatchSpec::new(*e, thresholds(matching, *e)))
            .collect()
    }

    /// Whether a type label is in scope.
    pub fn selects(&self, label: &str) -> bool {
        let label = label.to_lowercase();
        self.types.is_empty() || self.types.iter().any(|t| t.to_lowercase() == label)
    }
}

/// An entity's thresholds in the pipeline's matching section.
fn thresholds(m: &MatchingConfig, entity: Entity) -> Thresholds {
    match entity {
        Entity::Companies => m.companies,
        Entity::Resources => m.resources,
        Entity::Locations => m.locations,
        Entity::Contacts => m.contacts,
        Entity::ConfigurationItems => m.configuration_items,
    }
}
