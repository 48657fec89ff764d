//! The dependency direction of the library and the binary, checked from the source.
//!
//! docs/architecture.md promises that data flows one way: each module may use only the
//! modules of the layers before it. These tests read every file under `src/`, take the
//! `crate::x` (or `consortium_sim::x`) paths that its code names (comments, doc links and
//! `#[cfg(test)]` modules left out: a doc link may point downstream, a test may use
//! anything), and fail on any path that points to the same or a later layer, naming the
//! file and the module it should not use. A new module must be given a layer here.

use std::collections::BTreeSet;
use std::path::Path;

use regex::Regex;

/// The library's modules, upstream first. A module may use the modules of earlier rows,
/// never its own row's others or later rows'.
const LIBRARY: &[&[&str]] = &[
    &["output", "copula"],
    &["rng"],
    &["lhs"],
    &["scenario"],
    &["sample"],
    &["plan"],
    &["engine"],
    &["stats", "shard"],
    &["summary"],
    &["analysis"],
    &["export"],
    &["run"],
    &["serve"],
];

/// The binary's modules, in the same sense (`main` is the entry point, last).
const BINARY: &[&[&str]] = &[&["cli", "progress"], &["commands"], &["analyse"], &["main"]];

/// The layer of `module` in `layers`, if it has one.
fn layer(layers: &[&[&str]], module: &str) -> Option<usize> {
    layers.iter().position(|row| row.contains(&module))
}

/// The code of a source file without comments and without its `#[cfg(test)]` items
/// (which by this project's habit close the file).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every (file, top-level module of the file, module it names) under `src/`.
fn uses() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let path = Regex::new(r"\b(?:crate|consortium_sim)::(\w+)").unwrap();
    let braced = Regex::new(r"\buse (?:crate|consortium_sim)::\{([^}]*)\}").unwrap();
    let mut found = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().path();
            if file.is_dir() {
                stack.push(file);
                continue;
            }
            if file.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = file
                .strip_prefix(&src)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let top = relative
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_string();
            let code = code(&std::fs::read_to_string(&file).unwrap());
            let mut named: BTreeSet<String> = path
                .captures_iter(&code)
                .map(|c| c[1].to_string())
                .collect();
            for group in braced.captures_iter(&code) {
                for item in group[1].split(',') {
                    let head = item.trim().split("::").next().unwrap().trim();
                    if !head.is_empty() {
                        named.insert(head.to_string());
                    }
                }
            }
            for module in named {
                found.push((relative.clone(), top.clone(), module));
            }
        }
    }
    found.sort();
    found
}

/// The uses that break the layering of `layers` (modules outside `layers` are ignored:
/// items of the crate root such as `Error`, and the other target's modules).
fn violations(layers: &[&[&str]]) -> Vec<String> {
    uses()
        .into_iter()
        .filter_map(|(file, top, module)| {
            let from = layer(layers, &top)?;
            let to = layer(layers, &module)?;
            (top != module && to >= from).then(|| format!("src/{file} uses {module}"))
        })
        .collect()
}

#[test]
fn library_modules_use_only_upstream_modules() {
    let bad = violations(LIBRARY);
    assert!(bad.is_empty(), "against the data flow:\n{}", bad.join("\n"));
}

#[test]
fn binary_modules_use_only_earlier_binary_modules() {
    let bad = violations(BINARY);
    assert!(bad.is_empty(), "against the data flow:\n{}", bad.join("\n"));
}

#[test]
fn every_library_module_has_a_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared = Regex::new(r"(?m)^pub mod (\w+);").unwrap();
    let missing: Vec<String> = declared
        .captures_iter(&lib)
        .map(|c| c[1].to_string())
        .filter(|m| layer(LIBRARY, m).is_none())
        .collect();
    assert!(missing.is_empty(), "modules without a layer: {missing:?}");
}

/// The check itself must see a use against the flow: `summary` naming `export`.
#[test]
fn a_use_against_the_flow_is_seen() {
    let code = code("use crate::export::format;\n// crate::run in a comment\n");
    assert!(code.contains("crate::export") && !code.contains("crate::run"));
    let from = layer(LIBRARY, "summary").unwrap();
    let to = layer(LIBRARY, "export").unwrap();
    assert!(to >= from);
}
