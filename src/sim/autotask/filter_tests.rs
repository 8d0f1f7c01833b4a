//! The filter language against the wire contract: operators, grouping, UDFs, limits.

use super::super::records::entity;
use super::*;
use crate::sim::generator::AtCompany;
use chrono::TimeZone;
use serde_json::json;

fn company(id: i64, name: &str) -> AtCompany {
    AtCompany {
        id,
        company_name: name.to_string(),
        company_number: Some(format!("C{id:05}")),
        company_type: if id % 2 == 0 { 1 } else { 3 },
        is_active: id != 3,
        phone: if id == 2 {
            None
        } else {
            Some("555-0100".into())
        },
        fax: None,
        address1: None,
        address2: None,
        city: Some(if id < 3 { "Denver" } else { "Austin" }.into()),
        state: None,
        postal_code: None,
        country_id: Some(237),
        web_address: None,
        parent_company_id: None,
        create_date: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        last_activity_date: None,
        last_tracked_modified_date_time: Utc
            .with_ymd_and_hms(2024, 5, id as u32 + 1, 12, 0, 0)
            .unwrap(),
    }
}

fn companies() -> Vec<AtCompany> {
    vec![
        company(0, "Own Company"),
        company(1, "Acme Dental LLC"),
        company(2, "Blue Ridge Plumbing"),
        company(3, "Café Lumière"),
        company(7, "Summit Law"),
    ]
}

/// The ids of the sample companies a filter (a JSON list) selects.
fn ids(filter: Value) -> Vec<i64> {
    let spec = parse_query(
        &json!({"MaxRecords": 500, "filter": filter}),
        entity("companies").unwrap(),
        true,
    )
    .unwrap_or_else(|e| panic!("filter rejected: {e}"));
    companies()
        .iter()
        .filter(|c| spec.filter.matches(*c))
        .map(|c| c.id)
        .collect()
}

fn error(body: Value) -> String {
    parse_query(&body, entity("companies").unwrap(), true).unwrap_err()
}

#[test]
fn comparison_operators() {
    assert_eq!(
        ids(json!([{"op":"gte","field":"id","value":0}])),
        [0, 1, 2, 3, 7]
    );
    assert_eq!(ids(json!([{"op":"eq","field":"id","value":2}])), [2]);
    assert_eq!(
        ids(json!([{"op":"noteq","field":"id","value":2}])),
        [0, 1, 3, 7]
    );
    assert_eq!(ids(json!([{"op":"gt","field":"id","value":2}])), [3, 7]);
    assert_eq!(ids(json!([{"op":"lt","field":"id","value":"2"}])), [0, 1]);
    assert_eq!(
        ids(json!([{"op":"lte","field":"id","value":2.0}])),
        [0, 1, 2]
    );
}

#[test]
fn text_operators_are_case_insensitive() {
    let f = |op: &str, v: &str| ids(json!([{"op": op, "field": "companyName", "value": v}]));
    assert_eq!(f("beginsWith", "acme"), [1]);
    assert_eq!(f("endsWith", "LAW"), [7]);
    assert_eq!(f("contains", "RIDGE"), [2]);
    assert_eq!(f("contains", "lumière"), [3]);
    assert_eq!(f("eq", "summit law"), [7]);
    assert_eq!(f("gt", "c"), [0, 3, 7]);
}

#[test]
fn names_and_ops_are_case_insensitive() {
    let spec = parse_query(
        &json!({"maxrecords": 10, "INCLUDEFIELDS": ["CompanyName"],
                    "Filter": [{"Op": "EQ", "Field": "COMPANYNAME", "Value": "own company"}]}),
        entity("Companies").unwrap(),
        true,
    )
    .unwrap();
    assert_eq!(spec.max_records, Some(10));
    assert_eq!(spec.include_fields, Some(vec!["CompanyName".to_string()]));
    assert_eq!(
        companies()
            .iter()
            .filter(|c| spec.filter.matches(*c))
            .count(),
        1
    );
}

#[test]
fn exist_and_not_exist() {
    assert_eq!(ids(json!([{"op":"exist","field":"phone"}])), [0, 1, 3, 7]);
    assert_eq!(ids(json!([{"op":"notExist","field":"phone"}])), [2]);
    assert!(ids(json!([{"op":"exist","field":"fax"}])).is_empty());
    assert_eq!(ids(json!([{"op":"eq","field":"phone","value":null}])), [2]);
}

