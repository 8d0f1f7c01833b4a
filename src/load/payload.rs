//! What the load sends for each record it creates, built from the staged Autotask records (never
//! from the review tables, so nothing an analyst or a spreadsheet changed in a name, phone or
//! postal code reaches Passportal). Documents carry the record's Autotask id in an
//! `Autotask ID` field, so a later run finds them again even without the ledger.

use crate::entity::Entity;
use crate::extract::autotask as at;
use crate::extract::autotask::CompanyRow;
use crate::extract::parquet::ParquetError;
use crate::extract::rows::{ConfigurationItemRow, ContactRow, LocationRow, ResourceRow};
use crate::passportal::fields;
use crate::passportal::routes;
use crate::passportal::{DocType, NewClient, NewDocument, NewUser};
use crate::staging::Run;
use std::collections::HashMap;

/// One create request.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Client(NewClient),
    User(NewUser),
    Document(NewDocument),
}

impl Payload {
    /// The record's name, for summaries and `load/errors.csv`.
    pub fn title(&self) -> String {
        match self {
            Payload::Client(c) => c.name.clone(),
            Payload::User(u) => format!("{} {}", u.first_name, u.last_name)
                .trim()
                .to_string(),
            Payload::Document(d) => d.title.clone(),
        }
    }

    /// The request as `atpp load --dry-run` prints it.
    pub fn describe(&self) -> String {
        let (route, body) = match self {
            Payload::Client(c) => (routes::CREATE_CLIENT, serde_json::json!({ "name": c.name })),
            Payload::User(u) => (
                routes::CREATE_USER,
                serde_json::json!({
                    "firstName": u.first_name, "lastName": u.last_name, "email": u.email
                }),
            ),
            Payload::Document(d) => (
                routes::CREATE_DOCUMENT,
                serde_json::json!({
                    "clientId": d.client_id,
                    "type": d.doc_type.as_str(),
                    "title": d.title,
                    "fields": d.fields.iter()
                        .map(|(n, v)| serde_json::json!({ "name": n, "value": v }))
                        .collect::<Vec<_>>(),
                }),
            ),
        };
        format!("{} {} {}", route.method, route.path, body)
    }
}

/// The staged Autotask records a load builds its requests from.
#[derive(Default)]
pub struct Sources {
    companies: HashMap<i64, CompanyRow>,
    resources: HashMap<i64, ResourceRow>,
    locations: HashMap<i64, LocationRow>,
    contacts: HashMap<i64, ContactRow>,
    items: HashMap<i64, ConfigurationItemRow>,
}

impl Sources {
    /// Read the staged records of the entities the plan creates.
    pub fn read(run: &Run, entities: &[Entity]) -> Result<Sources, ParquetError> {
        let mut s = Sources::default();
        for entity in entities {
            let path = run.path(entity.autotask_file());
            match entity {
                Entity::Companies => {
                    s.companies = at::read_companies(&path)?
                        .into_iter()
                        .map(|r| (r.id, r))
                        .collect()
                }
                Entity::Resources => {
                    s.resources = at::read_resources(&path)?
                        .into_iter()
                        .map(|r| (r.id, r))
                        .collect()
                }
                Entity::Locations => {
                    s.locations = at::read_locations(&path)?
                        .into_iter()
                        .map(|r| (r.id, r))
                        .collect()
                }
                Entity::Contacts => {
                    s.contacts = at::read_contacts(&path)?
                        .into_iter()
                        .map(|r| (r.id, r))
                        .collect()
                }
                Entity::ConfigurationItems => {
                    s.items = at::read_configuration_items(&path)?
                        .into_iter()
                        .map(|r| (r.id, r))
                        .collect()
                }
            }
        }
        Ok(s)
    }

    /// The company of a child record.
    pub fn company_of(&self, entity: Entity, id: i64) -> Option<i64> {
        match entity {
            Entity::Locations => self.locations.get(&id)?.company_id,
            Entity::Contacts => self.contacts.get(&id)?.company_id,
            Entity::ConfigurationItems => self.items.get(&id)?.company_id,
            _ => None,
        }
    }

    /// The create request for one record; for a child, `client_id` is its company's client.
    pub fn payload(&self, entity: Entity, id: i64, client_id: Option<i64>) -> Option<Payload> {
        let t = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut put = |label: &str, value: Option<String>| {
            if let Some(v) = value {
                fields.push((label.to_string(), v));
            }
        };
        let (doc_type, title) = match entity {
            Entity::Companies => {
                let c = self.companies.get(&id)?;
                return Some(Payload::Client(NewClient {
                    name: c.name.clone(),
                }));
            }
            Entity::Resources => {
                let r = self.resources.get(&id)?;
                return Some(Payload::User(NewUser {
                    first_name: t(&r.first_name).unwrap_or_default(),
                    last_name: t(&r.last_name).unwrap_or_default(),
                    email: t(&r.email),
                }));
            }
            Entity::Contacts => {
                let c = self.contacts.get(&id)?;
                put(fields::FIRST_NAME, t(&c.first_name));
                put(fields::LAST_NAME, t(&c.last_name));
                put(fields::EMAIL, t(&c.email_address));
                put(fields::PHONE, t(&c.phone));
                put(fields::MOBILE, t(&c.mobile_phone));
                put(fields::TITLE, t(&c.title));
                let title = format!(
                    "{} {}",
                    c.first_name.as_deref().unwrap_or_default(),
                    c.last_name.as_deref().unwrap_or_default()
                );
                (DocType::Contact, title.trim().to_string())
            }
            Entity::Locations => {
                let l = self.locations.get(&id)?;
                put(fields::ADDRESS, t(&l.address1));
                put(fields::ADDRESS_2, t(&l.address2));
                put(fields::CITY, t(&l.city));
                put(fields::STATE, t(&l.state));
                put(fields::POSTAL_CODE, t(&l.postal_code));
                put(fields::PHONE, t(&l.phone));
                (DocType::Location, l.name.clone().unwrap_or_default())
            }
            Entity::ConfigurationItems => {
                let c = self.items.get(&id)?;
                put(fields::SERIAL_NUMBER, t(&c.serial_number));
                put(fields::ASSET_TYPE, t(&c.configuration_item_type_label));
                put(fields::HOSTNAME, t(&c.rmm_device_audit_hostname));
                (
                    DocType::Asset,
                    c.reference_title.clone().unwrap_or_default(),
                )
            }
        };
        put(fields::AUTOTASK_ID, Some(id.to_string()));
        Some(Payload::Document(NewDocument {
            client_id: client_id?,
            doc_type,
            title,
            fields,
        }))
    }
}
