//! SVG in (usvg parse, resvg render) and the `<image>` wrapper for `svg=embed`.
//!
//! Nothing outside the document is ever loaded: `<image>` references resolve only from
//! `data:` URLs (and only to rasters whose headers pass the limits, or to plain nested SVG);
//! file paths and URLs resolve to nothing; there is no resources directory. usvg itself never
//! fetches CSS `@import`s, and `url()` only names elements of the document. External entity
//! declarations are emptied before parsing (the XML parser would refuse the document).
//!
//! This module parses and sanitises; the bounds a document must keep before a tree is built
//! live in `entities` (entity expansion, external entities) and `structure` (nesting depth,
//! `<use>` expansion), the rewriting of external `url(…)` references in `urls`, and
//! rasterising, with its filter-cost bound, in `render`.

mod entities;
mod render;
mod structure;
#[cfg(test)]
mod tests;
mod urls;

use std::sync::{Arc, LazyLock};

use base64::Engine;
use resvg::usvg::{self, ImageHrefResolver, ImageKind, fontdb};

pub(crate) use self::render::{intrinsic_size, render};
use super::ImagingError;
use crate::format::{ImageFormat, Sniffed};
use crate::limits::Limits;

/// System fonts, loaded once on first use and shared by every parse.
static FONTS: LazyLock<Arc<fontdb::Database>> = LazyLock::new(|| {
    let mut database = fontdb::Database::new();
    database.load_system_fonts();
    Arc::new(database)
});

/// Parse options that confine the document to itself.
fn options(limits: Limits) -> usvg::Options<'static> {
    let resolve_data = move |_mime: &str, data: Arc<Vec<u8>>, options: &usvg::Options| {
        // A raster is decoded by resvg when rendered, outside our decoders: judge its header
        // first so a bomb in a data URL costs nothing.
        let header_fits = || super::probe(&data, &limits).is_ok();
        match crate::format::sniff(&data) {
            Sniffed::Known(ImageFormat::Jpeg) if header_fits() => Some(ImageKind::JPEG(data)),
            Sniffed::Known(ImageFormat::Png) if header_fits() => Some(ImageKind::PNG(data)),
            Sniffed::Known(ImageFormat::Gif) if header_fits() => Some(ImageKind::GIF(data)),
            Sniffed::Known(ImageFormat::Webp) if header_fits() => Some(ImageKind::WEBP(data)),
            // Plain nested SVG only (sniffing rejects gzip, which would inflate unchecked),
            // within the bounds of a document.
            Sniffed::Known(ImageFormat::Svg) if check_nested(&data).is_ok() => {
                usvg::Tree::from_data_nested(&data, options).ok().map(ImageKind::SVG)
            }
            _ => None,
        }
    };
    usvg::Options {
        resources_dir: None,
        fontdb: FONTS.clone(),
        image_href_resolver: ImageHrefResolver {
            resolve_data: Box::new(resolve_data),
            // Anything but a data URL: file paths, relative paths, http(s) and the rest.
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    }
}

/// Most XML nodes a document may parse to, entities expanded.
const MAX_NODES: u32 = 1_000_000;

/// Parses an SVG document safely (see the module docs). Before any tree is built, the
/// entity expansion, nesting depth, node count and `<use>` expansion are judged; over any
/// bound the document is refused as too large.
pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<usvg::Tree, ImagingError> {
    // svgz is not an input format: gzip bytes would inflate without a bound.
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(ImagingError::Invalid("compressed SVG is not accepted".into()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(&e))?;
    let text = entities::drop_external_entities(text);
    let document = bounded_document(&text)?;
    let options = options(*limits);
    match urls::resolve_external_urls(&document, &text) {
        None => usvg::Tree::from_xmltree(&document, &options),
        Some(resolved) => usvg::Tree::from_xmltree(&parse_xml(&resolved)?, &options),
    }
    .map_err(|e| invalid(&e))
}

fn invalid(error: &dyn std::fmt::Display) -> ImagingError {
    ImagingError::Invalid(format!("the svg image does not parse: {error}"))
}

/// The XML tree, with the node limit.
fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, ImagingError> {
    let xml_options = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, xml_options).map_err(|e| {
        if matches!(e, roxmltree::Error::NodesLimitReached) {
            ImagingError::TooLarge(format!("the svg image has more than {MAX_NODES} nodes"))
        } else {
            invalid(&e)
        }
    })
}

/// The XML tree of a document within every bound: entity expansion judged before parsing,
/// then the node count, nesting depth and `<use>` expansion.
fn bounded_document(text: &str) -> Result<roxmltree::Document<'_>, ImagingError> {
    entities::check_entity_expansion(text)?;
    let document = parse_xml(text)?;
    structure::check_structure(&document)?;
    Ok(document)
}

/// The bounds [`parse`] judges, for a nested SVG document (an `<image>` data URL) that usvg
/// parses itself.
fn check_nested(bytes: &[u8]) -> Result<(), ImagingError> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(&e))?;
    bounded_document(text).map(|_| ())
}

/// The parsed document re-serialised: external references are gone, and it renders as the
/// source does.
pub(crate) fn sanitize(tree: &usvg::Tree) -> Vec<u8> {
    tree.to_string(&usvg::WriteOptions::default()).into_bytes()
}

/// An SVG document showing `png` (already encoded) at `width` × `height`.
pub(crate) fn embed_png(png: &[u8], width: u32, height: u32) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\"><image width=\"{width}\" height=\"{height}\" \
         href=\"data:image/png;base64,{data}\"/></svg>"
    )
}
