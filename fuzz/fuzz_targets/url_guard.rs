//! The URL guard: syntax checks never panic, and a literal address passes only when it is
//! globally reachable or named by the allow-list (with an empty list: only when it is
//! globally reachable).
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use progimage_core::net::{UrlPolicy, is_globally_reachable};
use url::Host;

fuzz_target!(|text: &str| {
    let (allow, url) = text.split_once('\n').unwrap_or(("", text));
    let Ok(policy) = allow.parse::<UrlPolicy>() else { return };
    let Ok(url) = url::Url::parse(url) else { return };
    if let Ok(None) = policy.check_url_syntax(&url) {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            other => panic!("passed as a literal address without one: {other:?}"),
        };
        assert!(policy.allows_address(ip));
        if allow.trim().is_empty() {
            assert!(is_globally_reachable(ip), "{ip} passed with no allow-list");
        }
    }
});
