//! Each extracted Autotask entity as typed Parquet columns: ids as i64, booleans as booleans
//! (whatever the wire sent), timestamps as UTC datetimes, user-defined fields as one JSON text
//! column, and picklist labels staged beside the raw value. `Staged` ties a wire model to its
//! columns, its id and its change stamp, so one pager serves every entity.

use crate::api::autotask::models::{
    Company, CompanyLocation, ConfigurationItem, ConfigurationItemType, Contact, Resource,
    UserDefinedField,
};
use crate::store::parquet::{bool_col, frame, int_col, text_col, time_col};
use chrono::{DateTime, Utc};
use polars::prelude::{Column, DataFrame};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};

/// Picklist labels and the pipeline's type selection, fixed for a run.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Company type value → label (`Companies/entityInformation/fields`).
    pub company_types: BTreeMap<i64, String>,
    /// Configuration item type value → label (`ConfigurationItems/entityInformation/fields`,
    /// completed from the ConfigurationItemTypes entity).
    pub ci_types: BTreeMap<i64, String>,
    /// The selected configuration item types, lower-cased; `None` = all.
    pub selected_ci_types: Option<BTreeSet<String>>,
}

impl Labels {
    fn ci_selected(&self, label: Option<&str>) -> Option<bool> {
        match &self.selected_ci_types {
            None => Some(true),
            Some(selected) => label.map(|l| selected.contains(&l.to_lowercase())),
        }
    }
}

/// A wire record the extract stages.
pub trait Staged: DeserializeOwned + Send + Sync + 'static {
    fn id(&self) -> i64;
    /// The change stamp incremental runs filter on, for entities that have one.
    fn stamp(&self) -> Option<DateTime<Utc>> {
        None
    }
    /// The typed columns of a batch of records.
    fn frame(rows: &[Self], labels: &Labels) -> DataFrame;
}

fn udf_col<'a>(name: &str, rows: impl Iterator<Item = &'a Vec<UserDefinedField>>) -> Column {
    let json: Vec<Option<String>> = rows
        .map(|u| (!u.is_empty()).then(|| serde_json::to_string(u).expect("serialises")))
        .collect();
    text_col(name, json.iter().map(|s| s.as_deref()))
}

/// Text column from a field accessor.
fn t<'a, R>(rows: &'a [R], name: &str, f: impl Fn(&'a R) -> &'a Option<String>) -> Column {
    text_col(name, rows.iter().map(|r| f(r).as_deref()))
}

impl Staged for Company {
    fn id(&self) -> i64 {
        self.id
    }

    fn stamp(&self) -> Option<DateTime<Utc>> {
        self.last_tracked_modified_date_time
    }

    fn frame(rows: &[Self], labels: &Labels) -> DataFrame {
        frame(vec![
            int_col("id", rows.iter().map(|r| Some(r.id))),
            t(rows, "company_name", |r| &r.company_name),
            t(rows, "company_number", |r| &r.company_number),
            int_col("company_type", rows.iter().map(|r| r.company_type)),
            text_col(
                "company_type_label",
                rows.iter().map(|r| {
                    r.company_type
                        .and_then(|v| labels.company_types.get(&v))
                        .map(String::as_str)
                }),
            ),
            bool_col("is_active", rows.iter().map(|r| r.is_active)),
            t(rows, "phone", |r| &r.phone),
            t(rows, "fax", |r| &r.fax),
            t(rows, "address1", |r| &r.address1),
            t(rows, "address2", |r| &r.address2),
            t(rows, "city", |r| &r.city),
            t(rows, "state", |r| &r.state),
            t(rows, "postal_code", |r| &r.postal_code),
            int_col("country_id", rows.iter().map(|r| r.country_id)),
            t(rows, "web_address", |r| &r.web_address),
            int_col(
                "parent_company_id",
                rows.iter().map(|r| r.parent_company_id),
            ),
            time_col("create_date", rows.iter().map(|r| r.create_date)),
            time_col(
                "last_activity_date",
                rows.iter().map(|r| r.last_activity_date),
            ),
            time_col(
                "last_tracked_modified_date_time",
                rows.iter().map(|r| r.last_tracked_modified_date_time),
            ),
            udf_col(
                "user_defined_fields",
                rows.iter().map(|r| &r.user_defined_fields),
            ),
        ])
    }
}

