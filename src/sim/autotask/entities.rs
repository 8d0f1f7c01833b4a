//! The simulated entities besides companies: Resources, Contacts, CompanyLocations,
//! ConfigurationItems and ConfigurationItemTypes — their fields as `entityInformation/fields`
//! lists them, their values as filters read them, and their wire form (contacts send `isActive`
//! as 0/1, dates come in every format Autotask uses, `""` or `null` for none).

use super::derived;
use super::records::{
    field, reference, wire_date, wire_opt_date, DataType, FieldDef, FieldValue, Picklist, SimRecord,
};
use crate::sim::generator::{AtCiType, AtConfigurationItem, AtContact, AtLocation, AtResource};
use serde_json::{json, Map, Value};

/// The user-defined field contacts carry.
pub(super) const CONTACT_UDF: &str = "Preferred Contact Method";
/// The user-defined field configuration items carry (besides Passportal's `PassportalID`).
pub(super) const CI_UDF: &str = "Backup Plan";

fn put(m: &mut Map<String, Value>, key: &str, value: Value) {
    m.insert(key.to_string(), value);
}

fn udfs(pairs: &[(&str, Option<String>)]) -> Option<Value> {
    let items: Vec<Value> = pairs
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| json!({ "name": name, "value": v })))
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

pub(super) static RESOURCE_FIELDS: &[FieldDef] = &[
    field("id", DataType::Integer),
    field("firstName", DataType::String),
    field("middleName", DataType::String),
    field("lastName", DataType::String),
    field("email", DataType::String),
    field("userName", DataType::String),
    field("title", DataType::String),
    field("isActive", DataType::Boolean),
    field("resourceType", DataType::String),
    field("licenseType", DataType::Integer),
    field("userType", DataType::Integer),
    field("officePhone", DataType::String),
    field("mobilePhone", DataType::String),
];

impl SimRecord for AtResource {
    fn id(&self) -> i64 {
        self.id
    }

    fn field(&self, lower_name: &str) -> FieldValue {
        let x = derived::resource(self);
        match lower_name {
            "id" => FieldValue::Int(self.id),
            "firstname" => FieldValue::Text(self.first_name.clone()),
            "middlename" => FieldValue::opt_text(&self.middle_name),
            "lastname" => FieldValue::Text(self.last_name.clone()),
            "email" => FieldValue::opt_text(&self.email),
            "username" => FieldValue::Text(self.user_name.clone()),
            "title" => FieldValue::opt_text(&self.title),
            "isactive" => FieldValue::Bool(self.is_active),
            "resourcetype" => FieldValue::Text(self.resource_type.clone()),
            "licensetype" => FieldValue::opt_int(x.license_type),
            "usertype" => FieldValue::opt_int(x.user_type),
            "officephone" => FieldValue::opt_text(&self.office_phone),
            "mobilephone" => FieldValue::opt_text(&self.mobile_phone),
            _ => FieldValue::Null,
        }
    }

    fn udf(&self, _lower_name: &str) -> Option<String> {
        None
    }

    fn to_json(&self) -> Map<String, Value> {
        let x = derived::resource(self);
        let mut m = Map::new();
        put(&mut m, "id", json!(self.id));
        put(&mut m, "firstName", json!(self.first_name));
        put(&mut m, "middleName", json!(self.middle_name));
        put(&mut m, "lastName", json!(self.last_name));
        put(&mut m, "email", json!(self.email));
        put(&mut m, "userName", json!(self.user_name));
        put(&mut m, "title", json!(self.title));
        put(&mut m, "isActive", json!(self.is_active));
        put(&mut m, "resourceType", json!(self.resource_type));
        put(&mut m, "licenseType", json!(x.license_type));
        put(&mut m, "userType", json!(x.user_type));
        put(&mut m, "officePhone", json!(self.office_phone));
        put(&mut m, "mobilePhone", json!(self.mobile_phone));
        m
    }
}

