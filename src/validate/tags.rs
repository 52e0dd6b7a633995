//! Project tags: unique names (case-insensitively); assignments name declared tags.

use super::{Context, check_name, report_duplicates};
use crate::diagnostic::{Diagnostic, Rule};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let tags = &cx.manifests.project_tags;
    report_duplicates(
        tags.iter()
            .map(|t| (t.name.to_lowercase(), t.name.as_str(), t.name.origin)),
        Rule::TagNameDuplicate,
        "project tag",
        " (tag names are compared case-insensitively)",
        out,
    );
    for tag in tags {
        check_name("project tag", &tag.name, tag.name.origin, out);
    }
    for project in &cx.manifests.projects {
        for assigned in project.tags.iter().flatten() {
            let declared = tags.iter().any(|t| t.name.value == assigned.value)
                || cx.salvaged.project_tags.contains(&assigned.value);
            if declared || cx.skip_reference_check() {
                continue;
            }
            let near = tags
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(&assigned.value));
            let misspelt = crate::diagnostic::closest_spelling(
                &assigned.value,
                tags.iter().map(|t| t.name.as_str()),
            );
            let help = match (near, misspelt) {
                (Some(t), _) => format!(
                    "did you mean `{}`? tag names are written as declared",
                    t.name.value
                ),
                (None, Some(t)) => format!(
                    "did you mean `{t}`? Otherwise declare it under `project_tags:` so it is created before it is assigned"
                ),
                (None, None) => format!(
                    "declare it under `project_tags:` (e.g. `- name: {}`) so it is created before it is assigned",
                    assigned.value
                ),
            };
            out.push(
                Diagnostic::error(
                    Rule::TagUnknown,
                    format!(
                        "project tag `{}` is not declared in `project_tags`",
                        assigned.value
                    ),
                )
                .at(assigned.origin)
                .help(help),
            );
        }
    }
}
