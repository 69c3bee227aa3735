//! Per-pixel colour steps: grayscale, brightness, contrast. Alpha is never touched.

use super::super::raster::Raster;

/// Replaces colour by its luma, with the Rec. 601 weights (0.299 R + 0.587 G + 0.114 B on the
/// sRGB-encoded values, as JPEG's Y channel): a grayscale JPEG of the result keeps exactly
/// these values. In 8.8 fixed point the weights are 77, 150 and 29, which sum to 256 so white
/// stays 255 and greys stay themselves.
pub(super) fn grayscale(mut raster: Raster) -> Raster {
    for pixel in raster.pixels.as_chunks_mut::<4>().0 {
        // At most 256 · 255 + 128: 16-bit lanes suffice, which SSE2 multiplies eight at a time.
        let [r, g, b, _] = pixel.map(u16::from);
        let luma = ((77 * r + 150 * g + 29 * b + 128) >> 8) as u8;
        pixel[..3].fill(luma);
    }
    raster
}

/// Scales colour by `1 + amount / 100`: -100 is black, 100 doubles.
pub(super) fn brightness(raster: Raster, amount: f32) -> Raster {
    let factor = 1.0 + amount / 100.0;
    apply_table(raster, |value| value * factor)
}

/// Scales the distance from mid-grey (127.5, so black and white move symmetrically) by
/// `1 + amount / 100`: -100 is flat grey, 100 doubles the contrast.
pub(super) fn contrast(raster: Raster, amount: f32) -> Raster {
    let factor = 1.0 + amount / 100.0;
    apply_table(raster, |value| (value - 127.5) * factor + 127.5)
}

/// Maps R, G and B through a 256-entry table built from `curve`: one load per channel.
fn apply_table(mut raster: Raster, curve: impl Fn(f32) -> f32) -> Raster {
    let table: [u8; 256] =
        std::array::from_fn(|value| (curve(value as f32) + 0.5).clamp(0.0, 255.0) as u8);
    if table.iter().enumerate().all(|(value, &mapped)| usize::from(mapped) == value) {
        return raster;
    }
    for pixel in raster.pixels.as_chunks_mut::<4>().0 {
        for channel in &mut pixel[..3] {
            *channel = table[usize::from(*channel)];
        }
    }
    raster
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(rgba: [u8; 4]) -> Raster {
        Raster::from_rgba(1, 1, rgba.to_vec())
    }

    #[test]
    fn grayscale_uses_rec601_luma_and_keeps_alpha() {
        assert_eq!(grayscale(one([255, 0, 0, 10])).pixels, [77, 77, 77, 10]);
        assert_eq!(grayscale(one([0, 255, 0, 255])).pixels, [149, 149, 149, 255]);
        assert_eq!(grayscale(one([0, 0, 255, 255])).pixels, [29, 29, 29, 255]);
        assert_eq!(grayscale(one([255, 255, 255, 255])).pixels, [255, 255, 255, 255]);
        assert_eq!(grayscale(one([93, 93, 93, 7])).pixels, [93, 93, 93, 7]);
    }

    #[test]
    fn brightness_scales() {
        assert_eq!(brightness(one([100, 200, 0, 50]), 50.0).pixels, [150, 255, 0, 50]);
        assert_eq!(brightness(one([100, 201, 3, 50]), -50.0).pixels, [50, 101, 2, 50]);
        assert_eq!(brightness(one([100, 200, 3, 50]), -100.0).pixels, [0, 0, 0, 50]);
        assert_eq!(brightness(one([100, 200, 3, 50]), 0.0).pixels, [100, 200, 3, 50]);
    }

    #[test]
    fn contrast_pivots_on_mid_grey() {
        assert_eq!(contrast(one([0, 255, 100, 9]), -100.0).pixels, [128, 128, 128, 9]);
        assert_eq!(contrast(one([0, 255, 100, 9]), 100.0).pixels, [0, 255, 73, 9]);
        assert_eq!(contrast(one([100, 155, 128, 9]), 50.0).pixels, [86, 169, 128, 9]);
    }
}
