//! Smoke tests of the simulator over real HTTP (the client's own tests live elsewhere).

use super::*;
use crate::model::credentials::Secret;
use crate::sim::generator::AtCompany;
use chrono::{TimeZone, Utc};

fn tenant(n: i64) -> AutotaskTenant {
    let companies = (0..n)
        .map(|id| AtCompany {
            id,
            company_name: format!("Company {id}"),
            company_number: None,
            company_type: 1,
            is_active: true,
            phone: None,
            fax: None,
            address1: None,
            address2: None,
            city: None,
            state: None,
            postal_code: None,
            country_id: None,
            web_address: None,
            parent_company_id: None,
            create_date: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
            last_activity_date: None,
            last_tracked_modified_date_time: Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap(),
        })
        .collect();
    AutotaskTenant {
        companies,
        ..Default::default()
    }
}

fn creds() -> AutotaskCredentials {
    AutotaskCredentials {
        username: "api@example.com".into(),
        integration_code: Secret::new("CODE"),
        secret: Secret::new("s3cret"),
    }
}

async fn start(n: i64, options: AutotaskSimOptions) -> (Arc<AutotaskSim>, RunningSim) {
    let sim = AutotaskSim::new(tenant(n), creds(), options);
    let running = serve(Arc::clone(&sim), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (sim, running)
}

fn authed(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    signed(rb, "CODE", "s3cret")
}

fn signed(rb: reqwest::RequestBuilder, code: &str, secret: &str) -> reqwest::RequestBuilder {
    rb.header("apiintegrationcode", code)
        .header("UserName", "API@example.com")
        .header("SECRET", secret)
}

#[tokio::test]
async fn zone_discovery_and_auth_errors() {
    let (sim, running) = start(3, AutotaskSimOptions::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}V1.0/ZoneInformation", discovery_url(&running));
    let zone: Value = http
        .get(&url)
        .query(&[("user", "api@example.com")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let base = format!("{}V1.0/", zone["url"].as_str().unwrap());
    assert_eq!(base, format!("{}/ATServicesRest/V1.0/", running.base_url()));
    let unknown = http.get(&url).query(&[("user", "x")]).send().await.unwrap();
    assert_eq!(unknown.status(), 500);

    let threshold = format!("{base}ThresholdInformation");
    let no_user = http.get(&threshold).send().await.unwrap();
    assert_eq!(no_user.status(), 500);
    assert!(no_user.text().await.unwrap().contains(ZONE_ERROR));
    let bad_code = signed(http.get(&threshold), "WRONG", "s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_code.status(), 500);
    assert!(bad_code.text().await.unwrap().contains("IntegrationCode"));
    let bad_secret = signed(http.get(&threshold), "CODE", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_secret.status(), 401);
    let ok: Value = authed(http.get(&threshold))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["currentTimeframeRequestCount"], 1);
    assert_eq!(sim.requests_for("ThresholdInformation"), 4);
    assert!(sim.unexpected().take().is_empty());
    running.stop().await;
}

#[tokio::test]
async fn query_pages_count_get_and_fields() {
    let (sim, running) = start(12, AutotaskSimOptions::default()).await;
    let http = reqwest::Client::new();
    let base = format!("{}/atservicesrest/v1.0/", running.base_url());
    let body = json!({"maxRecords": 5, "includeFields": ["companyName"],
                      "filter": [{"op": "gte", "field": "id", "value": 0}]});
    let mut url = format!("{base}companies/query");
    let mut seen = Vec::new();
    loop {
        let page: Value = authed(http.post(&url))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            assert!(item.get("isActive").is_none());
            seen.push(item["id"].as_i64().unwrap());
        }
        match page["pageDetails"]["nextPageUrl"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, (0..12).collect::<Vec<_>>());
    // A GET on a POST cursor is the naive-client bug: 405, recorded.
    let first: Value = authed(http.post(format!("{base}Companies/query")))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = first["pageDetails"]["nextPageUrl"].as_str().unwrap();
    let get_next = authed(http.get(next)).send().await.unwrap();
    assert_eq!(get_next.status(), 405);
    assert_eq!(sim.unexpected().take().len(), 1);

    let search = body.to_string();
    let by_get: Value = authed(http.get(format!("{base}Companies/query/count")))
        .query(&[("search", search.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_get, json!({"queryCount": 12}));
    let item: Value = authed(http.get(format!("{base}Companies/7")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["item"]["userDefinedFields"][0]["value"], "Gold");
    let missing: Value = authed(http.get(format!("{base}Companies/99")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missing, json!({"item": null}));
    let fields: Value = authed(http.get(format!("{base}Companies/entityInformation/fields")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kind = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "companyType")
        .unwrap();
    assert_eq!(kind["picklistValues"][0]["label"], "Customer");
    let bad = authed(http.post(format!("{base}Companies/query")))
        .json(&json!({"MaxRecords": 501, "filter": body["filter"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 500);
    let unknown = authed(http.get(format!("{base}Widgets/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(sim.unexpected().take().len(), 1);
    running.stop().await;
}

#[tokio::test]
async fn thread_and_hourly_thresholds() {
    let options = AutotaskSimOptions {
        latency_ms: 300,
        ..AutotaskSimOptions::default()
    };
    let (_sim, running) = start(3, options).await;
    let http = reqwest::Client::new();
    let url = format!("{}/ATServicesRest/V1.0/Companies/1", running.base_url());
    let calls = (0..4).map(|_| authed(http.get(&url)).send());
    let statuses: Vec<u16> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), 1);
    running.stop().await;

    let options = AutotaskSimOptions {
        hourly_threshold: 1,
        ..AutotaskSimOptions::default()
    };
    let (_sim, running) = start(3, options).await;
    let url = format!(
        "{}/ATServicesRest/V1.0/ThresholdInformation",
        running.base_url()
    );
    assert_eq!(authed(http.get(&url)).send().await.unwrap().status(), 200);
    let refused = authed(http.get(&url)).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    running.stop().await;
}

#[tokio::test]
async fn faults_break_answers() {
    let http = reqwest::Client::new();
    let query = json!({"MaxRecords": 5, "filter": [{"op": "gte", "field": "id", "value": 0}]});
    for (faults, check) in [
        (
            FaultPlan {
                rate_truncated: 1.0,
                ..FaultPlan::default()
            },
            "truncated",
        ),
        (
            FaultPlan {
                rate_empty_body: 1.0,
                ..FaultPlan::default()
            },
            "empty",
        ),
        (
            FaultPlan {
                rate_drop: 1.0,
                ..FaultPlan::default()
            },
            "drop",
        ),
    ] {
        let options = AutotaskSimOptions {
            faults,
            ..AutotaskSimOptions::default()
        };
        let (_sim, running) = start(3, options).await;
        let url = format!("{}/ATServicesRest/V1.0/Companies/query", running.base_url());
        let sent = authed(http.post(&url)).json(&query).send().await;
        match check {
            "drop" => match sent {
                Err(_) => {}
                Ok(r) => assert!(r.bytes().await.is_err(), "a dropped answer must fail"),
            },
            _ => {
                let r = sent.unwrap();
                assert_eq!(r.status(), 200);
                let text = r.text().await.unwrap();
                assert!(
                    serde_json::from_str::<Value>(&text).is_err(),
                    "{check}: {text}"
                );
            }
        }
        running.stop().await;
    }
}

#[tokio::test]
async fn every_entity_is_served_and_id_ranges_page_by_keyset() {
    let tenant = crate::sim::generator::generate(&crate::sim::generator::MspSpec::demo(3)).autotask;
    let sim = AutotaskSim::new(tenant.clone(), creds(), AutotaskSimOptions::default());
    let running = serve(Arc::clone(&sim), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("{}/ATServicesRest/V1.0/", running.base_url());
    let post = |path: String, body: Value| {
        let rb = authed(http.post(format!("{base}{path}"))).json(&body);
        async move { rb.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let all = json!([{"op": "gte", "field": "id", "value": 0}]);
    for (entity, n) in [
        ("Companies", tenant.companies.len()),
        ("Resources", tenant.resources.len()),
        ("Contacts", tenant.contacts.len()),
        ("CompanyLocations", tenant.locations.len()),
        ("ConfigurationItems", tenant.configuration_items.len()),
        ("ConfigurationItemTypes", tenant.ci_types.len()),
    ] {
        let count = post(format!("{entity}/query/count"), json!({"filter": all})).await;
        assert_eq!(count["queryCount"], n, "{entity}");
    }
    // A bounded id range pages exactly its records, in id order, by binary search.
    let ids: Vec<i64> = tenant.contacts.iter().map(|c| c.id).collect();
    let (lo, hi) = (ids[10], ids[40]);
    let range = json!({"MaxRecords": 500, "filter": [
        {"op": "gt", "field": "id", "value": lo}, {"op": "lte", "field": "id", "value": hi}]});
    let page = post("Contacts/query".into(), range).await;
    let got: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[11..=40].to_vec());
    // Contacts send isActive as 0/1.
    assert!(page["items"][0]["isActive"].is_i64());
    // Conditions inside an `or` group never narrow the scan.
    let either = json!({"MaxRecords": 5, "filter": [{"op": "or", "items": [
        {"op": "eq", "field": "id", "value": ids[0]},
        {"op": "eq", "field": "id", "value": ids[ids.len() - 1]}]}]});
    let page = post("Contacts/query".into(), either).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    // The item type picklist carries the tenant's labels.
    let fields: Value =
        authed(http.get(format!("{base}ConfigurationItems/entityInformation/fields")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let kind = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "configurationItemType")
        .unwrap();
    assert_eq!(kind["picklistValues"][0]["label"], tenant.ci_types[0].name);
    assert!(sim.unexpected().take().is_empty());
    running.stop().await;
}
