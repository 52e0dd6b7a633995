//! The custom-metadata schema: key syntax, types, enum options, embedding sizes.

use super::{Context, report_duplicates};
use crate::diagnostic::{Diagnostic, Rule};
use crate::manifest::MetadataTypeSpec;

/// Embedding sizes Index accepts; Active works with 512.
pub const EMBEDDING_SIZES: std::ops::RangeInclusive<u64> = 1..=4096;
pub const ACTIVE_EMBEDDING_SIZE: u64 = 512;
pub const MAX_ENUM_OPTIONS: usize = 255;

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let schema = &cx.manifests.metadata_schema.0;
    report_duplicates(
        schema
            .iter()
            .map(|(k, _)| (k.value.clone(), k.as_str(), k.origin)),
        Rule::MetadataKeyDuplicate,
        "metadata key",
        "",
        out,
    );
    for (key, ty) in schema {
        if let Some(problem) = key_problem(key) {
            out.push(
                Diagnostic::error(
                    Rule::MetadataKeyInvalid,
                    format!("metadata key `{}` {problem}", key.value),
                )
                .at(key.origin)
                .help("keys use letters, digits, spaces, `-`, `_` and `.`, e.g. `camera.model`"),
            );
        }
        match &ty.value {
            MetadataTypeSpec::StringAlias | MetadataTypeSpec::LongStringAlias => {
                let (alias, canonical) = if ty.value == MetadataTypeSpec::StringAlias {
                    ("string", "varchar")
                } else {
                    ("long_string", "text")
                };
                out.push(
                    Diagnostic::warning(
                        Rule::MetadataTypeAlias,
                        format!("`{alias}` is an alias of `{canonical}`"),
                    )
                    .at(ty.origin)
                    .help(format!(
                        "write `{canonical}`: the platform strongly recommends the canonical name"
                    )),
                );
            }
            MetadataTypeSpec::Embedding(size) => {
                if !EMBEDDING_SIZES.contains(&size.value) {
                    out.push(
                        Diagnostic::error(
                            Rule::EmbeddingSizeOutOfRange,
                            format!("embedding size {} is outside 1–4096", size.value),
                        )
                        .at(size.origin)
                        .help("Index accepts sizes 1 to 4096; Active works with 512"),
                    );
                } else if size.value > ACTIVE_EMBEDDING_SIZE {
                    out.push(
                        Diagnostic::warning(
                            Rule::EmbeddingSizeOutOfRange,
                            format!(
                                "embedding size {} is above 512: Active supports 512",
                                size.value
                            ),
                        )
                        .at(size.origin),
                    );
                }
            }
            MetadataTypeSpec::Enum(options) => {
                if options.is_empty() {
                    out.push(
                        Diagnostic::error(
                            Rule::EnumOptionsInvalid,
                            format!("enum `{}` has no options", key.value),
                        )
                        .at(ty.origin)
                        .help("list at least one option, e.g. `{ enum: [sunny, rainy] }`"),
                    );
                }
                if options.len() > MAX_ENUM_OPTIONS {
                    out.push(
                        Diagnostic::error(
                            Rule::EnumOptionsInvalid,
                            format!(
                                "enum `{}` has {} options; at most {MAX_ENUM_OPTIONS} are allowed",
                                key.value,
                                options.len()
                            ),
                        )
                        .at(ty.origin),
                    );
                }
                report_duplicates(
                    options
                        .iter()
                        .map(|o| (o.value.clone(), o.as_str(), o.origin)),
                    Rule::EnumOptionsInvalid,
                    &format!("option of enum `{}`", key.value),
                    "",
                    out,
                );
                for option in options.iter().filter(|o| o.trim().is_empty()) {
                    out.push(
                        Diagnostic::error(
                            Rule::EnumOptionsInvalid,
                            format!("enum `{}` has an empty option", key.value),
                        )
                        .at(option.origin),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Why a key is not acceptable to the platform, if it is not.
pub fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("is empty".to_string());
    }
    if key.starts_with('$') {
        return Some("starts with `$`".to_string());
    }
    if key == "keyframes" {
        return Some("is reserved by the platform".to_string());
    }
    if key.chars().count() > super::MAX_NAME_CHARS {
        return Some(format!(
            "is longer than {} characters",
            super::MAX_NAME_CHARS
        ));
    }
    let bad: String = key
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')))
        .collect();
    if !bad.is_empty() {
        let mut shown: Vec<char> = bad.chars().collect();
        shown.dedup();
        let shown: String = shown.into_iter().collect();
        return Some(format!(
            "contains characters that are not allowed: `{shown}`"
        ));
    }
    None
}
