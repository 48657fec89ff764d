//! Correlated uncertain inputs: the scenario's `correlations` list.
//!
//! Each entry names two distribution-valued inputs by JSON pointer and gives their rank
//! (Spearman) correlation. They are sampled through a Gaussian copula, whose normal
//! correlation for a Spearman target rho is 2 sin(pi rho / 6). A set of targets must
//! form a valid correlation matrix on that normal scale; one that does not is refused,
//! naming the pairs that cannot hold together, or (with `repair_correlations`, set by
//! `--repair-correlations`) replaced by the nearest valid matrix with a warning.
//!
//! An input named here may be held at a plain number (written so, or set so by `--set`,
//! a sweep, a variant or a sensitivity run): it is then *held*, and takes no part in the
//! copula. Its pairs are dropped; the others' matrix is the submatrix of the rest,
//! checked (or repaired) as a whole matrix is. The held input keeps its place in the
//! copula's order with no correlation, so every correlated input before it keeps its
//! draws exactly, trial by trial (common random numbers), and every input after it keeps
//! its own random word and its distribution, re-mixed without the held input's score.

use crate::copula::{
    Matrix, check_psd, nearest_correlation, pearson_to_spearman, spearman_to_pearson,
};

use super::inputs::{self, CONSORTIUM_INPUTS, PARTNER_UNCERTAIN_FIELDS};
use super::overrides::{Segment, parse_pointer, partner_position};
use super::{Dist, Partner};

/// Validated correlations between uncertain inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlations {
    /// The inputs involved, by their plan labels (`/service/efficiency`,
    /// `/partners/<name>/<field>`), in order of first mention.
    pub labels: Vec<String>,
    /// Normal-scale correlation matrix of the copula, over `labels`.
    pub normal: Matrix,
    /// Set when the targets were repaired: what the user is warned of.
    pub repair_note: Option<String>,
    /// The inputs (labels) held at a plain number, whose pairs were dropped.
    pub held: Vec<String>,
}

/// Resolves a pointer to an uncertain input's label, and whether the input is held at a
/// plain number (see the module's doc), or says why it cannot be correlated. Partners
/// may be named or numbered.
pub fn resolve(
    pointer: &str,
    consortium: &[&Dist; CONSORTIUM_INPUTS],
    partners: &[Partner],
) -> Result<(String, bool), String> {
    let segments: Vec<Segment> = parse_pointer(pointer)?;
    let parts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
    let wanted = format!("/{}", parts.join("/"));
    let consortium_input = inputs::consortium_dists()
        .zip(consortium.iter().copied())
        .find(|(i, _)| i.pointer() == wanted);
    let (label, dist) = match (consortium_input, parts.as_slice()) {
        (Some((input, dist)), _) => (input.pointer(), dist),
        (None, ["partners", who, field]) if PARTNER_UNCERTAIN_FIELDS.contains(field) => {
            let partner = partner_position(partners.iter().map(|p| p.name.as_str()), &segments[1])
                .map(|i| &partners[i])
                .ok_or_else(|| format!("\"{pointer}\": there is no partner \"{who}\""))?;
            let name = partner.name.replace('~', "~0").replace('/', "~1");
            let dist = partner.uncertain_field(field).expect("a (D) field");
            (format!("/partners/{name}/{field}"), dist)
        }
        _ => {
            let consortium: Vec<String> = inputs::consortium_dists().map(|i| i.pointer()).collect();
            return Err(format!(
                "\"{pointer}\" is not an input that can be uncertain: use {} or \
                 /partners/<name or index>/<field> with a (D) field such as baseline_cost",
                consortium.join(", ")
            ));
        }
    };
    Ok((label, dist.is_fixed()))
}

impl Correlations {
    /// Builds the copula's matrix from rank-correlation `pairs` over `labels`, checking
    /// it (or repairing it when `repair`). The inputs marked `held` (plain numbers) lose
    /// their pairs: the rest is checked or repaired as the submatrix of the others, and
    /// the held inputs keep their places with no correlation.
    pub fn build(
        labels: Vec<String>,
        pairs: &[(usize, usize, f64)],
        held: &[bool],
        repair: bool,
    ) -> Result<Correlations, String> {
        if !held.contains(&true) {
            return Correlations::build_all(labels, pairs, repair);
        }
        // The others, in their order, and where each input stands among them.
        let kept: Vec<usize> = (0..labels.len()).filter(|&i| !held[i]).collect();
        let position = |i: usize| kept.iter().position(|&k| k == i);
        let kept_pairs: Vec<(usize, usize, f64)> = pairs
            .iter()
            .filter_map(|&(a, b, r)| Some((position(a)?, position(b)?, r)))
            .collect();
        let kept_labels = kept.iter().map(|&i| labels[i].clone()).collect();
        let sub = Correlations::build_all(kept_labels, &kept_pairs, repair)?;
        let mut entries = Vec::new();
        for a in 0..kept.len() {
            for b in a + 1..kept.len() {
                entries.push((kept[a], kept[b], sub.normal.get(a, b)));
            }
        }
        Ok(Correlations {
            normal: Matrix::with_correlations(labels.len(), &entries),
            held: (0..labels.len())
                .filter(|&i| held[i])
                .map(|i| labels[i].clone())
                .collect(),
            labels,
            repair_note: sub.repair_note,
        })
    }

    /// [`Correlations::build`] with no input held.
    fn build_all(
        labels: Vec<String>,
        pairs: &[(usize, usize, f64)],
        repair: bool,
    ) -> Result<Correlations, String> {
        let normal_pairs: Vec<_> = pairs
            .iter()
            .map(|&(a, b, r)| (a, b, spearman_to_pearson(r)))
            .collect();
        let normal = Matrix::with_correlations(labels.len(), &normal_pairs);
        let Err(conflict) = check_psd(&normal) else {
            return Ok(Correlations {
                labels,
                normal,
                repair_note: None,
                held: Vec::new(),
            });
        };
        let described = conflict.describe(&labels, pearson_to_spearman);
        if !repair {
            return Err(format!(
                "these rank correlations are inconsistent: {described}; change them, or run \
                 with --repair-correlations to use the nearest valid set"
            ));
        }
        let repaired = nearest_correlation(&normal);
        let mut changes = Vec::new();
        for &(a, b, r) in pairs {
            let now = pearson_to_spearman(repaired.matrix.get(a, b));
            if (now - r).abs() > 5e-4 {
                changes.push(format!("{}~{} {r} -> {now:.3}", labels[a], labels[b]));
            }
        }
        Ok(Correlations {
            held: Vec::new(),
            labels,
            normal: repaired.matrix,
            repair_note: Some(format!(
                "the rank correlations were inconsistent ({described}) and have been repaired \
                 to the nearest valid set: {}",
                changes.join(", ")
            )),
        })
    }
}
