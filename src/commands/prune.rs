//! `atpp prune --keep N`: a nightly run leaves a run folder every night, each with a full
//! extract, so old ones are removed here, the newest N kept. Never removed: the ledger (the
//! memory across runs), the latest run (the one a resume or a review acts on), and a run whose
//! review decisions are not applied yet (planned but not loaded, or its review tables edited
//! since they were written or planned): that is an analyst's unfinished work.

use crate::stages::plan::Plan;
use crate::store::staging::{sha256_file, Run, Staging, StagingError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    Staging(#[from] StagingError),
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
            Kept::Unreadable => "its manifest cannot be read",
        }
    }
}

/// What `prune` did, oldest run first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
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

/// Remove old run folders of `staging`, keeping the newest `keep` and every run `Kept` names.
/// A folder is renamed out of the runs' namespace before it is deleted, so one interrupted
/// half-way never looks like a run.
pub fn prune(staging: &Staging, keep: usize) -> Result<PruneReport, PruneError> {
    let runs_dir = staging.root().join("runs");
    remove_leftovers(&runs_dir)?;
    let ids = staging.run_ids()?;
    let mut report = PruneReport::default();
    let newest_from = ids.len().saturating_sub(keep);
    for (i, id) in ids.iter().enumerate() {
        let kept = if i + 1 == ids.len() {
            Some(Kept::Latest)
        } else if i >= newest_from {
            Some(Kept::Newest)
        } else {
            match unapplied_decisions(&staging.run(Some(id))?) {
                Ok(k) => k,
                Err(_) => Some(Kept::Unreadable),
            }
        };
        if let Some(why) = kept {
            report.kept.push((id.clone(), why));
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
        report.removed.push(id.clone());
    }
    Ok(report)
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
    for id in &report.removed {
        out.push_str(&format!("removed {id}\n"));
    }
    for (id, why) in &report.kept {
        out.push_str(&format!("kept    {id}: {}\n", why.describe()));
    }
    out.push_str(&format!(
        "{} run(s) removed, {} kept; the ledger is never pruned\n",
        report.removed.len(),
        report.kept.len()
    ));
    out
}
