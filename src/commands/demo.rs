//! `atpp demo` and `atpp sim`: both simulators in-process on loopback, filled from the seeded
//! MSP generator, and (for the demo) the whole pipeline run against them with the embedded demo
//! pipeline. Also the helpers tests use to stand the same world up.

use crate::commands::app::App;
use crate::model::credentials::{AutotaskCredentials, PassportalCredentials, Secret};
use crate::model::pipeline::Pipeline;
use crate::sim::autotask::{AutotaskSim, AutotaskSimOptions};
use crate::sim::generator::{generate, Msp, MspSpec};
use crate::sim::passportal::{PassportalSim, PassportalSimOptions};
use crate::sim::RunningSim;
use crate::stages::load::LoadSummary;
use crate::stages::plan::Plan;
use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The demo pipeline, embedded so `atpp demo` works from any folder.
pub const DEMO_PIPELINE: &str = include_str!("../../pipelines/demo.toml");

/// The simulators' credentials (they are simulator values, not secrets of anyone's).
pub const SIM_AUTOTASK_USER: &str = "api-demo@msp.example";
pub const SIM_AUTOTASK_CODE: &str = "SIMINTEGRATIONCODE0001";
pub const SIM_AUTOTASK_SECRET: &str = "sim-autotask-secret";
pub const SIM_PASSPORTAL_KEY: &str = "sim-key-0001";
pub const SIM_PASSPORTAL_SECRET: &str = "sim-passportal-secret";

pub fn sim_autotask_credentials() -> AutotaskCredentials {
    AutotaskCredentials {
        username: SIM_AUTOTASK_USER.into(),
        integration_code: Secret::new(SIM_AUTOTASK_CODE),
        secret: Secret::new(SIM_AUTOTASK_SECRET),
    }
}

pub fn sim_passportal_credentials() -> PassportalCredentials {
    PassportalCredentials {
        key_id: Secret::new(SIM_PASSPORTAL_KEY),
        secret: Secret::new(SIM_PASSPORTAL_SECRET),
    }
}

/// The simulators' credentials under the demo pipeline's environment variable names.
pub fn sim_credential_values(pipeline: &Pipeline) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            pipeline.autotask.username_env.clone(),
            SIM_AUTOTASK_USER.to_string(),
        ),
        (
            pipeline.autotask.integration_code_env.clone(),
            SIM_AUTOTASK_CODE.to_string(),
        ),
        (
            pipeline.autotask.secret_env.clone(),
            SIM_AUTOTASK_SECRET.to_string(),
        ),
        (
            pipeline.passportal.key_id_env.clone(),
            SIM_PASSPORTAL_KEY.to_string(),
        ),
        (
            pipeline.passportal.secret_env.clone(),
            SIM_PASSPORTAL_SECRET.to_string(),
        ),
    ])
}

/// Both simulators, running.
pub struct World {
    pub msp: Msp,
    pub autotask: Arc<AutotaskSim>,
    pub passportal: Arc<PassportalSim>,
    pub autotask_server: RunningSim,
    pub passportal_server: RunningSim,
}

impl World {
    /// Generate an MSP and serve it on `127.0.0.1` (ports 0 pick free ones).
    pub async fn start(
        spec: &MspSpec,
        autotask_port: u16,
        passportal_port: u16,
        autotask_options: AutotaskSimOptions,
        passportal_options: PassportalSimOptions,
    ) -> anyhow::Result<World> {
        let msp = generate(spec);
        let autotask = AutotaskSim::new(
            msp.autotask.clone(),
            sim_autotask_credentials(),
            autotask_options,
        );
        let passportal = PassportalSim::new(
            msp.passportal.clone(),
            sim_passportal_credentials(),
            passportal_options,
        );
        let at_addr = SocketAddr::from(([127, 0, 0, 1], autotask_port));
        let pp_addr = SocketAddr::from(([127, 0, 0, 1], passportal_port));
        let autotask_server = crate::sim::autotask::serve(autotask.clone(), at_addr)
            .await
            .with_context(|| format!("starting the Autotask simulator on {at_addr}"))?;
        let passportal_server = crate::sim::passportal::serve(passportal.clone(), pp_addr)
            .await
            .with_context(|| format!("starting the Passportal simulator on {pp_addr}"))?;
        Ok(World {
            msp,
            autotask,
            passportal,
            autotask_server,
            passportal_server,
        })
    }

    /// A pipeline pointed at these simulators, staging in `staging`.
    pub fn pipeline(&self, text: &str, staging: &Path) -> anyhow::Result<Pipeline> {
        let mut p = Pipeline::parse(text, Path::new("pipelines/demo.toml"))?;
        p.autotask.discovery_url = crate::sim::autotask::discovery_url(&self.autotask_server);
        p.passportal.base_url = self.passportal_server.base_url();
        p.staging_dir = staging.to_path_buf();
        Ok(p)
    }

    /// An app for `pipeline` with the simulators' credentials.
    pub fn app(&self, pipeline: Pipeline) -> anyhow::Result<App> {
        let creds = sim_credential_values(&pipeline);
        App::new(pipeline, None, Box::new(creds))
    }

    pub async fn stop(self) {
        self.autotask_server.stop().await;
        self.passportal_server.stop().await;
    }
}

/// What the demo did.
pub struct DemoReport {
    pub run_dir: PathBuf,
    pub plan: Plan,
    pub load: LoadSummary,
    pub msp: Msp,
    /// Each stage and the time since the start when it finished.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Run the whole pipeline on a generated MSP into a fresh `staging` folder.
pub async fn run_demo(spec: &MspSpec, staging: &Path) -> anyhow::Result<DemoReport> {
    if staging.join("state.duckdb").exists() || staging.join("runs").exists() {
        // The demo's ledger describes the simulators of the previous demo: start over.
        std::fs::remove_dir_all(staging)
            .with_context(|| format!("clearing the demo staging folder {}", staging.display()))?;
    }
    let world = World::start(
        spec,
        0,
        0,
        AutotaskSimOptions::default(),
        PassportalSimOptions::default(),
    )
    .await?;
    let app = world.app(world.pipeline(DEMO_PIPELINE, staging)?)?;
    let mut timings = Vec::new();
    let clock = std::time::Instant::now();
    let (run, _) = app.extract().await?;
    timings.push(("extract", clock.elapsed()));
    app.match_run(Some(&run.id))?;
    timings.push(("match", clock.elapsed()));
    let (_, plan) = match app.pipeline.run.approval {
        crate::model::pipeline::Approval::Auto => app.plan_with(
            Some(&run.id),
            crate::stages::plan::Policy::Auto(&app.pipeline.sync),
        )?,
        crate::model::pipeline::Approval::Manual => app.plan(Some(&run.id))?,
    };
    timings.push(("plan", clock.elapsed()));
    let (_, load) = app.load(Some(&run.id)).await?;
    timings.push(("load", clock.elapsed()));
    let msp = world.msp.clone();
    world.stop().await;
    Ok(DemoReport {
        run_dir: run.dir,
        plan,
        load,
        msp,
        timings,
    })
}
