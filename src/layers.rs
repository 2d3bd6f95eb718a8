//! The layering of the crate's modules, checked: a module imports only from its own layer
//! or the layers below it (see ARCHITECTURE.md).

use std::path::Path;

/// The crate's top-level modules, lowest layer first.
const LAYERS: &[&[&str]] = &[
    &["json", "time", "messages", "exit", "fault", "flags"],
    &["lang", "agg", "parse"],
    &["event", "stats"],
    &["input", "sniff"],
    &["stage"],
    &["output", "seen", "mismatch"],
    &["pipeline", "chain"],
    &["exec", "progress", "config", "cli"],
    &["manual", "fuzzing", "layers", "lib", "main", "usage", "help"],
];

/// Upward imports still to be moved, each with where it goes: (from, to).
const KNOWN: &[(&str, &str)] = &[
    // `to`'s file-name encoding and the topic options move into the stage with the sinks.
    ("stage", "output"),
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module of a source file: `src/stage/to.rs` is `stage`, `src/lib.rs` is `lib`.
fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap_or(path);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    first.unwrap_or_default().trim_end_matches(".rs").to_string()
}

/// The `crate::NAME` modules a file's code names: not its comments, nor its tests (which
/// may build whatever they check with).
fn imports(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
    let mut out = Vec::new();
    for line in code.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source folder is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    for file in files
        .iter()
        .filter(|f| !f.ends_with("tests.rs") && !f.ends_with("testing.rs"))
    {
        let from = module_of(file, &src);
        let from_layer = layer(&from).unwrap_or_else(|| panic!("module `{from}` has no layer in LAYERS"));
        let text = std::fs::read_to_string(file).expect("a source file is readable");
        for to in imports(&text) {
            let Some(to_layer) = layer(&to) else { continue };
            if to_layer > from_layer && !KNOWN.contains(&(from.as_str(), to.as_str())) {
                upward.push(format!(
                    "{}: {from} (layer {from_layer}) uses {to} (layer {to_layer})",
                    file.display()
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports that point up:\n{}", upward.join("\n"));
}

#[test]
fn the_known_exceptions_still_exist() {
    // An exception that no longer occurs must leave the list, so the list stays true.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for &(from, to) in KNOWN {
        let used = files.iter().any(|f| {
            module_of(f, &src) == from
                && imports(&std::fs::read_to_string(f).unwrap_or_default())
                    .iter()
                    .any(|m| m == to)
        });
        assert!(used, "({from}, {to}) is in KNOWN but no longer imported: remove it");
    }
}
