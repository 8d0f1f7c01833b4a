//! Staged Parquet files: typed columns built from records, written in batches (memory does not
//! grow with the entity's size) to a temporary name and renamed when complete, and read back
//! column by column.

use crate::store::staging::{AtomicFile, StagingError};
use chrono::{DateTime, Utc};
use polars::prelude::*;
use std::fs::File;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error("Parquet file {path}: {message}")]
    Polars { path: PathBuf, message: String },
}

fn polars_err(path: &Path) -> impl FnOnce(PolarsError) -> ParquetError + '_ {
    move |e| ParquetError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A text column.
pub fn text_col<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<&str>>>())
}

/// An integer column.
pub fn int_col(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<i64>>>())
}

/// A boolean column.
pub fn bool_col(name: &str, values: impl Iterator<Item = Option<bool>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<bool>>>())
}

/// A UTC timestamp column (milliseconds).
pub fn time_col(name: &str, values: impl Iterator<Item = Option<DateTime<Utc>>>) -> Column {
    let ms: Vec<Option<i64>> = values.map(|v| v.map(|t| t.timestamp_millis())).collect();
    // `into_datetime`, not a cast: a cast to a zoned datetime drops the zone in this polars
    // build, and the file would hold naive times (Parquet `isAdjustedToUTC = false`).
    Series::new(name.into(), ms)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}

/// Build a frame from columns of equal length.
pub fn frame(columns: Vec<Column>) -> DataFrame {
    DataFrame::new_infer_height(columns).expect("columns of equal length and unique names")
}

/// A Parquet file being written batch by batch; `finish` renames it into place.
pub struct ParquetSink {
    path: PathBuf,
    /// A name of this writer's own beside `path` (two writers of one file in one process, e.g.
    /// a failed session's write still finishing and its resumed session's, never share a
    /// temporary file); renamed to `path` when finished.
    staged: PathBuf,
    atomic: AtomicFile,
    writer: Option<polars::io::parquet::write::BatchedWriter<File>>,
    rows: u64,
}

impl ParquetSink {
    pub fn create(path: &Path) -> Result<ParquetSink, ParquetError> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let staged = path.with_file_name(format!(".{name}.{:08x}", rand::random::<u32>()));
        Ok(ParquetSink {
            path: path.to_path_buf(),
            atomic: AtomicFile::create(&staged)?,
            staged,
            writer: None,
            rows: 0,
        })
    }

    /// Append a batch (its schema must match the first batch's).
    pub fn write(&mut self, batch: &DataFrame) -> Result<(), ParquetError> {
        if self.writer.is_none() {
            let file = self
                .atomic
                .file()
                .try_clone()
                .map_err(|e| ParquetError::Polars {
                    path: self.path.clone(),
                    message: e.to_string(),
                })?;
            let writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(batch.schema())
                .map_err(polars_err(&self.path))?;
            self.writer = Some(writer);
        }
        if batch.height() > 0 {
            self.writer
                .as_mut()
                .expect("writer created above")
                .write_batch(batch)
                .map_err(polars_err(&self.path))?;
        }
        self.rows += batch.height() as u64;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Close the file and rename it into place; returns the rows written. `empty` gives the
    /// schema when no batch was written.
    pub fn finish(mut self, empty: &DataFrame) -> Result<u64, ParquetError> {
        if self.writer.is_none() {
            self.write(empty)?;
        }
        let writer = self.writer.take().expect("writer exists");
        writer.finish().map_err(polars_err(&self.path))?;
        drop(writer);
        self.atomic.commit()?;
        std::fs::rename(&self.staged, &self.path).map_err(|source| StagingError::Io {
            action: "cannot rename into",
            path: self.path.clone(),
            source,
        })?;
        Ok(self.rows)
    }
}

/// Write a whole frame to a Parquet file atomically.
pub fn write_frame(path: &Path, df: &DataFrame) -> Result<u64, ParquetError> {
    let mut sink = ParquetSink::create(path)?;
    sink.write(df)?;
    sink.finish(df)
}

/// Read a whole Parquet file.
pub fn read_frame(path: &Path) -> Result<DataFrame, ParquetError> {
    let file = File::open(path).map_err(|e| ParquetError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    ParquetReader::new(file).finish().map_err(polars_err(path))
}

/// Typed access to a staged frame's columns, naming the file in every error.
pub struct Columns<'a> {
    pub path: &'a Path,
    pub df: &'a DataFrame,
}