impl Staged for Resource {
    fn id(&self) -> i64 {
        self.id
    }

    fn frame(rows: &[Self], _labels: &Labels) -> DataFrame {
        frame(vec![
            int_col("id", rows.iter().map(|r| Some(r.id))),
            t(rows, "first_name", |r| &r.first_name),
            t(rows, "middle_name", |r| &r.middle_name),
            t(rows, "last_name", |r| &r.last_name),
            t(rows, "email", |r| &r.email),
            t(rows, "user_name", |r| &r.user_name),
            t(rows, "title", |r| &r.title),
            bool_col("is_active", rows.iter().map(|r| r.is_active)),
            t(rows, "resource_type", |r| &r.resource_type),
            int_col("license_type", rows.iter().map(|r| r.license_type)),
            int_col("user_type", rows.iter().map(|r| r.user_type)),
            t(rows, "office_phone", |r| &r.office_phone),
            t(rows, "mobile_phone", |r| &r.mobile_phone),
        ])
    }
}

impl Staged for Contact {
    fn id(&self) -> i64 {
        self.id
    }

    fn stamp(&self) -> Option<DateTime<Utc>> {
        self.last_modified_date
    }

    fn frame(rows: &[Self], _labels: &Labels) -> DataFrame {
        frame(vec![
            int_col("id", rows.iter().map(|r| Some(r.id))),
            int_col("company_id", rows.iter().map(|r| r.company_id)),
            int_col(
                "company_location_id",
                rows.iter().map(|r| r.company_location_id),
            ),
            t(rows, "first_name", |r| &r.first_name),
            t(rows, "last_name", |r| &r.last_name),
            t(rows, "title", |r| &r.title),
            t(rows, "email_address", |r| &r.email_address),
            t(rows, "email_address2", |r| &r.email_address2),
            t(rows, "phone", |r| &r.phone),
            t(rows, "mobile_phone", |r| &r.mobile_phone),
            bool_col("is_active", rows.iter().map(|r| r.is_active)),
            t(rows, "address_line", |r| &r.address_line),
            t(rows, "address_line1", |r| &r.address_line1),
            t(rows, "city", |r| &r.city),
            t(rows, "state", |r| &r.state),
            t(rows, "zip_code", |r| &r.zip_code),
            int_col("country_id", rows.iter().map(|r| r.country_id)),
            time_col("create_date", rows.iter().map(|r| r.create_date)),
            time_col(
                "last_activity_date",
                rows.iter().map(|r| r.last_activity_date),
            ),
            time_col(
                "last_modified_date",
                rows.iter().map(|r| r.last_modified_date),
            ),
            udf_col(
                "user_defined_fields",
                rows.iter().map(|r| &r.user_defined_fields),
            ),
        ])
    }
}

impl Staged for CompanyLocation {
    fn id(&self) -> i64 {
        self.id
    }

    fn frame(rows: &[Self], _labels: &Labels) -> DataFrame {
        frame(vec![
            int_col("id", rows.iter().map(|r| Some(r.id))),
            int_col("company_id", rows.iter().map(|r| r.company_id)),
            t(rows, "name", |r| &r.name),
            t(rows, "description", |r| &r.description),
            t(rows, "address1", |r| &r.address1),
            t(rows, "address2", |r| &r.address2),
            t(rows, "city", |r| &r.city),
            t(rows, "state", |r| &r.state),
            t(rows, "postal_code", |r| &r.postal_code),
            int_col("country_id", rows.iter().map(|r| r.country_id)),
            t(rows, "phone", |r| &r.phone),
            bool_col("is_active", rows.iter().map(|r| r.is_active)),
            bool_col("is_primary", rows.iter().map(|r| r.is_primary)),
        ])
    }
}

impl Staged for ConfigurationItem {
    fn id(&self) -> i64 {
        self.id
    }

    fn stamp(&self) -> Option<DateTime<Utc>> {
        self.last_modified_time
    }

