//! The fence that keeps the layers: every `crate::…` path in `src/` may point only down a layer
//! (`model` → `store` → `api` → `stages` → `commands`), a stage may use only the stages before it
//! in the data's way (extract → review → matching → plan → load), and nothing but the commands
//! may reach into the simulators, which themselves use only `model` and `api`. A wrong-way import
//! fails the suite with its file and line.

use std::path::{Path, PathBuf};

/// The layers, lowest first.
const LAYERS: &[&str] = &["model", "store", "api", "stages", "commands"];
/// The stages, in the order data flows through them.
const STAGES: &[&str] = &["extract", "review", "matching", "plan", "load"];
/// What the simulators may use besides themselves.
const SIM_MAY_USE: &[&str] = &["model", "api"];

/// Where a file sits: its top module under `src/` and, for a stage, which stage.
#[derive(Debug, Clone, PartialEq)]
struct Place {
    top: String,
    stage: Option<String>,
}

fn place_of(rel: &Path) -> Option<Place> {
    let mut parts = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string());
    let top = parts.next()?;
    if top == "lib" || top == "main" {
        return None;
    }
    let stage = if top == "stages" {
        parts.next().filter(|s| s != "mod")
    } else {
        None
    };
    Some(Place { top, stage })
}

/// Every `crate::a::b` path's first one or two segments in a file, with its line (1-based);
/// `use crate::{a::x, b::{y, z}}` counts as `a` and `b`. Comments are skipped.
fn crate_paths(source: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut code = String::new();
    let mut line_of = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        for c in line.chars().chain(std::iter::once('\n')) {
            code.push(c);
            line_of.push(n + 1);
        }
    }
    let bytes: Vec<char> = code.chars().collect();
    let ident = |from: usize| -> (String, usize) {
        let mut i = from;
        while i < bytes.len() && bytes[i].is_whitespace() {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_alphanumeric() || bytes[i] == '_') {
            i += 1;
        }
        (bytes[start..i].iter().collect(), i)
    };
    let segments = |from: usize| -> Vec<String> {
        let (first, mut i) = ident(from);
        let mut segs = vec![first];
        if bytes.get(i) == Some(&':') && bytes.get(i + 1) == Some(&':') {
            i += 2;
            let (second, _) = ident(i);
            if !second.is_empty() {
                segs.push(second);
            }
        }
        segs
    };
    let needle: Vec<char> = "crate::".chars().collect();
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        let before_ok = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        if before_ok && bytes[i..i + needle.len()] == needle[..] {
            let at = i + needle.len();
            if bytes.get(at) == Some(&'{') {
                // A group: the path starts after `{` and after each `,` at depth one.
                let mut depth = 0;
                let mut j = at;
                let mut starts = vec![];
                while j < bytes.len() {
                    match bytes[j] {
                        '{' => {
                            depth += 1;
                            if depth == 1 {
                                starts.push(j + 1);
                            }
                        }
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => starts.push(j + 1),
                        _ => {}
                    }
                    j += 1;
                }
                for mut s in starts {
                    while s < bytes.len() && bytes[s].is_whitespace() {
                        s += 1;
                    }
                    let segs = segments(s);
                    if !segs[0].is_empty() {
                        out.push((line_of[s.min(line_of.len() - 1)], segs));
                    }
                }
            } else {
                out.push((line_of[i], segments(at)));
            }
            i = at;
        } else {
            i += 1;
        }
    }
    out
}

/// Why `from` may not use `to`, or `None` when it may.
fn refusal(from: &Place, to: &[String]) -> Option<String> {
    let target = to[0].as_str();
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    if target == "sim" {
        return (from.top != "sim" && from.top != "commands")
            .then(|| format!("`{}` reaches into the simulators", from.top));
    }
    if from.top == "sim" {
        return (!SIM_MAY_USE.contains(&target))
            .then(|| format!("the simulators may use only {SIM_MAY_USE:?}, not `{target}`"));
    }
    let (Some(f), Some(t)) = (rank(&from.top), rank(target)) else {
        return None;
    };
    if t > f {
        return Some(format!("`{}` points up to `{target}`", from.top));
    }
    if let (Some(fs), "stages", Some(ts)) = (&from.stage, target, to.get(1)) {
        let order = |s: &str| STAGES.iter().position(|x| *x == s);
        if let (Some(a), Some(b)) = (order(fs), order(ts)) {
            if b > a {
                return Some(format!("stage `{fs}` points ahead to stage `{ts}`"));
            }
        }
    }
    None
}

/// Every wrong-way path among `files` (path relative to `src/`, source), as
/// "src/<file>:<line>: <why>".
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, source) in files {
        let Some(from) = place_of(rel) else { continue };
        for (line, path) in crate_paths(source) {
            if let Some(why) = refusal(&from, &path) {
                out.push(format!(
                    "src/{}:{line}: {why} (crate::{})",
                    rel.display(),
                    path.join("::")
                ));
            }
        }
    }
    out
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src").to_path_buf();
            out.push((rel, std::fs::read_to_string(&path).expect("readable")));
        }
    }
}

#[test]
fn every_import_points_down_a_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    assert!(
        files.len() > 50,
        "read the whole of src/ ({} files)",
        files.len()
    );
    for layer in LAYERS.iter().chain(["sim"].iter()) {
        assert!(root.join(layer).is_dir(), "src/{layer}/ is a folder");
    }
    let bad = violations(&files);
    assert!(
        bad.is_empty(),
        "imports that point the wrong way:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_fence_catches_planted_wrong_way_imports() {
    let planted = |file: &str, source: &str| violations(&[(PathBuf::from(file), source.into())]);
    // A stage reaching into the simulators, on the line it is written.
    let bad = planted(
        "stages/load/create.rs",
        "//! doc\nuse crate::model::ids::AutotaskId;\nuse crate::sim::generator::Msp;\n",
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("src/stages/load/create.rs:3: "),
        "{bad:?}"
    );
    // The ledger reaching up into a stage, inside a grouped import spread over lines.
    let bad = planted(
        "store/ledger.rs",
        "use crate::{\n    model::entity::Entity,\n    stages::matching::Action,\n};\n",
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("src/store/ledger.rs:3: `store` points up to `stages`"),
        "{bad:?}"
    );
    // A stage using a later stage; a path written in full inside code.
    let bad = planted(
        "stages/review/read.rs",
        "fn f() { crate::stages::plan::make(); }\n",
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("stage `review` points ahead to stage `plan`"),
        "{bad:?}"
    );
    // The simulators using the store.
    let bad = planted("sim/passportal.rs", "use crate::store::ledger::Ledger;\n");
    assert_eq!(bad.len(), 1, "{bad:?}");
    // What is allowed stays allowed, and comments do not count.
    let ok = planted(
        "commands/demo.rs",
        "use crate::sim::generator::Msp;\nuse crate::stages::load;\n// crate::nothing\n",
    );
    assert!(ok.is_empty(), "{ok:?}");
    let ok = planted(
        "stages/load/mod.rs",
        "use crate::{model::ids::AutotaskId, stages::plan::Plan};\n",
    );
    assert!(ok.is_empty(), "{ok:?}");
}
