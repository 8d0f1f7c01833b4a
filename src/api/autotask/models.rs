//! Autotask wire models. Deserialisation is lenient on purpose: Autotask adds fields without
//! notice (ignored), sends booleans as `true` or `1`, and dates with or without a fraction or
//! `Z`, or `""` for none.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `zoneInformation?user=` answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneInfo {
    #[serde(default)]
    pub zone_name: Option<String>,
    pub url: String,
}

/// `pageDetails` of a query answer.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PageDetails {
    /// Items in this page, as the server counted them (absent on some answers).
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub next_page_url: Option<String>,
}

/// A query answer: `{"items": [...], "pageDetails": {...}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub page_details: PageDetails,
}

/// `query/count` answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountResponse {
    pub query_count: u64,
}

/// `ThresholdInformation` answer: the tenant's hourly request budget, shared by every integration.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdInfo {
    pub external_request_threshold: u64,
    pub request_threshold_timeframe: u64,
    pub current_timeframe_request_count: u64,
}

/// `entityInformation/fields` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldsResponse {
    pub fields: Vec<FieldInfo>,
}

/// One field of an entity; picklists carry their values and the tenant's labels.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldInfo {
    pub name: String,
    #[serde(default)]
    pub data_type: Option<String>,
    #[serde(default, deserialize_with = "boolean")]
    pub is_pick_list: Option<bool>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub picklist_values: Vec<PicklistValue>,
}

/// A picklist value: the integer the records hold (as a string) and its label.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    pub value: String,
    pub label: String,
    #[serde(default, deserialize_with = "boolean")]
    pub is_active: Option<bool>,
}

pub(crate) fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

pub use super::records::{
    CompanyLocation, ConfigurationItem, ConfigurationItemType, Contact, IdOnly, Resource,
};

/// A user-defined field on a record.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct UserDefinedField {
    pub name: String,
    #[serde(default)]
    pub value: Option<Value>,
}

/// An Autotask company.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    pub id: i64,
    #[serde(default, deserialize_with = "text")]
    pub company_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub company_number: Option<String>,
    #[serde(default, deserialize_with = "int")]
    pub company_type: Option<i64>,
    #[serde(default, deserialize_with = "boolean")]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "text")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub fax: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address1: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address2: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub postal_code: Option<String>,
    #[serde(default, rename = "countryID", deserialize_with = "int")]
    pub country_id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub web_address: Option<String>,
    #[serde(default, rename = "parentCompanyID", deserialize_with = "int")]
    pub parent_company_id: Option<i64>,
    #[serde(default, deserialize_with = "datetime")]
    pub create_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime")]
    pub last_activity_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime")]
    pub last_tracked_modified_date_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub user_defined_fields: Vec<UserDefinedField>,
}

/// Parse an Autotask timestamp: `2018-11-13T17:32:34`, `2016-03-30T13:10:35.563`,
/// `2012-10-24T05:00:00.000Z`, or with an offset. Naive values are UTC. `""` is none.
pub fn parse_datetime(s: &str) -> Option<Result<DateTime<Utc>, String>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(Ok(dt.with_timezone(&Utc)));
    }
    let naive = s.trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(Ok(dt.and_utc()));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return Some(Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()));
    }
    Some(Err(format!("not a date: {s:?}")))
}

/// One JSON value as the lenient field readers see it, read without building a
/// `serde_json::Value` (a page of 500 records has some 10,000 of them): strings are borrowed
/// from the answer when they can be.
enum Scalar<'de> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(std::borrow::Cow<'de, str>),
    /// An object or array where a scalar was expected.
    Other(Value),
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess, Visitor};
        use std::borrow::Cow;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<Scalar<'de>, A::Error> {
                let de = serde::de::value::SeqAccessDeserializer::new(a);
                Ok(Scalar::Other(Value::deserialize(de)?))
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Scalar<'de>, A::Error> {
                let de = serde::de::value::MapAccessDeserializer::new(a);
                Ok(Scalar::Other(Value::deserialize(de)?))
            }
        }
        d.deserialize_any(V)
    }
}

impl std::fmt::Display for Scalar<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Other(v) => write!(f, "{v}"),
        }
    }
}

