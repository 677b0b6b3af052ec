//! The reverse proxies whose `X-Forwarded-For` the server believes, and how it finds the client's
//! address behind them.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed (`LATCHKEY_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` is inside one of the networks. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`)
    /// is its IPv4 address, as a dual-stack socket reports IPv4 peers.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client's IP for a connection from `peer` carrying these `X-Forwarded-For` header values
    /// (in order, each a comma-separated list). Only a trusted peer's header is read: from its right
    /// end, the first entry that is not itself a trusted proxy is the client, since everything left
    /// of it came from the client and may be forged. An entry that is not an address stops the walk
    /// at the last hop known.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        for entry in forwarded_for.iter().flat_map(|value| value.split(',')).rev() {
            let Some(ip) = forwarded_address(entry) else { break };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (`1.2.3.4:80`, `[::1]:80`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))?;
    Some(ip.to_canonical())
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated CIDRs; blanks around and between them are ignored.
    fn from_str(text: &str) -> Result<Self, String> {
        let cidrs = text.split(',').map(str::trim).filter(|part| !part.is_empty()).map(parse_network);
        cidrs.collect::<Result<Vec<_>, _>>().map(Self)
    }
}

/// A network: `address/prefix`, or a bare address for one host. Host bits must be zero:
/// `10.0.0.1/8` is refused rather than silently read as `10.0.0.0/8`, since it is more likely a typo.
fn parse_network(text: &str) -> Result<IpNet, String> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address.parse().map_err(|_| format!("`{text}` is not an IP address or a CIDR"))?;
    let network = match prefix {
        None => IpNet::from(address),
        Some(digits) => digits
            .parse::<u8>()
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|prefix| IpNet::new(address, prefix).ok())
            .ok_or_else(|| {
                let max = IpNet::from(address).max_prefix_len();
                format!("`{text}`: the prefix length must be a number from 0 to {max}")
            })?,
    };
    if network.trunc() != network {
        return Err(format!("`{text}` has host bits set; the network is `{}`", network.trunc()));
    }
    Ok(network)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(text: &str) -> TrustedProxies {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn cidrs_parse_and_match() {
        let trusted = proxies(" 10.0.0.0/8 , 192.168.1.7,fd00::/8, 0.0.0.0/32 ,");
        for inside in ["10.0.0.0", "10.255.255.255", "192.168.1.7", "fd12::1", "::ffff:10.1.2.3", "0.0.0.0"] {
            assert!(trusted.contains(ip(inside)), "{inside}");
        }
        for outside in ["11.0.0.0", "9.255.255.255", "192.168.1.8", "fe00::1", "::a00:1", "::1"] {
            assert!(!trusted.contains(ip(outside)), "{outside}");
        }
        assert_eq!(proxies(""), TrustedProxies::default());
        assert_eq!(proxies(" , "), TrustedProxies::default());
        let everything = proxies("0.0.0.0/0,::/0");
        assert!(everything.contains(ip("203.0.113.9")) && everything.contains(ip("2001:db8::1")));
        assert!(proxies("::1").contains(ip("::1")) && !proxies("::1/128").contains(ip("127.0.0.1")));
        assert!(proxies("2001:db8::/127").contains(ip("2001:db8::1")));
    }

    #[test]
    fn bad_cidrs_are_refused_with_a_reason() {
        let error = |text: &str| text.parse::<TrustedProxies>().err().unwrap_or_else(|| panic!("{text} parsed"));
        assert_eq!(error("10.0.0.1/8"), "`10.0.0.1/8` has host bits set; the network is `10.0.0.0/8`");
        assert_eq!(error("fd00::1/8"), "`fd00::1/8` has host bits set; the network is `fd00::/8`");
        assert_eq!(error("10.0.0.0/33"), "`10.0.0.0/33`: the prefix length must be a number from 0 to 32");
        assert_eq!(error("::/129"), "`::/129`: the prefix length must be a number from 0 to 128");
        for bad in ["10.0.0.0/+8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8"] {
            assert!(error(bad).contains("prefix length"), "{bad}");
        }
        for bad in ["10.0.0/8", "example.com", "[::1]/128", "10.0.0.0 /8", "fe80::1%eth0"] {
            assert!(error(bad).contains("not an IP address"), "{bad}");
        }
        assert!(error("10.0.0.0/8,nope").contains("`nope`"));
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_forwarded_address() {
        let trusted = proxies("10.0.0.0/8,fd00::/8");
        let client = |peer: &str, forwarded: &[&str]| trusted.client_ip(ip(peer), forwarded).to_string();
        // An untrusted peer's header is ignored.
        assert_eq!(client("203.0.113.5", &["198.51.100.1"]), "203.0.113.5");
        assert_eq!(client("::ffff:203.0.113.5", &["198.51.100.1"]), "203.0.113.5");
        // A trusted peer: proxies are skipped from the right, forged entries on the left ignored.
        assert_eq!(client("10.0.0.2", &["1.1.1.1", "198.51.100.1", "10.0.0.9"]), "198.51.100.1");
        assert_eq!(client("10.0.0.2", &["1.1.1.1, 198.51.100.1", " 10.0.0.9 "]), "198.51.100.1");
        assert_eq!(client("10.0.0.2", &["1.1.1.1,198.51.100.1,10.0.0.9"]), "198.51.100.1");
        assert_eq!(client("fd00::2", &["2001:db8::7", "fd00::3"]), "2001:db8::7");
        assert_eq!(client("10.0.0.2", &["[2001:db8::7]:443"]), "2001:db8::7");
        assert_eq!(client("10.0.0.2", &["198.51.100.1:5555"]), "198.51.100.1");
        // No header, or only proxies: the hop nearest the client that is known.
        assert_eq!(client("10.0.0.2", &[]), "10.0.0.2");
        assert_eq!(client("10.0.0.2", &["10.0.0.5", "10.0.0.9"]), "10.0.0.5");
        // Garbage stops the walk: the forger cannot push a chosen address past it.
        assert_eq!(client("10.0.0.2", &["198.51.100.1", "unknown"]), "10.0.0.2");
        assert_eq!(client("10.0.0.2", &["198.51.100.1", "", "10.0.0.9"]), "10.0.0.9");
        assert_eq!(TrustedProxies::default().client_ip(ip("10.0.0.2"), &["1.1.1.1"]).to_string(), "10.0.0.2");
    }
}
