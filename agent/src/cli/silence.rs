//! `foghorn silence add|list|expire`: the agent API's silences from the
//! command line, as `amtool silence` does for Alertmanager.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;

/// Silence subcommands.
#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Mute the alerts that match every MATCHER (`severity="critical"`,
    /// `device=~"bench-.*"`) for a while; prints the silence's id.
    Add {
        /// How long, e.g. `2h`.
        #[arg(long = "for", default_value = "1h")]
        duration: String,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
        /// Who; default: $USER.
        #[arg(long, env = "USER", default_value = "")]
        by: String,
        /// The matchers.
        #[arg(required = true)]
        matchers: Vec<String>,
    },
    /// List the silences, active, pending and expired.
    List,
    /// End a silence now.
    Expire {
        /// Its id, as `add` and `list` print it.
        id: String,
    },
}

/// Run `command` against the agent API at `api` (`host:port`).
///
/// # Errors
/// When the API cannot be reached or refuses the request.
pub fn run(api: &str, command: SilenceCommand) -> anyhow::Result<ExitCode> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("http://{api}/api/v1/silences");
    let response = match &command {
        SilenceCommand::Add {
            duration,
            comment,
            by,
            matchers,
        } => client.post(&url).json(&serde_json::json!({
            "matchers": matchers,
            "duration": duration,
            "comment": comment,
            "createdBy": by,
        })),
        SilenceCommand::List => client.get(&url),
        SilenceCommand::Expire { id } => client.delete(format!("{url}/{id}")),
    }
    .send()
    .with_context(|| {
        format!("cannot reach the agent API at {api} (is `api:` set in the pipeline?)")
    })?;
    let status = response.status();
    let body: serde_json::Value = response.json().unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let message = body["error"].as_str().unwrap_or("no reason given");
        eprintln!("error: {status}: {message}");
        return Ok(ExitCode::FAILURE);
    }
    match command {
        SilenceCommand::Add { .. } => println!("{}", body["silenceID"].as_str().unwrap_or("")),
        SilenceCommand::List => {
            for silence in body.as_array().into_iter().flatten() {
                let matchers: Vec<&str> = silence["matchers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str())
                    .collect();
                println!(
                    "{}  {:<8} {} → {}  {}  {} {}",
                    silence["id"].as_str().unwrap_or(""),
                    silence["status"]["state"].as_str().unwrap_or(""),
                    silence["startsAt"].as_str().unwrap_or(""),
                    silence["endsAt"].as_str().unwrap_or(""),
                    matchers.join(", "),
                    silence["createdBy"].as_str().unwrap_or(""),
                    silence["comment"].as_str().unwrap_or(""),
                );
            }
        }
        SilenceCommand::Expire { id } => println!("expired {id}"),
    }
    Ok(ExitCode::SUCCESS)
}
