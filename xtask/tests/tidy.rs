//! Tidy: checks that keep the tree readable, run by `cargo test -p xtask --test tidy` (and by
//! every `cargo test` / `cargo nextest run` of the workspace). Each check is its own test and
//! fails with every offender listed, file by file. Standard library only.
//!
//! - **Module docs.** Every `.rs` file under `api/`, `mock-issuer/`, `conformance/`, `e2e/`,
//!   `xtask/` and `fuzz/` opens with a `//!` line saying what it is for. Before it may come only blank
//!   lines and inner attributes (`#![no_main]`, which fuzz targets need at the top, or any
//!   `#![…]`, even over several lines); a `//` comment, a licence header or an item may not.
//! - **The codemap.** Every file or folder that `ARCHITECTURE.md`'s codemap names exists (a
//!   path ending in `/` must be a folder, any other a file). The codemap is the text from the
//!   `## Codemap` heading to the next `## ` heading. In it:
//!   - a path is a backquoted word made of letters, digits and `_ - . /` that starts with a
//!     letter, digit or `_` and either contains a `/` or ends in `.rs`, `.toml` or `.md`:
//!     `` `src/auth/jose.rs` ``, `` `routes/` ``, `` `main.rs` ``. URL paths (`` `/_mock/` ``,
//!     leading `/`), Rust paths (`::`), commands (spaces) and identifiers are not paths;
//!   - a `### ` heading that names a folder (`` ### `api/` ``) starts a section: its paths are
//!     relative to that folder, itself relative to the workspace root; a heading without one
//!     resets to the root;
//!   - a list item whose text starts with a folder (`` - `src/auth/`: … ``) resolves that folder
//!     against its parent's base, and everything else on the item (its continuation lines
//!     included) and every item nested under it resolves inside that folder;
//!   - anything else resolves against the base of the item or section it is written in.
//!
//!   So generated output (under `target/`) is never backquoted as a path in the codemap.
//! - **A repo that stands alone.** No `.rs`, `.md` or `.toml` file in the tree points at the
//!   shared reference folder that lives outside the repository, or at numbered tracker items
//!   ("issue", "issues" followed by a number, `#` or a line break allowed between): they mean
//!   nothing to a reader of a clone. Every file the tree holds is scanned, committed or not;
//!   `target/`, `.git/` and the fuzzer's generated `corpus/`, `artifacts/` and `coverage/`
//!   are skipped. The project's own contract is `CONTRACT.md`.

use std::fs;
use std::path::{Path, PathBuf};

/// The crates (and the fuzz workspace) whose sources must carry a module doc.
const SOURCE_ROOTS: [&str; 6] = ["api", "mock-issuer", "conformance", "e2e", "xtask", "fuzz"];

/// Directories never scanned: build output, git's store, and the fuzzer's generated data.
const SKIPPED_DIRS: [&str; 5] = ["target", ".git", "corpus", "artifacts", "coverage"];

/// The strings that point outside the repository, built so this file does not contain them.
const OUTSIDE_POINTERS: [&str; 2] = [concat!("shared", "/reference"), concat!("..", "/shared")];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits one level below the workspace root")
        .to_path_buf()
}

/// Every file under `dir` whose name ends with one of `extensions`, skipping [`SKIPPED_DIRS`]
/// and symbolic links, sorted so failure messages are stable.
fn files_under(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() && !SKIPPED_DIRS.contains(&name.as_str()) {
                pending.push(path);
            } else if kind.is_file() && extensions.iter().any(|ext| name.ends_with(ext)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// `path` relative to the workspace root, for messages.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Panics with `what` and every offender, one per line, if there are any.
fn assert_none(what: &str, offenders: &[String]) {
    assert!(
        offenders.is_empty(),
        "{what} ({} offenders):\n  {}",
        offenders.len(),
        offenders.join("\n  ")
    );
}

// ---- Module docs ------------------------------------------------------------------------------

/// Whether the first line that is not blank and not part of an inner attribute is a `//!` line.
fn starts_with_module_doc(source: &str) -> bool {
    let mut in_attribute = false;
    for line in source.lines().map(str::trim) {
        if in_attribute || line.starts_with("#![") {
            // An inner attribute runs until a line that closes it.
            in_attribute = !line.ends_with(']');
        } else if !line.is_empty() {
            return line.starts_with("//!");
        }
    }
    false
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let root = workspace_root();
    let offenders: Vec<String> = SOURCE_ROOTS
        .iter()
        .flat_map(|dir| files_under(&root.join(dir), &[".rs"]))
        .filter(|path| !starts_with_module_doc(&read(path)))
        .map(|path| shown(&root, &path))
        .collect();
    assert_none(
        "these source files do not open with a `//!` line saying what they are for",
        &offenders,
    );
}

#[test]
fn the_module_doc_check_allows_only_blank_lines_and_inner_attributes_before_it() {
    assert!(starts_with_module_doc("//! Fuzz target.\n#![no_main]\n"));
    assert!(starts_with_module_doc(
        "\n#![no_main]\n\n//! Doc.\nuse std::fs;\n"
    ));
    assert!(starts_with_module_doc(
        "#![cfg_attr(\n    test,\n    allow(dead_code)\n)]\n//! Doc.\n"
    ));
    assert!(!starts_with_module_doc("// A plain comment.\n//! Doc.\n"));
    assert!(!starts_with_module_doc("use std::fs;\n"));
    assert!(!starts_with_module_doc("/// An item's doc.\nfn f() {}\n"));
    assert!(!starts_with_module_doc(""));
}

// ---- The codemap ------------------------------------------------------------------------------

/// A path the codemap names: its line in `ARCHITECTURE.md`, as written, and resolved.
#[derive(Debug, PartialEq)]
struct Named {
    line: usize,
    written: String,
    resolved: PathBuf,
}

/// The backquoted words of `text` that are paths (see the module doc), in order.
fn backquoted_paths(text: &str) -> Vec<&str> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "_-./".contains(c);
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| {
            word.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && word.chars().all(is_path_char)
                && (word.contains('/') || [".rs", ".toml", ".md"].iter().any(|e| word.ends_with(e)))
        })
        .collect()
}

