//! A plan that would create documents no later run could recognise is refused: the template
//! they are created with must hold the Autotask id (`[passportal.templates] id_field`), or every
//! retry, kill or lost ledger makes another copy. The plan reads what the extract saw of the
//! templates (`stages.extract.notes.templates`); the load checks again before it sends.

use super::{EntityPlan, PlanError};
use crate::model::entity::Entity;
use crate::stages::extract::ExtractNotes;
use crate::store::staging::StageRecord;
use std::collections::BTreeMap;

/// Refuse creates of documents whose template lacks the id field; a warning for a template the
/// extract could not see (no document of it yet, or a run extracted before templates were
/// recorded).
pub fn recognisable(
    extract: &StageRecord,
    plans: &BTreeMap<Entity, EntityPlan>,
) -> Result<Vec<String>, PlanError> {
    let notes: ExtractNotes = extract.notes_as().unwrap_or_default();
    let mut warnings = Vec::new();
    for (entity, plan) in plans {
        let Some(doc_type) = entity.doc_type() else {
            continue;
        };
        if plan.create.is_empty() {
            continue;
        }
        match notes.templates.get(doc_type.as_str()) {
            Some(seen) if seen.has_id_field == Some(false) => {
                return Err(PlanError::Unrecognisable {
                    entity: *entity,
                    creates: plan.create.len(),
                    template: seen.uid.clone(),
                    field: seen.id_field.clone(),
                });
            }
            Some(seen) if seen.has_id_field.is_none() => warnings.push(format!(
                "{entity}: template {} has no {doc_type} document yet, so whether it holds the \
                 field {:?} could not be seen; the load checks it before creating",
                seen.uid, seen.id_field
            )),
            Some(_) => {}
            None => warnings.push(format!(
                "{entity}: the extract did not record the {doc_type} template; the load checks \
                 it for the Autotask id field before creating"
            )),
        }
    }
    Ok(warnings)
}
