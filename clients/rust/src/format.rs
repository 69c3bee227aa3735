//! Image formats: the `format` values, path extensions and content types of API.md
//! "Formats".

use std::fmt;

use serde::{Deserialize, Serialize};

/// An image format the service takes and offers.
///
/// ```
/// use progimage_client::Format;
/// assert_eq!(Format::from_name("JPG"), Some(Format::Jpeg));
/// assert_eq!(Format::Webp.content_type(), "image/webp");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JPEG (`jpeg`, alias `jpg`).
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF (first frame on output).
    Gif,
    /// AVIF.
    Avif,
    /// TIFF (`tiff`, alias `tif`).
    Tiff,
    /// BMP.
    Bmp,
    /// SVG (rendered on input, traced or embedded on output).
    Svg,
}

impl Format {
    /// Every format.
    ///
    /// ```
    /// assert_eq!(progimage_client::Format::ALL.len(), 8);
    /// ```
    pub const ALL: [Format; 8] = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Gif,
        Format::Avif,
        Format::Tiff,
        Format::Bmp,
        Format::Svg,
    ];

    /// The canonical name, also the path extension used for variants.
    ///
    /// ```
    /// assert_eq!(progimage_client::Format::Tiff.name(), "tiff");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
            Format::Avif => "avif",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Svg => "svg",
        }
    }

    /// The format called `name` (or an alias, `jpg`, `tif`), case-insensitively.
    ///
    /// ```
    /// use progimage_client::Format;
    /// assert_eq!(Format::from_name("tif"), Some(Format::Tiff));
    /// assert_eq!(Format::from_name("psd"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "jpg" => Some(Format::Jpeg),
            "tif" => Some(Format::Tiff),
            name => Format::ALL.into_iter().find(|format| format.name() == name),
        }
    }

    /// The format a file name's extension names, if any.
    ///
    /// ```
    /// use progimage_client::Format;
    /// assert_eq!(Format::from_path("holiday/Beach.JPG"), Some(Format::Jpeg));
    /// assert_eq!(Format::from_path("notes.txt"), None);
    /// ```
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Option<Format> {
        path.as_ref()
            .extension()
            .and_then(|extension| extension.to_str())
            .and_then(Format::from_name)
    }

    /// The content type the service sends and takes for this format.
    ///
    /// ```
    /// assert_eq!(progimage_client::Format::Svg.content_type(), "image/svg+xml");
    /// ```
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Avif => "image/avif",
            Format::Tiff => "image/tiff",
            Format::Bmp => "image/bmp",
            Format::Svg => "image/svg+xml",
        }
    }
}

/// The canonical name.
///
/// ```
/// assert_eq!(progimage_client::Format::Avif.to_string(), "avif");
/// ```
impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a name or alias, case-insensitively.
///
/// ```
/// let format: progimage_client::Format = "WEBP".parse()?;
/// assert_eq!(format, progimage_client::Format::Webp);
/// # Ok::<(), progimage_client::Error>(())
/// ```
impl std::str::FromStr for Format {
    type Err = crate::Error;

    fn from_str(text: &str) -> Result<Format, crate::Error> {
        Format::from_name(text).ok_or_else(|| {
            crate::Error::InvalidInput(format!(
                "unknown format {text:?} (formats: jpeg, png, webp, gif, avif, tiff, bmp, svg)"
            ))
        })
    }
}
