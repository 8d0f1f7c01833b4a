//! `atpp prune --keep N [--dry-run]`: a nightly run leaves a run folder every night, each with a
//! full extract, so old ones are removed here, the newest N kept. Never removed: the ledger (the
//! memory across runs), the latest run (the one a resume or a review acts on), a run whose
//! review decisions are not applied yet (planned but not loaded, or its review tables edited
//! since they were written or planned: an analyst's unfinished work), a run whose creates the
//! ledger still owes (an outcome unknown or a failure to retry: the staged record a retry sends
//! is in that run), and a run holding rows that wait for review which no later run holds.
//! `--dry-run` says what would be removed and removes nothing.

use crate::model::entity::Entity;
use crate::stages::load::CREATE;
use crate::stages::matching::read_proposals;
use crate::stages::plan::Plan;
use crate::store::ledger::{Ledger, LedgerError, WriteState};
use crate::store::staging::{sha256_file, Run, Staging, StagingError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("cannot remove the run folder {path}")]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why a run was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// The newest run: the one stages act on by default.
    Latest,
    /// Among the newest N.
    Newest,
    /// Its plan was made but not loaded.
    PlannedNotLoaded,
    /// Its review tables changed after its plan was made.
    EditedAfterPlan,
    /// Its review tables were edited and no plan was made of them yet.
    EditedNotPlanned,
    /// The ledger still owes one of its creates: outcome unknown, or failed and to be retried.
    OwedCreates,
    /// It holds rows waiting for review that no later run holds.
    WaitingRows,
    /// Its manifest cannot be read: left for a person to look at.
    Unreadable,
}

impl Kept {
    pub fn describe(self) -> &'static str {
        match self {
            Kept::Latest => "the latest run",
            Kept::Newest => "among the newest kept",
            Kept::PlannedNotLoaded => "its plan is made but not loaded (unapplied decisions)",
            Kept::EditedAfterPlan => {
                "its review tables changed after its plan (unapplied decisions)"
            }
            Kept::EditedNotPlanned => {
                "its review tables were edited and not planned (unapplied decisions)"
            }
            Kept::OwedCreates => {
                "the ledger still owes some of its creates (outcome unknown or failed)"
            }
            Kept::WaitingRows => "it holds rows waiting for review that no later run holds",
            Kept::Unreadable => "its manifest cannot be read",
        }
    }
}

/// What `prune` did, oldest run first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
    /// Nothing was removed: `removed` is what would have been.
    pub dry_run: bool,
    pub removed: Vec<String>,
    pub kept: Vec<(String, Kept)>,
}

/// Whether a run holds review decisions not applied yet, and which kind.
pub fn unapplied_decisions(run: &Run) -> Result<Option<Kept>, StagingError> {
    let manifest = run.manifest()?;
    let done = |stage: &str| {
        manifest
            .stages
            .get(stage)
            .is_some_and(|s| s.finished_at.is_some())
    };
    let changed = |files: &BTreeMap<String, String>| -> Result<bool, StagingError> {
        for (rel, sha) in files {
            let path = run.path(rel);
            if !path.is_file() || &sha256_file(&path)? != sha {
                return Ok(true);
            }
        }
        Ok(false)
    };
    if done("plan") {
        if !done("load") {
            return Ok(Some(Kept::PlannedNotLoaded));
        }
        let plan = Plan::read(run).ok();
        return Ok(match plan {
            Some(plan) if changed(&plan.tables)? => Some(Kept::EditedAfterPlan),
            Some(_) => None,
            None => Some(Kept::Unreadable),
        });
    }
    if let Some(matched) = manifest.stages.get("match").filter(|_| done("match")) {
        let review: BTreeMap<String, String> = matched
            .files
            .iter()
            .filter(|(rel, _)| rel.starts_with("review/"))
            .map(|(rel, f)| (rel.clone(), f.sha256.clone()))
            .collect();
        if changed(&review)? {
            return Ok(Some(Kept::EditedNotPlanned));
        }
    }
    Ok(None)
}

