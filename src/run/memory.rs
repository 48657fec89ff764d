//! The memory guard: how much memory a command will take, how much it may take, and the
//! refusal, before anything starts, of a command that would take more.
//!
//! The estimate ([`Footprint`]) counts everything a command holds that grows with the
//! request: the program itself, the scenario in each form it is held in (JSON,
//! validated, compiled, reported), the workers' scratch, the outcome columns, the
//! summary's sorting copies, and what an analysis keeps of each of its runs. Sizes that
//! follow from the data structures are computed from them; the rest are constants
//! measured as peak resident memory (`/usr/bin/time -v`) and named where they are
//! defined. `tests/memory/measure.sh` compares the estimate with the measured peak on
//! small and very wide scenarios (within 15 %).

use super::error::{Error, Message, Result, Setting, message};
use crate::engine::outcomes::{bytes_per_trial, cash_bytes, cash_trial_cap};
use crate::engine::{PartnerState, Precision};
use crate::plan::Plan;
use crate::scenario::Scenario;

/// Parses a memory size: bytes, or a number with K, M, G or T (powers of 1024; "KiB",
/// "MB" and the like are read the same way). A size of 2^64 bytes or more is refused.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size such as 512M or 4G"))?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("\"{text}\": unknown unit; use K, M, G or T")),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("\"{text}\" is not a positive size"));
    }
    // 2^64 as f64 is exact; anything at or above it does not fit in 64 bits.
    if bytes >= 18_446_744_073_709_551_616.0 {
        return Err(format!(
            "\"{text}\" is more than any machine's memory (the most is 16777215T)"
        ));
    }
    Ok(bytes as u64)
}

/// The program itself before any scenario is read: code, libraries, the allocator's
/// first pages and the main thread's stack. Measured: 5.4 MiB peak for a 1,000-trial
/// run of a 4-partner scenario, of which the outcomes are 0.1 MiB.
const PROCESS: u64 = 5 << 20;

/// Per partner, beyond its name, held from loading to the end: the scenario's JSON, the
/// validated scenario and the plan (eight inputs, their samplers and labels), with the
/// allocator's overhead. Measured with `trace --worst` (which builds no report) on
/// 10,000 and 30,000 partners (`tests/memory/wide.py`: 13-byte names, 10 years):
/// 4.76 KiB a partner.
const PER_PARTNER: u64 = 4_520;

/// Per partner, what loading takes for a moment beyond what it keeps (the file's text,
/// the check for repeated keys, the validation's working values), reused afterwards.
/// Measured: 1.6 KiB a partner (a 10-trial run less a 1,000-trial run's share).
const LOADING_PER_PARTNER: u64 = 1_640;

/// Per partner, the report: its figures, their check for non-finite values, and its
/// JSON (3.3 KiB measured) or terminal text (2.4 KiB).
const REPORT_PER_PARTNER: u64 = 3_070;

/// Per partner, the page with charts (`--html`) beyond the report: its bars, tables
/// and SVG text. Measured: 4.4 KiB a partner.
const PAGE_PER_PARTNER: u64 = 4_500;

/// Per byte of a partner's name: the name is held in the JSON, the scenario, each of its
/// inputs' labels (eight), the report and its text. Measured: 21 bytes per byte (names
/// 102 bytes longer cost 21.5 MB on 10,000 partners).
const PER_NAME_BYTE: u64 = 21;

/// Per partner and year: the plan's year-by-year hazard multipliers.
const PER_PARTNER_YEAR: u64 = 8;

/// Per entry of a correlation matrix: as JSON, validated, and in the copula (the
/// matrix and its factor).
const PER_CORRELATION: u64 = 48;

/// Touched stack and thread-local state of a worker thread.
const WORKER_STACK: u64 = 64 << 10;

/// Rows of the outcomes the summary copies at once (see `summary::ROWS_AT_ONCE`).
const SUMMARY_ROWS: u64 = 2;

/// Trials per work unit of the engine (`engine::CHUNK`): each unit holds a slice
/// (16 bytes) of every row, and at most one unit per thread runs at once.
const CHUNK: u64 = 1024;

