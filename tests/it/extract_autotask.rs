//! The Autotask extract over real HTTP against the simulator: every entity staged equals what the
//! generator planted, field by field, with the columns typed; at most three requests in flight
//! per endpoint and no more requests than the ceil(N/500) floor plus a handful. The submodules
//! cover faults, kill-and-resume, incremental runs and deletions.

mod changes;
mod faults;
mod resume;

use crate::harness::TestWorld;
use atpp::commands::app::App;
use atpp::commands::demo::DEMO_PIPELINE;
use atpp::model::pipeline::Pipeline;
use atpp::sim::autotask::{derived, AutotaskSimOptions};
use atpp::sim::generator::{MspSpec, CI_TYPES, COMPANY_TYPES, SELECTED_CI_TYPES};
use atpp::sim::passportal::PassportalSimOptions;
use atpp::stages::extract::autotask::{
    read_companies, read_configuration_item_types, read_configuration_items, read_contacts,
    read_deleted, read_locations, read_resources, COMPANIES, CONFIGURATION_ITEMS,
    CONFIGURATION_ITEM_TYPES, CONTACTS, DELETED, LOCATIONS, RESOURCES,
};
use atpp::store::parquet::{read_frame, Columns};
use chrono::{DateTime, Utc};
use polars::prelude::{DataType, TimeUnit, TimeZone};
use std::collections::BTreeMap;
use std::path::Path;

/// Every staged Autotask file.
pub const FILES: &[&str] = &[
    COMPANIES,
    RESOURCES,
    CONTACTS,
    LOCATIONS,
    CONFIGURATION_ITEMS,
    CONFIGURATION_ITEM_TYPES,
];

/// An app on the world's simulators with its own staging folder and pipeline changes.
pub fn app_with(t: &TestWorld, staging: &str, change: impl FnOnce(&mut Pipeline)) -> App {
    let mut pipeline = t
        .world
        .pipeline(DEMO_PIPELINE, &t._dir.path().join(staging))
        .expect("pipeline");
    change(&mut pipeline);
    t.world.app(pipeline).expect("app")
}

/// The staged Autotask files of two runs hold the same records, value for value.
pub fn assert_same_files(a: &Path, b: &Path) {
    for file in FILES {
        let (x, y) = (
            read_frame(&a.join(file)).unwrap(),
            read_frame(&b.join(file)).unwrap(),
        );
        assert_eq!(x.shape(), y.shape(), "{file}");
        assert!(x.equals_missing(&y), "{file} differs");
    }
}

/// One column of a staged file, by id.
fn by_id<T>(values: Vec<Option<T>>, ids: &[Option<i64>]) -> BTreeMap<i64, Option<T>> {
    ids.iter().map(|i| i.unwrap()).zip(values).collect()
}

fn dates(path: &Path, column: &str) -> BTreeMap<i64, Option<DateTime<Utc>>> {
    let df = read_frame(path).unwrap();
    let c = Columns { path, df: &df };
    by_id(c.time(column).unwrap(), &c.int("id").unwrap())
}

fn texts(path: &Path, column: &str) -> BTreeMap<i64, Option<String>> {
    let df = read_frame(path).unwrap();
    let c = Columns { path, df: &df };
    by_id(c.text(column).unwrap(), &c.int("id").unwrap())
}

