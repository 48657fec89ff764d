//! Output paths (#17 items 1 and 2): an output is written into the file its path really
//! names (through symlinks, keeping the mode of the file it replaces), a device or FIFO
//! is written as it is, `-` is standard output, and an output that is an input or
//! another output of the same command is refused before anything runs.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use serde_json::Value;

use crate::cli::cut_run_block;
use crate::util::{Dir, Out, shipped, sim};

const SCENARIO: &str = "four_districts_back_office.json";

/// `run SCENARIO --trials 500` with `extra` arguments.
fn run(extra: &[&str]) -> Out {
    let scenario = shipped(SCENARIO);
    let mut args = vec!["run", &scenario, "--trials", "500"];
    args.extend_from_slice(extra);
    sim(&args)
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

fn is_report(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v["trials"] == 500)
}

#[test]
fn out_dev_null_leaves_dev_null_a_character_device() {
    run(&["--out", "/dev/null", "--html", "/dev/null"]).ok();
    let meta = fs::metadata("/dev/null").unwrap();
    assert!(meta.file_type().is_char_device());
    assert_eq!(fs::read("/dev/null").unwrap(), b"");
}

/// A device node of the test's own (as root, which CI is) and a FIFO are written into,
/// not replaced by a regular file.
#[test]
fn devices_and_fifos_are_written_as_they_are() {
    let d = Dir::new();
    let node = d.path("null");
    let made = std::process::Command::new("mknod")
        .args([&arg(&node), "c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    if made {
        run(&["--out", &arg(&node)]).ok();
        assert!(fs::metadata(&node).unwrap().file_type().is_char_device());
    }
    let fifo = d.path("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    run(&["--out", &arg(&fifo)]).ok();
    assert!(is_report(&reader.join().unwrap()));
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_symlink_stays_a_symlink_and_its_target_gets_the_report() {
    let d = Dir::new();
    fs::create_dir(d.path("reports")).unwrap();
    let target = d.path("reports/report.json");
    fs::write(&target, "earlier").unwrap();
    let link = d.path("latest.json");
    std::os::unix::fs::symlink("reports/report.json", &link).unwrap();
    run(&["--out", &arg(&link)]).ok();
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("reports/report.json")
    );
    assert!(is_report(&fs::read_to_string(&target).unwrap()));
    // A link to a file not there yet creates the file and keeps the link.
    let dangling = d.path("next.json");
    std::os::unix::fs::symlink("reports/next.json", &dangling).unwrap();
    run(&["--out", &arg(&dangling)]).ok();
    assert!(fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert!(is_report(
        &fs::read_to_string(d.path("reports/next.json")).unwrap()
    ));
}

#[test]
fn a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umask_default() {
    let d = Dir::new();
    let private = d.path("private.json");
    fs::write(&private, "earlier").unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    let shared = d.path("shared.html");
    fs::write(&shared, "earlier").unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o664)).unwrap();
    let new = d.path("new.csv");
    run(&[
        "--out",
        &arg(&private),
        "--html",
        &arg(&shared),
        "--trials-csv",
        &arg(&new),
    ])
    .ok();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&private), 0o600);
    assert_eq!(mode(&shared), 0o664);
    // What this process's umask makes of a new file (0644 under the usual 022).
    let probe = d.path("probe");
    fs::File::create(&probe).unwrap();
    assert_eq!(mode(&new), mode(&probe));
    assert!(is_report(&fs::read_to_string(&private).unwrap()));
}

/// `--out -` streams the report, and nothing else, to stdout: the same bytes as
/// `--out FILE` apart from the run block's timings.
#[test]
fn out_dash_writes_the_report_alone_to_stdout() {
    let d = Dir::new();
    let file = d.path("report.json");
    let to_file = run(&["--out", &arg(&file), "--seed", "4"]);
    to_file.ok();
    let piped = run(&["--out", "-", "--seed", "4"]);
    piped.ok();
    assert!(is_report(&piped.stdout), "{}", piped.stdout);
    assert_eq!(
        cut_run_block(&piped.stdout),
        cut_run_block(&fs::read_to_string(&file).unwrap())
    );
    assert_eq!(piped.stderr, "");
}

/// With the page on stdout, the terminal summary and the "wrote" lines go to stderr.
#[test]
fn a_dash_output_sends_what_would_be_printed_to_stderr() {
    let d = Dir::new();
    let csv = d.path("trials.csv");
    let out = run(&["--html", "-", "--trials-csv", &arg(&csv)]);
    out.ok();
    assert!(
        out.stdout.starts_with("<!DOCTYPE html>"),
        "{}",
        &out.stdout[..80]
    );
    assert!(out.stdout.trim_end().ends_with("</html>"));
    assert!(out.stderr.contains("Consortium NPV"), "{}", out.stderr);
    assert!(out.stderr.contains(&format!("wrote {}\n", csv.display())));
    // An analysis's CSV on stdout: its table goes to stderr.
    let scenario = shipped(SCENARIO);
    let sweep = sim(&[
        "sweep",
        &scenario,
        "--trials",
        "300",
        "--param",
        "/service/efficiency=0.1,0.2",
        "--csv",
        "-",
    ]);
    sweep.ok();
    assert_eq!(sweep.stdout.lines().count(), 3, "{}", sweep.stdout);
    assert!(
        sweep.stdout.starts_with("/service/efficiency,mean_npv,"),
        "{}",
        sweep.stdout
    );
    assert!(sweep.stderr.contains("Sweep of /service/efficiency"));
}

