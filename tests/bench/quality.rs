//! Matching quality against a labelled truth: precision of the automatic matches and recall of
//! automatic matches plus suggestions. The quality test and the quality benchmark both use it,
//! and it decides with `match_all`, the function the match stage calls, so the figures in README
//! measure the code users run.

use atpp::api::passportal::models::Client;
use atpp::api::passportal::DocType as Wire;
use atpp::model::decision::{Action, Method, ReviewRow};
use atpp::model::entity::Entity;
use atpp::model::pipeline::{MatchingConfig, Thresholds};
use atpp::model::records::{
    ConfigurationItemRow, ContactRow, DocumentRow, LocationRow, ResourceRow, UserRow,
};
use atpp::sim::generator::{
    AtCompany, AtConfigurationItem, AtContact, AtLocation, AtResource, DocType, EntityTruth, Msp,
    PpDocument, SELECTED_CI_TYPES,
};
use atpp::stages::extract::autotask::CompanyRow;
use atpp::stages::matching::{match_all, AutotaskSide, MatchSpec, Memory, PassportalSide};
use std::collections::BTreeMap;

/// How well proposals agree with the true pairs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Quality {
    pub true_pairs: usize,
    pub auto_matches: usize,
    pub correct_auto: usize,
    /// True pairs auto-matched, or proposed for creation with the true record as suggestion.
    pub found: usize,
}

impl Quality {
    pub fn precision(&self) -> f64 {
        if self.auto_matches == 0 {
            1.0
        } else {
            self.correct_auto as f64 / self.auto_matches as f64
        }
    }

    pub fn recall(&self) -> f64 {
        if self.true_pairs == 0 {
            1.0
        } else {
            self.found as f64 / self.true_pairs as f64
        }
    }
}

/// Score proposals against the true pairs (Autotask id → Passportal id). Rows matched through
/// an existing link are not counted as automatic matches.
pub fn measure(rows: &[ReviewRow], true_pairs: &BTreeMap<i64, i64>) -> Quality {
    let mut q = Quality {
        true_pairs: true_pairs.len(),
        ..Quality::default()
    };
    for r in rows {
        let best = r.best.as_ref().map(|c| c.passportal_id);
        let truth = true_pairs.get(&r.autotask_id).copied();
        let auto =
            r.action == Action::Match && r.best.as_ref().is_some_and(|c| c.method != Method::Id);
        if auto {
            q.auto_matches += 1;
            if best.is_some() && best == truth {
                q.correct_auto += 1;
            }
        }
        if truth.is_some() && best == truth && matches!(r.action, Action::Match | Action::Create) {
            q.found += 1;
        }
    }
    q
}

/// A generated MSP's records as the extract stages them: both sides of a run, everything
/// staged.
pub fn sides(msp: &Msp) -> (AutotaskSide, PassportalSide) {
    let type_names: BTreeMap<i64, String> = msp
        .autotask
        .ci_types
        .iter()
        .map(|c| (c.id, c.name.clone()))
        .collect();
    let at = &msp.autotask;
    let autotask = AutotaskSide {
        companies: at.companies.iter().map(company_row).collect(),
        resources: Some(at.resources.iter().map(resource_row).collect()),
        locations: Some(at.locations.iter().map(location_row).collect()),
        contacts: Some(at.contacts.iter().map(contact_row).collect()),
        configuration_items: Some(
            at.configuration_items
                .iter()
                .map(|c| ci_row(c, type_names.get(&c.configuration_item_type).cloned()))
                .collect(),
        ),
    };
    let pp = &msp.passportal;
    let mut documents: BTreeMap<Wire, Vec<DocumentRow>> =
        Wire::ALL.iter().map(|t| (*t, Vec::new())).collect();
    for d in &pp.documents {
        let row = document_row(d);
        documents.entry(wire(d.doc_type)).or_default().push(row);
    }
    let passportal = PassportalSide {
        clients: pp
            .clients
            .iter()
            .map(|c| Client {
                id: c.id,
                name: c.name.clone(),
            })
            .collect(),
        users: Some(
            pp.users
                .iter()
                .map(|u| UserRow {
                    id: u.id,
                    first_name: Some(u.first_name.clone()),
                    last_name: Some(u.last_name.clone()),
                    email: u.email.clone(),
                })
                .collect(),
        ),
        documents,
    };
    (autotask, passportal)
}

/// A generated company as the extract stages it.
pub fn company_row(c: &AtCompany) -> CompanyRow {
    CompanyRow {
        id: c.id,
        name: c.company_name.clone(),
        company_type: Some(i64::from(c.company_type)),
        company_type_label: None,
        is_active: c.is_active,
        phone: c.phone.clone(),
        address1: c.address1.clone(),
        address2: c.address2.clone(),
        city: c.city.clone(),
        state: c.state.clone(),
        postal_code: c.postal_code.clone(),
        web_address: c.web_address.clone(),
    }
}

