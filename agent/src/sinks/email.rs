//! `type: email`: mails each notification of an alert stage over SMTP, one
//! message per group with a plain-text and an HTML part.
//!
//! `tls: starttls` (the default, port 587) upgrades the connection and
//! fails rather than send in the clear; `tls: tls` is implicit TLS (port
//! 465); `tls: none` sends in the clear and is allowed only to a loopback
//! server (a local relay). Credentials come from the environment
//! (`username`, `password`, both secrets). A transient failure (connection,
//! timeout, an SMTP 4xx) is retried with backoff until the server takes the
//! message or the agent shuts down (then the alert stage sends it again
//! after the restart); a permanent one (5xx: unknown recipient, refused) is
//! counted and not retried. Device data is escaped in the HTML part.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

use super::http_post::{Failure, Retry, deliver_notifications, retrying};
use super::{SinkContext, SinkError, banner};
use crate::event::notification::Notification;
use crate::event::{AlertState, SharedBatch};
use crate::settings::{Problems, Secret, Settings};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
    /// None: only to a server on loopback.
    None,
}

/// `type: email`: the server, the sender and the recipients.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `host`: the SMTP server. Required.
    pub host: String,
    /// `port`: default 587 with `starttls`, 465 with `tls`, 25 with `none`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `tls`: `starttls` (default), `tls` or `none` (loopback only).
    #[serde(default)]
    pub tls: SmtpTls,
    /// `ca_file`: a PEM file of CA certificates trusted, besides the public
    /// roots, to sign the server's certificate (a private CA). Default:
    /// the public roots only.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// `username`: for SMTP AUTH, usually `${SMTP_USER}`. Default: no AUTH.
    #[serde(default)]
    pub username: Option<Secret>,
    /// `password`: for SMTP AUTH, usually `${SMTP_PASSWORD}`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// `from`: the sender, e.g. `foghorn <alerts@example.com>`. Required.
    pub from: String,
    /// `to`: the recipients. Required, not empty.
    pub to: Vec<String>,
    /// `retry`: `timeout`, `backoff`, `max_backoff`; see [`Retry`].
    #[serde(default)]
    pub retry: Retry,
}

impl EmailConfig {
    fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Settings for EmailConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        if self.tls == SmtpTls::None && !is_loopback(&self.host) {
            problems.push(
                &format!("{key}.tls"),
                "`none` sends mail and passwords in the clear: only to a loopback server",
            );
        }
        if self.tls == SmtpTls::None && self.ca_file.is_some() {
            problems.push(
                &format!("{key}.ca_file"),
                "used only with `tls: starttls` or `tls: tls`",
            );
        }
        if let Err(error) = self.from.parse::<Mailbox>() {
            problems.push(&format!("{key}.from"), format!("not an address: {error}"));
        }
        if self.to.is_empty() {
            problems.push(&format!("{key}.to"), "must list at least one recipient");
        }
        for (i, to) in self.to.iter().enumerate() {
            if let Err(error) = to.parse::<Mailbox>() {
                problems.push(
                    &format!("{key}.to[{i}]"),
                    format!("not an address: {error}"),
                );
            }
        }
        if self.username.is_some() != self.password.is_some() {
            problems.push(key, "`username` and `password` go together");
        }
        self.retry.check(&format!("{key}.retry"), problems);
    }
}

/// A built email sink.
pub struct EmailSink {
    name: Arc<str>,
    settings: EmailConfig,
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for EmailSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the transport: it holds the credentials.
        f.debug_struct("EmailSink")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl super::Sink for EmailConfig {
    type Running = EmailSink;

    async fn build(&self, ctx: SinkContext) -> Result<EmailSink, SinkError> {
        let client = |error: lettre::transport::smtp::Error| SinkError::Client(error.to_string());
        let mut tls = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca_file {
            tls = tls.add_root_certificate(ca_certificates(path)?);
        }
        let tls = tls.build().map_err(client)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port())
            .timeout(Some(self.retry.timeout))
            .tls(match self.tls {
                SmtpTls::Starttls => Tls::Required(tls),
                SmtpTls::Tls => Tls::Wrapper(tls),
                SmtpTls::None => Tls::None,
            });
        if let (Some(username), Some(password)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(
                username.expose().to_owned(),
                password.expose().to_owned(),
            ));
        }
        let address = |text: &str| {
            text.parse::<Mailbox>()
                .map_err(|error| SinkError::Client(format!("`{text}`: {error}")))
        };
        Ok(EmailSink {
            from: address(&self.from)?,
            to: self
                .to
                .iter()
                .map(|to| address(to))
                .collect::<Result<_, _>>()?,
            transport: builder.build(),
            name: ctx.name,
            settings: self.clone(),
            shutdown: ctx.shutdown,
        })
    }
}

