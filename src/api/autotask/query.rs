//! Typed query bodies for `POST {Entity}/query`: the filter grammar of the contract.

use serde::Serialize;
use serde_json::Value;

/// One filter condition or an `and`/`or` group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Filter {
    pub op: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub udf: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Filter>,
}

impl Filter {
    /// `field op value`, e.g. `Filter::cond("id", "gt", 41)`.
    pub fn cond(field: &str, op: &str, value: impl Into<Value>) -> Filter {
        Filter {
            op: op.into(),
            field: Some(field.into()),
            value: Some(value.into()),
            udf: false,
            items: Vec::new(),
        }
    }

    pub fn and(items: Vec<Filter>) -> Filter {
        Filter {
            op: "and".into(),
            field: None,
            value: None,
            udf: false,
            items,
        }
    }

    pub fn or(items: Vec<Filter>) -> Filter {
        Filter {
            op: "or".into(),
            ..Filter::and(items)
        }
    }

    /// The all-rows idiom (`id gte 0`): Autotask wants a filter on every query.
    pub fn all() -> Filter {
        Filter::cond("id", "gte", 0)
    }
}

/// The body of a query.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Query {
    #[serde(rename = "MaxRecords")]
    pub max_records: u32,
    #[serde(rename = "IncludeFields", skip_serializing_if = "Vec::is_empty")]
    pub include_fields: Vec<String>,
    pub filter: Vec<Filter>,
}
