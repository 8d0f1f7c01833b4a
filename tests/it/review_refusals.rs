//! The edits that used to slip through or point to the wrong place (issue 14), each refused at
//! the exact cell: file, row as the spreadsheet shows it, column, and both values. Nothing is
//! planned and nothing reaches Passportal.

use crate::harness::{col, read_table, write_table, TestWorld};
use atpp::sim::generator::MspSpec;
use atpp::store::staging::Run;

/// A demo world with a matched run.
async fn matched(seed: u64) -> (TestWorld, Run) {
    let t = TestWorld::start(&MspSpec::demo(seed)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    (t, run)
}

/// The plan's refusal, after checking it planned nothing.
fn refusal(t: &TestWorld, run: &Run) -> String {
    let _ = std::fs::remove_file(run.path("plan/plan.json"));
    let err = t.app.plan(Some(&run.id)).expect_err("plan refuses");
    assert!(!run.path("plan/plan.json").exists(), "a plan was written");
    assert_eq!(t.world.passportal.creates(), 0);
    format!("{err:#}")
}

fn assert_has(text: &str, want: &str) {
    assert!(text.contains(want), "want {want:?} in:\n{text}");
}

/// Sorting one column on its own: the users' Passportal ids no longer sit next to their names,
/// and the names no longer next to their ids. Both are refused row by row, never "ignored".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_sorted_on_its_own_is_refused_row_by_row() {
    let (t, run) = matched(31).await;
    let path = run.path("review/resources.match.csv");
    let original = read_table(&path);
    assert!(original.len() > 3, "the demo links several users");
    let pp = col(&original[0], "passportal_id");

    // passportal_id sorted descending on its own.
    let mut table = original.clone();
    let mut ids: Vec<String> = table[1..].iter().map(|r| r[pp].clone()).collect();
    ids.sort_by_key(|id| std::cmp::Reverse(id.parse::<i64>().unwrap()));
    let mut moved = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        if table[i + 1][pp] != id {
            moved.push((i + 2, table[i + 1][pp].clone(), id.clone()));
        }
        table[i + 1][pp] = id;
    }
    assert!(moved.len() > 1);
    write_table(&path, &table);
    let text = refusal(&t, &run);
    for (row, was, now) in &moved {
        assert_has(
            &text,
            &format!(
                "review/resources.match.csv: row {row}, column passportal_id: passportal_id was \
                 changed from {was} to {now}, but passportal_name still shows"
            ),
        );
    }

    // autotask_name sorted ascending on its own.
    let name = col(&original[0], "autotask_name");
    let at = col(&original[0], "autotask_id");
    let mut table = original.clone();
    let mut names: Vec<String> = table[1..].iter().map(|r| r[name].clone()).collect();
    names.sort();
    for (i, n) in names.into_iter().enumerate() {
        table[i + 1][name] = n;
    }
    let wrong: Vec<usize> = (1..table.len())
        .filter(|i| table[*i][name] != original[*i][name])
        .collect();
    assert!(!wrong.is_empty());
    write_table(&path, &table);
    let text = refusal(&t, &run);
    for i in wrong {
        assert_has(
            &text,
            &format!(
                "review/resources.match.csv: row {}, column autotask_name: autotask_name is {:?} \
                 here, but Autotask id {} was written with {:?}",
                i + 1,
                table[i][name],
                table[i][at],
                original[i][name]
            ),
        );
    }
    assert!(!text.contains("ignored"), "{text}");
}

