//! The records a generated MSP holds on each side, as the tenant and the instance store them
//! (the simulators render them onto the wire). Kept lean: a million configuration items must
//! fit in memory, so fields the wire derives from the id are not stored.

use chrono::{DateTime, Utc};

/// An Autotask resource (an internal user of the MSP).
#[derive(Debug, Clone, PartialEq)]
pub struct AtResource {
    pub id: i64,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
    pub user_name: String,
    pub title: Option<String>,
    pub is_active: bool,
    /// e.g. "Employee".
    pub resource_type: String,
    pub office_phone: Option<String>,
    pub mobile_phone: Option<String>,
}

/// An Autotask contact (a person at a customer). `is_active` is 0/1 on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct AtContact {
    pub id: i64,
    pub company_id: i64,
    pub company_location_id: Option<i64>,
    pub first_name: String,
    pub last_name: String,
    pub title: Option<String>,
    pub email_address: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub is_active: bool,
    pub address_line: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip_code: Option<String>,
    pub create_date: DateTime<Utc>,
    pub last_modified_date: DateTime<Utc>,
}

/// An Autotask company location.
#[derive(Debug, Clone, PartialEq)]
pub struct AtLocation {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub is_active: bool,
    pub is_primary: bool,
}

/// An Autotask configuration item (a device).
#[derive(Debug, Clone, PartialEq)]
pub struct AtConfigurationItem {
    pub id: i64,
    pub company_id: i64,
    pub company_location_id: Option<i64>,
    /// Id of an `AtCiType`.
    pub configuration_item_type: i64,
    /// The device name.
    pub reference_title: String,
    pub serial_number: Option<String>,
    pub is_active: bool,
    pub create_date: DateTime<Utc>,
    pub last_modified_time: DateTime<Utc>,
    /// RMM host name (often the device name in lower case).
    pub rmm_device_audit_hostname: Option<String>,
}

/// An Autotask configuration item type.
#[derive(Debug, Clone, PartialEq)]
pub struct AtCiType {
    pub id: i64,
    pub name: String,
    pub is_active: bool,
}

/// A Passportal user (technician).
#[derive(Debug, Clone, PartialEq)]
pub struct PpUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
}

pub use crate::model::entity::DocType;

/// A Passportal document (contact, location or asset) under a client. `fields` are the detail
/// slots in order, as (label, text); a document made by an earlier sync has an `Autotask ID`
/// field (`crate::api::passportal::fields::AUTOTASK_ID`), one made by hand has none.
#[derive(Debug, Clone, PartialEq)]
pub struct PpDocument {
    pub id: i64,
    pub client_id: i64,
    pub doc_type: DocType,
    pub title: String,
    pub fields: Vec<(String, String)>,
}

impl PpDocument {
    /// The text of a field by label (case-insensitive).
    pub fn field(&self, label: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
    }
}
