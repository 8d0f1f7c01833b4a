//! Under a seeded fault plan (429 with Retry-After, `Itgenatr005`, 500s, truncated and empty
//! 200s, dropped connections, answers slower than the client's timeout) the extract ends with
//! exactly the data of a clean run; a tenant that moved zones is found again; and the tenant's
//! hourly threshold is guarded.

use super::{app_with, assert_same_files};
use crate::harness::TestWorld;
use atpp::api::autotask::AutotaskClient;
use atpp::commands::demo::sim_autotask_credentials;
use atpp::sim::autotask::{AutotaskSimOptions, FaultPlan};
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::PassportalSimOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extraction_under_a_fault_plan_ends_with_the_data_of_a_clean_one() {
    let spec = MspSpec::demo(11);
    let faults = FaultPlan {
        seed: 99,
        rate_429: 0.03,
        rate_thread_threshold: 0.04,
        rate_500: 0.04,
        rate_truncated: 0.04,
        rate_empty_body: 0.03,
        rate_drop: 0.03,
        slow_rate: 0.02,
        slow_ms: 1_600,
    };
    let options = AutotaskSimOptions {
        faults,
        ..AutotaskSimOptions::default()
    };
    let faulty = TestWorld::start_with(&spec, options, PassportalSimOptions::default()).await;
    let clean = TestWorld::start(&spec).await;
    let small_pages = |p: &mut atpp::model::pipeline::Pipeline| {
        p.autotask.page_size = 50;
        p.autotask.max_attempts = 12;
        p.autotask.timeout_secs = 1;
        p.extract.batch_rows = 120;
    };
    let (clean_run, clean_summary) = app_with(&clean, "clean", small_pages)
        .extract()
        .await
        .expect("clean extract");
    let (faulty_run, faulty_summary) = app_with(&faulty, "faulty", small_pages)
        .extract()
        .await
        .expect("extract under faults");
    assert_same_files(&clean_run.dir, &faulty_run.dir);

    // The faults happened and were paid for in retries, which the manifest counts.
    let spent =
        |s: &atpp::stages::extract::ExtractSummary| s.autotask_requests.values().sum::<u64>();
    assert!(
        spent(&faulty_summary) > spent(&clean_summary) + 10,
        "faulty {} vs clean {}",
        spent(&faulty_summary),
        spent(&clean_summary)
    );
    for (key, e) in &faulty_summary.autotask {
        assert_eq!(e.rows, clean_summary.autotask[key].rows, "{key}");
    }
    faulty.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_would_pass_the_threshold_share_does_not_start() {
    let options = AutotaskSimOptions {
        hourly_threshold: 60,
        ..AutotaskSimOptions::default()
    };
    let t =
        TestWorld::start_with(&MspSpec::demo(5), options, PassportalSimOptions::default()).await;
    let app = app_with(&t, "guarded", |p| {
        p.autotask.page_size = 20;
        p.extract.max_threshold_share = Some(0.5);
    });
    let err = format!("{:#}", app.extract().await.expect_err("refused"));
    assert!(err.contains("not starting"), "{err}");
    assert!(err.contains("max_threshold_share"), "{err}");
    // Only the threshold read, the picklists and the counts were spent.
    let pages = t.world.autotask.requests_for("configurationitems");
    assert!(pages <= 2, "{pages} requests to ConfigurationItems");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_from_a_cached_zone_looks_the_zone_up_again_once() {
    let t = TestWorld::start(&MspSpec::demo(2)).await;
    let sim = &t.world.autotask;
    let client = AutotaskClient::connect(
        &(&t.app.pipeline.autotask).into(),
        sim_autotask_credentials(),
    )
    .await
    .expect("connect");
    assert_eq!(sim.zone_lookups(), 1);
    sim.move_zone();
    let count = client.count("Companies", &[]).await.expect("found again");
    assert_eq!(count as usize, t.world.msp.autotask.companies.len());
    assert_eq!(sim.zone_lookups(), 2, "one new lookup");
    // The new zone is cached: no further lookups.
    client.threshold().await.expect("threshold");
    assert_eq!(sim.zone_lookups(), 2);
}
