//! The staging folder: one folder per run (`staging/runs/<run-id>/`) with its manifest, and
//! the ledger beside them. Every file is written under a temporary name and renamed, so a crash
//! never leaves half a file that looks whole; folders and files are readable only by their owner
//! (staging holds people's contact details). That includes files others create for us — DuckDB's
//! ledger, its WAL and temporary files — so opening staging makes the process's file-creation
//! mask owner-only too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Bumped whenever the layout of a run folder or of a staged file changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no runs in {0}: run `atpp extract` (or `atpp run`) first")]
    NoRuns(PathBuf),
    #[error("run {id} not found in {root}")]
    NoSuchRun { id: String, root: PathBuf },
    #[error("manifest {path} is not valid: {message}")]
    BadManifest { path: PathBuf, message: String },
    #[error("run {run} has no finished {stage} stage: run `atpp {stage}` first")]
    StageMissing { run: String, stage: String },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StagingError + 'a {
    move |source| StagingError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Create a folder (and its parents) readable only by the owner.
pub fn create_private_dir(path: &Path) -> Result<(), StagingError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io_err("cannot create folder", path))
}

/// From now on, every file and folder this process creates is owner-only, whoever creates it
/// (DuckDB opens its WAL and temporary files with the process's umask). Only ever tightens.
pub fn private_umask() {
    // SAFETY: umask only swaps the process's mask; the brief 0o077 in between is stricter still.
    unsafe {
        let old = libc::umask(0o077);
        libc::umask(old | 0o077);
    }
}

/// Make files that already exist owner-only (those a release before `private_umask` left
/// readable by others, such as a ledger's WAL); missing ones are skipped.
pub fn make_private(paths: &[PathBuf]) -> Result<(), StagingError> {
    use std::os::unix::fs::PermissionsExt;
    for path in paths {
        match fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_err("cannot make private", path)(e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// A file being written under a temporary name; `commit` renames it into place.
/// Dropped without `commit`, the temporary file is removed.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> Result<AtomicFile, StagingError> {
        if let Some(parent) = dest.parent() {
            create_private_dir(parent)?;
        }
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let tmp = dest.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err("cannot create", &tmp))?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            file: Some(file),
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("file open until commit")
    }

    /// Flush to disk and rename into place.
    pub fn commit(mut self) -> Result<(), StagingError> {
        let file = self.file.take().expect("file open until commit");
        file.sync_all().map_err(io_err("cannot write", &self.tmp))?;
        drop(file);
        fs::rename(&self.tmp, &self.dest).map_err(io_err("cannot rename into", &self.dest))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Write a whole file atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<(), StagingError> {
    let mut f = AtomicFile::create(dest)?;
    f.file()
        .write_all(bytes)
        .map_err(io_err("cannot write", dest))?;
    f.commit()
}

/// The sha256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String, StagingError> {
    let mut f = File::open(path).map_err(io_err("cannot read", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err("cannot read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A staged file as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileRecord {
    pub rows: u64,
    pub sha256: String,
}

/// One finished stage of a run.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct StageRecord {
    pub finished_at: Option<DateTime<Utc>>,
    /// Paths relative to the run folder.
    pub files: BTreeMap<String, FileRecord>,
    /// Stage-specific facts (requests spent, watermarks used, counts).
    #[serde(default)]
    pub notes: BTreeMap<String, serde_json::Value>,
}

impl StageRecord {
    /// The notes as the stage's typed struct (missing keys take their defaults, so a manifest
    /// written by an older atpp still reads).
    pub fn notes_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let map: serde_json::Map<String, serde_json::Value> =
            self.notes.clone().into_iter().collect();
        serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| e.into_inner())
    }
}

/// How run ids sort: by their second, then by the number of a run of the same second (so
/// `…Z-10` comes after `…Z-9`, not before `…Z-2`); ids of another shape sort as text after.
pub fn run_order(id: &str) -> (&str, u64) {
    match id.rsplit_once('-') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (base, n.parse().unwrap_or(u64::MAX))
        }
        _ => (id, 1),
    }
}

/// `manifest.json` of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub run_id: String,
    pub pipeline: String,
    pub created_at: DateTime<Utc>,
    pub stages: BTreeMap<String, StageRecord>,
}

/// The staging folder.
#[derive(Debug, Clone)]
pub struct Staging {
    root: PathBuf,
}

