//! `atpp query "<SQL>"`: DuckDB SQL over a run's staged Parquet files and the ledger, for
//! analysts who want to ask what the review tables do not show ("which contacts of excluded
//! companies have e-mail addresses?", "what did last night create?") without a second tool.
//!
//! An in-memory DuckDB gets one view per Parquet file of the run, named `<folder>_<file stem>`
//! (`autotask_companies`, `passportal_clients`, `match_companies_proposals`), and the ledger
//! attached read-only with a view per table under its plain name (`links`, `writes`,
//! `decisions`, `runs`, `watermarks`). Nothing is written: not the run, not the ledger, not
//! any other file. DuckDB's own parser says what the text is before anything runs, and only one
//! query (or EXPLAIN) is run; then the database is locked to reading the run's files and the
//! ledger, so even a statement that slipped through could not write (`COPY ... TO`, `EXPORT`,
//! `ATTACH`, `INSTALL`) or read beyond them.

use crate::store::lock::LockInfo;
use crate::store::staging::{Run, Staging};
use duckdb::types::{TimeUnit, ValueRef};
use duckdb::{ffi, Connection};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(
        "the ledger {path} is in use by a running atpp{}; query again once it has ended \
         (DuckDB: {detail})",
        holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    LedgerBusy {
        path: PathBuf,
        holder: Option<Box<LockInfo>>,
        detail: String,
    },
    /// DuckDB's own message about the SQL.
    #[error("{0}")]
    Sql(String),
    /// A statement that could write or reach beyond the run: nothing was run.
    #[error(
        "atpp query only reads: {0} statements are refused (nothing was run). Ask with one SELECT \
         (or SHOW, DESCRIBE, SUMMARIZE, EXPLAIN, FROM ..., WITH ... SELECT)"
    )]
    Refused(&'static str),
    /// DuckDB refused to touch a file outside the run while preparing the statement.
    #[error("atpp query only reads the run's Parquet files and the ledger: {0}")]
    OutsideRun(String),
    #[error("cannot set up the query views: {what}")]
    Setup {
        what: String,
        #[source]
        source: duckdb::Error,
    },
}

/// A query's answer, every cell as text (`None` is SQL NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// The views a query can use.
pub struct QueryContext {
    /// Declared before `guard`: dropped (disconnected) before the database it is on closes.
    conn: Connection,
    guard: Guard,
    /// View name → the Parquet file it reads.
    pub parquet_views: Vec<(String, PathBuf)>,
    /// Ledger tables exposed as views (empty when there is no ledger yet).
    pub ledger_views: Vec<String>,
}

/// The view name of a staged Parquet file: its folder and stem, e.g.
/// `extract/autotask/company_locations.parquet` → `autotask_company_locations`.
pub fn view_name(relative: &Path) -> String {
    let stem = relative
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = relative
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned());
    let name = match folder {
        Some(folder) => format!("{folder}_{stem}"),
        None => stem,
    };
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Every Parquet file of a run (hidden files and folders, such as unfinished batches, left
/// out), relative to the run folder, sorted.
pub fn parquet_files(run: &Run) -> Vec<PathBuf> {
    fn walk(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(&path, &rel.join(&name), out);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(rel.join(&name));
            }
        }
    }
    let mut out = Vec::new();
    walk(&run.dir, Path::new(""), &mut out);
    out.sort();
    out
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether a DuckDB error says another process holds the database file.
pub fn is_lock_conflict(e: &duckdb::Error) -> bool {
    let text = e.to_string();
    text.contains("Conflicting lock") || text.contains("Could not set lock")
}

