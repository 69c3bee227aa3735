//! The JSON operations grammar: a parsed pipeline's JSON form parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use progimage_engine::spec::Pipeline;

fuzz_target!(|bytes: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return };
    if let Ok(pipeline) = Pipeline::from_json(&value, "operations") {
        let again = Pipeline::from_json(&pipeline.to_json(), "operations")
            .expect("a pipeline's own JSON parses");
        assert_eq!(again.canonical(), pipeline.canonical());
    }
});
