//! Command-line definitions (clap), their translation into the run API's requests, and
//! the flag that names each of a request's settings in messages.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use consortium_sim::export::{self, Format};
use consortium_sim::lhs::Sampling;
use consortium_sim::run::{self, RunOptions, Setting, Source, Target};
use consortium_sim::shard::Shard;

const AFTER_HELP: &str = "\
Examples:
  consortium-sim run scenarios/four_districts_back_office.json
  consortium-sim run scenarios/social_care_formal.json --trials 20000 --seed 7 --out report.json
  consortium-sim run my.json --set /service/efficiency='{\"pert\":[0.05,0.12,0.2]}' \\
      --set /partners/Police/exit_fee=500000
  consortium-sim validate my.json
  consortium-sim init > my.json
  consortium-sim init --xlsx my.xlsx && consortium-sim run my.xlsx
  consortium-sim trace scenarios/mixed_jv_county_district_police.json --worst
  consortium-sim run my.json --trials-csv trials.csv
  consortium-sim schema > scenario.schema.json
  source <(consortium-sim completions bash)

Exit codes: 0 success, 1 internal error, 2 bad input (scenario, option or output path),
3 a --target-se or --target-prob-ci target not met, or no set of agreement terms
within the limits (the outputs are still written), 130 interrupted.
The model is described in docs/model.md; the scenario format in docs/scenario-format.md.";