pub(super) static CONTACT_FIELDS: &[FieldDef] = &[
    field("id", DataType::Integer),
    reference("companyID", "Company"),
    reference("companyLocationID", "CompanyLocation"),
    field("firstName", DataType::String),
    field("lastName", DataType::String),
    field("title", DataType::String),
    field("emailAddress", DataType::String),
    field("emailAddress2", DataType::String),
    field("phone", DataType::String),
    field("mobilePhone", DataType::String),
    // An integer 0/1 on this entity, not a boolean.
    field("isActive", DataType::Integer),
    field("addressLine", DataType::String),
    field("addressLine1", DataType::String),
    field("city", DataType::String),
    field("state", DataType::String),
    field("zipCode", DataType::String),
    reference("countryID", "Country"),
    field("createDate", DataType::DateTime),
    field("lastActivityDate", DataType::DateTime),
    field("lastModifiedDate", DataType::DateTime),
];

impl SimRecord for AtContact {
    fn id(&self) -> i64 {
        self.id
    }

    fn field(&self, lower_name: &str) -> FieldValue {
        match lower_name {
            "id" => FieldValue::Int(self.id),
            "companyid" => FieldValue::Int(self.company_id),
            "companylocationid" => FieldValue::opt_int(self.company_location_id),
            "firstname" => FieldValue::Text(self.first_name.clone()),
            "lastname" => FieldValue::Text(self.last_name.clone()),
            "title" => FieldValue::opt_text(&self.title),
            "emailaddress" => FieldValue::opt_text(&self.email_address),
            "emailaddress2" => FieldValue::opt_text(&derived::contact(self).email_address2),
            "phone" => FieldValue::opt_text(&self.phone),
            "mobilephone" => FieldValue::opt_text(&self.mobile_phone),
            "isactive" => FieldValue::Int(i64::from(self.is_active)),
            "addressline" => FieldValue::opt_text(&self.address_line),
            "addressline1" => FieldValue::opt_text(&derived::contact(self).address_line1),
            "city" => FieldValue::opt_text(&self.city),
            "state" => FieldValue::opt_text(&self.state),
            "zipcode" => FieldValue::opt_text(&self.zip_code),
            "countryid" => FieldValue::opt_int(derived::contact(self).country_id),
            "createdate" => FieldValue::Date(self.create_date),
            "lastactivitydate" => derived::contact(self)
                .last_activity_date
                .map_or(FieldValue::Null, FieldValue::Date),
            "lastmodifieddate" => FieldValue::Date(self.last_modified_date),
            _ => FieldValue::Null,
        }
    }

    fn udf(&self, lower_name: &str) -> Option<String> {
        (lower_name == CONTACT_UDF.to_lowercase())
            .then(|| derived::contact(self).preferred_contact_method)
            .flatten()
    }

    fn to_json(&self) -> Map<String, Value> {
        let id = self.id;
        let x = derived::contact(self);
        let mut m = Map::new();
        put(&mut m, "id", json!(id));
        put(&mut m, "companyID", json!(self.company_id));
        put(&mut m, "companyLocationID", json!(self.company_location_id));
        put(&mut m, "firstName", json!(self.first_name));
        put(&mut m, "lastName", json!(self.last_name));
        put(&mut m, "title", json!(self.title));
        put(&mut m, "emailAddress", json!(self.email_address));
        put(&mut m, "emailAddress2", json!(x.email_address2));
        put(&mut m, "phone", json!(self.phone));
        put(&mut m, "mobilePhone", json!(self.mobile_phone));
        put(&mut m, "isActive", json!(i64::from(self.is_active)));
        put(&mut m, "addressLine", json!(self.address_line));
        put(&mut m, "addressLine1", json!(x.address_line1));
        put(&mut m, "city", json!(self.city));
        put(&mut m, "state", json!(self.state));
        put(&mut m, "zipCode", json!(self.zip_code));
        put(&mut m, "countryID", json!(x.country_id));
        put(
            &mut m,
            "createDate",
            json!(wire_date(&self.create_date, id)),
        );
        put(
            &mut m,
            "lastActivityDate",
            wire_opt_date(&x.last_activity_date, id, id + 1),
        );
        put(
            &mut m,
            "lastModifiedDate",
            json!(wire_date(&self.last_modified_date, id + 2)),
        );
        if let Some(u) = udfs(&[(CONTACT_UDF, x.preferred_contact_method)]) {
            put(&mut m, "userDefinedFields", u);
        }
        m
    }
}

