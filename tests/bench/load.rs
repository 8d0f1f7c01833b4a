//! `cargo bench --bench perf -- load`: the load stage creating 10,000 clients (or
//! `ATPP_BENCH_LOAD_ROWS`) in a Passportal
//! simulator that answers each request after 20 ms, at two settings of the pipeline: paced at
//! `passportal.requests_per_sec = 200` (the pace is the bound: 50 s), and unpaced (the bound is
//! `concurrency / latency` = 400 requests/s: 25 s), both with `load.concurrency = 8`. Reports the
//! wall time and requests per second achieved against the bound, and the time spent in ledger
//! commits (intents before each batch of requests, outcomes after), and the Passportal requests
//! per created row: the load reconciles every create against a complete listing before sending
//! and reads everything back at the end (verify), and those listings must stay a small fraction
//! of the creates.

use atpp::commands::demo::{World, DEMO_PIPELINE};
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::PassportalSimOptions;
use std::time::Instant;

/// Rows created: `ATPP_BENCH_LOAD_ROWS`, default 10,000.
fn creates() -> usize {
    std::env::var("ATPP_BENCH_LOAD_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}
const LATENCY_MS: u64 = 20;
const CONCURRENCY: usize = 8;

/// 10,000 companies, none of them in Passportal yet; children are not extracted.
fn spec() -> MspSpec {
    MspSpec {
        companies: creates(),
        passportal_share: 0.0,
        passportal_only: 0,
        inactive: 0,
        ambiguous: 0,
        duplicate_names: 0,
        distractors: 0,
        resources: 0,
        contacts_per_company: 0,
        locations_per_company: 0,
        cis_per_company: 0,
        ..MspSpec::demo(10_000)
    }
}

/// One load of every company at `requests_per_sec`.
async fn load(requests_per_sec: u32) {
    let options = PassportalSimOptions {
        latency_ms: LATENCY_MS,
        ..PassportalSimOptions::default()
    };
    let world = World::start(&spec(), 0, 0, AutotaskSimOptions::default(), options)
        .await
        .expect("simulators");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pipeline = world.pipeline(DEMO_PIPELINE, dir.path()).expect("pipeline");
    pipeline.extract.resources = false;
    pipeline.extract.contacts = false;
    pipeline.extract.locations = false;
    pipeline.extract.configuration_items = false;
    pipeline.passportal.page_size = 1000;
    pipeline.passportal.concurrency = CONCURRENCY;
    pipeline.load.concurrency = CONCURRENCY;
    pipeline.passportal.requests_per_sec = requests_per_sec;
    let app = world.app(pipeline).expect("app");
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    let planned = plan.entities[&Entity::Companies].create.len();
    let n = creates();
    assert_eq!(planned, n);

    let creates_before = world.passportal.creates();
    let t0 = Instant::now();
    let (_, summary) = app.load(Some(&run.id)).await.expect("load");
    let wall = t0.elapsed().as_secs_f64();
    let created = summary.entities[&Entity::Companies].created as usize;
    assert_eq!(created, n);
    assert_eq!(summary.problems(), 0);
    assert_eq!(world.passportal.creates() - creates_before, n as u64);

    let latency_bound = CONCURRENCY as f64 * 1000.0 / LATENCY_MS as f64;
    let bound = (requests_per_sec as f64).min(latency_bound);
    let achieved = created as f64 / wall;
    let ledger = summary.ledger_time.as_secs_f64();
    println!(
        "load n={n} latency={LATENCY_MS}ms concurrency={CONCURRENCY} \
         requests_per_sec={requests_per_sec}: {wall:.1}s wall, {achieved:.0} creates/s of a \
         {bound:.0}/s bound ({:.0}%, floor {:.1}s); ledger {} commits in {ledger:.2}s ({:.1}% of \
         the wall time, {:.2} ms per commit)",
        100.0 * achieved / bound,
        n as f64 / bound,
        summary.ledger_commits,
        100.0 * ledger / wall,
        1000.0 * ledger / summary.ledger_commits.max(1) as f64,
    );
    println!(
        "load n={n}: {} Passportal requests, {:.3} per created row ({} beyond the creates: \
         token, reconcile listing, verify listing; {:.1}% of the creates)",
        summary.requests,
        summary.requests as f64 / n as f64,
        summary.requests.saturating_sub(n as u64),
        100.0 * summary.requests.saturating_sub(n as u64) as f64 / n as f64,
    );
    world.stop().await;
}

/// Contacts: a tenth as many companies as rows, each with ten contacts to create as documents,
/// unpaced. Reports the requests per created document: its POST, the read-back by title and
/// the detail of each document of that title, and its share of the reconcile and verify
/// listings (one per client, with each document's detail).
async fn load_documents() {
    let n = creates();
    let spec = MspSpec {
        companies: (n / 10).max(1),
        contacts_per_company: 10,
        ..spec()
    };
    let options = PassportalSimOptions {
        latency_ms: LATENCY_MS,
        ..PassportalSimOptions::default()
    };
    let world = World::start(&spec, 0, 0, AutotaskSimOptions::default(), options)
        .await
        .expect("simulators");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pipeline = world.pipeline(DEMO_PIPELINE, dir.path()).expect("pipeline");
    pipeline.extract.resources = false;
    pipeline.extract.locations = false;
    pipeline.extract.configuration_items = false;
    pipeline.passportal.page_size = 1000;
    pipeline.passportal.concurrency = CONCURRENCY;
    pipeline.load.concurrency = CONCURRENCY;
    pipeline.passportal.requests_per_sec = 10_000;
    let app = world.app(pipeline).expect("app");
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    let rows: usize = plan.entities.values().map(|p| p.create.len()).sum();
    let docs = plan.entities[&Entity::Contacts].create.len();
    let t0 = Instant::now();
    let (_, summary) = app.load(Some(&run.id)).await.expect("load");
    let wall = t0.elapsed().as_secs_f64();
    assert_eq!(summary.problems(), 0);
    println!(
        "load documents: {rows} rows ({docs} contacts) created in {wall:.1}s ({:.0} rows/s), \
         {} Passportal requests, {:.2} per created row",
        rows as f64 / wall,
        summary.requests,
        summary.requests as f64 / rows as f64,
    );
    world.stop().await;
}

pub fn run(rt: &tokio::runtime::Runtime) {
    for rps in [200, 10_000] {
        rt.block_on(load(rps));
    }
    rt.block_on(load_documents());
}