    fn frame(rows: &[Self], labels: &Labels) -> DataFrame {
        let label = |r: &ConfigurationItem| {
            r.configuration_item_type
                .and_then(|v| labels.ci_types.get(&v))
                .map(String::as_str)
        };
        frame(vec![
            int_col("id", rows.iter().map(|r| Some(r.id))),
            int_col("company_id", rows.iter().map(|r| r.company_id)),
            int_col(
                "company_location_id",
                rows.iter().map(|r| r.company_location_id),
            ),
            int_col(
                "configuration_item_type",
                rows.iter().map(|r| r.configuration_item_type),
            ),
            text_col("configuration_item_type_label", rows.iter().map(label)),
            bool_col(
                "configuration_item_type_selected",
                rows.iter().map(|r| labels.ci_selected(label(r))),
            ),
            t(rows, "reference_title", |r| &r.reference_title),
            t(rows, "reference_number", |r| &r.reference_number),
            t(rows, "serial_number", |r| &r.serial_number),
            int_col("product_id", rows.iter().map(|r| r.product_id)),
            int_col("contact_id", rows.iter().map(|r| r.contact_id)),
            time_col("install_date", rows.iter().map(|r| r.install_date)),
            time_col(
                "warranty_expiration_date",
                rows.iter().map(|r| r.warranty_expiration_date),
            ),
            bool_col("is_active", rows.iter().map(|r| r.is_active)),
            t(rows, "location", |r| &r.location),
            t(rows, "notes", |r| &r.notes),
            time_col("create_date", rows.iter().map(|r| r.create_date)),
            time_col(
                "last_modified_time",
                rows.iter().map(|r| r.last_modified_time),
            ),
            t(rows, "rmm_device_audit_hostname", |r| {
                &r.rmm_device_audit_hostname
            }),
            t(rows, "rmm_device_audit_ip_address", |r| {
                &r.rmm_device_audit_ip_address
            }),
            t(rows, "rmm_device_audit_mac_address", |r| {
                &r.rmm_device_audit_mac_address
            }),
            t(rows, "rmm_device_audit_operating_system", |r| {
                &r.rmm_device_audit_operating_system
            }),
            udf_col(
                "user_defined_fields",
                rows.iter().map(|r| &r.user_defined_fields),
            ),
        ])
    }
}

impl Staged for ConfigurationItemType {
    fn id(&self) -> i64 {
        self.id
    }

    fn frame(rows: &[Self], _labels: &Labels) -> DataFrame {
        frame(vec![
            int_col("id", rows.iter().map(|r| Some(r.id))),
            t(rows, "name", |r| &r.name),
            bool_col("is_active", rows.iter().map(|r| r.is_active)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entity::Entity;
    use crate::model::schema::{Kind, Schema};
    use polars::prelude::{DataType, TimeUnit};

    fn kind_of(dtype: &DataType) -> Option<Kind> {
        match dtype {
            DataType::Int64 => Some(Kind::Int),
            DataType::String => Some(Kind::Text),
            DataType::Boolean => Some(Kind::Bool),
            DataType::Datetime(TimeUnit::Milliseconds, Some(_)) => Some(Kind::Time),
            _ => None,
        }
    }

    /// The staged Parquet columns are the schema table's, in its order and with its types.
    #[test]
    fn staged_columns_are_the_schema_tables() {
        let labels = Labels::default();
        for entity in Entity::ALL {
            let df = match entity {
                Entity::Companies => Company::frame(&[], &labels),
                Entity::Resources => Resource::frame(&[], &labels),
                Entity::Contacts => Contact::frame(&[], &labels),
                Entity::Locations => CompanyLocation::frame(&[], &labels),
                Entity::ConfigurationItems => ConfigurationItem::frame(&[], &labels),
            };
            let staged: Vec<(String, Option<Kind>)> = df
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), kind_of(c.dtype())))
                .collect();
            let declared: Vec<(String, Option<Kind>)> = Schema::of(*entity)
                .fields
                .iter()
                .map(|f| (f.column.to_string(), Some(f.kind)))
                .collect();
            assert_eq!(staged, declared, "{entity}");
        }
    }
}
