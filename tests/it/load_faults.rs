//! A load against a Passportal that fails a share of writes — 500 without applying, 429,
//! applied then 500, applied then answered only after the client's timeout — and of the document
//! reads a create makes around its POST: the load ends without a duplicate, every row it could
//! not finish is in `load/errors.csv` and in the summary's failures, and a second load against
//! the healed instance finishes the job, reconciling the creates that were applied but never
//! answered, again without a duplicate.
//!
//! The instance is the same throughout: each phase serves a copy of the previous phase's
//! instance (ids kept) from a fresh simulator with its own fault plan.

use atpp::api::passportal::fields;
use atpp::commands::app::App;
use atpp::commands::demo::{sim_credential_values, sim_passportal_credentials, World};
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::{DocType, MspSpec, PassportalInstance};
use atpp::sim::passportal::{PassportalSim, PassportalSimOptions, WriteFaultPlan};
use atpp::sim::RunningSim;
use atpp::stages::load::{
    LoadSummary, WHAT_NO_PARENT, WHAT_REFUSED, WHAT_UNKNOWN, WHAT_UNRESOLVED,
};
use atpp::stages::plan::Plan;
use atpp::store::ledger::{Ledger, WriteState};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

/// A few dozen companies with users, locations, contacts and assets to create.
fn spec() -> MspSpec {
    MspSpec {
        companies: 40,
        passportal_share: 0.4,
        passportal_only: 4,
        inactive: 4,
        ambiguous: 2,
        duplicate_names: 2,
        resources: 16,
        contacts_per_company: 2,
        locations_per_company: 1,
        cis_per_company: 3,
        ..MspSpec::demo(77)
    }
}

/// Every kind of write fault, and failing reads of documents (the listing before a create and
/// the read-back after it), with few attempts so some reads fail for good.
fn faults() -> WriteFaultPlan {
    WriteFaultPlan {
        seed: 5,
        rate_500: 0.06,
        rate_429: 0.06,
        rate_applied_then_500: 0.06,
        rate_applied_then_hang_ms: 0.05,
        hang_ms: 2_500,
        read_rate_500: 0.15,
        read_paths: vec!["/api/v2/documents".into()],
        ..WriteFaultPlan::default()
    }
}

