//! The analysis's own configuration: plain data, filled from editor settings by the LSP layer
//! and from flags by the command line.

use std::collections::BTreeMap;

use super::diagnostics::{Code, Severity};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// An outline name that overrides detection, or `None` for automatic.
    pub outline: Option<String>,
    /// Per rule: a severity, or `None` to turn the rule off. Rules not listed keep their
    /// default severity.
    pub severity: BTreeMap<Code, Option<Severity>>,
}

impl Config {
    /// The severity a rule reports with, `None` when it is off.
    pub fn severity_of(&self, code: Code) -> Option<Severity> {
        match self.severity.get(&code) {
            Some(setting) => *setting,
            None => Some(code.default_severity()),
        }
    }
}