pub(super) static LOCATION_FIELDS: &[FieldDef] = &[
    field("id", DataType::Integer),
    reference("companyID", "Company"),
    field("name", DataType::String),
    field("description", DataType::String),
    field("address1", DataType::String),
    field("address2", DataType::String),
    field("city", DataType::String),
    field("state", DataType::String),
    field("postalCode", DataType::String),
    reference("countryID", "Country"),
    field("phone", DataType::String),
    field("isActive", DataType::Boolean),
    field("isPrimary", DataType::Boolean),
];

impl SimRecord for AtLocation {
    fn id(&self) -> i64 {
        self.id
    }

    fn field(&self, lower_name: &str) -> FieldValue {
        match lower_name {
            "id" => FieldValue::Int(self.id),
            "companyid" => FieldValue::Int(self.company_id),
            "name" => FieldValue::Text(self.name.clone()),
            "description" => FieldValue::opt_text(&derived::location(self).description),
            "address1" => FieldValue::opt_text(&self.address1),
            "address2" => FieldValue::opt_text(&self.address2),
            "city" => FieldValue::opt_text(&self.city),
            "state" => FieldValue::opt_text(&self.state),
            "postalcode" => FieldValue::opt_text(&self.postal_code),
            "countryid" => FieldValue::opt_int(derived::location(self).country_id),
            "phone" => FieldValue::opt_text(&self.phone),
            "isactive" => FieldValue::Bool(self.is_active),
            "isprimary" => FieldValue::Bool(self.is_primary),
            _ => FieldValue::Null,
        }
    }

    fn udf(&self, _lower_name: &str) -> Option<String> {
        None
    }

    fn to_json(&self) -> Map<String, Value> {
        let x = derived::location(self);
        let mut m = Map::new();
        put(&mut m, "id", json!(self.id));
        put(&mut m, "companyID", json!(self.company_id));
        put(&mut m, "name", json!(self.name));
        put(&mut m, "description", json!(x.description));
        put(&mut m, "address1", json!(self.address1));
        put(&mut m, "address2", json!(self.address2));
        put(&mut m, "city", json!(self.city));
        put(&mut m, "state", json!(self.state));
        put(&mut m, "postalCode", json!(self.postal_code));
        put(&mut m, "countryID", json!(x.country_id));
        put(&mut m, "phone", json!(self.phone));
        put(&mut m, "isActive", json!(self.is_active));
        put(&mut m, "isPrimary", json!(self.is_primary));
        m
    }
}

pub(super) static CI_FIELDS: &[FieldDef] = &[
    field("id", DataType::Integer),
    reference("companyID", "Company"),
    reference("companyLocationID", "CompanyLocation"),
    FieldDef {
        name: "configurationItemType",
        data_type: DataType::Integer,
        picklist: Some(Picklist::CiTypes),
        reference: Some("ConfigurationItemType"),
    },
    field("referenceTitle", DataType::String),
    field("referenceNumber", DataType::String),
    field("serialNumber", DataType::String),
    reference("productID", "Product"),
    reference("contactID", "Contact"),
    field("installDate", DataType::DateTime),
    field("warrantyExpirationDate", DataType::DateTime),
    field("isActive", DataType::Boolean),
    field("location", DataType::String),
    field("notes", DataType::String),
    field("createDate", DataType::DateTime),
    field("lastModifiedTime", DataType::DateTime),
    field("rmmDeviceAuditHostname", DataType::String),
    field("rmmDeviceAuditIPAddress", DataType::String),
    field("rmmDeviceAuditMacAddress", DataType::String),
    field("rmmDeviceAuditOperatingSystem", DataType::String),
];

impl SimRecord for AtConfigurationItem {
    fn id(&self) -> i64 {
        self.id
    }

