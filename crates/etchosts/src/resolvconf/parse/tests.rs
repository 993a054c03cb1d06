//! Tests of the regex emulation, with expected values worked out from the Go patterns.

use super::*;

fn strs(v: Vec<Vec<u8>>) -> Vec<String> {
    v.into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

#[test]
fn nameserver_lines_follow_the_go_pattern() {
    let content = b"nameserver 1.1.1.1\n  nameserver\t10.0.0.1 \r\nnameserver8.8.8.8\nnameserver 256.1.1.1\nnameserver 1.2.3.4 5.6.7.8\nnameserver fe80::1%eth0 # c\nnameserver ::ffff:1.2.3.4\nnameserver 1:2:3:4:5:6:7:8:9\n#nameserver 9.9.9.9\nnameserver 010.001.0.1\n";
    assert_eq!(
        strs(nameservers(content)),
        [
            "1.1.1.1",
            "10.0.0.1",
            "8.8.8.8",
            "fe80::1%eth0",
            "010.001.0.1"
        ]
    );
}

#[test]
fn localhost_servers_are_removed() {
    let got = remove_all(
        b"nameserver 127.0.0.1\nnameserver 1.1.1.1\nnameserver ::1\nnameserver 127.1.2.3\n\n\nsearch x\n",
        match_localhost,
    );
    assert_eq!(got, b"nameserver 1.1.1.1\nsearch x\n");
    // `::1` must end the line; 127.x need not, and only three digits go.
    let got = remove_all(
        b"nameserver ::1 \nnameserver 127.0.0.1234\n",
        match_localhost,
    );
    assert_eq!(got, b"nameserver ::1 \n4\n");
    // ^ needs a line start: indented lines stay.
    let got = remove_all(b" nameserver 127.0.0.1\n", match_localhost);
    assert_eq!(got, b" nameserver 127.0.0.1\n");
}

#[test]
fn ipv6_servers_are_removed_when_ipv6_is_off() {
    let got = remove_all(
        b"nameserver fd00::1\nnameserver 1.1.1.1\nnameserver fe80::1%eth0\nnameserver ::ffff:1.2.3.4\n",
        match_ipv6,
    );
    assert_eq!(got, b"nameserver 1.1.1.1\n.2.3.4\n");
}

#[test]
fn zoned_ipv6_servers_are_removed_when_ipv6_is_on() {
    let got = remove_all(
        b"nameserver fd00::1\nnameserver fe80::1%eth0 trailing\nnameserver fe80::2%\nnameserver 1.1.1.1\n",
        match_ipv6_zone,
    );
    assert_eq!(got, b"nameserver fd00::1\nnameserver 1.1.1.1\n");
}

#[test]
fn fallback_is_appended_when_nothing_is_left() {
    let fb = ["8.8.8.8".to_string(), "8.8.4.4".to_string()];
    let got = filter_private(b"search a\nnameserver 127.0.0.53\n", false, &fb);
    assert_eq!(got, b"search a\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4");
    let got = filter_private(b"nameserver 10.0.0.1\n", false, &fb);
    assert_eq!(got, b"nameserver 10.0.0.1\n");
}

#[test]
fn search_and_options_follow_go_rules_plus_kept_extras() {
    let content = b"search a b\noptions ndots:2\nsearch c  d # x\ndomain example.org\noptions edns0 rotate\nsortlist 10.0.0.0/255.0.0.0 1.2.3.4\n";
    assert_eq!(strs(searches(content)), ["c", "d"]);
    assert_eq!(strs(options(content)), ["ndots:2", "edns0", "rotate"]);
    assert_eq!(domain(content).as_deref(), Some(&b"example.org"[..]));
    assert_eq!(strs(sortlist(content)), ["10.0.0.0/255.0.0.0", "1.2.3.4"]);
    // An empty search line clears earlier ones, as in Go.
    assert!(searches(b"search a\nsearch\n").is_empty());
}

#[test]
fn build_orders_lines_and_skips_dot_search_and_blank_options() {
    let r = Resolv {
        domain: Some(b"d".to_vec()),
        searches: vec![b".".to_vec()],
        nameservers: vec![b"1.1.1.1".to_vec(), b"fd00::1".to_vec()],
        sortlist: vec![b"1.2.3.4".to_vec()],
        options: vec![b"edns0".to_vec()],
    };
    assert_eq!(
        r.build(),
        b"domain d\nnameserver 1.1.1.1\nnameserver fd00::1\nsortlist 1.2.3.4\noptions edns0\n"
    );
    assert_eq!(Resolv::default().build(), b"");
}
