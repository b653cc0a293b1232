//! The editor's settings as they arrive (`initializationOptions` or
//! `workspace/didChangeConfiguration`), turned into the analysis's own `Config`.
//!
//! Wire format (camelCase), either bare or under a `jointReview` key:
//! `{ "outline": "auto" | "joint-review" | ..., "severity": { "template-text": "off", ... } }`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::analysis::config::Config;
use crate::analysis::diagnostics::{Code, Severity};
use crate::analysis::outline;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WireSettings {
    outline: Option<String>,
    severity: BTreeMap<String, String>,
}

/// Reads settings if `value` holds ours (a `jointReview` key, or a bare `outline` or
/// `severity`); `None` for `null`, `{}` or another tool's settings, which must not reset ours.
pub fn ours(value: &serde_json::Value) -> Option<Config> {
    let holds_ours = value.get("jointReview").is_some()
        || value.get("outline").is_some()
        || value.get("severity").is_some();
    holds_ours.then(|| from_json(value))
}

/// True when the initialization options ask for a `$/jointReview/analysed` notification after
/// each publish (tests and the benchmark use it to tell the outline pass's publish from the
/// full analysis's).
pub fn analysis_notifications(options: &serde_json::Value) -> bool {
    let asked = |v: &serde_json::Value| v.get("analysisNotifications")?.as_bool();
    asked(options)
        .or_else(|| asked(options.get("jointReview")?))
        .unwrap_or(false)
}

/// Reads settings, ignoring (and logging) what it does not understand.
pub fn from_json(value: &serde_json::Value) -> Config {
    let value = value.get("jointReview").unwrap_or(value);
    let wire: WireSettings = match serde_json::from_value(value.clone()) {
        Ok(w) => w,
        Err(e) => {
            if !value.is_null() {
                tracing::warn!("ignoring settings that do not parse: {e}");
            }
            return Config::default();
        }
    };
    let mut config = Config::default();
    match wire.outline.as_deref() {
        None | Some("auto") | Some("") => {}
        Some(name) if outline::by_name(name).is_some() => config.outline = Some(name.to_string()),
        Some(name) => tracing::warn!("unknown outline {name:?} in settings; detecting it instead"),
    }
    for (code, level) in wire.severity {
        let Some(code) = Code::parse(&code) else {
            tracing::warn!("unknown rule {code:?} in settings");
            continue;
        };
        let level = if level.eq_ignore_ascii_case("off") || level.eq_ignore_ascii_case("none") {
            None
        } else if let Some(s) = Severity::parse(&level) {
            Some(s)
        } else {
            tracing::warn!("unknown severity {level:?} for {code}");
            continue;
        };
        config.severity.insert(code, level);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrapped_and_bare_settings() {
        let c = from_json(
            &serde_json::json!({"jointReview": {"outline": "self-assessment", "severity": {"template-text": "off", "toc-entry": "hint", "bogus": "error"}}}),
        );
        assert_eq!(c.outline.as_deref(), Some("self-assessment"));
        assert_eq!(c.severity_of(Code::TemplateText), None);
        assert_eq!(c.severity_of(Code::TocEntry), Some(Severity::Hint));
        assert_eq!(c.severity_of(Code::MissingSection), Some(Severity::Error));
        assert_eq!(
            from_json(&serde_json::json!({"outline": "auto"})),
            Config::default()
        );
        assert_eq!(from_json(&serde_json::json!(42)), Config::default());
        assert_eq!(ours(&serde_json::json!(null)), None);
        assert_eq!(ours(&serde_json::json!({"marksman": {}})), None);
    }
}