/// A list item's nesting: its indentation and the folder its text and children resolve in.
struct Item {
    indent: usize,
    base: PathBuf,
}

/// Reads the codemap line by line, keeping the folder each line resolves in.
struct CodemapReader<'a> {
    root: &'a Path,
    /// The current `### ` section's folder.
    section: PathBuf,
    /// The list items enclosing the current line, outermost first.
    items: Vec<Item>,
    named: Vec<Named>,
}

impl CodemapReader<'_> {
    fn name(&mut self, index: usize, base: &Path, words: &[&str]) {
        self.named.extend(words.iter().map(|word| Named {
            line: index + 1,
            written: (*word).to_owned(),
            resolved: base.join(word),
        }));
    }

    /// The folder of the innermost open list item, else of the section.
    fn innermost(&self) -> PathBuf {
        self.items
            .last()
            .map_or(&self.section, |item| &item.base)
            .clone()
    }

    /// `### heading`: a folder named in it (relative to the root) starts a section.
    fn heading(&mut self, index: usize, heading: &str) {
        let words = backquoted_paths(heading);
        self.items.clear();
        self.section = match words.first() {
            Some(folder) if folder.ends_with('/') => self.root.join(folder),
            _ => self.root.to_path_buf(),
        };
        let root = self.root;
        self.name(index, root, &words);
    }

    /// `- item` at `indent`: a leading folder becomes the base of the rest and of its children.
    fn item(&mut self, index: usize, indent: usize, item: &str) {
        self.items.retain(|open| open.indent < indent);
        let parent = self.innermost();
        let words = backquoted_paths(item);
        // The item's text up to its second backquote, if it starts with one.
        let leading = item
            .strip_prefix('`')
            .and_then(|rest| rest.split('`').next());
        let base = match words.first() {
            Some(folder) if leading == Some(folder) && folder.ends_with('/') => {
                self.name(index, &parent, &words[..1]);
                let base = parent.join(folder);
                self.name(index, &base, &words[1..]);
                base
            }
            _ => {
                self.name(index, &parent, &words);
                parent
            }
        };
        self.items.push(Item { indent, base });
    }

    /// Any other line: an indented one continues the open item, anything else ends the list.
    fn other(&mut self, index: usize, indent: usize, text: &str) {
        if indent == 0 {
            self.items.clear();
        }
        let base = self.innermost();
        self.name(index, &base, &backquoted_paths(text));
    }
}

/// Every path the codemap of `architecture` names, resolved against `root` as the module doc
/// describes. Lines outside the codemap and inside code fences are ignored.
fn codemap_paths(architecture: &str, root: &Path) -> Vec<Named> {
    let mut reader = CodemapReader {
        root,
        section: root.to_path_buf(),
        items: Vec::new(),
        named: Vec::new(),
    };
    let (mut in_codemap, mut in_fence) = (false, false);
    for (index, line) in architecture.lines().enumerate() {
        let text = line.trim_start();
        let indent = line.len() - text.len();
        if line.starts_with("## ") {
            in_codemap = line.trim_end() == "## Codemap";
            continue;
        }
        if text.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_codemap || in_fence || text.is_empty() {
            continue;
        }
        if let Some(heading) = text.strip_prefix("### ") {
            reader.heading(index, heading);
        } else if let Some(item) = text.strip_prefix("- ") {
            reader.item(index, indent, item);
        } else {
            reader.other(index, indent, text);
        }
    }
    reader.named
}

#[test]
fn the_codemap_names_only_files_and_folders_that_exist() {
    let root = workspace_root();
    let named = codemap_paths(&read(&root.join("ARCHITECTURE.md")), &root);
    assert!(
        named.len() >= 20,
        "ARCHITECTURE.md's `## Codemap` names only {} paths: is the heading still there?",
        named.len()
    );
    let offenders: Vec<String> = named
        .iter()
        .filter(|path| {
            if path.written.ends_with('/') {
                !path.resolved.is_dir()
            } else {
                !path.resolved.is_file()
            }
        })
        .map(|path| {
            let resolved = shown(&root, &path.resolved);
            format!(
                "ARCHITECTURE.md:{}: `{}` ({resolved})",
                path.line, path.written
            )
        })
        .collect();
    assert_none(
        "ARCHITECTURE.md's codemap names files or folders that do not exist",
        &offenders,
    );
}

