//! Transformation families: the unit a deployment scales workers by.

use serde::{Deserialize, Serialize};

use crate::format::ImageFormat;

/// A family of transformations, each with its own queue: `raster` (resize, filters,
/// raster conversions) and `vector` (SVG rasterising and raster-to-SVG tracing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Raster,
    Vector,
}

impl Family {
    /// Every family.
    pub(crate) const ALL: [Family; 2] = [Family::Raster, Family::Vector];

    /// The family's name, also its routing key.
    pub fn name(self) -> &'static str {
        match self {
            Family::Raster => "raster",
            Family::Vector => "vector",
        }
    }

    /// Parses a family name.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|family| family.name() == name)
    }

    /// The family of work that reads `source` and writes `output`: SVG on either side is
    /// vector work.
    pub fn of(source: Option<ImageFormat>, output: Option<ImageFormat>) -> Family {
        if source == Some(ImageFormat::Svg) || output == Some(ImageFormat::Svg) {
            Family::Vector
        } else {
            Family::Raster
        }
    }
}
