//! Staged Autotask files read back as the row structs of `extract::rows` (what match, plan and
//! load consume). A missing flag reads as Autotask means it: `isActive` absent = active,
//! `isPrimary` absent = not primary.

use super::{CompanyRow, DELETED};
use crate::model::entity::Entity;
use crate::model::records::{ConfigurationItemRow, ContactRow, LocationRow, ResourceRow};
use crate::store::parquet::{read_frame, Columns, ParquetError};
use std::path::Path;

type Texts = std::vec::IntoIter<Option<String>>;

/// Column iterators of one staged file.
struct Reader<'a> {
    c: Columns<'a>,
}

impl Reader<'_> {
    fn text(&self, name: &str) -> Result<Texts, ParquetError> {
        Ok(self.c.text(name)?.into_iter())
    }

    fn ids(&self) -> Result<std::vec::IntoIter<i64>, ParquetError> {
        Ok(self.c.ids("id")?.into_iter())
    }

    fn int(&self, name: &str) -> Result<std::vec::IntoIter<Option<i64>>, ParquetError> {
        Ok(self.c.int(name)?.into_iter())
    }

    fn boolean(&self, name: &str) -> Result<std::vec::IntoIter<Option<bool>>, ParquetError> {
        Ok(self.c.boolean(name)?.into_iter())
    }
}

fn next<T>(it: &mut std::vec::IntoIter<Option<T>>) -> Option<T> {
    it.next().flatten()
}

/// Read staged companies back.
pub fn read_companies(path: &Path) -> Result<Vec<CompanyRow>, ParquetError> {
    let df = read_frame(path)?;
    let r = Reader {
        c: Columns { path, df: &df },
    };
    let ids = r.ids()?;
    let (mut names, mut types, mut labels) = (
        r.text("company_name")?,
        r.int("company_type")?,
        r.text("company_type_label")?,
    );
    let mut active = r.boolean("is_active")?;
    let (mut phone, mut a1, mut a2) = (r.text("phone")?, r.text("address1")?, r.text("address2")?);
    let (mut city, mut state, mut zip) =
        (r.text("city")?, r.text("state")?, r.text("postal_code")?);
    let mut web = r.text("web_address")?;
    Ok(ids
        .map(|id| CompanyRow {
            id,
            name: next(&mut names).unwrap_or_default(),
            company_type: next(&mut types),
            company_type_label: next(&mut labels),
            // Autotask leaves isActive out only for records that predate the flag: active.
            is_active: next(&mut active).unwrap_or(true),
            phone: next(&mut phone),
            address1: next(&mut a1),
            address2: next(&mut a2),
            city: next(&mut city),
            state: next(&mut state),
            postal_code: next(&mut zip),
            web_address: next(&mut web),
        })
        .collect())
}

/// Read staged resources back.
pub fn read_resources(path: &Path) -> Result<Vec<ResourceRow>, ParquetError> {
    let df = read_frame(path)?;
    let r = Reader {
        c: Columns { path, df: &df },
    };
    let ids = r.ids()?;
    let (mut first, mut middle, mut last) = (
        r.text("first_name")?,
        r.text("middle_name")?,
        r.text("last_name")?,
    );
    let (mut email, mut user, mut title) =
        (r.text("email")?, r.text("user_name")?, r.text("title")?);
    let mut active = r.boolean("is_active")?;
    let mut kind = r.text("resource_type")?;
    let (mut office, mut mobile) = (r.text("office_phone")?, r.text("mobile_phone")?);
    Ok(ids
        .map(|id| ResourceRow {
            id,
            first_name: next(&mut first),
            middle_name: next(&mut middle),
            last_name: next(&mut last),
            email: next(&mut email),
            user_name: next(&mut user),
            title: next(&mut title),
            is_active: next(&mut active).unwrap_or(true),
            resource_type: next(&mut kind),
            office_phone: next(&mut office),
            mobile_phone: next(&mut mobile),
        })
        .collect())
}

/// Read staged contacts back.
pub fn read_contacts(path: &Path) -> Result<Vec<ContactRow>, ParquetError> {
    let df = read_frame(path)?;
    let r = Reader {
        c: Columns { path, df: &df },
    };
    let ids = r.ids()?;
    let (mut company, mut location) = (r.int("company_id")?, r.int("company_location_id")?);
    let (mut first, mut last, mut title) = (
        r.text("first_name")?,
        r.text("last_name")?,
        r.text("title")?,
    );
    let (mut email, mut email2) = (r.text("email_address")?, r.text("email_address2")?);
    let (mut phone, mut mobile) = (r.text("phone")?, r.text("mobile_phone")?);
    let mut active = r.boolean("is_active")?;
    let (mut line, mut line1) = (r.text("address_line")?, r.text("address_line1")?);
    let (mut city, mut state, mut zip) = (r.text("city")?, r.text("state")?, r.text("zip_code")?);
    Ok(ids
        .map(|id| ContactRow {
            id,
            company_id: next(&mut company),
            company_location_id: next(&mut location),
            first_name: next(&mut first),
            last_name: next(&mut last),
            title: next(&mut title),
            email_address: next(&mut email),
            email_address2: next(&mut email2),
            phone: next(&mut phone),
            mobile_phone: next(&mut mobile),
            is_active: next(&mut active).unwrap_or(true),
            address_line: next(&mut line),
            address_line1: next(&mut line1),
            city: next(&mut city),
            state: next(&mut state),
            zip_code: next(&mut zip),
        })
        .collect())
}