impl QueryContext {
    /// Views over `run`'s Parquet files (none without a run) and the staging folder's ledger.
    pub fn open(staging: &Staging, run: Option<&Run>) -> Result<QueryContext, QueryError> {
        let setup = |what: String| move |source| QueryError::Setup { what, source };
        let guard = Guard::open().map_err(setup("in-memory database".into()))?;
        // SAFETY: the database is open and outlives this connection (field order above).
        let conn = unsafe { Connection::open_from_raw(guard.db) }
            .map_err(setup("in-memory database".into()))?;
        let mut parquet_views: Vec<(String, PathBuf)> = Vec::new();
        for rel in run.map(parquet_files).unwrap_or_default() {
            let name = view_name(&rel);
            if parquet_views.iter().any(|(n, _)| *n == name) {
                tracing::warn!("two files would be view {name}; {} left out", rel.display());
                continue;
            }
            let path = run.expect("files come from a run").dir.join(&rel);
            conn.execute_batch(&format!(
                "CREATE VIEW {} AS SELECT * FROM read_parquet({})",
                quote_ident(&name),
                quote_literal(&path.to_string_lossy())
            ))
            .map_err(setup(format!("view {name} over {}", path.display())))?;
            parquet_views.push((name, path));
        }
        let ledger = staging.ledger_path();
        let mut ledger_views = Vec::new();
        if ledger.is_file() {
            let attach = format!(
                "ATTACH {} AS atpp_ledger (READ_ONLY)",
                quote_literal(&ledger.to_string_lossy())
            );
            if let Err(e) = conn.execute_batch(&attach) {
                if is_lock_conflict(&e) {
                    return Err(QueryError::LedgerBusy {
                        path: ledger,
                        holder: crate::store::lock::holder(staging.root()).map(Box::new),
                        detail: e.to_string(),
                    });
                }
                return Err(setup(format!("attaching the ledger {}", ledger.display()))(
                    e,
                ));
            }
            let mut stmt = conn
                .prepare(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'atpp_ledger' \
                     ORDER BY table_name",
                )
                .map_err(setup("listing the ledger's tables".into()))?;
            let tables: Vec<String> = stmt
                .query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(setup("listing the ledger's tables".into()))?;
            for table in tables {
                if parquet_views.iter().any(|(n, _)| *n == table) {
                    continue;
                }
                conn.execute_batch(&format!(
                    "CREATE VIEW {0} AS SELECT * FROM atpp_ledger.main.{0}",
                    quote_ident(&table)
                ))
                .map_err(setup(format!("view of ledger table {table}")))?;
                ledger_views.push(table);
            }
        }
        // From here DuckDB touches no file but the run's Parquet files (reading) and the
        // ledger already attached read-only, and the query cannot change that: a statement
        // that slipped past `READS` still could not write or reach anything else.
        let mut allowed: Vec<String> = parquet_views
            .iter()
            .map(|(_, p)| quote_literal(&p.to_string_lossy()))
            .collect();
        allowed.push(quote_literal(&ledger.to_string_lossy()));
        conn.execute_batch(&format!(
            "SET allowed_paths = [{}]; SET temp_directory = ''; \
             SET enable_external_access = false; SET lock_configuration = true;",
            allowed.join(", ")
        ))
        .map_err(setup("read-only settings".into()))?;
        Ok(QueryContext {
            conn,
            guard,
            parquet_views,
            ledger_views,
        })
    }

    /// Run one SQL statement; a bad one is `QueryError::Sql` with DuckDB's message.
    pub fn query(&self, sql: &str) -> Result<QueryResult, QueryError> {
        let sql = sql.trim().trim_end_matches(';').trim_end();
        let bad = |e: duckdb::Error| QueryError::Sql(e.to_string());
        let kind = self.guard.kind(sql)?;
        if !READS.contains(&kind) {
            return Err(QueryError::Refused(statement_name(kind)));
        }
        // Prepared as written first, so a mistake is reported against the user's own text.
        let mut raw = self.conn.prepare(sql).map_err(bad)?;
        // DuckDB renders every value itself when the statement is a query.
        let wrapped = format!("SELECT COLUMNS(*)::VARCHAR FROM (\n{sql}\n) AS atpp_query");
        let wrapped_reads = self.guard.kind(&wrapped).ok() == Some(READS[0]);
        if let Some(mut stmt) = wrapped_reads
            .then(|| self.conn.prepare(&wrapped).ok())
            .flatten()
        {
            let mut rows = stmt.query([]).map_err(bad)?;
            let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(bad)? {
                let cells = (0..columns.len())
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(bad)?;
                out.push(cells);
            }
            return Ok(QueryResult { columns, rows: out });
        }
        // Not a query (SHOW, DESCRIBE, PRAGMA, ...): render the values here.
        let mut rows = raw.query([]).map_err(bad)?;
        let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(bad)? {
            let mut cells = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                cells.push(cell(row.get_ref(i).map_err(bad)?));
            }
            out.push(cells);
        }
        Ok(QueryResult { columns, rows: out })
    }
}