impl Columns<'_> {
    fn column(&self, name: &str) -> Result<&Column, ParquetError> {
        self.df.column(name).map_err(polars_err(self.path))
    }

    pub fn text(&self, name: &str) -> Result<Vec<Option<String>>, ParquetError> {
        let c = self.column(name)?;
        let s = c.str().map_err(polars_err(self.path))?;
        Ok(s.iter().map(|v| v.map(str::to_string)).collect())
    }

    pub fn int(&self, name: &str) -> Result<Vec<Option<i64>>, ParquetError> {
        let c = self.column(name)?;
        let s = c.i64().map_err(polars_err(self.path))?;
        Ok(s.iter().collect())
    }

    /// A key column (ids): a null is an error naming the file and row, never read as 0 — an id
    /// 0 is real in Autotask (the tenant's own company).
    pub fn ids(&self, name: &str) -> Result<Vec<i64>, ParquetError> {
        self.int(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| ParquetError::Polars {
                    path: self.path.to_path_buf(),
                    message: format!("row {} has no {name}", row + 1),
                })
            })
            .collect()
    }

    pub fn boolean(&self, name: &str) -> Result<Vec<Option<bool>>, ParquetError> {
        let c = self.column(name)?;
        let s = c.bool().map_err(polars_err(self.path))?;
        Ok(s.iter().collect())
    }

    /// Any column as text, the way a review table or a request body shows it: integers in
    /// decimal, booleans as `true`/`false`, timestamps in RFC 3339 (UTC), nulls as `None`.
    pub fn display(&self, name: &str) -> Result<Vec<Option<String>>, ParquetError> {
        let c = self.column(name)?;
        Ok(match c.dtype() {
            DataType::String => self.text(name)?,
            DataType::Boolean => (self.boolean(name)?.into_iter())
                .map(|v| v.map(|b| b.to_string()))
                .collect(),
            DataType::Datetime(..) => (self.time(name)?.into_iter())
                .map(|v| v.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
                .collect(),
            _ => {
                let c = c.cast(&DataType::String).map_err(polars_err(self.path))?;
                let s = c.str().map_err(polars_err(self.path))?;
                s.iter().map(|v| v.map(str::to_string)).collect()
            }
        })
    }

    pub fn time(&self, name: &str) -> Result<Vec<Option<DateTime<Utc>>>, ParquetError> {
        let c = self
            .column(name)?
            .cast(&DataType::Int64)
            .map_err(polars_err(self.path))?;
        let s = c.i64().map_err(polars_err(self.path))?;
        Ok(s.iter()
            .map(|v| v.and_then(DateTime::<Utc>::from_timestamp_millis))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn timestamps_stay_utc_through_a_file() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let col = time_col("at", [Some(t), None].into_iter());
        let utc = DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
        assert_eq!(col.dtype(), &utc);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write_frame(&path, &frame(vec![col])).unwrap();
        let df = read_frame(&path).unwrap();
        assert_eq!(df.column("at").unwrap().dtype(), &utc);
        let c = Columns {
            path: &path,
            df: &df,
        };
        assert_eq!(c.time("at").unwrap(), vec![Some(t), None]);
    }

    /// A missing id is an error naming the file and the row, never id 0 (which is real: the
    /// tenant's own company); `display` renders every kind the review tables show.
    #[test]
    fn a_missing_id_is_an_error_and_every_kind_displays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let df = frame(vec![
            int_col("id", [Some(0), None].into_iter()),
            bool_col("on", [Some(true), None].into_iter()),
            int_col("n", [Some(42), None].into_iter()),
        ]);
        write_frame(&path, &df).unwrap();
        let df = read_frame(&path).unwrap();
        let c = Columns {
            path: &path,
            df: &df,
        };
        let e = c.ids("id").unwrap_err().to_string();
        assert!(
            e.contains("t.parquet") && e.contains("row 2 has no id"),
            "{e}"
        );
        assert_eq!(c.display("on").unwrap(), vec![Some("true".into()), None]);
        assert_eq!(c.display("n").unwrap(), vec![Some("42".into()), None]);
    }
}
