//! The load trusts only what Passportal shows. Against a Passportal that lags, normalises names,
//! applies creates after the client gave up, or loses the ledger's memory, every approved row
//! ends in Passportal exactly once and linked to the record that carries its Autotask id —
//! asserted from the simulator's own state, never only from atpp's report — and `verify`
//! finds duplicates and wrong links planted behind the load's back.

use atpp::api::passportal::fields;
use atpp::commands::app::App;
use atpp::commands::demo::{sim_credential_values, World};
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::{DocType, MspSpec, PassportalInstance};
use atpp::sim::passportal::{PassportalSimOptions, WriteFaultPlan};
use atpp::stages::load::{Problem, VERIFY_FILE};
use atpp::stages::plan::Plan;
use atpp::store::ledger::Ledger;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// A couple of dozen companies, each with users, locations, contacts and assets to create.
pub(crate) fn spec(seed: u64) -> MspSpec {
    MspSpec {
        companies: 24,
        passportal_share: 0.3,
        passportal_only: 3,
        inactive: 2,
        ambiguous: 0,
        duplicate_names: 0,
        resources: 8,
        contacts_per_company: 2,
        locations_per_company: 1,
        cis_per_company: 2,
        ..MspSpec::demo(seed)
    }
}

pub(crate) async fn world(seed: u64, faults: WriteFaultPlan) -> World {
    World::start(
        &spec(seed),
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions {
            faults,
            ..PassportalSimOptions::default()
        },
    )
    .await
    .expect("simulators start")
}

/// The demo pipeline on `staging`, approved by hand (as a migration): a 1 s request timeout,
/// two attempts per request.
pub(crate) fn app_pipeline(world: &World, staging: &Path) -> atpp::model::pipeline::Pipeline {
    let mut pipeline = world
        .pipeline(&crate::harness::by_hand_pipeline(), staging)
        .expect("pipeline");
    pipeline.passportal.timeout_secs = 1;
    pipeline.passportal.max_attempts = 2;
    pipeline.passportal.requests_per_sec = 5_000;
    pipeline
}

/// An app on `staging` with [`app_pipeline`].
pub(crate) fn app(world: &World, staging: &Path) -> App {
    let pipeline = app_pipeline(world, staging);
    let creds = sim_credential_values(&pipeline);
    App::new(pipeline, None, Box::new(creds)).expect("app")
}

fn doc_type(entity: Entity) -> Option<DocType> {
    match entity {
        Entity::Locations => Some(DocType::Location),
        Entity::Contacts => Some(DocType::Contact),
        Entity::ConfigurationItems => Some(DocType::Asset),
        _ => None,
    }
}

