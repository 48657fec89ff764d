//! README's "Questions a business case meets": every output snippet there is what its
//! command prints today, line for line, so that the answers shown to a reader never go
//! stale.

use crate::util::{bin, root};

/// A command line from the README, split as a shell would split it (double quotes only).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[test]
fn the_questions_sections_snippets_are_what_the_commands_print() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("## Questions a business case meets")
        .expect("the section exists");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut command: Option<Vec<String>> = None;
    let mut checked = 0;
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(cmd) = line.strip_prefix("`consortium-sim ") {
            command = Some(words(cmd.trim_end_matches('`')));
        } else if line == "```text" {
            let snippet: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            let args = command.as_ref().expect("a command before each snippet");
            let out = bin()
                .args(args)
                .arg("--quiet")
                .current_dir(root())
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}");
            let printed = String::from_utf8(out.stdout).unwrap();
            for l in snippet.iter().filter(|l| !l.is_empty()) {
                assert!(
                    printed.lines().any(|p| p == *l),
                    "{args:?} no longer prints:\n{l}\n\nit prints:\n{printed}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6, "six snippets");
}
