//! The query-string grammar: any pairs parse or fail with a parameter-naming error, and a
//! parsed transform's cache key is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use progimage_engine::format::ImageFormat;
use progimage_engine::spec::Transform;

fuzz_target!(|query: &str| {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match Transform::from_query(&pairs) {
        Ok(transform) => {
            let key = transform.cache_key(ImageFormat::Png);
            assert_eq!(key, transform.cache_key(ImageFormat::Png));
        }
        Err(error) => assert!(!error.message.is_empty()),
    }
});
