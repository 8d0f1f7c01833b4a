//! The stages wired to a pipeline: one object that knows the pipeline, the staging folder and
//! where credentials come from, and runs each stage with errors that say what to do next.
//! The command line, the demo and the tests all drive the pipeline through this.

use crate::api::autotask::AutotaskClient;
use crate::api::passportal::PassportalClient;
use crate::model::entity::Entity;
use crate::model::pipeline::{CredentialSource, Pipeline};
use crate::stages::extract::ExtractSummary;
use crate::stages::load::LoadSummary;
use crate::stages::matching::MatchSummary;
use crate::stages::plan::Plan;
use crate::store::ledger::Ledger;
use crate::store::staging::{Run, Staging};
use anyhow::Context;
use std::path::Path;

/// How `atpp extract` runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Continue the latest run's unfinished extract instead of starting a new run.
    pub resume: bool,
    /// Read every entity in full, whatever the watermarks say.
    pub full_refresh: bool,
}

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
        Ok(Ledger::open_or_set_aside(&self.staging.ledger_path())?.0)
    }

    pub async fn autotask(&self) -> anyhow::Result<AutotaskClient> {
        let creds = self.pipeline.autotask_credentials(&*self.credentials)?;
        AutotaskClient::connect(&(&self.pipeline.autotask).into(), creds)
            .await
            .context("connecting to Autotask")
    }

    pub async fn passportal(&self) -> anyhow::Result<PassportalClient> {
        let creds = self.pipeline.passportal_credentials(&*self.credentials)?;
        PassportalClient::connect(&(&self.pipeline.passportal).into(), creds)
            .await
            .context("connecting to Passportal")
    }

    /// The run with this id, or the latest; the command's JSON log goes to its `log.jsonl`
    /// from here on.
    pub fn run_folder(&self, id: Option<&str>) -> anyhow::Result<Run> {
        let run = self.staging.run(id)?;
        crate::commands::logging::log_to_run(&run.dir);
        Ok(run)
    }

    /// Take the staging folder's lock for `command` (e.g. "load"), held until the returned
    /// lock is dropped; fails at once, naming the holder, while another atpp writes here.
    pub fn lock(&self, command: &str) -> anyhow::Result<crate::store::lock::StagingLock> {
        let what = format!("atpp {command} (pipeline {})", self.pipeline.name);
        Ok(crate::store::lock::StagingLock::acquire(
            self.staging.root(),
            &what,
        )?)
    }

    /// Extract both sides into a new run.
    pub async fn extract(&self) -> anyhow::Result<(Run, ExtractSummary)> {
        self.extract_with(ExtractOptions::default()).await
    }

    /// Extract both sides: into a new run, or (`resume`) on into the latest run whose extract was
    /// killed or failed part-way, from the last batch it committed. `full_refresh` ignores the
    /// watermarks of incremental runs. Watermarks advance only once the stage succeeded.
    pub async fn extract_with(
        &self,
        options: ExtractOptions,
    ) -> anyhow::Result<(Run, ExtractSummary)> {
        let autotask = self.autotask().await?;
        let passportal = self.passportal().await?;
        let run = if options.resume {
            let run = self.run_folder(None).context(
                "nothing to resume: no run folder yet (run `atpp extract` without --resume)",
            )?;
            if run.stage("extract").is_ok() {
                anyhow::bail!(
                    "nothing to resume: the extract of the latest run {} finished \
                     (run `atpp extract` without --resume for a new run)",
                    run.id
                );
            }
            run
        } else {
            let run = self.staging.new_run(&self.pipeline.name)?;
            crate::commands::logging::log_to_run(&run.dir);
            run
        };
        let mut at_options = crate::stages::extract::AutotaskOptions {
            full_refresh: options.full_refresh,
            progress_bars: true,
            ..Default::default()
        };
        {
            let ledger = self.ledger()?;
            ledger.begin_run(&run.id, &self.pipeline.name)?;
            for entity in Entity::ALL {
                if let Some(w) = ledger.watermark(*entity)? {
                    at_options.watermarks.insert(*entity, w);
                }
                let owed: std::collections::BTreeSet<i64> =
                    ledger.backlog(*entity)?.into_keys().collect();
                if !owed.is_empty() {
                    at_options.owed.insert(*entity, owed);
                }
                if self.pipeline.extract.sweep_deletions && self.sweep_due(*entity)? {
                    let ids = ledger.links(*entity)?.into_keys().map(|id| id.0).collect();
                    at_options.known.insert(*entity, ids);
                }
            }
        }
        let summary = crate::stages::extract::run(
            &run,
            &autotask,
            &passportal,
            &self.pipeline.extract,
            &at_options,
        )
        .await
        .with_context(|| format!("extract of run {}", run.id))?;
        let ledger = self.ledger()?;
        for (entity, watermark) in &summary.watermarks {
            ledger.set_watermark(*entity, *watermark, &run.id)?;
        }
        Ok((run, summary))
    }

    /// Whether deletions of `entity` are to be checked in this extract: `extract.sweep_every_days`
    /// have passed since the last extract that checked them (from the runs' manifests).
    fn sweep_due(&self, entity: Entity) -> anyhow::Result<bool> {
        let days = self.pipeline.extract.sweep_every_days;
        if days == 0 {
            return Ok(true);
        }
        for id in self.staging.run_ids()?.iter().rev() {
            let Ok(stage) = self.staging.run(Some(id)).and_then(|r| r.stage("extract")) else {
                continue;
            };
            let notes: crate::stages::extract::ExtractNotes = stage.notes_as().unwrap_or_default();
            let checked = notes
                .autotask_entities
                .values()
                .any(|e| e.endpoint == entity.autotask_endpoint() && e.deletions_checked);
            if let (true, Some(at)) = (checked, stage.finished_at) {
                return Ok(chrono::Utc::now() - at >= chrono::Duration::days(i64::from(days)));
            }
        }
        Ok(true)
    }

    /// Match a run's extract into review tables. First the decisions an analyst wrote into the
    /// previous run's tables for rows still owed are taken into the backlog, so this run
    /// applies them.
    pub fn match_run(&self, id: Option<&str>) -> anyhow::Result<(Run, MatchSummary)> {
        let run = self.run_folder(id)?;
        let ledger = self.ledger()?;
        // Run ids come in time order: the runs before this one.
        let ids = self.staging.run_ids()?;
        let before = ids.iter().position(|r| *r == run.id).unwrap_or(ids.len());
        let previous = ids[..before]
            .iter()
            .filter_map(|r| self.staging.run(Some(r)).ok())
            .rfind(|r| r.stage("match").is_ok());
        if let Some(previous) = previous {
            let taken = crate::stages::matching::backlog::harvest(&ledger, &previous)
                .with_context(|| format!("reading decisions from run {}", previous.id))?;
            for (entity, actions) in &taken.decided {
                tracing::info!(
                    "decisions from run {} taken for {entity}: {actions:?}",
                    previous.id
                );
            }
            if taken.refused > 0 {
                tracing::warn!(
                    "{} edited row(s) of run {} disagree with what that run wrote and were not                      taken (`atpp plan --run {}` names them); they keep waiting",
                    taken.refused,
                    previous.id,
                    previous.id
                );
            }
        }
        let summary = crate::stages::matching::run(&run, &ledger, &self.pipeline)
            .with_context(|| format!("match of run {}", run.id))?;
        Ok((run, summary))
    }

    /// Validate a run's review tables and freeze the plan.
    pub fn plan(&self, id: Option<&str>) -> anyhow::Result<(Run, Plan)> {
        self.plan_with(id, crate::stages::plan::Policy::Tables)
    }

    /// Make the plan under a policy: the tables as decided, or the pipeline's auto approval.
    pub fn plan_with(
        &self,
        id: Option<&str>,
        policy: crate::stages::plan::Policy,
    ) -> anyhow::Result<(Run, Plan)> {
        let run = self.run_folder(id)?;
        let ledger = self.ledger()?;
        let plan = crate::stages::plan::make(&run, &ledger, policy, &self.pipeline.matching)
            .with_context(|| format!("plan of run {}", run.id))?;
        crate::stages::load::backlog::settle(&ledger, &plan, false)
            .with_context(|| format!("backlog of run {}", run.id))?;
        Ok((run, plan))
    }

    /// Read Passportal back against a run's frozen plan (see `stages::load::verify`).
    pub async fn verify(
        &self,
        id: Option<&str>,
    ) -> anyhow::Result<(Run, crate::stages::load::VerifyReport)> {
        let run = self.run_folder(id)?;
        let client = self.passportal().await?;
        let ledger = self.ledger()?;
        let report = crate::stages::load::verify(&run, &ledger, &client)
            .await
            .with_context(|| format!("verify of run {}", run.id))?;
        Ok((run, report))
    }

    /// Apply a run's frozen plan to Passportal.
    pub async fn load(&self, id: Option<&str>) -> anyhow::Result<(Run, LoadSummary)> {
        self.load_with(id, false).await
    }

    /// Apply a run's frozen plan, or with `dry_run` list the requests it would make and make
    /// none (nothing is written to Passportal or the ledger).
    pub async fn load_with(
        &self,
        id: Option<&str>,
        dry_run: bool,
    ) -> anyhow::Result<(Run, LoadSummary)> {
        let run = self.run_folder(id)?;
        // Refuse a stale plan before touching Passportal.
        crate::stages::plan::read_frozen(&run)
            .with_context(|| format!("load of run {}", run.id))?;
        let client = self.passportal().await?;
        let ledger = self.ledger()?;
        let ctx = crate::stages::load::LoadContext {
            run: &run,
            ledger: &ledger,
            client: &client,
            concurrency: self.pipeline.load.concurrency,
            dry_run,
            update_matched: self.pipeline.load.update_matched,
        };
        let summary = crate::stages::load::run(&ctx)
            .await
            .with_context(|| format!("load of run {}", run.id))?;
        if dry_run {
            return Ok((run, summary));
        }
        let plan = crate::stages::plan::Plan::read(&run)?;
        crate::stages::load::backlog::settle(&ledger, &plan, true)
            .with_context(|| format!("backlog of run {}", run.id))?;
        let outcome = if summary.problems() > 0 {
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
