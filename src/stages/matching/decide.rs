//! Matching as one pure function: one spec per entity, the staged records of both sides and
//! what the ledger remembers (links and analysts' decisions) in → a decision per Autotask record
//! out, with no I/O. The match stage reads the files and the ledger, calls `match_all` and
//! writes what it returns; the quality harness and the benches call the same function on
//! generated records, so the figures in README measure the code users run.

use super::children::{match_children, parents_from, ChildRecord, ChildScope, Parent};
use super::companies::{evidence_from, match_companies, own_evidence, CompanyInput};
use super::people::{match_resources, ResourceInput};
use super::spec::{MatchSpec, Rule};
use super::{Action, Method, ReviewRow};
use crate::api::passportal::models::Client;
use crate::model::entity::{DocType, Entity};
use crate::model::ids::AutotaskId;
use crate::model::records::{
    ConfigurationItemRow, ContactRow, DocumentRow, LocationRow, ResourceRow, UserRow,
};
use crate::stages::extract::autotask::CompanyRow;
use crate::store::ledger::Link;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The Autotask side of a run as staged; `None`: the entity was not staged.
#[derive(Default)]
pub struct AutotaskSide {
    pub companies: Vec<CompanyRow>,
    pub resources: Option<Vec<ResourceRow>>,
    pub locations: Option<Vec<LocationRow>>,
    pub contacts: Option<Vec<ContactRow>>,
    pub configuration_items: Option<Vec<ConfigurationItemRow>>,
}

/// The Passportal side of a run as staged; `None` or a missing document type: not staged.
#[derive(Default)]
pub struct PassportalSide {
    pub clients: Vec<Client>,
    pub users: Option<Vec<UserRow>>,
    pub documents: BTreeMap<DocType, Vec<DocumentRow>>,
}

/// What earlier runs left in the ledger: links (Autotask id → Passportal record) and analysts'
/// decisions, by entity.
#[derive(Default)]
pub struct Memory {
    pub links: BTreeMap<Entity, BTreeMap<AutotaskId, Link>>,
    pub decisions: BTreeMap<Entity, Vec<(AutotaskId, Action)>>,
}

impl Memory {
    /// The links of `entity` (none remembered: empty).
    pub fn links(&self, entity: Entity) -> &BTreeMap<AutotaskId, Link> {
        static NONE: BTreeMap<AutotaskId, Link> = BTreeMap::new();
        self.links.get(&entity).unwrap_or(&NONE)
    }
}

/// One entity's decisions: a review row per Autotask record, in staged order.
pub struct Decisions {
    pub entity: Entity,
    pub rows: Vec<ReviewRow>,
}

/// Decide every entity of `specs` (parents before children: a child follows what its company's
/// decision made of it). An entity whose records either side did not stage is left out;
/// companies are always decided when their spec is given.
pub fn match_all(
    specs: &[MatchSpec],
    at: &AutotaskSide,
    pp: &PassportalSide,
    memory: &Memory,
) -> Vec<Decisions> {
    match_all_with(specs, at, pp, memory, |_, _, _| {})
}

/// [`match_all`] with `step` run on each entity's rows after remembered decisions, before the
/// entity's rows become its children's parents: it may change the rows (the match stage carries
/// the ledger's backlog there) and add parents (a company still owed that the extract did not
/// bring, whose children wait with it).
pub fn match_all_with(
    specs: &[MatchSpec],
    at: &AutotaskSide,
    pp: &PassportalSide,
    memory: &Memory,
    mut step: impl FnMut(Entity, &mut Vec<ReviewRow>, &mut HashMap<i64, Parent>),
) -> Vec<Decisions> {
    let mut parents = linked_parents(pp, memory);
    let mut out = Vec::new();
    for spec in specs {
        let Some(mut rows) = match_entity(spec, at, pp, memory, &parents) else {
            continue;
        };
        let remembered = memory.decisions.get(&spec.entity);
        apply_remembered(
            &mut rows,
            remembered.map_or(&[][..], Vec::as_slice),
            memory.links(spec.entity),
        );
        step(spec.entity, &mut rows, &mut parents);
        if spec.entity == Entity::Companies {
            // This run's decisions first; companies not in the extract by their links.
            let mut decided = parents_from(&rows);
            for (id, parent) in parents.drain() {
                decided.entry(id).or_insert(parent);
            }
            parents = decided;
        }
        out.push(Decisions {
            entity: spec.entity,
            rows,
        });
    }
    out
}

