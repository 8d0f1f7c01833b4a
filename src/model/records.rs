//! The staged records as the later stages (match, plan, load) read them back: one struct per
//! staged file. The extractors write Parquet columns with these field names; their `read_*`
//! functions return these.

/// A staged Autotask resource (`extract/autotask/resources.parquet`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceRow {
    pub id: i64,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub user_name: Option<String>,
    pub title: Option<String>,
    pub is_active: bool,
    pub resource_type: Option<String>,
    pub office_phone: Option<String>,
    pub mobile_phone: Option<String>,
}

/// A staged Autotask contact (`extract/autotask/contacts.parquet`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactRow {
    pub id: i64,
    pub company_id: Option<i64>,
    pub company_location_id: Option<i64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub email_address: Option<String>,
    pub email_address2: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub is_active: bool,
    pub address_line: Option<String>,
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip_code: Option<String>,
}

/// A staged Autotask company location (`extract/autotask/company_locations.parquet`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LocationRow {
    pub id: i64,
    pub company_id: Option<i64>,
    pub name: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub is_active: bool,
    pub is_primary: bool,
}

/// A staged Autotask configuration item (`extract/autotask/configuration_items.parquet`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigurationItemRow {
    pub id: i64,
    pub company_id: Option<i64>,
    pub company_location_id: Option<i64>,
    pub configuration_item_type: Option<i64>,
    /// The type's name, resolved through ConfigurationItemTypes.
    pub configuration_item_type_label: Option<String>,
    pub reference_title: Option<String>,
    pub serial_number: Option<String>,
    pub is_active: bool,
    pub rmm_device_audit_hostname: Option<String>,
    pub rmm_device_audit_ip_address: Option<String>,
    pub rmm_device_audit_mac_address: Option<String>,
    pub rmm_device_audit_operating_system: Option<String>,
}

/// A staged Passportal user (`extract/passportal/users.parquet`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserRow {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

/// A staged Passportal document (`extract/passportal/{contacts,locations,assets}.parquet`): the
/// document's detail fields flattened into columns; a field the document does not have is null.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentRow {
    pub id: i64,
    pub client_id: i64,
    /// `contact`, `location` or `asset`.
    pub doc_type: String,
    /// The document's title (label), names decoded.
    pub title: String,
    /// The `Autotask ID` field, when an earlier sync wrote one.
    pub autotask_id: Option<i64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub serial_number: Option<String>,
    pub asset_type: Option<String>,
    pub hostname: Option<String>,
}
