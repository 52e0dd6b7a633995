//! YAML → a tree of [`Node`]s that each know their line and column.
//!
//! Why saphyr-parser: serde_yaml is archived, and orgform must point at the exact node
//! behind every diagnostic. saphyr-parser (the maintained successor of yaml-rust, YAML 1.2)
//! emits parse events with a span for every scalar, sequence and mapping and reports
//! syntax errors with a marker, so we build our own small tree and keep each node's
//! position. [`de`] then lets serde-derived types read that tree, with [`Spanned`]
//! values recording where they came from.
//!
//! The tree builder also guards against inputs that would hurt later stages: duplicate
//! keys in one mapping, non-string keys, alias bombs and absurd nesting depth.

pub mod de;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use crate::diagnostic::{Diagnostic, FileId, Origin, Rule};

pub use de::{Spanned, from_node};

/// Deeper documents are rejected: no manifest needs this, and it bounds recursion.
const MAX_DEPTH: usize = 64;
/// Alias expansion budget (nodes), so `&a [*a, *a, ...]` chains cannot explode memory.
const MAX_ALIAS_NODES: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar and whether it was written plain (unquoted, so it may be null/bool/number).
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// `null`, `~` or nothing at all, written plain.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true } if is_null_text(value))
    }

    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { value, plain: true } if parse_bool(value).is_some() => "a boolean",
            NodeKind::Scalar { value, plain: true } if value.parse::<f64>().is_ok() => "a number",
            NodeKind::Scalar { .. } => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

pub fn is_null_text(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Parses one YAML document. `Ok(None)` for a file with no document (empty or comments only).
pub fn parse(text: &str, file: FileId) -> Result<Option<Node>, Diagnostic> {
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        anchors: Vec::new(),
        alias_nodes: 0,
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| scan_error(&e, file, text))?;
        builder.event(event, span)?;
    }
    Ok(builder.root)
}

fn scan_error(e: &ScanError, file: FileId, text: &str) -> Diagnostic {
    let m = e.marker();
    let (line, column) = within(text, m.line(), m.col() + 1);
    let mut d = Diagnostic::error(Rule::YamlSyntax, format!("invalid YAML: {}", e.info()))
        .at(Origin { file, line, column });
    if e.info().contains("tab") {
        d = d.help("YAML indentation must use spaces, not tabs");
    }
    d
}

/// The place (1-based line and column) moved inside `text`: the parser marks an error
/// at the end of a file that lacks a final newline on the line after the last.
fn within(text: &str, line: usize, column: usize) -> (u32, u32) {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len();
    if line > last {
        let chars = lines[last - 1].chars().count();
        return (last as u32, chars as u32 + 1);
    }
    let line = line.max(1);
    let chars = lines[line - 1].chars().count();
    (line as u32, column.clamp(1, chars + 1) as u32)
}

enum Open {
    Seq(Node, usize),
    /// A mapping, its anchor, and a key waiting for its value.
    Map(Node, usize, Option<Node>),
}

