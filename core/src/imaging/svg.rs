//! SVG in (usvg parse, resvg render) and the `<image>` wrapper for `svg=embed`.
//!
//! Nothing outside the document is ever loaded: `<image>` references resolve only from
//! `data:` URLs (and only to rasters whose headers pass the limits, or to plain nested SVG);
//! file paths and URLs resolve to nothing; there is no resources directory. usvg itself never
//! fetches CSS `@import`s, and `url()` only names elements of the document. External entity
//! declarations are emptied before parsing (the XML parser would refuse the document).

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use base64::Engine;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, ImageHrefResolver, ImageKind, fontdb};

use super::ImagingError;
use super::raster::Raster;
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
            // Plain nested SVG only: sniffing rejects gzip, which would inflate unchecked.
            Sniffed::Known(ImageFormat::Svg) => {
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

/// Parses an SVG document safely (see the module docs).
pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<usvg::Tree, ImagingError> {
    // svgz is not an input format: gzip bytes would inflate without a bound.
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(ImagingError::Invalid("compressed SVG is not accepted".into()));
    }
    let invalid = |e: &dyn std::fmt::Display| {
        ImagingError::Invalid(format!("the svg image does not parse: {e}"))
    };
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(&e))?;
    usvg::Tree::from_str(&drop_external_entities(text), &options(*limits)).map_err(|e| invalid(&e))
}

/// Rewrites external entity declarations (`SYSTEM` or `PUBLIC`) in the doctype's internal
/// subset as empty internal ones. The XML parser never loads them, but it refuses a document
/// that refers to one; emptied, the reference expands to nothing and the rest renders.
fn drop_external_entities(text: &str) -> Cow<'_, str> {
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

/// The intrinsic size in whole pixels (usvg resolves width/height at 96 dpi, else the
/// viewBox, else 100×100).
pub(crate) fn intrinsic_size(tree: &usvg::Tree) -> (u32, u32) {
    let size = tree.size();
    let side = |v: f32| (v.ceil() as u32).max(1);
    (side(size.width()), side(size.height()))
}

/// Renders the whole document stretched to `width` × `height` (the caller has judged the
/// size against the limits).
pub(crate) fn render(tree: &usvg::Tree, width: u32, height: u32) -> Result<Raster, ImagingError> {
    let mut pixmap = Pixmap::new(width, height)
        .ok_or_else(|| ImagingError::TooLarge(format!("cannot render {width}x{height}")))?;
    let size = tree.size();
    let transform =
        Transform::from_scale(width as f32 / size.width(), height as f32 / size.height());
    resvg::render(tree, transform, &mut pixmap.as_mut());
    // tiny-skia holds premultiplied alpha; rasters hold straight alpha.
    let pixels = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    Ok(Raster::from_rgba(width, height, pixels))
}

/// An SVG source with its external references gone, re-serialised from the parsed tree so it
/// renders as the source does.
pub fn sanitize_svg(bytes: &[u8]) -> Result<Vec<u8>, ImagingError> {
    let tree = parse(bytes, &Limits::default())?;
    Ok(tree.to_string(&usvg::WriteOptions::default()).into_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_entities_are_emptied() {
        let text = "<?xml version=\"1.0\"?><!DOCTYPE svg [\n<!-- <!ENTITY c SYSTEM \"x\"> -->\n\
            <!ENTITY a SYSTEM 'file:///etc/passwd'>\n<!ENTITY % p PUBLIC \"-//x\" \"http://e/x\">\n\
            <!ENTITY b \"a > b\">\n]><svg/>";
        assert_eq!(
            drop_external_entities(text),
            "<?xml version=\"1.0\"?><!DOCTYPE svg [\n<!-- <!ENTITY c SYSTEM \"x\"> -->\n\
            <!ENTITY a \"\">\n<!ENTITY % p \"\">\n<!ENTITY b \"a > b\">\n]><svg/>"
        );
        let plain = "<svg><text>&lt;!ENTITY a SYSTEM 'x'&gt;</text></svg>";
        assert!(matches!(drop_external_entities(plain), Cow::Borrowed(_)));
    }
}
