//! `foghorn plugin new`: a plugin project that builds and passes its own
//! tests as generated, in Rust, Python or JavaScript.
//!
//! Every file comes from this binary (the templates below, the SDK and the
//! WIT in [`super::sdk`]), so a project can be made anywhere and is built
//! against exactly the interface this agent serves.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::ValueEnum;

use super::sdk;

/// What a plugin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Raw lines in, points out (and rejects with reasons).
    Parser,
    /// Points in, the same points with derived fields out.
    Feature,
    /// Points in, alerts out.
    Detector,
}

/// The language a plugin is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Language {
    /// A crate on the foghorn SDK, built for wasm32-wasip2 by cargo.
    Rust,
    /// A module on the WIT world, built by componentize-py.
    Python,
    /// A module on the WIT world, built by jco (componentize-js).
    Js,
}

impl Kind {
    /// The one-line summary of the generated plugin.
    fn summary(self) -> &'static str {
        match self {
            Self::Parser => "parses lines of key=value pairs into points",
            Self::Feature => "adds the change of a field since the previous point of its series",
            Self::Detector => {
                "alerts when a field goes above a maximum, and resolves when it comes back"
            }
        }
    }
}

/// A file of a new project: where it goes, and its template.
type File = (&'static str, &'static str);

/// The files every project has, by kind: a pipeline around the plugin, its
/// `foghorn test` cases and a sample input.
fn common_files(kind: Kind) -> [File; 3] {
    match kind {
        Kind::Parser => [
            (
                "pipeline.yaml",
                include_str!("templates/common/parser.pipeline.yaml"),
            ),
            (
                "tests.yaml",
                include_str!("templates/common/parser.tests.yaml"),
            ),
            (
                "input.log",
                include_str!("templates/common/parser.input.log"),
            ),
        ],
        Kind::Feature => [
            (
                "pipeline.yaml",
                include_str!("templates/common/feature.pipeline.yaml"),
            ),
            (
                "tests.yaml",
                include_str!("templates/common/feature.tests.yaml"),
            ),
            (
                "input.log",
                include_str!("templates/common/points.input.log"),
            ),
        ],
        Kind::Detector => [
            (
                "pipeline.yaml",
                include_str!("templates/common/detector.pipeline.yaml"),
            ),
            (
                "tests.yaml",
                include_str!("templates/common/detector.tests.yaml"),
            ),
            (
                "input.log",
                include_str!("templates/common/points.input.log"),
            ),
        ],
    }
}

fn language_files(kind: Kind, language: Language) -> Vec<File> {
    match language {
        Language::Rust => vec![
            ("Cargo.toml", include_str!("templates/rust/Cargo.toml")),
            (".gitignore", include_str!("templates/rust/gitignore")),
            ("README.md", include_str!("templates/rust/README.md")),
            (
                "src/lib.rs",
                match kind {
                    Kind::Parser => include_str!("templates/rust/parser.rs"),
                    Kind::Feature => include_str!("templates/rust/feature.rs"),
                    Kind::Detector => include_str!("templates/rust/detector.rs"),
                },
            ),
        ],
        Language::Python => vec![
            (
                "pyproject.toml",
                include_str!("templates/python/pyproject.toml"),
            ),
            (".gitignore", include_str!("templates/python/gitignore")),
            ("README.md", include_str!("templates/python/README.md")),
            ("build.sh", include_str!("templates/python/build.sh")),
            ("foghorn_plugin.py", sdk::PYTHON_HELPER),
            (
                "app.py",
                match kind {
                    Kind::Parser => include_str!("templates/python/parser.py"),
                    Kind::Feature => include_str!("templates/python/feature.py"),
                    Kind::Detector => include_str!("templates/python/detector.py"),
                },
            ),
        ],
        Language::Js => vec![
            ("package.json", include_str!("templates/js/package.json")),
            (".gitignore", include_str!("templates/js/gitignore")),
            ("README.md", include_str!("templates/js/README.md")),
            ("build.mjs", include_str!("templates/js/build.mjs")),
            ("foghorn-plugin.js", sdk::JS_HELPER),
            (
                "app.js",
                match kind {
                    Kind::Parser => include_str!("templates/js/parser.js"),
                    Kind::Feature => include_str!("templates/js/feature.js"),
                    Kind::Detector => include_str!("templates/js/detector.js"),
                },
            ),
        ],
    }
}

/// The values the templates' `{{…}}` placeholders take.
struct Vars<'a> {
    name: &'a str,
    snake: String,
    kind: Kind,
    language: Language,
}

