//! The Passportal side through real HTTP: the client against the simulator. Every staged row
//! equals what the generator planted; a token that expires (or is refused) mid-extract is renewed
//! without losing a page; encoded names, titles and field texts arrive decoded; a created
//! document's id is the one a read-back finds; faults are survived, or fail naming the route and
//! the client.

use atpp::api::passportal::fields;
use atpp::api::passportal::models::Client;
use atpp::api::passportal::{
    DocType, NewDocument, NewUser, PassportalClient, PassportalError, WriteError,
};
use atpp::commands::demo::{
    sim_passportal_credentials, World, DEMO_PIPELINE, SIM_PASSPORTAL_KEY, SIM_PASSPORTAL_SECRET,
};
use atpp::model::pipeline::PassportalConfig;
use atpp::model::records::{DocumentRow, UserRow};
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::{MspSpec, PpDocument, PpUser};
use atpp::sim::passportal::{content_hash, served_name, PassportalSimOptions, WriteFaultPlan};
use atpp::stages::extract::passportal::{
    documents_path, extract_passportal, read_clients, read_documents, read_users, CLIENTS, USERS,
};
use std::collections::BTreeMap;

/// A small MSP: a few dozen clients with their users and documents.
fn small(seed: u64) -> MspSpec {
    MspSpec {
        companies: 40,
        passportal_only: 4,
        inactive: 4,
        resources: 16,
        ..MspSpec::demo(seed)
    }
}

struct Pp {
    world: World,
    client: PassportalClient,
    dir: tempfile::TempDir,
}

/// The simulators with `options`, and a Passportal client on the demo pipeline's settings
/// (fast pacing) as changed by `tweak`.
async fn start(
    spec: &MspSpec,
    options: PassportalSimOptions,
    tweak: impl FnOnce(&mut PassportalConfig),
) -> Pp {
    let world = World::start(spec, 0, 0, AutotaskSimOptions::default(), options)
        .await
        .expect("simulators start");
    let dir = tempfile::tempdir().expect("temp dir");
    let pipeline = world
        .pipeline(DEMO_PIPELINE, &dir.path().join("staging"))
        .expect("pipeline");
    let mut config = pipeline.passportal.clone();
    config.requests_per_sec = 10_000;
    config.concurrency = 4;
    tweak(&mut config);
    let client = PassportalClient::connect(&(&config).into(), sim_passportal_credentials())
        .await
        .expect("connect");
    Pp { world, client, dir }
}

impl Pp {
    fn assert_no_unexpected_requests(&self) {
        assert_eq!(
            self.world.passportal.unexpected().take(),
            Vec::<String>::new()
        );
    }
}

/// What a staged document row must hold, from the planted document (fields by label).
fn planted_row(d: &PpDocument) -> DocumentRow {
    let f = |label: &str| d.field(label).map(str::to_string);
    DocumentRow {
        id: d.id,
        client_id: d.client_id,
        doc_type: d.doc_type.as_str().to_string(),
        title: d.title.clone(),
        autotask_id: d
            .field(fields::AUTOTASK_ID)
            .map(|v| v.parse().expect("number")),
        first_name: f(fields::FIRST_NAME),
        last_name: f(fields::LAST_NAME),
        email: f(fields::EMAIL),
        phone: f(fields::PHONE),
        address: f(fields::ADDRESS),
        city: f(fields::CITY),
        state: f(fields::STATE),
        postal_code: f(fields::POSTAL_CODE),
        serial_number: f(fields::SERIAL_NUMBER),
        asset_type: f(fields::ASSET_TYPE),
        hostname: f(fields::HOSTNAME),
    }
}

fn planted_user(u: &PpUser) -> UserRow {
    UserRow {
        id: u.id,
        first_name: Some(u.first_name.clone()),
        last_name: Some(u.last_name.clone()),
        email: u.email.clone(),
    }
}

fn sorted<T, K: Ord>(mut v: Vec<T>, key: impl FnMut(&T) -> K) -> Vec<T> {
    v.sort_by_key(key);
    v
}

