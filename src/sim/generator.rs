//! A seeded generator of a realistic MSP: the Autotask tenant, the Passportal instance that
//! already holds part of it (under identical and variant names), and the truth that tests and
//! the demo check the pipeline's outcome against. Same seed, same MSP.

mod children;
mod names;
mod people;
pub mod records;

pub use children::{all_ids, CI_TYPES, SELECTED_CI_TYPES};
pub use records::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// How big an MSP to generate and what to plant in it.
#[derive(Debug, Clone)]
pub struct MspSpec {
    pub seed: u64,
    /// Active Autotask companies with a unique name (besides the planted extras below).
    pub companies: usize,
    /// Share of those companies that Passportal already holds, under the same or a variant name.
    pub passportal_share: f64,
    /// Share of the Passportal-held ones whose Passportal name is a variant, not identical.
    pub variant_share: f64,
    /// Share of the variants that are fuzzy (a typo, an abbreviation, words reordered): true
    /// pairs that must be auto-matched or suggested.
    pub fuzzy_share: f64,
    /// Passportal clients that are near misses of an Autotask company's name but different
    /// companies (must never be auto-matched to it).
    pub distractors: usize,
    /// Clients that exist only in Passportal.
    pub passportal_only: usize,
    /// Inactive Autotask companies (half of them also in Passportal).
    pub inactive: usize,
    /// Autotask companies whose name matches two Passportal clients equally well.
    pub ambiguous: usize,
    /// Pairs of Autotask companies with the same name, one Passportal client of that name.
    pub duplicate_names: usize,
    /// Autotask resources (a share of the active ones already are Passportal users).
    pub resources: usize,
    /// Average contacts, locations and configuration items per company.
    pub contacts_per_company: usize,
    pub locations_per_company: usize,
    pub cis_per_company: usize,
    /// Share of a matched company's children that Passportal already holds as documents.
    pub passportal_child_share: f64,
}

impl MspSpec {
    /// The MSP of `atpp demo`: a few hundred companies, about half already in Passportal.
    pub fn demo(seed: u64) -> Self {
        MspSpec {
            seed,
            companies: 320,
            passportal_share: 0.5,
            variant_share: 0.5,
            fuzzy_share: 0.2,
            distractors: 12,
            passportal_only: 25,
            inactive: 12,
            ambiguous: 4,
            duplicate_names: 2,
            resources: 40,
            contacts_per_company: 3,
            locations_per_company: 2,
            cis_per_company: 4,
            passportal_child_share: 0.5,
        }
    }
}

/// Autotask's company type picklist as a default tenant has it (value, label).
pub const COMPANY_TYPES: &[(i32, &str)] = &[
    (1, "Customer"),
    (2, "Lead"),
    (3, "Prospect"),
    (4, "Dead"),
    (5, "Cancellation"),
    (6, "Vendor"),
    (7, "Partner"),
];

/// An Autotask company as the tenant holds it (the simulator renders it onto the wire).
#[derive(Debug, Clone, PartialEq)]
pub struct AtCompany {
    pub id: i64,
    pub company_name: String,
    pub company_number: Option<String>,
    pub company_type: i32,
    pub is_active: bool,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country_id: Option<i64>,
    pub web_address: Option<String>,
    pub parent_company_id: Option<i64>,
    pub create_date: DateTime<Utc>,
    pub last_activity_date: Option<DateTime<Utc>>,
    pub last_tracked_modified_date_time: DateTime<Utc>,
}

/// A Passportal client as the instance holds it (decoded; the simulator encodes names on the wire).
#[derive(Debug, Clone, PartialEq)]
pub struct PpClient {
    pub id: i64,
    pub name: String,
}

/// The Autotask side of the generated MSP, each entity in ascending id order.
#[derive(Debug, Clone, Default)]
pub struct AutotaskTenant {
    pub companies: Vec<AtCompany>,
    pub resources: Vec<AtResource>,
    pub contacts: Vec<AtContact>,
    pub locations: Vec<AtLocation>,
    pub configuration_items: Vec<AtConfigurationItem>,
    pub ci_types: Vec<AtCiType>,
}

/// The Passportal side of the generated MSP.
#[derive(Debug, Clone, Default)]
pub struct PassportalInstance {
    pub clients: Vec<PpClient>,
    pub users: Vec<PpUser>,
    /// Contacts, locations and assets, each under a client.
    pub documents: Vec<PpDocument>,
}

