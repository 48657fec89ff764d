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
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{Column, Outcomes, Precision, TrialEvents};
use crate::lhs::Sampling;
use crate::plan::Plan;
use crate::rng::label_key;
use crate::scenario::Scenario;
use crate::scenario::origin::Origin;

/// First bytes of every partial-result file.
const MAGIC: &[u8] = b"consortium-sim partial\n";
/// The layout written here for a plain run; a reader refuses any but this and
/// [`LHS_FORMAT_VERSION`]. Version 2 added the partners' yearly savings of the run's
/// first trials.
pub const FORMAT_VERSION: u32 = 2;

/// The layout of a Latin hypercube run's partial result: version 2's, with `sampling`
/// in its header. Numbered apart so that an engine from before `--sampling`, which
/// reads version 2 and would ignore the field, refuses the file rather than merging it
/// as plain sampling; plain runs keep writing version 2, which such an engine merges.
pub const LHS_FORMAT_VERSION: u32 = 3;

/// The format version of a partial result of a run sampled by `sampling`.
pub fn format_version(sampling: Sampling) -> u32 {
    match sampling {
        Sampling::Plain => FORMAT_VERSION,
        Sampling::Lhs => LHS_FORMAT_VERSION,
    }
}

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
    /// A header field disagrees with another or with the header's own scenario (a file
    /// forged, or written by a faulty program, with a valid checksum).
    #[error("{path} does not hold together: its header's `{field}` {detail}")]
    Header {
        path: PathBuf,
        field: &'static str,
        detail: String,
    },
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
    /// How the run sampled its trial-level inputs; absent for plain sampling, so a plain
    /// run's partial results are written as before.
    #[serde(default, skip_serializing_if = "Sampling::is_plain")]
    pub sampling: Sampling,
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
    crate::output::write_atomically_with(path, |inner| put_partial(inner, header, outcomes))
}

/// A partial result as bytes, exactly as [`write_partial`] writes its file: for a front
/// end that passes shards between processes without files (a Python worker pool).
pub fn partial_bytes(header: &PartialHeader, outcomes: &Outcomes) -> Vec<u8> {
    let mut bytes = Vec::new();
    put_partial(&mut bytes, header, outcomes).expect("writing to memory cannot fail");
    bytes
}

/// Writes a partial result (magic, header, columns, checksum) to `inner`.
fn put_partial(
    inner: &mut (impl Write + ?Sized),
    header: &PartialHeader,
    outcomes: &Outcomes,
) -> std::io::Result<()> {
    let head = serde_json::to_vec(header).expect("a header serialises");
    {
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
        // Each trial's go-live delay, for a scenario whose go-live may slip (otherwise
        // empty, so other partials keep the layout they had before model v2).
        w.put(&outcomes.delay_years)?;
        // The partners' yearly savings of the trials kept (those of the run's first
        // trials that fall in this shard; none in a later shard of a large run).
        for x in &outcomes.cash {
            w.put(&x.to_le_bytes())?;
        }
        let sum = w.sum.0;
        w.inner.write_all(&sum.to_le_bytes())
    }
}

fn put_column<W: Write>(w: &mut Writer<W>, column: &Column) -> std::io::Result<()> {
    match column {
        Column::F64(v) => v.iter().try_for_each(|x| w.put(&x.to_le_bytes())),
        Column::F32(v) => v.iter().try_for_each(|x| w.put(&x.to_le_bytes())),
    }
}

/// The largest header a partial result may have: its scenario, no larger than a scenario
/// file may be ([`crate::scenario::load::MAX_FILE_BYTES`]), and a few numbers.
const MAX_HEADER_BYTES: u64 = crate::scenario::load::MAX_FILE_BYTES + (1 << 20);

/// Bytes before the header (the magic and the header's length) and after the body (the
/// checksum).
const FRAME_BYTES: u64 = MAGIC.len() as u64 + 8 + 8;

/// A partial result whose checksum covers the whole file and whose header fields agree
/// with each other and with the scenario it carries: what [`check_parts`] reads before
/// any outcome is loaded. Nothing here was sized from an unchecked count.
#[derive(Debug, Clone)]
pub struct CheckedPart {
    pub path: PathBuf,
    pub header: PartialHeader,
    pub precision: Precision,
    /// Where the outcome columns start in the file.
    body_at: u64,
}

