//! JUnit XML for CI test reporters: one test case per budget limit, a failure per exceeded one.

use super::{Exporter, Report, verdict_lines};
use crate::text::markup;

pub(crate) struct JunitExporter;

/// A number without float noise (12 significant digits).
fn num(x: f64) -> String {
    let s = format!("{x:.12e}");
    s.parse::<f64>().map_or(s, |v| format!("{v}"))
}

impl Exporter for JunitExporter {
    fn render(&self, r: &Report) -> anyhow::Result<String> {
        let Some(v) = &r.budget else {
            anyhow::bail!("a JUnit report needs a budget");
        };
        let lines = verdict_lines(v);
        let failures = lines.iter().filter(|(_, ok)| !ok).count();
        let suite = format!("footprint budget: {}", r.name);
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuites name=\"footprint\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">\n",
            lines.len()
        ));
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
            markup(&suite),
            lines.len()
        ));
        out.push_str(&format!(
            "    <properties>\n      <property name=\"model\" value=\"{}\"/>\n      <property name=\"basis\" value=\"{}\"/>\n    </properties>\n",
            v.model.as_str(),
            match v.basis {
                crate::record::Basis::Central => "central",
                crate::record::Basis::High => "high",
            }
        ));
        for (check, (line, ok)) in v.checks.iter().zip(&lines) {
            let name = format!("{} within limit", check.metric.field().key());
            if *ok {
                out.push_str(&format!(
                    "    <testcase classname=\"footprint.budget\" name=\"{}\">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    markup(&name),
                    markup(line)
                ));
            } else {
                out.push_str(&format!(
                    "    <testcase classname=\"footprint.budget\" name=\"{}\">\n      <failure message=\"{}\" type=\"BudgetExceeded\">{} (value {}, limit {}, excess {})</failure>\n    </testcase>\n",
                    markup(&name),
                    markup(line),
                    markup(line),
                    num(check.value),
                    num(check.limit),
                    num(check.excess)
                ));
            }
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        Ok(out)
    }
}

/// A JUnit document for a check that could not run (invalid input): one test case in error,
/// so that a CI test reporter shows why rather than a missing file.
pub(crate) fn input_error(file: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"footprint\" tests=\"1\" failures=\"0\" errors=\"1\">\n  <testsuite name=\"footprint budget: {}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase classname=\"footprint.budget\" name=\"budget can be checked\">\n      <error message=\"{}\" type=\"InvalidInput\">{}</error>\n    </testcase>\n  </testsuite>\n</testsuites>\n",
        markup(file),
        markup(message),
        markup(message)
    )
}
