//! Several nights of `atpp run` with the nightly pipeline against the simulators, while Autotask
//! changes between nights and an analyst decides some of the waiting rows. Each night's outcome
//! in Passportal is asserted exactly: new records created where allowed, nothing created twice,
//! excluded records stay excluded, deleted ones become orphans, uncertain ones wait.

use crate::harness::{col, read_table, write_table};
use atpp::commands::demo::World;
use atpp::commands::nightly::RunOutcome;
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::{AtCompany, MspSpec};
use atpp::sim::passportal::PassportalSimOptions;
use atpp::store::ledger::Ledger;
use std::collections::BTreeSet;
use std::path::Path;

fn nightly_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/nightly.toml"))
        .expect("nightly pipeline")
}

fn new_company(template: &AtCompany, id: i64, name: &str) -> AtCompany {
    let now = chrono::Utc::now();
    AtCompany {
        id,
        company_name: name.into(),
        create_date: now,
        last_activity_date: Some(now),
        last_tracked_modified_date_time: now,
        ..template.clone()
    }
}

fn client_names(world: &World) -> Vec<String> {
    world
        .passportal
        .clients()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nights_in_a_row_keep_passportal_in_step() {
    let spec = MspSpec {
        companies: 80,
        resources: 10,
        contacts_per_company: 1,
        locations_per_company: 1,
        cis_per_company: 2,
        ..MspSpec::demo(77)
    };
    let dir = tempfile::tempdir().unwrap();
    let world = World::start(
        &spec,
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await
    .unwrap();
    let mut pipeline = world.pipeline(&nightly_text(), dir.path()).unwrap();
    pipeline.passportal.requests_per_sec = 2_000;
    // The nights here are minutes apart: sweep for deletions every night.
    pipeline.extract.sweep_every_days = 0;
    let mut app = world.app(pipeline).unwrap();
    let truth = world.msp.truth.companies.clone();

    // Night 1: the first run reads everything.
    let clients_before = world.passportal.clients().len();
    let night1 = atpp::commands::nightly::run(&app).await.expect("night 1");
    let o = &night1.overview[&Entity::Companies];
    // Confident matches applied, new companies without any candidate created, the rest waits.
    assert_eq!(
        o.to_match as usize,
        night1.load[&Entity::Companies].linked as usize
    );
    for at in truth.matches.keys() {
        assert!(
            !night1_pending(&night1.run_dir).contains(at),
            "company {at} has a planted match but waits"
        );
    }
    assert!(
        o.waiting_for_review >= truth.ambiguous.len() as u64,
        "{o:?}"
    );
    assert_eq!(night1.outcome, RunOutcome::ReviewPending);
    let created1 = night1.load[&Entity::Companies].created as usize;
    assert_eq!(world.passportal.clients().len(), clients_before + created1);
    assert_eq!(night1.failed, 0);

    // Between nights: Autotask gains companies, renames a linked one, deletes a linked one; an
    // analyst excludes one waiting company in night 1's tables and applies that decision.
    let ledger_links = {
        let ledger = Ledger::open(&app.staging.ledger_path()).unwrap();
        ledger.links(Entity::Companies).unwrap()
    };
    let linked: Vec<i64> = ledger_links.keys().map(|a| a.0).collect();
    let (renamed, deleted) = (linked[0], linked[1]);
    let new_names = [
        "Aurora Kite Bakery",
        "Zephyr Quill Roofing",
        "Nimbus Forge Dental",
    ];
    world.autotask.with_tenant(|t| {
        let template = t.companies[0].clone();
        let max = t.companies.iter().map(|c| c.id).max().unwrap();
        for (i, name) in new_names.iter().enumerate() {
            t.companies
                .push(new_company(&template, max + 10 + i as i64, name));
        }
        let c = t.companies.iter_mut().find(|c| c.id == renamed).unwrap();
        c.company_name = format!("{} (renamed)", c.company_name);
        c.last_tracked_modified_date_time = chrono::Utc::now();
        t.companies.retain(|c| c.id != deleted);
    });
    let waiting_table = night1.run_dir.join("review/companies.review.csv");
    let mut table = read_table(&waiting_table);
    let (a, at, reason) = (
        col(&table[0], "action"),
        col(&table[0], "autotask_id"),
        col(&table[0], "reason"),
    );
    let row = (1..table.len())
        .find(|i| table[*i][reason].starts_with("ambiguous"))
        .expect("an ambiguous company waits");
    let excluded: i64 = table[row][at].parse().unwrap();
    // The analyst decides this row (excluded) and leaves the others waiting (`review`).
    table[row][a] = "exclude".into();
    write_table(&waiting_table, &table);
    app.plan(Some(&night1.run_id))
        .expect("analyst's plan of night 1");
    let creates_before_analyst = world.passportal.creates();
    let (_, applied) = app
        .load(Some(&night1.run_id))
        .await
        .expect("analyst's load");
    assert_eq!(applied.failed(), 0);
    // Undecided rows are not applied: nothing was created beyond what was decided.
    let confirmed: u64 = applied.entities.values().map(|c| c.created).sum();
    assert_eq!(
        world.passportal.creates() - creates_before_analyst,
        confirmed
    );

    // Night 2: only the changes are read.
    let creates_before = world.passportal.creates();
    let night2 = atpp::commands::nightly::run(&app).await.expect("night 2");
    let o2 = &night2.overview[&Entity::Companies];
    assert_eq!(night2.load[&Entity::Companies].created, 3, "{o2:?}");
    let names = client_names(&world);
    for name in new_names {
        assert_eq!(names.iter().filter(|n| *n == name).count(), 1, "{name}");
    }
    assert_eq!(o2.orphans, 1, "the deleted company is an orphan");
    assert!(names.len() >= clients_before + created1 + 3);
    // The renamed company is linked, not created again.
    assert_eq!(o2.to_create, 3);
    let created_night2: u64 = night2.load.values().map(|c| c.created).sum();
    assert_eq!(world.passportal.creates() - creates_before, created_night2);

    // The analyst's exclusion is remembered by the next full look at that company.
    world.autotask.with_tenant(|t| {
        let c = t.companies.iter_mut().find(|c| c.id == excluded).unwrap();
        c.last_tracked_modified_date_time = chrono::Utc::now();
    });
    let night3 = atpp::commands::nightly::run(&app).await.expect("night 3");
    let exclude_table = read_table(&night3.run_dir.join("review/companies.exclude.csv"));
    let (at3, method3) = (
        col(&exclude_table[0], "autotask_id"),
        col(&exclude_table[0], "method"),
    );
    let row = exclude_table[1..]
        .iter()
        .find(|r| r[at3] == excluded.to_string())
        .expect("excluded company in night 3's exclude table");
    assert_eq!(row[method3], "remembered");
    assert_eq!(night3.load.values().map(|c| c.created).sum::<u64>(), 0);

    // Night 4: nothing changed, nothing is written.
    let creates_before = world.passportal.creates();
    let night4 = atpp::commands::nightly::run(&app).await.expect("night 4");
    assert_eq!(world.passportal.creates(), creates_before);
    assert_eq!(night4.failed, 0);
    // A night without a deletion sweep still reports the orphan found on night 2: the ledger
    // keeps it with the night it was first seen.
    app.pipeline.extract.sweep_deletions = false;
    let night5 = atpp::commands::nightly::run(&app).await.expect("night 5");
    assert_eq!(night5.overview[&Entity::Companies].orphans, 0, "no sweep");
    let report = read_table(&night5.run_dir.join(atpp::stages::load::ORPHANS_FILE));
    let (at, first) = (
        col(&report[0], "autotask_id"),
        col(&report[0], "first_seen_run"),
    );
    assert_eq!(report.len(), 2, "{report:?}");
    assert_eq!(report[1][at], deleted.to_string());
    assert_eq!(report[1][first], night2.run_id);
    let status = atpp::commands::status::gather(&app.staging, 5).expect("status");
    let orphans = &status.orphans.expect("ledger read")["companies"];
    assert_eq!(orphans.autotask_ids, [deleted]);
    assert_eq!(
        orphans.first_seen_run.as_deref(),
        Some(night2.run_id.as_str())
    );
    world.stop().await;
}

/// The Autotask ids waiting for review in a run's company tables.
fn night1_pending(run_dir: &Path) -> BTreeSet<i64> {
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("plan/plan.json")).unwrap())
            .unwrap();
    plan["entities"]["companies"]["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}