/// What a command will hold at its peak, by part, in bytes.
///
/// The parts do not all live at once: loading's working memory is freed before the
/// outcomes are allocated, and the summary's copies before the report's text is made.
/// So the peak ([`Footprint::total`]) is the program and the scenario, plus the larger
/// of loading and the run (workers, outcomes, what an analysis keeps, and the larger of
/// the summary's copies and the report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// The program itself.
    pub process: u64,
    /// The scenario (or scenarios) in every form held.
    pub scenario: u64,
    /// What loading the scenario takes for a moment.
    pub loading: u64,
    /// The worker threads' scratch.
    pub workers: u64,
    /// The outcome columns of one run.
    pub outcomes: u64,
    /// The partners' yearly savings a run keeps (for the cash by year) and the summary's
    /// buffers for them (`cash_footprint`); none for an analysis's runs.
    pub cash: u64,
    /// The summary's copies of the outcome rows.
    pub summary: u64,
    /// The report and its text (and page).
    pub report: u64,
    /// What an analysis keeps of its runs.
    pub analysis: u64,
}

impl Footprint {
    /// The footprint of a run of `trials` trials of `scenario` on `threads` workers and
    /// of its report (in JSON or as text; also as a page with charts if `page`).
    pub fn run(
        scenario: &Scenario,
        plan: &Plan,
        trials: u64,
        threads: usize,
        page: bool,
    ) -> Footprint {
        let precision = Precision::for_run(trials, plan);
        let partners = plan.partners as u64;
        let per_partner = REPORT_PER_PARTNER + if page { PAGE_PER_PARTNER } else { 0 };
        // At most one work unit per thread runs at once, each with its scratch.
        let busy = trials.div_ceil(CHUNK).min(threads as u64) as usize;
        Footprint {
            process: PROCESS,
            scenario: scenario_bytes(scenario, plan),
            loading: LOADING_PER_PARTNER * partners,
            workers: worker_bytes(plan, busy),
            outcomes: outcome_bytes(plan, trials, precision),
            cash: cash_footprint(plan, trials),
            summary: summary_bytes(trials, precision),
            report: per_partner * partners,
            analysis: 0,
        }
    }

    /// The peak, saturating (a product too large for 64 bits is refused anyway).
    pub fn total(&self) -> u64 {
        let running = self
            .workers
            .saturating_add(self.outcomes)
            .saturating_add(self.cash)
            .saturating_add(self.analysis)
            .saturating_add(self.summary.max(self.report));
        self.process
            .saturating_add(self.scenario)
            .saturating_add(running.max(self.loading))
    }

