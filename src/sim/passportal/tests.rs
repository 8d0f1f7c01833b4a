//! Tests of the fault plan and of the simulator's own wiring (routes, guard, fallback). The
//! client's behaviour against the simulator is tested elsewhere, with the real client.

use super::*;
use crate::model::credentials::Secret;
use serde_json::{json, Value};

fn plan() -> WriteFaultPlan {
    WriteFaultPlan {
        seed: 7,
        rate_500: 0.1,
        rate_429: 0.2,
        rate_applied_then_500: 0.3,
        rate_applied_then_hang_ms: 0.1,
        hang_ms: 10,
        ..WriteFaultPlan::default()
    }
}

#[test]
fn fault_rates_are_cumulative_in_field_order() {
    let p = plan();
    assert_eq!(p.decide(0.05), WriteFault::Fail500);
    assert_eq!(p.decide(0.15), WriteFault::Throttle429);
    assert_eq!(p.decide(0.45), WriteFault::AppliedThen500);
    assert_eq!(p.decide(0.65), WriteFault::AppliedThenHang);
    assert_eq!(p.decide(0.75), WriteFault::None);
    assert_eq!(WriteFaultPlan::default().decide(0.0), WriteFault::None);
}

#[test]
fn fault_draws_are_seeded() {
    let draws = |seed| {
        let sim = PassportalSim::new(
            PassportalInstance::default(),
            creds(),
            PassportalSimOptions {
                faults: WriteFaultPlan { seed, ..plan() },
                ..Default::default()
            },
        );
        (0..50).map(|_| sim.draw_write_fault()).collect::<Vec<_>>()
    };
    assert_eq!(draws(1), draws(1));
    assert_ne!(draws(1), draws(2));
}

#[test]
fn instance_is_kept_in_id_order_and_new_ids_go_above() {
    let instance = PassportalInstance {
        clients: vec![
            PpClient {
                id: 9,
                name: "B".into(),
            },
            PpClient {
                id: 3,
                name: "A".into(),
            },
        ],
        ..Default::default()
    };
    let sim = PassportalSim::new(instance, creds(), PassportalSimOptions::default());
    assert_eq!(
        sim.clients().iter().map(|c| c.id).collect::<Vec<_>>(),
        [3, 9]
    );
    assert_eq!(sim.state().next_client_id, 10);
    sim.with_instance(|i| i.clients.clear());
    assert_eq!(sim.state().next_client_id, 10, "ids are never reused");
}

/// A token "t" that never expires.
pub(super) fn long_token(sim: &PassportalSim) {
    sim.state().tokens.insert(
        "t".into(),
        Issued {
            expiry_ms: i64::MAX,
            uses: 0,
        },
    );
}

fn creds() -> PassportalCredentials {
    PassportalCredentials {
        key_id: Secret::new("key-id-1"),
        secret: Secret::new("s3cret"),
    }
}

