//! The frame of every HTML output: one self-contained page (inline style,
//! no scripts, no external resources) that can be attached to a ticket and
//! opened offline, and the escaping every piece of text goes through.

use std::io::{self, Write};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Shared style: tables, code, severity colours (`critical`/`high` red,
/// `warning`/`medium` amber, `low`/`info` blue), pattern bars and the
/// log timeline.
const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
td:first-child,th:first-child{text-align:left}\
td.l,th.l{text-align:left}\
code{background:#f4f4f4;padding:0 3px}\
.critical,.high{color:#b00}.warning,.medium{color:#a60}.low,.info{color:#06a}\
.bar{background:#4a90d9;height:10px;display:inline-block}\
ol.ev{font-size:12px}ol.ev code{white-space:pre-wrap;word-break:break-all}\
svg text{font:11px system-ui,sans-serif}";

/// Writes the page head and opens the body.
pub fn page_start(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title>\n<style>{STYLE}</style></head><body>",
        escape(title)
    )
}

/// Closes the body and the page.
pub fn page_end(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "</body></html>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">it's & more</a>"),
            "&lt;a href=&quot;x&quot;&gt;it&#39;s &amp; more&lt;/a&gt;"
        );
    }
}