/// The CA certificates in the PEM file at `path`.
fn ca_certificates(path: &std::path::Path) -> Result<Certificate, SinkError> {
    let pem = std::fs::read(path).map_err(|source| SinkError::Open {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |why: &str| SinkError::Client(format!("{}: {why}", path.display()));
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(invalid("no PEM certificate in it"));
    }
    Certificate::from_pem(&pem).map_err(|error| invalid(&error.to_string()))
}

impl super::RunningSink for EmailSink {
    fn describe(&self) -> String {
        banner(
            "email",
            format!(
                "smtp://{}:{} to {} ({})",
                self.settings.host,
                self.settings.port(),
                self.settings.to.join(", "),
                self.name
            ),
        )
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let sink = &self;
        deliver_notifications(&self.name, input, |notification| async move {
            match sink.message(&notification) {
                Ok(message) => {
                    let send = || sink.send(message.clone());
                    retrying(&sink.name, &sink.settings.retry, &sink.shutdown, send).await
                }
                Err(error) => {
                    tracing::error!(component = &*sink.name, "cannot build the message: {error}");
                    Err(crate::delivery::DeliveryStatus::Dropped)
                }
            }
        })
        .await;
        Ok(())
    }
}

impl EmailSink {
    async fn send(&self, message: Message) -> Result<(), Failure> {
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|error| Failure {
                retry: !error.is_permanent(),
                message: format!("cannot send the mail: {error}"),
                retry_after: None,
            })
    }

    fn message(&self, notification: &Notification) -> Result<Message, lettre::error::Error> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject(notification))
            .message_id(Some(format!("<{}@foghorn>", notification.idempotency_key)));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder.multipart(MultiPart::alternative_plain_html(
            plain(notification),
            html(notification),
        ))
    }
}

fn state(notification: &Notification) -> &'static str {
    match notification.status {
        AlertState::Firing => "FIRING",
        AlertState::Resolved => "RESOLVED",
    }
}

fn group(notification: &Notification) -> String {
    let labels: Vec<String> = notification
        .group_labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    if labels.is_empty() {
        notification.stage.clone()
    } else {
        labels.join(" ")
    }
}

/// `[FIRING:2] device=bench-1`, without control characters.
pub(crate) fn subject(notification: &Notification) -> String {
    let text = format!(
        "[{}:{}] {}",
        state(notification),
        notification.alerts.len(),
        group(notification)
    );
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The plain-text part: one paragraph per alert.
pub(crate) fn plain(notification: &Notification) -> String {
    let mut text = format!("{}\n\n", subject(notification));
    for alert in &notification.alerts {
        let _ = writeln!(
            text,
            "{} {} {}",
            alert.severity.as_str().to_uppercase(),
            alert.labels.get("alertname").map_or("", String::as_str),
            if alert.status == AlertState::Resolved {
                "(resolved)"
            } else {
                ""
            }
        );
        for (key, value) in alert.labels.iter().chain(&alert.annotations) {
            let _ = writeln!(text, "  {key}: {value}");
        }
        let _ = writeln!(text, "  since: {}\n", alert.starts_at_text());
    }
    text
}

/// `text` safe inside HTML, control characters but line breaks left out.
fn escape_html(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    super::escape::html(&kept).into_owned()
}

/// The HTML part: a heading and a table row per alert.
pub(crate) fn html(notification: &Notification) -> String {
    let colour = match notification.status {
        AlertState::Resolved => "#2e7d32",
        AlertState::Firing => "#d32f2f",
    };
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><h2 style=\"color:{colour}\">{}</h2><table cellpadding=\"6\" style=\"border-collapse:collapse\"><tr><th align=\"left\">severity</th><th align=\"left\">alert</th><th align=\"left\">labels</th><th align=\"left\">description</th><th align=\"left\">since</th></tr>",
        escape_html(&subject(notification))
    );
    for alert in &notification.alerts {
        let labels: Vec<String> = alert
            .labels
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "alertname" | "severity"))
            .map(|(key, value)| escape_html(&format!("{key}={value}")))
            .collect();
        let _ = write!(
            html,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            alert.severity.as_str(),
            if alert.status == AlertState::Resolved {
                " (resolved)"
            } else {
                ""
            },
            escape_html(alert.labels.get("alertname").map_or("", String::as_str)),
            labels.join("<br>"),
            escape_html(
                alert
                    .annotations
                    .get("description")
                    .map_or("", String::as_str)
            ),
            alert.starts_at_text(),
        );
    }
    html.push_str("</table></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::event::Severity;
    use crate::event::notification::NotifiedAlert;

    fn notification() -> Notification {
        Notification {
            receiver: "mail".into(),
            stage: "notify".into(),
            idempotency_key: "k".into(),
            group_key: "g".into(),
            group_labels: BTreeMap::from([("device".into(), "bench-1".into())]),
            status: AlertState::Firing,
            alerts: vec![NotifiedAlert {
                fingerprint: "fp".into(),
                status: AlertState::Firing,
                severity: Severity::Critical,
                labels: BTreeMap::from([
                    ("alertname".into(), "threshold".into()),
                    ("device".into(), "bench-1".into()),
                ]),
                annotations: BTreeMap::from([(
                    "description".into(),
                    "<script>alert(1)</script> hot".into(),
                )]),
                starts_at: 0,
                ends_at: None,
            }],
            created: 0,
        }
    }

    #[test]
    fn the_parts_say_what_fires_and_the_html_escapes_device_data() {
        let n = notification();
        assert_eq!(subject(&n), "[FIRING:1] device=bench-1");
        let text = plain(&n);
        assert!(text.contains("CRITICAL threshold"), "{text}");
        assert!(text.contains("description: <script>alert(1)</script> hot"));
        let html = html(&n);
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt; hot"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("smtp.example.com") && !is_loopback("10.0.0.1"));
    }
}
