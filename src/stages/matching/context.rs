//! The review tables' context columns — what an analyst sees beside each proposal to decide it
//! (type, city, phone, e-mail, serial number, ...) — taken from the schema table
//! (`model::schema`, the columns marked `shown`) and the run's staged Autotask file, so showing
//! one more column is one line in the schema table. The matchers add only what the staged file
//! does not hold: a child's company, its name and its client.

use crate::model::decision::ReviewRow;
use crate::model::entity::Entity;
use crate::model::schema::Schema;
use crate::stages::extract::autotask::read_columns;
use crate::store::parquet::ParquetError;
use crate::store::staging::Run;

/// The columns a child's row carries about its parent, set by the child matcher.
pub const PARENT_COLUMNS: [&str; 3] = [
    "autotask_company_id",
    "company_name",
    "passportal_client_id",
];

/// Give every row the schema table's review columns for `entity`, after its parent columns.
pub fn add_schema_context(
    run: &Run,
    entity: Entity,
    rows: &mut [ReviewRow],
) -> Result<(), ParquetError> {
    let shown: Vec<(&'static str, &'static str)> = Schema::of(entity).review_columns().collect();
    let columns: Vec<&str> = shown.iter().map(|(c, _)| *c).collect();
    let values = read_columns(&run.path(entity.autotask_file()), &columns)?;
    for row in rows {
        row.context.retain(|(k, _)| PARENT_COLUMNS.contains(k));
        let staged = values.get(&row.autotask_id);
        for (i, (_, header)) in shown.iter().enumerate() {
            let value = staged.and_then(|v| v[i].clone()).unwrap_or_default();
            row.context.push((header, value));
        }
    }
    Ok(())
}
