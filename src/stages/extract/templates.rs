//! What the extract saw of the document templates the load will create with: whether each
//! template has the field that holds the Autotask id (`[passportal.templates] id_field`). It is
//! recorded in the manifest so `plan`, which reads only the run folder, can refuse to plan
//! creates of documents that no later run could recognise (the load checks again before it
//! sends).

use crate::api::passportal::{PassportalClient, PassportalError};
use crate::model::entity::DocType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One template as the extract saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSeen {
    /// The `templateUid` created documents of the type get.
    pub uid: String,
    /// The label of the field that must hold the Autotask id.
    pub id_field: String,
    /// Whether the template's documents show that field; `None` when the template has no
    /// document yet to tell.
    pub has_id_field: Option<bool>,
}

/// Each document type's template, by type name (`contact`, `location`, `asset`): two requests
/// per type at most (one listing row, one detail).
pub async fn templates_seen(
    client: &PassportalClient,
) -> Result<BTreeMap<String, TemplateSeen>, PassportalError> {
    let mut seen = BTreeMap::new();
    for doc_type in DocType::ALL {
        let has_id_field = client
            .template_has_field(doc_type, client.id_field())
            .await?;
        seen.insert(
            doc_type.as_str().to_string(),
            TemplateSeen {
                uid: client.template_uid(doc_type).to_string(),
                id_field: client.id_field().to_string(),
                has_id_field,
            },
        );
    }
    Ok(seen)
}
