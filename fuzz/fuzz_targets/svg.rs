//! The SVG sanitise-and-render path: probe (parse with every bound), render at a small
//! size and sanitise. The sandbox child runs in-process here (`run_sandboxed`), so a panic,
//! a stack overflow or a runaway allocation is found, not contained.
#![no_main]

use libfuzzer_sys::fuzz_target;
use progimage_engine::imaging;
use progimage_engine::limits::Limits;
use progimage_engine::sandbox::{Reply, Task};

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits { max_pixels: 1_000_000, max_side: 1024, ..Limits::default() };
    if let Ok(Reply::Size { width, height }) = imaging::run_sandboxed(Task::SvgSize, bytes, &limits)
    {
        assert!(width > 0 && height > 0);
        let (width, height) = (width.min(64), height.min(64));
        let _ = imaging::run_sandboxed(Task::SvgRender { width, height }, bytes, &limits);
        if let Ok(Reply::Bytes(clean)) = imaging::run_sandboxed(Task::SvgSanitize, bytes, &limits) {
            // The sanitised document parses again.
            imaging::run_sandboxed(Task::SvgSize, &clean, &limits).expect("a sanitised SVG parses");
        }
    }
});