/// Reads a partial result's header, after checking the checksum over the whole file
/// (streamed: nothing is allocated from the file's contents) and before trusting any
/// count in it, then checks every header field against the scenario it carries, which
/// is returned validated.
pub fn check_part(path: &Path) -> Result<(CheckedPart, Scenario), ShardError> {
    let io = |source| ShardError::Io {
        path: path.to_path_buf(),
        source,
    };
    let damaged = |detail: &str| ShardError::Damaged {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    let mut file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ShardError::Damaged {
            path: path.to_path_buf(),
            detail: "it is not a regular file (merge reads a partial result twice: to check \
                     it, then to load it)"
                .into(),
        });
    }
    let size = meta.len();
    let mut magic = [0u8; MAGIC.len()];
    if file.read_exact(&mut magic).is_err() || magic != MAGIC {
        return Err(ShardError::NotPartial {
            path: path.to_path_buf(),
        });
    }
    if size < FRAME_BYTES {
        return Err(damaged("it is cut short"));
    }
    verify_checksum(&mut file, size).map_err(|e| match e {
        Some(e) => io(e),
        None => damaged("its checksum does not match its contents"),
    })?;
    file.seek(SeekFrom::Start(MAGIC.len() as u64)).map_err(io)?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(io)?;
    let head_len = u64::from_le_bytes(len);
    if head_len > size - FRAME_BYTES || head_len > MAX_HEADER_BYTES {
        return Err(damaged("its header's length is wrong"));
    }
    let mut head = Vec::new();
    (&mut file)
        .take(head_len)
        .read_to_end(&mut head)
        .map_err(io)?;
    let header = parse_header(&head).map_err(|detail| damaged(&detail))?;
    let body_at = MAGIC.len() as u64 + 8 + head_len;
    let (scenario, precision) =
        check_fields(&header, size - body_at - 8).map_err(|(field, detail)| {
            ShardError::Header {
                path: path.to_path_buf(),
                field,
                detail,
            }
        })?;
    let part = CheckedPart {
        path: path.to_path_buf(),
        header,
        precision,
        body_at,
    };
    Ok((part, scenario))
}

/// Streams `file` (positioned after the magic, `size` bytes long) through the checksum
/// and compares it with the checksum stored in its last 8 bytes. `Err(None)`: they differ
/// (or the file is shorter than it was).
fn verify_checksum(file: &mut File, size: u64) -> Result<(), Option<std::io::Error>> {
    let mut sum = Checksum::new();
    sum.update(MAGIC);
    let mut rest = (&mut *file).take(size - MAGIC.len() as u64 - 8);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = rest.read(&mut buf).map_err(Some)?;
        if n == 0 {
            break;
        }
        sum.update(&buf[..n]);
    }
    if rest.limit() != 0 {
        return Err(None);
    }
    let mut stored = [0u8; 8];
    file.read_exact(&mut stored).map_err(|_| None)?;
    if u64::from_le_bytes(stored) != sum.0 {
        return Err(None);
    }
    Ok(())
}

