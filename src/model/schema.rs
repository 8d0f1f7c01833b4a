//! Each entity declared once. One table per entity lists its staged Autotask columns (the wire
//! field each comes from and its type), which of them the review tables show, which Passportal
//! document field each fills on create and owns on update ("Autotask wins"), how the Passportal
//! record's title is made, and the fields matching compares. The extract's Parquet columns, the
//! review tables' context columns, the load's request bodies and update comparison, and the
//! simulators' records all follow this table, and a test proves they agree with it, so adding a
//! field is one line here.

use super::entity::{DocType, Entity};

/// The labels of the Passportal document fields the sync reads and writes. Documents hold
/// numbered field slots, each `{"name": <label>, "value": {...}}`; these labels are the
/// project's convention (assumed, like the templates: check them against your instance's
/// templates).
pub mod fields {
    /// Carries the source record's Autotask id, so a later run finds the document again even if
    /// the ledger is lost.
    pub const AUTOTASK_ID: &str = "Autotask ID";
    pub const FIRST_NAME: &str = "First Name";
    pub const LAST_NAME: &str = "Last Name";
    pub const EMAIL: &str = "Email";
    pub const PHONE: &str = "Phone";
    pub const MOBILE: &str = "Mobile Phone";
    pub const TITLE: &str = "Title";
    pub const ADDRESS: &str = "Address";
    pub const ADDRESS_2: &str = "Address 2";
    pub const CITY: &str = "City";
    pub const STATE: &str = "State";
    pub const POSTAL_CODE: &str = "Postal Code";
    pub const SERIAL_NUMBER: &str = "Serial Number";
    pub const ASSET_TYPE: &str = "Asset Type";
    pub const HOSTNAME: &str = "Hostname";
}

/// A staged column's type in Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 64-bit integer (ids, picklist values).
    Int,
    Text,
    Bool,
    /// UTC timestamp.
    Time,
}

/// One staged column of an Autotask entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The column in `extract/autotask/<entity>.parquet`.
    pub column: &'static str,
    /// The Autotask wire field it comes from; `None` for a column the extract derives (a
    /// picklist's label, whether a type is selected, the user-defined fields as JSON).
    pub wire: Option<&'static str>,
    pub kind: Kind,
    /// The header under which the review tables show it (read-only, checked against the staged
    /// value when the tables are read back); `None`: not shown.
    pub review: Option<&'static str>,
    /// The Passportal document field it fills on create, and that Autotask owns on update.
    pub template: Option<&'static str>,
}

impl Field {
    const fn new(column: &'static str, wire: &'static str, kind: Kind) -> Field {
        Field {
            column,
            wire: Some(wire),
            kind,
            review: None,
            template: None,
        }
    }

    /// A column the extract derives rather than reads from one wire field.
    const fn derived(column: &'static str, kind: Kind) -> Field {
        Field {
            column,
            wire: None,
            kind,
            review: None,
            template: None,
        }
    }

    /// Shown in the review tables under `header`.
    const fn shown(mut self, header: &'static str) -> Field {
        self.review = Some(header);
        self
    }

    /// Fills (and owns) the Passportal document field `label`.
    const fn fills(mut self, label: &'static str) -> Field {
        self.template = Some(label);
        self
    }
}

/// What an entity becomes in Passportal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Client,
    User,
    Document(DocType),
}

/// One entity's declaration.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub entity: Entity,
    pub target: Target,
    /// Every staged column, in file order.
    pub fields: &'static [Field],
    /// The columns whose non-empty values, joined by a space, make the Passportal record's
    /// name or title.
    pub title: &'static [&'static str],
    /// The columns matching reads (blocks on or compares against the Passportal side): exactly
    /// those of the entity's match rule (`stages::matching::spec`), which a test checks.
    pub match_keys: &'static [&'static str],
}

use fields as f;
use Kind::{Bool, Int, Text, Time};

