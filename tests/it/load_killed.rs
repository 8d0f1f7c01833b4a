//! A load killed against a misbehaving Passportal (lagging search, re-cased names, creates
//! applied after the client gave up): the real binary is killed and started again until a load
//! finishes, and every approved row is in Passportal exactly once, asserted from the
//! simulator's state (the checks are `load_trust`'s).

use crate::load_trust::{assert_exactly_once, prepared, spec};
use atpp::commands::demo::{sim_credential_values, World};
use atpp::model::entity::Entity;
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::passportal::{PassportalSimOptions, WriteFaultPlan};
use atpp::stages::load::VERIFY_FILE;
use std::path::Path;

/// The demo pipeline as a file for the binary: pointed at `world`, staging in `staging`, a 1 s
/// request timeout.
fn pipeline_file(world: &World, staging: &Path, file: &Path) {
    let mut doc: toml::Table = crate::harness::by_hand_pipeline()
        .parse()
        .expect("demo pipeline is TOML");
    let mut section = |key: &str, entries: Vec<(&str, toml::Value)>| {
        let mut t = doc
            .get(key)
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        for (k, v) in entries {
            t.insert(k.to_string(), v);
        }
        doc.insert(key.to_string(), t.into());
    };
    section(
        "autotask",
        vec![(
            "discovery_url",
            atpp::sim::autotask::discovery_url(&world.autotask_server).into(),
        )],
    );
    section(
        "passportal",
        vec![
            ("base_url", world.passportal_server.base_url().into()),
            ("timeout_secs", 1.into()),
            ("max_attempts", 2.into()),
        ],
    );
    doc.insert(
        "staging_dir".into(),
        toml::Value::String(staging.display().to_string()),
    );
    std::fs::write(file, toml::to_string(&doc).expect("serialises")).expect("written");
}

#[test]
fn a_load_killed_against_a_misbehaving_passportal_still_makes_each_row_once() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Everything at once: a lagging search, re-cased names, creates applied after the client
    // gave up or answered 500, and a slow answer to every request so kills land mid-flight.
    let mixed = WriteFaultPlan {
        seed: 21,
        rate_applied_then_500: 0.05,
        rate_applied_late: 0.08,
        late_ms: 1_300,
        search_lag_ms: 700,
        normalise_names: true,
        ..WriteFaultPlan::default()
    };
    let world = rt
        .block_on(World::start(
            &spec(36),
            0,
            0,
            AutotaskSimOptions::default(),
            PassportalSimOptions {
                latency_ms: 5,
                faults: mixed,
                ..PassportalSimOptions::default()
            },
        ))
        .expect("simulators start");
    let dir = tempfile::tempdir().expect("temp dir");
    let staging = dir.path().join("staging");
    let (run, plan, before) = rt.block_on(prepared(&world, &staging));
    let file = dir.path().join("trust.toml");
    pipeline_file(&world, &staging, &file);
    let pipeline = atpp::model::pipeline::Pipeline::load(&file).expect("pipeline parses");
    let env = sim_credential_values(&pipeline);
    let load = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_atpp"));
        cmd.args(["load", "--pipeline"])
            .arg(&file)
            .args(["--run", &run])
            .envs(&env)
            .env_remove("ATPP_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    // Kill loads once a few more creates have been applied each time.
    let planned: u64 = plan.entities.values().map(|p| p.create.len() as u64).sum();
    let mut kills = 0;
    for share in [8, 4, 2] {
        let target = world.passportal.creates() + (planned - world.passportal.creates()) / share;
        let mut child = load().spawn().expect("atpp starts");
        loop {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            if world.passportal.creates() >= target {
                child.kill().expect("SIGKILL");
                kills += 1;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.wait().expect("reaped");
        // The next night starts after the server applied what it held back.
        while world.passportal.late_pending() > 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    assert!(kills > 0, "no load was killed");
    let out = load().output().expect("atpp runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("0 missing, 0 duplicate, 0 wrong link"),
        "{stdout}"
    );
    assert_exactly_once(&world, &plan, &before, &staging);

    // `atpp verify` alone agrees; a planted twin of a created client makes it fail, named.
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_atpp"))
            .args(["verify", "--pipeline"])
            .arg(&file)
            .args(["--run", &run])
            .envs(&env)
            .env_remove("ATPP_LOG")
            .output()
            .expect("atpp verify runs")
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = plan.entities[&Entity::Companies].create[0].0;
    let name = world
        .msp
        .autotask
        .companies
        .iter()
        .find(|c| c.id == created)
        .map(|c| c.company_name.clone())
        .unwrap();
    world.passportal.with_instance(|i| {
        let id = i.clients.iter().map(|c| c.id).max().unwrap() + 1;
        i.clients.push(atpp::sim::generator::PpClient { id, name });
    });
    let out = verify();
    assert_eq!(out.status.code(), Some(4));
    let csv = std::fs::read_to_string(staging.join("runs").join(&run).join(VERIFY_FILE))
        .expect("verify.csv");
    assert!(
        csv.lines()
            .any(|l| l.contains(&created.to_string()) && l.contains("duplicate")),
        "{csv}"
    );
    rt.block_on(world.stop());
}
