//! The repository's examples (`examples/<name>/`): their files, and their
//! Python scripts run as a user runs them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One example, by its directory's name.
#[derive(Debug, Clone, Copy)]
pub struct Example(pub &'static str);

impl Example {
    /// A file of the example.
    pub fn path(self, file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(self.0)
            .join(file)
    }

    /// A file of the example, read whole.
    pub fn read(self, file: &str) -> String {
        std::fs::read_to_string(self.path(file)).unwrap()
    }

    /// Run the example's `script` with python3 and `args`; its standard
    /// output. Fails the test, with the script's standard error, when the
    /// script fails.
    pub fn run(self, script: &str, args: &[&str]) -> Vec<u8> {
        let output = Command::new("python3")
            .arg(self.path(script))
            .args(args)
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "{}/{script} {args:?} failed: {}",
            self.0,
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

/// (type, severity, state, description) of each entry of an anomaly report,
/// in order: what the serial bench-device runs must match exactly.
pub fn report_summary(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    report
        .as_array()
        .expect("the report is a JSON array")
        .iter()
        .map(|a| {
            let field = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            (
                field("type"),
                field("severity"),
                field("state"),
                field("description"),
            )
        })
        .collect()
}