/// Run the Passportal extract and assert every staged file equals what the instance holds.
async fn extract_and_compare(pp: &Pp) -> BTreeMap<String, u64> {
    let run_dir = pp.dir.path().join("run");
    let files = extract_passportal(&pp.client, &run_dir)
        .await
        .expect("extract");
    let planted = pp.world.passportal.with_instance(|i| i.clone());

    let clients = read_clients(&run_dir.join(CLIENTS)).expect("clients");
    let want: Vec<Client> = planted
        .clients
        .iter()
        .map(|c| Client {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    assert_eq!(sorted(clients, |c| c.id), want);
    assert_eq!(files[CLIENTS], want.len() as u64);

    let users = read_users(&run_dir.join(USERS)).expect("users");
    let want: Vec<UserRow> = planted.users.iter().map(planted_user).collect();
    assert_eq!(sorted(users, |u| u.id), want);
    assert_eq!(files[USERS], want.len() as u64);

    for doc_type in DocType::ALL {
        let path = documents_path(doc_type);
        let rows = read_documents(&run_dir.join(path)).expect("documents");
        let want: Vec<DocumentRow> = planted
            .documents
            .iter()
            .filter(|d| d.doc_type.as_str() == doc_type.as_str())
            .map(planted_row)
            .collect();
        assert!(
            !want.is_empty(),
            "the generator plants {doc_type} documents"
        );
        assert_eq!(files[path], want.len() as u64, "{path}");
        assert_eq!(sorted(rows, |r| r.id), sorted(want, |r| r.id), "{path}");
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_staged_row_equals_what_the_generator_planted() {
    let pp = start(&small(11), PassportalSimOptions::default(), |_| {}).await;
    extract_and_compare(&pp).await;

    // Not vacuous: the instance holds synced documents (with an Autotask ID) and hand-made ones,
    // and names, titles and field texts that go over the wire encoded.
    let planted = pp.world.passportal.with_instance(|i| i.clone());
    let synced = planted
        .documents
        .iter()
        .filter(|d| d.field(fields::AUTOTASK_ID).is_some())
        .count();
    assert!(synced > 0 && synced < planted.documents.len());
    let encoded_clients = planted
        .clients
        .iter()
        .filter(|c| served_name(c.id, &c.name) != c.name)
        .count();
    let encoded_titles = planted
        .documents
        .iter()
        .filter(|d| served_name(d.id, &d.title) != d.title)
        .count();
    assert!(encoded_clients > 0 && encoded_titles > 0);

    // The staged document keeps every field in its `fields` column.
    let run_dir = pp.dir.path().join("run");
    let df = atpp::store::parquet::read_frame(&run_dir.join(documents_path(DocType::Contact)))
        .expect("frame");
    assert!(df.column("fields").is_ok());
    pp.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_names_titles_and_fields_arrive_decoded() {
    let pp = start(&small(12), PassportalSimOptions::default(), |_| {}).await;
    let sim = &pp.world.passportal;
    // One client per encoding (the simulator picks it by id: URL, HTML, plain).
    let base = sim.clients().last().expect("clients").id + 1;
    let base = base + (3 - base.rem_euclid(3)) % 3;
    let name = "Smith & Jones Café";
    sim.with_instance(|i| {
        for id in base..base + 3 {
            i.clients.push(atpp::sim::generator::PpClient {
                id,
                name: name.into(),
            });
        }
    });
    let clients = pp.client.clients().await.expect("clients");
    let ours: Vec<&Client> = clients.iter().filter(|c| c.id >= base).collect();
    assert_eq!(ours.len(), 3);
    assert!(ours.iter().all(|c| c.name == name), "{ours:?}");

    // The wire really carried the encoded forms.
    let base_url = pp.world.passportal_server.base_url();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base_url}/api/v2/auth/client_token"))
        .header("x-key", SIM_PASSPORTAL_KEY)
        .header("x-hash", content_hash(SIM_PASSPORTAL_SECRET, "raw"))
        .json(&serde_json::json!({ "scope": "docs_api", "content": "raw" }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let raw: serde_json::Value = http
        .get(format!(
            "{base_url}/api/v2/documents/clients?resultsPerPage=1000&pageNum=1"
        ))
        .header(
            "x-access-token",
            token["access_token"].as_str().expect("token"),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let wire_names: Vec<&str> = raw["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|c| c["id"].as_i64() >= Some(base))
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        wire_names,
        [
            "Smith%20%26%20Jones%20Caf%C3%A9",
            "Smith &amp; Jones Caf&#233;",
            "Smith & Jones Café"
        ]
    );

    // A document's title and field texts, encoded the same way, arrive decoded.
    let doc = NewDocument {
        client_id: base,
        doc_type: DocType::Contact,
        title: "Zoë O'Brien & Partners".into(),
        fields: vec![
            (fields::FIRST_NAME.into(), "Zoë".into()),
            (fields::LAST_NAME.into(), "O'Brien & Partners".into()),
            (fields::PHONE.into(), "(303) 555-0101".into()),
            (fields::AUTOTASK_ID.into(), "30000101".into()),
        ],
    };
    let id = pp.client.create_document(&doc).await.expect("create");
    let found = pp
        .client
        .find_documents(base, DocType::Contact, &doc.title)
        .await
        .expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, id);
    assert_eq!(found[0].title, doc.title);
    assert_eq!(found[0].fields, doc.fields);
    pp.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_mid_extract_is_renewed_without_losing_a_page() {
    // Every token stops working after 20 requests; pages of 3 make the extract page a lot.
    let options = PassportalSimOptions {
        token_max_uses: Some(20),
        ..Default::default()
    };
    let pp = start(&small(13), options, |c| c.page_size = 3).await;
    let before = pp.world.passportal.token_exchanges();
    extract_and_compare(&pp).await;
    assert!(
        pp.world.passportal.token_exchanges() >= before + 5,
        "renewed after 401s: {} exchanges",
        pp.world.passportal.token_exchanges()
    );
    pp.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_extract_is_renewed_before_it_expires() {
    // Tokens live 2 s and are renewed 1 s before expiry; with 40 ms per answer and at most 2
    // requests in flight, the extract's hundred and more requests span several token lifetimes
    // (documents are listed across clients, so the extract makes fewer requests than it did).
    let options = PassportalSimOptions {
        token_lifetime_secs: 2,
        latency_ms: 40,
        ..Default::default()
    };
    let pp = start(&small(14), options, |c| {
        c.renew_before_secs = 1;
        c.concurrency = 2;
        c.page_size = 5;
    })
    .await;
    let before = pp.world.passportal.token_exchanges();
    extract_and_compare(&pp).await;
    let sent = pp.client.requests_sent();
    assert!(sent > 120, "enough requests to outlive a token: {sent}");
    assert!(
        pp.world.passportal.token_exchanges() >= before + 2,
        "renewed: {} exchanges",
        pp.world.passportal.token_exchanges()
    );
    pp.assert_no_unexpected_requests();
}

fn contact(client_id: i64, title: &str, autotask_id: Option<i64>) -> NewDocument {
    let mut fields = vec![
        (fields::FIRST_NAME.to_string(), "Jane".to_string()),
        (
            fields::EMAIL.to_string(),
            "jane.roe@example.com".to_string(),
        ),
    ];
    if let Some(id) = autotask_id {
        fields.push((fields::AUTOTASK_ID.to_string(), id.to_string()));
    }
    NewDocument {
        client_id,
        doc_type: DocType::Contact,
        title: title.to_string(),
        fields,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_document_returns_the_id_a_read_back_finds() {
    let pp = start(&small(15), PassportalSimOptions::default(), |_| {}).await;
    let sim = &pp.world.passportal;
    let client_id = sim.clients()[0].id;

    let doc = contact(client_id, "Jane Roe", Some(30_000_999));
    let id = pp.client.create_document(&doc).await.expect("create");
    let held = sim.document(id).expect("the simulator holds it");
    assert_eq!(
        (held.client_id, held.title.as_str(), &held.fields),
        (client_id, "Jane Roe", &doc.fields)
    );
    let found = pp
        .client
        .find_documents(client_id, DocType::Contact, "Jane Roe")
        .await
        .expect("find");
    assert_eq!(found.iter().map(|d| d.id).collect::<Vec<_>>(), [id]);
    assert_eq!(found[0].autotask_id(fields::AUTOTASK_ID), Some(30_000_999));

    // The same title again: a new id, not the first one.
    let again = pp
        .client
        .create_document(&contact(client_id, "Jane Roe", Some(30_001_000)))
        .await
        .expect("create");
    assert_ne!(again, id);
    assert_eq!(
        sim.document(again)
            .and_then(|d| d.field(fields::AUTOTASK_ID).map(str::to_string)),
        Some("30001000".into())
    );

    // Several creates of one title at once: each gets the document carrying its Autotask ID.
    let docs: Vec<NewDocument> = (0..4)
        .map(|k| contact(client_id, "Front Office", Some(40_000_000 + k)))
        .collect();
    let ids = futures::future::join_all(docs.iter().map(|d| pp.client.create_document(d))).await;
    for (doc, id) in docs.iter().zip(ids) {
        let id = id.expect("create");
        let held = sim.document(id).expect("held");
        assert_eq!(
            held.field(fields::AUTOTASK_ID),
            doc.autotask_id(fields::AUTOTASK_ID),
            "document {id}"
        );
    }

    // Update: the title and the fields sent change, the others stay.
    let mut changed = contact(client_id, "Jane Roe-Smith", None);
    changed.fields = vec![(fields::EMAIL.into(), "jane.smith@example.com".into())];
    pp.client
        .update(id, atpp::api::passportal::Create::Document(&changed))
        .await
        .expect("update");
    let held = sim.document(id).expect("held");
    assert_eq!(held.title, "Jane Roe-Smith");
    assert_eq!(held.field(fields::EMAIL), Some("jane.smith@example.com"));
    assert_eq!(held.field(fields::FIRST_NAME), Some("Jane"));
    assert_eq!(sim.updates(), 1);

    // Users: the created id is the one the list shows.
    let user = NewUser {
        first_name: "Ana".into(),
        last_name: "Núñez & Co".into(),
        email: Some("ana@msp.example".into()),
    };
    let uid = pp.client.create_user(&user).await.expect("create user");
    let users = pp.client.users().await.expect("users");
    let listed = users.iter().find(|u| u.id == uid).expect("listed");
    assert_eq!(listed.last_name.as_deref(), Some("Núñez & Co"));

    // Bad requests are refused with the documented body, naming the route.
    let err = pp
        .client
        .create_document(&contact(999_999_999, "Nobody", Some(1)))
        .await
        .expect_err("unknown client");
    let WriteError::Rejected(e) = &err else {
        panic!("{err}")
    };
    let text = e.to_string();
    assert!(text.contains("POST /api/v2/documents") && text.contains("invalid clientId"));
    let err = pp
        .client
        .update(
            1,
            atpp::api::passportal::Create::Document(&contact(client_id, "X", None)),
        )
        .await
        .expect_err("unknown id");
    assert!(matches!(err, WriteError::Rejected(_)), "{err}");
    assert!(err.to_string().contains("invalid id"), "{err}");
    let err = pp.client.document_fields(1).await.expect_err("unknown id");
    let refused = matches!(
        &err,
        PassportalError::Http { status: 400, message, .. } if message == "invalid id"
    );
    assert!(refused, "{err}");
    pp.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_the_instance_does_not_know_is_refused() {
    let pp = start(&small(16), PassportalSimOptions::default(), |c| {
        c.templates.contact = "TPL-NOPE".into();
    })
    .await;
    let client_id = pp.world.passportal.clients()[0].id;
    let err = pp
        .client
        .create_document(&contact(client_id, "Jane Roe", Some(2)))
        .await
        .expect_err("refused");
    assert!(matches!(err, WriteError::Rejected(_)), "{err}");
    assert!(err.to_string().contains("invalid templateUid"), "{err}");
    assert_eq!(pp.world.passportal.creates(), 0);
}

/// An error and all its causes, as the command line prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_faults_are_survived() {
    let options = PassportalSimOptions {
        faults: WriteFaultPlan {
            seed: 5,
            read_rate_500: 0.03,
            read_rate_429: 0.01,
            read_rate_truncated: 0.02,
            read_rate_drop: 0.02,
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    };
    let pp = start(&small(17), options, |c| c.max_attempts = 8).await;
    extract_and_compare(&pp).await;
    pp.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_keeps_failing_names_the_route_and_the_client() {
    // Every document detail answers 500 (documents' ids start at 500001).
    let options = PassportalSimOptions {
        faults: WriteFaultPlan {
            read_rate_500: 1.0,
            read_paths: vec!["/api/v2/documents/5".into()],
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    };
    let pp = start(&small(18), options, |c| c.max_attempts = 2).await;
    let err = extract_passportal(&pp.client, &pp.dir.path().join("run"))
        .await
        .expect_err("fails");
    let text = chain(&err);
    assert!(text.contains("GET /api/v2/documents/5"), "{text}");
    assert!(text.contains("HTTP 500"), "{text}");
    let named = pp
        .world
        .passportal
        .clients()
        .into_iter()
        .any(|c| text.contains(&format!("client {} ({:?})", c.id, c.name)));
    assert!(named, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_faults_are_retried_or_reported_unknown_and_reconciled() {
    // Throttled creates are retried until they pass.
    let options = PassportalSimOptions {
        faults: WriteFaultPlan {
            seed: 3,
            rate_429: 0.5,
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    };
    let pp = start(&small(19), options, |c| c.max_attempts = 10).await;
    let client_id = pp.world.passportal.clients()[0].id;
    for k in 0..4 {
        let doc = contact(client_id, &format!("Throttled {k}"), Some(k));
        let id = pp.client.create_document(&doc).await.expect("create");
        assert_eq!(
            pp.world.passportal.document(id).map(|d| d.title),
            Some(doc.title)
        );
    }
    assert_eq!(pp.world.passportal.creates(), 4, "each applied once");

    // Applied, then answered 500: unknown; the read-back finds the one document it made.
    let options = PassportalSimOptions {
        faults: WriteFaultPlan {
            rate_applied_then_500: 1.0,
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    };
    let pp = start(&small(19), options, |_| {}).await;
    let client_id = pp.world.passportal.clients()[0].id;
    let doc = contact(client_id, "Maybe Made", Some(77));
    let err = pp.client.create_document(&doc).await.expect_err("500");
    assert!(matches!(err, WriteError::Unknown(_)), "{err}");
    let found = pp
        .client
        .find_documents(client_id, DocType::Contact, "Maybe Made")
        .await
        .expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].autotask_id(fields::AUTOTASK_ID), Some(77));

    // Answered 500 without applying: also unknown, and the read-back finds nothing to link.
    let options = PassportalSimOptions {
        faults: WriteFaultPlan {
            rate_500: 1.0,
            ..WriteFaultPlan::default()
        },
        ..Default::default()
    };
    let pp = start(&small(19), options, |_| {}).await;
    let client_id = pp.world.passportal.clients()[0].id;
    let err = pp
        .client
        .create_document(&contact(client_id, "Never Made", Some(3)))
        .await
        .expect_err("500");
    assert!(matches!(err, WriteError::Unknown(_)), "{err}");
    assert!(err.to_string().contains("POST /api/v2/documents"), "{err}");
    let found = pp
        .client
        .find_documents(client_id, DocType::Contact, "Never Made")
        .await
        .expect("find");
    assert!(found.is_empty());
    assert_eq!(pp.world.passportal.creates(), 0);
}
