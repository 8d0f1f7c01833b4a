//! Resources ↔ users, and the children of companies (contacts, locations, configuration items)
//! ↔ Passportal documents, with the variants real data has: e-mail case, a missing e-mail, first
//! and last name swapped, a missing middle name, a location renamed but at the same address, an
//! asset without its serial. The truth records what a careful matcher must conclude.

use super::people::{email_of, person, phone, stamp, FIRST, LAST, LOCATION_NAMES, STREETS};
use super::records::{
    AtCiType, AtConfigurationItem, AtContact, AtLocation, AtResource, DocType, PpDocument, PpUser,
};
use super::{AutotaskTenant, EntityTruth, MspSpec, PassportalInstance, Truth};
use crate::api::passportal::fields;
use chrono::Duration;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Autotask's configuration item types in a generated tenant: (id, name, active).
pub const CI_TYPES: &[(i64, &str, bool)] = &[
    (1, "Workstation", true),
    (2, "Server", true),
    (3, "Printer", true),
    (4, "Network Device", true),
    (5, "Mobile Device", true),
    (6, "Legacy Terminal", false),
];

/// The configuration item types the demo pipeline selects; the others are excluded.
pub const SELECTED_CI_TYPES: &[&str] = &["Workstation", "Server", "Network Device"];

fn doc(
    id: i64,
    client_id: i64,
    doc_type: DocType,
    title: String,
    fields: Vec<(&str, String)>,
) -> PpDocument {
    PpDocument {
        id,
        client_id,
        doc_type,
        title,
        fields: fields
            .into_iter()
            .map(|(l, v)| (l.to_string(), v))
            .collect(),
    }
}

/// Ids for Passportal documents and users, one sequence each.
pub(super) struct PpIds {
    next_doc: i64,
    next_user: i64,
}

impl PpIds {
    pub(super) fn new() -> Self {
        PpIds {
            next_doc: 500_000,
            next_user: 100,
        }
    }
    fn doc(&mut self) -> i64 {
        self.next_doc += 1;
        self.next_doc
    }
    fn user(&mut self) -> i64 {
        self.next_user += 1;
        self.next_user
    }
}

/// Generate resources and the Passportal users that already exist for some of them.
pub(super) fn resources(
    spec: &MspSpec,
    rng: &mut ChaCha8Rng,
    ids: &mut PpIds,
    at: &mut AutotaskTenant,
    pp: &mut PassportalInstance,
    truth: &mut EntityTruth,
) {
    let mut used = HashSet::new();
    let mut next_id = 29_682_800i64;
    for i in 0..spec.resources {
        let (first, last) = loop {
            let p = person(rng);
            if used.insert(p.clone()) && used.insert((p.1.clone(), p.0.clone())) {
                break p;
            }
        };
        next_id += rng.gen_range(1..5);
        let active = i % 10 != 9;
        let variant = rng.gen_range(0..10);
        let middle = (variant == 9).then(|| "J.".to_string());
        let email = email_of(&first, &last, "msp.example");
        at.resources.push(AtResource {
            id: next_id,
            first_name: first.clone(),
            middle_name: middle,
            last_name: last.clone(),
            email: Some(email.clone()),
            user_name: email.split('@').next().unwrap_or_default().to_string(),
            title: Some(["Technician", "Engineer", "Service Desk", "Manager"][i % 4].into()),
            is_active: active,
            resource_type: "Employee".into(),
            office_phone: Some(phone(rng)),
            mobile_phone: None,
        });
        if !active {
            truth.exclude.insert(next_id);
            continue;
        }
        if !rng.gen_bool(0.6) {
            truth.create.insert(next_id);
            continue;
        }
        let id = ids.user();
        let user = match variant {
            0..=4 => PpUser {
                id,
                first_name: first,
                last_name: last,
                email: Some(email.to_uppercase()),
            },
            5 | 6 | 9 => PpUser {
                id,
                first_name: first,
                last_name: last,
                email: None,
            },
            _ => PpUser {
                id,
                first_name: last,
                last_name: first,
                email: None,
            },
        };
        pp.users.push(user);
        truth.matches.insert(next_id, id);
    }
    for name in ["Helpdesk Bot", "Night Shift"] {
        let (first, last) = name.split_once(' ').expect("two words");
        pp.users.push(PpUser {
            id: ids.user(),
            first_name: first.into(),
            last_name: last.into(),
            email: Some(email_of(first, last, "msp.example")),
        });
    }
}

/// How a company ends up, which decides what its children must do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Parent {
    /// Matched to this Passportal client: children may exist there already.
    Matched(i64),
    /// To be created (or waiting for review): children are created under it.
    Created,
    /// Excluded: children are excluded with it.
    Excluded,
}

/// Sequences of Autotask ids for the child entities.
pub(super) struct AtIds {
    contact: i64,
    location: i64,
    ci: i64,
}

impl AtIds {
    pub(super) fn new() -> Self {
        AtIds {
            contact: 30_000_000,
            location: 10_000,
            ci: 1_000_000,
        }
    }
}

