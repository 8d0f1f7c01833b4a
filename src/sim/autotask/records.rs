//! The record kinds the Autotask simulator serves: how each entity's records read as typed field
//! values (for filters) and how they render onto the wire (camelCase JSON, in the several date
//! formats real Autotask sends). Adding an entity means one more `EntityDef` in `ENTITIES`
//! (the five besides companies live in `entities.rs`).

use super::entities;
use crate::sim::generator::{AtCompany, AutotaskTenant, COMPANY_TYPES};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// The data types `entityInformation/fields` reports and filter values are parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DataType {
    Integer,
    Boolean,
    String,
    DateTime,
}

impl DataType {
    fn wire_name(self) -> &'static str {
        match self {
            DataType::Integer => "integer",
            DataType::Boolean => "boolean",
            DataType::String => "string",
            DataType::DateTime => "datetime",
        }
    }
}

/// A field's value as a filter sees it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FieldValue {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Date(DateTime<Utc>),
}

impl FieldValue {
    pub(super) fn opt_text(v: &Option<String>) -> FieldValue {
        v.as_ref()
            .map_or(FieldValue::Null, |s| FieldValue::Text(s.clone()))
    }

    pub(super) fn opt_int(v: Option<i64>) -> FieldValue {
        v.map_or(FieldValue::Null, FieldValue::Int)
    }

    /// Ordering between two values of the same kind; strings compare case-insensitively.
    /// `None` when either is null or the kinds differ.
    pub(super) fn compare(&self, other: &FieldValue) -> Option<Ordering> {
        match (self, other) {
            (FieldValue::Int(a), FieldValue::Int(b)) => Some(a.cmp(b)),
            (FieldValue::Bool(a), FieldValue::Bool(b)) => Some(a.cmp(b)),
            (FieldValue::Text(a), FieldValue::Text(b)) => {
                Some(a.to_lowercase().cmp(&b.to_lowercase()))
            }
            (FieldValue::Date(a), FieldValue::Date(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Lower-cased text form for `beginsWith`/`endsWith`/`contains`; `None` for null.
    pub(super) fn lower_text(&self) -> Option<String> {
        match self {
            FieldValue::Null => None,
            FieldValue::Int(i) => Some(i.to_string()),
            FieldValue::Bool(b) => Some(b.to_string()),
            FieldValue::Text(s) => Some(s.to_lowercase()),
            FieldValue::Date(d) => Some(d.format("%Y-%m-%dT%H:%M:%S%.3fz").to_string()),
        }
    }
}

/// Where a picklist field's values and labels come from.
#[derive(Clone, Copy)]
pub(super) enum Picklist {
    /// Fixed (value, label) pairs.
    Static(&'static [(i32, &'static str)]),
    /// The tenant's configuration item types (labels are per tenant).
    CiTypes,
}

/// One field of an entity as `entityInformation/fields` describes it.
pub(super) struct FieldDef {
    pub name: &'static str,
    pub data_type: DataType,
    pub picklist: Option<Picklist>,
    pub reference: Option<&'static str>,
}

pub(super) const fn field(name: &'static str, data_type: DataType) -> FieldDef {
    FieldDef {
        name,
        data_type,
        picklist: None,
        reference: None,
    }
}

pub(super) const fn reference(name: &'static str, entity: &'static str) -> FieldDef {
    FieldDef {
        name,
        data_type: DataType::Integer,
        picklist: None,
        reference: Some(entity),
    }
}

/// A record the simulator can filter and render.
pub(super) trait SimRecord: Sync {
    fn id(&self) -> i64;
    /// The value of a standard field by lower-cased name (`Null` when unset or unknown).
    fn field(&self, lower_name: &str) -> FieldValue;
    /// The value of a user-defined field by lower-cased name.
    fn udf(&self, lower_name: &str) -> Option<String>;
    /// The full wire form of the record.
    fn to_json(&self) -> Map<String, Value>;
}

/// An entity endpoint: its fields, its user-defined fields and where its records live.
pub(super) struct EntityDef {
    /// The endpoint name as the docs spell it (`Companies`).
    pub name: &'static str,
    pub fields: &'static [FieldDef],
    pub udfs: &'static [&'static str],
    pub records: fn(&AutotaskTenant) -> &dyn RecordSet,
}

/// An entity's records in ascending id order, indexable without copying (a million
/// configuration items are served page by page, never collected).
pub(super) trait RecordSet: Sync {
    fn len(&self) -> usize;
    fn at(&self, index: usize) -> &dyn SimRecord;

    /// The index of the first record with an id of at least `id`.
    fn lower_bound(&self, id: i64) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.at(mid).id() < id {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The record with this id.
    fn find(&self, id: i64) -> Option<&dyn SimRecord> {
        let i = self.lower_bound(id);
        (i < self.len() && self.at(i).id() == id).then(|| self.at(i))
    }
}

impl<T: SimRecord> RecordSet for Vec<T> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn at(&self, index: usize) -> &dyn SimRecord {
        &self[index]
    }
}

impl EntityDef {
    pub(super) fn field(&self, lower_name: &str) -> Option<&'static FieldDef> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(lower_name))
    }

