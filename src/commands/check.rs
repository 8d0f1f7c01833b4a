//! `atpp check`: the first thing to run with a new pipeline file or new credentials, and a
//! quick look before a night's run. It authenticates to both services and reads a little of
//! every kind of record the pipeline syncs — one Autotask query page of one record per selected
//! entity plus `ThresholdInformation`, and the first page of Passportal clients, users and
//! documents, and whether each document template has the field that holds the Autotask id —
//! and says per check whether it worked, or the error. It writes nothing: no run
//! folder, no ledger, no staging folder.

use crate::api::autotask::{AutotaskClient, Filter, Query};
use crate::api::passportal::{routes, DocType, PassportalClient, PassportalError};
use crate::model::entity::Entity;
use crate::model::pipeline::{CredentialSource, Pipeline};
use serde::Serialize;

/// A check's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Failed,
    /// Not tried, because a check it depends on failed.
    Skipped,
}

/// One check: what was tried and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
}

impl Check {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: CheckStatus::Ok,
            detail: detail.into(),
        }
    }

    fn failed(name: impl Into<String>, error: impl Into<anyhow::Error>) -> Check {
        Check {
            name: name.into(),
            status: CheckStatus::Failed,
            detail: format!("{:#}", error.into()),
        }
    }

    fn skipped(name: impl Into<String>, because: &str) -> Check {
        Check {
            name: name.into(),
            status: CheckStatus::Skipped,
            detail: format!("not tried: {because}"),
        }
    }
}

/// A check gives its answer quickly: few retries, a short timeout.
fn quick(pipeline: &Pipeline) -> Pipeline {
    let mut p = pipeline.clone();
    p.autotask.max_attempts = p.autotask.max_attempts.clamp(1, 2);
    p.autotask.timeout_secs = p.autotask.timeout_secs.clamp(1, 30);
    p.passportal.max_attempts = p.passportal.max_attempts.clamp(1, 2);
    p.passportal.timeout_secs = p.passportal.timeout_secs.clamp(1, 30);
    p
}

/// The Autotask entities the pipeline extracts (companies always).
pub fn selected_entities(pipeline: &Pipeline) -> Vec<Entity> {
    let x = &pipeline.extract;
    Entity::ALL
        .iter()
        .copied()
        .filter(|e| match e {
            Entity::Companies => true,
            Entity::Resources => x.resources,
            Entity::Locations => x.locations,
            Entity::Contacts => x.contacts,
            Entity::ConfigurationItems => x.configuration_items,
        })
        .collect()
}

async fn autotask_checks(pipeline: &Pipeline, credentials: &dyn CredentialSource) -> Vec<Check> {
    let entities = selected_entities(pipeline);
    let mut out = Vec::new();
    let skip_rest = |out: &mut Vec<Check>, because: &str| {
        out.push(Check::skipped("Autotask ThresholdInformation", because));
        for e in &entities {
            out.push(Check::skipped(
                format!("Autotask {}", e.autotask_endpoint()),
                because,
            ));
        }
    };
    let creds = match pipeline.autotask_credentials(credentials) {
        Ok(c) => c,
        Err(e) => {
            out.push(Check::failed("Autotask credentials", e));
            skip_rest(&mut out, "no Autotask credentials");
            return out;
        }
    };
    let user = creds.username.clone();
    let client = match AutotaskClient::connect(&(&pipeline.autotask).into(), creds).await {
        Ok(c) => {
            out.push(Check::ok(
                "Autotask zone discovery",
                format!("the API user {user} is served by this zone"),
            ));
            c
        }
        Err(e) => {
            out.push(Check::failed("Autotask zone discovery", e));
            skip_rest(&mut out, "Autotask zone discovery failed");
            return out;
        }
    };
    match client.threshold().await {
        Ok(t) => out.push(Check::ok(
            "Autotask ThresholdInformation",
            format!(
                "authenticated; {} of {} requests of the hourly threshold used",
                t.current_timeframe_request_count, t.external_request_threshold
            ),
        )),
        Err(e) => out.push(Check::failed("Autotask ThresholdInformation", e)),
    }
    for entity in entities {
        let endpoint = entity.autotask_endpoint();
        let query = Query {
            max_records: 1,
            include_fields: vec!["id".into()],
            filter: vec![Filter::all()],
        };
        let name = format!("Autotask {endpoint}");
        match client.query::<serde_json::Value>(endpoint, &query).await {
            Ok(page) => out.push(Check::ok(
                name,
                format!("query page read ({} record)", page.items.len()),
            )),
            Err(e) => out.push(Check::failed(name, e)),
        }
    }
    out
}