/// The header's JSON, its format version checked before its layout is relied on.
fn parse_header(head: &[u8]) -> Result<PartialHeader, String> {
    let value: Value =
        serde_json::from_slice(head).map_err(|e| format!("its header is damaged ({e})"))?;
    let version = value.get("format_version").and_then(Value::as_u64);
    if !matches!(version, Some(v) if v == u64::from(FORMAT_VERSION) || v == u64::from(LHS_FORMAT_VERSION))
    {
        return Err(format!(
            "it has format version {}, and this engine reads versions {FORMAT_VERSION} \
             and {LHS_FORMAT_VERSION}",
            version.map_or_else(|| "(none)".to_string(), |v| v.to_string())
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("its header is damaged ({e})"))
}

/// Checks every header field against the others and against the header's own scenario,
/// and the body's length (`body_len` bytes in the file) against the counts. The error
/// names the field and what is wrong with it.
fn check_fields(
    h: &PartialHeader,
    body_len: u64,
) -> Result<(Scenario, Precision), (&'static str, String)> {
    if h.format_version != format_version(h.sampling) {
        return Err((
            "format_version",
            format!(
                "is {}, but a partial result of a run with --sampling {} has version {}",
                h.format_version,
                h.sampling.name(),
                format_version(h.sampling)
            ),
        ));
    }
    let ours = env!("CARGO_PKG_VERSION");
    if h.engine_version != ours {
        return Err((
            "engine_version",
            format!(
                "is {0}: it was written by engine version {0} and this is {ours}; rerun that \
                 shard with this version",
                h.engine_version
            ),
        ));
    }
    if h.scenario_hash != scenario_hash(&h.scenario) {
        return Err((
            "scenario_hash",
            format!(
                "is {}, which is not the hash of its scenario",
                h.scenario_hash
            ),
        ));
    }
    let scenario = crate::scenario::from_value(&h.scenario, "its scenario")
        .map_err(|e| ("scenario", format!("is not valid: {e}")))?;
    let plan = Plan::compile(&scenario);
    if h.partners != plan.partners {
        return Err((
            "partners",
            format!(
                "is {}, but its scenario has {} partners",
                h.partners, plan.partners
            ),
        ));
    }
    if h.horizon != plan.horizon {
        return Err((
            "horizon",
            format!(
                "is {}, but its scenario's horizon is {} years",
                h.horizon, plan.horizon
            ),
        ));
    }
    if h.total_trials == 0 {
        return Err(("total_trials", "is 0: a run has at least one trial".into()));
    }
    if h.shard_count == 0 || h.shard_index >= h.shard_count {
        return Err((
            "shard_index",
            format!(
                "is {} of {} shards, which does not exist",
                h.shard_index, h.shard_count
            ),
        ));
    }
    let range = Shard {
        index: h.shard_index,
        count: h.shard_count,
    }
    .range(h.total_trials);
    if h.first_trial != range.start {
        return Err((
            "first_trial",
            format!(
                "is {}, but shard {} of {} of a {}-trial run starts at trial {}",
                h.first_trial, h.shard_index, h.shard_count, h.total_trials, range.start
            ),
        ));
    }
    if h.trials != range.end - range.start {
        return Err((
            "trials",
            format!(
                "is {}, but shard {} of {} of a {}-trial run has {} trials",
                h.trials,
                h.shard_index,
                h.shard_count,
                h.total_trials,
                range.end - range.start
            ),
        ));
    }
    let precision = Precision::for_run(h.total_trials, &plan);
    let expected = match precision {
        Precision::Double => "double",
        Precision::Single => "single",
    };
    if h.precision != expected {
        return Err((
            "precision",
            format!(
                "is {:?}, but a {}-trial run of its scenario stores {expected:?}",
                h.precision, h.total_trials
            ),
        ));
    }
    if h.threads == 0 {
        return Err(("threads", "is 0".into()));
    }
    if !(h.elapsed_seconds.is_finite() && h.elapsed_seconds >= 0.0) {
        return Err((
            "elapsed_seconds",
            format!("is {}, not a duration", h.elapsed_seconds),
        ));
    }
    // The counts were checked against the scenario above, so the product is of a real
    // run's size; it is computed in u128 all the same.
    let per_trial = crate::engine::outcomes::bytes_per_trial(&plan, precision)
        - std::mem::size_of::<TrialEvents>() as u64
        + EVENT_BYTES;
    let kept = crate::engine::outcomes::cash_trials(&plan, h.first_trial, h.trials as usize);
    let needed = u128::from(h.trials) * u128::from(per_trial)
        + (kept * plan.partners * plan.horizon * 8) as u128;
    if needed != u128::from(body_len) {
        return Err((
            "trials",
            format!(
                "is {}, whose outcomes take {needed} bytes, but the file holds {body_len}",
                h.trials
            ),
        ));
    }
    Ok((scenario, precision))
}

/// Bytes of one trial's [`TrialEvents`] in a partial result.
const EVENT_BYTES: u64 = 12;

/// Partial results checked one by one and together: pieces of one run that cover every
/// trial once, ready to be loaded into one set of outcomes.
#[derive(Debug)]
pub struct Parts {
    /// In trial order; only the first part's header keeps its scenario (the others'
    /// are the same, by their hash, and are dropped as soon as they are checked).
    parts: Vec<CheckedPart>,
    scenario: Scenario,
    pub plan: Plan,
}

impl Parts {
    /// Trials of the whole run.
    pub fn total_trials(&self) -> u64 {
        self.parts[0].header.total_trials
    }

    /// The scenario the parts ran, validated.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// How the outcome rows are stored.
    pub fn precision(&self) -> Precision {
        self.parts[0].precision
    }
}

/// Checks each partial result at `paths` ([`check_part`]), then that they are pieces of
/// one run (same scenario, seed and trial count) that cover every trial exactly once.
/// No outcome is read yet: [`Parts::load`] does that, once the caller has checked the
/// memory the outcomes need.
pub fn check_parts(paths: &[PathBuf]) -> Result<Parts, ShardError> {
    let mismatch = |m: String| Err(ShardError::Mismatch(m));
    if paths.is_empty() {
        return mismatch("no partial results given".into());
    }
    let (first, scenario) = check_part(&paths[0])?;
    let mut h0 = first.header.clone();
    h0.scenario = Value::Null;
    let p0 = first.path.display().to_string();
    let mut parts = vec![first];
    for path in &paths[1..] {
        let (mut part, _) = check_part(path)?;
        part.header.scenario = Value::Null;
        let h = &part.header;
        let p = part.path.display();
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
        if h.sampling != h0.sampling {
            return mismatch(format!(
                "{p} used --sampling {}, {p0} used --sampling {}",
                h.sampling.name(),
                h0.sampling.name()
            ));
        }
        parts.push(part);
    }
    parts.sort_by_key(|p| (p.header.first_trial, p.header.trials));
    let mut next = 0u64;
    for part in &parts {
        // first_trial + trials is a shard's range end, checked not to pass total_trials.
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
    let mut plan = Plan::compile(&scenario);
    plan.sampling = parts[0].header.sampling;
    Ok(Parts {
        parts,
        scenario,
        plan,
    })
}

impl Parts {
    /// Reads every part's outcomes into one set of outcomes of the whole run, each file
    /// checked again against its checksum as it is read (in case it changed since).
    pub fn load(self) -> Result<Merged, ShardError> {
        let total = self.total_trials() as usize;
        let mut out = Outcomes::zeroed(&self.plan, 0, total, self.precision());
        for part in &self.parts {
            load_part(part, &mut out)?;
        }
        let threads = self
            .parts
            .iter()
            .map(|p| p.header.threads)
            .max()
            .unwrap_or(1);
        let elapsed_seconds = self.parts.iter().map(|p| p.header.elapsed_seconds).sum();
        let seed = self.parts[0].header.seed;
        // The first part's record of the scenario's origin (all share one scenario).
        let origin = self.parts[0].header.origin.clone();
        let scenario = self
            .parts
            .into_iter()
            .map(|p| p.header.scenario)
            .find(|v| !v.is_null())
            .expect("one part keeps the scenario");
        Ok(Merged {
            scenario,
            origin,
            validated: self.scenario,
            seed,
            outcomes: out,
            threads,
            elapsed_seconds,
        })
    }
}

/// Reads one checked part's outcomes into its trials' places in `out`.
fn load_part(part: &CheckedPart, out: &mut Outcomes) -> Result<(), ShardError> {
    let path = &part.path;
    let file = File::open(path).map_err(|source| ShardError::Io {
        path: path.clone(),
        source,
    })?;
    let mut r = Reader {
        inner: BufReader::new(file),
        sum: Checksum::new(),
    };
    let changed = || ShardError::Damaged {
        path: path.clone(),
        detail: "it changed while it was being merged".into(),
    };
    let mut read = |r: &mut Reader<BufReader<File>>| -> std::io::Result<u64> {
        r.skip(part.body_at)?;
        read_body(r, part, out)?;
        let expected = r.sum.0;
        let mut stored = [0u8; 8];
        r.inner.read_exact(&mut stored)?;
        Ok(u64::from_le_bytes(stored) ^ expected)
    };
    match read(&mut r) {
        Ok(0) => Ok(()),
        _ => Err(changed()),
    }
}

/// Reads a part's columns into `out` (the whole run's outcomes) at its trials' places.
fn read_body<R: Read>(
    r: &mut Reader<R>,
    part: &CheckedPart,
    out: &mut Outcomes,
) -> std::io::Result<()> {
    let (a, n) = (
        part.header.first_trial as usize,
        part.header.trials as usize,
    );
    let total = out.trials;
    for x in &mut out.npv[a..a + n] {
        *x = f64::from_le_bytes(r.take::<8>()?);
    }
    for e in &mut out.events[a..a + n] {
        let b = r.take::<12>()?;
        *e = TrialEvents {
            withdrawals: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            rejoins: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            payback_year: b[8],
            collapse_year: b[9],
            disputes: b[10],
            dispute_years: b[11],
        };
    }
    take_rows(r, &mut out.partner_npv, total, a, n)?;
    take_rows(r, &mut out.cumulative, total, a, n)?;
    let nb = crate::engine::outcomes::notice_bytes(out.partners);
    r.fill(&mut out.gave_notice[a * nb..(a + n) * nb])?;
    // Present exactly when the plan stores delays, as the body's length checked.
    if !out.delay_years.is_empty() {
        r.fill(&mut out.delay_years[a..a + n])?;
    }
    // The kept trials are a prefix of the run: this part keeps those of its trials that
    // fall in `out`'s kept ones.
    let (kept_total, kept) = (out.cash_trials, out.cash_trials.saturating_sub(a).min(n));
    if kept > 0 {
        for row in out.cash.chunks_mut(kept_total) {
            for x in &mut row[a..a + kept] {
                *x = f64::from_le_bytes(r.take::<8>()?);
            }
        }
    }
    Ok(())
}

/// Reads a part's rows (`n` values each) into trials `a..a + n` of each row of `column`
/// (rows `total` long).
fn take_rows<R: Read>(
    r: &mut Reader<R>,
    column: &mut Column,
    total: usize,
    a: usize,
    n: usize,
) -> std::io::Result<()> {
    match column {
        Column::F64(v) => {
            for row in v.chunks_mut(total) {
                for x in &mut row[a..a + n] {
                    *x = f64::from_le_bytes(r.take::<8>()?);
                }
            }
        }
        Column::F32(v) => {
            for row in v.chunks_mut(total) {
                for x in &mut row[a..a + n] {
                    *x = f32::from_le_bytes(r.take::<4>()?);
                }
            }
        }
    }
    Ok(())
}

struct Reader<R: Read> {
    inner: R,
    sum: Checksum,
}

impl<R: Read> Reader<R> {
    fn take<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        self.inner.read_exact(buf)?;
        self.sum.update(buf);
        Ok(())
    }

    /// Reads (into the checksum) and drops the next `n` bytes.
    fn skip(&mut self, mut n: u64) -> std::io::Result<()> {
        let mut buf = [0u8; 4096];
        while n > 0 {
            let k = n.min(buf.len() as u64) as usize;
            self.fill(&mut buf[..k])?;
            n -= k as u64;
        }
        Ok(())
    }
}

/// Reads one partial result whole, checked as [`check_part`] checks it: its header and
/// its own outcomes (trial indices from its `first_trial`).
pub fn read_partial(path: &Path) -> Result<Partial, ShardError> {
    let (part, scenario) = check_part(path)?;
    let mut plan = Plan::compile(&scenario);
    plan.sampling = part.header.sampling;
    let n = part.header.trials as usize;
    // Sized for the part's own trials (which of them keep their yearly savings follows
    // from their indices in the whole run), then read as if it started at trial 0.
    let mut outcomes = Outcomes::zeroed(&plan, part.header.first_trial, n, part.precision);
    outcomes.first_trial = 0;
    let mut local = part.clone();
    local.header.first_trial = 0;
    let file = File::open(path).map_err(|source| ShardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut r = Reader {
        inner: BufReader::new(file),
        sum: Checksum::new(),
    };
    r.skip(part.body_at)
        .and_then(|()| read_body(&mut r, &local, &mut outcomes))
        .map_err(|_| ShardError::Damaged {
            path: path.to_path_buf(),
            detail: "it changed while it was being read".into(),
        })?;
    outcomes.first_trial = part.header.first_trial;
    Ok(Partial {
        path: part.path,
        header: part.header,
        outcomes,
    })
}

/// The joined result of a complete set of partials.
#[derive(Debug, Clone)]
pub struct Merged {
    pub scenario: Value,
    /// Where the scenario came from, as the first shard recorded it.
    pub origin: Option<Origin>,
    /// `scenario`, validated.
    pub validated: Scenario,
    pub seed: u64,
    pub outcomes: Outcomes,
    /// Most threads any shard used.
    pub threads: usize,
    /// Total simulation time of all shards.
    pub elapsed_seconds: f64,
}

/// Checks that the partial results at `paths` are pieces of one run that cover every
/// trial exactly once ([`check_parts`]), and joins them in trial order.
pub fn merge(paths: &[PathBuf]) -> Result<Merged, ShardError> {
    check_parts(paths)?.load()
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
