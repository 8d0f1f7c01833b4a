//! The query body of Autotask's `{Entity}/query` (MaxRecords, IncludeFields, filter) parsed and
//! validated against an entity the way the real service does, and the filter evaluated against
//! records. Property names, operator names, field names and string comparisons are all
//! case-insensitive, as they are on the real service.

use super::records::{DataType, EntityDef, FieldValue, SimRecord};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;
use std::cmp::Ordering;

/// The most conditions all `or` groups of one filter may hold together.
const MAX_OR_CONDITIONS: usize = 500;

pub(super) const MAX_RECORDS_ERROR: &str = "maxCountOfRecordsToReturn must be between 1 and 500";

/// A validated query body.
#[derive(Debug)]
pub(super) struct QuerySpec {
    /// 1..=500; `None` only when the caller did not require it (`query/count`).
    pub max_records: Option<usize>,
    /// Field names as the client wrote them; `None` = every field.
    pub include_fields: Option<Vec<String>>,
    pub filter: Cond,
}

/// Where a condition reads its value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FieldRef {
    /// A standard field, lower-cased.
    Std(String),
    /// A user-defined field, lower-cased.
    Udf(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    NotEq,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextOp {
    BeginsWith,
    EndsWith,
    Contains,
}

/// A compiled filter condition.
#[derive(Debug)]
pub(super) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Cmp {
        field: FieldRef,
        op: CmpOp,
        value: FieldValue,
    },
    Text {
        field: FieldRef,
        op: TextOp,
        needle: String,
    },
    Exist {
        field: FieldRef,
        present: bool,
    },
    In {
        field: FieldRef,
        values: Vec<FieldValue>,
        negate: bool,
    },
}

/// The value of `key` in a JSON object, the key matched case-insensitively.
fn get<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Parse and validate a query body against `entity`. `need_max`: MaxRecords is required
/// (every query but `query/count`). Errors are the message of the 500 the service answers.
pub(super) fn parse_query(
    body: &Value,
    entity: &EntityDef,
    need_max: bool,
) -> Result<QuerySpec, String> {
    let Value::Object(obj) = body else {
        return Err("The query body must be a JSON object.".into());
    };
    let max_records = match get(obj, "maxRecords").filter(|v| !v.is_null()) {
        None if need_max => return Err(MAX_RECORDS_ERROR.into()),
        None => None,
        Some(v) => {
            let n = as_integer(v).ok_or_else(|| MAX_RECORDS_ERROR.to_string())?;
            if !(1..=500).contains(&n) {
                return Err(MAX_RECORDS_ERROR.into());
            }
            Some(n as usize)
        }
    };
    let include_fields = match get(obj, "includeFields") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                let Value::String(name) = item else {
                    return Err(format!("IncludeFields holds a non-string value: {item}"));
                };
                if entity.field(name).is_none() && !name.eq_ignore_ascii_case("userDefinedFields") {
                    return Err(unknown_field(name, entity));
                }
                names.push(name.clone());
            }
            (!names.is_empty()).then_some(names)
        }
        Some(other) => return Err(format!("IncludeFields must be an array, not {other}")),
    };
    let items = match get(obj, "filter") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err("A query requires a filter: at least one filter condition.".into()),
    };
    let mut counts = Counts::default();
    let conds = items
        .iter()
        .map(|item| compile(item, entity, &mut counts, false))
        .collect::<Result<Vec<_>, _>>()?;
    if counts.udf > 1 {
        return Err("Only one user-defined field condition is allowed per query.".into());
    }
    if counts.or_conditions > MAX_OR_CONDITIONS {
        return Err(format!(
            "The filter has {} conditions in OR groups; at most {MAX_OR_CONDITIONS} are allowed.",
            counts.or_conditions
        ));
    }
    Ok(QuerySpec {
        max_records,
        include_fields,
        filter: Cond::And(conds),
    })
}

#[derive(Default)]
struct Counts {
    udf: usize,
    or_conditions: usize,
}

fn unknown_field(name: &str, entity: &EntityDef) -> String {
    format!("Unable to find {name} in the {} Entity.", entity.name)
}

