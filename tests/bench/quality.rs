//! Matching quality against a labelled truth: precision of the automatic matches and recall of
//! automatic matches plus suggestions. The quality test and the quality benchmark both use it,
//! so the thresholds in README come from the same arithmetic the test checks.

use atpp::api::passportal::models::Client;
use atpp::model::decision::{Action, Method, ReviewRow};
use atpp::model::entity::Entity;
use atpp::model::pipeline::{SyncConfig, Thresholds};
use atpp::model::records::{
    ConfigurationItemRow, ContactRow, DocumentRow, LocationRow, ResourceRow, UserRow,
};
use atpp::sim::generator::{
    AtCompany, AtConfigurationItem, AtContact, AtLocation, AtResource, DocType, Msp, PpDocument,
};
use atpp::stages::extract::autotask::CompanyRow;
use atpp::stages::matching::companies::{match_companies, CompanyInput};
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

/// The clients' evidence as the match stage joins it: their location and contact documents.
pub fn evidence_of(
    msp: &Msp,
) -> std::collections::HashMap<i64, atpp::stages::matching::companies::Evidence> {
    let docs: Vec<DocumentRow> = msp
        .passportal
        .documents
        .iter()
        .filter(|d| d.doc_type != DocType::Asset)
        .map(document_row)
        .collect();
    atpp::stages::matching::companies::evidence_from(docs.iter())
}

