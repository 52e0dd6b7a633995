//! Making user data safe to print: names, descriptions and messages come from manifests
//! and from the live org, and may hold terminal escape sequences (ESC, OSC hyperlinks,
//! screen clears) or markup aimed at the PR comment.
//!
//! [`printable`] is the one place that decides which characters are shown as escapes;
//! the text plan, diagnostics, GitHub annotations, apply's progress lines and the
//! markdown comment all go through it.

use std::borrow::Cow;
use std::fmt::Write;

/// The text with every control character (and every bidirectional override, which can
/// make a line read differently from what it holds) shown as a `\u{1b}`-style escape.
/// Ordinary Unicode — accents, CJK, emoji — is kept as is.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_printable(&mut out, c);
    }
    Cow::Owned(out)
}

/// Appends one character as [`printable`] shows it.
pub(crate) fn push_printable(out: &mut String, c: char) {
    if needs_escape(c) {
        // Writing to a String cannot fail.
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// Control characters (C0, DEL, C1: ESC, BEL, CR, NUL, tab, newline…) and the Unicode
/// bidirectional formatting characters ("Trojan Source").
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Where a piece of markdown goes: inside a table cell, `|` ends the cell even in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Line,
    TableCell,
}

/// User data as plain markdown text: it cannot open HTML (`<`, `>`, `&` as entities),
/// format or link (markdown punctuation backslash-escaped), ping anyone (`@` at the start
/// of a word gets a zero-width joiner), break a table row or a line, or carry control
/// characters.
pub(crate) fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut previous: Option<char> = None;
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // `ada@acme.com` is not a mention; `@everyone`, `(@team` and `x @org/team` are.
            '@' if !previous.is_some_and(|p| p.is_ascii_alphanumeric()) => {
                out.push_str("@\u{200d}")
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '~' | '|' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => push_printable(&mut out, c),
        }
        previous = Some(c);
    }
    out
}

/// User data as a code span: fenced with more backticks than it holds, so it cannot
/// close the span; GitHub renders neither HTML nor mentions inside code.
pub(crate) fn markdown_code(s: &str, place: Place) -> String {
    let mut body = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\n' | '\r' => body.push(' '),
            // GFM splits cells before parsing code; `\|` keeps the pipe in the cell (a
            // backslash before it cannot undo that: the scanner takes `\|` as one unit).
            '|' if place == Place::TableCell => body.push_str("\\|"),
            c => push_printable(&mut body, c),
        }
    }
    let longest_run = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    if body.is_empty() {
        // "``" is not an empty span; a lone space is shown as is.
        body.push(' ');
    }
    // A span that starts or ends with a backtick (or with spaces on both sides) needs a
    // space inside the fence: CommonMark strips one from each side unless all are spaces.
    let pad = body.starts_with('`')
        || body.ends_with('`')
        || (body.starts_with(' ') && body.ends_with(' ') && !body.trim_matches(' ').is_empty());
    let space = if pad { " " } else { "" };
    format!("{fence}{space}{body}{space}{fence}")
}

/// orgform's own messages quote names in backticks: those become code spans, the rest
/// is text. Names inside may hold backticks of their own; each piece is escaped for where
/// it lands, so a stray backtick can only shift which words look like code.
pub(crate) fn markdown_message(s: &str, place: Place) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else {
            break;
        };
        out.push_str(&markdown_text(&rest[..open]));
        out.push_str(&markdown_code(&after[..close], place));
        rest = &after[close + 1..];
    }
    out.push_str(&markdown_text(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(
            printable("red \x1b[31mALERT\x1b[0m"),
            "red \\u{1b}[31mALERT\\u{1b}[0m"
        );
        // An OSC 8 hyperlink, terminated by BEL.
        assert_eq!(
            printable("\x1b]8;;http://evil\x07link"),
            "\\u{1b}]8;;http://evil\\u{7}link"
        );
        assert_eq!(printable("a\0b\x7fc\u{9b}d"), "a\\u{0}b\\u{7f}c\\u{9b}d");
    }

    #[test]
    fn line_breaks_and_tabs_cannot_fake_a_new_line() {
        assert_eq!(
            printable("g\r\n    - admin@acme.com\tx"),
            "g\\u{d}\\u{a}    - admin@acme.com\\u{9}x"
        );
    }

    #[test]
    fn bidi_overrides_are_escaped() {
        assert_eq!(printable("admin\u{202e}moc.emca"), "admin\\u{202e}moc.emca");
        assert_eq!(printable("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    #[test]
    fn ordinary_unicode_is_kept_and_not_copied() {
        for s in [
            "Zoë Ørsted",
            "放射線科",
            "team 🚀 launch",
            "👩‍🔬 lab",
            "</details> @everyone `x` |y",
            "",
        ] {
            assert!(matches!(printable(s), Cow::Borrowed(b) if b == s), "{s:?}");
        }
    }

    #[test]
    fn markdown_text_cannot_open_html_or_ping() {
        assert_eq!(
            markdown_text("</details><img src=x>"),
            "&lt;/details&gt;&lt;img src=x&gt;"
        );
        assert_eq!(markdown_text("hi @everyone"), "hi @\u{200d}everyone");
        assert_eq!(markdown_text("@org/team"), "@\u{200d}org/team");
        assert_eq!(
            markdown_text("ada@acme.com"),
            "ada@acme.com",
            "emails stay copyable"
        );
        assert_eq!(markdown_text("a|b\nc"), "a\\|b c");
        assert_eq!(
            markdown_text("![x](http://e/p.png) [y](http://e) *b* `c` $m$ &lt;"),
            "\\!\\[x\\](http://e/p.png) \\[y\\](http://e) \\*b\\* \\`c\\` \\$m\\$ &amp;lt;"
        );
        assert_eq!(markdown_text("\x1b[31mred"), "\\u{1b}\\[31mred");
        assert_eq!(markdown_text("Zoë 放射線科 🚀"), "Zoë 放射線科 🚀");
    }

    #[test]
    fn markdown_code_fence_outlasts_backticks() {
        assert_eq!(markdown_code("plain", Place::Line), "`plain`");
        assert_eq!(markdown_code("a`b", Place::Line), "``a`b``");
        assert_eq!(markdown_code("a``b`", Place::Line), "``` a``b` ```");
        assert_eq!(markdown_code("`x`", Place::Line), "`` `x` ``");
        assert_eq!(markdown_code("", Place::Line), "` `");
        assert_eq!(markdown_code("  ", Place::Line), "`  `");
        assert_eq!(markdown_code(" a ", Place::Line), "`  a  `");
        assert_eq!(markdown_code("a|b", Place::TableCell), "`a\\|b`");
        assert_eq!(markdown_code("a|b", Place::Line), "`a|b`");
        assert_eq!(markdown_code("a\\|b", Place::TableCell), "`a\\\\|b`");
        assert_eq!(
            markdown_code("x\ny\x1b[0m</details>", Place::Line),
            "`x y\\u{1b}[0m</details>`"
        );
    }

    #[test]
    fn markdown_message_keeps_quoted_names_as_code() {
        assert_eq!(
            markdown_message("takes over from `olga@acme.com` (policy)", Place::Line),
            "takes over from `olga@acme.com` (policy)"
        );
        assert_eq!(
            markdown_message("group `a|b` has @everyone", Place::TableCell),
            "group `a\\|b` has @\u{200d}everyone"
        );
        // An unpaired backtick is text.
        assert_eq!(markdown_message("x ` <b>", Place::Line), "x \\` &lt;b&gt;");
    }
}
