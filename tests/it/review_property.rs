//! Property: whatever a spreadsheet does to the demo's review tables, the plan either means
//! exactly the decisions the edited tables express, or is refused naming file, row and column.
//! Never a different plan in silence.
//!
//! A seeded generator applies one spreadsheet operation per round to one table of a matched demo
//! run (sort the whole sheet or one column by any column; insert, delete, duplicate or move rows
//! and columns, also into another table; retype ids as numbers; save in another encoding or
//! delimiter, or as a workbook; edit any single cell). An oracle written from the rules (each
//! row still shows its own staged record, decisions do not contradict their row, every record
//! exactly once, the header has every column once) says which decisions the edited tables
//! express, or that they must be refused. An accepted plan must equal the plan of clean tables
//! holding those decisions (written the plain way); a refusal must be located.

use crate::harness::{read_table, TestWorld};
use crate::review_corpus::{
    save, Save, EXCEL_ANSI, EXCEL_EUROPE, EXCEL_UTF8, LIBREOFFICE, TAB_TEXT,
};
use atpp::model::entity::Entity;
use atpp::sim::generator::MspSpec;
use atpp::stages::review::{same_text, unescape_cell};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ACTIONS: [&str; 3] = ["match", "create", "exclude"];
/// Columns an analyst may change or add; every other column identifies the row.
const FREE: [&str; 5] = ["action", "passportal_id", "autotask_id", "run_id", "notes"];
const REQUIRED: [&str; 5] = [
    "action",
    "passportal_id",
    "autotask_id",
    "autotask_name",
    "run_id",
];

type Sheet = Vec<Vec<String>>;
/// An entity's three tables, by action name.
type Sheets = BTreeMap<&'static str, Sheet>;
/// What a table set decides: Autotask id → (action, Passportal id).
type Decisions = BTreeMap<i64, (String, Option<i64>)>;

/// A row as the run wrote it (formula escapes undone).
struct WrittenRow {
    cells: BTreeMap<String, String>,
}

struct Entity3 {
    entity: Entity,
    sheets: Sheets,
    written: BTreeMap<i64, WrittenRow>,
    columns: BTreeSet<String>,
    candidates: Vec<String>,
}

fn parse_id(s: &str) -> Option<Option<i64>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    s.strip_suffix(".0").unwrap_or(s).parse().ok().map(Some)
}

fn path_of(run_dir: &Path, entity: Entity, action: &str) -> PathBuf {
    run_dir.join(format!("review/{}.{action}.csv", entity.as_str()))
}

/// What the edited tables express, or `None` when they must be refused. The sheets hold cells
/// as the CSV files write them (formula escapes in; a workbook is written without them).
fn oracle(e: &Entity3, sheets: &Sheets, run_id: &str) -> Option<Decisions> {
    let mut out = Decisions::new();
    for sheet in sheets.values() {
        let header: Vec<String> = sheet[0]
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let mut seen = BTreeSet::new();
        for (i, h) in header.iter().enumerate() {
            if h.is_empty() {
                if sheet[1..]
                    .iter()
                    .any(|r| r.get(i).is_some_and(|c| !c.trim().is_empty()))
                {
                    return None;
                }
                continue;
            }
            if !seen.insert(h.clone()) || !(e.columns.contains(h) || FREE.contains(&h.as_str())) {
                return None;
            }
        }
        if REQUIRED.iter().any(|c| !seen.contains(*c)) {
            return None;
        }
        let at = |name: &str| header.iter().position(|h| h == name);
        for row in &sheet[1..] {
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let cell = |name: &str| -> String {
                let raw = at(name).and_then(|i| row.get(i)).map_or("", |c| c.as_str());
                unescape_cell(raw).to_string()
            };
            let id = parse_id(&cell("autotask_id"))??;
            let w = e.written.get(&id)?;
            let action = cell("action").trim().to_ascii_lowercase();
            if !ACTIONS.contains(&action.as_str()) {
                return None;
            }
            let pp = parse_id(&cell("passportal_id"))?;
            if cell("run_id").trim() != run_id {
                return None;
            }
            let w_pp = parse_id(&w.cells["passportal_id"]).unwrap();
            for name in header.iter().filter(|h| !h.is_empty()) {
                if FREE.contains(&name.as_str()) {
                    continue;
                }
                let written = &w.cells[name];
                let same = same_text(written, &cell(name));
                let ok = if name == "passportal_name" && pp != w_pp {
                    written.trim().is_empty() || !same
                } else {
                    same
                };
                if !ok {
                    return None;
                }
            }
            let suggestion = w.cells["action"] != "match" && pp == w_pp;
            match (action.as_str(), pp) {
                ("match", None) => return None,
                ("create" | "exclude", Some(_)) if !suggestion => return None,
                _ => {}
            }
            if out.insert(id, (action, pp)).is_some() {
                return None;
            }
        }
    }
    (out.len() == e.written.len()).then_some(out)
}