fn ints(path: &Path, column: &str) -> BTreeMap<i64, Option<i64>> {
    let df = read_frame(path).unwrap();
    let c = Columns { path, df: &df };
    by_id(c.int(column).unwrap(), &c.int("id").unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entity_extracted_equals_what_the_generator_planted() {
    let t = TestWorld::start(&MspSpec::demo(7)).await;
    let (run, summary) = t.app.extract().await.expect("extract");
    let at = &t.world.msp.autotask;
    let dir = &run.dir;

    // Companies: every field, the type label resolved through entityInformation/fields.
    let companies = read_companies(&run.path(COMPANIES)).unwrap();
    assert_eq!(companies.len(), at.companies.len());
    let modified = dates(&run.path(COMPANIES), "last_tracked_modified_date_time");
    let created = dates(&run.path(COMPANIES), "create_date");
    let activity = dates(&run.path(COMPANIES), "last_activity_date");
    let numbers = texts(&run.path(COMPANIES), "company_number");
    let udfs = texts(&run.path(COMPANIES), "user_defined_fields");
    for (row, c) in companies.iter().zip(&at.companies) {
        assert_eq!(row.id, c.id);
        assert_eq!(row.name, c.company_name);
        assert_eq!(row.company_type, Some(i64::from(c.company_type)));
        let label = COMPANY_TYPES
            .iter()
            .find(|t| t.0 == c.company_type)
            .unwrap()
            .1;
        assert_eq!(row.company_type_label.as_deref(), Some(label));
        assert_eq!(row.is_active, c.is_active);
        assert_eq!(
            (&row.phone, &row.address1, &row.address2),
            (&c.phone, &c.address1, &c.address2)
        );
        assert_eq!(
            (&row.city, &row.state, &row.postal_code, &row.web_address),
            (&c.city, &c.state, &c.postal_code, &c.web_address)
        );
        assert_eq!(numbers[&c.id], c.company_number);
        assert_eq!(modified[&c.id], Some(c.last_tracked_modified_date_time));
        assert_eq!(created[&c.id], Some(c.create_date));
        assert_eq!(activity[&c.id], c.last_activity_date);
        let gold = c.id.rem_euclid(7) == 0;
        assert_eq!(
            udfs[&c.id].as_deref(),
            gold.then_some(r#"[{"name":"Contract Level","value":"Gold"}]"#)
        );
    }

    // Resources.
    let resources = read_resources(&run.path(RESOURCES)).unwrap();
    assert_eq!(resources.len(), at.resources.len());
    let licenses = ints(&run.path(RESOURCES), "license_type");
    for (row, r) in resources.iter().zip(&at.resources) {
        assert_eq!(row.id, r.id);
        assert_eq!(row.first_name.as_deref(), Some(r.first_name.as_str()));
        assert_eq!(row.middle_name, r.middle_name);
        assert_eq!(row.last_name.as_deref(), Some(r.last_name.as_str()));
        assert_eq!((&row.email, &row.title), (&r.email, &r.title));
        assert_eq!(row.user_name.as_deref(), Some(r.user_name.as_str()));
        assert_eq!(row.is_active, r.is_active);
        assert_eq!(row.resource_type.as_deref(), Some(r.resource_type.as_str()));
        assert_eq!(
            (&row.office_phone, &row.mobile_phone),
            (&r.office_phone, &r.mobile_phone)
        );
        assert_eq!(licenses[&r.id], derived::resource(r).license_type);
    }

    // Contacts: isActive arrives as 0/1 and is staged as a boolean.
    let contacts = read_contacts(&run.path(CONTACTS)).unwrap();
    assert_eq!(contacts.len(), at.contacts.len());
    let last_modified = dates(&run.path(CONTACTS), "last_modified_date");
    let last_activity = dates(&run.path(CONTACTS), "last_activity_date");
    let countries = ints(&run.path(CONTACTS), "country_id");
    let contact_udfs = texts(&run.path(CONTACTS), "user_defined_fields");
    for (row, c) in contacts.iter().zip(&at.contacts) {
        let x = derived::contact(c);
        assert_eq!(row.id, c.id);
        assert_eq!(row.company_id, Some(c.company_id));
        assert_eq!(row.company_location_id, c.company_location_id);
        assert_eq!(row.first_name.as_deref(), Some(c.first_name.as_str()));
        assert_eq!(row.last_name.as_deref(), Some(c.last_name.as_str()));
        assert_eq!(
            (&row.title, &row.email_address),
            (&c.title, &c.email_address)
        );
        assert_eq!(row.email_address2, x.email_address2);
        assert_eq!((&row.phone, &row.mobile_phone), (&c.phone, &c.mobile_phone));
        assert_eq!(row.is_active, c.is_active);
        assert_eq!(row.address_line, c.address_line);
        assert_eq!(row.address_line1, x.address_line1);
        assert_eq!(
            (&row.city, &row.state, &row.zip_code),
            (&c.city, &c.state, &c.zip_code)
        );
        assert_eq!(last_modified[&c.id], Some(c.last_modified_date));
        assert_eq!(last_activity[&c.id], x.last_activity_date);
        assert_eq!(countries[&c.id], x.country_id);
        assert_eq!(
            contact_udfs[&c.id].is_some(),
            x.preferred_contact_method.is_some()
        );
    }

    // Company locations.
    let locations = read_locations(&run.path(LOCATIONS)).unwrap();
    assert_eq!(locations.len(), at.locations.len());
    let descriptions = texts(&run.path(LOCATIONS), "description");
    for (row, l) in locations.iter().zip(&at.locations) {
        assert_eq!(row.id, l.id);
        assert_eq!(row.company_id, Some(l.company_id));
        assert_eq!(row.name.as_deref(), Some(l.name.as_str()));
        assert_eq!((&row.address1, &row.address2), (&l.address1, &l.address2));
        assert_eq!(
            (&row.city, &row.state, &row.postal_code, &row.phone),
            (&l.city, &l.state, &l.postal_code, &l.phone)
        );
        assert_eq!((row.is_active, row.is_primary), (l.is_active, l.is_primary));
        assert_eq!(descriptions[&l.id], derived::location(l).description);
    }

    // Configuration items of every type, the label resolved, the selection marked.
    let path = run.path(CONFIGURATION_ITEMS);
    let cis = read_configuration_items(&path).unwrap();
    assert_eq!(cis.len(), at.configuration_items.len());
    let install = dates(&path, "install_date");
    let warranty = dates(&path, "warranty_expiration_date");
    let reference = texts(&path, "reference_number");
    let ci_udfs = texts(&path, "user_defined_fields");
    let product = ints(&path, "product_id");
    let df = read_frame(&path).unwrap();
    let selected = by_id(
        Columns {
            path: &path,
            df: &df,
        }
        .boolean("configuration_item_type_selected")
        .unwrap(),
        &Columns {
            path: &path,
            df: &df,
        }
        .int("id")
        .unwrap(),
    );
    for (row, ci) in cis.iter().zip(&at.configuration_items) {
        let x = derived::configuration_item(ci);
        let label = CI_TYPES
            .iter()
            .find(|t| t.0 == ci.configuration_item_type)
            .unwrap()
            .1;
        assert_eq!(row.id, ci.id);
        assert_eq!(row.company_id, Some(ci.company_id));
        assert_eq!(row.company_location_id, ci.company_location_id);
        assert_eq!(
            row.configuration_item_type,
            Some(ci.configuration_item_type)
        );
        assert_eq!(row.configuration_item_type_label.as_deref(), Some(label));
        assert_eq!(selected[&ci.id], Some(SELECTED_CI_TYPES.contains(&label)));
        assert_eq!(
            row.reference_title.as_deref(),
            Some(ci.reference_title.as_str())
        );
        assert_eq!(row.serial_number, ci.serial_number);
        assert_eq!(row.is_active, ci.is_active);
        assert_eq!(row.rmm_device_audit_hostname, ci.rmm_device_audit_hostname);
        assert_eq!(row.rmm_device_audit_ip_address, x.rmm_ip_address);
        assert_eq!(row.rmm_device_audit_mac_address, x.rmm_mac_address);
        assert_eq!(
            row.rmm_device_audit_operating_system,
            x.rmm_operating_system
        );
        assert_eq!(install[&ci.id], x.install_date);
        assert_eq!(warranty[&ci.id], x.warranty_expiration_date);
        assert_eq!(reference[&ci.id], x.reference_number);
        assert_eq!(product[&ci.id], x.product_id);
        let udf = ci_udfs[&ci.id].as_deref().unwrap_or_default();
        assert_eq!(udf.contains("Backup Plan"), x.backup_plan.is_some());
        assert_eq!(udf.contains("PassportalID"), x.passportal_id_udf.is_some());
    }
    let types = read_configuration_item_types(&run.path(CONFIGURATION_ITEM_TYPES)).unwrap();
    let want: Vec<(i64, String, bool)> = CI_TYPES
        .iter()
        .map(|(id, name, active)| (*id, name.to_string(), *active))
        .collect();
    assert_eq!(types, want);
    assert!(read_deleted(&run.path(DELETED)).unwrap().is_empty());

    // Typed columns: ids i64, booleans boolean (even contacts' 0/1), times UTC datetimes.
    let utc = DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
    for (file, column, dtype) in [
        (CONTACTS, "id", DataType::Int64),
        (CONTACTS, "is_active", DataType::Boolean),
        (CONTACTS, "last_modified_date", utc.clone()),
        (CONFIGURATION_ITEMS, "install_date", utc.clone()),
        (
            CONFIGURATION_ITEMS,
            "configuration_item_type",
            DataType::Int64,
        ),
        (LOCATIONS, "is_primary", DataType::Boolean),
        (COMPANIES, "create_date", utc),
    ] {
        let df = read_frame(&dir.join(file)).unwrap();
        assert_eq!(
            df.column(column).unwrap().dtype(),
            &dtype,
            "{file} {column}"
        );
    }

    // Requests: the floor plus the count, per entity; never a fourth request in flight.
    for (key, e) in &summary.autotask {
        assert!(
            e.requests <= e.floor + 3,
            "{key}: {} requests for a floor of {}",
            e.requests,
            e.floor
        );
        assert_eq!(t.world.autotask.thread_threshold_refusals(&e.endpoint), 0);
    }
    let manifest = run.manifest().unwrap();
    let notes = &manifest.stages["extract"].notes;
    for key in [
        "autotask_entities",
        "autotask_threshold_start",
        "autotask_threshold_end",
    ] {
        assert!(notes.contains_key(key), "manifest notes lack {key}");
    }
    assert!(notes["autotask_entities"]["configuration_items"]["requests"].as_u64() > Some(0));
    assert!(!dir.join("extract/autotask/.progress").exists());
    t.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_keep_three_requests_in_flight_and_stay_near_the_floor() {
    // A little latency, so requests overlap as they do against the real service.
    let slow = AutotaskSimOptions {
        latency_ms: 5,
        ..AutotaskSimOptions::default()
    };
    let spec = MspSpec {
        cis_per_company: 12,
        ..MspSpec::demo(3)
    };
    let t = TestWorld::start_with(&spec, slow, PassportalSimOptions::default()).await;
    let app = app_with(&t, "small-pages", |p| p.autotask.page_size = 40);
    let (run, summary) = app.extract().await.expect("extract");
    let cis = &summary.autotask["configuration_items"];
    assert_eq!(
        cis.rows as usize,
        t.world.msp.autotask.configuration_items.len()
    );
    assert!(cis.segments >= 3, "{cis:?}");
    // Pages plus one partial page per segment plus the count.
    assert!(
        cis.requests <= cis.floor + cis.segments as u64 + 1,
        "{cis:?}"
    );
    let sim = &t.world.autotask;
    assert_eq!(sim.peak_in_flight("ConfigurationItems"), 3);
    for e in summary.autotask.values() {
        assert!(sim.peak_in_flight(&e.endpoint) <= 3);
        assert_eq!(sim.thread_threshold_refusals(&e.endpoint), 0);
    }
    let ids: Vec<i64> = read_configuration_items(&run.path(CONFIGURATION_ITEMS))
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    let want: Vec<i64> = t
        .world
        .msp
        .autotask
        .configuration_items
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, want, "every item once, in id order");
    t.assert_no_unexpected_requests();
}
