//! Tests of the simulator's batch creates (the shapes an instance takes, all or none) and of
//! document listings across clients (served, or refused as by an instance insisting on
//! `clientId`).

use super::tests::{call, long_token, start};
use super::*;
use serde_json::json;

fn doc(client: i64, at: &str) -> serde_json::Value {
    json!({
        "templateUid": "TPL-CONTACT", "clientId": client, "title": "Desk",
        "fields": [{ "name": "Autotask ID", "value": at }]
    })
}

#[tokio::test]
async fn batches_are_taken_in_the_instance_shape_all_or_none() {
    for (bodies, array, wrapped) in [
        (BatchBodies::Array, 200, 400),
        (BatchBodies::Wrapped, 400, 200),
        (BatchBodies::None, 400, 400),
    ] {
        let (sim, running) = start(PassportalSimOptions {
            batch_bodies: bodies,
            ..Default::default()
        })
        .await;
        long_token(&sim);
        let http = reqwest::Client::new();
        let post = |body: serde_json::Value| {
            http.post(format!("{}/api/v2/documents", running.base_url()))
                .header("x-access-token", "t")
                .json(&body)
        };
        let (status, answer) = call(post(json!([doc(1, "1"), doc(2, "2")]))).await;
        assert_eq!(status, array, "{bodies:?} array: {answer}");
        let (status, _) = call(post(json!({ "documents": [doc(1, "3"), doc(2, "4")] }))).await;
        assert_eq!(status, wrapped, "{bodies:?} wrapped");
        let (status, answer) = call(post(doc(3, "5"))).await;
        assert_eq!((status, answer), (200, json!({ "success": "true" })));
        // One bad document (an unknown client) refuses the whole batch.
        let (status, _) = call(post(json!([doc(1, "6"), doc(99, "7")]))).await;
        assert_eq!(status, 400);
        let taken = 1 + 2 * usize::from(array == 200) + 2 * usize::from(wrapped == 200);
        assert_eq!(
            sim.documents().len(),
            taken,
            "{bodies:?}: a batch of two, one single"
        );
        assert_eq!(sim.creates(), taken as u64);
        running.stop().await;
    }
}

#[tokio::test]
async fn documents_are_listed_across_clients_unless_the_instance_insists_on_client_id() {
    for needs_client in [false, true] {
        let (sim, running) = start(PassportalSimOptions {
            listing_needs_client: needs_client,
            ..Default::default()
        })
        .await;
        long_token(&sim);
        let http = reqwest::Client::new();
        let create = http
            .post(format!("{}/api/v2/documents", running.base_url()))
            .header("x-access-token", "t")
            .json(&json!([doc(1, "1"), doc(2, "2"), doc(3, "3")]));
        assert_eq!(call(create).await.0, 200);
        let list = |query: &str| {
            http.get(format!("{}/api/v2/documents?{query}", running.base_url()))
                .header("x-access-token", "t")
        };
        let (status, answer) = call(list("type=contact&resultsPerPage=100&pageNum=1")).await;
        if needs_client {
            assert_eq!(status, 400, "{answer}");
        } else {
            let clients: Vec<i64> = answer["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["client_id"].as_i64().unwrap())
                .collect();
            assert_eq!(clients, vec![1, 2, 3]);
        }
        let (status, answer) = call(list("type=contact&clientId=2")).await;
        assert_eq!(status, 200);
        assert_eq!(answer["results"].as_array().unwrap().len(), 1);
        running.stop().await;
    }
}