impl Staging {
    /// Open (and create, private) a staging folder.
    pub fn open(root: &Path) -> Result<Staging, StagingError> {
        private_umask();
        create_private_dir(&root.join("runs"))?;
        Ok(Staging {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `staging/state.duckdb`
    pub fn ledger_path(&self) -> PathBuf {
        self.root.join("state.duckdb")
    }

    /// Run ids, oldest first.
    pub fn run_ids(&self) -> Result<Vec<String>, StagingError> {
        let runs = self.root.join("runs");
        let mut ids = Vec::new();
        for entry in fs::read_dir(&runs).map_err(io_err("cannot list", &runs))? {
            let entry = entry.map_err(io_err("cannot list", &runs))?;
            if entry.path().join("manifest.json").is_file() {
                if let Some(name) = entry.file_name().to_str() {
                    ids.push(name.to_string());
                }
            }
        }
        ids.sort_by(|a, b| run_order(a).cmp(&run_order(b)));
        Ok(ids)
    }

    /// Start a new run folder with its manifest. Its id is the UTC second it started
    /// (`20261202T081500Z`), with `-2`, `-3`, ... for later runs of the same second.
    pub fn new_run(&self, pipeline: &str) -> Result<Run, StagingError> {
        let now = Utc::now();
        let base = now.format("%Y%m%dT%H%M%SZ").to_string();
        let mut id = base.clone();
        let mut n = 1;
        while self.root.join("runs").join(&id).exists() {
            n += 1;
            id = format!("{base}-{n}");
        }
        let dir = self.root.join("runs").join(&id);
        create_private_dir(&dir)?;
        let run = Run { id, dir };
        run.write_manifest(&Manifest {
            schema_version: SCHEMA_VERSION,
            run_id: run.id.clone(),
            pipeline: pipeline.to_string(),
            created_at: now,
            stages: BTreeMap::new(),
        })?;
        Ok(run)
    }

    /// The run with this id, or the latest one.
    pub fn run(&self, id: Option<&str>) -> Result<Run, StagingError> {
        let id = match id {
            Some(id) => id.to_string(),
            None => self
                .run_ids()?
                .pop()
                .ok_or_else(|| StagingError::NoRuns(self.root.clone()))?,
        };
        let dir = self.root.join("runs").join(&id);
        if !dir.join("manifest.json").is_file() {
            return Err(StagingError::NoSuchRun {
                id,
                root: self.root.clone(),
            });
        }
        Ok(Run { id, dir })
    }
}

/// One run folder.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub dir: PathBuf,
}

impl Run {
    /// A path inside the run folder.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    pub fn manifest(&self) -> Result<Manifest, StagingError> {
        let path = self.path("manifest.json");
        let text = fs::read_to_string(&path).map_err(io_err("cannot read", &path))?;
        serde_json::from_str(&text).map_err(|e| StagingError::BadManifest {
            path,
            message: e.to_string(),
        })
    }

    fn write_manifest(&self, manifest: &Manifest) -> Result<(), StagingError> {
        let text = serde_json::to_vec_pretty(manifest).expect("manifest serialises");
        write_atomic(&self.path("manifest.json"), &text)
    }

    /// Record a finished stage: its files (relative path, rows) with their checksums, and its
    /// notes (the stage's own typed struct, stored as a JSON object; `StageRecord::notes_as`
    /// reads it back).
    pub fn finish_stage(
        &self,
        stage: &str,
        files: &[(String, u64)],
        notes: impl Serialize,
    ) -> Result<(), StagingError> {
        let notes = match serde_json::to_value(notes).expect("stage notes serialise") {
            serde_json::Value::Object(map) => map.into_iter().collect(),
            other => panic!("stage notes must be a struct or map, not {other}"),
        };
        let mut record = StageRecord {
            finished_at: Some(Utc::now()),
            files: BTreeMap::new(),
            notes,
        };
        for (rel, rows) in files {
            let sha256 = sha256_file(&self.path(rel))?;
            record.files.insert(
                rel.clone(),
                FileRecord {
                    rows: *rows,
                    sha256,
                },
            );
        }
        let mut manifest = self.manifest()?;
        manifest.stages.insert(stage.to_string(), record);
        self.write_manifest(&manifest)
    }

    /// The record of a finished stage, or an error telling the user to run it.
    pub fn stage(&self, stage: &str) -> Result<StageRecord, StagingError> {
        self.manifest()?
            .stages
            .remove(stage)
            .filter(|s| s.finished_at.is_some())
            .ok_or_else(|| StagingError::StageMissing {
                run: self.id.clone(),
                stage: stage.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs started within one second sort in the order they started, past ten of them too.
    #[test]
    fn run_ids_sort_by_time_whatever_their_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::open(&dir.path().join("staging")).unwrap();
        let made: Vec<String> = (0..12).map(|_| staging.new_run("p").unwrap().id).collect();
        let listed = staging.run_ids().unwrap();
        // Made within a second or two: the same second gets -2, -3, ..., -12.
        assert_eq!(listed, made);
        assert_eq!(staging.run(None).unwrap().id, made[11]);
        let mut ids = vec![
            "20260101T000000Z-10",
            "20260101T000001Z",
            "20260101T000000Z-2",
        ];
        ids.push("20260101T000000Z");
        ids.sort_by(|a, b| run_order(a).cmp(&run_order(b)));
        assert_eq!(
            ids,
            [
                "20260101T000000Z",
                "20260101T000000Z-2",
                "20260101T000000Z-10",
                "20260101T000001Z"
            ]
        );
    }
}