/// What a correct pipeline must conclude about each Autotask record of one entity, given no
/// links yet, the demo pipeline's scope (inactive records excluded; configuration items of the
/// `SELECTED_CI_TYPES` only), and children following their company.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityTruth {
    /// Autotask id → the Passportal record it must be auto-matched to.
    pub matches: BTreeMap<i64, i64>,
    /// Autotask id → its true Passportal record, found by fuzzy matching: it must be
    /// auto-matched to it or proposed for creation with it as the suggestion.
    pub suggest: BTreeMap<i64, i64>,
    /// Autotask ids that must be proposed for creation (new, or ambiguous).
    pub create: BTreeSet<i64>,
    /// The subset of `create` that must say `ambiguous`.
    pub ambiguous: BTreeSet<i64>,
    /// Autotask ids that must be excluded (inactive, parent excluded, type not selected).
    pub exclude: BTreeSet<i64>,
}

/// The truth of every entity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Truth {
    pub companies: EntityTruth,
    pub resources: EntityTruth,
    pub contacts: EntityTruth,
    pub locations: EntityTruth,
    pub assets: EntityTruth,
}

#[derive(Debug, Clone)]
pub struct Msp {
    pub autotask: AutotaskTenant,
    pub passportal: PassportalInstance,
    pub truth: Truth,
}

const CITIES: &[(&str, &str, &str)] = &[
    ("Denver", "CO", "80202"),
    ("Austin", "TX", "73301"),
    ("Boston", "MA", "02108"),
    ("Portland", "OR", "97201"),
    ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"),
    ("Tampa", "FL", "33602"),
    ("Newark", "NJ", "07102"),
];

fn epoch(year: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

fn company(id: i64, name: String, active: bool, rng: &mut ChaCha8Rng) -> AtCompany {
    let (city, state, zip) = *CITIES.choose(rng).expect("non-empty");
    let created = epoch(2015) + Duration::seconds(rng.gen_range(0..(10 * 365 * 86_400)));
    let modified = created + Duration::seconds(rng.gen_range(0..(365 * 86_400)));
    let kind = if rng.gen_bool(0.85) {
        1
    } else {
        [3, 6, 7][rng.gen_range(0..3)]
    };
    AtCompany {
        id,
        company_number: Some(format!("C{id:05}")),
        company_type: kind,
        is_active: active,
        phone: Some(format!(
            "({:03}) 555-{:04}",
            rng.gen_range(200..999),
            rng.gen_range(0..10_000)
        )),
        fax: None,
        address1: Some(format!(
            "{} {} St",
            rng.gen_range(1..9999),
            ["Main", "Oak", "Pine", "Elm", "Market"][rng.gen_range(0..5)]
        )),
        address2: if rng.gen_bool(0.2) {
            Some(format!("Suite {}", rng.gen_range(100..999)))
        } else {
            None
        },
        city: Some(city.to_string()),
        state: Some(state.to_string()),
        postal_code: Some(zip.to_string()),
        country_id: Some(237),
        web_address: Some(format!(
            "https://www.{}.example",
            deunicode::deunicode(&name)
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "")
        )),
        parent_company_id: None,
        create_date: created,
        last_activity_date: Some(modified),
        last_tracked_modified_date_time: modified,
        company_name: name,
    }
}