/// Refuses `args` with exit code 2 and `message`, and leaves each of `kept` as it was
/// and the directory with no new file.
fn refused(d: &Dir, args: &[&str], message: &str, kept: &[&Path]) {
    let before: Vec<Vec<u8>> = kept.iter().map(|p| fs::read(p).unwrap()).collect();
    let names = || {
        let mut n: Vec<_> = fs::read_dir(d.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        n.sort();
        n
    };
    let listed = names();
    let out = sim(args);
    out.bad_input();
    assert_eq!(out.stderr, format!("error: {message}\n"), "{args:?}");
    assert_eq!(out.stdout, "");
    for (p, bytes) in kept.iter().zip(&before) {
        assert_eq!(&fs::read(p).unwrap(), bytes, "{p:?} changed");
    }
    assert_eq!(names(), listed, "a file appeared");
}

const REPLACES: &str = "an output may not be an input of the same command";
const SAME: &str = "name the same file: give each output a file of its own";

#[test]
fn an_output_that_is_the_scenario_is_refused_however_it_is_spelt() {
    let d = Dir::new();
    let v = d.write("v.json", &fs::read_to_string(shipped(SCENARIO)).unwrap());
    let vp = Path::new(&v).to_path_buf();
    let link = d.path("alias.json");
    std::os::unix::fs::symlink("v.json", &link).unwrap();
    let dotted = format!("{}/./v.json", d.0.path().display());
    for (flag, path) in [
        ("--out", v.as_str()),
        ("--html", dotted.as_str()),
        ("--trials-csv", &arg(&link)),
    ] {
        refused(
            &d,
            &["run", &v, flag, path],
            &format!("{flag} {path} would replace the scenario {v}: {REPLACES}"),
            &[&vp],
        );
    }
    refused(
        &d,
        &["run", &v, "--export", &format!("csv={v}")],
        &format!("--export csv {v} would replace the scenario {v}: {REPLACES}"),
        &[&vp],
    );
    refused(
        &d,
        &["run", &v, "--shard", "0/2", "--partial", &arg(&link)],
        &format!(
            "--partial {} would replace the scenario {v}: {REPLACES}",
            link.display()
        ),
        &[&vp],
    );
    for command in [
        &[
            "sweep",
            &v,
            "--param",
            "/service/efficiency=0.1,0.2",
            "--csv",
            &v,
        ][..],
        &["sensitivity", &v, "--out", &v][..],
        &["compare", &v, "--variant", "x:/seed=2", "--html", &v][..],
    ] {
        let flag = command[command.len() - 2];
        refused(
            &d,
            command,
            &format!("{flag} {v} would replace the scenario {v}: {REPLACES}"),
            &[&vp],
        );
    }
    let w = d.write("w.json", &fs::read_to_string(&v).unwrap());
    refused(
        &d,
        &["compare", &v, &w, "--out", &w],
        &format!("--out {w} would replace the scenario {w}: {REPLACES}"),
        &[&vp, Path::new(&w)],
    );
}

#[test]
fn merge_refuses_to_write_over_a_partial_result() {
    let d = Dir::new();
    let scenario = shipped(SCENARIO);
    let parts: Vec<String> = (0..2)
        .map(|k| {
            let p = arg(&d.path(&format!("p{k}.bin")));
            let shard = format!("{k}/2");
            sim(&[
                "run",
                &scenario,
                "--trials",
                "400",
                "--shard",
                &shard,
                "--partial",
                &p,
            ])
            .ok();
            p
        })
        .collect();
    let p1 = d.path("p1.bin");
    refused(
        &d,
        &["merge", &parts[0], &parts[1], "--trials-csv", &arg(&p1)],
        &format!(
            "--trials-csv {} would replace the partial result {}: {REPLACES}",
            p1.display(),
            parts[1]
        ),
        &[&p1],
    );
    // Run from the directory, so the relative spelling means the same file.
    let out = crate::util::cmd(&["merge", "p0.bin", "p1.bin", "--out", "./p0.bin"])
        .current_dir(d.0.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("error: --out ./p0.bin would replace the partial result p0.bin: {REPLACES}\n")
    );
}

#[test]
fn two_outputs_naming_one_file_are_refused() {
    let d = Dir::new();
    let scenario = shipped(SCENARIO);
    let r = arg(&d.path("r.json"));
    let dotted = format!("{}/./r.json", d.0.path().display());
    refused(
        &d,
        &["run", &scenario, "--out", &r, "--html", &dotted],
        &format!("--out {r} and --html {dotted} {SAME}"),
        &[],
    );
    refused(
        &d,
        &[
            "run",
            &scenario,
            "--export",
            &format!("json={r}"),
            "--out",
            &r,
        ],
        &format!("--out {r} and --export json {r} {SAME}"),
        &[],
    );
    let existing = d.write("e.csv", "kept");
    let link = d.path("e-link.csv");
    std::os::unix::fs::symlink(&existing, &link).unwrap();
    refused(
        &d,
        &[
            "run",
            &scenario,
            "--trials-csv",
            &existing,
            "--export",
            &format!("csv={}", link.display()),
        ],
        &format!(
            "--trials-csv {existing} and --export csv {} {SAME}",
            link.display()
        ),
        &[Path::new(&existing)],
    );
    refused(
        &d,
        &[
            "sweep",
            &scenario,
            "--param",
            "/service/efficiency=0.1,0.2",
            "--out",
            "-",
            "--csv",
            "-",
        ],
        "--out - and --csv - both write to standard output: only one output may go there",
        &[],
    );
    // /dev/null is the one file any number of outputs may share.
    run(&["--out", "/dev/null", "--html", "/dev/null"]).ok();
}

#[test]
fn an_output_named_as_another_format_is_refused_before_the_run() {
    let d = Dir::new();
    let scenario = shipped(SCENARIO);
    let at = |name: &str| arg(&d.path(name));
    let said = |flag: &str, name: &str, noun: &str, ext: &str, other: &str, want: &str| {
        format!(
            "{flag} {}: {noun} would be written under a name ending in .{ext}, the extension of {other}; give it a name ending in .{want}",
            at(name)
        )
    };
    for (flag, name, message) in [
        (
            "--out",
            "r.xlsx",
            said(
                "--out",
                "r.xlsx",
                "JSON",
                "xlsx",
                "an Excel workbook",
                "json",
            ),
        ),
        (
            "--html",
            "r.XLSX",
            said(
                "--html",
                "r.XLSX",
                "an HTML page",
                "xlsx",
                "an Excel workbook",
                "html",
            ),
        ),
        (
            "--xlsx",
            "r.json",
            said(
                "--xlsx",
                "r.json",
                "an Excel workbook",
                "json",
                "JSON",
                "xlsx",
            ),
        ),
        (
            "--trials-csv",
            "r.htm",
            said("--trials-csv", "r.htm", "CSV", "htm", "an HTML page", "csv"),
        ),
        (
            "--cashflow-csv",
            "r.json",
            said("--cashflow-csv", "r.json", "CSV", "json", "JSON", "csv"),
        ),
    ] {
        let path = at(name);
        refused(&d, &["run", &scenario, flag, &path], &message, &[]);
    }
    refused(
        &d,
        &[
            "run",
            &scenario,
            "--export",
            &format!("xlsx={}", at("r.csv")),
        ],
        &said(
            "--export xlsx",
            "r.csv",
            "an Excel workbook",
            "csv",
            "CSV",
            "xlsx",
        ),
        &[],
    );
    refused(
        &d,
        &[
            "sweep",
            &scenario,
            "--param",
            "/service/efficiency=0.1,0.2",
            "--csv",
            &at("s.json"),
        ],
        &said("--csv", "s.json", "CSV", "json", "JSON", "csv"),
        &[],
    );
    refused(
        &d,
        &["trace", &scenario, "--trial", "1", "--html", &at("t.csv")],
        &said("--html", "t.csv", "an HTML page", "csv", "CSV", "html"),
        &[],
    );
    refused(
        &d,
        &["init", "--xlsx", &at("s.json")],
        &said(
            "--xlsx",
            "s.json",
            "an Excel workbook",
            "json",
            "JSON",
            "xlsx",
        ),
        &[],
    );
    // A partial result is the engine's own file, named as no format is.
    refused(
        &d,
        &[
            "run",
            &scenario,
            "--shard",
            "0/2",
            "--partial",
            &at("p.json"),
        ],
        &said(
            "--partial",
            "p.json",
            "a partial result",
            "json",
            "JSON",
            "bin",
        ),
        &[],
    );
    // A format that cannot render the result is said before its name is judged, so that
    // renaming the file does not meet a second refusal.
    refused(
        &d,
        &[
            "sweep",
            &scenario,
            "--param",
            "/service/efficiency=0.1,0.2",
            "--export",
            &format!("cashflow={}", at("c.json")),
        ],
        "the cashflow format has no rendering of a sweep",
        &[],
    );
    // The cash flows are CSV too, an .htm page is a page, and a name no format claims
    // (or none) is the user's choice.
    let (cash, page, text, bare) = (at("c.csv"), at("p.htm"), at("r.txt"), at("r"));
    run(&[
        "--cashflow-csv",
        &cash,
        "--html",
        &page,
        "--out",
        &text,
        "--trials-csv",
        &bare,
    ])
    .ok();
    assert!(is_report(&fs::read_to_string(&text).unwrap()));
    assert!(
        fs::read_to_string(&page)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
}
