//! Companies → clients: an existing link first, then an identical name, then the normalised
//! name, then the same name with a place qualifier on one side only (a suggestion), then a similar
//! name; one Passportal client matched at most once (greedy by score), and never an automatic
//! match when two candidates are equally good. The client's evidence (phones and postal codes of
//! its location and contact documents) is compared with the company's: a name whose evidence
//! contradicts it (phone and postal code both differ, nothing agrees) is only a suggestion.

use super::assign::{assign, rank};
use super::compare::{fold, phone_digits};
use super::fuzzy::{NameIndex, Scratch};
use super::normalize::{company_base, company_name};
use super::spec::MatchSpec;
use super::{Action, Candidate, Method, ReviewRow};
use crate::api::passportal::models::Client;
use crate::model::entity::DocType;
use crate::model::ids::AutotaskId;
use crate::model::records::{ContactRow, DocumentRow, LocationRow};
use crate::stages::extract::autotask::CompanyRow;
use crate::store::ledger::Link;
use std::collections::{BTreeMap, HashMap, HashSet};

const EXACT_SCORE: f64 = 100.0;
const NORMALIZED_SCORE: f64 = 96.0;
/// Fuzzy scores stay below a normalised match, so a name that normalises alike always wins.
const FUZZY_CAP: f64 = 95.0;
/// The same name with a qualifier ("(Denver)") on one side only: worth an analyst's look.
const QUALIFIER_SCORE: f64 = 90.0;

/// What a side holds about a company or client besides its name: the phones and postal codes of
/// its locations and contacts, and which Autotask records those are (a document's `Autotask ID`
/// field; an Autotask company's own locations and contacts), by document type.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub phones: HashSet<String>,
    pub postal_codes: HashSet<String>,
    pub records: HashSet<(DocType, i64)>,
}

impl Evidence {
    fn add(&mut self, phone: Option<&str>, postal_code: Option<&str>) {
        self.phones.extend(phone_digits(phone));
        self.postal_codes.extend(postal(postal_code));
    }
}

/// Each client's evidence, from its staged location and contact documents.
pub fn evidence_from<'a>(docs: impl Iterator<Item = &'a DocumentRow>) -> HashMap<i64, Evidence> {
    let mut out: HashMap<i64, Evidence> = HashMap::new();
    for d in docs {
        let e = out.entry(d.client_id).or_default();
        e.add(d.phone.as_deref(), d.postal_code.as_deref());
        if let (Some(t), Some(id)) = (DocType::from_wire(&d.doc_type), d.autotask_id) {
            e.records.insert((t, id));
        }
    }
    out
}

/// Each Autotask company's own evidence, from its staged locations and contacts (a company's
/// main phone and postal code are often not those of every location).
pub fn own_evidence(locations: &[LocationRow], contacts: &[ContactRow]) -> HashMap<i64, Evidence> {
    let mut out: HashMap<i64, Evidence> = HashMap::new();
    for l in locations {
        if let Some(company) = l.company_id {
            let e = out.entry(company).or_default();
            e.add(l.phone.as_deref(), l.postal_code.as_deref());
            e.records.insert((DocType::Location, l.id));
        }
    }
    for c in contacts {
        if let Some(company) = c.company_id {
            let e = out.entry(company).or_default();
            e.add(c.phone.as_deref(), c.zip_code.as_deref());
            e.records.insert((DocType::Contact, c.id));
        }
    }
    out
}

fn postal(s: Option<&str>) -> Option<String> {
    fold(s).map(|p| p.replace(' ', ""))
}

/// Why a company's phones and postal codes (its own and its locations' and contacts') contradict
/// a client's evidence, if they do: both differ and nothing agrees. A client holding documents
/// of the company's own locations or contacts (by their `Autotask ID`) never contradicts it.
fn contradiction(
    company: &CompanyRow,
    own: Option<&Evidence>,
    evidence: Option<&Evidence>,
) -> Option<String> {
    let e = evidence?;
    let empty = Evidence::default();
    let own = own.unwrap_or(&empty);
    if !own.records.is_disjoint(&e.records) {
        return None;
    }
    // The company's values: its own phone and postal code and those of its locations and
    // contacts (borrowed, not collected: this runs for every candidate of every company).
    let phone = phone_digits(company.phone.as_deref());
    let code = postal(company.postal_code.as_deref());
    let phones = || own.phones.iter().chain(phone.iter());
    let codes = || own.postal_codes.iter().chain(code.iter());
    if phones().next().is_none() || codes().next().is_none() {
        return None;
    }
    let phone_differs = !e.phones.is_empty() && !phones().any(|p| e.phones.contains(p));
    let code_differs = !e.postal_codes.is_empty() && !codes().any(|c| e.postal_codes.contains(c));
    (phone_differs && code_differs).then(|| "phone and postal code differ".to_string())
}