/// True pairs of an entity: the planted matches and suggestions.
fn pairs(e: &EntityTruth) -> BTreeMap<i64, i64> {
    let mut p = e.matches.clone();
    p.extend(e.suggest.iter().map(|(a, b)| (*a, *b)));
    p
}

/// Match a generated MSP's companies (no links yet) with `match_all`, the match stage's
/// function, and measure against its truth: the planted identical, normalised and fuzzy pairs.
pub fn company_quality(msp: &Msp, thresholds: Thresholds) -> Quality {
    let (at, pp) = sides(msp);
    let spec = MatchSpec::new(Entity::Companies, thresholds);
    let decided = match_all(&[spec], &at, &pp, &Memory::default());
    measure(&decided[0].rows, &pairs(&msp.truth.companies))
}

/// Every entity's quality on a generated MSP (no links yet), decided by `match_all` as the
/// match stage decides it, under the demo pipeline's scope: configuration items of
/// `SELECTED_CI_TYPES` only.
pub fn entity_quality(msp: &Msp, t: &MatchingConfig) -> BTreeMap<Entity, Quality> {
    let (at, pp) = sides(msp);
    let specs: Vec<MatchSpec> = MatchSpec::defaults(t)
        .into_iter()
        .map(|mut s| {
            if s.entity == Entity::ConfigurationItems {
                s.types = SELECTED_CI_TYPES.iter().map(|t| t.to_string()).collect();
            }
            s
        })
        .collect();
    let truth = &msp.truth;
    match_all(&specs, &at, &pp, &Memory::default())
        .into_iter()
        .map(|d| {
            let truth = match d.entity {
                Entity::Companies => &truth.companies,
                Entity::Resources => &truth.resources,
                Entity::Locations => &truth.locations,
                Entity::Contacts => &truth.contacts,
                Entity::ConfigurationItems => &truth.assets,
            };
            (d.entity, measure(&d.rows, &pairs(truth)))
        })
        .collect()
}

pub fn resource_row(r: &AtResource) -> ResourceRow {
    ResourceRow {
        id: r.id,
        first_name: Some(r.first_name.clone()),
        middle_name: r.middle_name.clone(),
        last_name: Some(r.last_name.clone()),
        email: r.email.clone(),
        user_name: Some(r.user_name.clone()),
        title: r.title.clone(),
        is_active: r.is_active,
        resource_type: Some(r.resource_type.clone()),
        office_phone: r.office_phone.clone(),
        mobile_phone: r.mobile_phone.clone(),
    }
}

pub fn contact_row(c: &AtContact) -> ContactRow {
    ContactRow {
        id: c.id,
        company_id: Some(c.company_id),
        company_location_id: c.company_location_id,
        first_name: Some(c.first_name.clone()),
        last_name: Some(c.last_name.clone()),
        title: c.title.clone(),
        email_address: c.email_address.clone(),
        phone: c.phone.clone(),
        mobile_phone: c.mobile_phone.clone(),
        is_active: c.is_active,
        ..ContactRow::default()
    }
}

pub fn location_row(l: &AtLocation) -> LocationRow {
    LocationRow {
        id: l.id,
        company_id: Some(l.company_id),
        name: Some(l.name.clone()),
        address1: l.address1.clone(),
        address2: l.address2.clone(),
        city: l.city.clone(),
        state: l.state.clone(),
        postal_code: l.postal_code.clone(),
        phone: l.phone.clone(),
        is_active: l.is_active,
        is_primary: l.is_primary,
    }
}

pub fn ci_row(c: &AtConfigurationItem, label: Option<String>) -> ConfigurationItemRow {
    ConfigurationItemRow {
        id: c.id,
        company_id: Some(c.company_id),
        company_location_id: c.company_location_id,
        configuration_item_type: Some(c.configuration_item_type),
        configuration_item_type_label: label,
        reference_title: Some(c.reference_title.clone()),
        serial_number: c.serial_number.clone(),
        is_active: c.is_active,
        rmm_device_audit_hostname: c.rmm_device_audit_hostname.clone(),
        ..ConfigurationItemRow::default()
    }
}

fn wire(t: DocType) -> Wire {
    match t {
        DocType::Contact => Wire::Contact,
        DocType::Location => Wire::Location,
        DocType::Asset => Wire::Asset,
    }
}

/// A generated document as the Passportal extract stages it.
pub fn document_row(d: &PpDocument) -> DocumentRow {
    atpp::stages::extract::passportal::document_row(
        &atpp::api::passportal::Document {
            id: d.id,
            client_id: d.client_id,
            doc_type: wire(d.doc_type),
            title: d.title.clone(),
            fields: d.fields.clone(),
        },
        atpp::api::passportal::fields::AUTOTASK_ID,
    )
}
