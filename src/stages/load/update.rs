//! "Autotask wins": with `[load] update_matched = true`, a matched record whose fields Autotask
//! owns differ from what Autotask holds is updated, and only then: a client's name, a user's
//! names and e-mail, a document's title and every field the schema table (`model::schema`) says
//! a create fills. Names are compared as Passportal keeps them (trimmed, spaces collapsed,
//! case-folded), so an instance that re-cases what it is sent is not updated every night. An
//! update sends the same body again on a retry, so unlike a create it needs no intent in the
//! ledger; its outcome is recorded there (operation `update`) for `status` and `query`.

use super::reconcile::name_key;
use super::{LoadContext, LoadCounts, LoadError, LoadSummary, Payload, RowError, Sources};
use crate::api::passportal::{Create, NewClient, NewDocument, NewUser, WriteError};
use crate::model::entity::Entity;
use crate::model::ids::{AutotaskId, PassportalId};
use crate::stages::extract::passportal::{
    read_clients, read_document_fields, read_documents, read_users,
};
use crate::stages::plan::EntityPlan;
use crate::store::ledger::{WriteKey, WriteState};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;

/// The ledger's operation name for updates.
pub const UPDATE: &str = "update";

/// A document's field by label, as `Document::field` reads it: the first of that label,
/// labels compared case-insensitively.
fn field<'f>(fields: &'f [(String, String)], label: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(label))
        .map(|(_, v)| v.as_str())
}

/// Whether the document differs from what Autotask holds, in what Autotask owns: its title and
/// every field the schema table says a create fills.
pub fn differs(title: &str, fields: &[(String, String)], wanted: &NewDocument) -> bool {
    title.trim() != wanted.title.trim()
        || wanted
            .fields
            .iter()
            .any(|(label, value)| field(fields, label).map(str::trim) != Some(value.trim()))
}

/// Whether a client's name, as Passportal keeps it, differs from Autotask's.
pub fn client_differs(held: &str, wanted: &NewClient) -> bool {
    name_key(held) != name_key(&wanted.name)
}

/// Whether a user's names or e-mail differ from Autotask's (an e-mail Autotask lacks is left).
pub fn user_differs(
    first: Option<&str>,
    last: Option<&str>,
    email: Option<&str>,
    wanted: &NewUser,
) -> bool {
    let key = |v: Option<&str>| name_key(v.unwrap_or_default());
    key(first) != name_key(&wanted.first_name)
        || key(last) != name_key(&wanted.last_name)
        || wanted
            .email
            .as_deref()
            .is_some_and(|e| key(email) != name_key(e))
}

/// The matched pairs of one entity: new links and those already in the ledger.
fn matched(
    ctx: &LoadContext<'_>,
    entity: Entity,
    plan: &EntityPlan,
) -> Result<Vec<(i64, i64)>, LoadError> {
    let links = ctx.ledger.links(entity)?;
    Ok(plan
        .link
        .iter()
        .map(|l| (l.autotask_id, l.passportal_id))
        .chain(plan.linked.iter().filter_map(|id| {
            links
                .get(&AutotaskId(*id))
                .map(|l| (*id, l.passportal_id.0))
        }))
        .collect())
}