/// What the company matcher reads.
pub struct CompanyInput<'a> {
    pub companies: &'a [CompanyRow],
    pub clients: &'a [Client],
    pub links: &'a BTreeMap<AutotaskId, Link>,
    /// The thresholds and scope.
    pub spec: &'a MatchSpec,
    /// Each client's evidence by client id (empty when no documents were staged).
    pub evidence: &'a HashMap<i64, Evidence>,
    /// Each company's own evidence by company id (its locations and contacts, when staged).
    pub own_evidence: &'a HashMap<i64, Evidence>,
}

/// Indexes of Passportal clients by exact, normalised and fuzzy name.
struct ClientIndex<'a> {
    clients: Vec<&'a Client>,
    exact: HashMap<&'a str, Vec<&'a Client>>,
    normalized: HashMap<String, Vec<&'a Client>>,
    /// Clients with a qualifier, by their name without it.
    qualified: HashMap<String, Vec<&'a Client>>,
    fuzzy: NameIndex,
}

impl<'a> ClientIndex<'a> {
    fn new(clients: Vec<&'a Client>, queries: &[CompanyRow]) -> Self {
        let mut exact: HashMap<&str, Vec<&Client>> = HashMap::new();
        let mut normalized: HashMap<String, Vec<&Client>> = HashMap::new();
        let mut qualified: HashMap<String, Vec<&Client>> = HashMap::new();
        for c in &clients {
            exact.entry(c.name.trim()).or_default().push(c);
            normalized.entry(company_name(&c.name)).or_default().push(c);
            if let Some(base) = company_base(&c.name) {
                qualified.entry(base).or_default().push(c);
            }
        }
        let fuzzy = NameIndex::build(
            clients.iter().map(|c| c.name.as_str()),
            queries.iter().map(|q| q.name.as_str()),
        );
        ClientIndex {
            clients,
            exact,
            normalized,
            qualified,
            fuzzy,
        }
    }

    /// Candidates for a name, best first, each client once at its best score.
    fn candidates(&self, name: &str, scratch: &mut Scratch) -> Vec<Candidate> {
        let exact = self.exact.get(name.trim()).into_iter().flatten();
        let exact = exact.map(|c| (*c, EXACT_SCORE, Method::Exact));
        let norm = self
            .normalized
            .get(&company_name(name))
            .into_iter()
            .flatten();
        let norm = norm.map(|c| (*c, NORMALIZED_SCORE, Method::Normalized));
        // A qualifier on one side only: theirs ("Acme (Denver)" for "Acme") or ours.
        let qualifier = match company_base(name) {
            None => self.qualified.get(&company_name(name)),
            Some(base) => self.normalized.get(&base),
        };
        let qualifier = qualifier
            .into_iter()
            .flatten()
            .map(|c| (*c, QUALIFIER_SCORE, Method::Normalized));
        let fuzzy = self
            .fuzzy
            .search(name, 3, scratch)
            .into_iter()
            .map(|(i, score)| (self.clients[i], score.min(FUZZY_CAP), Method::Fuzzy));
        rank(
            exact
                .chain(norm)
                .chain(qualifier)
                .chain(fuzzy)
                .map(|(c, score, method)| Candidate {
                    passportal_id: c.id,
                    name: c.name.clone(),
                    score,
                    method,
                })
                .collect(),
        )
    }
}

