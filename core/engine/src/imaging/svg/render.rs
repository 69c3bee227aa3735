//! Rasterising a parsed document with resvg, after judging what its filters would cost.

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

use super::ImagingError;
use crate::imaging::raster::Raster;

/// Most filter work a render may cost: region pixels times per-pixel work (about six
/// seconds of one core).
const MAX_FILTER_COST: f64 = 1e10;

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
    check_filter_cost(tree, width, height)?;
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

/// Refuses a render whose filters would cost more than [`MAX_FILTER_COST`]: each filter
/// primitive's region in output pixels (at most resvg's filter layer) times its work per pixel.
pub(super) fn check_filter_cost(
    tree: &usvg::Tree,
    width: u32,
    height: u32,
) -> Result<(), ImagingError> {
    let size = tree.size();
    let scale = Transform::from_scale(width as f32 / size.width(), height as f32 / size.height());
    // resvg renders a filtered group into a layer of up to 5× the canvas each way (2× on
    // each side, for what a filter pulls in from outside), not into the canvas alone.
    let layer = (5.0 * f64::from(width), 5.0 * f64::from(height));
    let cost = group_filter_cost(tree.root(), scale, layer);
    if cost > MAX_FILTER_COST {
        return Err(ImagingError::TooLarge(format!(
            "the svg image's filters cost about {cost:.1e} pixel operations at {width}x{height}, \
             over the limit of {MAX_FILTER_COST:.0e}"
        )));
    }
    Ok(())
}

fn group_filter_cost(group: &usvg::Group, scale: Transform, layer: (f64, f64)) -> f64 {
    let transform = scale.pre_concat(group.abs_transform());
    let (sx, sy) = transform.get_scale();
    let (sx, sy) = (f64::from(sx), f64::from(sy));
    let mut cost = 0.0;
    for filter in group.filters() {
        for primitive in filter.primitives() {
            let rect = primitive.rect();
            let w = (f64::from(rect.width()) * sx).min(layer.0);
            let h = (f64::from(rect.height()) * sy).min(layer.1);
            cost += w * h * per_pixel_cost(primitive.kind(), sx, sy, w, h);
        }
    }
    let mut visit = |child: &usvg::Group| cost += group_filter_cost(child, scale, layer);
    for node in group.children() {
        if let usvg::Node::Group(child) = node {
            visit(child);
        }
        node.subroots(&mut visit);
    }
    cost
}

/// Work per region pixel, in units of a simple per-pixel pass.
fn per_pixel_cost(kind: &usvg::filter::Kind, sx: f64, sy: f64, w: f64, h: f64) -> f64 {
    use usvg::filter::Kind;
    match kind {
        // Naive erosion and dilation visit the whole (2r+1)² window.
        Kind::Morphology(m) => {
            let rx = (f64::from(m.radius_x().get()) * sx).min(w);
            let ry = (f64::from(m.radius_y().get()) * sy).min(h);
            (2.0 * rx + 1.0) * (2.0 * ry + 1.0)
        }
        Kind::ConvolveMatrix(c) => f64::from(c.matrix().columns()) * f64::from(c.matrix().rows()),
        Kind::Turbulence(t) => 40.0 * f64::from(t.num_octaves().max(1)),
        Kind::DiffuseLighting(_) | Kind::SpecularLighting(_) => 30.0,
        Kind::GaussianBlur(_) | Kind::DropShadow(_) => 12.0,
        _ => 4.0,
    }
}
