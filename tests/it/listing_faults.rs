//! Passportal listings against a misbehaving server (issue 17): a page answering 200 with
//! `success: false` or `results: null`, an empty page mid-listing, a route ignoring `pageNum`, a
//! redirect to another host and an oversized answer. A listing either returns exactly what the
//! simulator holds (compared with its own state) or fails naming the route and the page, after
//! a bounded number of requests (counted by the simulator). And the dry run prints byte for
//! byte the bodies the load sends (compared with what the simulator received).

use crate::harness::TestWorld;
use atpp::api::http::HttpError;
use atpp::api::passportal::routes::{LIST_CLIENTS, LIST_DOCUMENTS, LIST_USERS};
use atpp::api::passportal::{NewClient, PassportalClient, PassportalError, Settings, WriteError};
use atpp::commands::demo::{sim_passportal_credentials, World, DEMO_PIPELINE};
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::{PageFault, PassportalSimOptions, ReadFaultPlan, Redirect};
use atpp::stages::extract::passportal::{extract_passportal, read_clients, CLIENTS};
use axum::http::HeaderMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 47 Passportal clients: pages of 10 make five pages, the last one short.
fn spec() -> MspSpec {
    MspSpec {
        companies: 40,
        passportal_only: 4,
        inactive: 4,
        resources: 16,
        ..MspSpec::demo(17)
    }
}

struct Pp {
    world: World,
    client: PassportalClient,
    dir: tempfile::TempDir,
}

/// The simulators with `faults`, and a client reading pages of 10 with fast retries.
async fn start(faults: ReadFaultPlan, tweak: impl FnOnce(&mut Settings)) -> Pp {
    let options = PassportalSimOptions {
        read_faults: faults,
        ..Default::default()
    };
    start_with(options, tweak).await
}

async fn start_with(options: PassportalSimOptions, tweak: impl FnOnce(&mut Settings)) -> Pp {
    let world = World::start(&spec(), 0, 0, AutotaskSimOptions::default(), options)
        .await
        .expect("simulators start");
    let dir = tempfile::tempdir().expect("temp dir");
    let pipeline = world
        .pipeline(DEMO_PIPELINE, &dir.path().join("staging"))
        .expect("pipeline");
    let mut settings = Settings::from(&pipeline.passportal);
    settings.page_size = 10;
    settings.http.requests_per_sec = Some(10_000);
    settings.http.max_attempts = 3;
    settings.http.min_backoff = Duration::from_millis(1);
    settings.http.max_backoff = Duration::from_millis(5);
    tweak(&mut settings);
    let client = PassportalClient::connect(&settings, sim_passportal_credentials())
        .await
        .expect("connect");
    Pp { world, client, dir }
}

impl Pp {
    /// The client ids the simulator holds, in id order.
    fn held_clients(&self) -> Vec<i64> {
        self.world
            .passportal
            .clients()
            .iter()
            .map(|c| c.id)
            .collect()
    }

    async fn listed_clients(&self) -> Result<Vec<i64>, PassportalError> {
        Ok(self.client.clients().await?.iter().map(|c| c.id).collect())
    }

    fn client_gets(&self) -> u64 {
        self.world.passportal.gets(LIST_CLIENTS.path)
    }