/// Candidates of every company that needs them, searched on all cores.
fn candidates_for_all(index: &ClientIndex, input: &CompanyInput) -> Vec<Vec<Candidate>> {
    let wanted = |c: &CompanyRow| {
        let linked = input.links.contains_key(&AutotaskId(c.id));
        !linked && out_of_scope(c, input.spec).is_none()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = input.companies.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = input
            .companies
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut scratch = Scratch::default();
                    part.iter()
                        .map(|c| {
                            if wanted(c) {
                                index.candidates(&c.name, &mut scratch)
                            } else {
                                Vec::new()
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("matching thread"))
            .collect()
    })
}

/// Propose an action for every Autotask company.
pub fn match_companies(input: &CompanyInput) -> Vec<ReviewRow> {
    let clients_by_id: HashMap<i64, &Client> = input.clients.iter().map(|c| (c.id, c)).collect();
    // Clients already linked to some Autotask company are not candidates for another.
    let taken: HashSet<i64> = input
        .links
        .values()
        .map(|l| l.passportal_id.0)
        .filter(|id| clients_by_id.contains_key(id))
        .collect();
    let index = ClientIndex::new(
        input
            .clients
            .iter()
            .filter(|c| !taken.contains(&c.id))
            .collect(),
        input.companies,
    );
    let candidates = candidates_for_all(&index, input);

    let mut rows: Vec<ReviewRow> = Vec::with_capacity(input.companies.len());
    let mut pending = Vec::new();
    for (company, found) in input.companies.iter().zip(candidates) {
        let mut row = ReviewRow {
            action: Action::Create,
            best: None,
            runner_up: None,
            autotask_id: company.id,
            autotask_name: company.name.clone(),
            reason: String::new(),
            remembered: false,
            context: Vec::new(),
        };
        let link = input.links.get(&AutotaskId(company.id));
        if let Some(client) = link.and_then(|l| clients_by_id.get(&l.passportal_id.0)) {
            row.action = Action::Match;
            row.best = Some(Candidate {
                passportal_id: client.id,
                name: client.name.clone(),
                score: 100.0,
                method: Method::Id,
            });
            row.reason = "linked by an earlier run".into();
            rows.push(row);
            continue;
        }
        if let Some(reason) = out_of_scope(company, input.spec) {
            row.action = Action::Exclude;
            row.reason = reason;
            rows.push(row);
            continue;
        }
        if let Some(l) = link {
            row.reason = format!(
                "linked client {} is no longer in Passportal; ",
                l.passportal_id
            );
        }
        let cap = input.spec.thresholds.auto_match - input.spec.thresholds.ambiguity_margin;
        let mut found: Vec<Candidate> = found
            .into_iter()
            .map(|mut c| {
                let own = input.own_evidence.get(&company.id);
                let why = contradiction(company, own, input.evidence.get(&c.passportal_id));
                if let Some(why) = why.filter(|_| c.score > cap) {
                    row.reason
                        .push_str(&format!("{}: {why}; ", c.passportal_id));
                    c.score = cap;
                }
                c
            })
            .collect();
        found = rank(found);
        let mut found = found.into_iter();
        row.best = found.next();
        row.runner_up = found.next();
        pending.push(rows.len());
        rows.push(row);
    }
    assign(&mut rows, &pending, input.spec.thresholds);
    rows
}

/// Why a company is out of the pipeline's scope, if it is.
fn out_of_scope(company: &CompanyRow, spec: &MatchSpec) -> Option<String> {
    if !company.is_active && !spec.include_inactive {
        return Some("inactive in Autotask".into());
    }
    let label = company.company_type_label.as_deref().unwrap_or("");
    if !spec.selects(label) {
        let shown = if label.is_empty() { "(none)" } else { label };
        return Some(format!("company type {shown} is not selected"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entity::Entity;
    use crate::model::pipeline::Thresholds;

    fn defaults() -> MatchSpec {
        MatchSpec::new(Entity::Companies, Thresholds::default())
    }

    fn company(id: i64, name: &str, active: bool) -> CompanyRow {
        CompanyRow {
            id,
            name: name.into(),
            company_type: Some(1),
            company_type_label: Some("Customer".into()),
            is_active: active,
            phone: None,
            address1: None,
            address2: None,
            city: None,
            state: None,
            postal_code: None,
            web_address: None,
        }
    }

    fn client(id: i64, name: &str) -> Client {
        Client {
            id,
            name: name.into(),
        }
    }

    fn run(companies: &[CompanyRow], clients: &[Client]) -> Vec<ReviewRow> {
        match_companies(&CompanyInput {
            companies,
            clients,
            links: &BTreeMap::new(),
            spec: &defaults(),
            evidence: &HashMap::new(),
            own_evidence: &HashMap::new(),
        })
    }

    #[test]
    fn exact_then_normalised_and_inactive_excluded() {
        let rows = run(
            &[
                company(1, "Acme Corp", true),
                company(2, "Globex, Inc.", true),
                company(3, "Initech", false),
                company(4, "Umbrella", true),
            ],
            &[
                client(10, "Acme Corp"),
                client(11, "GLOBEX CORPORATION"),
                client(12, "Initech"),
            ],
        );
        let by_id: HashMap<i64, &ReviewRow> = rows.iter().map(|r| (r.autotask_id, r)).collect();
        assert_eq!(by_id[&1].action, Action::Match);
        assert_eq!(by_id[&1].best.as_ref().unwrap().method, Method::Exact);
        assert_eq!(by_id[&2].action, Action::Match);
        assert_eq!(by_id[&2].best.as_ref().unwrap().method, Method::Normalized);
        assert_eq!(by_id[&2].best.as_ref().unwrap().passportal_id, 11);
        assert_eq!(by_id[&3].action, Action::Exclude);
        assert_eq!(by_id[&4].action, Action::Create);
        assert!(by_id[&4].best.is_none());
    }

    #[test]
    fn equally_good_candidates_are_never_auto_matched() {
        // Two clients normalise alike.
        let rows = run(
            &[company(1, "Globex", true)],
            &[client(10, "Globex LLC"), client(11, "Globex Ltd")],
        );
        assert_eq!(rows[0].action, Action::Create);
        assert!(
            rows[0].reason.starts_with("ambiguous"),
            "{}",
            rows[0].reason
        );
        assert!(rows[0].runner_up.is_some());
        // Two companies want one client equally.
        let rows = run(
            &[company(1, "Hooli", true), company(2, "Hooli", true)],
            &[client(10, "Hooli")],
        );
        assert!(rows.iter().all(|r| r.action == Action::Create));
        assert!(rows.iter().all(|r| r.reason.starts_with("ambiguous")));
    }

    #[test]
    fn inverted_articles_qualifiers_and_contradicting_evidence() {
        let mut acme = company(3, "Acme Plumbing", true);
        acme.phone = Some("303-555-0101".into());
        acme.postal_code = Some("80202".into());
        let companies = [
            company(1, "Smith Hardware Co, The", true),
            company(2, "Northwind Traders", true),
            acme,
        ];
        let clients = [
            client(10, "The Smith Hardware Company"),
            client(11, "Northwind Traders (Denver)"),
            client(12, "Acme Plumbing"),
        ];
        let evidence = evidence_from(
            [DocumentRow {
                client_id: 12,
                phone: Some("(720) 555-0199".into()),
                postal_code: Some("80401".into()),
                ..DocumentRow::default()
            }]
            .iter(),
        );
        let rows = match_companies(&CompanyInput {
            companies: &companies,
            clients: &clients,
            links: &BTreeMap::new(),
            spec: &defaults(),
            evidence: &evidence,
            own_evidence: &HashMap::new(),
        });
        let best = |i: usize| rows[i].best.as_ref().map(|c| c.passportal_id);
        assert_eq!((rows[0].action, best(0)), (Action::Match, Some(10)));
        // A qualifier on one side: suggested, never silently folded away.
        assert_eq!((rows[1].action, best(1)), (Action::Create, Some(11)));
        assert!(
            rows[1].reason.starts_with("suggested"),
            "{}",
            rows[1].reason
        );
        // Identical name, but phone and postal code both differ: a suggestion that says why.
        assert_eq!((rows[2].action, best(2)), (Action::Create, Some(12)));
        assert!(
            rows[2].reason.contains("phone and postal code differ"),
            "{}",
            rows[2].reason
        );
    }

    #[test]
    fn a_better_claim_wins_the_client() {
        let rows = run(
            &[company(1, "Hooli Inc", true), company(2, "Hooli", true)],
            &[client(10, "Hooli")],
        );
        assert_eq!(rows[1].action, Action::Match);
        assert_eq!(rows[0].action, Action::Create);
        assert!(rows[0].reason.contains("matched to Autotask record 2"));
    }

    /// A client whose documents disagree with the company's main phone and postal code is still
    /// its match when they agree with one of the company's locations, or when they are the
    /// company's own records (their `Autotask ID`): the case of a fresh match after a lost
    /// ledger, where the client and its documents were created by an earlier load.
    #[test]
    fn the_companys_own_locations_and_records_are_evidence_too() {
        let mut acme = company(3, "Acme Plumbing", true);
        acme.phone = Some("303-555-0101".into());
        acme.postal_code = Some("80202".into());
        let clients = [client(12, "Acme Plumbing")];
        let doc = |at: Option<i64>| DocumentRow {
            client_id: 12,
            doc_type: "location".into(),
            autotask_id: at,
            phone: Some("(720) 555-0199".into()),
            postal_code: Some("80401".into()),
            ..DocumentRow::default()
        };
        let location = |postal: &str| LocationRow {
            id: 77,
            company_id: Some(3),
            postal_code: Some(postal.into()),
            ..LocationRow::default()
        };
        let decide = |docs: &[DocumentRow], own: &HashMap<i64, Evidence>| {
            let evidence = evidence_from(docs.iter());
            let rows = match_companies(&CompanyInput {
                companies: std::slice::from_ref(&acme),
                clients: &clients,
                links: &BTreeMap::new(),
                spec: &defaults(),
                evidence: &evidence,
                own_evidence: own,
            });
            (rows[0].action, rows[0].reason.clone())
        };
        // Nothing of the company's agrees: held for review, saying why.
        let (action, reason) = decide(&[doc(None)], &HashMap::new());
        assert_eq!(action, Action::Create, "{reason}");
        assert!(reason.contains("phone and postal code differ"), "{reason}");
        let other_location = own_evidence(&[location("10001")], &[]);
        assert_eq!(decide(&[doc(None)], &other_location).0, Action::Create);
        // One of its locations has that postal code: matched.
        let same_location = own_evidence(&[location("80401")], &[]);
        assert_eq!(decide(&[doc(None)], &same_location).0, Action::Match);
        // The client holds the company's own location document: matched.
        assert_eq!(decide(&[doc(Some(77))], &other_location).0, Action::Match);
    }
}
