//! `review/overview.html`: the plan on one page an analyst opens before any spreadsheet. Counts
//! per entity and action (the same numbers as `plan/plan.json`), the score distribution of each
//! entity's candidate pairs with the auto-match and suggest thresholds drawn on it (where the
//! uncertain band lies), the warnings, and the rows still waiting for a decision grouped by
//! reason, each naming its table and row. Self-contained: inline CSS and SVG, no script, no
//! network (a content security policy forbids any).

use super::{Overview, Plan};
use crate::model::entity::Entity;
use crate::model::ids::AutotaskId;
use crate::model::pipeline::{MatchingConfig, Thresholds};
use crate::stages::review::Decision;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The page, relative to the run folder.
pub const OVERVIEW_FILE: &str = "review/overview.html";

/// The columns of the counts table: the key in the page (and in `plan.json`'s overview) and
/// its heading.
pub const COUNTS: &[(&str, &str)] = &[
    ("to_create", "to create"),
    ("to_match", "to match"),
    ("already_linked", "already linked"),
    ("to_exclude", "to exclude"),
    ("orphans", "orphans"),
    ("waiting_for_review", "waiting"),
];

fn count(o: &Overview, key: &str) -> u64 {
    match key {
        "to_create" => o.to_create,
        "to_match" => o.to_match,
        "already_linked" => o.already_linked,
        "to_exclude" => o.to_exclude,
        "orphans" => o.orphans,
        _ => o.waiting_for_review,
    }
}

/// The thresholds the match stage used for an entity.
pub fn thresholds(matching: &MatchingConfig, entity: Entity) -> Thresholds {
    match entity {
        Entity::Companies => matching.companies,
        Entity::Resources => matching.resources,
        Entity::Contacts => matching.contacts,
        Entity::Locations => matching.locations,
        Entity::ConfigurationItems => matching.configuration_items,
    }
}

/// A row waiting for a decision.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub entity: Entity,
    pub file: String,
    pub row: u64,
    pub autotask_id: i64,
    pub name: String,
    pub reason: String,
}

/// What one entity contributes to the page besides the plan's counts.
#[derive(Debug, Clone, Default)]
pub struct EntityFacts {
    /// Scores (0–100) of the candidate pairs the tables show (best and runner-up of each row).
    pub scores: Vec<f64>,
    pub waiting: Vec<Waiting>,
}

/// The rows of an entity still waiting for a decision: the pipeline left them pending, or the
/// matcher was unsure (a create with a candidate beside it) and the row is still as proposed.
pub fn waiting_rows(
    entity: Entity,
    decisions: &[Decision],
    proposals: &BTreeMap<i64, crate::stages::matching::Proposal>,
    pending: &[AutotaskId],
) -> Vec<Waiting> {
    decisions
        .iter()
        .filter_map(|d| {
            let p = proposals.get(&d.autotask_id)?;
            let unsure = p.action == crate::stages::matching::Action::Create
                && p.passportal_id.is_some()
                && d.action == p.action
                && d.passportal_id == p.passportal_id;
            let own = p.cells.get("reason").filter(|r| !r.trim().is_empty());
            let reason = if d.action == crate::stages::matching::Action::Review {
                // Its own reason: `needs a person: …`, `waits with its company …`, `suggested …`.
                own.cloned()
                    .unwrap_or_else(|| "not decided (action review)".to_string())
            } else if pending.contains(&AutotaskId(d.autotask_id)) {
                "waiting for review (the pipeline does not approve it on its own)".to_string()
            } else if unsure {
                p.cells.get("reason").cloned().unwrap_or_default()
            } else {
                return None;
            };
            Some(Waiting {
                entity,
                file: d.file.clone(),
                row: d.row,
                autotask_id: d.autotask_id,
                name: p.cells.get("autotask_name").cloned().unwrap_or_default(),
                reason,
            })
        })
        .collect()
}

/// The scores of the candidate pairs a proposal's row shows.
pub fn pair_scores(p: &crate::stages::matching::Proposal) -> impl Iterator<Item = f64> + '_ {
    ["score", "runner_up_score"]
        .into_iter()
        .filter_map(|c| p.cells.get(c).and_then(|s| s.trim().parse::<f64>().ok()))
}