    fn field(&self, lower_name: &str) -> FieldValue {
        let date =
            |d: Option<chrono::DateTime<chrono::Utc>>| d.map_or(FieldValue::Null, FieldValue::Date);
        match lower_name {
            "id" => FieldValue::Int(self.id),
            "companyid" => FieldValue::Int(self.company_id),
            "companylocationid" => FieldValue::opt_int(self.company_location_id),
            "configurationitemtype" => FieldValue::Int(self.configuration_item_type),
            "referencetitle" => FieldValue::Text(self.reference_title.clone()),
            "serialnumber" => FieldValue::opt_text(&self.serial_number),
            "isactive" => FieldValue::Bool(self.is_active),
            "createdate" => FieldValue::Date(self.create_date),
            "lastmodifiedtime" => FieldValue::Date(self.last_modified_time),
            "rmmdeviceaudithostname" => FieldValue::opt_text(&self.rmm_device_audit_hostname),
            other => {
                let x = derived::configuration_item(self);
                match other {
                    "referencenumber" => FieldValue::opt_text(&x.reference_number),
                    "productid" => FieldValue::opt_int(x.product_id),
                    "contactid" => FieldValue::opt_int(x.contact_id),
                    "installdate" => date(x.install_date),
                    "warrantyexpirationdate" => date(x.warranty_expiration_date),
                    "location" => FieldValue::opt_text(&x.location),
                    "notes" => FieldValue::opt_text(&x.notes),
                    "rmmdeviceauditipaddress" => FieldValue::opt_text(&x.rmm_ip_address),
                    "rmmdeviceauditmacaddress" => FieldValue::opt_text(&x.rmm_mac_address),
                    "rmmdeviceauditoperatingsystem" => {
                        FieldValue::opt_text(&x.rmm_operating_system)
                    }
                    _ => FieldValue::Null,
                }
            }
        }
    }

    fn udf(&self, lower_name: &str) -> Option<String> {
        let x = derived::configuration_item(self);
        if lower_name == CI_UDF.to_lowercase() {
            x.backup_plan
        } else if lower_name == "passportalid" {
            x.passportal_id_udf
        } else {
            None
        }
    }

    fn to_json(&self) -> Map<String, Value> {
        let id = self.id;
        let x = derived::configuration_item(self);
        let mut m = Map::new();
        put(&mut m, "id", json!(id));
        put(&mut m, "companyID", json!(self.company_id));
        put(&mut m, "companyLocationID", json!(self.company_location_id));
        put(
            &mut m,
            "configurationItemType",
            json!(self.configuration_item_type),
        );
        put(&mut m, "referenceTitle", json!(self.reference_title));
        put(&mut m, "referenceNumber", json!(x.reference_number));
        put(&mut m, "serialNumber", json!(self.serial_number));
        put(&mut m, "productID", json!(x.product_id));
        put(&mut m, "contactID", json!(x.contact_id));
        put(
            &mut m,
            "installDate",
            wire_opt_date(&x.install_date, id, id + 1),
        );
        put(
            &mut m,
            "warrantyExpirationDate",
            wire_opt_date(&x.warranty_expiration_date, id + 1, id + 2),
        );
        put(&mut m, "isActive", json!(self.is_active));
        put(&mut m, "location", json!(x.location));
        put(&mut m, "notes", json!(x.notes));
        put(
            &mut m,
            "createDate",
            json!(wire_date(&self.create_date, id)),
        );
        put(
            &mut m,
            "lastModifiedTime",
            json!(wire_date(&self.last_modified_time, id + 2)),
        );
        put(
            &mut m,
            "rmmDeviceAuditHostname",
            json!(self.rmm_device_audit_hostname),
        );
        put(&mut m, "rmmDeviceAuditIPAddress", json!(x.rmm_ip_address));
        put(&mut m, "rmmDeviceAuditMacAddress", json!(x.rmm_mac_address));
        put(
            &mut m,
            "rmmDeviceAuditOperatingSystem",
            json!(x.rmm_operating_system),
        );
        if let Some(u) = udfs(&[
            (CI_UDF, x.backup_plan),
            ("PassportalID", x.passportal_id_udf),
        ]) {
            put(&mut m, "userDefinedFields", u);
        }
        m
    }
}

pub(super) static CI_TYPE_FIELDS: &[FieldDef] = &[
    field("id", DataType::Integer),
    field("name", DataType::String),
    field("isActive", DataType::Boolean),
];

impl SimRecord for AtCiType {
    fn id(&self) -> i64 {
        self.id
    }

    fn field(&self, lower_name: &str) -> FieldValue {
        match lower_name {
            "id" => FieldValue::Int(self.id),
            "name" => FieldValue::Text(self.name.clone()),
            "isactive" => FieldValue::Bool(self.is_active),
            _ => FieldValue::Null,
        }
    }

    fn udf(&self, _lower_name: &str) -> Option<String> {
        None
    }

    fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        put(&mut m, "id", json!(self.id));
        put(&mut m, "name", json!(self.name));
        put(&mut m, "isActive", json!(self.is_active));
        m
    }
}
