//! Secrets stay secret: a pipeline run with recognisable credential values, through the real
//! binary with debug logging, leaves none of them in any staged file, manifest, log, the ledger,
//! or what it prints — and a rejected credential is named, never shown.

use atpp::commands::demo::{
    World, SIM_AUTOTASK_CODE, SIM_AUTOTASK_SECRET, SIM_PASSPORTAL_KEY, SIM_PASSPORTAL_SECRET,
};
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::PassportalSimOptions;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pipeline_file(world: &World, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/nightly.toml"),
    )
    .unwrap()
    .replace(
        "https://webservices.autotask.net/atservicesrest/",
        &atpp::sim::autotask::discovery_url(&world.autotask_server),
    )
    .replace(
        "https://us-clover.passportalmsp.com",
        &world.passportal_server.base_url(),
    )
    .replace(
        "staging_dir = \"staging\"",
        &format!(
            "staging_dir = {:?}",
            dir.join("staging").display().to_string()
        ),
    )
    .replace("requests_per_sec = 5", "requests_per_sec = 2000");
    let path = dir.join("nightly.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn atpp(pipeline: &Path, env: &[(String, String)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atpp"));
    cmd.arg("-vv").args(args).arg("--pipeline").arg(pipeline);
    cmd.env_remove("ATPP_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("atpp runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_staging_logs_or_output() {
    let spec = MspSpec {
        companies: 40,
        ..MspSpec::demo(5)
    };
    let world = World::start(
        &spec,
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline_file(&world, dir.path());
    let parsed = atpp::model::pipeline::Pipeline::load(&pipeline).unwrap();
    let env: Vec<(String, String)> = atpp::commands::demo::sim_credential_values(&parsed)
        .into_iter()
        .collect();
    let secrets = [
        SIM_AUTOTASK_CODE,
        SIM_AUTOTASK_SECRET,
        SIM_PASSPORTAL_KEY,
        SIM_PASSPORTAL_SECRET,
    ];

    let out = atpp(&pipeline, &env, &["run", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("DEBUG") || stderr.contains("INFO"),
        "debug logging ran"
    );
    let staged = crate::harness::files_under(&dir.path().join("staging"));
    assert!(staged.iter().any(|p| p.ends_with("manifest.json")));
    for secret in secrets {
        assert!(!stdout.contains(secret), "{secret} in stdout");
        assert!(!stderr.contains(secret), "{secret} in stderr");
        for file in &staged {
            let bytes = std::fs::read(file).unwrap();
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret} found in {}", file.display());
        }
    }

    // A wrong secret fails naming the variable, never showing the value.
    let wrong = "Recognisable-Wrong-Secret-4711";
    let mut bad = env.clone();
    for (k, v) in bad.iter_mut() {
        if k == "PASSPORTAL_SECRET" {
            *v = wrong.into();
        }
    }
    let out = atpp(&pipeline, &bad, &["run"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("PASSPORTAL_SECRET"), "{stderr}");
    assert!(!stderr.contains(wrong), "{stderr}");
    world.stop().await;
}
