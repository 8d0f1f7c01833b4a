//! What the load sends for each record it creates, built from the staged Autotask records (never
//! from the review tables, so nothing an analyst or a spreadsheet changed in a name, phone or
//! postal code reaches Passportal). Documents carry the record's Autotask id in the templates'
//! id field (`[passportal.templates] id_field`, `Autotask ID` by default), so a later run finds
//! them again even without the ledger.

use crate::api::passportal::fields;
use crate::api::passportal::{Create, NewClient, NewDocument, NewUser, PassportalClient};
use crate::model::entity::Entity;
use crate::model::schema::{Schema, Target};
use crate::stages::extract::autotask as at;
use crate::store::parquet::ParquetError;
use crate::store::staging::Run;
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

    /// The request as `atpp load --dry-run` prints it: the method, path and exact body bytes
    /// the load sends (one builder, `api::passportal::body`).
    pub fn describe(&self, client: &PassportalClient) -> String {
        client.create_request(self.as_create()).describe()
    }

    /// The record, as the client's request builder takes it.
    pub fn as_create(&self) -> Create<'_> {
        match self {
            Payload::Client(c) => Create::Client(c),
            Payload::User(u) => Create::User(u),
            Payload::Document(d) => Create::Document(d),
        }
    }
}

/// The staged Autotask values a load builds its requests from: per entity, the columns the
/// schema table says a create needs (the title's, the template fields', the parent company),
/// by record id.
#[derive(Default)]
pub struct Sources {
    values: HashMap<Entity, Staged>,
    /// The label documents carry the Autotask id in (`[passportal.templates] id_field`).
    id_field: String,
}

/// One entity's staged values: `columns[i]` is the column of `rows[id][i]`.
struct Staged {
    columns: Vec<&'static str>,
    rows: HashMap<i64, Vec<Option<String>>>,
}

impl Staged {
    /// A record's non-blank value of `column`.
    fn get(&self, id: i64, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| *c == column)?;
        let v = self.rows.get(&id)?[i].as_deref()?;
        (!v.trim().is_empty()).then_some(v)
    }
}

impl Sources {
    /// Read the staged records of the entities the plan creates; documents will carry the
    /// Autotask id in the field labelled `id_field`.
    pub fn read(run: &Run, entities: &[Entity], id_field: &str) -> Result<Sources, ParquetError> {
        let mut s = Sources {
            id_field: id_field.to_string(),
            ..Sources::default()
        };
        for entity in entities {
            let schema = Schema::of(*entity);
            let mut columns: Vec<&'static str> = Vec::new();
            let wanted = schema.title.iter().copied();
            let wanted = wanted.chain(schema.template_fields().map(|(c, _)| c));
            for c in wanted.chain(entity.is_child().then_some(COMPANY_ID)) {
                if !columns.contains(&c) {
                    columns.push(c);
                }
            }
            let rows = at::read_columns(&run.path(entity.autotask_file()), &columns)?;
            s.values.insert(*entity, Staged { columns, rows });
        }
        Ok(s)
    }

    /// The company of a child record.
    pub fn company_of(&self, entity: Entity, id: i64) -> Option<i64> {
        if !entity.is_child() {
            return None;
        }
        self.values.get(&entity)?.get(id, COMPANY_ID)?.parse().ok()
    }

    /// The create request for one record; for a child, `client_id` is its company's client.
    pub fn payload(&self, entity: Entity, id: i64, client_id: Option<i64>) -> Option<Payload> {
        let staged = self.values.get(&entity)?;
        staged.rows.get(&id)?;
        let schema = Schema::of(entity);
        let title = schema
            .title
            .iter()
            .filter_map(|c| staged.get(id, c))
            .collect::<Vec<_>>()
            .join(" ");
        let mut fields: Vec<(String, String)> = schema
            .template_fields()
            .filter_map(|(column, label)| {
                Some((label.to_string(), staged.get(id, column)?.to_string()))
            })
            .collect();
        let field = |label: &str| {
            fields
                .iter()
                .find(|(l, _)| l == label)
                .map(|(_, v)| v.clone())
        };
        match schema.target {
            Target::Client => Some(Payload::Client(NewClient { name: title })),
            Target::User => Some(Payload::User(NewUser {
                first_name: field(fields::FIRST_NAME).unwrap_or_default(),
                last_name: field(fields::LAST_NAME).unwrap_or_default(),
                email: field(fields::EMAIL),
            })),
            Target::Document(doc_type) => {
                fields.push((self.id_field.clone(), id.to_string()));
                Some(Payload::Document(NewDocument {
                    client_id: client_id?,
                    doc_type,
                    title,
                    fields,
                }))
            }
        }
    }
}

/// The staged column that names a child record's company.
const COMPANY_ID: &str = "company_id";
