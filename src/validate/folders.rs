//! Index folders: names unique among siblings, at every depth.

use super::{Context, check_name, report_duplicates};
use crate::diagnostic::{Diagnostic, Rule};
use crate::manifest::FolderSpec;
use crate::yaml::Spanned;

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    check_siblings(&cx.manifests.folders, "", out);
}

fn check_siblings(siblings: &[Spanned<FolderSpec>], parent: &str, out: &mut Vec<Diagnostic>) {
    let place = if parent.is_empty() {
        " at the top level".to_string()
    } else {
        format!(" inside `{parent}`")
    };
    report_duplicates(
        siblings
            .iter()
            .map(|f| (f.name.value.clone(), f.name.as_str(), f.name.origin)),
        Rule::FolderNameDuplicate,
        "folder",
        &place,
        out,
    );
    for folder in siblings {
        check_name("folder", &folder.name, folder.name.origin, out);
        if folder.name.contains('/') {
            out.push(
                Diagnostic::error(
                    Rule::InvalidValue,
                    format!("folder name `{}` contains `/`", folder.name.value),
                )
                .at(folder.name.origin)
                .help("nest child folders under `folders:` instead of writing a path"),
            );
        }
        let path = if parent.is_empty() {
            folder.name.value.clone()
        } else {
            format!("{parent}/{}", folder.name.value)
        };
        check_siblings(&folder.folders, &path, out);
    }
}
