//! `cargo bench --bench perf -- extract`: the Autotask extract of 1,000,000 configuration items,
//! 100,000 contacts and 20,000 companies from the simulator, reporting wall time against the
//! floor the simulator's latency and the 3-in-flight rule set, requests against ceil(N/500),
//! and peak memory.
//!
//! The simulator's tenant (a million records in memory) would dominate this process's peak
//! memory, so it runs in a child process — this same binary, started with `ATPP_BENCH_SIM` set —
//! and the peak of each process is reported separately.

use atpp::api::autotask::AutotaskClient;
use atpp::commands::demo::{sim_autotask_credentials, DEMO_PIPELINE};
use atpp::model::pipeline::Pipeline;
use atpp::sim::autotask::{AutotaskSim, AutotaskSimOptions};
use atpp::sim::generator::{generate, MspSpec};
use atpp::stages::extract::autotask::{extract, AutotaskOptions};
use atpp::store::staging::Staging;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Set in the child: serve the simulator instead of benchmarking.
const CHILD: &str = "ATPP_BENCH_SIM";
/// The simulator's answer time per request, unless `ATPP_BENCH_LATENCY_MS` says otherwise
/// (0 shows what our code alone can do).
const LATENCY_MS: u64 = 40;

fn latency_ms() -> u64 {
    std::env::var("ATPP_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LATENCY_MS)
}

/// The MSP of the benchmark: 20,000 companies with 50 devices and 5 contacts each on average.
fn spec() -> MspSpec {
    MspSpec {
        companies: 19_900,
        inactive: 100,
        ambiguous: 0,
        duplicate_names: 0,
        passportal_only: 0,
        passportal_share: 0.0,
        resources: 100,
        contacts_per_company: 5,
        locations_per_company: 1,
        cis_per_company: 50,
        ..MspSpec::demo(2024)
    }
}

/// Peak resident memory of a process, in MiB (Linux `VmHWM`).
pub fn peak_rss_mib(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The child: generate the tenant, serve it, say where, and run until stdin closes.
fn serve_child(rt: &tokio::runtime::Runtime) {
    let t0 = Instant::now();
    let msp = generate(&spec());
    let tenant = msp.autotask;
    let counts = format!(
        "{} {} {}",
        tenant.companies.len(),
        tenant.contacts.len(),
        tenant.configuration_items.len()
    );
    let options = AutotaskSimOptions {
        latency_ms: latency_ms(),
        ..AutotaskSimOptions::default()
    };
    let sim = AutotaskSim::new(tenant, sim_autotask_credentials(), options);
    let running = rt
        .block_on(atpp::sim::autotask::serve(
            sim,
            "127.0.0.1:0".parse().unwrap(),
        ))
        .expect("simulator starts");
    println!(
        "READY {} {counts} {:.1}",
        running.addr.port(),
        t0.elapsed().as_secs_f64()
    );
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

pub fn run(rt: &tokio::runtime::Runtime) {
    if std::env::var_os(CHILD).is_some() {
        serve_child(rt);
        return;
    }
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("extract")
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("simulator child starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("child says where it listens");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.first(), Some(&"READY"), "child said {line:?}");
    let (port, companies, contacts, cis, gen_secs) =
        (fields[1], fields[2], fields[3], fields[4], fields[5]);

    let mut pipeline =
        Pipeline::parse(DEMO_PIPELINE, Path::new("pipelines/demo.toml")).expect("demo pipeline");
    pipeline.autotask.discovery_url = format!("http://127.0.0.1:{port}/atservicesrest/");
    pipeline.extract.resources = false;
    pipeline.extract.locations = false;
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = Staging::open(dir.path()).expect("staging");
    let run = staging.new_run("bench").expect("run");

    let rss_before = peak_rss_mib("self");
    let t0 = Instant::now();
    let summary = rt
        .block_on(async {
            let client =
                AutotaskClient::connect(&(&pipeline.autotask).into(), sim_autotask_credentials())
                    .await
                    .expect("client");
            extract(
                &client,
                &run.dir,
                &pipeline.extract,
                &AutotaskOptions::default(),
            )
            .await
        })
        .expect("extract");
    let wall = t0.elapsed().as_secs_f64();
    let latency = latency_ms();
    let ours = peak_rss_mib("self");
    let theirs = peak_rss_mib(&child.id().to_string());
    drop(child.stdin.take());
    let _ = child.wait();

    println!(
        "extract: simulator child generated {companies} companies, {contacts} contacts, {cis} \
         configuration items in {gen_secs} s; latency {latency} ms, 3 in flight per endpoint"
    );
    println!(
        "| entity | rows | requests | ceil(N/500) floor | over floor | segments | seconds (merge) |\n|---|---|---|---|---|---|---|"
    );
    let (mut requests, mut floor) = (0, 0);
    for (key, e) in &summary.entities {
        requests += e.requests;
        floor += e.floor;
        println!(
            "| {key} | {} | {} | {} | {:+.2} % | {} | {:.1} ({:.1}) |",
            e.rows,
            e.requests,
            e.floor,
            (e.requests as f64 / e.floor.max(1) as f64 - 1.0) * 100.0,
            e.segments,
            e.seconds,
            e.merge_seconds
        );
    }
    // Plus the two ThresholdInformation reads.
    requests += 2;
    let ci_pages = summary.entities["configuration_items"].floor;
    let latency_floor = ci_pages.div_ceil(3) as f64 * latency as f64 / 1000.0;
    let share = if latency_floor > 0.0 {
        format!("{:.0} %", wall / latency_floor * 100.0)
    } else {
        "no latency: our code and the simulator's CPU alone".into()
    };
    println!(
        "extract: total {requests} requests for a floor of {floor} ({:+.2} %); wall {wall:.1} s \
         against a latency floor of {latency_floor:.1} s (ceil({ci_pages}/3) x {latency} ms, \
         {share}); peak RSS extractor {ours:.0} MiB (before the extract {rss_before:.0} MiB), \
         simulator child {theirs:.0} MiB",
        (requests as f64 / floor as f64 - 1.0) * 100.0,
    );
}
