//! Autotask → `extract/autotask/*.parquet`: keyset paging through each entity, each page written
//! as it arrives, picklist labels resolved beside the raw values.

use super::parquet::{
    bool_col, frame, int_col, text_col, time_col, Columns, ParquetError, ParquetSink,
};
use crate::autotask::models::Company;
use crate::autotask::{AutotaskClient, AutotaskError};
use polars::prelude::DataFrame;
use std::collections::BTreeMap;
use std::path::Path;

/// Where companies are staged, relative to the run folder.
pub const COMPANIES: &str = "extract/autotask/companies.parquet";

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Autotask(#[from] AutotaskError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
}

fn companies_frame(rows: &[Company], type_labels: &BTreeMap<i64, String>) -> DataFrame {
    let t = |f: fn(&Company) -> &Option<String>| rows.iter().map(move |r| f(r).as_deref());
    frame(vec![
        int_col("id", rows.iter().map(|r| Some(r.id))),
        text_col("company_name", t(|r| &r.company_name)),
        text_col("company_number", t(|r| &r.company_number)),
        int_col("company_type", rows.iter().map(|r| r.company_type)),
        text_col(
            "company_type_label",
            rows.iter().map(|r| {
                r.company_type
                    .and_then(|v| type_labels.get(&v))
                    .map(String::as_str)
            }),
        ),
        bool_col("is_active", rows.iter().map(|r| r.is_active)),
        text_col("phone", t(|r| &r.phone)),
        text_col("fax", t(|r| &r.fax)),
        text_col("address1", t(|r| &r.address1)),
        text_col("address2", t(|r| &r.address2)),
        text_col("city", t(|r| &r.city)),
        text_col("state", t(|r| &r.state)),
        text_col("postal_code", t(|r| &r.postal_code)),
        int_col("country_id", rows.iter().map(|r| r.country_id)),
        text_col("web_address", t(|r| &r.web_address)),
        int_col(
            "parent_company_id",
            rows.iter().map(|r| r.parent_company_id),
        ),
        time_col("create_date", rows.iter().map(|r| r.create_date)),
        time_col(
            "last_activity_date",
            rows.iter().map(|r| r.last_activity_date),
        ),
        time_col(
            "last_tracked_modified_date_time",
            rows.iter().map(|r| r.last_tracked_modified_date_time),
        ),
        text_col(
            "user_defined_fields",
            rows.iter()
                .map(|r| {
                    (!r.user_defined_fields.is_empty())
                        .then(|| serde_json::to_string(&r.user_defined_fields).expect("serialises"))
                })
                .collect::<Vec<_>>()
                .iter()
                .map(|s| s.as_deref()),
        ),
    ])
}

/// Labels of an entity's picklist field, by value (`entityInformation/fields`).
async fn picklist(
    client: &AutotaskClient,
    entity: &str,
    field: &str,
) -> Result<BTreeMap<i64, String>, AutotaskError> {
    let fields = client.fields(entity).await?;
    Ok(fields
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case(field))
        .map(|f| {
            f.picklist_values
                .into_iter()
                .filter_map(|p| p.value.trim().parse().ok().map(|v| (v, p.label)))
                .collect()
        })
        .unwrap_or_default())
}

/// Extract every company into `run_dir/extract/autotask/companies.parquet`; returns rows.
pub async fn extract_companies(
    client: &AutotaskClient,
    run_dir: &Path,
) -> Result<u64, ExtractError> {
    let labels = picklist(client, "Companies", "companyType").await?;
    let path = run_dir.join(COMPANIES);
    let mut sink = ParquetSink::create(&path)?;
    let mut last: Option<i64> = None;
    loop {
        let page = client
            .query_after::<Company>("Companies", &[], last, &[])
            .await
            .map_err(|e| AutotaskError::PageFailed {
                entity: "Companies".into(),
                attempts: client.max_attempts(),
                last_id: last.map_or("none".into(), |id| id.to_string()),
                source: Box::new(e),
            })?;
        if let Some(max) = page.items.iter().map(|c| c.id).max() {
            last = Some(max);
        }
        sink.write(&companies_frame(&page.items, &labels))?;
        tracing::debug!("Autotask companies: {} staged so far", sink.rows());
        if !page.full {
            break;
        }
    }
    Ok(sink.finish(&companies_frame(&[], &labels))?)
}

/// A staged company, as matching and loading read it.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyRow {
    pub id: i64,
    pub name: String,
    pub company_type: Option<i64>,
    pub company_type_label: Option<String>,
    pub is_active: bool,
    pub phone: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub web_address: Option<String>,
}

/// Read staged companies back.
pub fn read_companies(path: &Path) -> Result<Vec<CompanyRow>, ParquetError> {
    let df = super::parquet::read_frame(path)?;
    let c = Columns { path, df: &df };
    let ids = c.int("id")?;
    let mut names = c.text("company_name")?.into_iter();
    let mut types = c.int("company_type")?.into_iter();
    let mut labels = c.text("company_type_label")?.into_iter();
    let mut active = c.boolean("is_active")?.into_iter();
    let mut phone = c.text("phone")?.into_iter();
    let mut a1 = c.text("address1")?.into_iter();
    let mut a2 = c.text("address2")?.into_iter();
    let mut city = c.text("city")?.into_iter();
    let mut state = c.text("state")?.into_iter();
    let mut zip = c.text("postal_code")?.into_iter();
    let mut web = c.text("web_address")?.into_iter();
    let next = |it: &mut std::vec::IntoIter<Option<String>>| it.next().flatten();
    Ok(ids
        .into_iter()
        .map(|id| CompanyRow {
            id: id.unwrap_or_default(),
            name: next(&mut names).unwrap_or_default(),
            company_type: types.next().flatten(),
            company_type_label: next(&mut labels),
            // Autotask leaves isActive out only for records that predate the flag: active.
            is_active: active.next().flatten().unwrap_or(true),
            phone: next(&mut phone),
            address1: next(&mut a1),
            address2: next(&mut a2),
            city: next(&mut city),
            state: next(&mut state),
            postal_code: next(&mut zip),
            web_address: next(&mut web),
        })
        .collect())
}