/// Read staged company locations back.
pub fn read_locations(path: &Path) -> Result<Vec<LocationRow>, ParquetError> {
    let df = read_frame(path)?;
    let r = Reader {
        c: Columns { path, df: &df },
    };
    let ids = r.ids()?;
    let mut company = r.int("company_id")?;
    let mut name = r.text("name")?;
    let (mut a1, mut a2) = (r.text("address1")?, r.text("address2")?);
    let (mut city, mut state, mut zip) =
        (r.text("city")?, r.text("state")?, r.text("postal_code")?);
    let mut phone = r.text("phone")?;
    let (mut active, mut primary) = (r.boolean("is_active")?, r.boolean("is_primary")?);
    Ok(ids
        .map(|id| LocationRow {
            id,
            company_id: next(&mut company),
            name: next(&mut name),
            address1: next(&mut a1),
            address2: next(&mut a2),
            city: next(&mut city),
            state: next(&mut state),
            postal_code: next(&mut zip),
            phone: next(&mut phone),
            is_active: next(&mut active).unwrap_or(true),
            is_primary: next(&mut primary).unwrap_or(false),
        })
        .collect())
}

/// Read staged configuration items back, with their type's label.
pub fn read_configuration_items(path: &Path) -> Result<Vec<ConfigurationItemRow>, ParquetError> {
    let df = read_frame(path)?;
    let r = Reader {
        c: Columns { path, df: &df },
    };
    let ids = r.ids()?;
    let (mut company, mut location) = (r.int("company_id")?, r.int("company_location_id")?);
    let (mut kind, mut label) = (
        r.int("configuration_item_type")?,
        r.text("configuration_item_type_label")?,
    );
    let (mut title, mut serial) = (r.text("reference_title")?, r.text("serial_number")?);
    let mut active = r.boolean("is_active")?;
    let (mut host, mut ip) = (
        r.text("rmm_device_audit_hostname")?,
        r.text("rmm_device_audit_ip_address")?,
    );
    let (mut mac, mut os) = (
        r.text("rmm_device_audit_mac_address")?,
        r.text("rmm_device_audit_operating_system")?,
    );
    Ok(ids
        .map(|id| ConfigurationItemRow {
            id,
            company_id: next(&mut company),
            company_location_id: next(&mut location),
            configuration_item_type: next(&mut kind),
            configuration_item_type_label: next(&mut label),
            reference_title: next(&mut title),
            serial_number: next(&mut serial),
            is_active: next(&mut active).unwrap_or(true),
            rmm_device_audit_hostname: next(&mut host),
            rmm_device_audit_ip_address: next(&mut ip),
            rmm_device_audit_mac_address: next(&mut mac),
            rmm_device_audit_operating_system: next(&mut os),
        })
        .collect())
}

/// Read staged configuration item types back: (id, name, active).
pub fn read_configuration_item_types(
    path: &Path,
) -> Result<Vec<(i64, String, bool)>, ParquetError> {
    let df = read_frame(path)?;
    let r = Reader {
        c: Columns { path, df: &df },
    };
    let (mut names, mut active) = (r.text("name")?, r.boolean("is_active")?);
    Ok(r.ids()?
        .map(|id| {
            (
                id,
                next(&mut names).unwrap_or_default(),
                next(&mut active).unwrap_or(true),
            )
        })
        .collect())
}

/// Read the records a deletion sweep found gone (`extract/autotask/deleted.parquet`).
pub fn read_deleted(path: &Path) -> Result<Vec<(Entity, i64)>, ParquetError> {
    let df = read_frame(path)?;
    let c = Columns { path, df: &df };
    let entities = c.text("entity")?;
    let ids = c.ids("id")?;
    entities
        .into_iter()
        .zip(ids)
        .map(|(entity, id)| {
            let name = entity.unwrap_or_default();
            let entity = Entity::parse(&name).ok_or_else(|| ParquetError::Polars {
                path: path.to_path_buf(),
                message: format!("{DELETED}: unknown entity {name:?}"),
            })?;
            Ok((entity, id))
        })
        .collect()
}

/// The named columns of a staged file as text per record id (see `Columns::display`), for the
/// consumers that follow the schema table rather than a row struct: the review tables' context
/// columns and the load's request bodies. A row without an id is an error, never id 0.
pub fn read_columns(
    path: &Path,
    columns: &[&str],
) -> Result<std::collections::HashMap<i64, Vec<Option<String>>>, ParquetError> {
    let df = read_frame(path)?;
    let c = Columns { path, df: &df };
    let ids = c.ids("id")?;
    let mut values: Vec<std::vec::IntoIter<Option<String>>> = columns
        .iter()
        .map(|name| c.display(name).map(Vec::into_iter))
        .collect::<Result<_, _>>()?;
    Ok(ids
        .into_iter()
        .map(|id| (id, values.iter_mut().map(|v| v.next().flatten()).collect()))
        .collect())
}
