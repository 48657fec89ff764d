//! Splitting a run across machines, and joining the pieces back exactly.
//!
//! Trial k's random numbers depend only on (seed, k), so a run of N trials can be cut
//! into contiguous ranges of trial indices, each simulated anywhere, and the pieces'
//! outcome columns joined in trial order are the unsharded run's columns bit for bit. The
//! report computed from them is therefore byte-identical to the unsharded report.
//!
//! A shard writes a *partial result*: a small JSON header (format version, engine
//! version, the scenario itself and its hash, seed, total trials, shard index and trial
//! range) followed by its outcome columns in little-endian binary and a checksum, so that
//! `merge` can refuse pieces that do not belong together or were cut short.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{Column, Outcomes, Precision, TrialEvents};
use crate::rng::label_key;
use crate::scenario::origin::Origin;

/// First bytes of every partial-result file.
const MAGIC: &[u8] = b"consortium-sim partial\n";
/// The layout written here; a reader refuses any other.
pub const FORMAT_VERSION: u32 = 1;

/// Why sharding or merging failed. Every message names the file or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("{0}")]
    Spec(String),
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a consortium-sim partial result")]
    NotPartial { path: PathBuf },
    #[error("{path} is damaged or incomplete: {detail}")]
    Damaged { path: PathBuf, detail: String },
    #[error("cannot merge: {0}")]
    Mismatch(String),
}

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    fn new(index: u64, count: u64, source: &str) -> Result<Shard, ShardError> {
        if count == 0 || index >= count {
            return Err(ShardError::Spec(format!(
                "{source}: shard {index} of {count} does not exist (shards are numbered 0 to count - 1)"
            )));
        }
        Ok(Shard { index, count })
    }

    /// Parses `K/N`.
    pub fn parse(spec: &str) -> Result<Shard, ShardError> {
        let bad = || {
            ShardError::Spec(format!(
                "--shard {spec}: expected K/N with 0 <= K < N (e.g. 0/8), or auto"
            ))
        };
        let (k, n) = spec.split_once('/').ok_or_else(bad)?;
        let k = k.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Shard::new(k, n, &format!("--shard {spec}"))
    }

    /// Reads the shard from a scheduler's environment: a Slurm job array
    /// (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`)
    /// or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, of `shards`).
    pub fn from_env(
        shards: Option<u64>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, ShardError> {
        let number = |name: &str| -> Result<Option<u64>, ShardError> {
            match var(name) {
                None => Ok(None),
                Some(text) => text.trim().parse().map(Some).map_err(|_| {
                    ShardError::Spec(format!("{name}={text:?} is not a whole number"))
                }),
            }
        };
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let count = number("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                ShardError::Spec(
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not".into(),
                )
            })?;
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let index = id.checked_sub(min).ok_or_else(|| {
                ShardError::Spec(format!(
                    "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                ))
            })?;
            let count = shards.unwrap_or(count);
            return Shard::new(
                index,
                count,
                "Slurm array (use --array=0-(N-1) with no step)",
            );
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = shards.ok_or_else(|| {
                ShardError::Spec(
                    "JOB_COMPLETION_INDEX is set: give the Job's completions as --shards N".into(),
                )
            })?;
            return Shard::new(index, count, "Kubernetes Indexed Job");
        }
        Err(ShardError::Spec(
            "--shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm job \
             array) or JOB_COMPLETION_INDEX with --shards N (a Kubernetes Indexed Job)"
                .into(),
        ))
    }

    /// This shard's contiguous range of trial indices out of `total`.
    pub fn range(&self, total: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(total) * u128::from(k) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// The header of a partial result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialHeader {
    pub format_version: u32,
    pub engine_version: String,
    /// Hash of `scenario` (its JSON text), to refuse pieces of different scenarios.
    pub scenario_hash: String,
    /// The scenario as run (overrides applied): the merged report needs its names.
    pub scenario: Value,
    pub seed: u64,
    pub total_trials: u64,
    pub shard_index: u64,
    pub shard_count: u64,
    pub first_trial: u64,
    pub trials: u64,
    pub partners: usize,
    pub horizon: usize,
    /// "double" or "single": how the rows are stored.
    pub precision: String,
    pub threads: usize,
    pub elapsed_seconds: f64,
    /// Where the scenario came from (file, hash, overrides), for the merged report's
    /// provenance. Absent from partial results written before it was recorded, which merge
    /// all the same (the report then says what it lacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// Hash of a scenario's JSON text.
pub fn scenario_hash(scenario: &Value) -> String {
    format!("{:016x}", label_key(&scenario.to_string()))
}

/// A partial result read back.
#[derive(Debug, Clone)]
pub struct Partial {
    pub path: PathBuf,
    pub header: PartialHeader,
    pub outcomes: Outcomes,
}

/// FNV-1a over every byte that passes, to detect truncated or damaged files.
struct Checksum(u64);

impl Checksum {
    fn new() -> Checksum {
        Checksum(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

struct Writer<W: Write> {
    inner: W,
    sum: Checksum,
}

impl<W: Write> Writer<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.sum.update(bytes);
        self.inner.write_all(bytes)
    }
}

/// Writes a partial result to `path` atomically.
pub fn write_partial(
    path: &Path,
    header: &PartialHeader,
    outcomes: &Outcomes,
) -> Result<(), crate::output::OutputError> {
    let head = serde_json::to_vec(header).expect("a header serialises");
    crate::output::write_atomically_with(path, |inner| {
        let mut w = Writer {
            inner,
            sum: Checksum::new(),
        };
        w.put(MAGIC)?;
        w.put(&(head.len() as u64).to_le_bytes())?;
        w.put(&head)?;
        for x in &outcomes.npv {
            w.put(&x.to_le_bytes())?;
        }
        for e in &outcomes.events {
            w.put(&e.withdrawals.to_le_bytes())?;
            w.put(&e.rejoins.to_le_bytes())?;
            w.put(&[e.payback_year, e.collapse_year, e.disputes, e.dispute_years])?;
        }
        put_column(&mut w, &outcomes.partner_npv)?;
        put_column(&mut w, &outcomes.cumulative)?;
        w.put(&outcomes.gave_notice)?;
        let sum = w.sum.0;
        w.inner.write_all(&sum.to_le_bytes())
    })
}

fn put_column<W: Write>(w: &mut Writer<W>, column: &Column) -> std::io::Result<()> {
    match column {
        Column::F64(v) => v.iter().try_for_each(|x| w.put(&x.to_le_bytes())),
        Column::F32(v) => v.iter().try_for_each(|x| w.put(&x.to_le_bytes())),
    }
}

struct Reader<R: Read> {
    inner: R,
    sum: Checksum,
}

impl<R: Read> Reader<R> {
    fn take<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.inner.read_exact(&mut buf)?;
        self.sum.update(&buf);
        Ok(buf)
    }

    fn bytes(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.inner.read_exact(&mut buf)?;
        self.sum.update(&buf);
        Ok(buf)
    }
}

/// Reads a partial result, checking its format, checksum and internal consistency.
pub fn read_partial(path: &Path) -> Result<Partial, ShardError> {
    let damaged = |detail: String| ShardError::Damaged {
        path: path.to_path_buf(),
        detail,
    };
    let not_partial = || ShardError::NotPartial {
        path: path.to_path_buf(),
    };
    let file = File::open(path).map_err(|source| ShardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut r = Reader {
        inner: BufReader::new(file),
        sum: Checksum::new(),
    };
    let truncated = |_| damaged("it is cut short".into());
    let magic = r.bytes(MAGIC.len()).map_err(|_| not_partial())?;
    if magic != MAGIC {
        return Err(not_partial());
    }
    let head_len = u64::from_le_bytes(r.take::<8>().map_err(truncated)?);
    if head_len > size {
        return Err(damaged("its header is damaged".into()));
    }
    let head = r.bytes(head_len as usize).map_err(truncated)?;
    let header: PartialHeader = serde_json::from_slice(&head)
        .map_err(|e| damaged(format!("its header is damaged ({e})")))?;
    if header.format_version != FORMAT_VERSION {
        return Err(damaged(format!(
            "it has format version {}, and this engine reads version {FORMAT_VERSION}",
            header.format_version
        )));
    }
    let precision = match header.precision.as_str() {
        "double" => Precision::Double,
        "single" => Precision::Single,
        other => return Err(damaged(format!("unknown precision {other:?}"))),
    };
    let (n, p, h) = (header.trials as usize, header.partners, header.horizon);
    if h == 0 || p == 0 {
        return Err(damaged("its header is damaged".into()));
    }
    let body_len = n as u64
        * (8 + 12
            + (p + h - 1) as u64 * precision.bytes() as u64
            + crate::engine::outcomes::notice_bytes(p) as u64);
    if MAGIC.len() as u64 + 8 + head_len + body_len + 8 != size {
        return Err(damaged(format!(
            "it should be {} bytes long for {n} trials but is {size}",
            MAGIC.len() as u64 + 8 + head_len + body_len + 8
        )));
    }
    let read_body = |r: &mut Reader<_>| -> std::io::Result<Outcomes> {
        let mut npv = Vec::with_capacity(n);
        for _ in 0..n {
            npv.push(f64::from_le_bytes(r.take::<8>()?));
        }
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            let b = r.take::<12>()?;
            events.push(TrialEvents {
                withdrawals: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                rejoins: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
                payback_year: b[8],
                collapse_year: b[9],
                disputes: b[10],
                dispute_years: b[11],
            });
        }
        let partner_npv = take_column(r, precision, n * p)?;
        let cumulative = take_column(r, precision, n * (h - 1))?;
        let gave_notice = r.bytes(n * crate::engine::outcomes::notice_bytes(p))?;
        Ok(Outcomes {
            trials: n,
            partners: p,
            horizon: h,
            first_trial: header.first_trial,
            npv,
            events,
            partner_npv,
            cumulative,
            gave_notice,
        })
    };
    let outcomes = read_body(&mut r).map_err(truncated)?;
    let expected = r.sum.0;
    let mut stored = [0u8; 8];
    r.inner.read_exact(&mut stored).map_err(truncated)?;
    if u64::from_le_bytes(stored) != expected {
        return Err(damaged("its checksum does not match its contents".into()));
    }
    Ok(Partial {
        path: path.to_path_buf(),
        header,
        outcomes,
    })
}

fn take_column<R: Read>(
    r: &mut Reader<R>,
    precision: Precision,
    len: usize,
) -> std::io::Result<Column> {
    Ok(match precision {
        Precision::Double => {
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                v.push(f64::from_le_bytes(r.take::<8>()?));
            }
            Column::F64(v)
        }
        Precision::Single => {
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                v.push(f32::from_le_bytes(r.take::<4>()?));
            }
            Column::F32(v)
        }
    })
}

