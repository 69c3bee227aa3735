//! Address classification: whether an IP address is globally reachable, per the IANA IPv4
//! and IPv6 special-purpose address registries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// IPv4 blocks that are not globally reachable: the IANA IPv4 Special-Purpose Address Registry
/// plus multicast (its own registry), minus [`IPV4_GLOBAL_EXCEPTIONS`].
const IPV4_NOT_GLOBAL: &[Ipv4Net] = &[
    // "This network" (RFC 791), 0.0.0.0 included.
    Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8),
    // Private use (RFC 1918).
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    // Shared address space, carrier-grade NAT (RFC 6598).
    Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10),
    // Loopback (RFC 1122).
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8),
    // Link-local (RFC 3927); cloud metadata services live at 169.254.169.254.
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
    // Private use (RFC 1918).
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    // IETF protocol assignments (RFC 6890): DS-Lite, the dummy address, NAT64 discovery…
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 0), 24),
    // Documentation, TEST-NET-1 (RFC 5737).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 2, 0), 24),
    // Deprecated 6to4 relay anycast (RFC 7526); the 6a44 relay at .2 is refused with it, as
    // nothing an image fetch or webhook needs can sit there.
    Ipv4Net::new_assert(Ipv4Addr::new(192, 88, 99, 0), 24),
    // Private use (RFC 1918).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
    // Benchmarking (RFC 2544).
    Ipv4Net::new_assert(Ipv4Addr::new(198, 18, 0, 0), 15),
    // Documentation, TEST-NET-2 (RFC 5737).
    Ipv4Net::new_assert(Ipv4Addr::new(198, 51, 100, 0), 24),
    // Documentation, TEST-NET-3 (RFC 5737).
    Ipv4Net::new_assert(Ipv4Addr::new(203, 0, 113, 0), 24),
    // Multicast (RFC 5771).
    Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4),
    // Reserved (RFC 1112), the limited broadcast 255.255.255.255 included.
    Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// Addresses inside [`IPV4_NOT_GLOBAL`] that the registry marks globally reachable.
const IPV4_GLOBAL_EXCEPTIONS: &[Ipv4Net] = &[
    // Port Control Protocol anycast (RFC 7723).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 9), 32),
    // TURN anycast (RFC 8155).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 10), 32),
];

/// Global unicast space: the only IPv6 space IANA has allocated for the public Internet.
/// Everything outside it is reserved or special-purpose: the unspecified and loopback
/// addresses, discard-only 100::/64 and the dummy prefix 100:0:0:1::/64, local-use NAT64
/// 64:ff9b:1::/48, SRv6 SIDs 5f00::/16, unique-local fc00::/7, link-local fe80::/10,
/// site-local fec0::/10 and multicast ff00::/8.
const IPV6_GLOBAL_UNICAST: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Blocks inside global unicast space that are not globally reachable, per the IANA IPv6
/// Special-Purpose Address Registry, minus [`IPV6_GLOBAL_EXCEPTIONS`].
const IPV6_NOT_GLOBAL: &[Ipv6Net] = &[
    // IETF protocol assignments (RFC 2928): Teredo 2001::/32, benchmarking 2001:2::/48,
    // ORCHID 2001:10::/28, ORCHIDv2 2001:20::/28, DRIP entity tags 2001:30::/28. The registry
    // marks the last two globally reachable, but they hold cryptographic identifiers, not
    // locators (RFC 7343, RFC 9374), so no server is ever reached there: refused.
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    // Documentation (RFC 3849).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
    // Documentation (RFC 9637).
    Ipv6Net::new_assert(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
];

/// Addresses inside [`IPV6_NOT_GLOBAL`] that the registry marks globally reachable.
const IPV6_GLOBAL_EXCEPTIONS: &[Ipv6Net] = &[
    // Port Control Protocol anycast (RFC 7723).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 1), 128),
    // TURN anycast (RFC 8155).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 2), 128),
    // DNS-SD service registration protocol anycast (RFC 9665).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 3), 128),
    // Automatic multicast tunneling (RFC 7450).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32),
    // AS112-v6 (RFC 7535).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48),
];

/// Whether packets to `ip` can reach a host on the public Internet, per the IANA IPv4 and
/// IPv6 special-purpose address registries; IPv6 forms that carry an IPv4 address are
/// judged by that address.
pub fn is_globally_reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ipv4_is_globally_reachable(ip),
        IpAddr::V6(ip) => match embedded_ipv4(ip) {
            Some(ipv4) => ipv4_is_globally_reachable(ipv4),
            None => {
                IPV6_GLOBAL_UNICAST.contains(&ip)
                    && (IPV6_GLOBAL_EXCEPTIONS.iter().any(|net| net.contains(&ip))
                        || !IPV6_NOT_GLOBAL.iter().any(|net| net.contains(&ip)))
            }
        },
    }
}