fn name_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// From the simulator's state: every planned create is in Passportal exactly once (documents:
/// one per Autotask ID; clients and users: one new record per planned row, nothing else new),
/// and the ledger links each to the record that is it (documents: the one carrying its
/// Autotask ID, under its company's client; clients: one bearing its name).
pub(crate) fn assert_exactly_once(
    world: &World,
    plan: &Plan,
    before: &PassportalInstance,
    staging: &Path,
) {
    let now = world.passportal.with_instance(|i| i.clone());
    let ledger = Ledger::open(&staging.join("state.duckdb")).expect("ledger");
    let company_links = ledger.links(Entity::Companies).expect("links");
    let old_clients: BTreeSet<i64> = before.clients.iter().map(|c| c.id).collect();
    let old_users: BTreeSet<i64> = before.users.iter().map(|u| u.id).collect();
    let old_docs: BTreeSet<i64> = before.documents.iter().map(|d| d.id).collect();
    let new_clients: Vec<_> = now
        .clients
        .iter()
        .filter(|c| !old_clients.contains(&c.id))
        .collect();
    let new_users = now
        .users
        .iter()
        .filter(|u| !old_users.contains(&u.id))
        .count();
    let companies = &plan.entities[&Entity::Companies].create;
    assert_eq!(new_clients.len(), companies.len(), "one new client per row");
    assert_eq!(
        new_users,
        plan.entities[&Entity::Resources].create.len(),
        "one new user per row"
    );
    let names: HashMap<i64, &str> = world
        .msp
        .autotask
        .companies
        .iter()
        .map(|c| (c.id, c.company_name.as_str()))
        .collect();
    for id in companies {
        let pp = company_links[id].passportal_id.0;
        let client = new_clients
            .iter()
            .find(|c| c.id == pp)
            .unwrap_or_else(|| panic!("company {id} linked to {pp}, not a client it made"));
        assert_eq!(
            name_key(&client.name),
            name_key(names[&id.0]),
            "company {id}"
        );
    }
    for entity in [
        Entity::Locations,
        Entity::Contacts,
        Entity::ConfigurationItems,
    ] {
        let t = doc_type(entity).unwrap();
        let links = ledger.links(entity).expect("links");
        let mut carrying: HashMap<i64, Vec<i64>> = HashMap::new();
        for d in now.documents.iter().filter(|d| d.doc_type == t) {
            if let Some(at) = d
                .field(fields::AUTOTASK_ID)
                .and_then(|v| v.trim().parse().ok())
            {
                carrying.entry(at).or_default().push(d.id);
            }
        }
        let new_docs = now
            .documents
            .iter()
            .filter(|d| d.doc_type == t && !old_docs.contains(&d.id))
            .count();
        let rows = &plan.entities[&entity].create;
        assert_eq!(new_docs, rows.len(), "{entity}: one new document per row");
        for id in rows {
            let docs = carrying.get(&id.0).cloned().unwrap_or_default();
            assert_eq!(docs.len(), 1, "{entity} {id}: documents {docs:?}");
            let link = links
                .get(id)
                .unwrap_or_else(|| panic!("{entity} {id} not linked"));
            assert_eq!(link.passportal_id.0, docs[0], "{entity} {id}: wrong link");
            let doc = now.documents.iter().find(|d| d.id == docs[0]).unwrap();
            assert!(
                company_links
                    .values()
                    .any(|l| l.passportal_id.0 == doc.client_id),
                "{entity} {id} under a client no company is linked to"
            );
        }
    }
}