#[test]
fn codemap_paths_resolve_against_their_section_and_enclosing_folder() {
    let map = "\
# Architecture

`ignored.rs` is outside the codemap.

## Codemap

### `api/`
- `src/auth/`: the core, with `mod.rs`;
  `jose.rs` on a continuation line.
  - `claims.rs`: nested under the folder item.
- `benches/verify.rs`: a file item, so `Cargo.toml` here is the crate's.
  - `lib.rs` nests under a file item, so it is the crate's too.

The `/_mock/` surface, `conformance::load`, `cargo xtask dev`, `Claims` are not paths; `x.md` is.

```
`fenced.rs`
```

### Workspace
- `deny.toml`

## Invariants

`ignored/` again.
";
    let root = Path::new("/w");
    let got: Vec<(usize, String)> = codemap_paths(map, root)
        .into_iter()
        .map(|named| (named.line, named.resolved.display().to_string()))
        .collect();
    let want = [
        (7, "/w/api/"),
        (8, "/w/api/src/auth/"),
        (8, "/w/api/src/auth/mod.rs"),
        (9, "/w/api/src/auth/jose.rs"),
        (10, "/w/api/src/auth/claims.rs"),
        (11, "/w/api/benches/verify.rs"),
        (11, "/w/api/Cargo.toml"),
        (12, "/w/api/lib.rs"),
        (14, "/w/api/x.md"),
        (21, "/w/deny.toml"),
    ];
    let want: Vec<(usize, String)> = want.iter().map(|(l, p)| (*l, (*p).to_owned())).collect();
    assert_eq!(got, want);
}

// ---- A repo that stands alone -----------------------------------------------------------------

/// The 1-based lines of `text` that point outside the repository or at a numbered tracker item.
fn stray_reference_lines(text: &str) -> Vec<usize> {
    let lower = text.to_ascii_lowercase();
    let mut offsets: Vec<usize> = OUTSIDE_POINTERS
        .iter()
        .flat_map(|needle| lower.match_indices(needle).map(|(at, _)| at))
        .collect();
    offsets.extend(numbered_issue_offsets(&lower));
    let mut lines: Vec<usize> = offsets
        .into_iter()
        .map(|at| lower[..at].matches('\n').count() + 1)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// Where `issue` or `issues` (a whole word) is followed by a number: after whitespace, `#`,
/// or a line break and the next line's comment leader (`//`, `//!`, `///`, `#`, `*`). A URL's
/// `issues/123` is a link a reader can follow, and is not matched.
fn numbered_issue_offsets(lower: &str) -> Vec<usize> {
    let bytes = lower.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    lower
        .match_indices("issue")
        .map(|(at, _)| at)
        .filter(|&at| at == 0 || !is_word(bytes[at - 1]))
        .filter(|&at| {
            let mut next = at + "issue".len();
            if bytes.get(next) == Some(&b's') {
                next += 1;
            }
            if !matches!(bytes.get(next), Some(b' ' | b'\t' | b'\r' | b'\n' | b'#')) {
                return false;
            }
            let rest = &bytes[next..];
            let skipped = rest
                .iter()
                .take_while(|&&b| {
                    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'#' | b'/' | b'!' | b'*')
                })
                .count();
            rest.get(skipped).is_some_and(u8::is_ascii_digit)
        })
        .collect()
}

#[test]
fn no_file_points_outside_the_repository_or_at_numbered_issues() {
    let root = workspace_root();
    let offenders: Vec<String> = files_under(&root, &[".rs", ".md", ".toml"])
        .iter()
        .flat_map(|path| {
            let text = read(path);
            let lines: Vec<&str> = text.lines().collect();
            stray_reference_lines(&text)
                .into_iter()
                .map(|line| {
                    let content = lines.get(line - 1).map_or("", |l| l.trim());
                    format!("{}:{line}: {content}", shown(&root, path))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_none(
        "these lines point at files outside the repository or at issue numbers; \
         cite CONTRACT.md, ARCHITECTURE.md or SECURITY.md, or say it in place",
        &offenders,
    );
}

#[test]
fn stray_references_are_found_and_look_alikes_are_not() {
    let (issue, lower) = ("Issue", "issue");
    let [outside, up] = OUTSIDE_POINTERS;
    let flagged = format!(
        "ok\nsee {issue} 5\nas {issue}s 3/5 say\n(the {issue} #12)\nper the\n// {issue}\n// 6 here\n\
         from {outside}/contract.md\nfrom ../{up}/x\n"
    );
    assert_eq!(stray_reference_lines(&flagged), [2, 3, 4, 6, 8, 9]);
    let clean = format!(
        "the issuer 5\nissued 3 tokens\nthe {issue}'s ratios\ngithub.com/o/r/issues/123\n\
         t{lower} 4\nthe shared reference folder\nan {issue} of size\n"
    );
    assert_eq!(stray_reference_lines(&clean), Vec::<usize>::new());
}