#[test]
fn in_and_not_in() {
    assert_eq!(
        ids(json!([{"op":"in","field":"id","value":[1, "7", 99]}])),
        [1, 7]
    );
    assert_eq!(
        ids(json!([{"op":"notIn","field":"id","value":[1, 7]}])),
        [0, 2, 3]
    );
    assert_eq!(
        ids(json!([{"op":"in","field":"city","value":["DENVER"]}])),
        [0, 1, 2]
    );
    assert!(
        error(json!({"MaxRecords":1,"filter":[{"op":"in","field":"id","value":1}]}))
            .contains("array")
    );
}

#[test]
fn booleans_accept_several_spellings() {
    for v in [json!(false), json!(0), json!("false"), json!("0")] {
        assert_eq!(ids(json!([{"op":"eq","field":"isActive","value":v}])), [3]);
    }
    for v in [json!(true), json!(1), json!("true"), json!("True")] {
        assert_eq!(
            ids(json!([{"op":"eq","field":"isactive","value":v}])),
            [0, 1, 2, 7]
        );
    }
}

#[test]
fn and_or_groups_nest() {
    let f = json!([
        {"op":"or","items":[
            {"op":"eq","field":"id","value":0},
            {"op":"and","items":[
                {"op":"eq","field":"city","value":"austin"},
                {"op":"eq","field":"isActive","value":true}
            ]}
        ]},
        {"op":"lt","field":"id","value":100}
    ]);
    assert_eq!(ids(f), [0, 7]);
    let top_and = json!([{"op":"gt","field":"id","value":0},{"op":"lt","field":"id","value":3}]);
    assert_eq!(ids(top_and), [1, 2]);
}

#[test]
fn dates_compare_as_dates() {
    let f = |op: &str, v: &str| {
        ids(json!([{"op": op, "field": "lastTrackedModifiedDateTime", "value": v}]))
    };
    // Company n was modified 2024-05-(n+1) 12:00:00 UTC.
    assert_eq!(f("gt", "2024-05-03T12:00:00.000Z"), [3, 7]);
    assert_eq!(f("gte", "2024-05-03T12:00:00"), [2, 3, 7]);
    assert_eq!(f("lt", "2024-05-02T11:59:59.999"), [0]);
    assert_eq!(f("eq", "2024-05-08T14:00:00+02:00"), [7]);
    assert_eq!(f("gte", "2024-05-04"), [3, 7]);
    assert!(ids(json!([{"op":"exist","field":"lastActivityDate"}])).is_empty());
    assert!(error(
        json!({"MaxRecords":1,"filter":[{"op":"gt","field":"createDate","value":"yesterday"}]})
    )
    .contains("createDate"));
}

#[test]
fn udf_conditions() {
    let f = json!([{"op":"eq","field":"contract level","value":"GOLD","udf":true}]);
    assert_eq!(ids(f), [0, 7]);
    let two = json!({"MaxRecords":1,"filter":[
            {"op":"eq","field":"Contract Level","value":"Gold","udf":true},
            {"op":"exist","field":"Contract Level","udf":true}]});
    assert!(error(two).contains("one user-defined field"));
    let unknown = json!({"MaxRecords":1,"filter":[
            {"op":"eq","field":"Nope","value":"x","udf":true}]});
    assert!(error(unknown).contains("Nope"));
}

#[test]
fn validation_errors() {
    let all = json!([{"op":"gte","field":"id","value":0}]);
    assert_eq!(error(json!({"filter": all})), MAX_RECORDS_ERROR);
    assert_eq!(
        error(json!({"MaxRecords": 0, "filter": all})),
        MAX_RECORDS_ERROR
    );
    assert_eq!(
        error(json!({"MaxRecords": 501, "filter": all})),
        MAX_RECORDS_ERROR
    );
    assert!(error(json!({"MaxRecords": 5})).contains("filter"));
    assert!(error(json!({"MaxRecords": 5, "filter": []})).contains("filter"));
    let bad_field = json!({"MaxRecords":5,"filter":[{"op":"eq","field":"colour","value":1}]});
    assert!(error(bad_field).contains("colour"));
    let bad_op = json!({"MaxRecords":5,"filter":[{"op":"like","field":"id","value":1}]});
    assert!(error(bad_op).contains("like"));
    let bad_include = json!({"MaxRecords":5,"IncludeFields":["colour"],"filter": all});
    assert!(error(bad_include).contains("colour"));
    let many: Vec<Value> = (0..501)
        .map(|i| json!({"op":"eq","field":"id","value":i}))
        .collect();
    let too_many = json!({"MaxRecords":5,"filter":[{"op":"or","items": many}]});
    assert!(error(too_many).contains("500"));
    let count = parse_query(&json!({"filter": all}), entity("companies").unwrap(), false);
    assert_eq!(count.unwrap().max_records, None);
}
