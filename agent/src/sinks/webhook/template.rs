//! A webhook's own body: a MiniJinja (Jinja2) template rendered over the
//! Alertmanager payload, for receivers that want another shape (a chat
//! tool's `{"text": …}`, a ticket system's fields, plain text).
//!
//! The template sees the payload's fields (`status`, `receiver`,
//! `groupLabels`, `commonLabels`, `commonAnnotations`, `alerts` with their
//! `labels`, `annotations`, `startsAt`, …, `idempotencyKey`). When the body
//! is JSON (`content_type` `application/json` or `…+json`), every value
//! printed is written as a JSON value, quoted and escaped, so a label a
//! device controls cannot break out of its string; the rendered body is then
//! checked to be JSON before it is sent. Renders are bounded (MiniJinja's
//! fuel), so a template cannot loop or allocate without end.

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// A compiled body template.
#[derive(Debug)]
pub(crate) struct BodyTemplate {
    /// Boxed: an environment is large, and sinks are moved by value.
    env: Box<Environment<'static>>,
    json: bool,
}

impl BodyTemplate {
    /// Instructions (and about 64 bytes of memory each) one render may use:
    /// ample for a group of thousands of alerts, not for a runaway loop.
    const FUEL: u64 = 2_000_000;
    const NAME: &'static str = "body";

    /// Compile `source`, whose output is sent as `content_type`.
    pub(crate) fn new(source: &str, content_type: &str) -> Result<Self, String> {
        let json = is_json(content_type);
        let mut env = Environment::new();
        env.set_fuel(Some(Self::FUEL));
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_auto_escape_callback(move |_| {
            if json {
                AutoEscape::Json
            } else {
                AutoEscape::None
            }
        });
        env.add_template_owned(Self::NAME, source.to_owned())
            .map_err(|error| describe(&error))?;
        Ok(Self {
            env: Box::new(env),
            json,
        })
    }

    /// The body for `payload`.
    pub(crate) fn render(&self, payload: &serde_json::Value) -> Result<String, String> {
        let template = self
            .env
            .get_template(Self::NAME)
            .map_err(|error| describe(&error))?;
        let body = template
            .render(Serde(payload))
            .map_err(|error| describe(&error))?;
        if self.json
            && let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&body)
        {
            return Err(format!("the template made invalid JSON: {error}"));
        }
        Ok(body)
    }
}

/// Whether a body of `content_type` is JSON.
pub(crate) fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// The error with its template line, without MiniJinja's template name.
fn describe(error: &minijinja::Error) -> String {
    let what = error.detail().map_or_else(
        || error.kind().to_string(),
        |detail| format!("{}: {detail}", error.kind()),
    );
    match error.line() {
        Some(line) => format!("{what} (template line {line})"),
        None => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> serde_json::Value {
        serde_json::json!({
            "status": "firing",
            "groupLabels": { "device": "bench-\"1\"" },
            "alerts": [
                { "labels": { "alertname": "threshold" }, "annotations": { "description": "T > 80" } },
                { "labels": { "alertname": "heartbeat" }, "annotations": {} },
            ],
        })
    }

    #[test]
    fn json_bodies_quote_and_escape_every_value() {
        let template = BodyTemplate::new(
            r#"{"text": {{ status ~ " on " ~ groupLabels.device }}, "n": {{ alerts | length }}}"#,
            "application/json",
        )
        .unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&template.render(&payload()).unwrap()).unwrap();
        assert_eq!(body["text"], "firing on bench-\"1\"");
        assert_eq!(body["n"], 2);
    }

    #[test]
    fn text_bodies_are_written_as_they_are() {
        let template = BodyTemplate::new(
            "{% for a in alerts %}{{ a.labels.alertname }}: {{ a.annotations.description | default('-') }}\n{% endfor %}",
            "text/plain; charset=utf-8",
        )
        .unwrap();
        assert_eq!(
            template.render(&payload()).unwrap(),
            "threshold: T > 80\nheartbeat: -\n"
        );
    }

    #[test]
    fn errors_name_their_line_and_bad_json_is_refused() {
        let error = BodyTemplate::new("ok\n{% for %}", "text/plain").unwrap_err();
        assert!(error.contains("template line 2"), "{error}");
        let template = BodyTemplate::new("{{ status | no_such_filter }}", "text/plain").unwrap();
        let error = template.render(&payload()).unwrap_err();
        assert!(error.contains("no_such_filter"), "{error}");
        // A JSON body that is not JSON (the value is quoted: `"text": "firing"!`).
        let template = BodyTemplate::new(r#"{"text": {{ status }}!}"#, "application/json").unwrap();
        let error = template.render(&payload()).unwrap_err();
        assert!(error.contains("invalid JSON"), "{error}");
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel() {
        let template = BodyTemplate::new(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "text/plain",
        )
        .unwrap();
        let error = template.render(&payload()).unwrap_err();
        assert!(error.contains("fuel"), "{error}");
    }

    #[test]
    fn content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/vnd.api+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonl"));
    }
}
