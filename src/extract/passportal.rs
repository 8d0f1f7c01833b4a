//! Passportal → `extract/passportal/*.parquet`: every client, names decoded.

use super::parquet::{frame, int_col, read_frame, text_col, write_frame, Columns, ParquetError};
use crate::passportal::models::Client;
use std::path::Path;

/// Where clients are staged, relative to the run folder.
pub const CLIENTS: &str = "extract/passportal/clients.parquet";

/// Stage clients; returns rows written.
pub fn stage_clients(run_dir: &Path, clients: &[Client]) -> Result<u64, ParquetError> {
    let df = frame(vec![
        int_col("id", clients.iter().map(|c| Some(c.id))),
        text_col("name", clients.iter().map(|c| Some(c.name.as_str()))),
    ]);
    write_frame(&run_dir.join(CLIENTS), &df)
}

/// Read staged clients back.
pub fn read_clients(path: &Path) -> Result<Vec<Client>, ParquetError> {
    let df = read_frame(path)?;
    let c = Columns { path, df: &df };
    let ids = c.int("id")?;
    let names = c.text("name")?;
    Ok(ids
        .into_iter()
        .zip(names)
        .map(|(id, name)| Client {
            id: id.unwrap_or_default(),
            name: name.unwrap_or_default(),
        })
        .collect())
}