/// Extract, match and plan on the world's healthy state: (run id, plan, instance before load).
pub(crate) async fn prepared(world: &World, staging: &Path) -> (String, Plan, PassportalInstance) {
    let app = app(world, staging);
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    for entity in Entity::ALL {
        assert!(
            !plan.entities[entity].create.is_empty(),
            "{entity}: nothing to create"
        );
    }
    let before = world.passportal.with_instance(|i| i.clone());
    (run.id, plan, before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_or_corrupted_ledger_costs_no_duplicate() {
    let world = world(31, WriteFaultPlan::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let (run, plan, before) = prepared(&world, &staging).await;
    let (_, first) = app(&world, &staging).load(Some(&run)).await.expect("load");
    assert_eq!(first.problems(), 0, "{:?} {:?}", first.errors, first.verify);
    let created = world.passportal.creates();
    assert_exactly_once(&world, &plan, &before, &staging);

    // The ledger is deleted: the same run loaded again writes nothing.
    let ledger_file = staging.join("state.duckdb");
    std::fs::remove_file(&ledger_file).expect("delete the ledger");
    let _ = std::fs::remove_file(staging.join("state.duckdb.wal"));
    let (_, again) = app(&world, &staging)
        .load(Some(&run))
        .await
        .expect("reload");
    assert_eq!(
        world.passportal.creates(),
        created,
        "no write after the loss"
    );
    assert_eq!(again.problems(), 0, "{:?} {:?}", again.errors, again.verify);
    let relinked: u64 = again.entities.values().map(|c| c.skipped).sum();
    assert!(
        relinked as usize
            >= plan
                .entities
                .values()
                .map(|p| p.create.len())
                .sum::<usize>()
    );
    assert_exactly_once(&world, &plan, &before, &staging);

    // The ledger is corrupted: set aside (kept), rebuilt, and still nothing twice.
    let mut bytes = std::fs::read(&ledger_file).expect("ledger bytes");
    let head = 4096.min(bytes.len());
    bytes[..head].fill(0x37);
    std::fs::write(&ledger_file, &bytes).expect("corrupt the ledger");
    let (_, third) = app(&world, &staging).load(Some(&run)).await.expect("load");
    assert_eq!(
        world.passportal.creates(),
        created,
        "no write after corruption"
    );
    assert_eq!(third.problems(), 0, "{:?} {:?}", third.errors, third.verify);
    let set_aside: Vec<_> = std::fs::read_dir(&staging)
        .expect("staging")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("state.duckdb.corrupt-"))
        .collect();
    assert_eq!(set_aside.len(), 1, "the corrupted ledger is kept aside");
    assert_exactly_once(&world, &plan, &before, &staging);

    // Lost again, then a fresh extract → match → plan → load: nothing is created twice.
    std::fs::remove_file(&ledger_file).expect("delete the ledger");
    let _ = std::fs::remove_file(staging.join("state.duckdb.wal"));
    let fresh = app(&world, &staging);
    let (run2, _) = fresh.extract().await.expect("extract");
    fresh.match_run(Some(&run2.id)).expect("match");
    let (_, plan2) = fresh.plan(Some(&run2.id)).expect("plan");
    let (_, fourth) = fresh.load(Some(&run2.id)).await.expect("load");
    assert_eq!(
        world.passportal.creates(),
        created,
        "a fresh run after the loss creates nothing: {:?}",
        fourth.entities
    );
    assert_eq!(
        fourth.problems(),
        0,
        "{:?} {:?}",
        fourth.errors,
        fourth.verify
    );
    let recreated: usize = plan2.entities.values().map(|p| p.create.len()).sum();
    let found: u64 = fourth.entities.values().map(|c| c.skipped).sum();
    assert!(found as usize >= recreated, "{:?}", fourth.entities);
    assert_eq!(world.passportal.unexpected().take(), Vec::<String>::new());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_search_and_normalised_names_make_no_duplicate_and_no_wrong_link() {
    let lagging = WriteFaultPlan {
        search_lag_ms: 1_600,
        normalise_names: true,
        ..WriteFaultPlan::default()
    };
    let world = world(32, lagging).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let (run, plan, before) = prepared(&world, &staging).await;
    let (_, first) = app(&world, &staging).load(Some(&run)).await.expect("load");
    assert_eq!(first.problems(), 0, "{:?} {:?}", first.errors, first.verify);
    assert_exactly_once(&world, &plan, &before, &staging);
    let created = world.passportal.creates();

    // Names came back re-cased: found by Passportal's keys after the ledger is lost.
    std::fs::remove_file(staging.join("state.duckdb")).expect("delete the ledger");
    let _ = std::fs::remove_file(staging.join("state.duckdb.wal"));
    let (_, again) = app(&world, &staging)
        .load(Some(&run))
        .await
        .expect("reload");
    assert_eq!(again.problems(), 0, "{:?} {:?}", again.errors, again.verify);
    assert_eq!(
        world.passportal.creates(),
        created,
        "no write after the loss"
    );
    assert_exactly_once(&world, &plan, &before, &staging);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_applied_after_the_client_gave_up_are_settled_in_the_same_load() {
    // Creates answered only after 1.5 s (the client gives up at 1 s) and applied then; others
    // applied and answered 500, or refused with a 500 (not applied).
    let flaky = WriteFaultPlan {
        seed: 9,
        rate_500: 0.05,
        rate_applied_then_500: 0.08,
        rate_applied_late: 0.12,
        late_ms: 1_500,
        ..WriteFaultPlan::default()
    };
    let world = world(33, WriteFaultPlan::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let (run, plan, before) = prepared(&world, &staging).await;
    // The same instance, served with faults, for the load.
    let sim = atpp::sim::passportal::PassportalSim::new(
        before.clone(),
        atpp::commands::demo::sim_passportal_credentials(),
        PassportalSimOptions {
            faults: flaky,
            ..PassportalSimOptions::default()
        },
    );
    let server = atpp::sim::passportal::serve(sim.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts");
    let mut pipeline = world
        .pipeline(&crate::harness::by_hand_pipeline(), &staging)
        .expect("pipeline");
    pipeline.passportal.base_url = server.base_url();
    pipeline.passportal.timeout_secs = 1;
    pipeline.passportal.max_attempts = 2;
    pipeline.passportal.requests_per_sec = 5_000;
    let creds = sim_credential_values(&pipeline);
    let flaky_app = App::new(pipeline, None, Box::new(creds)).expect("app");
    let (_, load) = flaky_app.load(Some(&run)).await.expect("load");
    assert_eq!(load.problems(), 0, "{:?} {:?}", load.errors, load.verify);
    // Judge from the flaky simulator's own state.
    let planned: usize = plan.entities.values().map(|p| p.create.len()).sum();
    let world_view = World {
        passportal: sim.clone(),
        ..world
    };
    assert_exactly_once(&world_view, &plan, &before, &staging);
    let settled: u64 = load.entities.values().map(|c| c.settled).sum();
    assert!(
        settled > 0,
        "some outcomes were unknown and settled: {load:?}"
    );
    assert_eq!(
        sim.creates() as usize,
        planned,
        "every row applied exactly once ({settled} settled)"
    );
    server.stop().await;
    world_view.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_planted_duplicate_and_a_wrong_link() {
    let world = world(34, WriteFaultPlan::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let (run, plan, _) = prepared(&world, &staging).await;
    let app = app(&world, &staging);
    let (run_dir, load) = app.load(Some(&run)).await.expect("load");
    assert_eq!(load.problems(), 0, "{:?} {:?}", load.errors, load.verify);
    let (_, clean) = app.verify(Some(&run)).await.expect("verify");
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
    assert!(clean.checked > 0);

    // Behind the load's back: contact A gets a twin, contact B's document is relabelled as C's.
    let contacts = &plan.entities[&Entity::Contacts].create;
    let (a, b, c) = (contacts[0].0, contacts[1].0, contacts[2].0);
    let carries = |d: &atpp::sim::generator::PpDocument, id: i64| {
        d.doc_type == DocType::Contact
            && d.field(fields::AUTOTASK_ID).map(str::trim) == Some(id.to_string().as_str())
    };
    world.passportal.with_instance(|i| {
        let mut twin = i.documents.iter().find(|d| carries(d, a)).unwrap().clone();
        twin.id = i.documents.iter().map(|d| d.id).max().unwrap() + 1;
        i.documents.push(twin);
        let doc = i.documents.iter_mut().find(|d| carries(d, b)).unwrap();
        for f in doc.fields.iter_mut() {
            if f.0.eq_ignore_ascii_case(fields::AUTOTASK_ID) {
                f.1 = c.to_string();
            }
        }
    });
    let (_, report) = app.verify(Some(&run)).await.expect("verify");
    let found: BTreeSet<(i64, Problem)> = report
        .findings
        .iter()
        .filter(|f| f.entity == Entity::Contacts)
        .map(|f| (f.autotask_id, f.problem))
        .collect();
    assert!(found.contains(&(a, Problem::Duplicate)), "{report:?}");
    assert!(found.contains(&(b, Problem::WrongLink)), "{report:?}");
    // C now has two documents carrying its id: its own and B's.
    assert!(found.contains(&(c, Problem::Duplicate)), "{report:?}");
    assert_eq!(report.findings.len(), 3, "{:?}", report.findings);
    let csv = std::fs::read_to_string(run_dir.path(VERIFY_FILE)).expect("verify.csv");
    assert!(
        csv.contains("duplicate") && csv.contains("wrong link"),
        "{csv}"
    );
    world.stop().await;
}