/// Monte Carlo stress tests for the business case of a shared service between public bodies.
#[derive(Debug, Parser)]
#[command(name = "consortium-sim", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and print a summary (or write the JSON report with --out).
    ///
    /// Runs many random trials of the consortium's life, year by year, and reports how
    /// likely each partner is to lose money against running the service alone, how bad
    /// the bad case is and who is exposed. The same scenario, seed and trial count give
    /// the same figures whatever the number of threads. --out writes the full JSON
    /// report, --html a self-contained page with charts and --trials-csv one CSV row per
    /// trial, each atomically; a missing directory, or an output that is the scenario or
    /// another output, is refused before the run starts. `-` as an output path is
    /// standard output (the summary then goes to stderr).
    /// --shard runs one piece of a large run, for `merge`.
    #[command(
        after_help = "Examples:\n  consortium-sim run scenarios/four_districts_back_office.json --out report.json\n  consortium-sim run scenarios/four_districts_back_office.json --trials 1000000 --html report.html --trials-csv trials.csv"
    )]
    Run(RunArgs),
    /// Check a scenario file (JSON or .xlsx) and list every problem, each with its JSON
    /// path (and, in a workbook, its sheet and cell).
    ///
    /// Reads the file, applies any --set overrides and checks every field: types,
    /// ranges, required fields, unknown keys (suggesting the likely intended name),
    /// distribution parameters and the rules that tie fields together. Prints "ok" and
    /// a one-paragraph summary of the scenario, or lists every problem at once and exits
    /// with code 2.
    #[command(after_help = "Example:\n  consortium-sim validate scenarios/social_care_formal.json")]
    Validate {
        /// The scenario file (JSON, or an Excel workbook made by `init --xlsx`).
        file: PathBuf,
        #[command(flatten)]
        set: SetArgs,
    },
    /// Print a starting scenario that uses every section: `consortium-sim init > my.json`.
    ///
    /// The template validates as it is and uses every part of the format (service,
    /// founders and a late joiner, withdrawals, disputes, distributions), with
    /// illustrative figures to replace with your own. Redirect it to a file, edit it,
    /// and check it with `validate`.
    ///
    /// With --xlsx FILE it writes the same scenario as an Excel workbook instead, for a
    /// finance officer to fill in: a Scenario sheet (one row per field, with its unit,
    /// meaning and default), Partners, Disputes and Correlations. Every command that
    /// takes a scenario reads the workbook as it reads JSON.
    #[command(
        after_help = "Examples:\n  consortium-sim init > my.json && consortium-sim validate my.json\n  consortium-sim init --xlsx my.xlsx && consortium-sim run my.xlsx"
    )]
    Init {
        /// Write the template as an Excel workbook to this file instead of printing JSON.
        #[arg(long, value_name = "FILE")]
        xlsx: Option<PathBuf>,
    },
    /// Turn a JSON scenario into an Excel workbook, or a workbook into JSON.
    ///
    /// The format of OUT is chosen by its extension (.xlsx or .json; `-` prints JSON);
    /// the input may be either. The scenario is validated first, so a scenario with
    /// problems is refused with every problem listed. JSON -> xlsx -> JSON gives the
    /// same scenario back.
    #[command(
        after_help = "Examples:\n  consortium-sim convert scenarios/social_care_formal.json social_care.xlsx\n  consortium-sim convert social_care.xlsx social_care.json"
    )]
    Convert {
        /// The scenario to convert (JSON or .xlsx).
        input: PathBuf,
        /// The file to write: .xlsx for a workbook, .json (or `-`) for JSON.
        output: PathBuf,
    },
    /// Join the partial results of a sharded run into the report the unsharded run gives.
    ///
    /// Each shard (`run --shard K/N --partial FILE`) simulates a contiguous range of the
    /// trials, on any machine. `merge` checks that the parts belong to one run (same
    /// scenario, seed, trial count and engine version) and together cover every trial
    /// once, in any order, then builds the report: the unsharded run's, byte for byte,
    /// apart from its timings. --out, --html and --trials-csv work as with `run`.
    #[command(
        after_help = "Example:\n  consortium-sim run s.json --shard 0/2 --partial p0.bin\n  consortium-sim run s.json --shard 1/2 --partial p1.bin\n  consortium-sim merge p0.bin p1.bin --out report.json"
    )]
    Merge(MergeArgs),
    /// Replay one trial of a run year by year: members, disputes, pool, savings, exits.
    ///
    /// Shows each year's members, dispute state, efficiency, pool and each partner's
    /// saving, who joined, left or rejoined, and any collapse. --trial K replays trial K;
    /// --worst runs the whole simulation first and replays the trial at the 1st
    /// percentile of consortium NPV, the story to tell a board that asks what the bad
    /// case looks like. The replay runs the same code as the full run, so its figures
    /// are exactly that trial's.
    #[command(
        after_help = "Examples:\n  consortium-sim trace scenarios/mixed_jv_county_district_police.json --worst\n  consortium-sim trace scenarios/four_districts_back_office.json --trial 42"
    )]
    Trace(TraceArgs),
    /// Run the scenario at each value of one parameter (a line) or two (a grid).
    #[command(
        after_help = "Examples:\n  consortium-sim sweep scenarios/four_districts_back_office.json --param /service/efficiency=0.05:0.25:9 --trials 20000\n  consortium-sim sweep s.json --param /service/cost_sharing=proportional,equal --csv sweep.csv"
    )]
    Sweep(SweepArgs),
    /// Which agreement terms keep every partner's risk within a limit, and what they cost.
    ///
    /// Varies the terms a partnership agreement fixes (each partner's exit_fee,
    /// lock_in_years and rejoin_fee, the service's cost_sharing, the disputes'
    /// resolution_probability), each over the values given, and runs every combination
    /// (a set of terms) under common random numbers. Ranks the sets (those within
    /// --max-worse-off and --max-collapse first, then by consortium mean NPV, then by the
    /// worst partner's P(worse off)) and names the trade-off frontier between mean NPV
    /// and the worst partner's P(worse off). Exit code 3 if no set meets the limits (the
    /// outputs are written all the same).
    #[command(
        after_help = "Examples:\n  consortium-sim agreement scenarios/social_care_informal.json --term '/partners/*/exit_fee=0,250000,500000' --term '/partners/*/lock_in_years=0,3,5' --max-worse-off 0.3\n  consortium-sim agreement s.json --terms terms.json --max-worse-off 0.25 --max-collapse 0.05 --html agreement.html\n  consortium-sim agreement s.json --term '/partners/Otterby District Council/exit_fee=x0.5,x1,x2' --term /service/cost_sharing=proportional,equal"
    )]
    Agreement(AgreementArgs),
    /// Tornado of the inputs, their rank correlations with NPV, and switching values.
    #[command(
        after_help = "Example:\n  consortium-sim sensitivity scenarios/four_districts_back_office.json --trials 20000 --html sensitivity.html"
    )]
    Sensitivity(SensitivityArgs),
    /// Compare scenario files, or variants of one, trial by trial.
    #[command(
        after_help = "Examples:\n  consortium-sim compare scenarios/social_care_informal.json scenarios/social_care_formal.json\n  consortium-sim compare s.json --variant \"equal:/service/cost_sharing=equal\""
    )]
    Compare(CompareArgs),
    /// Print the JSON Schema (draft 2020-12) of the scenario format.
    ///
    /// The schema describes every field with its default and range, the distribution
    /// forms, the discount-rate and cost-sharing forms, and refuses unknown keys, as
    /// `validate` does. A scenario whose "$schema" key points at it (the shipped ones
    /// point at docs/scenario.schema.json, a copy of this output) is checked and
    /// completed while it is typed by editors such as VS Code. `validate` remains the
    /// authority: it also checks what a schema cannot, such as a distribution's mean.
    #[command(after_help = "Example:\n  consortium-sim schema > docs/scenario.schema.json")]
    Schema,
    /// Print a shell completion script for bash, zsh or fish.
    ///
    /// The script completes subcommands, options and file names. Load it from the shell's
    /// start-up file, or install it where the shell looks for completions.
    #[command(
        after_help = "Examples:\n  source <(consortium-sim completions bash)        # in ~/.bashrc\n  consortium-sim completions zsh > ~/.zfunc/_consortium-sim   # with ~/.zfunc in $fpath\n  consortium-sim completions fish > ~/.config/fish/completions/consortium-sim.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Start the web app: edit scenarios, run them, keep every run.
    ///
    /// Serves pages to edit a scenario, run it (with progress and Cancel), see the
    /// report's figures and charts, and find, compare or delete past runs, kept in a
    /// SQLite history. Prints the address to open. Listens on this machine only unless
    /// --bind names another address, which then needs the token (--token, or one
    /// generated and printed). Stop it with Ctrl-C: the history is kept.
    #[cfg(feature = "serve")]
    #[command(
        after_help = "Examples:\n  consortium-sim serve\n  consortium-sim serve --scenarios my-cases --db team-history.sqlite3\n  consortium-sim serve --bind 0.0.0.0:8300 --host finance-pc:8300 --token SECRET"
    )]
    Serve(ServeArgs),
}

