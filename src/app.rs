//! The stages wired to a pipeline: one object that knows the pipeline, the staging folder and
//! where credentials come from, and runs each stage with errors that say what to do next.
//! The command line, the demo and the tests all drive the pipeline through this.

use crate::autotask::AutotaskClient;
use crate::extract::ExtractSummary;
use crate::ledger::Ledger;
use crate::load::LoadSummary;
use crate::passportal::PassportalClient;
use crate::pipeline::{CredentialSource, Pipeline};
use crate::plan::Plan;
use crate::staging::{Run, Staging};
use crate::transform::MatchSummary;
use anyhow::Context;
use std::path::Path;

pub struct App {
    pub pipeline: Pipeline,
    pub staging: Staging,
    credentials: Box<dyn CredentialSource + Send + Sync>,
}

impl App {
    /// `staging` overrides the pipeline's `staging_dir`.
    pub fn new(
        pipeline: Pipeline,
        staging: Option<&Path>,
        credentials: Box<dyn CredentialSource + Send + Sync>,
    ) -> anyhow::Result<App> {
        let root = staging.unwrap_or(&pipeline.staging_dir).to_path_buf();
        let staging = Staging::open(&root)
            .with_context(|| format!("opening the staging folder {}", root.display()))?;
        Ok(App {
            pipeline,
            staging,
            credentials,
        })
    }

    pub fn ledger(&self) -> anyhow::Result<Ledger> {
        Ok(Ledger::open(&self.staging.ledger_path())?)
    }

    pub async fn autotask(&self) -> anyhow::Result<AutotaskClient> {
        let creds = self.pipeline.autotask_credentials(&*self.credentials)?;
        AutotaskClient::connect(&self.pipeline.autotask, creds)
            .await
            .context("connecting to Autotask")
    }

    pub async fn passportal(&self) -> anyhow::Result<PassportalClient> {
        let creds = self.pipeline.passportal_credentials(&*self.credentials)?;
        PassportalClient::connect(&self.pipeline.passportal, creds)
            .await
            .context("connecting to Passportal")
    }

    pub fn run_folder(&self, id: Option<&str>) -> anyhow::Result<Run> {
        Ok(self.staging.run(id)?)
    }

    /// Extract both sides into a new run.
    pub async fn extract(&self) -> anyhow::Result<(Run, ExtractSummary)> {
        let autotask = self.autotask().await?;
        let passportal = self.passportal().await?;
        let run = self.staging.new_run(&self.pipeline.name)?;
        self.ledger()?.begin_run(&run.id, &self.pipeline.name)?;
        let summary = crate::extract::run(&run, &autotask, &passportal)
            .await
            .with_context(|| format!("extract of run {}", run.id))?;
        Ok((run, summary))
    }

    /// Match a run's extract into review tables.
    pub fn match_run(&self, id: Option<&str>) -> anyhow::Result<(Run, MatchSummary)> {
        let run = self.run_folder(id)?;
        let ledger = self.ledger()?;
        let summary = crate::transform::run(&run, &ledger, &self.pipeline)
            .with_context(|| format!("match of run {}", run.id))?;
        Ok((run, summary))
    }

    /// Validate a run's review tables and freeze the plan.
    pub fn plan(&self, id: Option<&str>) -> anyhow::Result<(Run, Plan)> {
        let run = self.run_folder(id)?;
        let ledger = self.ledger()?;
        let plan =
            crate::plan::make(&run, &ledger).with_context(|| format!("plan of run {}", run.id))?;
        Ok((run, plan))
    }

    /// Apply a run's frozen plan to Passportal.
    pub async fn load(&self, id: Option<&str>) -> anyhow::Result<(Run, LoadSummary)> {
        let run = self.run_folder(id)?;
        // Refuse a stale plan before touching Passportal.
        crate::plan::read_frozen(&run).with_context(|| format!("load of run {}", run.id))?;
        let client = self.passportal().await?;
        let ledger = self.ledger()?;
        let summary = crate::load::run(&run, &ledger, &client, self.pipeline.load.concurrency)
            .await
            .with_context(|| format!("load of run {}", run.id))?;
        let outcome = if summary.failed() > 0 {
            "partial failure"
        } else {
            "success"
        };
        ledger.finish_run(
            &run.id,
            outcome,
            &serde_json::to_string(&summary.entities).expect("serialises"),
        )?;
        Ok((run, summary))
    }
}
