//! The nightly forgets nothing: rows waiting for review, creates that failed and decisions taken
//! between nights live in the ledger's backlog and come back every night, whatever the
//! incremental extract reads and whatever run folders are deleted. Passportal's side is asserted
//! from the simulator's own state.

use crate::harness::{col, read_table, write_table};
use atpp::commands::app::App;
use atpp::commands::demo::World;
use atpp::commands::nightly::{self, RunOutcome, RunReport};
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::{AtCompany, MspSpec};
use atpp::sim::passportal::{PassportalSim, PassportalSimOptions, WriteFaultPlan};
use atpp::store::ledger::{BacklogRow, Ledger, Owed};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn nightly_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/nightly.toml"))
        .expect("nightly pipeline")
}

async fn world(seed: u64) -> World {
    let spec = MspSpec {
        companies: 30,
        resources: 3,
        contacts_per_company: 1,
        locations_per_company: 1,
        cis_per_company: 0,
        ..MspSpec::demo(seed)
    };
    World::start(
        &spec,
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await
    .expect("simulators start")
}

fn nightly_app(world: &World, staging: &Path, max_create_attempts: u32) -> App {
    let mut pipeline = world.pipeline(&nightly_text(), staging).expect("pipeline");
    pipeline.passportal.requests_per_sec = 2_000;
    pipeline.extract.sweep_every_days = 0;
    pipeline.load.concurrency = 1;
    pipeline.run.max_create_attempts = max_create_attempts;
    world.app(pipeline).expect("app")
}

/// One row of a review table, by its cells.
#[derive(Debug, Clone)]
struct Row {
    action: String,
    reason: String,
    waiting_since: String,
    nights: String,
    company: String,
}

/// Every row of an entity's review tables (all four files), by Autotask id.
fn rows(run_dir: &Path, entity: Entity) -> BTreeMap<i64, Row> {
    let mut out = BTreeMap::new();
    for table in ["match", "create", "exclude", "review"] {
        let path = run_dir.join(format!("review/{}.{table}.csv", entity.as_str()));
        let t = read_table(&path);
        let h = &t[0];
        let company = h.iter().position(|c| c == "autotask_company_id");
        for r in &t[1..] {
            out.insert(
                r[col(h, "autotask_id")].parse().expect("id"),
                Row {
                    action: r[col(h, "action")].clone(),
                    reason: r[col(h, "reason")].clone(),
                    waiting_since: r[col(h, "waiting_since")].clone(),
                    nights: r[col(h, "nights_waiting")].clone(),
                    company: company.map(|i| r[i].clone()).unwrap_or_default(),
                },
            );
        }
    }
    out
}

/// Change the action of one row in a run's review tables, wherever it is.
fn decide(run_dir: &Path, entity: Entity, id: i64, action: &str) {
    for table in ["match", "create", "exclude", "review"] {
        let path = run_dir.join(format!("review/{}.{table}.csv", entity.as_str()));
        let mut t = read_table(&path);
        let (a, at) = (col(&t[0], "action"), col(&t[0], "autotask_id"));
        if let Some(r) = t[1..].iter_mut().find(|r| r[at] == id.to_string()) {
            r[a] = action.into();
            write_table(&path, &t);
            return;
        }
    }
    panic!("{entity} {id} is in no table of {}", run_dir.display());
}

fn backlog(app: &App) -> BTreeMap<(Entity, i64), BacklogRow> {
    let ledger = Ledger::open(&app.staging.ledger_path()).expect("ledger");
    ledger
        .backlog_all()
        .expect("backlog")
        .into_iter()
        .map(|b| ((b.entity, b.autotask_id), b))
        .collect()
}

fn company_name(world: &World, id: i64) -> String {
    world.autotask.with_tenant(|t| {
        t.companies
            .iter()
            .find(|c| c.id == id)
            .expect("company")
            .company_name
            .clone()
    })
}

fn clients_named(sim: &PassportalSim, name: &str) -> usize {
    sim.clients().iter().filter(|c| c.name == name).count()
}

fn add_company(world: &World, name: &str) -> i64 {
    world.autotask.with_tenant(|t| {
        let now = chrono::Utc::now();
        let id = t.companies.iter().map(|c| c.id).max().expect("companies") + 1;
        let company = AtCompany {
            id,
            company_name: name.into(),
            create_date: now,
            last_activity_date: Some(now),
            last_tracked_modified_date_time: now,
            ..t.companies[0].clone()
        };
        t.companies.push(company);
        id
    })
}

/// Delete every run folder but the newest: whatever they held, the ledger must not need it.
fn keep_only_latest(app: &App) {
    let ids = app.staging.run_ids().expect("runs");
    for id in &ids[..ids.len().saturating_sub(1)] {
        std::fs::remove_dir_all(app.staging.root().join("runs").join(id)).expect("removed");
    }
}

/// The night's tables show the whole backlog, and nothing owed before the night went missing:
/// each row owed after the previous night is still owed, or linked to a record Passportal
/// holds, or excluded by a decision.
fn assert_nothing_forgotten(
    night: &RunReport,
    app: &App,
    sim: &PassportalSim,
    before: &BTreeMap<(Entity, i64), BacklogRow>,
) -> BTreeMap<(Entity, i64), BacklogRow> {
    let after = backlog(app);
    let ledger = Ledger::open(&app.staging.ledger_path()).expect("ledger");
    let clients: BTreeSet<i64> = sim.clients().iter().map(|c| c.id).collect();
    let documents: BTreeSet<i64> = sim.documents().iter().map(|d| d.id).collect();
    for entity in [Entity::Companies, Entity::Locations, Entity::Contacts] {
        let shown = rows(&night.run_dir, entity);
        let waiting: BTreeSet<i64> = shown
            .iter()
            .filter(|(_, r)| r.action == "review")
            .map(|(id, _)| *id)
            .collect();
        let owed_review: BTreeSet<i64> = after
            .values()
            .filter(|b| b.entity == entity && b.kind == Owed::Review)
            .map(|b| b.autotask_id)
            .collect();
        assert_eq!(
            waiting, owed_review,
            "{entity}: the review rows of run {} are the backlog",
            night.run_id
        );
        let links = ledger.links(entity).expect("links");
        let excluded: BTreeSet<i64> = ledger
            .decisions(entity)
            .expect("decisions")
            .into_iter()
            .map(|(id, _)| id.0)
            .collect();
        for b in before.values().filter(|b| b.entity == entity) {
            let id = b.autotask_id;
            if after.contains_key(&(entity, id)) {
                assert!(shown.contains_key(&id), "{entity} {id} owed but not shown");
                continue;
            }
            match links.get(&atpp::model::ids::AutotaskId(id)) {
                Some(l) if entity == Entity::Companies => assert!(
                    clients.contains(&l.passportal_id.0),
                    "{entity} {id} linked to a client Passportal lacks"
                ),
                Some(l) => assert!(
                    documents.contains(&l.passportal_id.0),
                    "{entity} {id} linked to a document Passportal lacks"
                ),
                None => assert!(
                    excluded.contains(&id) || shown.get(&id).is_some_and(|r| r.action == "exclude"),
                    "{entity} {id} left the backlog on night {} but is neither linked nor \
                     excluded",
                    night.run_id
                ),
            }
        }
    }
    after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_undecided_on_night_1_waits_to_night_5_and_applies_the_night_after_it_is_decided() {
    let world = world(91).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = nightly_app(&world, dir.path(), 3);

    let night1 = nightly::run(&app).await.expect("night 1");
    assert_eq!(night1.outcome, RunOutcome::ReviewPending);
    let first = rows(&night1.run_dir, Entity::Companies);
    let (&held, row) = first
        .iter()
        .find(|(_, r)| r.action == "review")
        .expect("a company waits for review");
    assert_eq!(row.waiting_since, night1.run_id);
    let name = company_name(&world, held);
    let before = clients_named(&world.passportal, &name);
    let children: BTreeMap<Entity, BTreeSet<i64>> = world.autotask.with_tenant(|t| {
        BTreeMap::from([
            (
                Entity::Contacts,
                t.contacts
                    .iter()
                    .filter(|c| c.company_id == held)
                    .map(|c| c.id)
                    .collect(),
            ),
            (
                Entity::Locations,
                t.locations
                    .iter()
                    .filter(|c| c.company_id == held)
                    .map(|c| c.id)
                    .collect(),
            ),
        ])
    });

    let mut last = night1.clone();
    for n in 2..=5u32 {
        // Nothing of it changes in Autotask, and every older run folder is gone.
        keep_only_latest(&app);
        let night = nightly::run(&app).await.expect("a night");
        let shown = rows(&night.run_dir, Entity::Companies);
        let row = shown
            .get(&held)
            .unwrap_or_else(|| panic!("company {held} is not in night {n}'s tables"));
        assert_eq!(row.action, "review", "night {n}");
        assert_eq!(row.waiting_since, night1.run_id, "night {n}");
        assert_eq!(row.nights, n.to_string(), "night {n}");
        assert_eq!(clients_named(&world.passportal, &name), before);
        // Its children wait with it, never excluded for a company "not in this extract".
        for (entity, ids) in &children {
            let shown = rows(&night.run_dir, *entity);
            for id in ids {
                let r = shown
                    .get(id)
                    .unwrap_or_else(|| panic!("{entity} {id} of company {held}: night {n}"));
                assert_eq!(r.action, "review", "{entity} {id}: {}", r.reason);
                assert!(r.reason.contains("waits with its company"), "{}", r.reason);
                assert_eq!(r.company, held.to_string());
            }
        }
        last = night;
    }

    // The analyst decides that one row in night 5's tables and leaves every other one.
    let others: BTreeSet<i64> = rows(&last.run_dir, Entity::Companies)
        .into_iter()
        .filter(|(id, r)| r.action == "review" && *id != held)
        .map(|(id, _)| id)
        .collect();
    decide(&last.run_dir, Entity::Companies, held, "create");
    keep_only_latest(&app);
    let night6 = nightly::run(&app).await.expect("night 6");
    assert_eq!(clients_named(&world.passportal, &name), before + 1);
    let ledger = Ledger::open(&app.staging.ledger_path()).expect("ledger");
    let link = ledger.links(Entity::Companies).expect("links")[&atpp::model::ids::AutotaskId(held)]
        .clone();
    assert!(world
        .passportal
        .clients()
        .iter()
        .any(|c| c.id == link.passportal_id.0 && c.name == name));
    drop(ledger);
    let owed = backlog(&app);
    assert!(!owed.contains_key(&(Entity::Companies, held)));
    // The rows not decided still wait, none applied.
    let still: BTreeSet<i64> = rows(&night6.run_dir, Entity::Companies)
        .into_iter()
        .filter(|(_, r)| r.action == "review")
        .map(|(id, _)| id)
        .collect();
    assert!(others.is_subset(&still), "{others:?} ⊄ {still:?}");
    // Its children no longer wait on it.
    for (entity, ids) in &children {
        let shown = rows(&night6.run_dir, *entity);
        for id in ids {
            assert!(!shown[id].reason.contains("waits with its company"));
        }
    }

    // Another night creates nothing again.
    keep_only_latest(&app);
    nightly::run(&app).await.expect("night 7");
    assert_eq!(clients_named(&world.passportal, &name), before + 1);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nights_with_failures_partial_decisions_and_prunes_forget_nothing() {
    let world = world(92).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = nightly_app(&world, dir.path(), 3);
    let prune = |app: &App| {
        let ledger = Ledger::open(&app.staging.ledger_path()).expect("ledger");
        atpp::commands::prune::prune(&app.staging, &ledger, 1, false).expect("prune");
    };

    // Night 1.
    let night1 = nightly::run(&app).await.expect("night 1");
    let owed = assert_nothing_forgotten(&night1, &app, &world.passportal, &BTreeMap::new());
    prune(&app);

    // Night 2: four new companies, and a Passportal that refuses or times out on every write.
    let new: Vec<(i64, String)> = [
        "Aurora Kite Bakery",
        "Zephyr Quill Roofing",
        "Ostrava Plinth Audio",
        "Marlow Tidewater Glass",
    ]
    .iter()
    .map(|n| (add_company(&world, n), n.to_string()))
    .collect();
    let (faulty, server) = faulty_copy(
        &world,
        WriteFaultPlan {
            seed: 5,
            rate_500: 0.85,
            rate_applied_then_hang_ms: 0.15,
            hang_ms: 2_500,
            ..WriteFaultPlan::default()
        },
    )
    .await;
    let night2 = {
        let mut pipeline = app.pipeline.clone();
        pipeline.passportal.base_url = server.base_url();
        pipeline.passportal.timeout_secs = 1;
        pipeline.passportal.max_attempts = 2;
        let faulty_app = world.app(pipeline).expect("app");
        nightly::run(&faulty_app).await.expect("night 2")
    };
    server.stop().await;
    // Passportal is now what the faulty instance holds.
    let held = faulty.with_instance(|i| i.clone());
    world.passportal.with_instance(|i| *i = held);
    let owed = assert_nothing_forgotten(&night2, &app, &world.passportal, &owed);
    let failed: Vec<&(i64, String)> = new
        .iter()
        .filter(|(_, n)| clients_named(&world.passportal, n) == 0)
        .collect();
    assert!(!failed.is_empty(), "the faults made a create fail");
    assert_eq!(night2.outcome, RunOutcome::PartialFailure);
    for (id, name) in &failed {
        let b = &owed[&(Entity::Companies, *id)];
        assert_eq!(b.kind, Owed::Create, "{name}");
        assert_eq!(b.attempts, 1, "{name}");
    }
    for (_, name) in &new {
        assert!(clients_named(&world.passportal, name) <= 1, "{name}");
    }
    prune(&app);

    // Between nights: the analyst decides two waiting companies in night 2's tables (one
    // excluded, one created) and leaves the rest.
    let waiting: Vec<i64> = rows(&night2.run_dir, Entity::Companies)
        .into_iter()
        .filter(|(_, r)| r.action == "review")
        .map(|(id, _)| id)
        .collect();
    assert!(waiting.len() >= 3, "{waiting:?}");
    let (excluded, created) = (waiting[0], waiting[1]);
    let created_name = company_name(&world, created);
    let created_before = clients_named(&world.passportal, &created_name);
    decide(&night2.run_dir, Entity::Companies, excluded, "exclude");
    decide(&night2.run_dir, Entity::Companies, created, "create");

    // Night 3, healthy, with one more new company.
    let later = add_company(&world, "Nimbus Forge Dental");
    let night3 = nightly::run(&app).await.expect("night 3");
    let owed = assert_nothing_forgotten(&night3, &app, &world.passportal, &owed);
    for (id, name) in &new {
        assert_eq!(clients_named(&world.passportal, name), 1, "{name}");
        assert!(!owed.contains_key(&(Entity::Companies, *id)), "{name}");
    }
    assert_eq!(clients_named(&world.passportal, "Nimbus Forge Dental"), 1);
    assert_eq!(
        clients_named(&world.passportal, &created_name),
        created_before + 1
    );
    assert!(!owed.contains_key(&(Entity::Companies, created)));
    assert!(!owed.contains_key(&(Entity::Companies, excluded)));
    assert_eq!(
        rows(&night3.run_dir, Entity::Companies)[&excluded].action,
        "exclude"
    );
    // Undecided rows wait on, counting the nights since the one they first appeared.
    let nights_since = |b: &BacklogRow, tonight: u32| {
        if b.first_run == night1.run_id {
            tonight
        } else {
            assert_eq!(b.first_run, night2.run_id);
            tonight - 1
        }
    };
    for id in &waiting[2..] {
        let b = &owed[&(Entity::Companies, *id)];
        assert_eq!(b.kind, Owed::Review);
        assert_eq!(b.nights, nights_since(b, 3));
    }
    assert!(!owed.contains_key(&(Entity::Companies, later)));
    prune(&app);

    // Night 4: nothing new; nothing is created twice, the undecided rows still wait.
    let clients_before = world.passportal.clients().len();
    let night4 = nightly::run(&app).await.expect("night 4");
    let owed = assert_nothing_forgotten(&night4, &app, &world.passportal, &owed);
    assert_eq!(world.passportal.clients().len(), clients_before);
    for id in &waiting[2..] {
        let b = &owed[&(Entity::Companies, *id)];
        assert_eq!(b.nights, nights_since(b, 4));
    }
    prune(&app);
    assert_eq!(night4.failed, 0);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_keeps_failing_stops_being_retried_and_needs_a_person() {
    let world = world(93).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = nightly_app(&world, dir.path(), 1);
    nightly::run(&app).await.expect("night 1");

    // Night 2: a new company whose create is refused (every write fails).
    let id = add_company(&world, "Halcyon Verge Surveying");
    let (faulty, server) = faulty_copy(
        &world,
        WriteFaultPlan {
            seed: 1,
            rate_500: 1.0,
            ..WriteFaultPlan::default()
        },
    )
    .await;
    let night2 = {
        let mut pipeline = app.pipeline.clone();
        pipeline.passportal.base_url = server.base_url();
        pipeline.passportal.max_attempts = 1;
        nightly::run(&world.app(pipeline).expect("app"))
            .await
            .expect("night 2")
    };
    server.stop().await;
    assert_eq!(
        faulty
            .clients()
            .iter()
            .filter(|c| c.name == "Halcyon Verge Surveying")
            .count(),
        0
    );
    // One attempt allowed: it needs a person now, and the exit code says so.
    assert_eq!(night2.outcome, RunOutcome::NeedsPerson);
    assert_eq!(atpp::commands::cli::Outcome::NeedsPerson.exit_code(), 5);
    assert!(night2
        .needs_person
        .iter()
        .any(|p| p.entity == Entity::Companies && p.autotask_id == id));
    let status = atpp::commands::status::gather_with(&app.staging, 5, 1).expect("status");
    assert_eq!(status.backlog.entities[&Entity::Companies].needs_person, 1);
    let json = serde_json::to_value(&status).expect("json");
    assert_eq!(
        json["backlog"]["needs_person"][0]["autotask_id"].as_i64(),
        Some(id)
    );
    assert!(atpp::commands::status::render(&status).contains("needs a person: companies"));

    // Night 3 on the healthy Passportal: not retried, still listed; the row waits for review.
    let night3 = nightly::run(&app).await.expect("night 3");
    assert_eq!(
        clients_named(&world.passportal, "Halcyon Verge Surveying"),
        0
    );
    assert_eq!(night3.outcome, RunOutcome::NeedsPerson);
    let row = &rows(&night3.run_dir, Entity::Companies)[&id];
    assert_eq!(row.action, "review");
    assert!(row.reason.starts_with("needs a person"), "{}", row.reason);

    // A person sets create: the night after, it is made once.
    decide(&night3.run_dir, Entity::Companies, id, "create");
    let night4 = nightly::run(&app).await.expect("night 4");
    assert_eq!(
        clients_named(&world.passportal, "Halcyon Verge Surveying"),
        1
    );
    assert!(night4.needs_person.is_empty());
    world.stop().await;
}

/// A copy of the world's Passportal, as it holds now, that misbehaves on writes as `faults`
/// says, served on loopback: a faulty night's Passportal.
async fn faulty_copy(
    world: &World,
    faults: WriteFaultPlan,
) -> (std::sync::Arc<PassportalSim>, atpp::sim::RunningSim) {
    let instance = world.passportal.with_instance(|i| i.clone());
    let faulty = PassportalSim::new(
        instance,
        atpp::commands::demo::sim_passportal_credentials(),
        PassportalSimOptions {
            faults,
            ..PassportalSimOptions::default()
        },
    );
    let server = atpp::sim::passportal::serve(faulty.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("faulty simulator");
    (faulty, server)
}