    pub(super) fn has_udf(&self, name: &str) -> bool {
        self.udfs.iter().any(|u| u.eq_ignore_ascii_case(name))
    }

    /// The answer of `GET {Entity}/entityInformation/fields` (picklist labels are the tenant's).
    pub(super) fn fields_json(&self, tenant: &AutotaskTenant) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                let picklist = f.picklist.map(|source| {
                    let values: Vec<(i64, String, bool)> = match source {
                        Picklist::Static(values) => values
                            .iter()
                            .map(|(v, l)| (i64::from(*v), l.to_string(), true))
                            .collect(),
                        Picklist::CiTypes => tenant
                            .ci_types
                            .iter()
                            .map(|t| (t.id, t.name.clone(), t.is_active))
                            .collect(),
                    };
                    values
                        .into_iter()
                        .enumerate()
                        .map(|(i, (value, label, active))| {
                            json!({
                                "value": value.to_string(),
                                "label": label,
                                "isActive": active,
                                "isSystem": true,
                                "sortOrder": i,
                                "parentValue": "",
                            })
                        })
                        .collect::<Vec<_>>()
                });
                json!({
                    "name": f.name,
                    "dataType": f.data_type.wire_name(),
                    "length": if f.data_type == DataType::String { 100 } else { 0 },
                    "isRequired": f.name == "id",
                    "isReadOnly": f.name == "id",
                    "isQueryable": true,
                    "isReference": f.reference.is_some(),
                    "referenceEntityType": f.reference.unwrap_or(""),
                    "isPickList": f.picklist.is_some(),
                    "picklistValues": picklist,
                    "picklistParentValueField": "",
                    "isSupportedWebhookField": false,
                })
            })
            .collect();
        json!({ "fields": fields })
    }
}

/// Every entity the simulator knows. Any other endpoint name is a 404.
pub(super) static ENTITIES: &[EntityDef] = &[
    EntityDef {
        name: "Companies",
        fields: COMPANY_FIELDS,
        udfs: &["Contract Level"],
        records: |t| &t.companies,
    },
    EntityDef {
        name: "Resources",
        fields: entities::RESOURCE_FIELDS,
        udfs: &[],
        records: |t| &t.resources,
    },
    EntityDef {
        name: "Contacts",
        fields: entities::CONTACT_FIELDS,
        udfs: &[entities::CONTACT_UDF],
        records: |t| &t.contacts,
    },
    EntityDef {
        name: "CompanyLocations",
        fields: entities::LOCATION_FIELDS,
        udfs: &[],
        records: |t| &t.locations,
    },
    EntityDef {
        name: "ConfigurationItems",
        fields: entities::CI_FIELDS,
        udfs: &[entities::CI_UDF, "PassportalID"],
        records: |t| &t.configuration_items,
    },
    EntityDef {
        name: "ConfigurationItemTypes",
        fields: entities::CI_TYPE_FIELDS,
        udfs: &[],
        records: |t| &t.ci_types,
    },
];

pub(super) fn entity(lower_name: &str) -> Option<&'static EntityDef> {
    ENTITIES
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(lower_name))
}

/// A record's wire form, reduced to `include` (case-insensitive; `id` always kept) when given.
pub(super) fn render(record: &dyn SimRecord, include: Option<&[String]>) -> Value {
    let full = record.to_json();
    let Some(include) = include else {
        return Value::Object(full);
    };
    let kept = full
        .into_iter()
        .filter(|(k, _)| k == "id" || include.iter().any(|i| i.eq_ignore_ascii_case(k)))
        .collect();
    Value::Object(kept)
}

/// A timestamp in one of the formats real Autotask sends, picked by `variant`.
pub(super) fn wire_date(d: &DateTime<Utc>, variant: i64) -> String {
    match variant.rem_euclid(3) {
        0 => d.format("%Y-%m-%dT%H:%M:%S").to_string(),
        1 => d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        _ => d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    }
}

/// An optional timestamp: `""` for an unset one on even ids, `null` on odd ones (both are seen).
pub(super) fn wire_opt_date(d: &Option<DateTime<Utc>>, id: i64, variant: i64) -> Value {
    match d {
        Some(d) => Value::String(wire_date(d, variant)),
        None if id.rem_euclid(2) == 0 => Value::String(String::new()),
        None => Value::Null,
    }
}

