//! `atpp prune`: old runs are removed, never the newest, the latest of each state, a run whose
//! plan was not loaded, whose tables were edited after (or without) a plan, that owes creates,
//! or that holds the only copy of rows waiting for review.

use crate::harness::{read_table, write_table, TestWorld};
use crate::operations::small;
use atpp::commands::prune::Kept;

/// Change one reading column of a review table, as an analyst's spreadsheet would.
fn edit_review(run: &atpp::store::staging::Run) {
    let path = ["match", "create", "exclude"]
        .iter()
        .map(|action| run.path(&format!("review/companies.{action}.csv")))
        .find(|p| read_table(p).len() > 1)
        .expect("a table with rows");
    let mut rows = read_table(&path);
    let last = rows[0].len() - 1;
    rows[1][last] = format!("{} (edited)", rows[1][last]);
    write_table(&path, &rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_keeps_the_newest_the_latest_and_unapplied_decisions() {
    let t = TestWorld::start(&small(6)).await;
    let app = &t.app;
    let mut ids = Vec::new();
    // loaded: prunable
    let (run, _) = app.extract().await.unwrap();
    app.match_run(Some(&run.id)).unwrap();
    app.plan(Some(&run.id)).unwrap();
    app.load(Some(&run.id)).await.unwrap();
    ids.push(run.id);
    // planned, not loaded: kept
    let (run, _) = app.extract().await.unwrap();
    app.match_run(Some(&run.id)).unwrap();
    app.plan(Some(&run.id)).unwrap();
    ids.push(run.id);
    // loaded, then its tables edited: kept
    let (run, _) = app.extract().await.unwrap();
    app.match_run(Some(&run.id)).unwrap();
    app.plan(Some(&run.id)).unwrap();
    app.load(Some(&run.id)).await.unwrap();
    edit_review(&run);
    ids.push(run.id);
    // matched, untouched: prunable
    let (run, _) = app.extract().await.unwrap();
    app.match_run(Some(&run.id)).unwrap();
    ids.push(run.id);
    // matched, edited, not planned: kept
    let (run, _) = app.extract().await.unwrap();
    app.match_run(Some(&run.id)).unwrap();
    edit_review(&run);
    ids.push(run.id);
    // the latest, extract only
    let (run, _) = app.extract().await.unwrap();
    ids.push(run.id);
    assert_eq!(app.staging.run_ids().unwrap(), ids);

    // A create of run 4 (prunable so far) whose outcome the ledger still does not know: the run
    // holds the staged record its retry sends, so it stays.
    let ledger = app.ledger().unwrap();
    let key = atpp::store::ledger::WriteKey {
        entity: atpp::model::entity::Entity::Companies,
        autotask_id: atpp::model::ids::AutotaskId(999_999),
        operation: atpp::stages::load::CREATE,
    };
    let intent = atpp::store::ledger::WriteState::Intent;
    ledger
        .record_write(key, intent, None, &ids[3], None)
        .unwrap();

    // A dry run says what would go and removes nothing.
    let dry = atpp::commands::prune::prune(&app.staging, &ledger, 1, true).unwrap();
    assert_eq!(dry.removed, [ids[0].clone()]);
    assert_eq!(
        app.staging.run_ids().unwrap(),
        ids,
        "a dry run removes nothing"
    );
    let text = atpp::commands::prune::render(&dry);
    assert!(text.contains(&format!("would remove {}", ids[0])), "{text}");

    let report = atpp::commands::prune::prune(&app.staging, &ledger, 1, false).unwrap();
    assert_eq!(report.removed, [ids[0].clone()]);
    assert_eq!(
        report.kept,
        [
            (ids[1].clone(), Kept::PlannedNotLoaded),
            (ids[2].clone(), Kept::EditedAfterPlan),
            (ids[3].clone(), Kept::OwedCreates),
            (ids[4].clone(), Kept::EditedNotPlanned),
            (ids[5].clone(), Kept::Latest),
        ]
    );
    let left: Vec<String> = std::fs::read_dir(app.staging.root().join("runs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 5, "{left:?}");
    assert!(app.staging.ledger_path().is_file(), "the ledger stays");
    let text = atpp::commands::prune::render(&report);
    assert!(text.contains(&format!("removed {}", ids[0])), "{text}");
    assert!(text.contains("plan is made but not loaded"), "{text}");

    // Keeping more than there are removes nothing; keeping none still keeps the latest.
    assert!(
        atpp::commands::prune::prune(&app.staging, &ledger, 10, false)
            .unwrap()
            .removed
            .is_empty()
    );
    // Once the create is settled, its run may go.
    ledger
        .record_write(
            key,
            atpp::store::ledger::WriteState::Done,
            None,
            &ids[3],
            None,
        )
        .unwrap();
    let settled = atpp::commands::prune::prune(&app.staging, &ledger, 1, false).unwrap();
    assert_eq!(settled.removed, [ids[3].clone()]);
    let none = atpp::commands::prune::prune(&app.staging, &ledger, 0, false).unwrap();
    assert!(none.removed.is_empty(), "{none:?}");
    assert_eq!(none.kept.last(), Some(&(ids[5].clone(), Kept::Latest)));
}

/// Rows that wait for review live in their run's plan until the backlog moves into the ledger:
/// a run whose waiting rows no later run proposes again is never pruned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_keeps_a_run_whose_waiting_rows_no_later_run_holds() {
    let t = TestWorld::start(&small(8)).await;
    let app = &t.app;
    let policy = atpp::stages::plan::Policy::Auto(&app.pipeline.sync);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (run, _) = app.extract().await.unwrap();
        app.match_run(Some(&run.id)).unwrap();
        let (_, plan) = app.plan_with(Some(&run.id), policy).unwrap();
        assert!(
            plan.waiting_for_review() > 0,
            "the demo MSP leaves rows for review"
        );
        app.load(Some(&run.id)).await.unwrap();
        ids.push(run.id);
    }
    let ledger = app.ledger().unwrap();
    // Each later run proposed every row again (full extracts): the first run holds nothing owed.
    let report = atpp::commands::prune::prune(&app.staging, &ledger, 1, true).unwrap();
    assert_eq!(report.removed, ids[..2]);
    // Later runs that did not read those records again (as an incremental night does not): each
    // of the first two runs now holds the only copy of its waiting rows.
    let second = app.staging.run(Some(&ids[1])).unwrap();
    let third = app.staging.run(Some(&ids[2])).unwrap();
    for entity in atpp::model::entity::Entity::ALL {
        let rel = atpp::stages::matching::proposals_path(*entity);
        for run in [&second, &third] {
            let _ = std::fs::remove_file(run.path(&rel));
        }
    }
    let report = atpp::commands::prune::prune(&app.staging, &ledger, 1, false).unwrap();
    assert_eq!(report.removed, Vec::<String>::new());
    assert_eq!(report.kept[0], (ids[0].clone(), Kept::WaitingRows));
    assert_eq!(report.kept[1], (ids[1].clone(), Kept::WaitingRows));
}