/// The written tables with `decisions` in place (passportal_name cleared where the id changed),
/// rows where they were: the plain way to say the same decisions.
fn clean(e: &Entity3, decisions: &Decisions) -> Sheets {
    let mut sheets = e.sheets.clone();
    for sheet in sheets.values_mut() {
        let h = sheet[0].clone();
        let col = |n: &str| h.iter().position(|x| x == n).unwrap();
        let (a, p, n, at) = (
            col("action"),
            col("passportal_id"),
            col("passportal_name"),
            col("autotask_id"),
        );
        for row in sheet[1..].iter_mut() {
            let id: i64 = row[at].parse().unwrap();
            let (action, pp) = &decisions[&id];
            let pp = pp.map(|p| p.to_string()).unwrap_or_default();
            if pp != row[p] {
                row[n] = String::new();
            }
            row[a] = action.clone();
            row[p] = pp;
        }
    }
    sheets
}

/// One spreadsheet operation on one table of `e` (or two, for a row moved between tables).
/// Returns its name, the edited sheets, how they are saved, and whether it is harmless (must
/// be accepted).
enum Saved {
    Csv(Save),
    /// A workbook of every entity's tables; ids typed as numbers when true.
    Xlsx(bool),
}

fn operate(rng: &mut impl Rng, e: &Entity3) -> (String, Sheets, Saved, bool) {
    let mut sheets = e.sheets.clone();
    let filled: Vec<&'static str> = ACTIONS
        .into_iter()
        .filter(|a| sheets[a].len() > 2)
        .collect();
    // The match table half the time: there ids and names pair up.
    let table = if filled.contains(&"match") && rng.gen_bool(0.5) {
        "match"
    } else {
        *filled.choose(rng).unwrap()
    };
    let other = *ACTIONS
        .iter()
        .filter(|a| **a != table)
        .collect::<Vec<_>>()
        .choose(rng)
        .unwrap();
    let sheet = sheets.get_mut(table).unwrap();
    let width = sheet[0].len();
    let rows = sheet.len() - 1;
    // Any column, but half the time one that decides or identifies (where a slip matters).
    let c = if rng.gen_bool(0.6) {
        let name = *["action", "passportal_id", "autotask_id", "autotask_name"]
            .choose(rng)
            .unwrap();
        sheet[0].iter().position(|h| h == name).unwrap()
    } else {
        rng.gen_range(0..width)
    };
    let cname = sheet[0][c].clone();
    let r = rng.gen_range(1..=rows);
    let r2 = rng.gen_range(1..=rows);
    let mut harmless = false;
    let mut saved = Saved::Csv(EXCEL_UTF8);
    let what = match rng.gen_range(0..17) {
        0 => {
            let desc = rng.gen_bool(0.5);
            sheet[1..].sort_by(|a, b| {
                let o = a[c].cmp(&b[c]);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
            harmless = true;
            format!("sort the sheet by {cname}")
        }
        1..=4 => {
            let mut col: Vec<String> = sheet[1..].iter().map(|x| x[c].clone()).collect();
            col.sort();
            if rng.gen_bool(0.5) {
                col.reverse();
            }
            for (x, v) in sheet[1..].iter_mut().zip(col) {
                x[c] = v;
            }
            format!("sort column {cname} on its own")
        }
        5 => {
            let blank = rng.gen_bool(0.5);
            let new = if blank {
                vec![String::new(); width]
            } else {
                let mut x = sheet[r].clone();
                let at = sheet[0].iter().position(|h| h == "autotask_id").unwrap();
                x[at] = "987654321".into();
                x
            };
            sheet.insert(r, new);
            harmless = blank;
            format!(
                "insert a {} row at {}",
                if blank { "blank" } else { "new" },
                r + 1
            )
        }
        6 => {
            sheet.remove(r);
            format!("delete row {}", r + 1)
        }
        7 => {
            let x = sheet[r].clone();
            sheet.insert(r2, x);
            format!("duplicate row {}", r + 1)
        }
        8 => {
            let x = sheet.remove(r);
            if rng.gen_bool(0.5) {
                let to = rng.gen_range(1..=sheet.len());
                sheet.insert(to, x);
                harmless = true;
                format!("move row {} to {to}", r + 1)
            } else {
                let o = sheets.get_mut(other).unwrap();
                let to = rng.gen_range(1..=o.len());
                o.insert(to, x);
                harmless = true;
                format!("move row {} of {table} into {other}", r + 1)
            }
        }
        9 => {
            let name = ["notes", "extra", "", "Notes"]
                .choose(rng)
                .unwrap()
                .to_string();
            let fill = rng.gen_bool(0.5);
            for (i, x) in sheet.iter_mut().enumerate() {
                let v = if i == 0 {
                    name.clone()
                } else if fill {
                    format!("note {i}\nsecond line")
                } else {
                    String::new()
                };
                x.insert(c, v);
            }
            harmless = name.eq_ignore_ascii_case("notes") || !fill;
            format!("insert column {name:?} at {c} (filled: {fill})")
        }
        10 => {
            for x in sheet.iter_mut() {
                x.remove(c);
            }
            harmless = !REQUIRED.contains(&cname.as_str());
            format!("delete column {cname}")
        }
        11 => {
            let to = rng.gen_range(0..width);
            for x in sheet.iter_mut() {
                let v = x.remove(c);
                x.insert(to, v);
            }
            if rng.gen_bool(0.3) {
                for x in sheet.iter_mut() {
                    let v = x[to].clone();
                    x.push(v);
                }
                format!("move column {cname} to {to} and duplicate it")
            } else {
                harmless = true;
                format!("move column {cname} to {to}")
            }
        }
        12 => {
            let sci = rng.gen_bool(0.3);
            for name in ["autotask_id", "passportal_id"] {
                let i = sheet[0].iter().position(|h| h == name).unwrap();
                for x in sheet[1..].iter_mut() {
                    if let Ok(n) = x[i].parse::<i64>() {
                        x[i] = if sci {
                            format!("{:.2E}", n as f64)
                        } else {
                            format!("{n}.0")
                        };
                    }
                }
            }
            harmless = !sci;
            format!("retype ids as numbers (scientific: {sci})")
        }
        13 => {
            let (name, how) = *[
                ("Excel CSV (Windows-1252)", EXCEL_ANSI),
                ("Excel, European locale", EXCEL_EUROPE),
                ("LibreOffice", LIBREOFFICE),
                ("tab-delimited", TAB_TEXT),
            ]
            .choose(rng)
            .unwrap();
            saved = Saved::Csv(how);
            harmless = true;
            format!("save as {name}")
        }
        14 => {
            let numbers = rng.gen_bool(0.5);
            saved = Saved::Xlsx(numbers);
            harmless = true;
            format!("save as a workbook (ids as numbers: {numbers})")
        }
        _ => {
            let value = match rng.gen_range(0..5) {
                0 => ACTIONS.choose(rng).unwrap().to_string(),
                1 => String::new(),
                2 => sheet[r2][c].clone(),
                3 => e.candidates.choose(rng).cloned().unwrap_or_default(),
                _ => "x".into(),
            };
            let before = std::mem::replace(&mut sheet[r][c], value.clone());
            format!("edit row {} column {cname}: {before:?} -> {value:?}", r + 1)
        }
    };
    (
        format!("{}.{table}: {what}", e.entity.as_str()),
        sheets,
        saved,
        harmless,
    )
}

fn write_sheets(run_dir: &Path, entity: Entity, sheets: &Sheets, how: Save) {
    for (action, rows) in sheets {
        save(&path_of(run_dir, entity, action), rows, how);
    }
}

/// Every entity's tables as one workbook, as a spreadsheet saves it.
fn write_workbook(run_dir: &Path, all: &[(Entity, &Sheets)], numbers: bool) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (entity, sheets) in all {
        for (action, rows) in *sheets {
            let ws = wb.add_worksheet();
            ws.set_name(format!("{}.{action}", entity.as_str()))
                .unwrap();
            let ids: Vec<usize> = rows[0]
                .iter()
                .enumerate()
                .filter(|(_, h)| *h == "autotask_id" || *h == "passportal_id")
                .map(|(i, _)| i)
                .collect();
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let cell = unescape_cell(cell);
                    match cell.parse::<f64>() {
                        Ok(n) if numbers && r > 0 && ids.contains(&c) => {
                            ws.write_number(r as u32, c as u16, n).map(|_| ())
                        }
                        _ => ws.write_string(r as u32, c as u16, cell).map(|_| ()),
                    }
                    .unwrap();
                }
            }
        }
    }
    wb.save(run_dir.join("review/review.xlsx")).unwrap();
}

