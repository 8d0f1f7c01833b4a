//! An analyst edits the review tables: the load obeys good edits, and a broken edit is refused
//! naming the file, row and column, with nothing written to Passportal.

use crate::harness::{col, read_table, write_table, TestWorld};
use atpp::model::entity::Entity;
use atpp::model::ids::AutotaskId;
use atpp::sim::generator::MspSpec;
use atpp::store::ledger::Ledger;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_obeys_an_analysts_edits() {
    let t = TestWorld::start(&MspSpec::demo(11)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");

    // A Passportal-only client (not planted as anyone's match) to match by hand.
    let candidates = read_table(&run.path("review/companies.passportal.csv"));
    let linked = col(&candidates[0], "autotask_id");
    let manual_client: i64 = candidates[1..]
        .iter()
        .find(|r| r[linked].is_empty())
        .map(|r| r[0].parse().unwrap())
        .expect("an unclaimed client");

    let path = run.path("review/companies.create.csv");
    let mut table = read_table(&path);
    let creates_before = table.len() - 1;
    let header = table[0].clone();
    let (action, at, pp, reason) = (
        col(&header, "action"),
        col(&header, "autotask_id"),
        col(&header, "passportal_id"),
        col(&header, "reason"),
    );
    // Plain new companies (no candidate at all), two of them edited.
    let plain: Vec<usize> = (1..table.len())
        .filter(|i| table[*i][pp].is_empty() && table[*i][reason].starts_with("no candidate"))
        .collect();
    let (excluded_row, matched_row) = (plain[0], plain[1]);
    let excluded_id: i64 = table[excluded_row][at].parse().unwrap();
    let matched_id: i64 = table[matched_row][at].parse().unwrap();
    table[excluded_row][action] = " Exclude ".into();
    table[matched_row][action] = "MATCH".into();
    table[matched_row][pp] = manual_client.to_string();
    // Rows in another order, as after a sort in a spreadsheet.
    table[1..].reverse();
    write_table(&path, &table);

    let (_, plan) = t.app.plan(Some(&run.id)).expect("plan accepts the edits");
    let companies = &plan.entities[&Entity::Companies];
    assert!(companies.exclude.contains(&AutotaskId(excluded_id)));
    assert!(!companies.create.contains(&AutotaskId(excluded_id)));
    let manual = companies
        .link
        .iter()
        .find(|l| l.autotask_id == AutotaskId(matched_id))
        .expect("manual match planned");
    assert_eq!(manual.passportal_id.0, manual_client);
    assert_eq!(manual.method, atpp::stages::matching::Method::Manual);
    assert_eq!(companies.create.len(), creates_before - 2);

    let (_, load) = t.app.load(Some(&run.id)).await.expect("load");
    assert_eq!(
        load.entities[&Entity::Companies].created as usize,
        creates_before - 2
    );
    let names: Vec<String> = t
        .world
        .passportal
        .clients()
        .into_iter()
        .map(|c| c.name)
        .collect();
    let excluded_name = &t
        .world
        .msp
        .autotask
        .companies
        .iter()
        .find(|c| c.id == excluded_id)
        .unwrap()
        .company_name;
    assert!(
        !names.contains(excluded_name),
        "an excluded company was created"
    );
    let ledger = Ledger::open(&t.app.staging.ledger_path()).unwrap();
    let links = ledger.links(Entity::Companies).unwrap();
    assert_eq!(
        links[&atpp::model::ids::AutotaskId(matched_id)]
            .passportal_id
            .0,
        manual_client
    );
    assert_eq!(
        links[&atpp::model::ids::AutotaskId(matched_id)].method,
        "manual"
    );
    assert!(!links.contains_key(&atpp::model::ids::AutotaskId(excluded_id)));
}

/// Apply `edit` to the create table, run the plan, and return its error text.
async fn refused(edit: impl FnOnce(&mut Vec<Vec<String>>)) -> (String, TestWorld, String) {
    let t = TestWorld::start(&MspSpec::demo(5)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let path = run.path("review/companies.create.csv");
    let mut table = read_table(&path);
    edit(&mut table);
    write_table(&path, &table);
    let err = t.app.plan(Some(&run.id)).expect_err("plan refuses");
    // Nothing was planned, and a load has nothing to apply.
    assert!(!run.path("plan/plan.json").exists());
    assert!(t.app.load(Some(&run.id)).await.is_err());
    assert_eq!(t.world.passportal.creates(), 0);
    (format!("{err:#}"), t, run.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_action_is_refused_naming_the_row() {
    let (err, _t, _) = refused(|table| {
        let a = col(&table[0], "action");
        table[3][a] = "maybe".into();
    })
    .await;
    assert!(
        err.contains("review/companies.create.csv: row 4, column action: unknown action \"maybe\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_autotask_id_is_refused_naming_both_rows() {
    let (err, _t, _) = refused(|table| {
        let row = table[2].clone();
        table.push(row);
    })
    .await;
    assert!(err.contains("column autotask_id"), "{err}");
    assert!(err.contains("appears twice"), "{err}");
    assert!(err.contains("row 3"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passportal_id_that_does_not_exist_is_refused() {
    let (err, t, _) = refused(|table| {
        let (a, pp) = (col(&table[0], "action"), col(&table[0], "passportal_id"));
        table[2][a] = "match".into();
        table[2][pp] = "999999".into();
    })
    .await;
    assert!(
        err.contains("row 3, column passportal_id: Passportal id 999999 does not exist"),
        "{err}"
    );
    let ids: BTreeSet<i64> = t.world.passportal.clients().iter().map(|c| c.id).collect();
    assert!(!ids.contains(&999999));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_changed_after_the_plan_is_refused_by_the_load() {
    let t = TestWorld::start(&MspSpec::demo(5)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    t.app.plan(Some(&run.id)).expect("plan");
    let path = run.path("review/companies.create.csv");
    let mut table = read_table(&path);
    let a = col(&table[0], "action");
    table[1][a] = "exclude".into();
    write_table(&path, &table);
    let err = t
        .app
        .load(Some(&run.id))
        .await
        .expect_err("stale plan refused");
    assert!(format!("{err:#}").contains("re-run `atpp plan`"), "{err:#}");
    assert_eq!(t.world.passportal.creates(), 0);
}
