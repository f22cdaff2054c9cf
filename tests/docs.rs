//! The documentation holds together: every relative link in `README.md`, `CHANGELOG.md`
//! and `docs/*.md` names a file that exists and, with `#anchor`, a heading of that file
//! (anchors as GitHub makes them); and the README stays a first screen with the two
//! commands, not a manual (docs/development.md, "Changing the docs").

use std::path::{Path, PathBuf};

/// Lines a newcomer reads before scrolling: the two commands must be there.
const FIRST_SCREEN_LINES: usize = 40;
/// The README's length budget; what does not fit belongs in a page under `docs/`.
const README_MAX_LINES: usize = 200;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The pages whose links are checked.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The lines of `text` outside fenced code blocks.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// `line` without its inline code spans.
fn without_code(line: &str) -> String {
    line.split('`').step_by(2).collect()
}

/// The anchors of a page's headings: lowercase, punctuation dropped, spaces to hyphens, a
/// repeated heading numbered (`-1`, `-2`).
fn anchors(text: &str) -> Vec<String> {
    let mut slugs: Vec<String> = Vec::new();
    let mut anchors = Vec::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#').map(|rest| rest.trim_start_matches('#')) else { continue };
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        let repeats = slugs.iter().filter(|seen| **seen == slug).count();
        anchors.push(if repeats == 0 { slug.clone() } else { format!("{slug}-{repeats}") });
        slugs.push(slug);
    }
    anchors
}

/// The targets of the inline links and images of a page's prose: what stands in `](...)`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose(text) {
        let line = without_code(line);
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            targets.push(rest[..end].split_whitespace().next().unwrap_or("").to_string());
            rest = &rest[end..];
        }
    }
    targets
}

#[test]
fn every_relative_link_names_an_existing_file_and_heading() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').map_or((target.as_str(), None), |(p, a)| (p, Some(a)));
            let file = if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
            if !file.exists() {
                broken.push(format!("{name}: {target}: no file {}", file.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let target_text = std::fs::read_to_string(&file).unwrap_or_default();
                if !anchors(&target_text).iter().any(|known| known == anchor) {
                    broken.push(format!("{name}: {target}: no heading with anchor #{anchor}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    let page = "# Reports\n## Small counts: folded into `(other)`, small filters refused\n## [Session 4] - 2026-12-03\n```\n# not a heading\n```\n## Tests\n## Tests\n";
    assert_eq!(
        anchors(page),
        [
            "reports",
            "small-counts-folded-into-other-small-filters-refused",
            "session-4---2026-12-03",
            "tests",
            "tests-1"
        ]
    );
    assert_eq!(link_targets("see [a](b.md#c) and `[x](y)`, ![img](d.png \"title\")"), ["b.md#c", "d.png"]);
}

#[test]
fn the_readme_is_a_first_screen_with_the_two_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= README_MAX_LINES, "README.md has {lines} lines; move detail to a page under docs/");
    let first_screen: Vec<&str> = readme.lines().take(FIRST_SCREEN_LINES).collect();
    for command in ["scripts/run", "scripts/test"] {
        assert!(
            first_screen.iter().any(|line| line.trim() == command),
            "`{command}` is not on its own line in the README's first {FIRST_SCREEN_LINES} lines"
        );
    }
}