/// Remove old run folders of `staging`, keeping the newest `keep` and every run `Kept` names;
/// `dry_run` removes nothing. A folder is renamed out of the runs' namespace before it is
/// deleted, so one interrupted half-way never looks like a run.
pub fn prune(
    staging: &Staging,
    ledger: &Ledger,
    keep: usize,
    dry_run: bool,
) -> Result<PruneReport, PruneError> {
    let runs_dir = staging.root().join("runs");
    if !dry_run {
        remove_leftovers(&runs_dir)?;
    }
    let ids = staging.run_ids()?;
    let owed = runs_owing_creates(ledger)?;
    let waiting = runs_with_waiting_rows(staging, &ids);
    let mut report = PruneReport {
        dry_run,
        ..PruneReport::default()
    };
    let newest_from = ids.len().saturating_sub(keep);
    for (i, id) in ids.iter().enumerate() {
        let kept = if i + 1 == ids.len() {
            Some(Kept::Latest)
        } else if i >= newest_from {
            Some(Kept::Newest)
        } else {
            match unapplied_decisions(&staging.run(Some(id))?) {
                Ok(None) if owed.contains(id) => Some(Kept::OwedCreates),
                Ok(None) if waiting.contains(id) => Some(Kept::WaitingRows),
                Ok(k) => k,
                Err(_) => Some(Kept::Unreadable),
            }
        };
        if let Some(why) = kept {
            report.kept.push((id.clone(), why));
            continue;
        }
        report.removed.push(id.clone());
        if dry_run {
            continue;
        }
        let dir = runs_dir.join(id);
        let doomed = runs_dir.join(format!(".{id}.pruning"));
        std::fs::rename(&dir, &doomed).map_err(|source| PruneError::Remove {
            path: dir.clone(),
            source,
        })?;
        remove(&doomed)?;
        tracing::info!("pruned run {id}");
    }
    Ok(report)
}

/// The runs that recorded a create the ledger still owes: its last state is an intent without
/// outcome or a failure.
fn runs_owing_creates(ledger: &Ledger) -> Result<BTreeSet<String>, PruneError> {
    let mut runs = BTreeSet::new();
    for entity in Entity::ALL {
        for record in ledger.write_records(*entity, CREATE)?.into_values() {
            if record.state != WriteState::Done {
                runs.insert(record.run_id);
            }
        }
    }
    Ok(runs)
}

/// The runs whose plan left rows waiting for review (`pending`) that no later run proposes
/// again: pruning one would lose those rows.
fn runs_with_waiting_rows(staging: &Staging, ids: &[String]) -> BTreeSet<String> {
    let mut later: BTreeSet<(Entity, i64)> = BTreeSet::new();
    let mut runs = BTreeSet::new();
    for id in ids.iter().rev() {
        let Ok(run) = staging.run(Some(id)) else {
            continue;
        };
        if let Ok(plan) = Plan::read(&run) {
            let waits = plan
                .entities
                .iter()
                .any(|(entity, p)| p.pending.iter().any(|id| !later.contains(&(*entity, id.0))));
            if waits {
                runs.insert(id.clone());
            }
        }
        for entity in Entity::ALL {
            if let Ok(proposals) = read_proposals(&run, *entity) {
                later.extend(proposals.into_keys().map(|id| (*entity, id)));
            }
        }
    }
    runs
}

fn remove(path: &Path) -> Result<(), PruneError> {
    std::fs::remove_dir_all(path).map_err(|source| PruneError::Remove {
        path: path.to_path_buf(),
        source,
    })
}

/// Folders an interrupted prune renamed but did not finish removing.
fn remove_leftovers(runs_dir: &Path) -> Result<(), PruneError> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".pruning") && entry.path().is_dir() {
            remove(&entry.path())?;
        }
    }
    Ok(())
}

/// The report as text: what was removed, what was kept and why.
pub fn render(report: &PruneReport) -> String {
    let mut out = String::new();
    let verb = if report.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for id in &report.removed {
        out.push_str(&format!("{verb} {id}\n"));
    }
    for (id, why) in &report.kept {
        out.push_str(&format!("kept    {id}: {}\n", why.describe()));
    }
    out.push_str(&format!(
        "{} run(s) {verb}, {} kept; the ledger is never pruned\n",
        report.removed.len(),
        report.kept.len()
    ));
    out
}
