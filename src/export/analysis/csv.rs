//! CSV for spreadsheets: one row per sweep point.
//!
//! Written for Excel as much as for scripts: a header row, RFC 4180 quoting (a field with
//! a comma, a double quote or a line break is quoted, quotes doubled), CRLF line ends,
//! plain numbers at full precision with no currency symbols or thousands separators, and
//! per-partner columns named after the partners so that a reader does not need a key.

use crate::analysis::crn::value_text;
use crate::analysis::sweep::Sweep;
use crate::export::format::plain;

/// One field, quoted if it needs to be.
pub fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn line(fields: impl IntoIterator<Item = String>) -> String {
    let mut l = fields
        .into_iter()
        .map(|f| field(&f))
        .collect::<Vec<_>>()
        .join(",");
    l.push_str("\r\n");
    l
}

/// The sweep as CSV: the parameters' values (columns headed by their pointers), the
/// consortium figures, then each partner's mean NPV and P(worse off).
pub fn sweep(s: &Sweep) -> String {
    let partners: Vec<String> = s
        .points
        .first()
        .map(|p| p.figures.partners.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = s.parameters.iter().map(|p| p.pointer.clone()).collect();
    header.extend(
        [
            "mean_npv",
            "se_npv",
            "prob_loss",
            "prob_loss_ci95_lo",
            "prob_loss_ci95_hi",
            "prob_collapse",
            "npv_p10",
            "npv_p50",
            "npv_p90",
        ]
        .map(String::from),
    );
    for name in &partners {
        header.push(format!("mean_npv[{name}]"));
        header.push(format!("prob_worse_off[{name}]"));
    }
    let mut out = line(header);
    for (k, point) in s.points.iter().enumerate() {
        let f = &point.figures;
        let mut row: Vec<String> = (0..s.parameters.len())
            .map(|p| value_text(s.value(k, p)))
            .collect();
        row.extend(
            [
                f.npv.mean,
                f.npv.se,
                f.prob_npv_negative.estimate,
                f.prob_npv_negative.ci95[0],
                f.prob_npv_negative.ci95[1],
                f.prob_collapse,
                f.npv.p10,
                f.npv.p50,
                f.npv.p90,
            ]
            .map(plain),
        );
        for p in &f.partners {
            row.push(plain(p.mean_npv));
            row.push(plain(p.prob_worse_off));
        }
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_rfc_4180_asks() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(
            field(r#"{"uniform":[0.1,0.2]}"#),
            r#""{""uniform"":[0.1,0.2]}""#
        );
    }
}