/// A child matched to a document of another client is refused naming the child's own table and
/// row (not its company's table).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_moved_under_another_client_names_the_childs_row() {
    let (t, run) = matched(32).await;
    let path = run.path("review/locations.create.csv");
    let mut table = read_table(&path);
    let h = table[0].clone();
    let (action, pp, pp_name, client) = (
        col(&h, "action"),
        col(&h, "passportal_id"),
        col(&h, "passportal_name"),
        col(&h, "passportal_client_id"),
    );
    let row = (1..table.len())
        .find(|i| !table[*i][client].is_empty())
        .expect("a new location of a linked company");
    let own_client = table[row][client].clone();
    // The demo's Passportal locations are all matched: take one of another client away from its
    // own row (that row becomes a create) and put it under this row's company.
    let match_path = run.path("review/locations.match.csv");
    let mut matches = read_table(&match_path);
    let candidates = read_table(&run.path("review/locations.passportal.csv"));
    let c_client = col(&candidates[0], "passportal_client_id");
    let client_of = |doc: &str| {
        candidates[1..]
            .iter()
            .find(|c| c[0] == doc)
            .map(|c| c[c_client].clone())
            .unwrap_or_default()
    };
    let m = (1..matches.len())
        .find(|i| client_of(&matches[*i][pp]) != own_client)
        .expect("a location of another client");
    let other = (matches[m][pp].clone(), client_of(&matches[m][pp]));
    matches[m][action] = "create".into();
    matches[m][pp] = String::new();
    matches[m][pp_name] = String::new();
    write_table(&match_path, &matches);
    table[row][action] = "match".into();
    table[row][pp] = other.0.clone();
    table[row][pp_name] = String::new();
    write_table(&path, &table);
    let text = refusal(&t, &run);
    assert_has(
        &text,
        &format!(
            "review/locations.create.csv: row {}, column passportal_id: Passportal id {} is a \
             document of client {}, but this record's company is linked to client {own_client}",
            row + 1,
            other.0,
            other.1
        ),
    );
}

/// A cell with line breaks is one spreadsheet row: the rows after it keep their numbers, in a
/// CSV file and in the workbook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_numbers_are_the_rows_a_spreadsheet_shows() {
    let (mut t, run) = matched(33).await;
    let path = run.path("review/companies.create.csv");
    let mut table = read_table(&path);
    assert!(table.len() > 6);
    table[0].push("notes".into());
    for r in table[1..].iter_mut() {
        r.push(String::new());
    }
    table[2]
        .last_mut()
        .unwrap()
        .push_str("called twice\r\nno answer\r\n\r\nretry");
    table[3].last_mut().unwrap().push_str("see\nabove");
    let a = col(&table[0], "action");
    table[5][a] = "maybe".into();
    write_table(&path, &table);
    let text = refusal(&t, &run);
    assert_has(
        &text,
        "review/companies.create.csv: row 6, column action: unknown action \"maybe\"",
    );

    // The same in a workbook.
    t.app.pipeline.review.format = atpp::model::pipeline::ReviewFormat::Xlsx;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let path = run.path(atpp::stages::review::workbook::WORKBOOK);
    let mut sheets = Vec::new();
    {
        use calamine::Reader;
        let book = calamine::open_workbook_auto(&path).unwrap();
        for name in book.sheet_names() {
            let rows: Vec<Vec<String>> = atpp::stages::review::workbook::read_sheet(&path, &name)
                .unwrap()
                .unwrap()
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            sheets.push((name, rows));
        }
    }
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in &mut sheets {
        if name == "companies.create" {
            rows[0].push("notes".into());
            rows[2].push("line one\nline two\nline three".into());
            rows[5][0] = "maybe".into();
        }
        let ws = wb.add_worksheet();
        ws.set_name(name.as_str()).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    wb.save(&path).unwrap();
    let text = refusal(&t, &run);
    assert_has(
        &text,
        "review/review.xlsx sheet companies.create: row 6, column action: unknown action \"maybe\"",
    );
}

