//! Helpers shared by the integration tests: running the built binary and judging what it
//! did, finding and reading the shipped scenarios and reports, writing scenarios to a
//! scratch directory, and reading CSV. Each test module keeps the helpers only it needs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

/// The binary under test, built by cargo for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_consortium-sim");

/// The binary as a command that inherits nothing that would change what it does: no
/// backtrace setting, and none of the variables a scheduler sets to pick a shard (a
/// test that means a shard sets them again on the command).
pub fn bin() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("RUST_BACKTRACE");
    for var in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "JOB_COMPLETION_INDEX",
    ] {
        c.env_remove(var);
    }
    c
}

/// The binary with `args`.
pub fn cmd(args: &[&str]) -> Command {
    let mut c = bin();
    c.args(args);
    c
}

/// Runs the binary with `args` to the end.
pub fn output(args: &[&str]) -> Output {
    cmd(args).output().expect("the binary starts")
}

/// Runs the binary with `args` and returns what it did, as text.
pub fn sim(args: &[&str]) -> Out {
    let o = output(args);
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
    }
}

/// What one invocation of the binary did.
#[derive(Debug)]
pub struct Out {
    /// The exit code (-1 when a signal ended the process).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts exit code 2 (bad input), a message on stderr and nothing that looks like
    /// a result on stdout.
    pub fn bad_input(&self) -> &Self {
        assert_eq!(
            self.code, 2,
            "expected exit code 2 (bad input)\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(!self.stderr.trim().is_empty(), "no message on stderr");
        assert!(
            !self.stdout.starts_with("ok"),
            "a failed command printed ok:\n{}",
            self.stdout
        );
        self
    }

    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// Asserts that a process (the binary or a script) succeeded, and passes its output on.
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "expected success\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Asserts that the binary refused its input: exit code 2 and `needle` on stderr.
pub fn bad_input(out: Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(
        stderr.contains(needle),
        "stderr lacks {needle:?}:\n{stderr}"
    );
}

/// The repository's root, where `scenarios/` and `docs/` are.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of the shipped scenario `name` (a file name in `scenarios/`), as an argument.
pub fn shipped(name: &str) -> String {
    root().join("scenarios").join(name).display().to_string()
}

/// The shipped scenario `name`, parsed.
pub fn shipped_json(name: &str) -> Value {
    read_json(Path::new(&shipped(name)))
}

/// The file names of every shipped scenario, sorted.
pub fn shipped_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 6,
        "expected the six shipped scenarios, found {names:?}"
    );
    names
}

/// The path of every shipped scenario, sorted.
pub fn all_shipped() -> Vec<PathBuf> {
    let dir = root().join("scenarios");
    shipped_names().iter().map(|n| dir.join(n)).collect()
}

/// A JSON file (a scenario, a report), parsed.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The number at `pointer` in `v` (a report), which must be there.
pub fn f(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in {v}"))
        .as_f64()
        .unwrap_or_else(|| panic!("{pointer} is not a number"))
}

/// A scratch directory holding scenario files, removed when dropped.
pub struct Dir(pub TempDir);

impl Dir {
    pub fn new() -> Dir {
        Dir(tempfile::tempdir().expect("temp dir"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `text` to the file `name` and returns its path, as an argument.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    pub fn write_json(&self, name: &str, v: &Value) -> String {
        self.write(name, &serde_json::to_string_pretty(v).unwrap())
    }
}
