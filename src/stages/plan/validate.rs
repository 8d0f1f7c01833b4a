//! Checking an analyst's decisions before anything is written: every Autotask record exactly
//! once, every matched Passportal record existing and matched once, children consistent with
//! what their company will be. Every problem is collected and located; any problem refuses the
//! whole plan.

use super::{EntityPlan, PlanError, PlannedLink, Remember};
use crate::model::entity::Entity;
use crate::model::ids::{AutotaskId, PassportalId};
use crate::stages::extract::{autotask as at, passportal as pp};
use crate::stages::matching::{Action, Method, Proposal};
use crate::stages::review::{self, Decision, Problem};
use crate::store::ledger::Ledger;
use crate::store::staging::Run;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The Passportal records a row of `entity` may be matched to: id → client id (documents).
pub fn passportal_records(
    run: &Run,
    entity: Entity,
) -> Result<HashMap<i64, Option<i64>>, PlanError> {
    let path = run.path(entity.passportal_file());
    Ok(match entity {
        Entity::Companies => pp::read_clients(&path)?
            .into_iter()
            .map(|c| (c.id, None))
            .collect(),
        Entity::Resources => pp::read_users(&path)?
            .into_iter()
            .map(|u| (u.id, None))
            .collect(),
        _ => pp::read_documents(&path)?
            .into_iter()
            .map(|d| (d.id, Some(d.client_id)))
            .collect(),
    })
}

/// What the decisions are checked against.
pub struct Known<'a> {
    /// What the match stage proposed, by Autotask id: also the set of staged records.
    pub proposals: &'a BTreeMap<i64, Proposal>,
    pub passportal: &'a HashMap<i64, Option<i64>>,
    /// Ledger links: Autotask id → Passportal id.
    pub links: &'a BTreeMap<i64, i64>,
    /// Remembered exclusions.
    pub remembered: &'a BTreeSet<i64>,
    /// Records a load of this same run already linked (an automatic load before review).
    pub done_by_this_run: &'a BTreeSet<i64>,
    /// Autotask ids of every row read, refused or not (a refused row is not also missing).
    pub read: &'a BTreeSet<i64>,
}

/// The pipeline's policy: which rows apply without review, which wait (returned as pending).
/// `owed_creates`: creates the backlog owes (decided earlier, attempts left) apply again.
pub fn auto_approve(
    entity: Entity,
    decisions: Vec<Decision>,
    proposals: &BTreeMap<i64, Proposal>,
    sync: &crate::model::pipeline::SyncConfig,
    owed_creates: &BTreeSet<i64>,
) -> (Vec<Decision>, Vec<AutotaskId>) {
    let mut approved = Vec::new();
    let mut pending = Vec::new();
    for d in decisions {
        let confident = match proposals.get(&d.autotask_id) {
            Some(p) => match d.action {
                Action::Match => p.action == Action::Match,
                Action::Exclude => true,
                // Only a record with nothing plausible in Passportal, of a kind with auto-create.
                Action::Create => {
                    owed_creates.contains(&d.autotask_id)
                        || sync.creates_unreviewed(entity, p.passportal_id.is_some())
                }
                Action::Review => false,
            },
            None => false,
        };
        if confident {
            approved.push(d);
        } else {
            pending.push(AutotaskId(d.autotask_id));
        }
    }
    pending.sort_unstable();
    (approved, pending)
}