/// The options of `serve`.
#[cfg(feature = "serve")]
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8300")]
    pub bind: std::net::SocketAddr,
    /// The folder of your scenarios, listed beside the shipped ones; the editor saves
    /// only here [default: scenarios/ in the data directory, beside the history].
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// The history's SQLite file [default: history.sqlite3 in the user's data
    /// directory, e.g. ~/.local/share/consortium-sim/].
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// The most trials one run may ask for.
    #[arg(long, value_name = "N", default_value_t = consortium_sim::serve::DEFAULT_MAX_TRIALS)]
    pub max_trials: u64,
    /// How many runs go at once; the others wait their turn.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub concurrent: usize,
    /// The most memory one run may take (e.g. 4G) [default: half this machine's].
    #[arg(long, value_name = "SIZE", value_parser = run::parse_size)]
    pub max_memory: Option<u64>,
    /// The secret a browser must present (once, as ?token=, then as a cookie). Needed
    /// off this machine: one is generated if --bind is not a loopback address.
    #[arg(long, value_name = "SECRET")]
    pub token: Option<String>,
    /// Another name browsers use to reach the server (the machine's name, a reverse
    /// proxy's), as HOST or HOST:PORT; requests addressed to other names are refused.
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
}

#[cfg(feature = "serve")]
impl ServeArgs {
    /// The server's configuration.
    pub fn config(self) -> consortium_sim::serve::Config {
        let mut config = consortium_sim::serve::Config::new(self.bind);
        if let Some(dir) = self.scenarios {
            config.scenarios = dir;
        }
        if let Some(db) = self.db {
            config.db = db;
        }
        config.max_trials = self.max_trials;
        config.concurrent = self.concurrent;
        config.max_memory = self.max_memory;
        config.token = self.token;
        config.hosts = self.hosts;
        config
    }
}

/// Options shared by every command that simulates.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The scenario file (JSON, or an Excel workbook made by `init --xlsx` or `convert`).
    pub scenario: PathBuf,
    /// Number of trials (overrides the scenario's `trials`).
    #[arg(long, value_name = "N")]
    pub trials: Option<u64>,
    /// Random seed (overrides the scenario's `seed`).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Refuse to start a run that would need more memory than this (e.g. 512M, 4G).
    /// Default: half of this machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = run::parse_size)]
    pub max_memory: Option<u64>,
    /// How to sample the trial-level inputs: `plain` (independent draws) or `lhs`
    /// (Latin hypercube in blocks of 1,024 trials: the same figures with less noise, so
    /// fewer trials for a given precision; standard errors then come from the blocks).
    #[arg(long, value_name = "METHOD", default_value = "plain", value_parser = str::parse::<Sampling>)]
    pub sampling: Sampling,
    /// No progress bar (it is shown only on a terminal, for runs over about a second).
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub set: SetArgs,
}

