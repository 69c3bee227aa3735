//! Image formats: names, extensions, content types and recognition from bytes.

use serde::{Deserialize, Serialize};

/// A format ProgImage reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Avif,
    Tiff,
    Bmp,
    Svg,
}

impl ImageFormat {
    /// Every supported format, in the order the documentation lists them.
    pub const ALL: [ImageFormat; 8] = [
        ImageFormat::Jpeg,
        ImageFormat::Png,
        ImageFormat::Webp,
        ImageFormat::Gif,
        ImageFormat::Avif,
        ImageFormat::Tiff,
        ImageFormat::Bmp,
        ImageFormat::Svg,
    ];

    /// Other spellings a `format` value or a path extension may use.
    pub const ALIASES: [(&'static str, ImageFormat); 2] =
        [("jpg", ImageFormat::Jpeg), ("tif", ImageFormat::Tiff)];

    /// Parses a `format` value or a path extension (case-insensitive, with aliases).
    pub fn from_name(name: &str) -> Option<ImageFormat> {
        let named = ImageFormat::ALL.into_iter().map(|format| (format.name(), format));
        named
            .chain(ImageFormat::ALIASES)
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(name))
            .map(|(_, format)| format)
    }

    /// Parses a `Content-Type` value (parameters such as `; charset=` are ignored).
    pub fn from_content_type(content_type: &str) -> Option<ImageFormat> {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let essence = essence.as_str();
        FORMATS.iter().find(|row| row.content_types.contains(&essence)).map(|row| row.format)
    }

    /// The format's row of [`FORMATS`].
    fn row(self) -> &'static FormatRow {
        // Rows are in the enum's order (a test checks it).
        &FORMATS[self as usize]
    }

    /// The canonical name, also the canonical extension (`jpeg`, `png`, ...).
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The content type served for this format.
    pub fn content_type(self) -> &'static str {
        self.row().content_types[0]
    }

    /// Whether an encoded output of this format can carry transparency.
    pub fn has_alpha(self) -> bool {
        !matches!(self, ImageFormat::Jpeg | ImageFormat::Bmp)
    }

    /// Whether `quality` means something for this format's encoder.
    pub fn is_lossy(self) -> bool {
        matches!(self, ImageFormat::Jpeg | ImageFormat::Webp | ImageFormat::Avif)
    }
}

/// How a format is named: its canonical name (the aliases are [`ImageFormat::ALIASES`]),
/// and the served content type first, then the others accepted.
struct FormatRow {
    format: ImageFormat,
    name: &'static str,
    content_types: &'static [&'static str],
}

/// Every format's names and content types, in the enum's order.
const FORMATS: [FormatRow; 8] = [
    FormatRow {
        format: ImageFormat::Jpeg,
        name: "jpeg",
        content_types: &["image/jpeg", "image/jpg"],
    },
    FormatRow { format: ImageFormat::Png, name: "png", content_types: &["image/png"] },
    FormatRow { format: ImageFormat::Webp, name: "webp", content_types: &["image/webp"] },
    FormatRow { format: ImageFormat::Gif, name: "gif", content_types: &["image/gif"] },
    FormatRow { format: ImageFormat::Avif, name: "avif", content_types: &["image/avif"] },
    FormatRow { format: ImageFormat::Tiff, name: "tiff", content_types: &["image/tiff"] },
    FormatRow {
        format: ImageFormat::Bmp,
        name: "bmp",
        content_types: &["image/bmp", "image/x-ms-bmp"],
    },
    FormatRow { format: ImageFormat::Svg, name: "svg", content_types: &["image/svg+xml"] },
];

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// One of ours.
    Known(ImageFormat),
    /// A recognised image format that ProgImage does not take (its name, e.g. `psd`).
    Unsupported(&'static str),
    /// Not recognisable as any image.
    Unknown,
}