/// The companies' own evidence as the match stage joins it: their locations and contacts.
pub fn own_evidence_of(
    msp: &Msp,
) -> std::collections::HashMap<i64, atpp::stages::matching::companies::Evidence> {
    let locations: Vec<_> = msp.autotask.locations.iter().map(location_row).collect();
    let contacts: Vec<_> = msp.autotask.contacts.iter().map(contact_row).collect();
    atpp::stages::matching::companies::own_evidence(&locations, &contacts)
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

/// Match a generated MSP's companies (no links yet) and measure against its truth: the planted
/// identical, normalised and fuzzy pairs.
pub fn company_quality(msp: &Msp, thresholds: Thresholds) -> Quality {
    let companies: Vec<CompanyRow> = msp.autotask.companies.iter().map(company_row).collect();
    let clients: Vec<Client> = msp
        .passportal
        .clients
        .iter()
        .map(|c| Client {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    let rows = match_companies(&CompanyInput {
        companies: &companies,
        clients: &clients,
        links: &BTreeMap::new(),
        sync: &SyncConfig::default(),
        thresholds,
        evidence: &evidence_of(msp),
        own_evidence: &own_evidence_of(msp),
    });
    let truth = &msp.truth.companies;
    let mut pairs = truth.matches.clone();
    pairs.extend(truth.suggest.iter().map(|(a, p)| (*a, *p)));
    measure(&rows, &pairs)
}

/// Every entity's quality on a generated MSP (no links yet), matched the way the match stage
/// matches: companies first, children within their company's client. The demo pipeline's
/// scope: configuration items of `SELECTED_CI_TYPES` only.
pub fn entity_quality(
    msp: &Msp,
    t: &atpp::model::pipeline::MatchingConfig,
) -> BTreeMap<Entity, Quality> {
    use atpp::sim::generator::SELECTED_CI_TYPES;
    use atpp::stages::matching::children::{match_children, parents_from, ChildScope};
    use atpp::stages::matching::people::{match_resources, ResourceInput};
    let mut out = BTreeMap::new();
    let truth = &msp.truth;
    let pairs = |e: &atpp::sim::generator::EntityTruth| {
        let mut p = e.matches.clone();
        p.extend(e.suggest.iter().map(|(a, b)| (*a, *b)));
        p
    };
    let companies: Vec<CompanyRow> = msp.autotask.companies.iter().map(company_row).collect();
    let clients: Vec<Client> = msp
        .passportal
        .clients
        .iter()
        .map(|c| Client {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    let links = BTreeMap::new();
    let sync = SyncConfig::default();
    let company_rows = match_companies(&CompanyInput {
        companies: &companies,
        clients: &clients,
        links: &links,
        sync: &sync,
        thresholds: t.companies,
        evidence: &evidence_of(msp),
        own_evidence: &own_evidence_of(msp),
    });
    out.insert(
        Entity::Companies,
        measure(&company_rows, &pairs(&truth.companies)),
    );

    let resources: Vec<ResourceRow> = msp.autotask.resources.iter().map(resource_row).collect();
    let users: Vec<UserRow> = msp
        .passportal
        .users
        .iter()
        .map(|u| UserRow {
            id: u.id,
            first_name: Some(u.first_name.clone()),
            last_name: Some(u.last_name.clone()),
            email: u.email.clone(),
        })
        .collect();
    let rows = match_resources(&ResourceInput {
        resources: &resources,
        users: &users,
        links: &links,
        include_inactive: false,
        thresholds: t.resources,
    });
    out.insert(Entity::Resources, measure(&rows, &pairs(&truth.resources)));

    let parents = parents_from(&company_rows);
    let docs = |kind: DocType| -> Vec<DocumentRow> {
        msp.passportal
            .documents
            .iter()
            .filter(|d| d.doc_type == kind)
            .map(document_row)
            .collect()
    };
    let none = |_: i64| None;
    let scope = |documents, thresholds| ChildScope {
        documents,
        parents: &parents,
        links: &links,
        include_inactive: false,
        thresholds,
        exclusion: &none,
    };
    let locations: Vec<LocationRow> = msp.autotask.locations.iter().map(location_row).collect();
    let location_docs = docs(DocType::Location);
    let rows = match_children(&locations, &scope(&location_docs, t.locations));
    out.insert(Entity::Locations, measure(&rows, &pairs(&truth.locations)));

    let contacts: Vec<ContactRow> = msp.autotask.contacts.iter().map(contact_row).collect();
    let contact_docs = docs(DocType::Contact);
    let rows = match_children(&contacts, &scope(&contact_docs, t.contacts));
    out.insert(Entity::Contacts, measure(&rows, &pairs(&truth.contacts)));

    let type_names: BTreeMap<i64, String> = msp
        .autotask
        .ci_types
        .iter()
        .map(|c| (c.id, c.name.clone()))
        .collect();
    let items: Vec<ConfigurationItemRow> = msp
        .autotask
        .configuration_items
        .iter()
        .map(|c| ci_row(c, type_names.get(&c.configuration_item_type).cloned()))
        .collect();
    let unselected: std::collections::HashSet<i64> = items
        .iter()
        .filter(|c| {
            !SELECTED_CI_TYPES.contains(&c.configuration_item_type_label.as_deref().unwrap_or(""))
        })
        .map(|c| c.id)
        .collect();
    let exclusion = |id: i64| {
        unselected
            .contains(&id)
            .then(|| "type not selected".to_string())
    };
    let asset_docs = docs(DocType::Asset);
    let rows = match_children(
        &items,
        &ChildScope {
            exclusion: &exclusion,
            ..scope(&asset_docs, t.configuration_items)
        },
    );
    out.insert(
        Entity::ConfigurationItems,
        measure(&rows, &pairs(&truth.assets)),
    );
    out
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

/// A generated document as the Passportal extract stages it.
pub fn document_row(d: &PpDocument) -> DocumentRow {
    use atpp::api::passportal::DocType as Wire;
    atpp::stages::extract::passportal::document_row(
        &atpp::api::passportal::Document {
            id: d.id,
            client_id: d.client_id,
            doc_type: match d.doc_type {
                DocType::Contact => Wire::Contact,
                DocType::Location => Wire::Location,
                DocType::Asset => Wire::Asset,
            },
            title: d.title.clone(),
            fields: d.fields.clone(),
        },
        atpp::api::passportal::fields::AUTOTASK_ID,
    )
}