/// `--set` overrides.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// Override a scenario value: a JSON pointer, '=', and a number, a distribution as
    /// JSON, or a string. Partners may be named: /partners/Police/exit_fee=250000; a
    /// name that is a number or contains '=' goes in double quotes:
    /// '/partners/"7"/exit_fee=0' (an unquoted plain number is an index). Repeatable.
    #[arg(long = "set", value_name = "POINTER=VALUE")]
    pub overrides: Vec<String>,
    /// If the scenario's rank correlations cannot hold together, use the nearest valid
    /// set (with a warning saying what changed) instead of refusing the scenario.
    #[arg(long)]
    pub repair_correlations: bool,
}

impl SetArgs {
    /// The overrides to apply, `--repair-correlations` included as the scenario key it
    /// sets.
    pub fn all(&self) -> Vec<String> {
        let mut all = self.overrides.clone();
        if self.repair_correlations {
            all.push("/repair_correlations=true".into());
        }
        all
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Run only shard K of N (0-based), a contiguous range of the trials, and write a
    /// partial result with --partial; `auto` reads the shard from a Slurm job array or a
    /// Kubernetes Indexed Job. `consortium-sim merge` joins the partials.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// With `--shard auto` under a Kubernetes Indexed Job: the number of shards (the
    /// Job's completions). Under Slurm it overrides SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,
    /// Where a shard writes its partial result.
    #[arg(long, value_name = "FILE")]
    pub partial: Option<PathBuf>,
    /// Run until the standard error of the mean consortium NPV is at most X (currency
    /// units), instead of a fixed count: checked after 10,000 trials (10,240, whole
    /// blocks, with --sampling lhs), then at the trials
    /// each check projects to be enough (plus a tenth; at least a tenth more, at most
    /// double).
    /// No verdict before 1,000 trials. Exit code 3 if the target is not met by
    /// --max-trials (the report is still written).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub target_se: Option<f64>,
    /// Run until the Wilson 95% interval of P(loss) is at most W either side of the
    /// estimate (a probability: 0.005 is half a percentage point). With --target-se,
    /// both must be met. Judged only once there are 1,000 trials, 30 losses and 30
    /// trials without one; exit code 3 if not met.
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    pub target_prob_ci: Option<f64>,
    /// With a target: the most trials to run, at least 1,000 (default 10,000,000, or
    /// fewer if the memory guard allows fewer).
    #[arg(long, value_name = "N")]
    pub max_trials: Option<u64>,
}

/// `merge`: partial results to a report.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Partial results written by `run --shard ... --partial FILE`, in any order.
    #[arg(required = true, value_name = "PARTS")]
    pub parts: Vec<PathBuf>,
    /// Refuse to merge parts whose outcomes and report would need more memory than this
    /// (e.g. 512M, 4G). Default: half of this machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = run::parse_size)]
    pub max_memory: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where a run's (or a merge's) report goes; each file is written atomically.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the JSON report to this file (`-`: standard output) instead of printing a
    /// summary.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write one CSV row per trial to this file: trial, npv, each partner's NPV (a
    /// column named after it), payback_year, withdrawals, rejoins, disputes,
    /// dispute_years, collapse_year, and delay_years when go-live may slip.
    #[arg(long, value_name = "FILE")]
    pub trials_csv: Option<PathBuf>,
    /// Also write an Excel workbook (.xlsx) to this file: the summary, partners, years,
    /// NPV distribution, events, inputs and trials, with native charts.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Also write each partner's cash by year to this CSV file, for a medium-term
    /// financial plan: partner, year, then the mean, P5, P25, P50, P75 and P95 of its
    /// saving in the year and cumulative, undiscounted and discounted.
    #[arg(long, value_name = "FILE")]
    pub cashflow_csv: Option<PathBuf>,
    /// Also print each partner's cash by year: a table per partner of its saving in each
    /// year and cumulative, undiscounted (mean, P5, P50, P95).
    #[arg(long)]
    pub by_year: bool,
    /// Also write the result in a format by name: FORMAT=FILE (json, html, csv, xlsx,
    /// cashflow, or any format the library registers). Repeatable.
    #[arg(long = "export", value_name = "FORMAT=FILE", value_parser = Format::with_path)]
    pub export: Vec<(Format, PathBuf)>,
}

impl OutputArgs {
    /// Whether a page with charts (HTML) is asked for: the memory guard counts it.
    pub fn page(&self) -> bool {
        self.files()
            .iter()
            .any(|(format, _)| *format == export::html::FORMAT)
    }