const COMPANIES: Schema = Schema {
    entity: Entity::Companies,
    target: Target::Client,
    fields: &[
        Field::new("id", "id", Int),
        Field::new("company_name", "companyName", Text),
        Field::new("company_number", "companyNumber", Text),
        Field::new("company_type", "companyType", Int),
        Field::derived("company_type_label", Text).shown("company_type"),
        Field::new("is_active", "isActive", Bool).shown("is_active"),
        Field::new("phone", "phone", Text).shown("phone"),
        Field::new("fax", "fax", Text),
        Field::new("address1", "address1", Text),
        Field::new("address2", "address2", Text),
        Field::new("city", "city", Text).shown("city"),
        Field::new("state", "state", Text),
        Field::new("postal_code", "postalCode", Text).shown("postal_code"),
        Field::new("country_id", "countryID", Int),
        Field::new("web_address", "webAddress", Text).shown("web_address"),
        Field::new("parent_company_id", "parentCompanyID", Int),
        Field::new("create_date", "createDate", Time),
        Field::new("last_activity_date", "lastActivityDate", Time),
        Field::new(
            "last_tracked_modified_date_time",
            "lastTrackedModifiedDateTime",
            Time,
        ),
        Field::derived("user_defined_fields", Text),
    ],
    title: &["company_name"],
    match_keys: &["company_name", "phone", "postal_code"],
};

const RESOURCES: Schema = Schema {
    entity: Entity::Resources,
    target: Target::User,
    fields: &[
        Field::new("id", "id", Int),
        Field::new("first_name", "firstName", Text).fills(f::FIRST_NAME),
        Field::new("middle_name", "middleName", Text),
        Field::new("last_name", "lastName", Text).fills(f::LAST_NAME),
        Field::new("email", "email", Text)
            .shown("email")
            .fills(f::EMAIL),
        Field::new("user_name", "userName", Text),
        Field::new("title", "title", Text).shown("title"),
        Field::new("is_active", "isActive", Bool).shown("is_active"),
        Field::new("resource_type", "resourceType", Text).shown("resource_type"),
        Field::new("license_type", "licenseType", Int),
        Field::new("user_type", "userType", Int),
        Field::new("office_phone", "officePhone", Text),
        Field::new("mobile_phone", "mobilePhone", Text),
    ],
    title: &["first_name", "last_name"],
    match_keys: &["email", "first_name", "last_name"],
};

const CONTACTS: Schema = Schema {
    entity: Entity::Contacts,
    target: Target::Document(DocType::Contact),
    fields: &[
        Field::new("id", "id", Int),
        Field::new("company_id", "companyID", Int),
        Field::new("company_location_id", "companyLocationID", Int),
        Field::new("first_name", "firstName", Text).fills(f::FIRST_NAME),
        Field::new("last_name", "lastName", Text).fills(f::LAST_NAME),
        Field::new("title", "title", Text)
            .shown("title")
            .fills(f::TITLE),
        Field::new("email_address", "emailAddress", Text)
            .shown("email")
            .fills(f::EMAIL),
        Field::new("email_address2", "emailAddress2", Text),
        Field::new("phone", "phone", Text)
            .shown("phone")
            .fills(f::PHONE),
        Field::new("mobile_phone", "mobilePhone", Text).fills(f::MOBILE),
        Field::new("is_active", "isActive", Bool),
        Field::new("address_line", "addressLine", Text),
        Field::new("address_line1", "addressLine1", Text),
        Field::new("city", "city", Text),
        Field::new("state", "state", Text),
        Field::new("zip_code", "zipCode", Text),
        Field::new("country_id", "countryID", Int),
        Field::new("create_date", "createDate", Time),
        Field::new("last_activity_date", "lastActivityDate", Time),
        Field::new("last_modified_date", "lastModifiedDate", Time),
        Field::derived("user_defined_fields", Text),
    ],
    title: &["first_name", "last_name"],
    match_keys: &[
        "email_address",
        "first_name",
        "last_name",
        "address_line",
        "city",
        "zip_code",
        "state",
        "phone",
        "mobile_phone",
    ],
};

const LOCATIONS: Schema = Schema {
    entity: Entity::Locations,
    target: Target::Document(DocType::Location),
    fields: &[
        Field::new("id", "id", Int),
        Field::new("company_id", "companyID", Int),
        Field::new("name", "name", Text),
        Field::new("description", "description", Text),
        Field::new("address1", "address1", Text)
            .shown("address1")
            .fills(f::ADDRESS),
        Field::new("address2", "address2", Text).fills(f::ADDRESS_2),
        Field::new("city", "city", Text)
            .shown("city")
            .fills(f::CITY),
        Field::new("state", "state", Text).fills(f::STATE),
        Field::new("postal_code", "postalCode", Text).fills(f::POSTAL_CODE),
        Field::new("country_id", "countryID", Int),
        Field::new("phone", "phone", Text).fills(f::PHONE),
        Field::new("is_active", "isActive", Bool),
        Field::new("is_primary", "isPrimary", Bool).shown("is_primary"),
    ],
    title: &["name"],
    match_keys: &["name", "address1", "city"],
};

