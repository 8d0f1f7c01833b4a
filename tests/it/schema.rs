//! The schema table (`model::schema`) is the one declaration of each entity: the review tables
//! show exactly its `shown` columns with the staged values, and the load's request bodies carry
//! exactly its template fields, so adding a field is one line there.

use crate::harness::{col, read_table, TestWorld};
use atpp::model::entity::Entity;
use atpp::model::schema::Schema;
use atpp::sim::generator::MspSpec;
use atpp::stages::extract::autotask::read_columns;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_tables_and_request_bodies_follow_the_schema_table() {
    let t = TestWorld::start(&MspSpec::demo(5)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");

    for entity in Entity::ALL {
        let schema = Schema::of(*entity);
        let shown: Vec<(&str, &str)> = schema.review_columns().collect();
        let columns: Vec<&str> = shown.iter().map(|(c, _)| *c).collect();
        let staged = read_columns(&run.path(entity.autotask_file()), &columns).expect("staged");
        let mut checked = 0;
        for table in ["match", "create", "exclude"] {
            let rows = read_table(&run.path(&format!("review/{entity}.{table}.csv")));
            let header = &rows[0];
            let at = col(header, "autotask_id");
            for (i, (column, title)) in shown.iter().enumerate() {
                let c = col(header, title);
                for row in &rows[1..] {
                    let id: i64 = row[at].parse().expect("id");
                    let want = staged[&id][i].clone().unwrap_or_default();
                    assert_eq!(
                        row[c], want,
                        "{entity}.{table} {id}: {column} shown as {title}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "{entity}: some shown cell was checked");
    }

    // The bodies a load would send carry the schema's template fields and nothing else but the
    // Autotask id.
    t.app.plan(Some(&run.id)).expect("plan");
    let (_, summary) = t.app.load_with(Some(&run.id), true).await.expect("dry run");
    let docs: Vec<&String> = summary
        .dry_run_requests
        .iter()
        .filter(|r| r.contains("/api/v2/documents"))
        .collect();
    assert!(!docs.is_empty(), "the demo creates documents");
    let labels: Vec<&str> = Entity::ALL
        .iter()
        .flat_map(|e| Schema::of(*e).template_fields().map(|(_, l)| l))
        .chain([atpp::model::schema::fields::AUTOTASK_ID])
        .collect();
    for request in docs {
        // "POST /path {body}", and "  # ..." after it when the parent is created in the same load.
        let body = request
            .split_once(' ')
            .unwrap()
            .1
            .split_once(' ')
            .unwrap()
            .1;
        let body = body.split("  # ").next().unwrap();
        let body: serde_json::Value = serde_json::from_str(body).expect("the body is JSON");
        // One document, or a batch of them.
        let documents = match body {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for document in &documents {
            for f in document["fields"].as_array().expect("fields") {
                let name = f["name"].as_str().expect("a label");
                assert!(
                    labels.contains(&name),
                    "{name} is not declared in the schema table"
                );
            }
        }
    }
}
