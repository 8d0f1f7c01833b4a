//! Wire models of the entities extracted besides companies (resources, contacts, company
//! locations, configuration items and their types), every field the contract lists. Lenient
//! like `Company`: unknown fields ignored, ids as numbers or numeric strings, booleans as
//! `true`/`1`/`"1"` (contacts send `isActive` as 0/1), dates in every form seen, `""` as null.

use super::models::{boolean, datetime, int, null_as_empty as udfs, text, UserDefinedField};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// An Autotask resource (an internal user of the MSP).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: i64,
    #[serde(default, deserialize_with = "text")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub middle_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "boolean")]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "text")]
    pub resource_type: Option<String>,
    #[serde(default, deserialize_with = "int")]
    pub license_type: Option<i64>,
    #[serde(default, deserialize_with = "int")]
    pub user_type: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub office_phone: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub mobile_phone: Option<String>,
}

/// An Autotask contact (a person at a customer).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: i64,
    #[serde(default, rename = "companyID", deserialize_with = "int")]
    pub company_id: Option<i64>,
    #[serde(default, rename = "companyLocationID", deserialize_with = "int")]
    pub company_location_id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub email_address: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub email_address2: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub mobile_phone: Option<String>,
    /// An integer 0/1 on the wire.
    #[serde(default, deserialize_with = "boolean")]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "text")]
    pub address_line: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address_line1: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub zip_code: Option<String>,
    #[serde(default, rename = "countryID", deserialize_with = "int")]
    pub country_id: Option<i64>,
    #[serde(default, deserialize_with = "datetime")]
    pub create_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime")]
    pub last_activity_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime")]
    pub last_modified_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "udfs")]
    pub user_defined_fields: Vec<UserDefinedField>,
}

/// An Autotask company location.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CompanyLocation {
    pub id: i64,
    #[serde(default, rename = "companyID", deserialize_with = "int")]
    pub company_id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address1: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address2: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub postal_code: Option<String>,
    #[serde(default, rename = "countryID", deserialize_with = "int")]
    pub country_id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "boolean")]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "boolean")]
    pub is_primary: Option<bool>,
}

/// An Autotask configuration item (a device).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationItem {
    pub id: i64,
    #[serde(default, rename = "companyID", deserialize_with = "int")]
    pub company_id: Option<i64>,
    #[serde(default, rename = "companyLocationID", deserialize_with = "int")]
    pub company_location_id: Option<i64>,
    #[serde(default, deserialize_with = "int")]
    pub configuration_item_type: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub reference_title: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub reference_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub serial_number: Option<String>,
    #[serde(default, rename = "productID", deserialize_with = "int")]
    pub product_id: Option<i64>,
    #[serde(default, rename = "contactID", deserialize_with = "int")]
    pub contact_id: Option<i64>,
    #[serde(default, deserialize_with = "datetime")]
    pub install_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime")]
    pub warranty_expiration_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "boolean")]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "text")]
    pub location: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub notes: Option<String>,
    #[serde(default, deserialize_with = "datetime")]
    pub create_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime")]
    pub last_modified_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "text")]
    pub rmm_device_audit_hostname: Option<String>,
    #[serde(default, rename = "rmmDeviceAuditIPAddress", deserialize_with = "text")]
    pub rmm_device_audit_ip_address: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub rmm_device_audit_mac_address: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub rmm_device_audit_operating_system: Option<String>,
    #[serde(default, deserialize_with = "udfs")]
    pub user_defined_fields: Vec<UserDefinedField>,
}

/// An Autotask configuration item type.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationItemType {
    pub id: i64,
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "boolean")]
    pub is_active: Option<bool>,
}

/// Only the id: what a deletion sweep asks for (`IncludeFields: ["id"]`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
pub struct IdOnly {
    pub id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_active_as_integer_and_empty_dates() {
        let c: Contact = serde_json::from_str(
            r#"{"id": 30000001, "companyID": "12", "isActive": 0, "createDate": "",
                "lastModifiedDate": "2024-02-01T10:00:00.5Z", "lastActivityDate": null,
                "userDefinedFields": null, "somethingNew": {"a": 1}}"#,
        )
        .unwrap();
        assert_eq!(c.company_id, Some(12));
        assert_eq!(c.is_active, Some(false));
        assert_eq!(c.create_date, None);
        assert!(c.last_modified_date.is_some());
        assert!(c.user_defined_fields.is_empty());
    }

    #[test]
    fn configuration_item_reads_rmm_fields_and_udfs() {
        let ci: ConfigurationItem = serde_json::from_str(
            r#"{"id": 7, "configurationItemType": 2, "rmmDeviceAuditIPAddress": "10.0.0.7",
                "rmmDeviceAuditMacAddress": "02:00:00:00:00:07", "isActive": "true",
                "installDate": "2019-05-01T00:00:00",
                "userDefinedFields": [{"name": "Backup Plan", "value": "Daily"}]}"#,
        )
        .unwrap();
        assert_eq!(ci.configuration_item_type, Some(2));
        assert_eq!(ci.rmm_device_audit_ip_address.as_deref(), Some("10.0.0.7"));
        assert_eq!(ci.is_active, Some(true));
        assert_eq!(ci.user_defined_fields[0].name, "Backup Plan");
    }
}