/// The joined result of a complete set of partials.
#[derive(Debug, Clone)]
pub struct Merged {
    pub scenario: Value,
    /// Where the scenario came from, as the first shard recorded it.
    pub origin: Option<Origin>,
    pub seed: u64,
    pub outcomes: Outcomes,
    /// Most threads any shard used.
    pub threads: usize,
    /// Total simulation time of all shards.
    pub elapsed_seconds: f64,
}

/// Checks that `parts` are pieces of one run that cover every trial exactly once, and
/// joins them in trial order.
pub fn merge(mut parts: Vec<Partial>) -> Result<Merged, ShardError> {
    let mismatch = |m: String| Err(ShardError::Mismatch(m));
    let Some(first) = parts.first() else {
        return mismatch("no partial results given".into());
    };
    let ours = env!("CARGO_PKG_VERSION");
    let h0 = first.header.clone();
    let p0 = first.path.display().to_string();
    for part in &parts {
        let h = &part.header;
        let p = part.path.display();
        if h.engine_version != ours {
            return mismatch(format!(
                "{p} was written by engine version {}, this is {ours}; rerun that shard with this version",
                h.engine_version
            ));
        }
        if h.scenario_hash != h0.scenario_hash {
            return mismatch(format!(
                "{p} is from a different scenario (or different --set overrides) than {p0}"
            ));
        }
        if h.seed != h0.seed {
            return mismatch(format!(
                "{p} used seed {}, {p0} used seed {}",
                h.seed, h0.seed
            ));
        }
        if h.total_trials != h0.total_trials {
            return mismatch(format!(
                "{p} is part of a {}-trial run, {p0} of a {}-trial run",
                h.total_trials, h0.total_trials
            ));
        }
    }
    parts.sort_by_key(|p| (p.header.first_trial, p.header.trials));
    let mut next = 0u64;
    for part in &parts {
        let (a, b) = (
            part.header.first_trial,
            part.header.first_trial + part.header.trials,
        );
        let p = part.path.display();
        if a < next {
            return mismatch(format!(
                "{p} covers trials {a}..{b}, which overlap trials already covered (up to {next})"
            ));
        }
        if a > next {
            return mismatch(format!(
                "trials {next}..{a} are missing: no partial result covers them"
            ));
        }
        next = b;
    }
    if next != h0.total_trials {
        return mismatch(format!(
            "trials {next}..{} are missing: no partial result covers them",
            h0.total_trials
        ));
    }
    let threads = parts.iter().map(|p| p.header.threads).max().unwrap_or(1);
    let elapsed_seconds = parts.iter().map(|p| p.header.elapsed_seconds).sum();
    let outcomes: Vec<Outcomes> = parts
        .into_iter()
        .filter(|p| p.header.trials > 0)
        .map(|p| p.outcomes)
        .collect();
    if outcomes.is_empty() {
        return mismatch("the partial results hold no trials".into());
    }
    Ok(Merged {
        origin: h0.origin,
        scenario: h0.scenario,
        seed: h0.seed,
        outcomes: Outcomes::join(outcomes),
        threads,
        elapsed_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_the_trials_exactly() {
        for total in [1u64, 7, 100, 1_000_003] {
            for count in [1u64, 3, 7, 16] {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn shard_specs_parse_and_bad_ones_are_refused() {
        assert_eq!(Shard::parse("2/7").unwrap(), Shard { index: 2, count: 7 });
        assert!(Shard::parse("7/7").is_err());
        assert!(Shard::parse("1-7").is_err());
        assert!(Shard::parse("0/0").is_err());
    }

    #[test]
    fn scheduler_environments_give_the_shard() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "7"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]);
        assert_eq!(
            Shard::from_env(None, slurm).unwrap(),
            Shard { index: 4, count: 7 }
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            Shard::from_env(Some(3), k8s).unwrap(),
            Shard { index: 2, count: 3 }
        );
        assert!(Shard::from_env(None, env(&[("JOB_COMPLETION_INDEX", "2")])).is_err());
        assert!(Shard::from_env(None, env(&[])).is_err());
        assert!(
            Shard::from_env(
                None,
                env(&[
                    ("SLURM_ARRAY_TASK_ID", "x"),
                    ("SLURM_ARRAY_TASK_COUNT", "2")
                ])
            )
            .is_err()
        );
    }
}
