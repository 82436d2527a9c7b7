//! ANSI colours shared by the text emitters (`--color`, `NO_COLOR`, a terminal).

use crate::model::Status;
use crate::rules::model::Severity;

/// ANSI styles, or nothing when colour is off.
pub(crate) struct Style {
    pub(crate) on: bool,
}

impl Style {
    pub(crate) fn paint(&self, code: &str, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    pub(crate) fn gutter(&self, text: &str) -> String {
        self.paint("1;34", text)
    }
    pub(crate) fn severity_code(severity: Severity) -> &'static str {
        match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        }
    }
    pub(crate) fn severity(&self, severity: Severity, text: &str) -> String {
        self.paint(Self::severity_code(severity), text)
    }
    pub(crate) fn status(&self, status: Status) -> String {
        let (code, word) = match status {
            Status::Ok => ("32", "ok"),
            Status::SyntaxError => ("33", "syntax_error"),
            Status::Failed => ("31", "failed"),
            Status::Timeout => ("31", "timeout"),
            Status::Skipped => ("2", "skipped"),
        };
        self.paint(code, word)
    }
}
