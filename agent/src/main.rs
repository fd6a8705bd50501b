//! The `foghorn` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = foghorn::cli::Cli::parse();
    match foghorn::cli::main(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Keep glibc to two malloc arenas. Alerts and batches are allocated on one
/// thread and freed on another at high rates; with glibc's default of one
/// arena per thread (up to 8 per core) each arena keeps freed memory of its
/// own, and an alert storm peaked at 140 MiB instead of 78 MiB (`foghorn-bench
/// storm`). Same throughput. Called before any thread starts.
#[allow(unsafe_code, reason = "mallopt is the only way to set this")]
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; no other thread exists
    // yet, and a refusal (0) leaves the defaults.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