/// Check one entity's decisions and turn them into its plan.
pub fn plan_entity(
    entity: Entity,
    decisions: &[Decision],
    known: &Known,
    problems: &mut Vec<Problem>,
) -> EntityPlan {
    let mut plan = EntityPlan::default();
    let mut seen: HashMap<i64, &Decision> = HashMap::new();
    let mut used: HashMap<i64, &Decision> = HashMap::new();
    let linked_by_pp: HashMap<i64, i64> = known.links.iter().map(|(a, p)| (*p, *a)).collect();
    let what = entity.passportal_kind();
    for d in decisions {
        if let Some(first) = seen.insert(d.autotask_id, d) {
            problems.push(d.problem(
                review::AUTOTASK_ID,
                format!(
                    "Autotask id {} appears twice (also {} row {})",
                    d.autotask_id, first.file, first.row
                ),
            ));
            continue;
        }
        let Some(proposal) = known.proposals.get(&d.autotask_id) else {
            problems.push(d.problem(
                review::AUTOTASK_ID,
                format!("Autotask id {} is not in this run's extract", d.autotask_id),
            ));
            continue;
        };
        let existing = known.links.get(&d.autotask_id).copied();
        match d.action {
            Action::Match => {
                let Some(pp) = d.passportal_id else {
                    problems.push(d.problem(
                        review::PASSPORTAL_ID,
                        format!(
                            "a match needs a Passportal id: type one from {}, or set action to \
                             create or exclude",
                            review::candidates_path(entity)
                        ),
                    ));
                    continue;
                };
                if !known.passportal.contains_key(&pp) {
                    problems.push(d.problem(
                        review::PASSPORTAL_ID,
                        format!("Passportal id {pp} does not exist among this run's {what}"),
                    ));
                    continue;
                }
                if let Some(first) = used.insert(pp, d) {
                    problems.push(d.problem(
                        review::PASSPORTAL_ID,
                        format!(
                            "Passportal id {pp} is matched twice (also {} row {})",
                            first.file, first.row
                        ),
                    ));
                    continue;
                }
                if let Some(other) = linked_by_pp.get(&pp).filter(|a| **a != d.autotask_id) {
                    problems.push(d.problem(
                        review::PASSPORTAL_ID,
                        format!("Passportal id {pp} is already linked to Autotask id {other}"),
                    ));
                    continue;
                }
                if existing == Some(pp) {
                    plan.linked.push(AutotaskId(d.autotask_id));
                } else {
                    let method = match proposal {
                        p if p.action == Action::Match && p.passportal_id == Some(pp) => {
                            p.method.unwrap_or(Method::Manual)
                        }
                        _ => Method::Manual,
                    };
                    plan.link.push(PlannedLink {
                        autotask_id: AutotaskId(d.autotask_id),
                        passportal_id: PassportalId(pp),
                        method,
                    });
                }
            }
            Action::Create if known.done_by_this_run.contains(&d.autotask_id) => {
                // Created (or matched) by an earlier load of this run: done.
                plan.linked.push(AutotaskId(d.autotask_id));
            }
            Action::Create => {
                if let Some(pp) = existing {
                    problems.push(d.problem(
                        review::ACTION,
                        format!(
                            "Autotask id {} is already linked to Passportal id {pp}; creating it \
                             again would make a duplicate (use match)",
                            d.autotask_id
                        ),
                    ));
                    continue;
                }
                plan.create.push(AutotaskId(d.autotask_id));
            }
            // Undecided: the plan leaves it owed (`make` sets these rows aside before this).
            Action::Review => plan.pending.push(AutotaskId(d.autotask_id)),
            Action::Exclude => {
                plan.exclude.push(AutotaskId(d.autotask_id));
                if proposal.action != Action::Exclude {
                    plan.remember.push(Remember {
                        autotask_id: AutotaskId(d.autotask_id),
                        action: Action::Exclude,
                    });
                }
            }
        }
        if d.action != Action::Exclude && known.remembered.contains(&d.autotask_id) {
            plan.forget.push(AutotaskId(d.autotask_id));
        }
    }
    let missing: Vec<i64> = known
        .proposals
        .keys()
        .filter(|id| !seen.contains_key(id) && !known.read.contains(id))
        .copied()
        .collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(i64::to_string).collect();
        problems.push(Problem {
            file: format!("review/{}.{{match,create,exclude}}.csv", entity.as_str()),
            row: None,
            column: Some(review::AUTOTASK_ID.into()),
            message: format!(
                "{} Autotask id(s) are missing from every table: {}{}",
                missing.len(),
                shown.join(", "),
                if missing.len() > 10 { ", ..." } else { "" }
            ),
        });
    }
    plan.create.sort_unstable();
    plan.linked.sort_unstable();
    plan.exclude.sort_unstable();
    plan.link.sort_by_key(|l| l.autotask_id);
    plan
}

/// The company of each staged child record.
fn company_of(run: &Run, entity: Entity) -> Result<HashMap<i64, Option<i64>>, PlanError> {
    let path = run.path(entity.autotask_file());
    Ok(match entity {
        Entity::Contacts => at::read_contacts(&path)?
            .into_iter()
            .map(|r| (r.id, r.company_id))
            .collect(),
        Entity::Locations => at::read_locations(&path)?
            .into_iter()
            .map(|r| (r.id, r.company_id))
            .collect(),
        _ => at::read_configuration_items(&path)?
            .into_iter()
            .map(|r| (r.id, r.company_id))
            .collect(),
    })
}

