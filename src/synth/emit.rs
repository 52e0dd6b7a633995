//! A YAML tree small enough to mutate and print: the synthetic org is built as one,
//! and the fuzz harness changes its shape (duplicate keys, wrong types, deep nesting)
//! before printing it. Mappings are lists of pairs, so a key may appear twice.

/// A YAML value. `flow` containers print on one line (`{ a: b }`, `[a, b]`).
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// A string, quoted when printing it plain would change its meaning.
    Str(String),
    /// Printed as is: numbers, booleans, `~`, or text the fuzz harness injects.
    Raw(String),
    Seq {
        items: Vec<Yaml>,
        flow: bool,
    },
    Map {
        entries: Vec<(String, Yaml)>,
        flow: bool,
    },
}

impl Yaml {
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    pub fn flow_map(entries: Vec<(&str, Yaml)>) -> Yaml {
        Yaml::Map {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            flow: true,
        }
    }

    pub fn block_map(entries: Vec<(&str, Yaml)>) -> Yaml {
        Yaml::Map {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            flow: false,
        }
    }

    pub fn flow_seq<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Yaml {
        Yaml::Seq {
            items: items.into_iter().map(|s| Yaml::Str(s.into())).collect(),
            flow: true,
        }
    }

    pub fn block_seq(items: Vec<Yaml>) -> Yaml {
        Yaml::Seq { items, flow: false }
    }

    /// The document as YAML text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match self {
            Yaml::Map {
                entries,
                flow: false,
            } if !entries.is_empty() => block_map(entries, 0, &mut out),
            Yaml::Seq { items, flow: false } if !items.is_empty() => block_seq(items, 0, &mut out),
            other => {
                inline(other, &mut out);
                out.push('\n');
            }
        }
        out
    }
}

fn is_block(v: &Yaml) -> bool {
    match v {
        Yaml::Seq { items, flow } => !flow && !items.is_empty(),
        Yaml::Map { entries, flow } => !flow && !entries.is_empty(),
        _ => false,
    }
}

fn block_map(entries: &[(String, Yaml)], indent: usize, out: &mut String) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        map_entry(key, value, indent, out);
    }
}

/// `key: value` whose first line is already indented.
fn map_entry(key: &str, value: &Yaml, indent: usize, out: &mut String) {
    scalar(key, out);
    out.push(':');
    match value {
        Yaml::Map { entries, .. } if is_block(value) => {
            out.push('\n');
            block_map(entries, indent + 2, out);
        }
        Yaml::Seq { items, .. } if is_block(value) => {
            out.push('\n');
            block_seq(items, indent + 2, out);
        }
        _ => {
            out.push(' ');
            inline(value, out);
            out.push('\n');
        }
    }
}

fn block_seq(items: &[Yaml], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Yaml::Map { entries, .. } if is_block(item) => {
                // The first entry shares the dash's line; the others align with it.
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    map_entry(key, value, indent + 2, out);
                }
            }
            Yaml::Seq { items, .. } if is_block(item) => {
                out.push('\n');
                block_seq(items, indent + 2, out);
            }
            _ => {
                inline(item, out);
                out.push('\n');
            }
        }
    }
}

fn inline(value: &Yaml, out: &mut String) {
    match value {
        Yaml::Str(s) => scalar(s, out),
        Yaml::Raw(s) => out.push_str(s),
        Yaml::Seq { items, .. } => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inline(item, out);
            }
            out.push(']');
        }
        Yaml::Map { entries, .. } => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                scalar(key, out);
                out.push_str(": ");
                inline(value, out);
            }
            out.push_str(" }");
        }
    }
}

/// Plain when that reads back as the same string, else double-quoted with escapes.
fn scalar(s: &str, out: &mut String) {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " @._/-".contains(c))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        && !s.chars().all(|c| c.is_ascii_digit() || c == '.');
    if plain {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_and_flow_styles_nest() {
        let doc = Yaml::block_map(vec![
            (
                "users",
                Yaml::block_seq(vec![Yaml::flow_map(vec![
                    ("email", Yaml::str("a@b.co")),
                    ("role", Yaml::str("admin")),
                ])]),
            ),
            (
                "groups",
                Yaml::block_seq(vec![Yaml::block_map(vec![
                    ("name", Yaml::str("g")),
                    ("members", Yaml::flow_seq(["a@b.co"])),
                    ("folders", Yaml::block_seq(vec![])),
                ])]),
            ),
            ("size", Yaml::Raw("512".into())),
        ]);
        assert_eq!(
            doc.to_text(),
            "users:\n  - { email: a@b.co, role: admin }\ngroups:\n  - name: g\n    members: [a@b.co]\n    folders: []\nsize: 512\n"
        );
    }

    #[test]
    fn strings_that_would_change_meaning_are_quoted() {
        let mut out = String::new();
        for s in ["true", "42", "a: b", "", "x\u{0}y", "say \"hi\"", "tag 3"] {
            scalar(s, &mut out);
            out.push('|');
        }
        assert_eq!(
            out,
            "\"true\"|\"42\"|\"a: b\"|\"\"|\"x\\u0000y\"|\"say \\\"hi\\\"\"|tag 3|"
        );
    }
}