/// Parents known by their links alone: companies of an incremental run not in its extract.
fn linked_parents(pp: &PassportalSide, memory: &Memory) -> HashMap<i64, Parent> {
    let names: HashMap<i64, &str> = pp.clients.iter().map(|c| (c.id, c.name.as_str())).collect();
    memory
        .links(Entity::Companies)
        .iter()
        .map(|(at_id, link)| {
            let client_id = link.passportal_id.0;
            let name = names
                .get(&client_id)
                .map_or_else(String::new, |n| n.to_string());
            (at_id.0, Parent::Linked { client_id, name })
        })
        .collect()
}

/// One entity's rows before remembered decisions, or `None` when it was not staged on both
/// sides. `parents`: what the company decisions made of each company.
pub fn match_entity(
    spec: &MatchSpec,
    at: &AutotaskSide,
    pp: &PassportalSide,
    memory: &Memory,
    parents: &HashMap<i64, Parent>,
) -> Option<Vec<ReviewRow>> {
    let links = memory.links(spec.entity);
    let scope = |doc_type| {
        Some(ChildScopeOf {
            documents: pp.documents.get(&doc_type)?,
            parents,
            links,
            spec,
        })
    };
    // The rule says how; each rule compares the records of the entity it was made for.
    match spec.rule {
        Rule::CompanyName => {
            // The clients' evidence: their location and contact documents; the companies'
            // own: their locations and contacts (whichever were staged).
            let docs = [DocType::Location, DocType::Contact]
                .into_iter()
                .filter_map(|t| pp.documents.get(&t))
                .flatten();
            let own = own_evidence(
                at.locations.as_deref().unwrap_or_default(),
                at.contacts.as_deref().unwrap_or_default(),
            );
            Some(match_companies(&CompanyInput {
                companies: &at.companies,
                clients: &pp.clients,
                links,
                spec,
                evidence: &evidence_from(docs),
                own_evidence: &own,
            }))
        }
        Rule::Person => Some(match_resources(&ResourceInput {
            resources: at.resources.as_deref()?,
            users: pp.users.as_deref()?,
            links,
            include_inactive: spec.include_inactive,
            thresholds: spec.thresholds,
        })),
        Rule::NameThenAddress => {
            Some(scope(DocType::Location)?.rows(at.locations.as_deref()?, &|_| None))
        }
        Rule::ContactModel => {
            Some(scope(DocType::Contact)?.rows(at.contacts.as_deref()?, &|_| None))
        }
        Rule::SerialThenName => {
            let records = at.configuration_items.as_deref()?;
            // Configuration items of a type the pipeline does not select are out of scope.
            let unselected: HashMap<i64, &str> = records
                .iter()
                .filter_map(|r| {
                    let label = r.configuration_item_type_label.as_deref().unwrap_or("");
                    (!spec.selects(label)).then_some((r.id, label))
                })
                .collect();
            let exclusion = |id: i64| {
                unselected.get(&id).map(|&label| {
                    let shown = if label.is_empty() { "(none)" } else { label };
                    format!("configuration item type {shown} is not selected")
                })
            };
            Some(scope(DocType::Asset)?.rows(records, &exclusion))
        }
    }
}

/// What a child entity is matched within: its documents, its parents and its links.
struct ChildScopeOf<'a> {
    documents: &'a [DocumentRow],
    parents: &'a HashMap<i64, Parent>,
    links: &'a BTreeMap<AutotaskId, Link>,
    spec: &'a MatchSpec,
}

impl ChildScopeOf<'_> {
    fn rows<T: ChildRecord>(
        &self,
        records: &[T],
        exclusion: &dyn Fn(i64) -> Option<String>,
    ) -> Vec<ReviewRow> {
        match_children(
            records,
            &ChildScope {
                documents: self.documents,
                parents: self.parents,
                links: self.links,
                include_inactive: self.spec.include_inactive,
                thresholds: self.spec.thresholds,
                exclusion,
            },
        )
    }
}

/// Apply remembered decisions: an analyst's exclusion stays excluded, an analyst's match (a
/// link made by hand) shows as remembered.
fn apply_remembered(
    rows: &mut [ReviewRow],
    remembered: &[(AutotaskId, Action)],
    links: &BTreeMap<AutotaskId, Link>,
) {
    let excluded: HashSet<AutotaskId> = remembered
        .iter()
        .filter(|(_, a)| *a == Action::Exclude)
        .map(|(id, _)| *id)
        .collect();
    for row in rows.iter_mut() {
        let manual = links
            .get(&AutotaskId(row.autotask_id))
            .is_some_and(|l| l.method == Method::Manual.as_str());
        if row.action == Action::Match && manual {
            row.remembered = true;
            row.reason = "matched by an analyst in an earlier run".into();
        } else if excluded.contains(&AutotaskId(row.autotask_id)) && row.action != Action::Exclude {
            row.action = Action::Exclude;
            row.remembered = true;
            row.reason =
                "excluded by an analyst in an earlier run (change the action to undo)".into();
        }
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
