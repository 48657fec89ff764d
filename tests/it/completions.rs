//! Shell completions (`consortium-sim completions SHELL`) and the help pages: every
//! subcommand is completed in every shell, and every subcommand's --help has a
//! description and an example.

use std::process::Command;

use crate::util::bin;

fn stdout_of(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands listed by the top-level help, but `help` itself.
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let list = help
        .split("Commands:\n")
        .nth(1)
        .expect("a list of commands")
        .split("\n\n")
        .next()
        .unwrap();
    let names: Vec<String> = list
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .filter(|n| n != "help")
        .collect();
    for expected in [
        "run",
        "validate",
        "init",
        "merge",
        "trace",
        "schema",
        "completions",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} not listed");
    }
    names
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish_name_every_subcommand() {
    let subcommands = subcommands();
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: script too short");
        assert!(
            script.contains("consortium-sim"),
            "{shell}: no program name"
        );
        for sub in &subcommands {
            assert!(script.contains(sub.as_str()), "{shell}: {sub} missing");
        }
        // Options are completed too.
        for option in ["trials-csv", "seed", "shard"] {
            assert!(script.contains(option), "{shell}: --{option} missing");
        }
    }
}

#[test]
fn bash_script_loads_and_completes_subcommands() {
    let script = stdout_of(&["completions", "bash"]);
    let test = format!(
        "{script}\ncomplete -p consortium-sim >/dev/null || exit 3\n\
         COMP_WORDS=(consortium-sim sch); COMP_CWORD=1; COMP_LINE='consortium-sim sch'; \
         COMP_POINT=${{#COMP_LINE}}\n\
         _consortium__sim consortium-sim sch consortium-sim\necho \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &test])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "schema");
}

#[test]
fn completions_refuses_an_unknown_shell() {
    let out = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn every_subcommand_help_has_a_description_and_an_example() {
    for sub in subcommands() {
        let help = stdout_of(&[sub.as_str(), "--help"]);
        let description = help.split("Usage:").next().unwrap().trim();
        assert!(
            description.split_whitespace().count() >= 6,
            "{sub}: no description:\n{help}"
        );
        let example = help
            .split("\nExample")
            .nth(1)
            .unwrap_or_else(|| panic!("{sub}: no example:\n{help}"));
        assert!(
            example.contains(&format!("consortium-sim {sub}")),
            "{sub}: the example does not use {sub}:\n{help}"
        );
    }
}

#[test]
fn long_help_of_the_core_subcommands_has_a_summary_line_and_a_paragraph() {
    for sub in [
        "run",
        "validate",
        "init",
        "merge",
        "trace",
        "schema",
        "completions",
    ] {
        let long = stdout_of(&[sub, "--help"]);
        let description = long.split("Usage:").next().unwrap();
        assert!(
            description.trim().contains("\n\n"),
            "{sub}: a summary line and a paragraph expected:\n{long}"
        );
    }
}
