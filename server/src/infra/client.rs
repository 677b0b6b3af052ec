//! Who is calling: the client's IP address and user agent, as sessions and the audit log record them.

use std::net::IpAddr;

use ipnet::Ipv6Net;

/// Stored user agents are cut to this many characters.
pub(crate) const MAX_USER_AGENT_CHARS: usize = 256;

/// Who is calling, as a session records it: the client's IP address (empty when the router runs
/// without a socket, as in tests) and the `User-Agent`, cut to 256 characters.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The socket's peer address or, when that is a trusted proxy (`LATCHKEY_TRUSTED_PROXIES`),
    /// the address its `X-Forwarded-For` names.
    pub ip: String,
    /// What limits, lockouts and the hashing gate count the client by: an IPv4 address itself, an
    /// IPv6 address's network of `LATCHKEY_IPV6_PREFIX` bits (`2001:db8:1:2::/64`), since one host
    /// can take any address of its /64. Empty when `ip` is.
    pub network: String,
    /// The `User-Agent` header.
    pub user_agent: String,
}

/// The key an address is counted by: IPv4 as it is, IPv6 as its network of `ipv6_prefix` bits.
pub fn network_of(ip: IpAddr, ipv6_prefix: u8) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => Ipv6Net::new(v6, ipv6_prefix.min(128)).map(|net| net.trunc().to_string()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::network_of;

    #[test]
    fn ipv6_clients_are_counted_by_their_network() {
        let ip = |text: &str| text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(network_of(ip("203.0.113.7"), 64), "203.0.113.7");
        assert_eq!(network_of(ip("::ffff:203.0.113.7"), 64), "203.0.113.7");
        assert_eq!(network_of(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 64), "2001:db8:1:2::/64");
        assert_eq!(network_of(ip("2001:db8:1:2::1"), 64), network_of(ip("2001:db8:1:2:ffff::9"), 64));
        assert_ne!(network_of(ip("2001:db8:1:2::1"), 64), network_of(ip("2001:db8:1:3::1"), 64));
        assert_eq!(network_of(ip("2001:db8:1:2::1"), 48), "2001:db8:1::/48");
        assert_eq!(network_of(ip("2001:db8::1"), 128), "2001:db8::1/128");
    }
}