/// An integer from a JSON number (integral) or numeric string.
fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn compile(
    item: &Value,
    entity: &EntityDef,
    counts: &mut Counts,
    inside_or: bool,
) -> Result<Cond, String> {
    let Value::Object(obj) = item else {
        return Err(format!("A filter condition must be an object, not {item}"));
    };
    let op = match get(obj, "op") {
        Some(Value::String(op)) => op.to_ascii_lowercase(),
        _ => return Err(format!("A filter condition lacks its op: {item}")),
    };
    if op == "and" || op == "or" {
        let items = match get(obj, "items") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            _ => return Err(format!("The '{op}' group has no items.")),
        };
        let inner_or = inside_or || op == "or";
        let conds = items
            .iter()
            .map(|i| compile(i, entity, counts, inner_or))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(if op == "or" {
            Cond::Or(conds)
        } else {
            Cond::And(conds)
        });
    }
    if inside_or {
        counts.or_conditions += 1;
    }
    let name = match get(obj, "field") {
        Some(Value::String(f)) if !f.trim().is_empty() => f.trim(),
        _ => return Err(format!("A filter condition lacks its field: {item}")),
    };
    let udf = match get(obj, "udf") {
        None | Some(Value::Null) => false,
        Some(v) => parse_bool(v).ok_or_else(|| format!("Invalid udf flag: {v}"))?,
    };
    let (field, data_type) = if udf {
        counts.udf += 1;
        if !entity.has_udf(name) {
            return Err(format!(
                "Unable to find user-defined field {name} in the {} Entity.",
                entity.name
            ));
        }
        (FieldRef::Udf(name.to_lowercase()), DataType::String)
    } else {
        let def = entity
            .field(name)
            .ok_or_else(|| unknown_field(name, entity))?;
        (FieldRef::Std(name.to_ascii_lowercase()), def.data_type)
    };
    let value = get(obj, "value").unwrap_or(&Value::Null);
    let cmp = |op| -> Result<Cond, String> {
        let value = typed_value(value, data_type, name)?;
        if value == FieldValue::Null && !matches!(op, CmpOp::Eq | CmpOp::NotEq) {
            return Err(format!("The condition on {name} requires a value."));
        }
        Ok(Cond::Cmp {
            field: field.clone(),
            op,
            value,
        })
    };
    let text = |op| -> Result<Cond, String> {
        let needle = match value {
            Value::String(s) => s.to_lowercase(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("The condition on {name} requires a text value.")),
        };
        Ok(Cond::Text {
            field: field.clone(),
            op,
            needle,
        })
    };
    let list = |negate| -> Result<Cond, String> {
        let Value::Array(items) = value else {
            return Err(format!(
                "The in/notIn condition on {name} requires an array value."
            ));
        };
        let values = items
            .iter()
            .map(|v| typed_value(v, data_type, name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cond::In {
            field: field.clone(),
            values,
            negate,
        })
    };
    match op.as_str() {
        "eq" => cmp(CmpOp::Eq),
        "noteq" => cmp(CmpOp::NotEq),
        "gt" => cmp(CmpOp::Gt),
        "gte" => cmp(CmpOp::Gte),
        "lt" => cmp(CmpOp::Lt),
        "lte" => cmp(CmpOp::Lte),
        "beginswith" => text(TextOp::BeginsWith),
        "endswith" => text(TextOp::EndsWith),
        "contains" => text(TextOp::Contains),
        "exist" => Ok(Cond::Exist {
            field,
            present: true,
        }),
        "notexist" => Ok(Cond::Exist {
            field,
            present: false,
        }),
        "in" => list(false),
        "notin" => list(true),
        _ => Err(format!("Invalid filter operator: {op}")),
    }
}

fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A timestamp as a filter value: `yyyy-mm-ddThh:mm:ss[.fff][Z|±hh:mm]` or `yyyy-mm-dd`;
/// naive values are UTC.
pub(super) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// A filter value converted to the field's type, or the service's complaint.
fn typed_value(v: &Value, data_type: DataType, field: &str) -> Result<FieldValue, String> {
    let invalid = || format!("Value {v} is not valid for field {field}.");
    if v.is_null() {
        return Ok(FieldValue::Null);
    }
    match data_type {
        DataType::Integer => as_integer(v).map(FieldValue::Int).ok_or_else(invalid),
        DataType::Boolean => parse_bool(v).map(FieldValue::Bool).ok_or_else(invalid),
        DataType::String => match v {
            Value::String(s) => Ok(FieldValue::Text(s.clone())),
            Value::Number(n) => Ok(FieldValue::Text(n.to_string())),
            Value::Bool(b) => Ok(FieldValue::Text(b.to_string())),
            _ => Err(invalid()),
        },
        DataType::DateTime => match v {
            Value::String(s) => parse_datetime(s).map(FieldValue::Date).ok_or_else(invalid),
            _ => Err(invalid()),
        },
    }
}

fn resolve(field: &FieldRef, record: &dyn SimRecord) -> FieldValue {
    match field {
        FieldRef::Std(name) => record.field(name),
        FieldRef::Udf(name) => record.udf(name).map_or(FieldValue::Null, FieldValue::Text),
    }
}

/// Equality as `eq` sees it: a null value asks for a null field.
fn equal(actual: &FieldValue, wanted: &FieldValue) -> bool {
    match wanted {
        FieldValue::Null => *actual == FieldValue::Null,
        _ => actual.compare(wanted) == Some(Ordering::Equal),
    }
}

impl Cond {
    /// The range of ids (inclusive) that the `id` conditions AND-ed at the top of this filter
    /// allow: the simulator's fast path starts and stops its scan there. Conditions inside `or`
    /// groups are ignored (they never narrow the range safely).
    pub(super) fn id_bounds(&self) -> (i64, i64) {
        let (mut low, mut high) = (i64::MIN, i64::MAX);
        let mut visit = vec![self];
        while let Some(cond) = visit.pop() {
            match cond {
                Cond::And(items) => visit.extend(items.iter()),
                Cond::Cmp {
                    field: FieldRef::Std(name),
                    op,
                    value: FieldValue::Int(v),
                } if name == "id" => match op {
                    CmpOp::Gt => low = low.max(v.saturating_add(1)),
                    CmpOp::Gte => low = low.max(*v),
                    CmpOp::Eq => {
                        low = low.max(*v);
                        high = high.min(*v);
                    }
                    CmpOp::Lt => high = high.min(v.saturating_sub(1)),
                    CmpOp::Lte => high = high.min(*v),
                    CmpOp::NotEq => {}
                },
                _ => {}
            }
        }
        (low, high)
    }

    /// Whether `record` satisfies the condition. A null field fails every comparison except
    /// `noteq` (which is exactly `not eq`), `notExist` and `notIn`.
    pub(super) fn matches(&self, record: &dyn SimRecord) -> bool {
        match self {
            Cond::And(items) => items.iter().all(|c| c.matches(record)),
            Cond::Or(items) => items.iter().any(|c| c.matches(record)),
            Cond::Cmp { field, op, value } => {
                let actual = resolve(field, record);
                match op {
                    CmpOp::Eq => equal(&actual, value),
                    CmpOp::NotEq => !equal(&actual, value),
                    CmpOp::Gt => actual.compare(value) == Some(Ordering::Greater),
                    CmpOp::Gte => matches!(
                        actual.compare(value),
                        Some(Ordering::Greater | Ordering::Equal)
                    ),
                    CmpOp::Lt => actual.compare(value) == Some(Ordering::Less),
                    CmpOp::Lte => {
                        matches!(
                            actual.compare(value),
                            Some(Ordering::Less | Ordering::Equal)
                        )
                    }
                }
            }
            Cond::Text { field, op, needle } => {
                let Some(text) = resolve(field, record).lower_text() else {
                    return false;
                };
                match op {
                    TextOp::BeginsWith => text.starts_with(needle.as_str()),
                    TextOp::EndsWith => text.ends_with(needle.as_str()),
                    TextOp::Contains => text.contains(needle.as_str()),
                }
            }
            Cond::Exist { field, present } => {
                (resolve(field, record) != FieldValue::Null) == *present
            }
            Cond::In {
                field,
                values,
                negate,
            } => {
                let actual = resolve(field, record);
                values.iter().any(|v| equal(&actual, v)) != *negate
            }
        }
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