/// The plan's decisions, comparable, or the refusal's text.
fn plan_of(t: &TestWorld, run_id: &str) -> Result<String, String> {
    t.app
        .plan(Some(run_id))
        .map(|(_, p)| serde_json::to_string(&p.entities).unwrap())
        .map_err(|e| format!("{e:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spreadsheet_edit_changes_the_plan_in_silence() {
    let rounds: usize = std::env::var("ATPP_PROPERTY_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let spec = MspSpec {
        companies: 40,
        resources: 21,
        ..MspSpec::demo(41)
    };
    let t = TestWorld::start(&spec).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let baseline = plan_of(&t, &run.id).expect("the tables as written are accepted");

    let mut entities = Vec::new();
    let mut originals = Vec::new();
    for &entity in Entity::ALL {
        if !path_of(&run.dir, entity, "match").is_file() {
            continue;
        }
        let mut sheets = Sheets::new();
        let mut written = BTreeMap::new();
        let mut columns = BTreeSet::new();
        for action in ACTIONS {
            let path = path_of(&run.dir, entity, action);
            originals.push((path.clone(), std::fs::read(&path).unwrap()));
            let rows = read_table(&path);
            columns.extend(rows[0].iter().cloned());
            for row in &rows[1..] {
                let cells: BTreeMap<String, String> = rows[0]
                    .iter()
                    .cloned()
                    .zip(row.iter().map(|c| unescape_cell(c).to_string()))
                    .collect();
                written.insert(
                    cells["autotask_id"].parse::<i64>().unwrap(),
                    WrittenRow { cells },
                );
            }
            sheets.insert(action, rows);
        }
        let candidates = read_table(
            &run.dir
                .join(format!("review/{}.passportal.csv", entity.as_str())),
        );
        let candidates = candidates[1..].iter().map(|r| r[0].clone()).collect();
        if sheets.values().any(|s| s.len() > 2) {
            entities.push(Entity3 {
                entity,
                sheets,
                written,
                columns,
                candidates,
            });
        }
    }
    let restore = || {
        for (p, bytes) in &originals {
            std::fs::write(p, bytes).unwrap();
        }
        let _ = std::fs::remove_file(run.path("review/review.xlsx"));
    };

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let (mut meant, mut refused, mut silent, mut over_refused) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for round in 0..rounds {
        restore();
        let e = entities.choose(&mut rng).unwrap();
        let (what, sheets, saved, harmless) = operate(&mut rng, e);
        match saved {
            Saved::Csv(how) => write_sheets(&run.dir, e.entity, &sheets, how),
            Saved::Xlsx(numbers) => {
                let all: Vec<(Entity, &Sheets)> = entities
                    .iter()
                    .map(|x| {
                        (
                            x.entity,
                            if x.entity == e.entity {
                                &sheets
                            } else {
                                &x.sheets
                            },
                        )
                    })
                    .collect();
                write_workbook(&run.dir, &all, numbers);
            }
        }
        let expressed = oracle(e, &sheets, &run.id);
        let got = plan_of(&t, &run.id);
        // The plan the expressed decisions must give: the plain tables holding them.
        let want = match &expressed {
            None => Err(()),
            Some(d) if Some(d) == oracle(e, &e.sheets, &run.id).as_ref() => Ok(baseline.clone()),
            Some(d) => {
                restore();
                write_sheets(&run.dir, e.entity, &clean(e, d), EXCEL_UTF8);
                plan_of(&t, &run.id).map_err(|_| ())
            }
        };
        match (&got, &want) {
            (Ok(g), Ok(w)) if g == w => meant += 1,
            (Ok(_), _) => {
                silent += 1;
                failures.push(format!(
                    "round {round}: {what}: accepted with another meaning"
                ));
            }
            (Err(text), want) => {
                refused += 1;
                let located = text.contains(&format!("review/{}.", e.entity.as_str()))
                    || text.contains("review/review.xlsx");
                let has_row_and_column = text
                    .lines()
                    .any(|l| l.contains(": row ") && l.contains(", column "))
                    || text.contains("missing from every table");
                if !(located && has_row_and_column) {
                    failures.push(format!(
                        "round {round}: {what}: refused without a location:\n{text}"
                    ));
                }
                if want.is_ok() {
                    over_refused += 1;
                    if harmless {
                        failures.push(format!(
                            "round {round}: {what}: a harmless edit was refused:\n{text}"
                        ));
                    }
                }
            }
        }
    }
    restore();
    assert_eq!(plan_of(&t, &run.id).as_ref(), Ok(&baseline));
    println!(
        "review property: {rounds} edits: accepted with their meaning {meant}, refused {refused} \
         (of which the oracle would have accepted {over_refused}), silent {silent}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(silent, 0);
    if rounds >= 100 {
        assert!(
            meant > rounds / 5 && refused > rounds / 5,
            "the generator explores both sides"
        );
    }
}
