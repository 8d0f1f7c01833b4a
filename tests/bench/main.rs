//! Benchmarks, run on demand (never in CI): `cargo bench --bench perf [-- CASE...]`.
//! Each case stands the simulators up on loopback and runs the real pipeline against them,
//! printing wall time and request counts; README's performance table comes from here.

mod extract;
mod febrl;
mod load;
mod matching;
mod quality;

use atpp::commands::demo::{World, DEMO_PIPELINE};
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::PassportalSimOptions;
use std::time::Instant;

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> f64 {
    extract::peak_rss_mib("self")
}

/// The companies pipeline end to end on an MSP of `n` companies.
async fn companies_end_to_end(n: usize) {
    let spec = MspSpec {
        companies: n,
        passportal_only: n / 10,
        inactive: n / 50,
        ambiguous: n / 100,
        duplicate_names: n / 200,
        ..MspSpec::demo(1)
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let world = World::start(
        &spec,
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await
    .expect("simulators");
    let mut pipeline = world.pipeline(DEMO_PIPELINE, dir.path()).expect("pipeline");
    pipeline.passportal.requests_per_sec = 10_000;
    let app = world.app(pipeline).expect("app");
    let t0 = Instant::now();
    let (run, extract) = app.extract().await.expect("extract");
    let t_extract = t0.elapsed();
    app.match_run(Some(&run.id)).expect("match");
    let t_match = t0.elapsed() - t_extract;
    let (_, plan) = app.plan(Some(&run.id)).expect("plan");
    let t_plan = t0.elapsed() - t_extract - t_match;
    let (_, load) = app.load(Some(&run.id)).await.expect("load");
    let t_load = t0.elapsed() - t_extract - t_match - t_plan;
    let o = &plan.overview[&Entity::Companies];
    println!(
        "companies_end_to_end n={n}: extract {:.2}s ({} Autotask requests for companies, floor {}), \
         match {:.2}s, plan {:.2}s, load {:.2}s ({} created, {} linked), peak RSS {:.0} MiB",
        t_extract.as_secs_f64(),
        extract.autotask_requests.get("companies").copied().unwrap_or(0),
        (spec.companies + spec.inactive + spec.ambiguous + 2 * spec.duplicate_names).div_ceil(500),
        t_match.as_secs_f64(),
        t_plan.as_secs_f64(),
        t_load.as_secs_f64(),
        load.entities[&Entity::Companies].created,
        o.to_match,
        peak_rss_mib(),
    );
    world.stop().await;
}

fn main() {
    if let Some(case) = std::env::args().find_map(|a| a.strip_prefix("--case=").map(String::from)) {
        match case.as_str() {
            "match-companies-10000" => matching::companies(10_000),
            "match-companies-30000" => matching::companies(30_000),
            "match-companies-100000" => matching::companies(100_000),
            "match-assets" => matching::assets(),
            "quality" => matching::quality(),
            other => panic!("unknown case {other}"),
        }
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| args.is_empty() || args.iter().any(|a| name.contains(a.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if wanted("companies_end_to_end") {
        for n in [1_000, 10_000] {
            rt.block_on(companies_end_to_end(n));
        }
    }
    if wanted("extract") {
        extract::run(&rt);
    }
    if wanted("load") {
        load::run(&rt);
    }
    // Matching cases run each in a child process, so each peak memory is its own.
    let child = |case: &str| {
        let status = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg(format!("--case={case}"))
            .status()
            .expect("bench child runs");
        assert!(status.success(), "{case} failed");
    };
    if wanted("matching") {
        for case in [
            "match-companies-10000",
            "match-companies-30000",
            "match-companies-100000",
            "match-assets",
        ] {
            child(case);
        }
    }
    if wanted("quality") {
        child("quality");
    }
    if wanted("febrl") {
        febrl::run();
    }
}