/// A Passportal simulator serving `instance`.
async fn serve(
    instance: PassportalInstance,
    faults: WriteFaultPlan,
) -> (Arc<PassportalSim>, RunningSim) {
    let sim = PassportalSim::new(
        instance,
        sim_passportal_credentials(),
        PassportalSimOptions {
            faults,
            ..PassportalSimOptions::default()
        },
    );
    let running = atpp::sim::passportal::serve(sim.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts");
    (sim, running)
}

/// An app on `staging` whose Passportal is `server`: a 1 s timeout (a hang of 2.5 s outlives
/// it) and two attempts per request.
fn app(world: &World, server: &RunningSim, staging: &Path) -> App {
    app_with(world, server, staging, |_| {})
}

fn app_with(
    world: &World,
    server: &RunningSim,
    staging: &Path,
    tweak: impl FnOnce(&mut atpp::model::pipeline::Pipeline),
) -> App {
    let mut pipeline = world
        .pipeline(&crate::harness::by_hand_pipeline(), staging)
        .expect("pipeline");
    tweak(&mut pipeline);
    pipeline.passportal.base_url = server.base_url();
    pipeline.passportal.timeout_secs = 1;
    pipeline.passportal.max_attempts = 2;
    pipeline.passportal.requests_per_sec = 5_000;
    let creds = sim_credential_values(&pipeline);
    App::new(pipeline, None, Box::new(creds)).expect("app")
}

/// What must exist once per created row: clients by name, users by (first, last, e-mail),
/// documents by (type, client, Autotask ID).
#[derive(Default, Debug)]
struct Census {
    clients: HashMap<String, usize>,
    users: HashMap<(String, String, Option<String>), usize>,
    documents: HashMap<(DocType, i64, i64), usize>,
}

fn census(i: &PassportalInstance) -> Census {
    let mut c = Census::default();
    for x in &i.clients {
        *c.clients.entry(x.name.clone()).or_default() += 1;
    }
    for u in &i.users {
        let key = (u.first_name.clone(), u.last_name.clone(), u.email.clone());
        *c.users.entry(key).or_default() += 1;
    }
    for d in &i.documents {
        if let Some(at) = d
            .field(fields::AUTOTASK_ID)
            .and_then(|v| v.trim().parse().ok())
        {
            *c.documents
                .entry((d.doc_type, d.client_id, at))
                .or_default() += 1;
        }
    }
    c
}

fn doc_type(entity: Entity) -> Option<DocType> {
    match entity {
        Entity::Locations => Some(DocType::Location),
        Entity::Contacts => Some(DocType::Contact),
        Entity::ConfigurationItems => Some(DocType::Asset),
        _ => None,
    }
}

/// No record made twice: each created (and linked) row is in the instance exactly as often as
/// before plus once, and nothing else was created. `done` is what the ledger says is created.
fn assert_no_duplicates(
    world: &World,
    plan: &Plan,
    before: &Census,
    now: &PassportalInstance,
    ledger: &Ledger,
) {
    let after = census(now);
    let at = &world.msp.autotask;
    let company_links = ledger.links(Entity::Companies).expect("links");
    // Clients: at most one new client per planned create of that name.
    let mut wanted: HashMap<String, usize> = HashMap::new();
    for id in &plan.entities[&Entity::Companies].create {
        let name = &at
            .companies
            .iter()
            .find(|c| c.id == id.0)
            .unwrap()
            .company_name;
        *wanted.entry(name.clone()).or_default() += 1;
    }
    for (name, n) in &after.clients {
        let had = before.clients.get(name).copied().unwrap_or(0);
        let may = had + wanted.get(name).copied().unwrap_or(0);
        assert!(*n <= may, "client {name:?}: {n}, at most {may}");
    }
    // Users: at most one new user per planned create.
    for (key, n) in &after.users {
        let had = before.users.get(key).copied().unwrap_or(0);
        assert!(*n <= had + 1, "user {key:?}: {n}");
    }
    // Documents: at most one per (type, client, Autotask ID), and only under the client the
    // row's company is linked to.
    for ((t, client, id), n) in &after.documents {
        let had = before
            .documents
            .get(&(*t, *client, *id))
            .copied()
            .unwrap_or(0);
        assert!(*n <= had.max(1), "{t:?} {id} under client {client}: {n}");
        if had == 0 {
            assert!(
                company_links.values().any(|l| l.passportal_id.0 == *client),
                "{t:?} {id} under unlinked client {client}"
            );
        }
    }
}

/// The ledger's links are one to one, to records that exist, and every created row's Passportal
/// record is the one the instance holds for it.
fn assert_links_consistent(world: &World, ledger: &Ledger, now: &PassportalInstance) {
    let clients: BTreeSet<i64> = now.clients.iter().map(|c| c.id).collect();
    let users: BTreeSet<i64> = now.users.iter().map(|u| u.id).collect();
    let docs: HashMap<i64, _> = now.documents.iter().map(|d| (d.id, d)).collect();
    for entity in Entity::ALL {
        let links = ledger.links(*entity).expect("links");
        let targets: BTreeSet<i64> = links.values().map(|l| l.passportal_id.0).collect();
        assert_eq!(targets.len(), links.len(), "{entity}: links are one to one");
        for (at, link) in &links {
            let pp = link.passportal_id.0;
            match doc_type(*entity) {
                None if *entity == Entity::Companies => {
                    assert!(clients.contains(&pp), "{entity} {at:?} → {pp}")
                }
                None => assert!(users.contains(&pp), "{entity} {at:?} → {pp}"),
                Some(t) => {
                    let d = docs
                        .get(&pp)
                        .unwrap_or_else(|| panic!("{entity} {at:?} → {pp}"));
                    assert_eq!(d.doc_type, t);
                    if link.method == "created" {
                        assert_eq!(
                            d.field(fields::AUTOTASK_ID),
                            Some(at.0.to_string().as_str())
                        );
                    }
                }
            }
        }
    }
    let _ = world;
}

/// `load/errors.csv` as (entity, autotask id) → what.
fn errors_csv(run_dir: &Path) -> BTreeMap<(String, i64), String> {
    let rows = crate::harness::read_table(&run_dir.join(atpp::stages::load::ERRORS_FILE));
    let header = &rows[0];
    let (e, id, what) = (
        crate::harness::col(header, "entity"),
        crate::harness::col(header, "autotask_id"),
        crate::harness::col(header, "what"),
    );
    rows[1..]
        .iter()
        .map(|r| ((r[e].clone(), r[id].parse().unwrap()), r[what].clone()))
        .collect()
}

/// Planned creates not linked in the ledger: the rows a load left undone.
fn undone(plan: &Plan, ledger: &Ledger) -> BTreeSet<(String, i64)> {
    let mut out = BTreeSet::new();
    for (entity, p) in &plan.entities {
        let links = ledger.links(*entity).expect("links");
        for id in &p.create {
            if !links.contains_key(id) {
                out.insert((entity.to_string(), id.0));
            }
        }
    }
    out
}

fn total(summary: &LoadSummary, f: impl Fn(&atpp::stages::load::LoadCounts) -> u64) -> u64 {
    summary.entities.values().map(f).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_load_lists_its_failures_and_the_next_load_finishes_without_duplicates() {
    let world = World::start(
        &spec(),
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await
    .expect("simulators start");
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");

    // Extract, match and plan against the healthy instance.
    let healthy = app(&world, &world.passportal_server, &staging);
    let (run, _) = healthy.extract().await.expect("extract");
    healthy.match_run(Some(&run.id)).expect("match");
    let (_, plan) = healthy.plan(Some(&run.id)).expect("plan");
    let planned: usize = plan.entities.values().map(|p| p.create.len()).sum();
    for entity in Entity::ALL {
        assert!(
            !plan.entities[entity].create.is_empty(),
            "{entity}: nothing to create"
        );
    }
    let original = world.passportal.with_instance(|i| i.clone());
    let before = census(&original);

    // The faulty load.
    let (faulty, faulty_server) = serve(original, faults()).await;
    let (_, first) = app(&world, &faulty_server, &staging)
        .load(Some(&run.id))
        .await
        .expect("the faulty load runs to its end");
    let after_first = faulty.with_instance(|i| i.clone());
    let ledger = Ledger::open(&staging.join("state.duckdb")).expect("ledger");
    assert_no_duplicates(&world, &plan, &before, &after_first, &ledger);
    assert_links_consistent(&world, &ledger, &after_first);
    let left = undone(&plan, &ledger);
    let listed = errors_csv(&run.dir);
    let in_summary: BTreeSet<(String, i64)> = first
        .errors
        .iter()
        .map(|e| (e.entity.clone(), e.autotask_id))
        .collect();
    assert!(first.failed() > 0, "faults made rows fail");
    assert_eq!(listed.keys().cloned().collect::<BTreeSet<_>>(), left);
    assert_eq!(in_summary, left, "every undone row is in the summary");
    assert_eq!(
        first.failed() as usize,
        left.len(),
        "every undone row counts as failed"
    );
    let unknown = listed.values().filter(|w| *w == WHAT_UNKNOWN).count();
    let refused = listed.values().filter(|w| *w == WHAT_REFUSED).count();
    let no_parent = listed.values().filter(|w| *w == WHAT_NO_PARENT).count();
    // A row whose client's listing could not be read is not created on the strength of it.
    let unresolved = listed.values().filter(|w| *w == WHAT_UNRESOLVED).count();
    assert_eq!(
        unknown + refused + no_parent + unresolved,
        listed.len(),
        "{listed:?}"
    );
    // Documents created whose read-back failed: unknown, though the POST was answered.
    let read_back = first
        .errors
        .iter()
        .filter(|e| e.what == WHAT_UNKNOWN && e.message.contains("GET /api/v2/documents"))
        .count();
    let unfinished: usize = Entity::ALL
        .iter()
        .map(|e| {
            ledger
                .write_records(*e, "create")
                .expect("write log")
                .values()
                .filter(|w| w.state == WriteState::Intent)
                .count()
        })
        .sum();
    assert!(refused > 0, "{listed:?}");
    // Creates applied but answered with a fault, or never: settled within the load (found in
    // Passportal, or sent again once absent), so few are left unknown for the next load.
    let settled = total(&first, |c| c.settled);
    assert!(settled > 0, "unknown outcomes settled in the same load");
    let applied_unknown = faulty.creates() as usize - total(&first, |c| c.created) as usize;
    drop(ledger);
    faulty_server.stop().await;

    // The second load, faults off, on the instance as the faulty one left it.
    let (healed, healed_server) = serve(after_first, WriteFaultPlan::default()).await;
    let second_app = app(&world, &healed_server, &staging);
    let (_, second) = second_app.load(Some(&run.id)).await.expect("second load");
    assert_eq!(second.failed(), 0, "{:?}", second.errors);
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    assert!(errors_csv(&run.dir).is_empty());
    let after_second = healed.with_instance(|i| i.clone());
    let ledger = Ledger::open(&staging.join("state.duckdb")).expect("ledger");
    assert!(undone(&plan, &ledger).is_empty());
    assert_no_duplicates(&world, &plan, &before, &after_second, &ledger);
    assert_links_consistent(&world, &ledger, &after_second);
    // Each planned row applied exactly once over both loads.
    assert_eq!(
        faulty.creates() as usize + healed.creates() as usize,
        planned,
        "{} applied by the faulty load, {} by the second",
        faulty.creates(),
        healed.creates()
    );
    for entity in Entity::ALL {
        let writes = ledger.write_records(*entity, "create").expect("write log");
        assert!(
            writes.values().all(|w| w.state == WriteState::Done),
            "{entity}: a create left unfinished"
        );
    }
    // Every created document is under its company's client, carrying its Autotask id.
    for entity in [
        Entity::Locations,
        Entity::Contacts,
        Entity::ConfigurationItems,
    ] {
        let t = doc_type(entity).unwrap();
        let wanted: BTreeSet<i64> = plan.entities[&entity]
            .create
            .iter()
            .map(|id| id.0)
            .collect();
        let found: BTreeSet<i64> = after_second
            .documents
            .iter()
            .filter(|d| d.doc_type == t)
            .filter_map(|d| d.field(fields::AUTOTASK_ID)?.trim().parse().ok())
            .filter(|id| wanted.contains(id))
            .collect();
        assert_eq!(found, wanted, "{entity}");
    }
    eprintln!(
        "fault test: {planned} creates planned; faulty load: {} created ({settled} settled), {} \
         failed ({unknown} unknown of which {read_back} after a failed read-back, {refused} \
         refused, {no_parent} without parent, {unresolved} unresolved; {unfinished} intents \
         left, {applied_unknown} applied but unanswered); second load: {} created, {} \
         reconciled",
        total(&first, |c| c.created),
        first.failed(),
        total(&second, |c| c.created),
        left.len() - total(&second, |c| c.created) as usize,
    );

    // A third load has nothing left to do.
    let creates = healed.creates();
    let (_, third) = second_app.load(Some(&run.id)).await.expect("third load");
    assert_eq!(total(&third, |c| c.created + c.failed), 0);
    assert_eq!(healed.creates(), creates);
    assert_eq!(healed.unexpected().take(), Vec::<String>::new());
    assert_eq!(faulty.unexpected().take(), Vec::<String>::new());
    healed_server.stop().await;
    world.stop().await;
}

/// A create whose outcome is unknown is never reconciled to a client that was already there:
/// two Autotask companies share a name with a Passportal client the analyst chose not to match,
/// every create of the first load fails (500, not applied), and the second load creates each of
/// them instead of taking the old client for one it made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_create_is_never_reconciled_to_a_client_that_was_already_there() {
    let spec = MspSpec {
        companies: 20,
        passportal_share: 0.3,
        duplicate_names: 4,
        ambiguous: 0,
        ..spec()
    };
    let world = World::start(
        &spec,
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await
    .expect("simulators start");
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let companies_only = |p: &mut atpp::model::pipeline::Pipeline| {
        p.extract.resources = false;
        p.extract.contacts = false;
        p.extract.locations = false;
        p.extract.configuration_items = false;
    };
    let healthy = app_with(&world, &world.passportal_server, &staging, companies_only);
    let (run, _) = healthy.extract().await.expect("extract");
    healthy.match_run(Some(&run.id)).expect("match");
    let (_, plan) = healthy.plan(Some(&run.id)).expect("plan");
    let create = &plan.entities[&Entity::Companies].create;
    let original = world.passportal.with_instance(|i| i.clone());
    let old_ids: BTreeSet<i64> = original.clients.iter().map(|c| c.id).collect();
    let names: HashMap<i64, String> = world
        .msp
        .autotask
        .companies
        .iter()
        .map(|c| (c.id, c.company_name.clone()))
        .collect();
    let old_names: BTreeSet<&str> = original.clients.iter().map(|c| c.name.as_str()).collect();
    let shared = create
        .iter()
        .filter(|id| old_names.contains(names[&id.0].as_str()))
        .count();
    assert_eq!(shared, 8, "four pairs share a name with an old client");

    let failing = WriteFaultPlan {
        rate_500: 1.0,
        ..WriteFaultPlan::default()
    };
    let (faulty, faulty_server) = serve(original, failing).await;
    let (_, first) = app_with(&world, &faulty_server, &staging, companies_only)
        .load(Some(&run.id))
        .await
        .expect("first load");
    assert_eq!(first.failed() as usize, create.len());
    assert_eq!(faulty.creates(), 0);
    let instance = faulty.with_instance(|i| i.clone());
    faulty_server.stop().await;

    let (healed, healed_server) = serve(instance, WriteFaultPlan::default()).await;
    let (_, second) = app_with(&world, &healed_server, &staging, companies_only)
        .load(Some(&run.id))
        .await
        .expect("second load");
    assert_eq!(second.failed(), 0, "{:?}", second.errors);
    assert_eq!(healed.creates() as usize, create.len(), "every row created");
    let ledger = Ledger::open(&staging.join("state.duckdb")).expect("ledger");
    let links = ledger.links(Entity::Companies).expect("links");
    for id in create {
        let pp = links[id].passportal_id.0;
        assert!(
            !old_ids.contains(&pp),
            "company {id} taken for old client {pp}"
        );
    }
    healed_server.stop().await;
    world.stop().await;
}
