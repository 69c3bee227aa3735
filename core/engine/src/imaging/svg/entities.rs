//! Entity declarations in the doctype: the expansion bound ("billion laughs"), judged before
//! the XML parser expands anything, and external entities, emptied before parsing.

use std::borrow::Cow;
use std::collections::HashMap;

use super::ImagingError;

/// Refuses a document whose internal entities would expand past a small multiple of its
/// size (the "billion laughs"), judged from the declarations before the XML parser expands
/// anything.
pub(super) fn check_entity_expansion(text: &str) -> Result<(), ImagingError> {
    let declarations = internal_entities(text);
    if declarations.is_empty() {
        return Ok(());
    }
    let budget = (1u64 << 20) + 4 * text.len() as u64;
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    let mut resolving = Vec::new();
    // Each entity's expanded size, resolved depth-first; a reference cycle is the XML
    // parser's to refuse, so it counts as nothing here.
    fn expanded<'a>(
        name: &'a str,
        declarations: &HashMap<&'a str, &'a str>,
        sizes: &mut HashMap<&'a str, u64>,
        resolving: &mut Vec<&'a str>,
        budget: u64,
    ) -> u64 {
        if let Some(&size) = sizes.get(name) {
            return size;
        }
        let Some(value) = declarations.get(name) else { return 0 };
        if resolving.contains(&name) || resolving.len() > 64 {
            return budget;
        }
        resolving.push(name);
        let mut size = value.len() as u64;
        for reference in references(value) {
            size = size.saturating_add(expanded(reference, declarations, sizes, resolving, budget));
            if size > budget {
                break;
            }
        }
        resolving.pop();
        sizes.insert(name, size.min(budget.saturating_add(1)));
        size
    }
    let body = text.find("]>").map_or(text, |end| &text[end..]);
    let mut total = text.len() as u64;
    for reference in references(body) {
        total = total.saturating_add(expanded(
            reference,
            &declarations,
            &mut sizes,
            &mut resolving,
            budget,
        ));
        if total > budget {
            return Err(ImagingError::TooLarge(format!(
                "the svg image's entities expand past {budget} bytes"
            )));
        }
    }
    Ok(())
}

/// Names referred to as `&name;` (character references excluded).
fn references(text: &str) -> impl Iterator<Item = &str> {
    text.split('&').skip(1).filter_map(|rest| {
        let end = rest.find(';')?;
        let name = &rest[..end];
        (!name.is_empty() && !name.starts_with('#') && !name.contains(char::is_whitespace))
            .then_some(name)
    })
}

/// `<!ENTITY name "value">` declarations of the internal subset: name → value.
fn internal_entities(text: &str) -> HashMap<&str, &str> {
    let mut entities = HashMap::new();
    let Some(doctype) = text.find("<!DOCTYPE") else { return entities };
    let subset_end = text[doctype..].find("]>").map_or(text.len(), |end| doctype + end);
    let mut rest = &text[doctype..subset_end];
    while let Some(at) = rest.find("<!ENTITY") {
        rest = &rest[at + "<!ENTITY".len()..];
        let Some(end) = declaration_end(rest) else { break };
        let declaration = rest[..end - 1].trim();
        rest = &rest[end..];
        if declaration.starts_with('%') {
            continue;
        }
        let Some((name, value)) = declaration.split_once(char::is_whitespace) else { continue };
        let value = value.trim();
        if let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'')
            && let Some(inner) = value[1..].split(quote).next()
        {
            entities.insert(name, inner);
        }
    }
    entities
}

/// Rewrites external entity declarations (`SYSTEM` or `PUBLIC`) in the doctype's internal
/// subset as empty internal ones. The XML parser never loads them, but it refuses a document
/// that refers to one; emptied, the reference expands to nothing and the rest renders.
pub(super) fn drop_external_entities(text: &str) -> Cow<'_, str> {
    let Some(doctype) = text.find("<!DOCTYPE") else { return Cow::Borrowed(text) };
    let head = &text[doctype..];
    let Some(open) = head.find(['[', '>']).filter(|&i| head.as_bytes()[i] == b'[') else {
        return Cow::Borrowed(text);
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut at = doctype + open + 1;
    loop {
        at += text[at..].len() - text[at..].trim_start().len();
        let rest = &text[at..];
        let next = if rest.starts_with("<!--") {
            rest.find("-->").map(|i| at + i + 3)
        } else if rest.starts_with('<') {
            declaration_end(rest).map(|end| {
                let declaration = &rest[..end];
                if let Some(emptied) = emptied_external_entity(declaration) {
                    out.push_str(&text[copied..at]);
                    out.push_str(&emptied);
                    copied = at + end;
                }
                at + end
            })
        } else if rest.starts_with('%') {
            rest.find(';').map(|i| at + i + 1)
        } else {
            // The end of the subset (or something the parser will judge).
            None
        };
        match next {
            Some(next) => at = next,
            None => break,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The length of a markup declaration up to its closing `>`, quotes respected.
fn declaration_end(declaration: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in declaration.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// `<!ENTITY [%] name "">` for an external entity declaration; `None` for anything else.
fn emptied_external_entity(declaration: &str) -> Option<String> {
    let mut tokens = declaration.strip_prefix("<!ENTITY")?.split_whitespace();
    let mut name = tokens.next()?;
    let parameter = name == "%";
    if parameter {
        name = tokens.next()?;
    }
    let kind = tokens.next()?;
    (kind.starts_with("SYSTEM") || kind.starts_with("PUBLIC"))
        .then(|| format!("<!ENTITY {}{name} \"\">", if parameter { "% " } else { "" }))
}
