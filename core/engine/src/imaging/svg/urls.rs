//! External `url(…)` references in paints and style sheets, resolved as the SVG spec
//! resolves a reference it cannot follow.

/// The document with every `url(…)` that does not name one of its own elements resolved as
/// the SVG spec resolves an unresolvable reference: to the fallback colour that follows it
/// in a paint (`fill: url(https://…) #0f0` → `#0f0`), else to `none`. usvg would drop the
/// whole value instead and paint black. `None` when there is nothing to resolve.
pub(super) fn resolve_external_urls(document: &roxmltree::Document, text: &str) -> Option<String> {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut edit = |range: std::ops::Range<usize>, expanded: &str| {
        // In place when the reference is in the source text; escaped when an entity
        // supplied it.
        if let Some(resolved) = without_external_urls(&text[range.clone()]) {
            edits.push((range, resolved));
        } else if let Some(resolved) = without_external_urls(expanded) {
            let escaped = resolved
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;")
                .replace('\'', "&apos;");
            edits.push((range, escaped));
        }
    };
    for node in document.descendants() {
        if node.is_element() {
            for attribute in node.attributes() {
                edit(attribute.range_value(), attribute.value());
            }
        } else if node.is_text() && node.parent().is_some_and(|p| p.tag_name().name() == "style") {
            edit(node.range(), node.text().unwrap_or_default());
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, replacement) in edits {
        if range.start < at {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// `value` with its external `url(…)`s resolved (see [`resolve_external_urls`]), or `None`
/// when it has none.
pub(super) fn without_external_urls(value: &str) -> Option<String> {
    // ASCII lowercasing keeps byte offsets: CSS function names are case-insensitive.
    let lower = value.to_ascii_lowercase();
    let mut out = String::new();
    let mut at = 0;
    let mut changed = false;
    while let Some(found) = lower[at..].find("url(") {
        let start = at + found;
        let inner_start = start + 4;
        let Some(close) = value[inner_start..].find(')') else { break };
        let end = inner_start + close + 1;
        let inner = value[inner_start..end - 1].trim().trim_start_matches(['"', '\'']);
        out.push_str(&value[at..start]);
        if inner.trim_start().starts_with('#') {
            out.push_str(&value[start..end]);
        } else {
            changed = true;
            // No fallback before the end of the declaration: the reference paints nothing.
            let tail = &value[end..];
            let declaration = &tail[..tail.find([';', '}', '!']).unwrap_or(tail.len())];
            if declaration.trim().is_empty() {
                out.push_str("none");
            }
        }
        at = end;
    }
    out.push_str(&value[at..]);
    changed.then_some(out)
}
