//! What makes an Autotask extract restartable: per entity, the id ranges (segments) being paged
//! and the last id committed in each, and the batches (part files) written so far. A batch is
//! renamed into place before the checkpoint that lists it is written, so after a kill the
//! checkpoint names only whole batches and their records; a resumed run pages on from each
//! segment's last committed id and, at the end, concatenates the listed batches in id order into
//! the staged file — exactly the records a clean run stages.

use super::frames::{Labels, Staged};
use super::ExtractError;
use crate::store::parquet::{read_frame, ParquetSink};
use crate::store::staging::create_private_dir;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where progress lives inside the run folder (removed when the extract stage finishes).
pub const PROGRESS_DIR: &str = "extract/autotask/.progress";
pub const PARTS_DIR: &str = "extract/autotask/.parts";

/// Which records of an entity a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Mode {
    /// Every record.
    Full,
    /// Records whose change stamp is after `since` (the watermark minus the overlap).
    Since { since: DateTime<Utc> },
}

impl Mode {
    /// Read `entity` from its watermark minus `extract.overlap_secs`. An overlap longer than the
    /// watermark's age re-reads more than the run could have missed (records the last run
    /// already staged): said, not refused, because a run re-started minutes after a failed one
    /// is exactly that case and must still go on.
    pub fn since_watermark(entity: &str, watermark: DateTime<Utc>, overlap_secs: u64) -> Mode {
        let age = (Utc::now() - watermark).num_seconds().max(0);
        if overlap_secs as i64 > age {
            tracing::warn!(
                "extract.overlap_secs ({overlap_secs} s) is longer than the age of the {entity} \
                 watermark ({age} s): this extract re-reads records an earlier run already staged"
            );
        }
        Mode::Since {
            since: watermark - chrono::Duration::seconds(overlap_secs as i64),
        }
    }
}

/// An id range being paged: records with `after < id <= upto`. `after` is the last id whose
/// record is committed (`None`: from the start); `upto == None` is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub after: Option<i64>,
    pub upto: Option<i64>,
    pub done: bool,
}

/// One committed batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// File name inside the entity's parts folder.
    pub file: String,
    pub first_id: i64,
    pub last_id: i64,
    pub rows: u64,
    /// The latest change stamp in the batch.
    pub stamp: Option<DateTime<Utc>>,
}

/// The extract of one entity as far as it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub key: String,
    #[serde(flatten)]
    pub mode: Mode,
    /// The id spacing seen on the first page (ids per record) and where the ids should end:
    /// how segments are split. `None` until the first full page.
    pub density: Option<f64>,
    pub est_max: Option<i64>,
    /// Segments that may still be split off for idle pagers.
    pub splits_left: usize,
    pub segments: Vec<Segment>,
    pub parts: Vec<Part>,
    /// Requests this entity's endpoint cost in earlier (killed) sessions of the run.
    pub requests_before: u64,
    /// Set once the staged file is written: rows and latest change stamp.
    pub finished: Option<Finished>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub rows: u64,
    pub stamp: Option<DateTime<Utc>>,
}

impl Checkpoint {
    pub fn new(key: &str, mode: Mode, splits_left: usize) -> Checkpoint {
        Checkpoint {
            key: key.to_string(),
            mode,
            density: None,
            est_max: None,
            splits_left,
            segments: vec![Segment {
                after: None,
                upto: None,
                done: false,
            }],
            parts: Vec::new(),
            requests_before: 0,
            finished: None,
        }
    }

    pub fn path(run_dir: &Path, key: &str) -> PathBuf {
        run_dir.join(PROGRESS_DIR).join(format!("{key}.json"))
    }

    pub fn parts_dir(run_dir: &Path, key: &str) -> PathBuf {
        run_dir.join(PARTS_DIR).join(key)
    }

    /// The checkpoint of `key` in this run folder, if an earlier session left one.
    pub fn load(run_dir: &Path, key: &str) -> Result<Option<Checkpoint>, ExtractError> {
        let path = Self::path(run_dir, key);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ExtractError::Checkpoint {
                    path,
                    message: e.to_string(),
                })
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ExtractError::Checkpoint {
                path,
                message: format!("{e}; delete the run folder and extract again"),
            })
    }

    /// Write the checkpoint: to a temporary name of its own (a save of a killed session still
    /// finishing never shares it), synced, then renamed into place.
    pub fn save(&self, run_dir: &Path) -> Result<(), ExtractError> {
        let text = serde_json::to_vec_pretty(self).expect("checkpoint serialises");
        let dest = Self::path(run_dir, &self.key);
        let tmp = dest.with_extension(format!("{:08x}.tmp", rand::random::<u32>()));
        let fail = |e: std::io::Error| ExtractError::Checkpoint {
            path: dest.clone(),
            message: e.to_string(),
        };
        create_private_dir(dest.parent().expect("inside the run folder"))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(fail)?;
        let written = file.write_all(&text).and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &dest)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(e));
        }
        Ok(())
    }

    /// Records committed so far.
    pub fn rows(&self) -> u64 {
        self.parts.iter().map(|p| p.rows).sum()
    }

    /// The latest change stamp committed so far.
    pub fn stamp(&self) -> Option<DateTime<Utc>> {
        self.parts.iter().filter_map(|p| p.stamp).max()
    }

    /// The highest id committed so far (for messages).
    pub fn last_id(&self) -> Option<i64> {
        self.parts.iter().map(|p| p.last_id).max()
    }
}

/// Write a batch as a part file; returns its entry.
pub fn write_part<T: Staged>(
    dir: &Path,
    rows: &[T],
    labels: &Labels,
    session: u32,
) -> Result<Option<Part>, ExtractError> {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(None);
    };
    let (first_id, last_id) = (first.id(), last.id());
    // A session tag keeps a batch of a killed session that is still being written from ever
    // sharing a name with the resumed session's batch of the same ids.
    let file = format!("{first_id:020}-{last_id:020}-{session:08x}.parquet");
    crate::store::parquet::write_frame(&dir.join(&file), &T::frame(rows, labels))?;
    Ok(Some(Part {
        file,
        first_id,
        last_id,
        rows: rows.len() as u64,
        stamp: rows.iter().filter_map(Staged::stamp).max(),
    }))
}

/// Concatenate the committed parts in id order into the staged file; returns rows written.
/// Memory holds one part at a time.
pub fn merge<T: Staged>(
    run_dir: &Path,
    checkpoint: &Checkpoint,
    dest: &Path,
    labels: &Labels,
) -> Result<u64, ExtractError> {
    let dir = Checkpoint::parts_dir(run_dir, &checkpoint.key);
    let mut parts = checkpoint.parts.clone();
    parts.sort_by_key(|p| p.first_id);
    let mut sink = ParquetSink::create(dest)?;
    for part in &parts {
        let df = read_frame(&dir.join(&part.file))?;
        sink.write(&df)?;
    }
    Ok(sink.finish(&T::frame(&[], labels))?)
}

/// Remove the progress and parts folders of a finished extract.
pub fn clean(run_dir: &Path) {
    for dir in [PROGRESS_DIR, PARTS_DIR] {
        let _ = std::fs::remove_dir_all(run_dir.join(dir));
    }
}
