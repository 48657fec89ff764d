//! The run API: what every front end (the command line, Python, Excel, the web) calls
//! to turn a request into results, so that none of them copies it.
//!
//! A request is a plain [`RunOptions`]: the scenario (a file or JSON already read), its
//! overrides, and the run's trials, seed, threads, memory limit, shard or precision
//! target. [`prepare`] loads and validates the scenario, fixes the trials, checks the
//! memory the run needs and starts its threads; the [`Prepared`] run then simulates
//! (whole, one shard, or until its target is met), builds its report, finds and replays
//! its worst trial, writes a shard's partial result, or runs an analysis. Progress and
//! cancellation go through the engine's [`Monitor`](crate::engine::Monitor), passed in
//! by the caller; what the user should be told on the way comes back as [`Notice`]s.
//! The library never prints.
//!
//! Every function returns the one [`Error`], which says whether it is a mistake in the
//! request ([`Error::is_user_input`]), a cancelled run or a fault.
//!
//! ```
//! use consortium_sim::engine::Monitor;
//! use consortium_sim::run::{self, RunOptions};
//!
//! let mut options = RunOptions::new(std::path::Path::new(
//!     "scenarios/four_districts_back_office.json",
//! ));
//! options.trials = Some(500);
//! options.overrides = vec!["/service/efficiency=0.1".into()];
//! let mut notices = Vec::new();
//! let prepared = run::prepare(&options, &mut notices)?;
//! let monitor = Monitor::new();
//! let simulation = prepared.simulate(&monitor)?;
//! let report = prepared.report(&simulation, &monitor)?;
//! assert_eq!(report.trials, 500);
//! # Ok::<(), consortium_sim::Error>(())
//! ```

mod analyse;
mod error;
mod memory;
mod prepare;
mod provenance;
mod simulate;
mod target;

pub use analyse::{agreement_term_list, agreement_terms, sweep_params};
pub use error::{Error, Message, Notice, Result, Setting};
pub use memory::{Footprint, parse_size};
pub use prepare::{Loaded, MAX_THREADS, Prepared, RunOptions, Source, load, prepare};
pub use provenance::SHIPPED;
pub use simulate::{Pick, Simulation, build_report, interrupted, merge, trial_at, worst_trial};
pub use target::{
    Assessment, FIRST_BLOCK, MAX_TRIALS, MIN_EACH, MIN_TRIALS, Target, Verdict, first_checkpoint,
    next_checkpoint,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Monitor;

    /// Masks what depends on the machine and the moment, as the golden test does.
    fn masked(json: &str) -> String {
        json.lines()
            .map(|line| {
                let key = line.trim_start().split(':').next().unwrap_or("");
                match key {
                    "\"threads\"" | "\"elapsed_seconds\"" | "\"trials_per_second\"" => {
                        let (head, tail) = line.split_once(": ").unwrap();
                        let comma = if tail.ends_with(',') { "," } else { "" };
                        format!("{head}: MASKED{comma}\n")
                    }
                    "\"generated_at\"" => {
                        let (head, tail) = line.split_once(": ").unwrap();
                        let comma = if tail.ends_with(',') { "," } else { "" };
                        format!("{head}: \"MASKED\"{comma}\n")
                    }
                    _ => format!("{line}\n"),
                }
            })
            .collect()
    }

    /// A front end that uses only the run API gets the command line's report, byte for
    /// byte (the golden file of `run ... --trials 3000 --seed 11 --out`).
    #[test]
    fn the_run_api_alone_gives_the_command_lines_report() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut options = RunOptions::new(
            root.join("scenarios/four_districts_back_office.json")
                .as_path(),
        );
        options.trials = Some(3000);
        options.seed = Some(11);
        let mut notices = Vec::new();
        let prepared = prepare(&options, &mut notices).unwrap();
        assert!(notices.is_empty());
        let monitor = Monitor::new();
        let simulation = prepared.simulate(&monitor).unwrap();
        let report = prepared.report(&simulation, &monitor).unwrap();
        let golden = root.join("tests/golden/run-four_districts_back_office/report.json");
        // The golden command names the file relative to the root, and the report's
        // provenance names it as given.
        let json = crate::export::json::to_json(&report)
            .replace(&format!("{}/scenarios", root.display()), "scenarios");
        assert_eq!(masked(&json), std::fs::read_to_string(golden).unwrap());
    }

    /// A shard's partial result in memory is the file `write_partial` writes, byte for
    /// byte, so a front end may pass either to `merge`.
    #[test]
    fn a_partial_result_in_memory_is_the_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut options = RunOptions::new(
            root.join("scenarios/departments_shared_service_centre.json")
                .as_path(),
        );
        options.trials = Some(900);
        options.shard = Some(crate::shard::Shard::parse("1/2").unwrap());
        let prepared = prepare(&options, &mut Vec::new()).unwrap();
        let monitor = Monitor::new();
        let simulation = prepared.simulate(&monitor).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.bin");
        prepared
            .write_partial(&path, &simulation, &monitor)
            .unwrap();
        let bytes = prepared.partial_bytes(&simulation);
        assert_eq!(bytes, std::fs::read(&path).unwrap());
        let back = crate::shard::read_partial(&path).unwrap();
        assert_eq!(back.outcomes, simulation.outcomes);
    }

    /// A scenario file's bytes given with its name (an upload, a kept run) make the
    /// file's own report, provenance included.
    #[test]
    fn bytes_named_as_their_file_give_the_files_report() {
        let file = "scenarios/four_districts_back_office.json";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let report = |source: Source| {
            let mut options = RunOptions::new(source);
            options.trials = Some(500);
            let prepared = prepare(&options, &mut Vec::new()).unwrap();
            let monitor = Monitor::new();
            let simulation = prepared.simulate(&monitor).unwrap();
            let report = prepared.report(&simulation, &monitor).unwrap();
            masked(&crate::export::json::to_json(&report))
        };
        let bytes = std::fs::read(&path).unwrap();
        let from_bytes = report(Source::Bytes {
            bytes,
            name: path.display().to_string(),
        });
        assert_eq!(from_bytes, report(Source::Path(path)));
        assert!(from_bytes.contains("\"shipped_example\": true"));
        let e = prepare(
            &RunOptions::new(Source::Bytes {
                bytes: b"{".to_vec(),
                name: "upload.json".into(),
            }),
            &mut Vec::new(),
        )
        .err()
        .unwrap();
        assert!(e.is_user_input());
        assert!(
            e.to_string().starts_with("upload.json is not valid JSON"),
            "{e}"
        );
    }

    #[test]
    fn bad_requests_are_user_input_and_name_the_setting_neutrally() {
        let mut options = RunOptions::new(Source::Json {
            value: serde_json::from_str(crate::TEMPLATE).unwrap(),
            name: "the template".into(),
        });
        options.trials = Some(0);
        let e = prepare(&options, &mut Vec::new()).err().unwrap();
        assert!(e.is_user_input());
        assert_eq!(e.to_string(), "`trials` must be at least 1");
        let e = sweep_params(&["/a=1,2".into(), "/b=1,2".into(), "/c=1,2".into()])
            .err()
            .unwrap();
        assert!(
            e.to_string().starts_with("`param` was given 3 times"),
            "{e}"
        );
    }
}