/// What a company will be once the plan is applied.
enum CompanyFate {
    Client(PassportalId),
    Created,
    Excluded,
    /// Waiting for review: its children wait with it.
    Pending,
}

/// Where each entity's rows were read: Autotask id → (file, row).
pub type Locations = BTreeMap<Entity, HashMap<i64, (String, u64)>>;

/// Children follow their company's final decision: a child of an excluded company is excluded
/// with it (a warning says how many), a matched child must be a document of its company's
/// client (else the child's own row is named).
pub fn children_follow_parents(
    run: &Run,
    plans: &mut BTreeMap<Entity, EntityPlan>,
    ledger: &Ledger,
    locations: &Locations,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> Result<(), PlanError> {
    let mut fate: HashMap<AutotaskId, CompanyFate> = ledger
        .links(Entity::Companies)?
        .into_iter()
        .map(|(a, l)| (a, CompanyFate::Client(l.passportal_id)))
        .collect();
    if let Some(companies) = plans.get(&Entity::Companies) {
        for l in &companies.link {
            fate.insert(l.autotask_id, CompanyFate::Client(l.passportal_id));
        }
        for id in &companies.create {
            fate.insert(*id, CompanyFate::Created);
        }
        for id in &companies.exclude {
            fate.insert(*id, CompanyFate::Excluded);
        }
        for id in &companies.pending {
            fate.insert(*id, CompanyFate::Pending);
        }
    }
    for entity in [
        Entity::Locations,
        Entity::Contacts,
        Entity::ConfigurationItems,
    ] {
        let Some(plan) = plans.get_mut(&entity) else {
            continue;
        };
        let companies = company_of(run, entity)?;
        let documents = passportal_records(run, entity)?;
        let parent = |id: AutotaskId| {
            companies
                .get(&id.0)
                .copied()
                .flatten()
                .and_then(|c| fate.get(&AutotaskId(c)))
        };
        let at_row = |id: AutotaskId, column: &str, message: String| {
            let (file, row) = locations.get(&entity).and_then(|l| l.get(&id.0)).map_or(
                (review::table_path(entity, Action::Match), None),
                |(f, r)| (f.clone(), Some(*r)),
            );
            Problem {
                file,
                row,
                column: Some(column.into()),
                message,
            }
        };
        let mut followed = 0;
        let mut keep_create = Vec::new();
        for id in std::mem::take(&mut plan.create) {
            match parent(id) {
                Some(CompanyFate::Excluded) | None => {
                    plan.exclude.push(id);
                    followed += 1;
                }
                Some(CompanyFate::Pending) => plan.pending.push(id),
                _ => keep_create.push(id),
            }
        }
        plan.create = keep_create;
        let mut keep_link = Vec::new();
        for l in std::mem::take(&mut plan.link) {
            let client = documents
                .get(&l.passportal_id.0)
                .copied()
                .flatten()
                .map(PassportalId);
            match parent(l.autotask_id) {
                Some(CompanyFate::Excluded) | None => {
                    plan.exclude.push(l.autotask_id);
                    followed += 1;
                }
                Some(CompanyFate::Pending) => plan.pending.push(l.autotask_id),
                Some(CompanyFate::Client(c)) if Some(*c) == client => keep_link.push(l),
                Some(CompanyFate::Client(c)) => problems.push(at_row(
                    l.autotask_id,
                    review::PASSPORTAL_ID,
                    format!(
                        "Passportal id {} is a document of client {}, but this record's company \
                         is linked to client {c}: a record stays under its own company (choose a \
                         document of client {c}, or create)",
                        l.passportal_id,
                        client.map_or("(unknown)".into(), |c| c.to_string())
                    ),
                )),
                Some(CompanyFate::Created) => problems.push(at_row(
                    l.autotask_id,
                    review::ACTION,
                    format!(
                        "this record's company will be created, so it cannot be matched to \
                         document {} of another client (use create)",
                        l.passportal_id
                    ),
                )),
            }
        }
        plan.link = keep_link;
        plan.exclude.sort_unstable();
        plan.pending.sort_unstable();
        if followed > 0 {
            warnings.push(format!(
                "{followed} {entity} are excluded with their excluded (or unknown) company"
            ));
        }
    }
    Ok(())
}