/// The statement kinds a query may be: a query (SELECT, FROM ..., WITH, VALUES, SHOW, DESCRIBE,
/// SUMMARIZE all parse as one) and EXPLAIN.
const READS: [ffi::duckdb_statement_type; 2] = [
    ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT,
    ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN,
];

/// How a refused statement is named to the user.
fn statement_name(kind: ffi::duckdb_statement_type) -> &'static str {
    match kind {
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY => "COPY",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY_DATABASE => "COPY FROM DATABASE",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPORT => "EXPORT",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ATTACH => "ATTACH",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DETACH => "DETACH",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_LOAD => "INSTALL/LOAD",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE
        | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE_FUNC => "CREATE",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_INSERT => "INSERT",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE => "UPDATE",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DELETE => "DELETE",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_MERGE_INTO => "MERGE",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ALTER => "ALTER",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DROP => "DROP",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SET
        | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VARIABLE_SET => "SET/USE",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CALL => "CALL",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PRAGMA => "PRAGMA",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_TRANSACTION => "BEGIN/COMMIT",
        ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_MULTI => "PIVOT (as a statement)",
        _ => "other non-query",
    }
}

/// The in-memory database a query runs in, owned at the C level so that DuckDB's own parser can
/// say what a statement is before anything runs (duckdb-rs's `prepare` runs every statement of
/// its text but the last).
struct Guard {
    db: ffi::duckdb_database,
    /// A connection of its own that only prepares (binds) statements, never runs them.
    probe: ffi::duckdb_connection,
}

impl Guard {
    fn open() -> Result<Guard, duckdb::Error> {
        let failed = |what: &str| {
            duckdb::Error::DuckDBFailure(ffi::Error::new(ffi::DuckDBError), Some(what.into()))
        };
        let mut db = std::ptr::null_mut();
        // SAFETY: a null path opens an in-memory database into `db`.
        if unsafe { ffi::duckdb_open(std::ptr::null(), &mut db) } != ffi::DuckDBSuccess {
            return Err(failed("cannot open an in-memory database"));
        }
        let mut probe = std::ptr::null_mut();
        // SAFETY: `db` is open; on failure it is closed here and not used again.
        if unsafe { ffi::duckdb_connect(db, &mut probe) } != ffi::DuckDBSuccess {
            unsafe { ffi::duckdb_close(&mut db) };
            return Err(failed("cannot connect to the in-memory database"));
        }
        Ok(Guard { db, probe })
    }

    /// What one statement is, by DuckDB's parser and binder; several statements, or one that
    /// does not parse or bind, are refused here with DuckDB's message.
    fn kind(&self, sql: &str) -> Result<ffi::duckdb_statement_type, QueryError> {
        let text = std::ffi::CString::new(sql)
            .map_err(|_| QueryError::Sql("the statement contains a NUL character".into()))?;
        let mut extracted = std::ptr::null_mut();
        // SAFETY: `probe` is connected and `text` is NUL-terminated; `extracted` is destroyed
        // below on every path.
        let count =
            unsafe { ffi::duckdb_extract_statements(self.probe, text.as_ptr(), &mut extracted) };
        let result = (|| {
            if count == 0 {
                // SAFETY: `extracted` holds the parse error (or nothing for empty text).
                let message = unsafe { c_text(ffi::duckdb_extract_statements_error(extracted)) };
                return Err(QueryError::Sql(
                    message.unwrap_or_else(|| "no SQL statement given".into()),
                ));
            }
            if count > 1 {
                return Err(QueryError::Refused("several"));
            }
            let mut stmt = std::ptr::null_mut();
            // SAFETY: index 0 exists; `stmt` is destroyed below whatever the outcome.
            let rc = unsafe {
                ffi::duckdb_prepare_extracted_statement(self.probe, extracted, 0, &mut stmt)
            };
            let outcome = if rc == ffi::DuckDBSuccess {
                Ok(unsafe { ffi::duckdb_prepared_statement_type(stmt) })
            } else {
                let message = unsafe { c_text(ffi::duckdb_prepare_error(stmt)) }
                    .unwrap_or_else(|| "cannot prepare".into());
                Err(if message.contains("disabled by configuration") {
                    QueryError::OutsideRun(message)
                } else {
                    QueryError::Sql(message)
                })
            };
            unsafe { ffi::duckdb_destroy_prepare(&mut stmt) };
            outcome
        })();
        // SAFETY: destroyed once, after its last use.
        unsafe { ffi::duckdb_destroy_extracted(&mut extracted) };
        result
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: both were opened in `open`, and the query connection is gone (field order).
        unsafe {
            ffi::duckdb_disconnect(&mut self.probe);
            ffi::duckdb_close(&mut self.db);
        }
    }
}

