//! Matching quality against a labelled truth: precision of the automatic matches and recall of
//! automatic matches plus suggestions. The quality test and the quality benchmark both use it,
//! so the thresholds in README come from the same arithmetic the test checks.

use super::companies::{match_companies, CompanyInput};
use super::{Action, ReviewRow};
use crate::extract::autotask::CompanyRow;
use crate::passportal::models::Client;
use crate::pipeline::{SyncConfig, Thresholds};
use crate::sim::generator::{AtCompany, Msp};
use std::collections::BTreeMap;

/// How well proposals agree with the true pairs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Quality {
    pub true_pairs: usize,
    pub auto_matches: usize,
    pub correct_auto: usize,
    /// True pairs auto-matched, or proposed for creation with the true record as suggestion.
    pub found: usize,
}

impl Quality {
    pub fn precision(&self) -> f64 {
        if self.auto_matches == 0 {
            1.0
        } else {
            self.correct_auto as f64 / self.auto_matches as f64
        }
    }

    pub fn recall(&self) -> f64 {
        if self.true_pairs == 0 {
            1.0
        } else {
            self.found as f64 / self.true_pairs as f64
        }
    }
}

/// Score proposals against the true pairs (Autotask id → Passportal id). Rows matched through
/// an existing link are not counted as automatic matches.
pub fn measure(rows: &[ReviewRow], true_pairs: &BTreeMap<i64, i64>) -> Quality {
    let mut q = Quality {
        true_pairs: true_pairs.len(),
        ..Quality::default()
    };
    for r in rows {
        let best = r.best.as_ref().map(|c| c.passportal_id);
        let truth = true_pairs.get(&r.autotask_id).copied();
        let auto = r.action == Action::Match
            && r.best
                .as_ref()
                .is_some_and(|c| c.method != super::Method::Id);
        if auto {
            q.auto_matches += 1;
            if best.is_some() && best == truth {
                q.correct_auto += 1;
            }
        }
        if truth.is_some() && best == truth && matches!(r.action, Action::Match | Action::Create) {
            q.found += 1;
        }
    }
    q
}

/// A generated company as the extract stages it.
pub fn company_row(c: &AtCompany) -> CompanyRow {
    CompanyRow {
        id: c.id,
        name: c.company_name.clone(),
        company_type: Some(i64::from(c.company_type)),
        company_type_label: None,
        is_active: c.is_active,
        phone: c.phone.clone(),
        address1: c.address1.clone(),
        address2: c.address2.clone(),
        city: c.city.clone(),
        state: c.state.clone(),
        postal_code: c.postal_code.clone(),
        web_address: c.web_address.clone(),
    }
}

/// Match a generated MSP's companies (no links yet) and measure against its truth: the planted
/// identical, normalised and fuzzy pairs.
pub fn company_quality(msp: &Msp, thresholds: Thresholds) -> Quality {
    let companies: Vec<CompanyRow> = msp.autotask.companies.iter().map(company_row).collect();
    let clients: Vec<Client> = msp
        .passportal
        .clients
        .iter()
        .map(|c| Client {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    let rows = match_companies(&CompanyInput {
        companies: &companies,
        clients: &clients,
        links: &BTreeMap::new(),
        sync: &SyncConfig::default(),
        thresholds,
    });
    let truth = &msp.truth.companies;
    let mut pairs = truth.matches.clone();
    pairs.extend(truth.suggest.iter().map(|(a, p)| (*a, *p)));
    measure(&rows, &pairs)
}
