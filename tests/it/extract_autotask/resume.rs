//! A failed or killed extract, resumed with `--resume`, continues from the last committed batch
//! instead of starting over and ends with exactly the records of a clean run.

use super::{app_with, assert_same_files};
use crate::harness::TestWorld;
use atpp::commands::app::ExtractOptions;
use atpp::commands::demo::{sim_credential_values, DEMO_PIPELINE};
use atpp::sim::autotask::{discovery_url, AutotaskSimOptions};
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::PassportalSimOptions;
use std::path::Path;
use std::time::Duration;

const PROGRESS: &str = "extract/autotask/.progress/configuration_items.json";

/// Batches committed for configuration items, from the checkpoint of a run folder.
fn committed_parts(run_dir: &Path) -> usize {
    std::fs::read_to_string(run_dir.join(PROGRESS))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["parts"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn small(p: &mut atpp::model::pipeline::Pipeline) {
    p.autotask.page_size = 40;
    p.autotask.max_attempts = 2;
    p.extract.batch_rows = 80;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_extract_resumes_where_it_stopped_and_equals_a_clean_one() {
    let t = TestWorld::start(&MspSpec::demo(13)).await;
    let sim = &t.world.autotask;
    let (clean, clean_summary) = app_with(&t, "clean", small).extract().await.expect("clean");
    let clean_requests = clean_summary.autotask["configuration_items"].requests;

    let app = app_with(&t, "broken", small);
    sim.fail_endpoint_after("ConfigurationItems", 16);
    let err = format!(
        "{:#}",
        app.extract().await.expect_err("the outage fails the run")
    );
    assert!(err.contains("ConfigurationItems"), "{err}");
    assert!(err.contains("last id reached"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let broken = app.staging.run(None).expect("the failed run's folder");
    assert!(committed_parts(&broken.dir) > 0, "batches were committed");
    assert!(
        broken.stage("extract").is_err(),
        "the stage is not finished"
    );

    sim.heal();
    let before = sim.requests_for("ConfigurationItems");
    let (resumed, summary) = app
        .extract_with(ExtractOptions {
            resume: true,
            ..ExtractOptions::default()
        })
        .await
        .expect("resume");
    assert_eq!(resumed.id, broken.id, "the same run folder continues");
    assert_same_files(&clean.dir, &resumed.dir);
    let resumed_requests = sim.requests_for("ConfigurationItems") - before;
    assert!(
        resumed_requests < clean_requests,
        "the resumed session paged {resumed_requests} requests, a clean run {clean_requests}"
    );
    // The manifest counts the requests of both sessions.
    assert!(summary.autotask["configuration_items"].requests > resumed_requests);
    assert!(!resumed.dir.join(PROGRESS).exists());

    // A finished run has nothing to resume.
    let again = app.extract_with(ExtractOptions {
        resume: true,
        ..ExtractOptions::default()
    });
    let err = format!("{:#}", again.await.expect_err("nothing to resume"));
    assert!(err.contains("nothing to resume"), "{err}");
}

/// The demo pipeline pointed at this world, as a file for the `atpp` binary.
fn pipeline_file(t: &TestWorld, staging: &Path) -> std::path::PathBuf {
    let text = DEMO_PIPELINE
        .replace(
            "http://127.0.0.1:8081/atservicesrest/",
            &discovery_url(&t.world.autotask_server),
        )
        .replace(
            "http://127.0.0.1:8082",
            &t.world.passportal_server.base_url(),
        )
        .replace("staging/demo", &staging.display().to_string())
        .replace("page_size = 500", "page_size = 40")
        .replace("max_attempts = 5", "max_attempts = 1000")
        .replace("batch_rows = 10000", "batch_rows = 80");
    let path = staging.with_extension("toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn atpp(t: &TestWorld, pipeline: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_atpp"));
    cmd.arg("extract")
        .arg("--pipeline")
        .arg(pipeline)
        .args(args);
    for (name, value) in sim_credential_values(&t.app.pipeline) {
        cmd.env(name, value);
    }
    cmd.stdout(std::process::Stdio::null());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_extract_process_resumes_and_equals_a_clean_one() {
    let options = AutotaskSimOptions {
        latency_ms: 2,
        ..AutotaskSimOptions::default()
    };
    let t =
        TestWorld::start_with(&MspSpec::demo(17), options, PassportalSimOptions::default()).await;
    let sim = &t.world.autotask;
    let (clean, _) = app_with(&t, "clean", small).extract().await.expect("clean");

    // The process pages until the configuration items stop answering, then retries for ever:
    // it is killed (SIGKILL) there, with batches committed and others in flight.
    let staging = t._dir.path().join("killed");
    let pipeline = pipeline_file(&t, &staging);
    let base = sim.requests_for("ConfigurationItems");
    sim.fail_endpoint_after("ConfigurationItems", 12);
    let mut child = atpp(&t, &pipeline, &[]).spawn().expect("atpp starts");
    let run_dir = loop {
        let run = atpp::store::staging::Staging::open(&staging)
            .ok()
            .and_then(|s| s.run(None).ok());
        if let Some(run) = run {
            if committed_parts(&run.dir) > 0 && sim.requests_for("ConfigurationItems") > base + 14 {
                break run.dir;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "atpp ended before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    child.kill().await.expect("kill");
    sim.heal();

    let status = atpp(&t, &pipeline, &["--resume"])
        .status()
        .await
        .expect("atpp --resume runs");
    assert!(status.success(), "resume failed: {status}");
    assert_same_files(&clean.dir, &run_dir);
}