fn ipv4_is_globally_reachable(ip: Ipv4Addr) -> bool {
    IPV4_GLOBAL_EXCEPTIONS.iter().any(|net| net.contains(&ip))
        || !IPV4_NOT_GLOBAL.iter().any(|net| net.contains(&ip))
}

/// The IPv4 address inside an IPv6 address whose packets end up at that IPv4 address:
/// IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, deprecated but still routed by some
/// stacks; `::` and `::1` fall here too and come out as 0.0.0.0 and 0.0.0.1, both refused),
/// NAT64 well-known prefix (64:ff9b::/96) and 6to4 (2002::/16, the IPv4 in bits 16 to 48).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = ip.segments();
    let low32 = Ipv4Addr::from_bits(ip.to_bits() as u32);
    match segments {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(low32),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low32),
        [0x2002, high, low, ..] => {
            Some(Ipv4Addr::from_bits(u32::from(high) << 16 | u32::from(low)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_registry_blocks_and_their_edges() {
        let refused = [
            "0.0.0.0",
            "0.255.255.255",
            "10.0.0.0",
            "10.255.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.0.0",
            "169.254.169.254",
            "169.254.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "192.0.0.0",
            "192.0.0.8",
            "192.0.0.11",
            "192.0.0.170",
            "192.0.0.171",
            "192.0.0.255",
            "192.0.2.0",
            "192.0.2.255",
            "192.88.99.0",
            "192.88.99.2",
            "192.88.99.255",
            "192.168.0.0",
            "192.168.255.255",
            "198.18.0.0",
            "198.19.255.255",
            "198.51.100.0",
            "198.51.100.255",
            "203.0.113.0",
            "203.0.113.255",
            "224.0.0.0",
            "239.255.255.255",
            "240.0.0.0",
            "255.255.255.254",
            "255.255.255.255",
        ];
        for address in refused {
            assert!(!is_globally_reachable(ip(address)), "{address} should be refused");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "191.255.255.255",
            "192.0.0.9",
            "192.0.0.10",
            "192.0.1.0",
            "192.0.3.0",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.98.255",
            "192.88.100.0",
            "192.167.255.255",
            "192.169.0.0",
            "192.175.48.1",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "223.255.255.255",
        ];
        for address in allowed {
            assert!(is_globally_reachable(ip(address)), "{address} should be allowed");
        }
    }

    #[test]
    fn ipv6_registry_blocks_and_their_edges() {
        let refused = [
            "::",
            "::1",
            "100::",
            "100::ffff:ffff:ffff:ffff",
            "100:0:0:1::1",
            "64:ff9b:1::",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
            "2001::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:1::4",
            "2001:2::",
            "2001:2:0:ffff::1",
            "2001:10::1",
            "2001:20::1",
            "2001:30::1",
            "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            "3fff::",
            "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
            "5f00::1",
            "fc00::",
            "fd00:ec2::254",
            "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fe80::",
            "fe80::1",
            "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fec0::1",
            "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "ff00::",
            "ff02::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "4000::1",
            "::ffff:0:7f00:1",
        ];
        for address in refused {
            assert!(!is_globally_reachable(ip(address)), "{address} should be refused");
        }
        let allowed = [
            "2000::",
            "2001:1::1",
            "2001:1::2",
            "2001:1::3",
            "2001:3::1",
            "2001:4:112::1",
            "2001:200::",
            "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db9::",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2620:4f:8000::1",
            "3fff:1000::",
        ];
        for address in allowed {
            assert!(is_globally_reachable(ip(address)), "{address} should be allowed");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_are_judged_by_their_ipv4() {
        let refused = [
            // IPv4-mapped.
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            // IPv4-compatible.
            "::127.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            // NAT64 well-known prefix.
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::192.168.1.1",
            // 6to4.
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101:1::1",
            "2002::",
        ];
        for address in refused {
            assert!(!is_globally_reachable(ip(address)), "{address} should be refused");
        }
        for address in ["::ffff:8.8.8.8", "::8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"] {
            assert!(is_globally_reachable(ip(address)), "{address} should be allowed");
        }
    }
}