    /// Every output flag: its name, the format it writes and the path given (if any),
    /// in the order they are checked (which decides the error shown when several are
    /// wrong).
    pub fn flags(&self) -> [(&'static str, Format, &Option<PathBuf>); 5] {
        [
            ("--out", export::json::FORMAT, &self.out),
            ("--html", export::html::FORMAT, &self.html),
            ("--trials-csv", export::csv::FORMAT, &self.trials_csv),
            ("--xlsx", export::xlsx::FORMAT, &self.xlsx),
            (
                "--cashflow-csv",
                export::cashflow::FORMAT,
                &self.cashflow_csv,
            ),
        ]
    }

    /// Every file asked for, in the order of [`OutputArgs::flags`], then `--export`s.
    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.flags()
            .into_iter()
            .filter_map(|(_, _, path)| path.as_ref())
            .chain(self.export.iter().map(|(_, path)| path))
    }

    /// Every file asked for, with its format, in the order they are written: the trial
    /// table, the cash flows, the page, the workbook, the JSON report, then `--export`s.
    pub fn files(&self) -> Vec<(Format, PathBuf)> {
        const WRITTEN: [&str; 5] = [
            "--trials-csv",
            "--cashflow-csv",
            "--html",
            "--xlsx",
            "--out",
        ];
        let flags = self.flags();
        let ordered: Vec<(Format, &Option<PathBuf>)> = WRITTEN
            .iter()
            .filter_map(|name| flags.iter().find(|(flag, ..)| flag == name))
            .map(|&(_, format, path)| (format, path))
            .collect();
        files(&ordered, &self.export)
    }
}

/// The (format, path) pairs of an output's own flags that were given, then `--export`s.
pub fn files(
    flags: &[(Format, &Option<PathBuf>)],
    export: &[(Format, PathBuf)],
) -> Vec<(Format, PathBuf)> {
    flags
        .iter()
        .filter_map(|&(format, path)| Some((format, path.clone()?)))
        .chain(export.iter().cloned())
        .collect()
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("which")
        .required(true)
        .args(["trial", "worst", "percentile", "median", "worst_for"])
))]
pub struct TraceArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// The trial to replay (0-based, below the run's trial count).
    #[arg(long, value_name = "K")]
    pub trial: Option<u64>,
    /// Replay the trial at the 1st percentile of consortium NPV (runs the full run first).
    #[arg(long)]
    pub worst: bool,
    /// Replay the trial at this percentile of consortium NPV, 0 to 100 (runs the full run
    /// first): 5 is a bad case, 50 the median, 95 a good one.
    #[arg(long, value_name = "P", value_parser = percentile, allow_negative_numbers = true)]
    pub percentile: Option<f64>,
    /// Replay the trial at the median consortium NPV (--percentile 50).
    #[arg(long)]
    pub median: bool,
    /// Replay the trial at the 1st percentile of this partner's own NPV: its bad case
    /// (a name, or its index from 0).
    #[arg(long, value_name = "PARTNER")]
    pub worst_for: Option<String>,
    /// Also write the story as a page (HTML, self-contained, with a chart of the trial's
    /// cumulative saving) to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// A percentile from the command line: a number from 0 to 100.
fn percentile(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "expected a percentile from 0 to 100, found {text:?}"
        )),
    }
}

/// `sweep`: the scenario at each value of one or two parameters.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// A parameter to sweep: POINTER=START:STOP:STEPS (STEPS evenly spaced values, both
    /// ends included) or POINTER=V1,V2,... (each value JSON or text, as with --set).
    /// Give one for a line, two for a grid.
    #[arg(long = "param", value_name = "POINTER=RANGE|LIST", required = true)]
    pub params: Vec<String>,
    /// Write the sweep as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write one CSV row per point to this file (for spreadsheets).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write an HTML page with charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write an Excel workbook (.xlsx) with the tables and native charts to this file.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Also write the result in a format by name: FORMAT=FILE (json, html, csv, xlsx, or
    /// any format the library registers). Repeatable.
    #[arg(long = "export", value_name = "FORMAT=FILE", value_parser = Format::with_path)]
    pub export: Vec<(Format, PathBuf)>,
}