pub(crate) fn datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        Scalar::Str(s) => parse_datetime(&s)
            .transpose()
            .map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!("not a date: {other}"))),
    }
}

/// Text, with `""` kept as-is but JSON numbers accepted (some tenants send numeric strings bare).
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::Null => None,
        Scalar::Str(s) => Some(s.into_owned()),
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Int(i) => Some(i.to_string()),
        Scalar::Float(x) => Some(x.to_string()),
        Scalar::Other(v) => Some(v.to_string()),
    })
}

/// An integer sent as a number or a numeric string; `""` is none.
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let bad =
        |what: &dyn std::fmt::Display| serde::de::Error::custom(format!("not an integer: {what}"));
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        Scalar::Int(i) => Ok(Some(i)),
        Scalar::Float(x) if x.fract() == 0.0 => Ok(Some(x as i64)),
        Scalar::Str(s) if s.trim().is_empty() => Ok(None),
        Scalar::Str(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(&format!("{s:?}"))),
        other => Err(bad(&other)),
    }
}

/// A boolean sent as `true`/`false`, `1`/`0`, or a string of either.
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::Int(i) => Ok(Some(i != 0)),
        Scalar::Float(x) => Ok(Some(x != 0.0)),
        Scalar::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(format!("not a boolean: {s:?}"))),
        },
        other => Err(serde::de::Error::custom(format!("not a boolean: {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_form_autotask_sends() {
        let want = |s: &str| parse_datetime(s).unwrap().unwrap().to_rfc3339();
        assert_eq!(want("2018-11-13T17:32:34"), "2018-11-13T17:32:34+00:00");
        assert_eq!(
            want("2016-03-30T13:10:35.563"),
            "2016-03-30T13:10:35.563+00:00"
        );
        assert_eq!(
            want("2012-10-24T05:00:00.000Z"),
            "2012-10-24T05:00:00+00:00"
        );
        assert_eq!(
            want("2012-10-24T07:00:00+02:00"),
            "2012-10-24T05:00:00+00:00"
        );
        assert!(parse_datetime("").is_none());
        assert!(parse_datetime("yesterday").unwrap().is_err());
    }

    #[test]
    fn fields_read_leniently_from_every_json_form() {
        #[derive(Deserialize)]
        struct R {
            #[serde(default, deserialize_with = "text")]
            t: Option<String>,
            #[serde(default, deserialize_with = "int")]
            i: Option<i64>,
            #[serde(default, deserialize_with = "boolean")]
            b: Option<bool>,
        }
        let r = |json: &str| serde_json::from_str::<R>(json).unwrap();
        let x = r(r#"{"t": "a\"b", "i": "42", "b": "1"}"#);
        assert_eq!(
            (x.t.as_deref(), x.i, x.b),
            (Some("a\"b"), Some(42), Some(true))
        );
        let x = r(r#"{"t": 7, "i": 3.0, "b": 0}"#);
        assert_eq!(
            (x.t.as_deref(), x.i, x.b),
            (Some("7"), Some(3), Some(false))
        );
        let x = r(r#"{"t": null, "i": "", "b": ""}"#);
        assert_eq!((x.t, x.i, x.b), (None, None, None));
        assert_eq!(r(r#"{"t": {"a": 1}}"#).t.as_deref(), Some(r#"{"a":1}"#));
        assert!(serde_json::from_str::<R>(r#"{"i": "x"}"#).is_err());
        assert!(serde_json::from_str::<R>(r#"{"b": [1]}"#).is_err());
    }

    #[test]
    fn company_decodes_leniently() {
        let c: Company = serde_json::from_str(
            r#"{"id": 0, "companyName": "Acme", "isActive": 1, "companyType": "1",
                "createDate": "", "lastActivityDate": null, "brandNewField": [1, 2],
                "lastTrackedModifiedDateTime": "2016-03-30T13:10:35.563"}"#,
        )
        .unwrap();
        assert_eq!(c.id, 0);
        assert_eq!(c.is_active, Some(true));
        assert_eq!(c.company_type, Some(1));
        assert_eq!(c.create_date, None);
        assert!(c.last_tracked_modified_date_time.is_some());
        assert!(c.user_defined_fields.is_empty());
    }
}