/// The updates one entity needs: (Autotask id, Passportal id, what Autotask holds).
fn wanted(
    ctx: &LoadContext<'_>,
    entity: Entity,
    plan: &EntityPlan,
    sources: &Sources,
) -> Result<Vec<(i64, i64, Payload)>, LoadError> {
    let pairs = matched(ctx, entity, plan)?;
    let path = ctx.run.path(entity.passportal_file());
    let mut todo = Vec::new();
    match entity {
        Entity::Companies => {
            let held: HashMap<i64, String> = read_clients(&path)?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect();
            for (at, pp) in pairs {
                let Some(name) = held.get(&pp) else { continue };
                if let Some(Payload::Client(w)) = sources.payload(entity, at, None) {
                    if client_differs(name, &w) {
                        todo.push((at, pp, Payload::Client(w)));
                    }
                }
            }
        }
        Entity::Resources => {
            let held: HashMap<i64, _> = read_users(&path)?.into_iter().map(|u| (u.id, u)).collect();
            for (at, pp) in pairs {
                let Some(u) = held.get(&pp) else { continue };
                if let Some(Payload::User(w)) = sources.payload(entity, at, None) {
                    let (first, last) = (u.first_name.as_deref(), u.last_name.as_deref());
                    if user_differs(first, last, u.email.as_deref(), &w) {
                        todo.push((at, pp, Payload::User(w)));
                    }
                }
            }
        }
        _ => {
            let docs: HashMap<i64, _> = read_documents(&path)?
                .into_iter()
                .map(|d| (d.id, d))
                .collect();
            let fields = read_document_fields(&path)?;
            for (at, pp) in pairs {
                let Some(doc) = docs.get(&pp) else { continue };
                if let Some(Payload::Document(w)) = sources.payload(entity, at, Some(doc.client_id))
                {
                    let have = fields.get(&pp).map(Vec::as_slice).unwrap_or_default();
                    if differs(&doc.title, have, &w) {
                        todo.push((at, pp, Payload::Document(w)));
                    }
                }
            }
        }
    }
    Ok(todo)
}

/// Update the matched records of one entity where they differ from Autotask.
pub async fn update_matched(
    ctx: &LoadContext<'_>,
    entity: Entity,
    plan: &EntityPlan,
    sources: &Sources,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<(), LoadError> {
    let todo = wanted(ctx, entity, plan, sources)?;
    let results: Vec<(i64, i64, String, Result<(), WriteError>)> = stream::iter(todo)
        .map(|(at, pp, wanted)| async move {
            let what: Create<'_> = wanted.as_create();
            let result = ctx.client.update(pp, what).await;
            (at, pp, wanted.title(), result)
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await;
    for (at, pp, title, result) in results {
        let key = WriteKey {
            entity,
            autotask_id: AutotaskId(at),
            operation: UPDATE,
        };
        let (state, message) = match &result {
            Ok(()) => (WriteState::Done, None),
            Err(e) => (WriteState::Failed, Some(e.to_string())),
        };
        ctx.ledger.record_write(
            key,
            state,
            Some(PassportalId(pp)),
            &ctx.run.id,
            message.as_deref(),
        )?;
        match result {
            Ok(()) => counts.updated += 1,
            Err(e) => {
                counts.failed += 1;
                summary.errors.push(RowError {
                    entity: entity.to_string(),
                    autotask_id: at,
                    name: title,
                    what: "update (a later load tries again)".into(),
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::passportal::DocType;
    use crate::model::schema::fields as f;

    fn doc(fields: &[(&str, &str)]) -> NewDocument {
        NewDocument {
            client_id: 1,
            doc_type: DocType::Contact,
            title: "Ann Lee".into(),
            fields: fields
                .iter()
                .map(|(l, v)| (l.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Every field Autotask owns is compared, including those the staged row has no column for
    /// (mobile phone, job title, address line 2 were once never corrected).
    #[test]
    fn every_owned_field_is_compared() {
        let wanted = doc(&[
            (f::MOBILE, "555"),
            (f::TITLE, "CTO"),
            (f::ADDRESS_2, "Unit 4"),
        ]);
        let same: Vec<(String, String)> = wanted.fields.clone();
        assert!(!differs("Ann Lee", &same, &wanted));
        for i in 0..same.len() {
            let mut changed = same.clone();
            changed[i].1 = "other".into();
            assert!(differs("Ann Lee", &changed, &wanted), "{}", same[i].0);
            let mut missing = same.clone();
            missing.remove(i);
            assert!(
                differs("Ann Lee", &missing, &wanted),
                "{} missing",
                same[i].0
            );
        }
        // Labels are matched case-insensitively and values trimmed, as the extract reads them.
        let recased: Vec<(String, String)> = same
            .iter()
            .map(|(l, v)| (l.to_uppercase(), format!(" {v} ")))
            .collect();
        assert!(!differs(" Ann Lee ", &recased, &wanted));
        assert!(differs("Ann Leigh", &same, &wanted));
    }
}
