//! `cargo bench --bench perf -- load`: the load stage creating 10,000 clients (or
//! `ATPP_BENCH_LOAD_ROWS`) in a Passportal
//! simulator that answers each request after 20 ms, at two settings of the pipeline: paced at
//! `passportal.requests_per_sec = 200` (the pace is the bound: 50 s), and unpaced (the bound is
//! `concurrency / latency` = 400 requests/s: 25 s), both with `load.concurrency = 8`. Reports the
//! wall time and requests per second achieved against the bound, and the time spent in ledger
//! commits (intents before each batch of requests, outcomes after), and the Passportal requests
//! per created row: the load reconciles every create against a complete listing before sending
//! and reads everything back at the end (verify), and those listings must stay a small fraction
//! of the creates. Then documents (`ATPP_BENCH_LOAD_DOCS`, default 2,000 contacts) one per
//! request and in batches, paced: requests by route per created document, and rows/s against
//! the pace × the batch size.

use atpp::api::passportal::routes::{CREATE_DOCUMENT, LIST_CLIENTS, LIST_DOCUMENTS};
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

/// Document rows for the document cases: `ATPP_BENCH_LOAD_DOCS`, default 2,000.
fn documents() -> usize {
    std::env::var("ATPP_BENCH_LOAD_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// The pace of the document cases, in requests per second.
const DOCUMENT_PACE: u32 = 100;

/// Contacts to create as documents under companies already in Passportal (matched by name, so
/// only documents are created): `per_company` contacts each, at `batch_size`, paced at
/// `DOCUMENT_PACE` requests/s. Reports the simulator's requests by route per created document,
/// and rows/s against the pace × the batch size (the goal: ≥ 0.95 of it).
async fn load_documents(per_company: usize, batch_size: usize) {
    let n = documents();
    let spec = MspSpec {
        companies: (n / per_company).max(1),
        passportal_share: 1.0,
        variant_share: 0.0,
        passportal_child_share: 0.0,
        contacts_per_company: per_company,
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
    pipeline.passportal.concurrency = CONCURRENCY;
    pipeline.load.concurrency = CONCURRENCY;
    pipeline.passportal.requests_per_sec = DOCUMENT_PACE;
    pipeline.passportal.batch_size = batch_size;
    let app = world.app(pipeline).expect("app");
    let (run, _) = app.extract().await.expect("extract");
    app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    let rows: usize = plan.entities.values().map(|p| p.create.len()).sum();
    let docs_before = world.passportal.documents().len();
    let gets_before = world.passportal.gets_by_path();
    let writes_before = world.passportal.writes_received().len();
    let t0 = Instant::now();
    let (_, summary) = app.load(Some(&run.id)).await.expect("load");
    let wall = t0.elapsed().as_secs_f64();
    assert_eq!(summary.problems(), 0);
    let created = world.passportal.documents().len() - docs_before;
    assert_eq!(created, rows);

    let gets = world.passportal.gets_by_path();
    let delta =
        |p: &str| gets.get(p).copied().unwrap_or(0) - gets_before.get(p).copied().unwrap_or(0);
    let listings = delta(LIST_DOCUMENTS.path);
    let details: u64 = gets
        .keys()
        .filter(|p| p.starts_with("/api/v2/documents/") && p.as_str() != LIST_CLIENTS.path)
        .map(|p| delta(p))
        .sum();
    let posts = world.passportal.writes_received()[writes_before..]
        .iter()
        .filter(|w| w.method == "POST" && w.path == CREATE_DOCUMENT.path)
        .count() as u64;
    let other = summary.requests.saturating_sub(posts + listings + details);
    let per = |k: u64| k as f64 / created as f64;
    let goal = 0.95 * DOCUMENT_PACE as f64 * batch_size as f64;
    println!(
        "load documents batch_size={batch_size}: {created} contacts under {} clients ({per_company} \
         each) in {wall:.1}s, {:.0} rows/s at a pace of {DOCUMENT_PACE} requests/s (goal \
         0.95 x pace x batch = {goal:.0}/s); per created document: POST {:.3}, listing pages \
         {:.3}, detail reads {:.3}, other {:.3}; total {:.3} ({} requests)",
        spec.companies,
        created as f64 / wall,
        per(posts),
        per(listings),
        per(details),
        per(other),
        per(summary.requests),
        summary.requests,
    );
    world.stop().await;
}

pub fn run(rt: &tokio::runtime::Runtime) {
    for rps in [200, 10_000] {
        rt.block_on(load(rps));
    }
    for (per_company, batch_size) in [(100, 1), (100, 100), (10, 100)] {
        rt.block_on(load_documents(per_company, batch_size));
    }
}