/// A C string DuckDB owns, copied (`None` for a null pointer).
///
/// # Safety
/// `p` is null or points at a NUL-terminated string valid for this call.
unsafe fn c_text(p: *const std::os::raw::c_char) -> Option<String> {
    (!p.is_null()).then(|| {
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned()
    })
}

fn cell(v: ValueRef<'_>) -> Option<String> {
    let timestamp = |unit: TimeUnit, n: i64| {
        let micros = unit.to_micros(n);
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| t.naive_utc().to_string())
            .unwrap_or_else(|| n.to_string())
    };
    Some(match v {
        ValueRef::Null => return None,
        ValueRef::Boolean(b) => b.to_string(),
        ValueRef::TinyInt(n) => n.to_string(),
        ValueRef::SmallInt(n) => n.to_string(),
        ValueRef::Int(n) => n.to_string(),
        ValueRef::BigInt(n) => n.to_string(),
        ValueRef::HugeInt(n) => n.to_string(),
        ValueRef::UTinyInt(n) => n.to_string(),
        ValueRef::USmallInt(n) => n.to_string(),
        ValueRef::UInt(n) => n.to_string(),
        ValueRef::UBigInt(n) => n.to_string(),
        ValueRef::Float(n) => n.to_string(),
        ValueRef::Double(n) => n.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Timestamp(unit, n) => timestamp(unit, n),
        ValueRef::Date32(days) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map(|d| d.to_string())
            .unwrap_or_else(|| days.to_string()),
        other => format!("{:?}", other.to_owned()),
    })
}

/// Whether a column holds only numbers (right-aligned in the text table).
fn numeric(result: &QueryResult, col: usize) -> bool {
    let mut any = false;
    for row in &result.rows {
        if let Some(v) = &row[col] {
            if v.parse::<f64>().is_err() {
                return false;
            }
            any = true;
        }
    }
    any
}

/// The answer as an aligned text table with a row count; NULL shows as `NULL`.
pub fn render_text(result: &QueryResult) -> String {
    let shown = |v: &Option<String>| match v {
        Some(v) => v
            .replace('\r', "\\r")
            .replace('\n', "\\n")
            .replace('\t', " "),
        None => "NULL".to_string(),
    };
    let cells: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|r| r.iter().map(shown).collect())
        .collect();
    let mut widths: Vec<usize> = result.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let right: Vec<bool> = (0..result.columns.len())
        .map(|i| numeric(result, i))
        .collect();
    let line = |row: &[String]| {
        let parts: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i].saturating_sub(c.chars().count()));
                if right[i] {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        format!("{}\n", parts.join("  ").trim_end())
    };
    let mut out = line(&result.columns);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&format!("{}\n", rule.join("  ")));
    for row in &cells {
        out.push_str(&line(row));
    }
    let n = result.rows.len();
    out.push_str(&format!("({n} row{})\n", if n == 1 { "" } else { "s" }));
    out
}