const CONFIGURATION_ITEMS: Schema = Schema {
    entity: Entity::ConfigurationItems,
    target: Target::Document(DocType::Asset),
    fields: &[
        Field::new("id", "id", Int),
        Field::new("company_id", "companyID", Int),
        Field::new("company_location_id", "companyLocationID", Int),
        Field::new("configuration_item_type", "configurationItemType", Int),
        Field::derived("configuration_item_type_label", Text)
            .shown("type")
            .fills(f::ASSET_TYPE),
        Field::derived("configuration_item_type_selected", Bool),
        Field::new("reference_title", "referenceTitle", Text),
        Field::new("reference_number", "referenceNumber", Text),
        Field::new("serial_number", "serialNumber", Text)
            .shown("serial_number")
            .fills(f::SERIAL_NUMBER),
        Field::new("product_id", "productID", Int),
        Field::new("contact_id", "contactID", Int),
        Field::new("install_date", "installDate", Time),
        Field::new("warranty_expiration_date", "warrantyExpirationDate", Time),
        Field::new("is_active", "isActive", Bool),
        Field::new("location", "location", Text),
        Field::new("notes", "notes", Text),
        Field::new("create_date", "createDate", Time),
        Field::new("last_modified_time", "lastModifiedTime", Time),
        Field::new("rmm_device_audit_hostname", "rmmDeviceAuditHostname", Text)
            .shown("hostname")
            .fills(f::HOSTNAME),
        Field::new(
            "rmm_device_audit_ip_address",
            "rmmDeviceAuditIPAddress",
            Text,
        ),
        Field::new(
            "rmm_device_audit_mac_address",
            "rmmDeviceAuditMacAddress",
            Text,
        ),
        Field::new(
            "rmm_device_audit_operating_system",
            "rmmDeviceAuditOperatingSystem",
            Text,
        ),
        Field::derived("user_defined_fields", Text),
    ],
    title: &["reference_title"],
    match_keys: &[
        "serial_number",
        "reference_title",
        "rmm_device_audit_hostname",
    ],
};

impl Schema {
    /// The declaration of `entity`.
    pub fn of(entity: Entity) -> &'static Schema {
        match entity {
            Entity::Companies => &COMPANIES,
            Entity::Resources => &RESOURCES,
            Entity::Locations => &LOCATIONS,
            Entity::Contacts => &CONTACTS,
            Entity::ConfigurationItems => &CONFIGURATION_ITEMS,
        }
    }

    /// The columns the review tables show, as (column, header), in order.
    pub fn review_columns(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.fields
            .iter()
            .filter_map(|f| f.review.map(|h| (f.column, h)))
    }

    /// The document fields a create fills, as (column, label), in order; these are the fields
    /// Autotask owns on update.
    pub fn template_fields(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.fields
            .iter()
            .filter_map(|f| f.template.map(|l| (f.column, l)))
    }

    /// A column by name.
    pub fn field(&self, column: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.column == column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_column_is_declared() {
        for entity in Entity::ALL {
            let s = Schema::of(*entity);
            assert_eq!(s.entity, *entity);
            assert_eq!(s.fields[0].column, "id", "{entity}: id comes first");
            for c in s.title.iter().chain(s.match_keys) {
                assert!(
                    s.field(c).is_some(),
                    "{entity}: {c} is not a declared column"
                );
            }
            let mut seen = std::collections::HashSet::new();
            for f in s.fields {
                assert!(
                    seen.insert(f.column),
                    "{entity}: {} declared twice",
                    f.column
                );
            }
            let is_doc = matches!(s.target, Target::Document(_));
            assert_eq!(
                is_doc,
                entity.is_child(),
                "{entity}: children become documents"
            );
            if let Target::Document(t) = s.target {
                assert_eq!(entity.doc_type(), Some(t));
            }
        }
    }
}