/// The first page of a list route, as a check; the answer's first record id, if any.
async fn page_check(
    client: &PassportalClient,
    name: &str,
    route: &routes::Route,
    extra: &[(&str, String)],
    out: &mut Vec<Check>,
) -> Option<i64> {
    match client.first_page(route, 1, extra).await {
        Ok(page) if page.success => {
            let items = page.results.unwrap_or_default();
            out.push(Check::ok(
                name,
                format!(
                    "first page of {} {} read ({} record)",
                    route.method,
                    route.path,
                    items.len()
                ),
            ));
            items.first().and_then(|i| i.get("id")).and_then(|id| {
                id.as_i64()
                    .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
            })
        }
        Ok(_) => {
            let e = PassportalError::Http {
                route: format!("{} {}", route.method, route.path),
                status: 200,
                message: "answered success: false".into(),
            };
            out.push(Check::failed(name, e));
            None
        }
        Err(e) => {
            out.push(Check::failed(name, e));
            None
        }
    }
}

async fn passportal_checks(pipeline: &Pipeline, credentials: &dyn CredentialSource) -> Vec<Check> {
    const PAGES: [&str; 3] = [
        "Passportal clients",
        "Passportal users",
        "Passportal documents",
    ];
    let mut out = Vec::new();
    let skip_rest = |out: &mut Vec<Check>, because: &str| {
        for name in PAGES {
            out.push(Check::skipped(name, because));
        }
    };
    let creds = match pipeline.passportal_credentials(credentials) {
        Ok(c) => c,
        Err(e) => {
            out.push(Check::failed("Passportal credentials", e));
            skip_rest(&mut out, "no Passportal access key");
            return out;
        }
    };
    let client = match PassportalClient::connect(&(&pipeline.passportal).into(), creds).await {
        Ok(c) => {
            out.push(Check::ok(
                "Passportal token exchange",
                format!("access key accepted by {}", pipeline.passportal.base_url),
            ));
            c
        }
        Err(e) => {
            out.push(Check::failed("Passportal token exchange", e));
            skip_rest(&mut out, "the token exchange failed");
            return out;
        }
    };
    let first_client = page_check(&client, PAGES[0], &routes::LIST_CLIENTS, &[], &mut out).await;
    page_check(&client, PAGES[1], &routes::LIST_USERS, &[], &mut out).await;
    // Documents are read per client and type, as the extract reads them.
    let doc_type = selected_entities(pipeline)
        .into_iter()
        .find_map(Entity::doc_type)
        .unwrap_or(crate::api::passportal::DocType::Contact);
    let mut query = vec![("type", doc_type.as_str().to_string())];
    if let Some(id) = first_client {
        query.push(("clientId", id.to_string()));
    }
    page_check(&client, PAGES[2], &routes::LIST_DOCUMENTS, &query, &mut out).await;
    for doc_type in selected_entities(pipeline)
        .into_iter()
        .filter_map(Entity::doc_type)
    {
        out.push(template_check(&client, doc_type).await);
    }
    out
}

/// Whether the template documents of `doc_type` are created with has the field that holds the
/// Autotask id: without it the load could never find a document it created again, so each
/// retry or lost ledger would make another.
async fn template_check(client: &PassportalClient, doc_type: DocType) -> Check {
    let uid = client.template_uid(doc_type);
    let name = format!("Passportal template {uid}");
    let field = client.id_field();
    match client.template_has_field(doc_type, field).await {
        Ok(Some(true)) => Check::ok(name, format!("{doc_type} documents have a field {field:?}")),
        Ok(Some(false)) => Check::failed(
            name,
            anyhow::anyhow!(
                "the template of {doc_type} documents ({uid}, [passportal.templates] \
                 {doc_type}) has no field {field:?}: documents the load creates could not be \
                 found again; add a text field labelled {field:?} to the template, or name the \
                 template's field in [passportal.templates] id_field"
            ),
        ),
        Ok(None) => Check::ok(
            name,
            format!(
                "no {doc_type} document of this template yet, so its fields cannot be seen; \
                 make sure it has a field {field:?}"
            ),
        ),
        Err(e) => Check::failed(name, e),
    }
}

/// Run every check of `pipeline` (both services at once), with credentials from `credentials`.
pub async fn run_checks(pipeline: &Pipeline, credentials: &dyn CredentialSource) -> Vec<Check> {
    let pipeline = quick(pipeline);
    let (mut at, pp) = tokio::join!(
        autotask_checks(&pipeline, credentials),
        passportal_checks(&pipeline, credentials)
    );
    at.extend(pp);
    at
}

/// The checks as text, one per line, and a last line saying whether all passed.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let status = match c.status {
            CheckStatus::Ok => "OK",
            CheckStatus::Failed => "FAILED",
            CheckStatus::Skipped => "SKIPPED",
        };
        out.push_str(&format!("{status:<8} {:<32} {}\n", c.name, c.detail));
    }
    let failed = checks
        .iter()
        .filter(|c| c.status != CheckStatus::Ok)
        .count();
    if failed == 0 {
        out.push_str(&format!("all {} checks passed\n", checks.len()));
    } else {
        out.push_str(&format!(
            "{failed} of {} checks failed or were not tried\n",
            checks.len()
        ));
    }
    out
}