/// The answer as CSV the way the review tables are written (UTF-8 with BOM, CRLF, formula-like
/// cells escaped), so it opens cleanly in a spreadsheet; NULL is an empty cell.
pub fn render_csv(result: &QueryResult) -> Vec<u8> {
    let rows: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|row| row.iter().map(|c| c.clone().unwrap_or_default()).collect())
        .collect();
    crate::stages::review::spreadsheet_csv(&result.columns, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_named_by_folder_and_stem() {
        for (file, view) in [
            ("extract/autotask/companies.parquet", "autotask_companies"),
            ("extract/passportal/clients.parquet", "passportal_clients"),
            (
                "extract/autotask/company_locations.parquet",
                "autotask_company_locations",
            ),
            (
                "match/companies.proposals.parquet",
                "match_companies_proposals",
            ),
        ] {
            assert_eq!(view_name(Path::new(file)), view);
        }
    }

    #[test]
    fn queries_answer_as_text_and_bad_sql_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::open(dir.path()).unwrap();
        let ctx = QueryContext::open(&staging, None).unwrap();
        let r = ctx
            .query("SELECT 1 AS n, 'a' AS s, NULL AS z, DATE '2024-01-02' AS d;")
            .unwrap();
        assert_eq!(r.columns, ["n", "s", "z", "d"]);
        assert_eq!(
            r.rows,
            [vec![
                Some("1".into()),
                Some("a".into()),
                None,
                Some("2024-01-02".into())
            ]]
        );
        let text = render_text(&r);
        assert!(text.contains("NULL"), "{text}");
        assert!(text.ends_with("(1 row)\n"), "{text}");
        let shown = ctx.query("SHOW TABLES").unwrap();
        assert_eq!(shown.columns, ["name"]);
        let err = ctx.query("SELEC 1").unwrap_err().to_string();
        assert!(err.contains("syntax error"), "{err}");
        let csv = render_csv(&ctx.query("SELECT '=1+1' AS f").unwrap());
        assert_eq!(csv, b"\xEF\xBB\xBFf\r\n'=1+1\r\n");
    }

    #[test]
    fn statements_that_write_or_reach_out_are_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::open(dir.path()).unwrap();
        let ctx = QueryContext::open(&staging, None).unwrap();
        let out = dir.path().join("out");
        let target = |ext: &str| quote_literal(&out.with_extension(ext).to_string_lossy());
        for (sql, kind) in [
            (format!("COPY (SELECT 1) TO {}", target("csv")), "COPY"),
            (format!("EXPORT DATABASE {}", target("d")), "EXPORT"),
            (format!("ATTACH {} AS x", target("db")), "ATTACH"),
            ("INSTALL httpfs".into(), "INSTALL/LOAD"),
            ("LOAD httpfs".into(), "INSTALL/LOAD"),
            ("CREATE TABLE t (a INT)".into(), "CREATE"),
            ("SET enable_external_access = true".into(), "SET/USE"),
            // duckdb-rs would run every statement but the last while preparing.
            (
                format!("COPY (SELECT 1) TO {}; SELECT 1", target("csv")),
                "several",
            ),
        ] {
            // Named by kind, or (a file outside the run, seen while binding) by DuckDB.
            match ctx.query(&sql).unwrap_err() {
                QueryError::Refused(k) => assert_eq!(k, kind, "{sql}"),
                QueryError::OutsideRun(message) => assert!(message.contains("out."), "{sql}"),
                other => panic!("{sql}: {other}"),
            }
        }
        // Reading beyond the run is refused by DuckDB itself, and so is writing from a query.
        let err = ctx
            .query("SELECT * FROM read_csv('/etc/hostname')")
            .unwrap_err();
        assert!(matches!(err, QueryError::OutsideRun(_)), "{err}");
        assert!(
            err.to_string().starts_with("atpp query only reads"),
            "{err}"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "only runs/ is there: {names:?}");
        // Queries of every shape still answer.
        for sql in [
            "FROM (SELECT 1 AS a)",
            "DESCRIBE SELECT 1 AS a",
            "EXPLAIN SELECT 1",
        ] {
            ctx.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}
