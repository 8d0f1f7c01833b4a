//! Nightly operation: one atpp at a time per staging folder, the run's JSON log, `status`,
//! `query`, `prune` and `check` — through the library and the real binary, against the
//! simulators.

use crate::harness::{col, read_table, write_table, TestWorld};
use atpp::commands::demo::{sim_credential_values, DEMO_PIPELINE};
use atpp::commands::prune::Kept;
use atpp::sim::generator::MspSpec;
use atpp::store::lock::{LockInfo, LOCK_FILE};
use std::path::{Path, PathBuf};
use std::process::Output;

pub(crate) fn small(seed: u64) -> MspSpec {
    MspSpec {
        companies: 30,
        passportal_only: 3,
        inactive: 3,
        resources: 8,
        ..MspSpec::demo(seed)
    }
}

/// The demo pipeline pointed at this world and its staging folder, as a file for the binary.
pub(crate) fn pipeline_file(t: &TestWorld) -> PathBuf {
    let text = DEMO_PIPELINE
        .replace(
            "http://127.0.0.1:8081/atservicesrest/",
            &atpp::sim::autotask::discovery_url(&t.world.autotask_server),
        )
        .replace(
            "http://127.0.0.1:8082",
            &t.world.passportal_server.base_url(),
        )
        .replace("staging/demo", &t.app.staging.root().display().to_string());
    let path = t._dir.path().join("pipeline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Run the binary with the simulators' credentials in its environment.
pub(crate) async fn atpp(t: &TestWorld, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_atpp"));
    cmd.args(args);
    for (name, value) in sim_credential_values(&t.app.pipeline) {
        cmd.env(name, value);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.env_remove("ATPP_LOG");
    cmd.output().await.expect("atpp runs")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn pipeline_arg(path: &Path) -> String {
    path.display().to_string()
}

/// A pid that is certainly not running: a child that has ended.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("true runs");
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_is_refused_naming_the_running_one() {
    let t = TestWorld::start(&small(1)).await;
    let pipeline = pipeline_file(&t);
    let held = t.app.lock("load").expect("first lock");
    assert_eq!(held.info().pid, std::process::id());
    assert!(held.taken_over.is_none());

    let err = t.app.lock("prune").expect_err("second lock refused");
    let message = format!("{err:#}");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    assert!(message.contains("atpp load (pipeline demo)"), "{message}");
    assert!(message.contains("since"), "{message}");

    // Another process is refused at once, and does nothing.
    for args in [
        vec!["extract", "--pipeline", &pipeline_arg(&pipeline)],
        vec![
            "prune",
            "--pipeline",
            &pipeline_arg(&pipeline),
            "--keep",
            "1",
        ],
    ] {
        let out = atpp(&t, &args, &[]).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("pid {} on", std::process::id())),
            "{stderr}"
        );
        assert!(stderr.contains("`atpp load (pipeline demo)`"), "{stderr}");
    }
    assert!(t.app.staging.run_ids().unwrap().is_empty());
    // Reading is not writing: status names the running one.
    let out = atpp(&t, &["status", "--pipeline", &pipeline_arg(&pipeline)], &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("running now: pid {}", std::process::id())),
        "{}",
        text(&out.stdout)
    );

    drop(held);
    let again = t.app.lock("prune").expect("free again once released");
    assert!(again.taken_over.is_none(), "a released lock is not stale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_left_by_a_dead_process_is_taken_over_with_a_warning() {
    let t = TestWorld::start(&small(2)).await;
    let pipeline = pipeline_file(&t);
    let lock_path = t.app.staging.root().join(LOCK_FILE);
    let stale = LockInfo {
        pid: dead_pid(),
        hostname: atpp::store::lock::hostname(),
        command: "atpp run (pipeline demo)".into(),
        started_at: chrono::Utc::now() - chrono::Duration::hours(7),
        process_start: None,
        boot_id: None,
    };
    assert_eq!(stale.is_alive(), Some(false));
    std::fs::write(&lock_path, serde_json::to_vec(&stale).unwrap()).unwrap();
    assert_eq!(atpp::store::lock::holder(t.app.staging.root()), None);

    let lock = t
        .app
        .lock("prune")
        .expect("a dead holder's lock is taken over");
    assert_eq!(lock.taken_over.as_ref(), Some(&stale));
    drop(lock);

    // The binary says so on stderr and goes on.
    std::fs::write(&lock_path, serde_json::to_vec(&stale).unwrap()).unwrap();
    let out = atpp(
        &t,
        &[
            "prune",
            "--pipeline",
            &pipeline_arg(&pipeline),
            "--keep",
            "3",
        ],
        &[],
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("taking over the lock"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", stale.pid)), "{stderr}");
    assert!(stderr.contains("no longer running"), "{stderr}");
    assert_eq!(
        std::fs::read(&lock_path).unwrap(),
        b"",
        "released when done"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_logs_json_lines_into_its_folder_without_secrets() {
    let t = TestWorld::start(&small(3)).await;
    let pipeline = pipeline_arg(&pipeline_file(&t));
    // Debug everywhere: the most a log can say.
    let debug = [("ATPP_LOG", "debug")];
    for stage in ["extract", "match"] {
        let out = atpp(&t, &[stage, "--pipeline", &pipeline], &debug).await;
        assert!(out.status.success(), "{stage}: {}", text(&out.stderr));
    }
    let run = t.app.staging.run(None).unwrap();
    let log = std::fs::read_to_string(run.path(atpp::commands::logging::RUN_LOG_FILE))
        .expect("log.jsonl");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.iter().all(|l| l["level"].is_string()));
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    let started = |stage: &str| format!("atpp {stage} --pipeline {pipeline} started");
    // Both commands' lines, the start buffered before the run folder existed.
    assert!(
        messages.contains(&started("extract").as_str()),
        "{messages:?}"
    );
    assert!(
        messages.contains(&started("match").as_str()),
        "{messages:?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["fields"]["exit_code"] == 0)
            .count(),
        2
    );
    for (name, value) in sim_credential_values(&t.app.pipeline) {
        if name.contains("USERNAME") {
            continue; // the API user's name is not secret (zone discovery URLs carry it)
        }
        assert!(!log.contains(&value), "{name}'s value is in the run log");
    }
    // Commands that act on no run leave no log behind.
    let out = atpp(&t, &["status", "--pipeline", &pipeline], &debug).await;
    assert!(out.status.success());
    let logs: Vec<_> = std::fs::read_dir(t.app.staging.root())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
        .collect();
    assert!(logs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_runs_review_ledger_and_threshold() {
    let t = TestWorld::start(&small(4)).await;
    let pipeline = pipeline_arg(&pipeline_file(&t));
    let (first, _) = t.app.extract().await.unwrap();
    t.app.match_run(Some(&first.id)).unwrap();
    let before = atpp::commands::status::gather(&t.app.staging, 10).unwrap();
    // The latest run's uncertain create rows wait, as its create tables show them.
    let mut uncertain = 0;
    for entity in atpp::model::entity::Entity::ALL {
        let path = first.path(&format!("review/{entity}.create.csv"));
        let rows = read_table(&path);
        let (action, reason) = (col(&rows[0], "action"), col(&rows[0], "reason"));
        uncertain += rows[1..]
            .iter()
            .filter(|r| {
                r[action] == "create"
                    && (r[reason].starts_with("ambiguous") || r[reason].starts_with("suggested"))
            })
            .count() as u64;
    }
    assert!(uncertain > 0);
    assert_eq!(
        before.review.latest_waiting.values().sum::<u64>(),
        uncertain
    );
    t.app.plan(Some(&first.id)).unwrap();
    t.app.load(Some(&first.id)).await.unwrap();
    let (second, _) = t.app.extract().await.unwrap();
    t.app.match_run(Some(&second.id)).unwrap();

    let status = atpp::commands::status::gather(&t.app.staging, 10).unwrap();
    assert!(status.running.is_none());
    let ids: Vec<&str> = status.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "newest first");
    let (newest, oldest) = (&status.runs[0], &status.runs[1]);
    assert_eq!(oldest.stages, ["extract", "match", "plan", "load"]);
    assert_eq!(oldest.outcome, "success");
    assert!(oldest.loaded["created"] > 0, "{oldest:?}");
    assert_eq!(newest.stages, ["extract", "match"]);
    assert_eq!(newest.outcome, "waiting for review");
    assert!(newest.extracted_rows as usize > t.world.msp.autotask.companies.len());
    assert!(newest.proposed.values().sum::<u64>() > 0);
    // The unplanned run's tables wait; the loaded run's do not.
    let unplanned: Vec<&str> = status
        .review
        .unplanned_runs
        .iter()
        .map(|u| u.run_id.as_str())
        .collect();
    assert_eq!(unplanned, [second.id.as_str()]);
    assert!(status.review.unplanned_runs[0].rows > 0);
    assert_eq!(
        status.review.latest_run.as_deref(),
        Some(second.id.as_str())
    );
    // The ledger: its size and what it links.
    assert!(status.ledger.bytes > 0);
    let linked = atpp::store::ledger::Ledger::open(&t.app.staging.ledger_path())
        .unwrap()
        .links(atpp::model::entity::Entity::Companies)
        .unwrap()
        .len() as u64;
    assert_eq!(status.ledger.links["companies"], linked);
    // The orphans the ledger holds (none: nothing was deleted), and the threshold use.
    assert!(status.orphans.as_ref().unwrap().is_empty());
    let threshold = status.threshold.as_ref().unwrap();
    assert_eq!(threshold.run_id, second.id);
    assert_eq!(threshold.limit, 10_000);
    assert!(threshold.used_at_end > threshold.used_at_start);
    assert!(threshold.spent > 0);
    // The last load that succeeded, and nothing owed.
    assert_eq!(
        status.ledger.last_success.as_deref(),
        Some(first.id.as_str())
    );
    assert!(status.ledger.owed_creates.is_empty(), "{:?}", status.ledger);
    // Creates the ledger still owes (as a killed or refused load leaves them) are counted.
    {
        use atpp::store::ledger::{WriteKey, WriteState};
        let ledger = atpp::store::ledger::Ledger::open(&t.app.staging.ledger_path()).unwrap();
        for (id, state) in [(900_001, WriteState::Intent), (900_002, WriteState::Failed)] {
            let key = WriteKey {
                entity: atpp::model::entity::Entity::Contacts,
                autotask_id: atpp::model::ids::AutotaskId(id),
                operation: atpp::stages::load::CREATE,
            };
            ledger
                .record_write(key, state, None, &second.id, None)
                .unwrap();
        }
    }
    let status = atpp::commands::status::gather(&t.app.staging, 10).unwrap();
    let owed = &status.ledger.owed_creates["contacts"];
    assert_eq!((owed.unknown, owed.failed), (1, 1));
    assert_eq!(owed.oldest_run.as_deref(), Some(second.id.as_str()));

    // The binary: text and JSON.
    let out = atpp(&t, &["status", "--pipeline", &pipeline], &[]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains(&second.id) && stdout.contains("waiting for review"));
    assert!(stdout.contains("not planned yet"), "{stdout}");
    assert!(stdout.contains("of 10000 requests"), "{stdout}");
    assert!(
        stdout.contains("owed contacts creates: 1 outcome unknown, 1 failed"),
        "{stdout}"
    );
    let out = atpp(&t, &["status", "--pipeline", &pipeline, "--json"], &[]).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON status");
    assert_eq!(json["runs"][1]["outcome"], "success");
    assert_eq!(json["ledger"]["owed_creates"]["contacts"]["unknown"], 1);
    assert_eq!(json["ledger"]["owed_creates"]["contacts"]["failed"], 1);
    assert_eq!(json["ledger"]["last_success"], first.id.as_str());
    assert_eq!(json["ledger"]["links"]["companies"], linked);

    // Planned as the tables say: nothing waits any more.
    t.app.plan(Some(&second.id)).unwrap();
    let status = atpp::commands::status::gather(&t.app.staging, 10).unwrap();
    assert!(
        status.review.latest_waiting.is_empty(),
        "{:?}",
        status.review
    );
    assert!(status.review.unplanned_runs.is_empty());
    assert_eq!(status.runs[0].outcome, "planned, not loaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_reads_the_runs_parquet_and_the_ledger() {
    let t = TestWorld::start(&small(5)).await;
    let pipeline = pipeline_arg(&pipeline_file(&t));
    let (run, _) = t.app.extract().await.unwrap();
    t.app.match_run(Some(&run.id)).unwrap();
    t.app.plan(Some(&run.id)).unwrap();
    t.app.load(Some(&run.id)).await.unwrap();

    let ctx = atpp::commands::query::QueryContext::open(&t.app.staging, Some(&run)).unwrap();
    let views: Vec<&str> = ctx.parquet_views.iter().map(|(n, _)| n.as_str()).collect();
    for view in [
        "autotask_companies",
        "autotask_company_locations",
        "passportal_clients",
    ] {
        assert!(views.contains(&view), "{views:?}");
    }
    for table in ["decisions", "links", "runs", "watermarks", "writes"] {
        assert!(ctx.ledger_views.iter().any(|v| v == table), "{table}");
    }
    let r = ctx
        .query(
            "SELECT count(*) AS n FROM autotask_companies c \
             JOIN links l ON l.entity = 'companies' AND l.autotask_id = c.id",
        )
        .unwrap();
    let linked = atpp::store::ledger::Ledger::open(&t.app.staging.ledger_path())
        .unwrap()
        .links(atpp::model::entity::Entity::Companies)
        .unwrap()
        .len();
    assert_eq!(r.rows, [vec![Some(linked.to_string())]]);

    // The binary: a table, CSV, and DuckDB's own message for a mistake.
    let companies = t.world.msp.autotask.companies.len();
    let sql = "SELECT count(*) AS companies FROM autotask_companies";
    let out = atpp(&t, &["query", "--pipeline", &pipeline, sql], &[]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with("companies\n---------\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("{companies:>9}\n(1 row)")),
        "{stdout}"
    );
    let args = ["query", "--pipeline", &pipeline, "--run", &run.id, "--csv"];
    let sql = "SELECT run_id, outcome FROM runs";
    let out = atpp(&t, &[&args[..], &[sql]].concat(), &[]).await;
    assert_eq!(
        text(&out.stdout),
        format!("\u{feff}run_id,outcome\r\n{},success\r\n", run.id)
    );
    let out = atpp(&t, &["query", "--pipeline", &pipeline, "SELEC 1"], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("syntax error"),
        "{}",
        text(&out.stderr)
    );
    let sql = "SELECT * FROM no_such_view";
    let out = atpp(&t, &["query", "--pipeline", &pipeline, sql], &[]).await;
    assert!(text(&out.stderr).contains("no_such_view"));

    // While a running atpp holds the ledger, the query says so.
    let ledger = atpp::store::ledger::Ledger::open(&t.app.staging.ledger_path()).unwrap();
    let held = t.app.lock("load").unwrap();
    let out = atpp(&t, &["query", "--pipeline", &pipeline, "SELECT 1"], &[]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is in use by a running atpp (pid"),
        "{stderr}"
    );
    // Status still shows what it can, and says why the rest is missing.
    let out = atpp(&t, &["status", "--pipeline", &pipeline], &[]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("in use by a running atpp"), "{stdout}");
    assert!(stdout.contains(&run.id), "{stdout}");
    drop((ledger, held));
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reads_a_page_of_everything_and_writes_nothing() {
    let t = TestWorld::start(&small(7)).await;
    let pipeline = pipeline_arg(&pipeline_file(&t));
    // A staging folder that does not exist yet stays so.
    std::fs::remove_dir_all(t.app.staging.root()).unwrap();

    let out = atpp(&t, &["check", "--pipeline", &pipeline], &[]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for name in [
        "Autotask zone discovery",
        "Autotask ThresholdInformation",
        "Autotask Companies",
        "Autotask Resources",
        "Autotask CompanyLocations",
        "Autotask Contacts",
        "Autotask ConfigurationItems",
        "Passportal token exchange",
        "Passportal clients",
        "Passportal users",
        "Passportal documents",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} in\n{stdout}"));
        assert!(line.starts_with("OK "), "{line}");
    }
    // 11 reads, and one template check per document type.
    assert!(stdout.contains("all 14 checks passed"), "{stdout}");
    assert!(
        !t.app.staging.root().exists(),
        "check wrote a staging folder"
    );
    // One page of one record each: a handful of requests, not an extract.
    assert!(t.world.autotask.requests_for("Companies") <= 2);
    t.assert_no_unexpected_requests();

    // A wrong secret fails its check, says why, and the exit code says so.
    let wrong = [("PASSPORTAL_SECRET", "not-the-secret")];
    let out = atpp(&t, &["check", "--pipeline", &pipeline, "--json"], &wrong).await;
    assert_eq!(out.status.code(), Some(1));
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let token = checks
        .iter()
        .find(|c| c["name"] == "Passportal token exchange")
        .unwrap();
    assert_eq!(token["status"], "failed");
    assert!(
        token["detail"]
            .as_str()
            .unwrap()
            .contains("PASSPORTAL_SECRET"),
        "{token}"
    );
    assert!(checks
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("Autotask"))
        .all(|c| c["status"] == "ok"));
    assert!(text(&out.stderr).contains("check(s) did not pass"));
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