/// Recognises a format from its magic bytes.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Known(ImageFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Known(ImageFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Sniffed::Known(ImageFormat::Gif);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Sniffed::Known(ImageFormat::Webp);
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Sniffed::Known(ImageFormat::Tiff);
    }
    if starts(b"II+\0") || starts(b"MM\0+") {
        // BigTIFF: recognised, but the decoder does not read it.
        return Sniffed::Unsupported("bigtiff");
    }
    if starts(b"BM") && bytes.len() >= 14 {
        return Sniffed::Known(ImageFormat::Bmp);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        let compatible = |b: &[u8]| {
            // The major brand and the compatible brands up to the end of the box.
            let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
            let end = size.min(bytes.len());
            brand == b || (16..end).step_by(4).any(|i| i + 4 <= end && &bytes[i..i + 4] == b)
        };
        if compatible(b"avif") || compatible(b"avis") {
            return Sniffed::Known(ImageFormat::Avif);
        }
        if compatible(b"heic") || compatible(b"heix") || compatible(b"mif1") || compatible(b"msf1")
        {
            return Sniffed::Unsupported("heic");
        }
    }
    if starts(b"8BPS") {
        return Sniffed::Unsupported("psd");
    }
    if starts(&[0, 0, 1, 0]) || starts(&[0, 0, 2, 0]) {
        return Sniffed::Unsupported("ico");
    }
    if starts(&[0x00, 0x00, 0x00, 0x0C, b'j', b'X', b'L', b' ']) || starts(&[0xFF, 0x0A]) {
        return Sniffed::Unsupported("jxl");
    }
    if starts(&[0x00, 0x00, 0x00, 0x0C, b'j', b'P', b' ', b' ']) {
        return Sniffed::Unsupported("jp2");
    }
    if starts(b"qoif") {
        return Sniffed::Unsupported("qoi");
    }
    if starts(b"#?RADIANCE") || starts(b"\x76\x2f\x31\x01") {
        return Sniffed::Unsupported("hdr");
    }
    if looks_like_svg(bytes) {
        return Sniffed::Known(ImageFormat::Svg);
    }
    Sniffed::Unknown
}

/// How far into a document its `<svg` root may start (after the prolog).
const SVG_PROLOG_MAX: usize = 1 << 20;

/// An SVG document: optional BOM, XML declaration, comments and doctype, then `<svg`
/// within the first MiB.
fn looks_like_svg(bytes: &[u8]) -> bool {
    // Only what may start an XML document is read further.
    if !bytes.trim_ascii_start().starts_with(b"<") && !bytes.starts_with(b"\xef\xbb\xbf") {
        return false;
    }
    let head = &bytes[..bytes.len().min(SVG_PROLOG_MAX)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The cut may split a multi-byte character.
        Err(error) => std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or(""),
    };
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if rest.starts_with("<svg") {
            return true;
        }
        let skip_to = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!DOCTYPE") || rest.starts_with("<!doctype") {
            // A doctype may hold an internal subset in brackets.
            match (rest.find('['), rest.find('>')) {
                (Some(open), Some(close)) if open < close => rest.find("]>").map(|i| i + 2),
                (_, Some(close)) => Some(close + 1),
                _ => None,
            }
        } else {
            return false;
        };
        match skip_to {
            Some(i) => rest = rest[i..].trim_start(),
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_enum_order() {
        for (index, format) in ImageFormat::ALL.into_iter().enumerate() {
            assert_eq!(FORMATS[index].format, format);
            assert_eq!(format as usize, index);
            assert_eq!(ImageFormat::from_name(format.name()), Some(format));
            assert_eq!(ImageFormat::from_content_type(format.content_type()), Some(format));
        }
        assert_eq!(ImageFormat::Svg.content_type(), "image/svg+xml");
        assert_eq!(ImageFormat::Jpeg.name(), "jpeg");
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(ImageFormat::from_name("JPG"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::from_name("Tif"), Some(ImageFormat::Tiff));
        assert_eq!(ImageFormat::from_name("heic"), None);
        assert_eq!(ImageFormat::from_content_type("image/x-ms-bmp"), Some(ImageFormat::Bmp));
        assert_eq!(
            ImageFormat::from_content_type("image/svg+xml; charset=utf-8"),
            Some(ImageFormat::Svg)
        );
        for format in ImageFormat::ALL {
            assert_eq!(ImageFormat::from_name(format.name()), Some(format));
            assert_eq!(ImageFormat::from_content_type(format.content_type()), Some(format));
        }
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Sniffed::Known(ImageFormat::Png));
        assert_eq!(sniff(b"8BPS\0\x01"), Sniffed::Unsupported("psd"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), Sniffed::Unsupported("heic"));
        assert_eq!(
            sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"),
            Sniffed::Known(ImageFormat::Avif)
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<!-- x -->\n<!DOCTYPE svg [ <!ENTITY a \"b\"> ]>\n<svg xmlns=\"\"/>"),
            Sniffed::Known(ImageFormat::Svg)
        );
        assert_eq!(sniff(b"hello world"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
    }

    #[test]
    fn an_svg_root_after_a_long_prolog_is_still_an_svg() {
        let comment = format!("<!-- {} -->", "padding ".repeat(1100));
        let svg = format!("<?xml version=\"1.0\"?>\n{comment}\n<svg xmlns=\"\"/>");
        assert!(svg.len() > 8192);
        assert_eq!(sniff(svg.as_bytes()), Sniffed::Known(ImageFormat::Svg));
        assert_eq!(sniff(b"plain text <svg>"), Sniffed::Unknown);
    }
}