/// `agreement`: sets of agreement terms against limits on each partner's risk.
#[derive(Debug, Args)]
pub struct AgreementArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// A term and its values: POINTER=V1,V2,... or POINTER=START:STOP:STEPS, as with
    /// sweep's --param. A partner's term for every partner is /partners/*/FIELD, for one
    /// partner /partners/NAME/FIELD; a value xK (x0.5, x2) scales the scenario's own
    /// value by K. Repeatable: every combination of values is run.
    #[arg(long = "term", value_name = "POINTER=LIST|RANGE")]
    pub terms: Vec<String>,
    /// A JSON file of terms: {"terms": {"/partners/*/exit_fee": [0, 250000], ...}}.
    #[arg(long = "terms", value_name = "FILE")]
    pub terms_file: Option<PathBuf>,
    /// The most any partner's P(worse off) may be for a set to meet the limits (0.3 for
    /// 30%).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub max_worse_off: Option<f64>,
    /// The most P(collapse) may be for a set to meet the limits.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub max_collapse: Option<f64>,
    /// Write the analysis as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write one CSV row per set of terms, in rank order, to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write an HTML page with the frontier chart to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write an Excel workbook (.xlsx) with the sets and the trade-off chart to this file.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Also write the result in a format by name: FORMAT=FILE (json, html, csv, xlsx, or
    /// any format the library registers). Repeatable.
    #[arg(long = "export", value_name = "FORMAT=FILE", value_parser = Format::with_path)]
    pub export: Vec<(Format, PathBuf)>,
}

/// `sensitivity`: tornado, rank correlations and switching values.
#[derive(Debug, Args)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Find the switching value of this input (a JSON pointer; partners may be named).
    /// Repeatable. Default: the three inputs with the widest tornado bars.
    #[arg(long = "switch", value_name = "POINTER")]
    pub switch: Vec<String>,
    /// Also find the value at which P(loss) reaches this probability (e.g. 0.2).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub target_prob_loss: Option<f64>,
    /// Write the analysis as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write an HTML page with tornado charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write an Excel workbook (.xlsx) with the tables and native charts to this file.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Also write the result in a format by name: FORMAT=FILE (json, html, csv, xlsx, or
    /// any format the library registers). Repeatable.
    #[arg(long = "export", value_name = "FORMAT=FILE", value_parser = Format::with_path)]
    pub export: Vec<(Format, PathBuf)>,
}

/// `compare`: scenarios side by side under common random numbers.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// More scenario files to compare with the first.
    #[arg(value_name = "MORE")]
    pub more: Vec<PathBuf>,
    /// A variant of the (single) scenario: NAME:POINTER=VALUE, more edits after ';'.
    /// Repeatable; the scenario as written is compared first, as "base".
    #[arg(long = "variant", value_name = "NAME:POINTER=VALUE[;...]")]
    pub variants: Vec<String>,
    /// Write the comparison as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write an HTML page with charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write an Excel workbook (.xlsx) with the tables and native charts to this file.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Also write the result in a format by name: FORMAT=FILE (json, html, csv, xlsx, or
    /// any format the library registers). Repeatable.
    #[arg(long = "export", value_name = "FORMAT=FILE", value_parser = Format::with_path)]
    pub export: Vec<(Format, PathBuf)>,
}

impl SimArgs {
    /// The run API's request for these options: no shard, no precision target, no cash
    /// by year (`run` asks for it when an output shows it, and a shard always).
    pub fn options(&self) -> RunOptions {
        RunOptions {
            scenario: Source::Path(self.scenario.clone()),
            overrides: self.set.all(),
            trials: self.trials,
            seed: self.seed,
            threads: self.threads,
            max_memory: self.max_memory,
            shard: None,
            target: None,
            page: false,
            cash_by_year: false,
            sampling: self.sampling,
        }
    }
}

impl RunArgs {
    /// The precision target asked for, if any option of one is given (`--max-trials`
    /// alone is refused by [`Target::check`]).
    pub fn target(&self) -> Option<Target> {
        let target = Target {
            se: self.target_se,
            prob_ci: self.target_prob_ci,
            max_trials: self.max_trials,
        };
        (target != Target::default()).then_some(target)
    }

    /// The shard of `spec`: K/N, or `auto` from a Slurm job array or a Kubernetes
    /// Indexed Job.
    pub fn shard(&self, spec: &str) -> Result<Shard, consortium_sim::shard::ShardError> {
        if spec == "auto" {
            Shard::from_env(self.shards, |name| std::env::var(name).ok())
        } else {
            Shard::parse(spec)
        }
    }
}

/// How the command line names a request's setting in messages: as its flag, the
/// setting's name in kebab case (`max_memory` is `--max-memory`).
pub fn flag(setting: Setting) -> String {
    format!("--{}", setting.name().replace('_', "-"))
}
