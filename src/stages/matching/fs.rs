//! Fellegi–Sunter scoring: each compared field of a candidate pair falls into a comparison level
//! (0 = agrees best … last = disagrees; `None` = a side is blank, which is neutral), and the pair's
//! match probability is the prior odds times the Bayes factor `m/u` of every level. `u` (how often
//! a level occurs between records that are *not* the same) comes from random pairs; `m` (how often
//! it occurs between records that are) and the prior come from the blocked pairs by EM, without
//! labels. Both are smoothed toward the spec's prior guesses, so a handful of records still scores
//! sensibly. Exact agreement on a value can be term-frequency adjusted: sharing a rare surname says
//! more than sharing "Smith".

/// A comparison vector: one level per field, `None` when a side has no value.
pub type Gamma = Vec<Option<u8>>;

/// One compared field: its name (used in reasons), its level labels and prior `m`/`u` guesses.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    /// How each level reads in a reason ("equal", "0.93", "differs").
    pub labels: &'static [&'static str],
    /// Prior guess of `m` per level (matches).
    pub m: &'static [f64],
    /// Prior guess of `u` per level (non-matches).
    pub u: &'static [f64],
}

/// How much the prior guesses weigh, in pairs, against what the data says.
const PRIOR_WEIGHT: f64 = 20.0;
/// EM rounds over the blocked pairs.
const EM_ROUNDS: usize = 25;
/// No level is ever certain either way.
const FLOOR: f64 = 1e-5;

/// A fitted model: `m` and `u` per field and level, and the prior match share of blocked pairs.
#[derive(Debug, Clone)]
pub struct Model {
    pub fields: Vec<Field>,
    pub m: Vec<Vec<f64>>,
    pub u: Vec<Vec<f64>>,
    pub prior: f64,
}

fn level_shares(
    fields: &[Field],
    gammas: &[Gamma],
    weights: Option<&[f64]>,
    prior: bool,
) -> Vec<Vec<f64>> {
    fields
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let guess = if prior { f.m } else { f.u };
            let mut counts: Vec<f64> = guess.iter().map(|g| g * PRIOR_WEIGHT).collect();
            for (i, g) in gammas.iter().enumerate() {
                if let Some(l) = g[k] {
                    counts[l as usize] += weights.map_or(1.0, |w| w[i]);
                }
            }
            let total: f64 = counts.iter().sum();
            counts.iter().map(|c| (c / total).max(FLOOR)).collect()
        })
        .collect()
}

impl Model {
    /// Fit a model: `u` from the comparison vectors of random pairs, then `m` and the prior by EM
    /// over the blocked pairs' vectors (with `u` held). The prior is the match share of *all*
    /// `all_pairs` pairs the records could form (the pairs the blocking left out are taken as
    /// non-matches), at most `max_matches` of them (links are one-to-one). Measured against all
    /// pairs, a pair that shares only a common surname stays unlikely, so such pairs (which agree
    /// more than random pairs do, having been blocked on it) cannot become a class of their own.
    pub fn fit(
        fields: Vec<Field>,
        blocked: &[Gamma],
        random: &[Gamma],
        max_matches: usize,
        all_pairs: usize,
    ) -> Model {
        let u = level_shares(&fields, random, None, false);
        let m = level_shares(&fields, &[], None, true);
        let mut model = Model {
            fields,
            m,
            u,
            prior: 0.1,
        };
        if blocked.is_empty() {
            return model;
        }
        let all_pairs = all_pairs.max(blocked.len()) as f64;
        let ceiling = (max_matches as f64 / all_pairs).clamp(1e-9, 0.9);
        model.prior = model.prior.min(ceiling);
        let mut w = vec![0.0; blocked.len()];
        for _ in 0..EM_ROUNDS {
            for (wi, g) in w.iter_mut().zip(blocked) {
                *wi = model.probability(g, None);
            }
            model.m = level_shares(&model.fields, blocked, Some(&w), true);
            let share = w.iter().sum::<f64>() / all_pairs;
            model.prior = share.clamp(1e-9, ceiling);
        }
        model
    }

    /// log2 Bayes factor of one field at one level; `tf` is the share of records holding the
    /// agreed value, for a term-frequency adjusted exact level.
    pub fn weight(&self, field: usize, level: u8, tf: Option<f64>) -> f64 {
        let l = level as usize;
        let u = match tf {
            Some(share) if l == 0 => share.clamp(self.u[field][0] / 20.0, self.u[field][0] * 4.0),
            _ => self.u[field][l],
        };
        (self.m[field][l] / u).log2()
    }

    /// Match probability of a comparison vector; `tf` per field as in [`Model::weight`].
    pub fn probability(&self, gamma: &Gamma, tf: Option<&[Option<f64>]>) -> f64 {
        let mut log2_odds = (self.prior / (1.0 - self.prior)).log2();
        for (k, level) in gamma.iter().enumerate() {
            if let Some(l) = level {
                log2_odds += self.weight(k, *l, tf.and_then(|t| t[k]));
            }
        }
        1.0 / (1.0 + (-log2_odds).exp2())
    }

    /// A reason an analyst can read: each compared field and how it compared.
    pub fn explain(&self, gamma: &Gamma) -> String {
        self.fields
            .iter()
            .zip(gamma)
            .filter_map(|(f, l)| l.map(|l| format!("{} {}", f.name, f.labels[l as usize])))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Deterministic sample of `n` index pairs from `a × b` (for `u`), without a random generator:
/// a multiplicative stride visits the pairs spread out.
pub fn random_pairs(a: usize, b: usize, n: usize) -> Vec<(usize, usize)> {
    if a == 0 || b == 0 {
        return Vec::new();
    }
    let total = a as u64 * b as u64;
    let n = (n as u64).min(total);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = x % total;
            ((p / b as u64) as usize, (p % b as u64) as usize)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        vec![
            Field {
                name: "name",
                labels: &["equal", "similar", "differs"],
                m: &[0.8, 0.15, 0.05],
                u: &[0.01, 0.04, 0.95],
            },
            Field {
                name: "postcode",
                labels: &["equal", "differs"],
                m: &[0.9, 0.1],
                u: &[0.01, 0.99],
            },
        ]
    }

    #[test]
    fn agreement_raises_disagreement_lowers_missing_is_neutral() {
        let blocked: Vec<Gamma> = (0..200)
            .map(|i| {
                if i % 4 == 0 {
                    vec![Some(0), Some(0)]
                } else {
                    vec![Some(if i % 10 == 1 { 1 } else { 2 }), Some(1)]
                }
            })
            .collect();
        let random: Vec<Gamma> = (0..1000).map(|_| vec![Some(2), Some(1)]).collect();
        let model = Model::fit(fields(), &blocked, &random, 50, 200);
        let both = model.probability(&vec![Some(0), Some(0)], None);
        let name_only = model.probability(&vec![Some(0), None], None);
        let contradicted = model.probability(&vec![Some(0), Some(1)], None);
        assert!(both > 0.99, "{both}");
        assert!(
            name_only < both && name_only > contradicted,
            "{name_only} {contradicted}"
        );
        assert!(model.probability(&vec![Some(2), Some(1)], None) < 0.01);
        // A common value agreed on says less than a rare one.
        let common = model.probability(&vec![Some(0), None], Some(&[Some(0.2), None]));
        let rare = model.probability(&vec![Some(0), None], Some(&[Some(0.0001), None]));
        assert!(common < rare, "{common} {rare}");
        assert_eq!(model.explain(&vec![Some(1), None]), "name similar");
    }
}