    /// The parts that matter, largest first: "outcomes 81 MiB, scenario 79 MiB, ...".
    fn parts(&self) -> String {
        let mut parts = [
            ("outcomes", self.outcomes),
            ("cash by year", self.cash),
            ("scenario", self.scenario),
            ("analysis", self.analysis),
            ("report", self.report),
            ("summary", self.summary),
            ("workers", self.workers),
            ("program", self.process),
        ];
        parts.sort_by_key(|&(_, bytes)| std::cmp::Reverse(bytes));
        parts
            .iter()
            .filter(|&&(_, bytes)| bytes >= 1 << 20)
            .map(|(name, bytes)| format!("{name} {}", mib(*bytes)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A size as messages give it: in KiB below 1 MiB, in MiB to one decimal below 10 MiB,
/// else in whole MiB (rounded up).
fn mib(bytes: u64) -> String {
    match bytes {
        0..0x10_0000 => format!("{} KiB", bytes.div_ceil(1 << 10)),
        0x10_0000..0xa0_0000 => format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20)),
        _ => format!("{} MiB", bytes.div_ceil(1 << 20)),
    }
}

/// The scenario in every form a command holds it (JSON, validated, compiled), beyond
/// the program itself and any report.
pub fn scenario_bytes(scenario: &Scenario, plan: &Plan) -> u64 {
    let partners = plan.partners as u64;
    let names: u64 = scenario.partners.iter().map(|p| p.name.len() as u64).sum();
    let correlated = plan.correlated.len() as u64;
    partners
        .saturating_mul(PER_PARTNER + PER_PARTNER_YEAR * plan.horizon as u64)
        .saturating_add(names.saturating_mul(PER_NAME_BYTE))
        .saturating_add(correlated.pow(2).saturating_mul(PER_CORRELATION))
}

/// The scratch of `threads` workers: each has its stack, its copy of the trial's inputs
/// and draws, every partner's state and the year-by-year figures.
pub fn worker_bytes(plan: &Plan, threads: usize) -> u64 {
    let scratch = WORKER_STACK
        + 8 * (plan.inputs.len() + plan.draw_steps.len() + plan.correlated.len()) as u64
        + (std::mem::size_of::<PartnerState>() * plan.partners) as u64
        + 40 * plan.horizon as u64;
    scratch.saturating_mul(threads as u64)
}

/// The outcome columns of `trials` trials, and the slices of their rows the workers are
/// handed.
pub fn outcome_bytes(plan: &Plan, trials: u64, precision: Precision) -> u64 {
    let rows = (plan.partners + plan.horizon - 1) as u64;
    trials
        .saturating_mul(bytes_per_trial(plan, precision))
        .saturating_add(trials.div_ceil(CHUNK).saturating_mul(rows * 16))
}

/// The summary's copies: the consortium NPVs (8 bytes a trial), then two rows at a time.
pub fn summary_bytes(trials: u64, precision: Precision) -> u64 {
    trials.saturating_mul(8.max(SUMMARY_ROWS * precision.bytes() as u64))
}

/// The partners' yearly savings a run of `trials` keeps (P x H x 8 bytes for each of the
/// first trials, at most 64 MiB: see [`cash_trial_cap`]), and the summary's buffers for
/// them: three values per kept trial (running sums in cash and discounted, and a copy
/// to select in) for each of `summary::ROWS_AT_ONCE` partners at once.
pub fn cash_footprint(plan: &Plan, trials: u64) -> u64 {
    cash_bytes(plan, trials) + trials.min(cash_trial_cap(plan)) * 3 * 8 * SUMMARY_ROWS
}

/// Refuses a command whose `footprint` is more than `max_memory` (or half this
/// machine's memory). `what` names the command's request ("100000 trials of this
/// scenario"); `advice` says how to ask for less.
pub(super) fn check(
    max_memory: Option<u64>,
    footprint: &Footprint,
    what: impl Into<Message>,
    advice: Message,
) -> Result<()> {
    let needed = footprint.total();
    let (limit, whose) = allowed(max_memory);
    if needed > limit {
        return Err(Error::request(message![
            what.into(),
            format!(
                " need about {} ({}), more than the {} allowed (",
                mib(needed),
                footprint.parts(),
                mib(limit)
            ),
            whose,
            "); ",
            advice,
            ", or raise ",
            Setting::MaxMemory,
        ]));
    }
    Ok(())
}

/// The memory a command may take, and who set that limit.
pub(super) fn allowed(max_memory: Option<u64>) -> (u64, Message) {
    match max_memory {
        Some(bytes) => (bytes, message!["set by ", Setting::MaxMemory]),
        None => (memory_limit(), "half this machine's memory".into()),
    }
}

/// Half of this machine's memory (from /proc/meminfo), or 8 GiB where that cannot be read.
fn memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    total.map_or(8 << 30, |bytes| bytes / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_sizes_beyond_64_bits_are_refused() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("16777215T"), Ok(16_777_215 << 40));
        for text in [
            "99999999999999999999G",
            "16777216T",
            "99999999999999999999999",
        ] {
            let e = parse_size(text).unwrap_err();
            assert!(e.contains("more than any machine's memory"), "{text}: {e}");
        }
        assert!(parse_size("0").unwrap_err().contains("not a positive size"));
        assert!(parse_size("inf").is_err());
    }

    #[test]
    fn a_footprint_saturates_instead_of_overflowing() {
        let f = Footprint {
            process: PROCESS,
            outcomes: u64::MAX,
            summary: u64::MAX,
            ..Footprint::default()
        };
        assert_eq!(f.total(), u64::MAX);
    }
}
