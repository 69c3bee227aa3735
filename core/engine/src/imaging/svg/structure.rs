//! The shape of a parsed document: nesting depth and `<use>` expansion, judged before usvg
//! converts the tree (which it does recursively, expanding every `<use>`).

use std::collections::HashMap;

use super::ImagingError;

/// Most nested elements a document may have (usvg converts recursively).
pub(super) const MAX_DEPTH: usize = 256;
/// Most elements a document may have once every `<use>` is expanded.
const MAX_EXPANDED_ELEMENTS: u64 = 500_000;

/// Refuses documents nested deeper than [`MAX_DEPTH`] or whose `<use>` references expand to
/// more than [`MAX_EXPANDED_ELEMENTS`] elements.
pub(super) fn check_structure(document: &roxmltree::Document) -> Result<(), ImagingError> {
    let mut ids = HashMap::new();
    // Each element's depth from its parent's, in document order (parents come first).
    let mut depths: HashMap<roxmltree::NodeId, usize> = HashMap::new();
    for node in document.root().descendants().filter(roxmltree::Node::is_element) {
        let parent = node.parent().and_then(|p| depths.get(&p.id()).copied()).unwrap_or(0);
        let depth = parent + 1;
        if depth > MAX_DEPTH {
            return Err(ImagingError::TooLarge(format!(
                "the svg image nests elements deeper than {MAX_DEPTH}"
            )));
        }
        depths.insert(node.id(), depth);
        if let Some(id) = node.attribute("id") {
            ids.insert(id, node);
        }
    }
    // Elements each subtree expands to, `<use>` targets included; memoised per node, and
    // computed bottom-up with an explicit stack so no document recurses here.
    let mut sizes: HashMap<roxmltree::NodeId, u64> = HashMap::new();
    let mut stack = vec![(document.root_element(), false)];
    let mut on_stack = std::collections::HashSet::new();
    while let Some((node, children_done)) = stack.pop() {
        if sizes.contains_key(&node.id()) {
            continue;
        }
        let target = use_target(&node, &ids);
        if !children_done {
            on_stack.insert(node.id());
            stack.push((node, true));
            for child in node.children().filter(roxmltree::Node::is_element) {
                if !sizes.contains_key(&child.id()) && !on_stack.contains(&child.id()) {
                    stack.push((child, false));
                }
            }
            if let Some(target) = target.filter(|t| !on_stack.contains(&t.id())) {
                stack.push((target, false));
            }
            continue;
        }
        on_stack.remove(&node.id());
        let mut size = 1u64;
        for child in node.children().filter(roxmltree::Node::is_element) {
            size = size.saturating_add(sizes.get(&child.id()).copied().unwrap_or(0));
        }
        if let Some(target) = target {
            // A reference back into its own ancestry is dropped by usvg: it counts nothing.
            size = size.saturating_add(sizes.get(&target.id()).copied().unwrap_or(0));
        }
        if size > MAX_EXPANDED_ELEMENTS {
            return Err(ImagingError::TooLarge(format!(
                "the svg image expands to more than {MAX_EXPANDED_ELEMENTS} elements"
            )));
        }
        sizes.insert(node.id(), size);
    }
    Ok(())
}

/// The element a `<use>` refers to, if it is in the document.
fn use_target<'a, 'input>(
    node: &roxmltree::Node<'a, 'input>,
    ids: &HashMap<&str, roxmltree::Node<'a, 'input>>,
) -> Option<roxmltree::Node<'a, 'input>> {
    if node.tag_name().name() != "use" {
        return None;
    }
    let href = node
        .attribute(("http://www.w3.org/1999/xlink", "href"))
        .or_else(|| node.attribute("href"))?;
    ids.get(href.strip_prefix('#')?).copied()
}