/// Generate the contacts, locations and configuration items of one company, and the Passportal
/// documents that already exist for some of them when the company is matched.
#[allow(clippy::too_many_arguments)]
pub(super) fn company_children(
    spec: &MspSpec,
    rng: &mut ChaCha8Rng,
    company_id: i64,
    company_index: usize,
    parent: Parent,
    domain: &str,
    at_ids: &mut AtIds,
    pp_ids: &mut PpIds,
    at: &mut AutotaskTenant,
    pp: &mut PassportalInstance,
    truth: &mut Truth,
) {
    let plant = |rng: &mut ChaCha8Rng| match parent {
        Parent::Matched(client) if rng.gen_bool(spec.passportal_child_share) => Some(client),
        _ => None,
    };
    // Decide a child's fate: excluded with its parent, excluded for itself, or left to matching.
    let fate = |t: &mut EntityTruth, id: i64, own_exclusion: bool| -> bool {
        if parent == Parent::Excluded || own_exclusion {
            t.exclude.insert(id);
            false
        } else {
            true
        }
    };

    // Locations.
    let n_locations = 1 + rng.gen_range(0..spec.locations_per_company.max(1) * 2 - 1);
    let mut location_ids = Vec::new();
    for (k, location_name) in LOCATION_NAMES.iter().enumerate().take(n_locations) {
        at_ids.location += rng.gen_range(1..3);
        let id = at_ids.location;
        // Unique within the company: a renamed location is still found by its address.
        let address = format!(
            "{} {}",
            100 * (k + 1) + rng.gen_range(0..99),
            STREETS[rng.gen_range(0..STREETS.len())]
        );
        let loc = AtLocation {
            id,
            company_id,
            name: location_name.to_string(),
            address1: Some(address.clone()),
            address2: None,
            city: Some("Denver".into()),
            state: Some("CO".into()),
            postal_code: Some(format!("80{:03}", rng.gen_range(0..999))),
            phone: Some(phone(rng)),
            is_active: rng.gen_bool(0.97),
            is_primary: k == 0,
        };
        location_ids.push(id);
        if fate(&mut truth.locations, id, !loc.is_active) {
            match plant(rng) {
                Some(client) => {
                    let doc_id = pp_ids.doc();
                    let title = if rng.gen_bool(0.6) {
                        loc.name.to_uppercase()
                    } else {
                        format!("Site {}", k + 1)
                    };
                    pp.documents.push(doc(
                        doc_id,
                        client,
                        DocType::Location,
                        title,
                        vec![
                            (fields::ADDRESS, address),
                            (fields::CITY, "Denver".into()),
                            (fields::STATE, "CO".into()),
                        ],
                    ));
                    truth.locations.matches.insert(id, doc_id);
                }
                None => {
                    truth.locations.create.insert(id);
                }
            }
        }
        at.locations.push(loc);
    }

    // Contacts.
    let n_contacts = rng.gen_range(0..=spec.contacts_per_company * 2);
    let mut names = HashSet::new();
    let mut first_email_doc = None;
    for _ in 0..n_contacts {
        let (first, last) = loop {
            let p = person(rng);
            if names.insert(p.clone()) && names.insert((p.1.clone(), p.0.clone())) {
                break p;
            }
            if names.len() > 2 * FIRST.len() * LAST.len() / 3 {
                break (format!("{}{}", p.0, names.len()), p.1);
            }
        };
        at_ids.contact += rng.gen_range(1..4);
        let id = at_ids.contact;
        let email = rng.gen_bool(0.9).then(|| email_of(&first, &last, domain));
        let created = stamp(rng);
        let contact = AtContact {
            id,
            company_id,
            company_location_id: location_ids.first().copied(),
            first_name: first.clone(),
            last_name: last.clone(),
            title: Some(["Office Manager", "Owner", "Accountant", "Nurse"][id as usize % 4].into()),
            email_address: email.clone(),
            phone: Some(phone(rng)),
            mobile_phone: None,
            is_active: rng.gen_bool(0.95),
            address_line: None,
            city: None,
            state: None,
            zip_code: None,
            create_date: created,
            last_modified_date: created + Duration::days(rng.gen_range(0..400)),
        };
        if fate(&mut truth.contacts, id, !contact.is_active) {
            match plant(rng) {
                Some(client) => {
                    let doc_id = pp_ids.doc();
                    let variant = rng.gen_range(0..10);
                    let mut f = vec![
                        (fields::FIRST_NAME, first.clone()),
                        (fields::LAST_NAME, last.clone()),
                    ];
                    match (&email, variant) {
                        (Some(e), 0..=4) => f.push((fields::EMAIL, e.to_uppercase())),
                        (Some(e), 8..=9) => {
                            f.push((fields::EMAIL, e.clone()));
                            f.push((fields::AUTOTASK_ID, id.to_string()));
                        }
                        _ => f.push((fields::PHONE, contact.phone.clone().unwrap_or_default())),
                    }
                    // Only a plain e-mail match can be made ambiguous by a duplicate below.
                    let has_email = (0..=4).contains(&variant) && email.is_some();
                    pp.documents.push(doc(
                        doc_id,
                        client,
                        DocType::Contact,
                        format!("{first} {last}"),
                        f,
                    ));
                    truth.contacts.matches.insert(id, doc_id);
                    if has_email && first_email_doc.is_none() {
                        first_email_doc = Some((id, client, email.clone().unwrap_or_default()));
                    }
                }
                None => {
                    truth.contacts.create.insert(id);
                }
            }
        }
        at.contacts.push(contact);
    }
    if let Parent::Matched(client) = parent {
        // A contact made by hand in Passportal, nobody's counterpart.
        pp.documents.push(doc(
            pp_ids.doc(),
            client,
            DocType::Contact,
            "Front Desk".into(),
            vec![(fields::EMAIL, format!("frontdesk@{domain}"))],
        ));
        // Now and then the same e-mail twice in Passportal: the contact must wait for review.
        if company_index.is_multiple_of(25) {
            if let Some((contact_id, client, email)) = first_email_doc {
                pp.documents.push(doc(
                    pp_ids.doc(),
                    client,
                    DocType::Contact,
                    "Duplicate entry".into(),
                    vec![(fields::EMAIL, email)],
                ));
                truth.contacts.matches.remove(&contact_id);
                truth.contacts.create.insert(contact_id);
                truth.contacts.ambiguous.insert(contact_id);
            }
        }
    }

    // Configuration items.
    let n_cis = rng.gen_range(0..=spec.cis_per_company * 2);
    for k in 0..n_cis {
        at_ids.ci += rng.gen_range(1..3);
        let id = at_ids.ci;
        let roll = rng.gen_range(0..100);
        let (type_id, code) = match roll {
            0..=49 => (1, "WS"),
            50..=59 => (2, "SRV"),
            60..=74 => (3, "PRN"),
            75..=84 => (4, "NET"),
            85..=98 => (5, "MOB"),
            _ => (6, "TRM"),
        };
        let title = format!("C{company_id}-{code}{k:03}");
        let serial = rng.gen_bool(0.85).then(|| format!("SN{id:010X}"));
        let created = stamp(rng);
        let ci = AtConfigurationItem {
            id,
            company_id,
            company_location_id: location_ids.first().copied(),
            configuration_item_type: type_id,
            reference_title: title.clone(),
            serial_number: serial.clone(),
            is_active: rng.gen_bool(0.95),
            create_date: created,
            last_modified_time: created + Duration::days(rng.gen_range(0..400)),
            rmm_device_audit_hostname: (type_id <= 2).then(|| title.to_lowercase()),
        };
        let type_name = CI_TYPES
            .iter()
            .find(|t| t.0 == type_id)
            .map(|t| t.1)
            .unwrap_or_default();
        let unselected = !SELECTED_CI_TYPES.contains(&type_name);
        if fate(&mut truth.assets, id, unselected || !ci.is_active) {
            match plant(rng) {
                Some(client) => {
                    let doc_id = pp_ids.doc();
                    let mut f = vec![(fields::ASSET_TYPE, type_name.to_string())];
                    let by_serial = serial.is_some() && rng.gen_bool(0.6);
                    if by_serial {
                        f.push((fields::SERIAL_NUMBER, serial.clone().unwrap_or_default()));
                    }
                    let doc_title = if by_serial {
                        format!("{title} (old name)")
                    } else {
                        title.clone()
                    };
                    pp.documents
                        .push(doc(doc_id, client, DocType::Asset, doc_title, f));
                    truth.assets.matches.insert(id, doc_id);
                }
                None => {
                    truth.assets.create.insert(id);
                }
            }
        }
        at.configuration_items.push(ci);
    }
    if let Parent::Matched(client) = parent {
        pp.documents.push(doc(
            pp_ids.doc(),
            client,
            DocType::Asset,
            format!("FW-{company_id}"),
            vec![
                (fields::ASSET_TYPE, "Firewall".into()),
                (fields::SERIAL_NUMBER, format!("FWSN{company_id:08}")),
            ],
        ));
    }
}

/// The configuration item types of a generated tenant.
pub(super) fn ci_types() -> Vec<AtCiType> {
    CI_TYPES
        .iter()
        .map(|(id, name, active)| AtCiType {
            id: *id,
            name: name.to_string(),
            is_active: *active,
        })
        .collect()
}

/// Parents of every company from the company truth.
pub(super) fn parents(truth: &EntityTruth) -> BTreeMap<i64, Parent> {
    let mut out = BTreeMap::new();
    for (at, pp) in &truth.matches {
        out.insert(*at, Parent::Matched(*pp));
    }
    // A fuzzy pair may or may not be auto-matched; Passportal holds none of its children, so
    // they are created either way.
    for at in truth.create.iter().chain(truth.suggest.keys()) {
        out.insert(*at, Parent::Created);
    }
    for at in &truth.exclude {
        out.insert(*at, Parent::Excluded);
    }
    out
}

/// Every id in a truth, for checks.
pub fn all_ids(t: &EntityTruth) -> BTreeSet<i64> {
    t.matches
        .keys()
        .chain(t.suggest.keys())
        .chain(&t.create)
        .chain(&t.exclude)
        .copied()
        .collect()
}
