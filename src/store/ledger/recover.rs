//! A corrupted ledger costs time, never a duplicate: the ledger is only a cache of what
//! Passportal holds (the load looks every create up there before sending it), so a file DuckDB
//! cannot read is set aside — renamed beside itself, kept for inspection — and a new one is
//! started, with a line saying so.

use super::{Ledger, LedgerError};
use chrono::Utc;
use std::path::{Path, PathBuf};

impl Ledger {
    /// Open the ledger; one whose file is corrupted (not a DuckDB database, or one DuckDB
    /// cannot read) is set aside — renamed beside itself with the time, never deleted — and a
    /// new, empty one is opened in its place. The ledger is only a cache of what Passportal
    /// holds: the load looks every create up in Passportal before sending it, so an empty
    /// ledger is rebuilt as the load goes, without a duplicate. Returns where the corrupted
    /// file went, if it was set aside. A ledger in use by another process is not corruption:
    /// that stays an error.
    pub fn open_or_set_aside(path: &Path) -> Result<(Ledger, Option<PathBuf>), LedgerError> {
        let corrupt = match Ledger::open(path) {
            Ok(ledger) if !looks_corrupt(path) => return Ok((ledger, None)),
            Ok(ledger) => {
                drop(ledger);
                "its header is not a DuckDB database's".to_string()
            }
            Err(e) if !looks_corrupt(path) && !unreadable(&e) => return Err(e),
            Err(e) => error_chain(&e),
        };
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
        std::fs::rename(path, &aside).map_err(|source| LedgerError::SetAside {
            path: path.to_path_buf(),
            source,
        })?;
        let wal = PathBuf::from(format!("{}.wal", path.display()));
        if wal.exists() {
            let _ = std::fs::rename(&wal, format!("{}.wal", aside.display()));
        }
        tracing::warn!(
            "the ledger {} is corrupted ({corrupt}): set aside as {}; a new ledger is rebuilt \
             from Passportal (every create is looked up there before it is sent)",
            path.display(),
            aside.display()
        );
        Ok((Ledger::open(path)?, Some(aside)))
    }
}

/// A non-empty ledger file whose header lacks DuckDB's magic (`DUCK` at byte 8).
fn looks_corrupt(path: &Path) -> bool {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 12];
    match f.read(&mut head) {
        Ok(0) => false,
        Ok(n) => n < 12 || &head[8..12] != b"DUCK",
        Err(_) => false,
    }
}

/// An open error that says the file itself cannot be read as a database (not that it is
/// locked by another process).
fn unreadable(e: &LedgerError) -> bool {
    let text = error_chain(e).to_lowercase();
    !text.contains("lock")
        && ["corrupt", "not a valid", "checksum", "invalid", "serializ"]
            .iter()
            .any(|w| text.contains(w))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::entity::Entity;
    use crate::model::ids::{AutotaskId, PassportalId};
    use crate::store::ledger::Ledger;

    #[test]
    fn a_corrupted_ledger_is_set_aside_and_a_sound_one_is_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.duckdb");
        {
            let ledger = Ledger::open(&path).expect("new ledger");
            ledger
                .link(
                    Entity::Companies,
                    AutotaskId(7),
                    PassportalId(70),
                    "exact",
                    "r1",
                )
                .expect("link");
        }
        // A sound ledger opens as it is, its links kept.
        let (ledger, aside) = Ledger::open_or_set_aside(&path).expect("opens");
        assert_eq!(aside, None);
        assert_eq!(ledger.links(Entity::Companies).expect("links").len(), 1);
        drop(ledger);

        // Garbage over the header: set aside (kept), and a new empty ledger in its place.
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[..64].copy_from_slice(&[0x5a; 64]);
        std::fs::write(&path, &bytes).expect("corrupt");
        let (ledger, aside) = Ledger::open_or_set_aside(&path).expect("opens anew");
        let aside = aside.expect("set aside");
        assert!(aside.is_file(), "the corrupted file is kept");
        assert_eq!(std::fs::read(&aside).expect("kept bytes"), bytes);
        assert!(ledger.links(Entity::Companies).expect("links").is_empty());
    }
}
