//! Job submission bodies: any JSON object parses to a submission or a parameter error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(serde_json::Value::Object(body)) = serde_json::from_slice(bytes) else { return };
    if let Err(error) = progimage_core::jobs::parse_submission(&body) {
        assert!(!error.message.is_empty());
    }
});