/// Two `action` columns after a copy-paste, or a column the table never had: refused at the
/// header, naming the columns as the spreadsheet letters them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_unknown_columns_are_refused() {
    let (t, run) = matched(34).await;
    let path = run.path("review/companies.create.csv");
    let original = read_table(&path);
    let mut table = original.clone();
    let width = table[0].len();
    table[0].push("Action".into());
    for r in table[1..].iter_mut() {
        r.push("exclude".into());
    }
    write_table(&path, &table);
    let text = refusal(&t, &run);
    let last = (b'A' + width as u8) as char;
    assert_has(
        &text,
        &format!(
            "review/companies.create.csv: row 1, column action: the column action appears twice \
             (columns A and {last})"
        ),
    );
    // The rows of a refused table are not also reported missing.
    assert!(!text.contains("missing from every table"), "{text}");

    let mut table = original.clone();
    table[0].push("decision".into());
    for r in table[1..].iter_mut() {
        r.push("match".into());
    }
    write_table(&path, &table);
    let text = refusal(&t, &run);
    assert_has(
        &text,
        &format!(
            "review/companies.create.csv: row 1, column decision: \"decision\" (column {last}) is \
             not a column of this table"
        ),
    );
}

/// A decision that contradicts its own row is refused with what to do instead, and every
/// problem of a file is listed at once (up to 50, then how many more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contradicting_decisions_are_all_refused_at_once() {
    let (t, run) = matched(35).await;
    let candidates = read_table(&run.path("review/companies.passportal.csv"));
    let linked = col(&candidates[0], "autotask_id");
    let unclaimed: Vec<String> = candidates[1..]
        .iter()
        .filter(|r| r[linked].is_empty())
        .map(|r| r[0].clone())
        .collect();
    let path = run.path("review/companies.create.csv");
    let original = read_table(&path);
    let mut table = original.clone();
    let h = table[0].clone();
    let (action, pp) = (col(&h, "action"), col(&h, "passportal_id"));
    let plain: Vec<usize> = (1..table.len())
        .filter(|i| table[*i][pp].is_empty())
        .collect();
    assert!(plain.len() >= 3 && !unclaimed.is_empty());
    // An id typed beside create, an empty id with match, an exclude with an id.
    table[plain[0]][pp] = unclaimed[0].clone();
    table[plain[1]][action] = "match".into();
    table[plain[2]][action] = "exclude".into();
    table[plain[2]][pp] = unclaimed[0].clone();
    write_table(&path, &table);
    let text = refusal(&t, &run);
    let at = |i: usize| {
        format!(
            "review/companies.create.csv: row {}, column passportal_id: ",
            i + 1
        )
    };
    let typed = &unclaimed[0];
    assert_has(
        &text,
        &format!(
            "{}Passportal id {typed} is filled in but the action is create, which would make a \
             new record beside it: to link to {typed} set action to match; to create a new \
             record clear passportal_id",
            at(plain[0])
        ),
    );
    assert_has(
        &text,
        &format!(
            "{}a match needs a Passportal id: type one from review/companies.passportal.csv, or \
             set action to create or exclude",
            at(plain[1])
        ),
    );
    assert_has(
        &text,
        &format!(
            "{}Passportal id {} is filled in but the action is exclude: to leave the record out \
             clear passportal_id",
            at(plain[2]),
            unclaimed[0]
        ),
    );

    // Many problems in one file: the first 50 listed, the rest counted.
    let mut table = original;
    let first_new = table.len() + 1;
    let at_col = col(&h, "autotask_id");
    for i in 0..60 {
        let mut r = table[1].clone();
        r[at_col] = format!("bad{i}");
        table.push(r);
    }
    write_table(&path, &table);
    let text = refusal(&t, &run);
    let listed = text
        .lines()
        .filter(|l| l.contains("review/companies.create.csv: row"))
        .count();
    assert_eq!(listed, 50, "{text}");
    assert_has(
        &text,
        &format!(
            "review/companies.create.csv: row {first_new}, column autotask_id: \"bad0\" is not an \
             Autotask id"
        ),
    );
    assert_has(
        &text,
        "review/companies.create.csv: ... and 10 more problem(s) in this file",
    );
}