pub(super) async fn start(options: PassportalSimOptions) -> (Arc<PassportalSim>, RunningSim) {
    let clients = (1..=5)
        .map(|id| PpClient {
            id,
            name: format!("Acme & Sons {id}"),
        })
        .collect();
    let sim = PassportalSim::new(
        PassportalInstance {
            clients,
            ..Default::default()
        },
        creds(),
        options,
    );
    let running = serve(sim.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve");
    (sim, running)
}

async fn exchange(http: &reqwest::Client, base: &str, key: &str, hash: &str) -> (u16, Value) {
    let resp = http
        .post(format!("{base}/api/v2/auth/client_token"))
        .header("x-key", key)
        .header("x-hash", hash)
        .json(&json!({ "scope": "docs_api", "content": "hello" }))
        .send()
        .await
        .expect("send");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

pub(super) async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("send");
    (resp.status().as_u16(), resp.json().await.expect("json"))
}

#[tokio::test]
async fn wiring_auth_paging_create_and_fallback() {
    let (sim, running) = start(PassportalSimOptions {
        max_results_per_page: 3,
        ..Default::default()
    })
    .await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let hash = content_hash("s3cret", "hello");

    let (status, body) = exchange(&http, &base, "wrong", &hash).await;
    assert_eq!((status, &body["message"]), (401, &json!("Invalid key")));
    let (status, body) = exchange(&http, &base, "key-id-1", &hash.to_uppercase()).await;
    assert_eq!((status, &body["message"]), (401, &json!("Invalid hash")));
    let (status, first) = exchange(&http, &base, "key-id-1", &hash).await;
    assert_eq!((status, &first["success"]), (200, &json!(true)));
    let (_, second) = exchange(&http, &base, "key-id-1", &hash).await;
    assert_eq!(second["success"], json!("true"));
    assert_eq!(sim.token_exchanges(), 2);
    let token = first["access_token"].as_str().expect("token").to_string();

    let list = |query: &str| {
        http.get(format!("{base}/api/v2/documents/clients?{query}"))
            .header("x-access-token", &token)
    };
    let (status, body) = call(http.get(format!("{base}/api/v2/documents/clients"))).await;
    assert_eq!((status, &body["code"]), (401, &json!(401)));
    let (status, body) = call(list("resultsPerPage=3&pageNum=1")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["results"],
        json!([
            {"id": 1, "name": "Acme &amp; Sons 1"},
            {"id": 2, "name": "Acme & Sons 2"},
            {"id": 3, "name": "Acme%20%26%20Sons%203"},
        ])
    );
    let (_, body) = call(list("resultsPerPage=3&pageNum=2")).await;
    assert_eq!(body["results"].as_array().map(Vec::len), Some(2));
    let (_, body) = call(list("resultsPerPage=3&pageNum=3")).await;
    assert_eq!(body["results"], json!([]));
    // Past the end stays `[]`: a `null` is a read fault (`ReadFaultPlan::null_results`).
    let (_, body) = call(list("resultsPerPage=3&pageNum=3")).await;
    assert_eq!(body["results"], json!([]));
    let (status, body) = call(list("resultsPerPage=4")).await;
    assert_eq!((status, &body["status"]), (400, &json!(400)));

    let create = |body: Value| {
        http.post(format!("{base}/api/v2/clients"))
            .header("x-access-token", &token)
            .json(&body)
    };
    let (status, body) = call(create(json!({ "name": "  " }))).await;
    assert_eq!(
        (status, &body["message"]),
        (400, &json!("name is required"))
    );
    let (status, body) = call(create(json!({ "name": "Acme & Sons 1", "x": 1 }))).await;
    assert_eq!((status, &body["id"]), (200, &json!(6)));
    assert_eq!(sim.creates(), 1);
    assert_eq!(
        sim.clients().last().map(|c| c.name.as_str()),
        Some("Acme & Sons 1")
    );

    assert!(sim.unexpected().take().is_empty());
    let (status, _) = call(http.get(format!("{base}/api/v2/nope?a=1"))).await;
    assert_eq!(status, 404);
    let (status, _) = call(http.delete(format!("{base}/api/v2/clients"))).await;
    assert_eq!(status, 404);
    assert_eq!(
        sim.unexpected().take(),
        ["GET /api/v2/nope?a=1", "DELETE /api/v2/clients"]
    );
    running.stop().await;
}

#[tokio::test]
async fn expired_tokens_and_faults() {
    let (sim, running) = start(PassportalSimOptions {
        token_lifetime_secs: 0,
        faults: WriteFaultPlan {
            rate_applied_then_500: 1.0,
            read_rate_500: 1.0,
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    })
    .await;
    let base = running.base_url();
    let http = reqwest::Client::new();
    let hash = content_hash("s3cret", "hello");
    let (_, body) = exchange(&http, &base, "key-id-1", &hash).await;
    let token = body["access_token"].as_str().expect("token").to_string();
    let (status, _) = call(
        http.get(format!("{base}/api/v2/documents/clients"))
            .header("x-access-token", &token),
    )
    .await;
    assert_eq!(status, 401, "a token of lifetime 0 is expired at once");

    // Long-lived tokens from here on: swap in a token directly.
    long_token(&sim);
    let (status, body) = call(
        http.get(format!("{base}/api/v2/documents/clients"))
            .header("x-access-token", "t"),
    )
    .await;
    assert_eq!((status, &body["message"]), (500, &json!("internal error")));
    let (status, _) = call(
        http.post(format!("{base}/api/v2/clients"))
            .header("x-access-token", "t")
            .json(&json!({ "name": "New" })),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(sim.creates(), 1, "applied, then answered 500");
    assert_eq!(sim.clients().len(), 6);
    running.stop().await;
}

#[tokio::test]
async fn throttled_and_hanging_writes() {
    let options = |rate_429, rate_hang| PassportalSimOptions {
        faults: WriteFaultPlan {
            rate_429,
            rate_applied_then_hang_ms: rate_hang,
            hang_ms: 300,
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    };
    let http = reqwest::Client::new();
    let create = |base: &str| {
        http.post(format!("{base}/api/v2/clients"))
            .header("x-access-token", "t")
            .json(&json!({ "name": "New" }))
    };

    let (sim, running) = start(options(1.0, 0.0)).await;
    long_token(&sim);
    let resp = create(&running.base_url()).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!((sim.creates(), sim.clients().len()), (0, 5), "not applied");
    running.stop().await;

    let (sim, running) = start(options(0.0, 1.0)).await;
    long_token(&sim);
    let started = std::time::Instant::now();
    let (status, body) = call(create(&running.base_url())).await;
    assert_eq!((status, &body["id"]), (200, &json!(6)));
    assert!(started.elapsed() >= Duration::from_millis(300));
    let timed_out = create(&running.base_url())
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(timed_out.is_err());
    for _ in 0..100 {
        if sim.creates() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.creates(), 2, "applied although the client gave up");
    running.stop().await;
}

fn seeded_documents(sim: &PassportalSim) {
    use crate::sim::generator::{DocType, PpDocument};
    sim.with_instance(|i| {
        i.users = vec![PpUser {
            id: 7,
            first_name: "Zoë".into(),
            last_name: "Smith".into(),
            email: None,
        }];
        let doc = |id, client_id, doc_type, title: &str, fields: &[(&str, &str)]| PpDocument {
            id,
            client_id,
            doc_type,
            title: title.into(),
            fields: fields
                .iter()
                .map(|(l, v)| (l.to_string(), v.to_string()))
                .collect(),
        };
        i.documents = vec![
            doc(
                12,
                1,
                DocType::Contact,
                "Front Desk",
                &[("Email", "a@x"), ("Phone", "1")],
            ),
            doc(10, 1, DocType::Contact, "Back Office", &[("Email", "b@x")]),
            doc(11, 1, DocType::Asset, "FW-1", &[]),
            doc(13, 2, DocType::Contact, "Front Desk", &[]),
        ];
    });
}

fn error_body(message: &str) -> Value {
    json!({ "success": false, "code": 0, "status": 400, "message": message })
}

#[tokio::test]
async fn documents_users_and_the_documented_error_bodies() {
    let (sim, running) = start(PassportalSimOptions::default()).await;
    seeded_documents(&sim);
    long_token(&sim);
    let base = running.base_url();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .header("x-access-token", "t")
    };

    let (status, body) = call(get("/api/v2/documents?type=contact&clientId=1")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["results"][0],
        json!({
            "id": 10, "organization_id": 1, "label": "Back Office",
            "description": null, "client_id": 1, "customId": null,
            "templateId": "TPL-CONTACT", "templateName": "Contact", "type": "contact",
        })
    );
    assert_eq!(body["results"][1]["label"], json!("Front%20Desk"));
    let ids = |body: &Value| -> Vec<i64> {
        body["results"]
            .as_array()
            .map(|r| r.iter().filter_map(|d| d["id"].as_i64()).collect())
            .unwrap_or_default()
    };
    let (_, body) = call(get("/api/v2/documents?searchTxt=front%20DESK")).await;
    assert_eq!(ids(&body), [12, 13]);
    let (_, body) = call(get(
        "/api/v2/documents?clientId=1&orderBy=label&orderDir=desc",
    ))
    .await;
    assert_eq!(ids(&body), [11, 12, 10]);
    let (_, body) = call(get("/api/v2/documents?type=ssl")).await;
    assert_eq!(body["results"], json!([]));
    for (query, message) in [
        ("type=bogus", "invalid type"),
        ("clientId=abc", "invalid clientId"),
        ("orderBy=name", "invalid orderBy"),
        ("orderDir=up", "invalid orderDir"),
        ("pageNum=0", "invalid pageNum"),
    ] {
        let (status, body) = call(get(&format!("/api/v2/documents?{query}"))).await;
        assert_eq!((status, body), (400, error_body(message)), "{query}");
    }

    // Details: numbered slots; id 12 (a multiple of 3) has a null slot at "1".
    let (_, body) = call(get("/api/v2/documents/12")).await;
    assert_eq!(
        body,
        json!({ "success": true, "details": {
            "name": "Front%20Desk", "tags": [],
            "0": { "name": "Email", "value": { "type": "string", "text": "a@x" } },
            "1": null,
            "2": { "name": "Phone", "value": { "type": "string", "text": "1" } },
            "3": { "name": "Autotask ID", "value": { "type": "string", "text": null } },
        }})
    );
    for path in ["/api/v2/documents/99", "/api/v2/documents/x1"] {
        let (status, body) = call(get(path)).await;
        assert_eq!((status, body), (400, error_body("invalid id")), "{path}");
    }

    // Creates answer without an id; the document gets one above every id held.
    let post = |body: Value| {
        http.post(format!("{base}/api/v2/documents"))
            .header("x-access-token", "t")
            .json(&body)
    };
    let good = json!({
        "templateUid": "TPL-LOCATION", "clientId": 2, "title": "Main Office",
        "fields": [{ "name": "Address", "value": "1 Main St" }],
    });
    for (change, message) in [
        (json!({ "templateUid": "TPL-9" }), "invalid templateUid"),
        (json!({ "clientId": 99 }), "invalid clientId"),
        (json!({ "title": " " }), "title is required"),
        (
            json!({ "fields": [{ "name": "Address" }] }),
            "invalid fields",
        ),
        (json!({ "fields": "x" }), "invalid fields"),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        let (status, answer) = call(post(body)).await;
        assert_eq!((status, answer), (400, error_body(message)), "{change}");
    }
    let (status, body) = call(post(good.clone())).await;
    assert_eq!((status, body), (200, json!({ "success": "true" })));
    let made = sim.document(14).expect("created as 14");
    assert_eq!(
        (made.doc_type.as_str(), made.client_id, made.title.as_str()),
        ("location", 2, "Main Office")
    );
    assert_eq!(sim.creates(), 1);

    // Updates: template and client must be the document's; fields merge by label.
    let put = |id: i64, body: Value| {
        http.put(format!("{base}/api/v2/documents/{id}"))
            .header("x-access-token", "t")
            .json(&body)
    };
    let mut wrong = good.clone();
    wrong["templateUid"] = json!("TPL-ASSET");
    let (status, body) = call(put(14, wrong)).await;
    assert_eq!(
        (status, body),
        (
            400,
            error_body("templateUid does not match the document's template")
        )
    );
    let mut update = good.clone();
    update["title"] = json!("HQ");
    update["fields"] = json!([{ "name": "city", "value": "Denver" }]);
    let (status, _) = call(put(14, update)).await;
    assert_eq!(status, 200);
    let made = sim.document(14).expect("held");
    assert_eq!(made.title, "HQ");
    assert_eq!(made.fields.len(), 2);
    assert_eq!(sim.updates(), 1);

    // Users.
    let (_, body) = call(get("/api/v2/users?resultsPerPage=5&pageNum=1")).await;
    assert_eq!(
        body["results"],
        json!([{ "id": 7, "firstName": "Zo&#235;", "lastName": "Smith", "email": null }])
    );
    let users = |body: Value| {
        http.post(format!("{base}/api/v2/users"))
            .header("x-access-token", "t")
            .json(&body)
    };
    let (status, body) = call(users(json!({ "firstName": "Ana" }))).await;
    assert_eq!(
        (status, body),
        (400, error_body("firstName and lastName are required"))
    );
    let (status, body) = call(users(json!({ "firstName": "Ana", "lastName": "Li" }))).await;
    assert_eq!((status, &body["id"]), (200, &json!(8)));
    assert!(sim.unexpected().take().is_empty());
    running.stop().await;
}

#[tokio::test]
async fn tokens_wear_out_and_read_faults_follow_their_paths() {
    let (sim, running) = start(PassportalSimOptions {
        token_max_uses: Some(2),
        faults: WriteFaultPlan {
            read_rate_truncated: 1.0,
            read_paths: vec!["/api/v2/users".into()],
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    })
    .await;
    long_token(&sim);
    let base = running.base_url();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .header("x-access-token", "t")
    };
    let (status, _) = call(get("/api/v2/documents/clients")).await;
    assert_eq!(status, 200, "clients are not in the fault plan's paths");
    let resp = get("/api/v2/users").send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.expect("body");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "cut: {text}");
    let (status, body) = call(get("/api/v2/documents/clients")).await;
    assert_eq!(
        (status, &body["success"]),
        (401, &json!("false")),
        "worn out"
    );
    running.stop().await;
}

#[tokio::test]
async fn every_route_in_the_client_table_is_served() {
    let (sim, running) = start(PassportalSimOptions::default()).await;
    long_token(&sim);
    let base = running.base_url();
    let http = reqwest::Client::new();
    for route in crate::api::passportal::routes::ALL {
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).expect("method");
        let resp = http
            .request(method, format!("{base}{}", route.path_for(1)))
            .header("x-access-token", "t")
            .json(&json!({}))
            .send()
            .await
            .expect("send");
        assert_ne!(resp.status().as_u16(), 404, "{route:?}");
    }
    assert_eq!(sim.unexpected().take(), Vec::<String>::new());
    running.stop().await;
}