impl Vars<'_> {
    fn fill(&self, template: &str) -> String {
        let kind = format!("{:?}", self.kind).to_lowercase();
        let language = format!("{:?}", self.language).to_lowercase();
        template
            .replace("{{name}}", self.name)
            .replace("{{snake}}", &self.snake)
            .replace("{{summary}}", self.kind.summary())
            .replace("{{kind}}", &kind)
            .replace("{{lang}}", &language)
    }
}

/// A plugin name: lowercase ASCII letters, digits and single `-` between
/// them, starting with a letter, as cargo, PyPI and npm all accept.
fn check_name(name: &str) -> Result<(), String> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid plugin name {name:?}: use lowercase letters, digits and single '-' between them, starting with a letter (at most 64 characters)"
        ))
    }
}

/// Write the project.
///
/// # Errors
/// An invalid name, a directory that is not empty, a file that cannot be
/// written.
pub(super) fn run(
    name: &str,
    kind: Kind,
    language: Language,
    dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    if let Err(message) = check_name(name) {
        bail!(message);
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    create(&dir, name, kind, language)?;
    let build = match language {
        Language::Rust => {
            "cargo, with the wasm32-wasip2 target (rustup installs it from rust-toolchain.toml)"
        }
        Language::Python => "componentize-py (pip install componentize-py)",
        Language::Js => "jco and componentize-js (npm install, from package.json)",
    };
    println!(
        "created the {language:?} {kind:?} plugin `{name}` in {}",
        dir.display()
    );
    println!(
        "  build it:  foghorn plugin build {}   (needs {build})",
        dir.display()
    );
    println!(
        "  test it:   cd {} && foghorn test -c pipeline.yaml tests.yaml",
        dir.display()
    );
    println!(
        "  run it:    cd {} && foghorn run -c pipeline.yaml",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Write the files of a new project into `dir`, which must not exist or be
/// empty.
///
/// # Errors
/// A directory that is not empty, a file that cannot be written.
pub(super) fn create(dir: &Path, name: &str, kind: Kind, language: Language) -> anyhow::Result<()> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty", dir.display());
    }
    let vars = Vars {
        name,
        snake: name.replace('-', "_"),
        kind,
        language,
    };
    let mut files: Vec<File> = common_files(kind).into();
    files.extend(language_files(kind, language));
    for (path, template) in files {
        let text = vars.fill(template);
        sdk::write(&dir.join(path), &text)
            .with_context(|| format!("cannot write {}", dir.join(path).display()))?;
    }
    let written = |result: std::io::Result<()>| {
        result.with_context(|| format!("cannot write into {}", dir.display()))
    };
    match language {
        Language::Rust => {
            let manifest = dir.join("Cargo.toml");
            let mut text = std::fs::read_to_string(&manifest)?;
            text.push('\n');
            text.push_str(sdk::PROJECT_WORKSPACE);
            written(std::fs::write(&manifest, text))?;
            written(std::fs::write(dir.join("Cargo.lock"), sdk::LOCK_FILE))?;
            written(std::fs::write(
                dir.join("rust-toolchain.toml"),
                sdk::TOOLCHAIN,
            ))?;
            written(sdk::write_rust_sdk(dir))?;
        }
        Language::Python | Language::Js => {
            written(sdk::write(&dir.join("wit/processor.wit"), sdk::WIT))?;
        }
    }
    #[cfg(unix)]
    if language == Language::Python {
        use std::os::unix::fs::PermissionsExt;
        written(std::fs::set_permissions(
            dir.join("build.sh"),
            std::fs::Permissions::from_mode(0o755),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_cargo_pypi_and_npm_all_accept() {
        for good in ["z", "my-detector", "kv2-parser"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "My",
            "2fast",
            "a_b",
            "a--b",
            "a-",
            "a b",
            &"a".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_placeholder_of_every_template_is_filled() {
        for kind in [Kind::Parser, Kind::Feature, Kind::Detector] {
            for language in [Language::Rust, Language::Python, Language::Js] {
                let vars = Vars {
                    name: "my-plugin",
                    snake: "my_plugin".into(),
                    kind,
                    language,
                };
                let mut files: Vec<File> = common_files(kind).into();
                files.extend(language_files(kind, language));
                for (path, template) in files {
                    let text = vars.fill(template);
                    assert!(!text.contains("{{"), "{kind:?} {language:?} {path}: {text}");
                }
            }
        }
    }
}