/// Generate an MSP from a spec. Deterministic for a given spec.
pub fn generate(spec: &MspSpec) -> Msp {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut names = names::NameSource::new();
    let mut at = AutotaskTenant::default();
    let mut pp = PassportalInstance::default();
    let mut truth = EntityTruth::default();
    // Autotask ids start at 0 (the tenant's own company) and have gaps, as real tenants do.
    let mut next_at = 0i64;
    let mut at_id = |rng: &mut ChaCha8Rng| {
        let id = next_at;
        next_at += rng.gen_range(1..4);
        id
    };
    let mut next_pp = 1000i64;
    let mut pp_id = || {
        next_pp += 1;
        next_pp
    };

    for _ in 0..spec.companies {
        let name = names.fresh(&mut rng);
        let id = at_id(&mut rng);
        if rng.gen_bool(spec.passportal_share) {
            let pid = pp_id();
            let fuzzy = rng
                .gen_bool(spec.variant_share * spec.fuzzy_share)
                .then(|| names.fuzzy_variant(&name, &mut rng))
                .flatten();
            let pp_name = match fuzzy {
                Some(v) => {
                    truth.suggest.insert(id, pid);
                    v
                }
                None if rng.gen_bool(spec.variant_share) => {
                    truth.matches.insert(id, pid);
                    names::variant_name(&name, &mut rng)
                }
                None => {
                    truth.matches.insert(id, pid);
                    name.clone()
                }
            };
            pp.clients.push(PpClient {
                id: pid,
                name: pp_name,
            });
        } else {
            truth.create.insert(id);
        }
        at.companies.push(company(id, name, true, &mut rng));
    }
    for _ in 0..spec.ambiguous {
        let name = names.fresh(&mut rng);
        let id = at_id(&mut rng);
        for form in ["LLC", "Ltd"] {
            let pid = pp_id();
            pp.clients.push(PpClient {
                id: pid,
                name: format!("{name} {form}"),
            });
        }
        truth.create.insert(id);
        truth.ambiguous.insert(id);
        at.companies.push(company(id, name, true, &mut rng));
    }
    for _ in 0..spec.duplicate_names {
        let name = names.fresh(&mut rng);
        let pid = pp_id();
        pp.clients.push(PpClient {
            id: pid,
            name: name.clone(),
        });
        for _ in 0..2 {
            let id = at_id(&mut rng);
            truth.create.insert(id);
            truth.ambiguous.insert(id);
            at.companies.push(company(id, name.clone(), true, &mut rng));
        }
    }
    for i in 0..spec.inactive {
        let name = names.fresh(&mut rng);
        let id = at_id(&mut rng);
        if i % 2 == 0 {
            let pid = pp_id();
            pp.clients.push(PpClient {
                id: pid,
                name: name.clone(),
            });
        }
        truth.exclude.insert(id);
        at.companies.push(company(id, name, false, &mut rng));
    }
    // Near misses of Autotask names: different companies that only look alike.
    let mut planted = 0;
    for c in at.companies.clone() {
        if planted == spec.distractors {
            break;
        }
        if let Some(name) = names.near_miss(&c.company_name) {
            pp.clients.push(PpClient { id: pp_id(), name });
            planted += 1;
        }
    }
    for _ in 0..spec.passportal_only {
        let name = names.fresh(&mut rng);
        let pid = pp_id();
        pp.clients.push(PpClient { id: pid, name });
    }
    at.companies.sort_by_key(|c| c.id);
    pp.clients.shuffle(&mut rng);

    // Everything below draws from its own stream, so the companies stay as they were.
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5eed_c41d);
    let mut all = Truth {
        companies: truth,
        ..Truth::default()
    };
    let mut pp_ids = children::PpIds::new();
    let mut at_ids = children::AtIds::new();
    children::resources(
        spec,
        &mut rng,
        &mut pp_ids,
        &mut at,
        &mut pp,
        &mut all.resources,
    );
    at.ci_types = children::ci_types();
    let parents = children::parents(&all.companies);
    let companies: Vec<(i64, String)> = at
        .companies
        .iter()
        .map(|c| {
            let domain = c
                .web_address
                .as_deref()
                .and_then(|w| w.strip_prefix("https://www."))
                .unwrap_or("customer.example")
                .to_string();
            (c.id, domain)
        })
        .collect();
    for (index, (company_id, domain)) in companies.iter().enumerate() {
        children::company_children(
            spec,
            &mut rng,
            *company_id,
            index,
            parents[company_id],
            domain,
            &mut at_ids,
            &mut pp_ids,
            &mut at,
            &mut pp,
            &mut all,
        );
    }
    Msp {
        autotask: at,
        passportal: pp,
        truth: all,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_msp_and_truth_covers_every_company() {
        let a = generate(&MspSpec::demo(7));
        let b = generate(&MspSpec::demo(7));
        assert_eq!(a.autotask.companies, b.autotask.companies);
        assert_eq!(a.passportal.clients, b.passportal.clients);
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.passportal.documents, b.passportal.documents);
        let t = &a.truth.companies;
        let covered = t.matches.len() + t.suggest.len() + t.create.len() + t.exclude.len();
        assert_eq!(covered, a.autotask.companies.len());
        assert!(!t.suggest.is_empty(), "fuzzy pairs are planted");
        // Every child record is accounted for exactly once.
        let at = &a.autotask;
        for (truth, ids) in [
            (
                &a.truth.resources,
                at.resources.iter().map(|r| r.id).collect::<Vec<_>>(),
            ),
            (
                &a.truth.contacts,
                at.contacts.iter().map(|r| r.id).collect(),
            ),
            (
                &a.truth.locations,
                at.locations.iter().map(|r| r.id).collect(),
            ),
            (
                &a.truth.assets,
                at.configuration_items.iter().map(|r| r.id).collect(),
            ),
        ] {
            let n = truth.matches.len() + truth.create.len() + truth.exclude.len();
            assert_eq!(n, ids.len());
            assert_eq!(all_ids(truth), ids.iter().copied().collect());
            assert!(!truth.matches.is_empty() && !truth.create.is_empty());
        }
        assert!(a.autotask.companies.len() >= 300);
        let ids: BTreeSet<i64> = a.autotask.companies.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), a.autotask.companies.len(), "ids are unique");
    }
}
