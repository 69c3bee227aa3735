//! The upload check and decode of every raster input format: `verify` (header, structure,
//! full decode) and a shrink-on-load resize must return, never panic, abort or allocate
//! past the limits. The fuzzer's RSS limit (`-rss_limit_mb`) holds the memory bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use progimage_engine::imaging;
use progimage_engine::limits::Limits;
use progimage_engine::spec::Transform;

fuzz_target!(
    init: {
        // AVIF decodes in sandbox children, as in the service: this binary, re-executed.
        progimage_engine::sandbox::child_main_if_requested();
        progimage_engine::sandbox::use_current_exe().expect("the fuzz binary's path");
    },
    |bytes: &[u8]| {
        // Small limits keep each run fast; the logic judged is the same at any size.
        let limits = Limits { max_pixels: 4_000_000, max_side: 4096, ..Limits::default() };
        if let Ok(info) = imaging::verify(bytes, &limits) {
            assert!(info.width > 0 && info.height > 0);
            assert!(u64::from(info.width) * u64::from(info.height) <= limits.max_pixels);
            let pairs = vec![("w".to_string(), "17".to_string())];
            let transform = Transform::from_query(&pairs).expect("a valid query");
            // An accepted image must stay processable.
            imaging::process(bytes, &transform, &Default::default(), &limits)
                .expect("an image that passed verify must be processable");
        }
    }
);
