//! The `ops` text grammar: a parsed pipeline's canonical text parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use progimage_engine::spec::Pipeline;

fuzz_target!(|text: &str| {
    if let Ok(pipeline) = Pipeline::from_ops_text(text) {
        let canonical = pipeline.canonical();
        let again = Pipeline::from_ops_text(&canonical).expect("canonical text parses");
        assert_eq!(again.canonical(), canonical);
    }
});