    /// GETs one more clean listing of clients costs (every fault spent by now).
    async fn clean_listing_cost(&self) -> u64 {
        let before = self.client_gets();
        self.listed_clients().await.expect("clean listing");
        self.client_gets() - before
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_false_and_null_pages_are_read_again_and_the_listing_is_complete() {
    let pp = start(
        ReadFaultPlan {
            success_false: vec![PageFault::new(LIST_CLIENTS.path, 2, 2)],
            null_results: vec![
                PageFault::new(LIST_CLIENTS.path, 4, 1),
                PageFault::new(LIST_USERS.path, 1, 1),
            ],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let held = pp.held_clients();
    assert_eq!(held.len(), 47);
    assert_eq!(pp.listed_clients().await.unwrap(), held);
    let faulted = pp.client_gets();
    let clean = pp.clean_listing_cost().await;
    assert_eq!(clean, 5, "five pages, the last short");
    assert_eq!(faulted, clean + 3, "each bad page read again, nothing else");
    let users: Vec<i64> = pp
        .client
        .users()
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    let held_users: Vec<i64> = pp.world.passportal.users().iter().map(|u| u.id).collect();
    assert_eq!(users, held_users);
    eprintln!("clients listing: {clean} GETs clean, {faulted} with 3 bad pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_stays_broken_fails_the_listing_naming_route_and_page() {
    let pp = start(
        ReadFaultPlan {
            success_false: vec![PageFault::new(LIST_CLIENTS.path, 3, u32::MAX)],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let err = pp.listed_clients().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, PassportalError::IncompletePage { page: 3, .. }),
        "{err:?}"
    );
    assert!(text.contains(LIST_CLIENTS.path), "{text}");
    assert!(text.contains("page 3"), "{text}");
    assert!(text.contains("success: false"), "{text}");
    // Pages 1 and 2, then page 3 three times (max_attempts), and no further page.
    assert_eq!(pp.client_gets(), 2 + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_page_mid_listing_is_read_again_not_taken_as_the_end() {
    let pp = start(
        ReadFaultPlan {
            empty_page: vec![PageFault::new(LIST_CLIENTS.path, 2, 1)],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    assert_eq!(pp.listed_clients().await.unwrap(), pp.held_clients());
    let faulted = pp.client_gets();
    assert_eq!(faulted, pp.clean_listing_cost().await + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extract_stages_every_client_and_document_through_broken_pages() {
    // Documents are listed per type across clients: the first listing's first page is broken
    // three times (two `success: false`, one `results: null`), one short of the attempts.
    let pp = start(
        ReadFaultPlan {
            empty_page: vec![PageFault::new(LIST_CLIENTS.path, 3, 1)],
            success_false: vec![PageFault::new(LIST_DOCUMENTS.path, 1, 2)],
            null_results: vec![PageFault::new(LIST_DOCUMENTS.path, 1, 1)],
            ..Default::default()
        },
        |s| s.http.max_attempts = 4,
    )
    .await;
    let run_dir = pp.dir.path().join("run");
    let gets = || {
        [LIST_CLIENTS.path, LIST_USERS.path, LIST_DOCUMENTS.path]
            .iter()
            .map(|p| pp.world.passportal.gets(p))
            .sum::<u64>()
    };
    extract_passportal(&pp.client, &run_dir)
        .await
        .expect("extract");
    let faulted = gets();
    // Every fault is spent: a second extract is a clean one.
    extract_passportal(&pp.client, &pp.dir.path().join("again"))
        .await
        .expect("clean extract");
    let clean = gets() - faulted;
    let owners: std::collections::HashSet<(i64, &str)> = pp
        .world
        .passportal
        .documents()
        .iter()
        .map(|d| (d.client_id, d.doc_type.as_str()))
        .collect();
    eprintln!(
        "passportal extract listings: {clean} GETs clean ({} clients, {} (client, type) \
         owners), {faulted} with 4 bad pages",
        pp.held_clients().len(),
        owners.len()
    );
    assert_eq!(faulted, clean + 4, "exactly the bad pages are read again");
    let staged: Vec<i64> = read_clients(&run_dir.join(CLIENTS))
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(staged, pp.held_clients());
    let held_docs = pp.world.passportal.documents().len();
    let staged_docs: usize = atpp::model::entity::DocType::ALL
        .iter()
        .map(|t| {
            atpp::stages::extract::passportal::read_documents(
                &run_dir.join(atpp::stages::extract::passportal::documents_path(*t)),
            )
            .unwrap()
            .len()
        })
        .sum();
    assert_eq!(staged_docs, held_docs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_ignoring_page_num_ends_in_an_error_after_two_requests() {
    let pp = start(
        ReadFaultPlan {
            ignore_page_num: vec![LIST_CLIENTS.path.to_string()],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let err = pp.listed_clients().await.unwrap_err();
    assert!(
        matches!(err, PassportalError::Paging { page: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("ignores `pageNum`"), "{err}");
    assert_eq!(pp.client_gets(), 2, "page 1, then page 2 seen repeating it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_longer_than_its_page_bound_fails() {
    let pp = start(ReadFaultPlan::default(), |s| s.max_pages = 3).await;
    let err = pp.listed_clients().await.unwrap_err();
    assert!(
        matches!(err, PassportalError::Paging { page: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("bound of 3 pages"), "{err}");
    assert_eq!(pp.client_gets(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_page_times_out_and_is_read_again_or_fails_naming_it() {
    let hung = |times| ReadFaultPlan {
        slow: vec![PageFault::new(LIST_CLIENTS.path, 2, times)],
        slow_ms: 5_000,
        ..Default::default()
    };
    let one_second = |s: &mut Settings| {
        s.http.timeout = Duration::from_secs(1);
        s.http.max_attempts = 2;
    };
    // Hung once: the page is read again and the listing is complete.
    let pp = start(hung(1), one_second).await;
    assert_eq!(pp.listed_clients().await.unwrap(), pp.held_clients());
    let faulted = pp.client_gets();
    assert_eq!(faulted, pp.clean_listing_cost().await + 1);
    // Hung every time: the listing fails naming the route and the page.
    let pp = start(hung(u32::MAX), one_second).await;
    let err = pp.listed_clients().await.unwrap_err();
    assert!(
        matches!(err, PassportalError::Send(HttpError::Timeout { .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("GET /api/v2/documents/clients (page 2)"),
        "{text}"
    );
    assert_eq!(pp.client_gets(), 1 + 2);
}

/// Another host on loopback that records the headers of every request it gets.
async fn other_host() -> (atpp::sim::RunningSim, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(headers);
            axum::Json(serde_json::json!({ "success": true, "results": [], "id": 1 }))
        }
    });
    let running = atpp::sim::RunningSim::serve(app, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (running, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_refused_and_carries_no_credentials() {
    let (host, seen) = other_host().await;
    for (path, status) in [(LIST_CLIENTS.path, 302), ("/api/v2/clients", 307)] {
        let pp = start(
            ReadFaultPlan {
                redirect: Some(Redirect {
                    path: path.to_string(),
                    to: host.base_url(),
                    status,
                }),
                ..Default::default()
            },
            |_| {},
        )
        .await;
        if path == LIST_CLIENTS.path {
            let err = pp.listed_clients().await.unwrap_err();
            assert!(
                matches!(err, PassportalError::Send(HttpError::Redirect { .. })),
                "{err:?}"
            );
            let text = err.to_string();
            assert!(text.contains("refused to follow a redirect"), "{text}");
            assert!(text.contains(&host.base_url()), "{text}");
            assert_eq!(pp.client_gets(), 1, "a refused redirect is not retried");
        } else {
            let before = pp.world.passportal.clients().len();
            let err = pp
                .client
                .create_client(&NewClient {
                    name: "Redirected Ltd".into(),
                })
                .await
                .unwrap_err();
            assert!(matches!(err, WriteError::Rejected(_)), "{err:?}");
            assert_eq!(pp.world.passportal.clients().len(), before);
        }
    }
    let got = seen.lock().unwrap();
    for headers in got.iter() {
        for secret in ["x-access-token", "x-key", "x-hash"] {
            assert!(
                headers.get(secret).is_none(),
                "{secret} leaked: {headers:?}"
            );
        }
    }
    assert_eq!(got.len(), 0, "the other host is never contacted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_answer_fails_naming_the_route_without_reading_it_all() {
    let pp = start(
        ReadFaultPlan {
            oversized: Some((LIST_USERS.path.to_string(), 4 * 1024 * 1024)),
            ..Default::default()
        },
        |s| s.http.max_body_bytes = 1024 * 1024,
    )
    .await;
    let err = pp.client.users().await.unwrap_err();
    assert!(
        matches!(err, PassportalError::Send(HttpError::TooLarge { .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("GET /api/v2/users (page 1)"), "{text}");
    assert!(text.contains("1048576 bytes"), "{text}");
    assert_eq!(pp.world.passportal.gets(LIST_USERS.path), 1, "not retried");
    // The other listings are unaffected.
    assert_eq!(pp.listed_clients().await.unwrap(), pp.held_clients());
}

/// Listing requests for `n` records in pages of 10: the last page short, or (a multiple of
/// ten) an empty page read twice after the full ones.
fn pages_of(n: u64) -> u64 {
    n / 10 + if n.is_multiple_of(10) { 2 } else { 1 }
}

/// The documents staged, all types.
fn staged_documents(run_dir: &std::path::Path) -> usize {
    atpp::model::entity::DocType::ALL
        .iter()
        .map(|t| {
            atpp::stages::extract::passportal::read_documents(
                &run_dir.join(atpp::stages::extract::passportal::documents_path(*t)),
            )
            .unwrap()
            .len()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_are_staged_per_type_across_clients_one_request_per_page() {
    let pp = start(ReadFaultPlan::default(), |_| {}).await;
    let run_dir = pp.dir.path().join("run");
    extract_passportal(&pp.client, &run_dir)
        .await
        .expect("extract");
    let held = pp.world.passportal.documents();
    let pages: u64 = atpp::model::entity::DocType::ALL
        .iter()
        .map(|t| pages_of(held.iter().filter(|d| d.doc_type == *t).count() as u64))
        .sum();
    let listings = pp.world.passportal.gets(LIST_DOCUMENTS.path);
    let clients = pp.held_clients().len() as u64;
    eprintln!(
        "documents across clients: {} documents of {clients} clients in {listings} listing \
         requests (per client and type it took at least {})",
        held.len(),
        3 * clients
    );
    assert_eq!(listings, pages, "ceil(documents / page) per type");
    assert!(
        listings < 3 * clients,
        "fewer than one request per client and type"
    );
    assert_eq!(staged_documents(&run_dir), held.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_insisting_on_client_id_is_read_client_by_client() {
    let options = PassportalSimOptions {
        listing_needs_client: true,
        ..Default::default()
    };
    let pp = start_with(options, |_| {}).await;
    let run_dir = pp.dir.path().join("run");
    extract_passportal(&pp.client, &run_dir)
        .await
        .expect("extract");
    let clients = pp.held_clients().len() as u64;
    let listings = pp.world.passportal.gets(LIST_DOCUMENTS.path);
    // One refused listing per type, then at least one listing per client and type.
    assert!(listings >= 3 + 3 * clients, "{listings} listings");
    assert_eq!(
        staged_documents(&run_dir),
        pp.world.passportal.documents().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_prints_byte_for_byte_the_bodies_the_load_sends() {
    let t = TestWorld::start(&MspSpec::demo(23)).await;
    let (run, _) = t.app.extract().await.unwrap();
    t.app.match_run(Some(&run.id)).unwrap();
    t.app.plan(Some(&run.id)).unwrap();
    let (_, dry) = t.app.load_with(Some(&run.id), true).await.unwrap();
    assert!(t.world.passportal.writes_received().is_empty());
    let (_, load) = t.app.load(Some(&run.id)).await.unwrap();
    assert_eq!(load.failed(), 0);
    let sent: Vec<String> = t
        .world
        .passportal
        .writes_received()
        .iter()
        .map(|w| {
            format!(
                "{} {} {}",
                w.method,
                w.path,
                String::from_utf8_lossy(&w.body)
            )
        })
        .collect();
    assert!(!dry.dry_run_requests.is_empty());
    assert_eq!(
        sent.len(),
        dry.dry_run_requests.len(),
        "one request per line"
    );
    // A document under a client this load creates shows `"clientId":0`: the id is known only
    // once the client exists (a batch of them shows it in every document). Every other byte
    // must be what was sent.
    let with_placeholder: std::collections::HashSet<String> =
        sent.iter().map(|s| zero_client_ids(s)).collect();
    let mut placeholders = 0;
    for line in &dry.dry_run_requests {
        match line.split_once("  # clientId") {
            Some((request, _)) => {
                placeholders += 1;
                assert!(with_placeholder.contains(request), "{line} was not sent");
            }
            None => assert!(sent.contains(line), "dry run {line} was not sent as such"),
        }
    }
    assert!(
        sent.iter()
            .any(|s| s.starts_with("POST /api/v2/documents [")),
        "documents went in batches, and the dry run showed them"
    );
    eprintln!(
        "dry run: {} requests, {placeholders} with a client id known only at load",
        sent.len()
    );
    t.assert_no_unexpected_requests();
}

/// `text` with every `"clientId":<digits>` made `"clientId":0`.
fn zero_client_ids(text: &str) -> String {
    let key = "\"clientId\":";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        out.push_str(&rest[..at + key.len()]);
        rest = rest[at + key.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('0');
    }
    out.push_str(rest);
    out
}