static COMPANY_FIELDS: &[FieldDef] = &[
    field("id", DataType::Integer),
    field("companyName", DataType::String),
    field("companyNumber", DataType::String),
    FieldDef {
        name: "companyType",
        data_type: DataType::Integer,
        picklist: Some(Picklist::Static(COMPANY_TYPES)),
        reference: None,
    },
    field("isActive", DataType::Boolean),
    field("phone", DataType::String),
    field("fax", DataType::String),
    field("address1", DataType::String),
    field("address2", DataType::String),
    field("city", DataType::String),
    field("state", DataType::String),
    field("postalCode", DataType::String),
    reference("countryID", "Country"),
    field("webAddress", DataType::String),
    reference("parentCompanyID", "Company"),
    field("createDate", DataType::DateTime),
    field("lastActivityDate", DataType::DateTime),
    field("lastTrackedModifiedDateTime", DataType::DateTime),
];

impl SimRecord for AtCompany {
    fn id(&self) -> i64 {
        self.id
    }

    fn field(&self, lower_name: &str) -> FieldValue {
        match lower_name {
            "id" => FieldValue::Int(self.id),
            "companyname" => FieldValue::Text(self.company_name.clone()),
            "companynumber" => FieldValue::opt_text(&self.company_number),
            "companytype" => FieldValue::Int(i64::from(self.company_type)),
            "isactive" => FieldValue::Bool(self.is_active),
            "phone" => FieldValue::opt_text(&self.phone),
            "fax" => FieldValue::opt_text(&self.fax),
            "address1" => FieldValue::opt_text(&self.address1),
            "address2" => FieldValue::opt_text(&self.address2),
            "city" => FieldValue::opt_text(&self.city),
            "state" => FieldValue::opt_text(&self.state),
            "postalcode" => FieldValue::opt_text(&self.postal_code),
            "countryid" => FieldValue::opt_int(self.country_id),
            "webaddress" => FieldValue::opt_text(&self.web_address),
            "parentcompanyid" => FieldValue::opt_int(self.parent_company_id),
            "createdate" => FieldValue::Date(self.create_date),
            "lastactivitydate" => self
                .last_activity_date
                .map_or(FieldValue::Null, FieldValue::Date),
            "lasttrackedmodifieddatetime" => FieldValue::Date(self.last_tracked_modified_date_time),
            _ => FieldValue::Null,
        }
    }

    fn udf(&self, lower_name: &str) -> Option<String> {
        (lower_name == "contract level" && self.id.rem_euclid(7) == 0).then(|| "Gold".to_string())
    }

    fn to_json(&self) -> Map<String, Value> {
        let id = self.id;
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("companyName".into(), json!(self.company_name));
        m.insert("companyNumber".into(), json!(self.company_number));
        m.insert("companyType".into(), json!(self.company_type));
        m.insert("isActive".into(), json!(self.is_active));
        m.insert("phone".into(), json!(self.phone));
        m.insert("fax".into(), json!(self.fax));
        m.insert("address1".into(), json!(self.address1));
        m.insert("address2".into(), json!(self.address2));
        m.insert("city".into(), json!(self.city));
        m.insert("state".into(), json!(self.state));
        m.insert("postalCode".into(), json!(self.postal_code));
        m.insert("countryID".into(), json!(self.country_id));
        m.insert("webAddress".into(), json!(self.web_address));
        m.insert("parentCompanyID".into(), json!(self.parent_company_id));
        m.insert("createDate".into(), json!(wire_date(&self.create_date, id)));
        m.insert(
            "lastActivityDate".into(),
            wire_opt_date(&self.last_activity_date, id, id + 1),
        );
        m.insert(
            "lastTrackedModifiedDateTime".into(),
            json!(wire_date(&self.last_tracked_modified_date_time, id + 2)),
        );
        if let Some(level) = self.udf("contract level") {
            m.insert(
                "userDefinedFields".into(),
                json!([{ "name": "Contract Level", "value": level }]),
            );
        }
        // A field the docs do not list yet, as Autotask adds them without notice.
        if id.rem_euclid(5) == 3 {
            m.insert("sim_newFieldNotInDocs".into(), json!(1));
        }
        m
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;
    use crate::model::entity::Entity;
    use crate::model::schema::{Kind, Schema};

    /// The simulator serves every wire field the schema table stages, with the same type.
    #[test]
    fn the_simulator_serves_the_schema_tables_fields() {
        for e in Entity::ALL {
            let def = entity(e.autotask_endpoint()).expect("the simulator serves every entity");
            for f in Schema::of(*e).fields {
                let Some(wire) = f.wire else { continue };
                let served = def
                    .field(wire)
                    .unwrap_or_else(|| panic!("{e}: the simulator lacks {wire}"));
                let expected = match f.kind {
                    Kind::Int => DataType::Integer,
                    Kind::Text => DataType::String,
                    Kind::Bool => DataType::Boolean,
                    Kind::Time => DataType::DateTime,
                };
                // Contacts' isActive is an integer 0/1 on the wire; the extract stages a boolean.
                let contact_flag = *e == Entity::Contacts && wire == "isActive";
                assert!(
                    served.data_type == expected || contact_flag,
                    "{e}.{wire}: simulator {:?}, schema {:?}",
                    served.data_type,
                    f.kind
                );
            }
        }
    }
}
