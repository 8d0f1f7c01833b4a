//! Wire fields the generator does not store, rendered deterministically from the record (its id
//! and stored stamps). The generator keeps records lean so a million configuration items fit in
//! memory; the simulator still has to send every field the contract lists, and tests need to
//! know what it sent. Public so tests can check the staged extract against them.

use crate::sim::generator::{AtConfigurationItem, AtContact, AtLocation, AtResource};
use chrono::{DateTime, Duration, Utc};

/// Country id of the United States in a default Autotask tenant.
pub const COUNTRY_US: i64 = 237;

/// A resource's fields beyond the generator's.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceExtras {
    pub license_type: Option<i64>,
    pub user_type: Option<i64>,
}

pub fn resource(r: &AtResource) -> ResourceExtras {
    ResourceExtras {
        license_type: Some(1 + r.id.rem_euclid(3)),
        user_type: (r.id.rem_euclid(4) != 3).then_some(1),
    }
}

/// A contact's fields beyond the generator's.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactExtras {
    pub email_address2: Option<String>,
    pub address_line1: Option<String>,
    pub country_id: Option<i64>,
    pub last_activity_date: Option<DateTime<Utc>>,
    /// The `Preferred Contact Method` user-defined field.
    pub preferred_contact_method: Option<String>,
}

pub fn contact(c: &AtContact) -> ContactExtras {
    let id = c.id;
    ContactExtras {
        email_address2: (id.rem_euclid(4) == 0).then(|| format!("alt{id}@mail.example")),
        address_line1: (id.rem_euclid(3) == 0).then(|| format!("Floor {}", id.rem_euclid(9) + 1)),
        country_id: Some(COUNTRY_US),
        last_activity_date: (id.rem_euclid(2) == 0)
            .then(|| c.last_modified_date - Duration::hours(id.rem_euclid(48))),
        preferred_contact_method: (id.rem_euclid(6) == 0).then(|| "Email".to_string()),
    }
}

/// A company location's fields beyond the generator's.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationExtras {
    pub description: Option<String>,
    pub country_id: Option<i64>,
}

pub fn location(l: &AtLocation) -> LocationExtras {
    LocationExtras {
        description: (l.id.rem_euclid(2) == 0)
            .then(|| format!("{} of company {}", l.name, l.company_id)),
        country_id: Some(COUNTRY_US),
    }
}

/// A configuration item's fields beyond the generator's.
#[derive(Debug, Clone, PartialEq)]
pub struct CiExtras {
    pub reference_number: Option<String>,
    pub product_id: Option<i64>,
    /// The generator does not tie devices to contacts: always null.
    pub contact_id: Option<i64>,
    pub install_date: Option<DateTime<Utc>>,
    pub warranty_expiration_date: Option<DateTime<Utc>>,
    pub location: Option<String>,
    pub notes: Option<String>,
    pub rmm_ip_address: Option<String>,
    pub rmm_mac_address: Option<String>,
    pub rmm_operating_system: Option<String>,
    /// The `Backup Plan` user-defined field.
    pub backup_plan: Option<String>,
    /// The `PassportalID` user-defined field Passportal's own integration writes.
    pub passportal_id_udf: Option<String>,
}

pub fn configuration_item(ci: &AtConfigurationItem) -> CiExtras {
    let id = ci.id;
    let install = ci.create_date + Duration::days(id.rem_euclid(30));
    // RMM audit fields exist for the devices an RMM agent reports (those with a host name).
    let rmm = ci.rmm_device_audit_hostname.is_some();
    let b = id.to_be_bytes();
    CiExtras {
        reference_number: (id.rem_euclid(10) != 0).then(|| format!("RN-{id:08}")),
        product_id: Some(100 + id.rem_euclid(25)),
        contact_id: None,
        install_date: (id.rem_euclid(8) != 0).then_some(install),
        warranty_expiration_date: (id.rem_euclid(4) != 0)
            .then(|| install + Duration::days(3 * 365)),
        location: match id.rem_euclid(3) {
            0 => Some("Server room".into()),
            1 => Some("Front desk".into()),
            _ => None,
        },
        notes: (id.rem_euclid(5) == 0).then(|| format!("Imaged {}", install.format("%Y-%m-%d"))),
        rmm_ip_address: rmm.then(|| format!("10.{}.{}.{}", b[5], b[6], b[7])),
        rmm_mac_address: rmm
            .then(|| format!("02:00:{:02X}:{:02X}:{:02X}:{:02X}", b[4], b[5], b[6], b[7])),
        rmm_operating_system: rmm.then(|| {
            match (ci.configuration_item_type, id.rem_euclid(2)) {
                (2, _) => "Windows Server 2022 Standard",
                (_, 0) => "Windows 11 Pro",
                _ => "Windows 10 Pro",
            }
            .to_string()
        }),
        backup_plan: (id.rem_euclid(9) == 0).then(|| "Daily".to_string()),
        passportal_id_udf: (id.rem_euclid(97) == 0)
            .then(|| format!("{}", 900_000 + id.rem_euclid(1000))),
    }
}