/// A reason's group: the words before a `:` (`ambiguous`, `suggested`), else the reason with
/// its numbers left out.
fn reason_group(reason: &str) -> String {
    match reason.split_once(':') {
        Some((head, _)) => head.trim().to_string(),
        None => reason
            .split_whitespace()
            .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

const BINS: usize = 20;
const CHART_W: f64 = 400.0;
const CHART_H: f64 = 120.0;

/// The score histogram of one entity with its thresholds, as inline SVG.
fn histogram(entity: Entity, scores: &[f64], t: Thresholds) -> String {
    let mut bins = [0u64; BINS];
    for s in scores {
        let i = ((s.clamp(0.0, 100.0) / 100.0) * BINS as f64) as usize;
        bins[i.min(BINS - 1)] += 1;
    }
    let top = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (left, bottom) = (30.0, CHART_H + 10.0);
    let bar_w = CHART_W / BINS as f64;
    let x = |score: f64| left + score / 100.0 * CHART_W;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="histogram" data-entity="{e}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="scores of {e}">"#,
        e = entity.as_str(),
        w = CHART_W + left + 20.0,
        h = bottom + 30.0
    );
    let _ = write!(
        svg,
        r#"<rect x="{left}" y="10" width="{CHART_W}" height="{CHART_H}" class="frame"/>"#
    );
    for (i, n) in bins.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let h = *n as f64 / top * CHART_H;
        let _ = write!(
            svg,
            r#"<rect class="bar" data-bin="{lo}" data-count="{n}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}"><title>{lo}–{hi}: {n}</title></rect>"#,
            lo = i * 100 / BINS,
            hi = (i + 1) * 100 / BINS,
            x = left + i as f64 * bar_w + 1.0,
            y = bottom - h,
            w = bar_w - 2.0,
        );
    }
    for (class, score, label) in [
        ("suggest", t.suggest, "suggest"),
        ("auto-match", t.auto_match, "auto-match"),
    ] {
        let _ = write!(
            svg,
            r#"<line class="threshold {class}" data-score="{score}" x1="{x:.1}" y1="6" x2="{x:.1}" y2="{bottom}"/><text class="{class}" x="{x:.1}" y="{ty}" text-anchor="middle">{label} {score:.0}</text>"#,
            x = x(score),
            ty = bottom + 24.0,
        );
    }
    for score in [0.0, 50.0, 100.0] {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{score:.0}</text>"#,
            x(score),
            bottom + 12.0
        );
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = "body{font-family:sans-serif;margin:20px;color:#222;background:#fff}\
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}\
th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}\
figure{margin:0}.frame{fill:#f4f6f8;stroke:#999}.bar{fill:#3060c0}\
.threshold{stroke-width:3}.threshold.suggest{stroke:#e07000}.threshold.auto-match{stroke:#208040}\
text{font-size:11px}text.suggest{fill:#e07000}text.auto-match{fill:#208040}\
li.warning{color:#a04000}";

/// The page.
pub fn render(
    plan: &Plan,
    facts: &BTreeMap<Entity, EntityFacts>,
    matching: &MatchingConfig,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\"/><title>Plan of run {run}</title><style>{STYLE}</style>\
         </head><body><h1>Plan of run {run}</h1>",
        run = text(&plan.run_id)
    );
    h.push_str("<h2>What the load will do</h2><table id=\"counts\"><thead><tr><th>entity</th>");
    for (_, heading) in COUNTS {
        let _ = write!(h, "<th>{heading}</th>");
    }
    h.push_str("</tr></thead><tbody>");
    for (entity, o) in &plan.overview {
        let _ = write!(h, "<tr data-entity=\"{0}\"><td>{0}</td>", entity.as_str());
        for (key, _) in COUNTS {
            let _ = write!(h, "<td data-count=\"{key}\">{}</td>", count(o, key));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");

    h.push_str(
        "<h2>Scores of the candidate pairs</h2><p>Below suggest: no candidate shown; between \
         suggest and auto-match: proposed for creation with the candidate beside it (the \
         uncertain band); from auto-match: matched.</p><div class=\"charts\">",
    );
    for (entity, f) in facts {
        let _ = write!(
            h,
            "<figure><figcaption>{} ({} pairs)</figcaption>{}</figure>",
            entity.as_str(),
            f.scores.len(),
            histogram(*entity, &f.scores, thresholds(matching, *entity))
        );
    }
    h.push_str("</div><h2>Warnings</h2><ul id=\"warnings\">");
    if plan.warnings.is_empty() {
        h.push_str("<li>none</li>");
    }
    for w in &plan.warnings {
        let _ = write!(h, "<li class=\"warning\">{}</li>", text(w));
    }
    h.push_str("</ul><h2>Rows waiting for a decision</h2>");
    let mut groups: BTreeMap<String, Vec<&Waiting>> = BTreeMap::new();
    for w in facts.values().flat_map(|f| &f.waiting) {
        groups.entry(reason_group(&w.reason)).or_default().push(w);
    }
    if groups.is_empty() {
        h.push_str("<p>None.</p>");
    }
    for (group, rows) in groups {
        let _ = write!(
            h,
            "<h3>{} ({})</h3><ul class=\"waiting\">",
            text(&group),
            rows.len()
        );
        for w in rows {
            // Links are relative to review/, where the page is.
            let file = w.file.strip_prefix("review/").unwrap_or(&w.file);
            let href = file.split(' ').next().unwrap_or(file);
            let _ = write!(
                h,
                "<li data-entity=\"{}\" data-autotask-id=\"{}\"><a href=\"{}\">{} row {}</a>: \
                 {} — {}</li>",
                w.entity.as_str(),
                w.autotask_id,
                attr(href),
                text(file),
                w.row,
                text(&w.name),
                text(&w.reason)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_group_without_their_numbers() {
        assert_eq!(
            reason_group("suggested: 12 scores 80, below auto-match 94"),
            "suggested"
        );
        assert_eq!(
            reason_group("best candidate 12 is matched to Autotask record 7"),
            "best candidate is matched to Autotask record"
        );
    }
}