struct Builder {
    file: FileId,
    stack: Vec<Open>,
    anchors: Vec<(usize, Node)>,
    alias_nodes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn origin(&self, span: Span) -> Origin {
        Origin {
            file: self.file,
            line: span.start.line() as u32,
            column: span.start.col() as u32 + 1,
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Diagnostic> {
        let origin = self.origin(span);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::error(
                        Rule::YamlSyntax,
                        "a manifest file holds one YAML document, but this is a second one",
                    )
                    .at(origin)
                    .help(
                        "remove the `---` separator or move the second document to its own file",
                    ));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let mut plain = style == ScalarStyle::Plain;
                if let Some(tag) = tag {
                    check_tag(&tag, origin)?;
                    // `!!str 123` is the string "123", as if it were quoted.
                    plain &= tag.suffix != "str";
                }
                // An exact-size copy: the scanner's buffer keeps growth slack, and a large
                // org has hundreds of thousands of scalars.
                let node = Node {
                    kind: NodeKind::Scalar {
                        value: String::from(&*value),
                        plain,
                    },
                    origin,
                };
                self.remember(anchor, &node);
                self.push_value(node)?;
            }
            Event::SequenceStart(anchor, tag) => {
                if let Some(tag) = tag {
                    check_tag(&tag, origin)?;
                }
                self.open(
                    Open::Seq(
                        Node {
                            kind: NodeKind::Seq(Vec::new()),
                            origin,
                        },
                        anchor,
                    ),
                    origin,
                )?;
            }
            Event::MappingStart(anchor, tag) => {
                if let Some(tag) = tag {
                    check_tag(&tag, origin)?;
                }
                self.open(
                    Open::Map(
                        Node {
                            kind: NodeKind::Map(Vec::new()),
                            origin,
                        },
                        anchor,
                        None,
                    ),
                    origin,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (mut node, anchor) = match self.stack.pop() {
                    Some(Open::Seq(node, anchor)) | Some(Open::Map(node, anchor, _)) => {
                        (node, anchor)
                    }
                    None => return Ok(()),
                };
                match &mut node.kind {
                    NodeKind::Seq(items) => items.shrink_to_fit(),
                    NodeKind::Map(entries) => entries.shrink_to_fit(),
                    NodeKind::Scalar { .. } => {}
                }
                self.remember(anchor, &node);
                self.push_value(node)?;
            }
            Event::Alias(id) => {
                let Some(node) = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                else {
                    return Err(
                        Diagnostic::error(Rule::YamlSyntax, "alias to an unknown anchor")
                            .at(origin),
                    );
                };
                self.alias_nodes += count_nodes(&node);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(Diagnostic::error(
                        Rule::YamlSyntax,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    )
                    .at(origin)
                    .help("write the values out instead of nesting aliases"));
                }
                self.push_value(node)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
    }

    fn open(&mut self, open: Open, origin: Origin) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::error(
                Rule::YamlSyntax,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            )
            .at(origin));
        }
        self.stack.push(open);
        Ok(())
    }

    fn push_value(&mut self, node: Node) -> Result<(), Diagnostic> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(seq, _)) => {
                if let NodeKind::Seq(items) = &mut seq.kind {
                    items.push(node);
                }
            }
            Some(Open::Map(map, _, pending)) => match pending.take() {
                None => {
                    let NodeKind::Scalar { value: key, .. } = &node.kind else {
                        return Err(Diagnostic::error(
                            Rule::YamlSyntax,
                            format!("a mapping key must be a string, found {}", node.describe()),
                        )
                        .at(node.origin));
                    };
                    if let NodeKind::Map(entries) = &map.kind
                        && let Some((first, _)) = entries.iter().find(|(k, _)| {
                            matches!(&k.kind, NodeKind::Scalar { value, .. } if value == key)
                        })
                    {
                        return Err(Diagnostic::error(
                            Rule::YamlSyntax,
                            format!("duplicate key `{key}` in the same mapping"),
                        )
                        .at(node.origin)
                        .related(first.origin, "first written")
                        .help("remove one of the two entries"));
                    }
                    *pending = Some(node);
                }
                Some(key) => {
                    if let NodeKind::Map(entries) = &mut map.kind {
                        entries.push((key, node));
                    }
                }
            },
        }
        Ok(())
    }
}

/// Only the YAML core schema's own tags (`!!str`, `!!int`, ...) are accepted: other tags
/// ask for application-specific types, which manifests never need.
fn check_tag(tag: &saphyr_parser::Tag, origin: Origin) -> Result<(), Diagnostic> {
    const CORE: &[&str] = &["str", "int", "float", "bool", "null", "seq", "map"];
    if tag.is_yaml_core_schema() && CORE.contains(&tag.suffix.as_str()) {
        return Ok(());
    }
    Err(Diagnostic::error(
        Rule::YamlSyntax,
        format!("YAML tag `{tag}` is not supported"),
    )
    .at(origin)
    .help("remove the tag; orgform reads plain YAML values"))
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Scalar { .. } => 0,
        NodeKind::Seq(items) => items.iter().map(count_nodes).sum(),
        NodeKind::Map(entries) => entries
            .iter()
            .map(|(k, v)| count_nodes(k) + count_nodes(v))
            .sum(),
    }
}

/// YAML reads a carriage return without a line feed as a line break; the text that
/// diagnostics count lines in and quote must too, or every line after it is off by one.
/// (A line break either way: the YAML means the same.)
fn lone_returns_as_newlines(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads bytes as UTF-8, or says where the first invalid byte is.
pub fn decode(bytes: Vec<u8>, file: FileId) -> Result<String, Diagnostic> {
    String::from_utf8(bytes)
        .map(lone_returns_as_newlines)
        .map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // Safe: the prefix up to valid_up_to is valid UTF-8 by definition.
            let prefix = lone_returns_as_newlines(
                std::str::from_utf8(valid).unwrap_or_default().to_string(),
            );
            let line = prefix.matches('\n').count() as u32 + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            Diagnostic::error(Rule::YamlSyntax, "file is not valid UTF-8")
                .at(Origin { file, line, column })
                .help("save the file as UTF-8")
        })
}
