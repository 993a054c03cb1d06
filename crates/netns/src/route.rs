//! A `NETLINK_ROUTE` socket opened inside a namespace and used from any thread: the
//! rtnetlink-style handle of a namespace, with a link listing to show what it sees.
//!
//! A netlink socket answers for the network namespace it was created in, whichever thread
//! or namespace later uses it. So the socket is made on [`NetNs::run_in`]'s throwaway
//! thread and handed back; the caller's threads never change namespace.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{
    recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

use crate::{Error, NetNs};

// <linux/netlink.h> and <linux/rtnetlink.h>
const NLMSG_HDR_LEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const IFLA_IFNAME: u16 = 3;
/// The sequence number of our dump request; replies carry it back.
const DUMP_SEQ: u32 = 1;

/// A `NETLINK_ROUTE` socket bound to one network namespace (see [`NetNs::route_socket`]).
///
/// It is an ordinary fd: `OwnedFd::from(socket)` hands it to an async netlink library or
/// to `tokio::io::unix::AsyncFd`, and it keeps talking to the namespace it was opened in.
#[derive(Debug)]
pub struct RouteSocket {
    fd: OwnedFd,
    netns: PathBuf,
}

/// A network interface as the kernel lists it (`RTM_NEWLINK`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// The interface index (`ip link` shows it first).
    pub index: u32,
    /// The interface name (`IFLA_IFNAME`).
    pub name: String,
}

impl NetNs {
    /// Opens a `NETLINK_ROUTE` socket inside this namespace and returns it: every request
    /// on it (links, addresses, routes) is answered for this namespace, from any thread.
    ///
    /// Equivalent: the socket `ip -n NAME ...` opens after entering the namespace.
    pub fn route_socket(&self) -> Result<RouteSocket, Error> {
        let fd = self.run_in(|| {
            socket(
                AddressFamily::Netlink,
                SockType::Raw,
                SockFlag::SOCK_CLOEXEC,
                SockProtocol::NetlinkRoute,
            )
        })?;
        let fd = fd.map_err(|source| Error::RouteSocket {
            path: self.path().to_path_buf(),
            source,
        })?;
        Ok(RouteSocket {
            fd,
            netns: self.path().to_path_buf(),
        })
    }
}

impl RouteSocket {
    /// The namespace the socket was opened in (its path).
    pub fn netns(&self) -> &Path {
        &self.netns
    }

    /// Lists the namespace's network interfaces (an `RTM_GETLINK` dump), blocking.
    ///
    /// Equivalent: `ip -n NAME link show`.
    pub fn links(&self) -> Result<Vec<Link>, Error> {
        let failed = |op, source| Error::Netlink {
            path: self.netns.clone(),
            op,
            source,
        };
        let fd = self.fd.as_raw_fd();
        sendto(
            fd,
            &dump_links_request(),
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .map_err(|e| failed("send RTM_GETLINK", e))?;
        let mut links = Vec::new();
        // a dump reply is at most a few pages per datagram
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = recv(fd, &mut buf, MsgFlags::empty()).map_err(|e| failed("receive", e))?;
            match parse_datagram(&buf[..n], &mut links) {
                Ok(Reply::More) => {}
                Ok(Reply::Done) => return Ok(links),
                Err(Problem::Kernel(errno)) => return Err(failed("RTM_GETLINK dump", errno)),
                Err(Problem::Malformed(reason)) => {
                    return Err(Error::NetlinkReply {
                        path: self.netns.clone(),
                        reason,
                    })
                }
            }
        }
    }
}

impl AsFd for RouteSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl From<RouteSocket> for OwnedFd {
    fn from(socket: RouteSocket) -> OwnedFd {
        socket.fd
    }
}

/// `nlmsghdr` + `ifinfomsg` asking for every link.
fn dump_links_request() -> Vec<u8> {
    let len = (NLMSG_HDR_LEN + IFINFOMSG_LEN) as u32;
    let mut msg = Vec::with_capacity(len as usize);
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(&RTM_GETLINK.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg.extend_from_slice(&DUMP_SEQ.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills ours in
    msg.resize(len as usize, 0); // ifinfomsg: any family, any interface
    msg
}

/// Whether a dump goes on after a datagram.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    More,
    Done,
}

/// Why a datagram ends the dump with an error.
#[derive(Debug, PartialEq, Eq)]
enum Problem {
    Kernel(Errno),
    Malformed(&'static str),
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// Netlink messages and attributes start on 4-byte boundaries.
fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Appends the links of one datagram of a `RTM_GETLINK` dump to `links`.
fn parse_datagram(mut buf: &[u8], links: &mut Vec<Link>) -> Result<Reply, Problem> {
    let short = Problem::Malformed("message shorter than its header says");
    while !buf.is_empty() {
        let len = u32_at(buf, 0).ok_or(Problem::Malformed("truncated message header"))? as usize;
        if len < NLMSG_HDR_LEN || len > buf.len() {
            return Err(short);
        }
        let (msg, rest) = buf.split_at(len);
        buf = rest.get(align4(len) - len..).unwrap_or_default();
        if u32_at(msg, 8) != Some(DUMP_SEQ) {
            continue; // not an answer to our request
        }
        match u16_at(msg, 4) {
            Some(NLMSG_DONE) => return Ok(Reply::Done),
            Some(NLMSG_ERROR) => {
                let code = u32_at(msg, NLMSG_HDR_LEN).ok_or(short)? as i32;
                return Err(Problem::Kernel(Errno::from_raw(-code)));
            }
            Some(RTM_NEWLINK) => links.push(parse_link(msg)?),
            _ => {}
        }
    }
    Ok(Reply::More)
}

/// One `RTM_NEWLINK` message: the index from `ifinfomsg`, the name from its attributes.
fn parse_link(msg: &[u8]) -> Result<Link, Problem> {
    let index = u32_at(msg, NLMSG_HDR_LEN + 4).ok_or(Problem::Malformed("truncated ifinfomsg"))?;
    let mut attrs = msg.get(NLMSG_HDR_LEN + IFINFOMSG_LEN..).unwrap_or_default();
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0).unwrap_or_default());
        if len < 4 || len > attrs.len() {
            return Err(Problem::Malformed("attribute longer than its message"));
        }
        if u16_at(attrs, 2) == Some(IFLA_IFNAME) {
            let name = attrs[4..len].split(|b| *b == 0).next().unwrap_or_default();
            return Ok(Link {
                index,
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
        attrs = attrs.get(align4(len)..).unwrap_or_default();
    }
    Err(Problem::Malformed("link without a name"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A `RTM_NEWLINK` message as the kernel sends it, with one name attribute.
    fn newlink(seq: u32, index: u32, name: &str) -> Vec<u8> {
        let mut attr = Vec::new();
        let attr_len = (4 + name.len() + 1) as u16;
        attr.extend_from_slice(&attr_len.to_ne_bytes());
        attr.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        attr.extend_from_slice(name.as_bytes());
        attr.push(0);
        attr.resize(align4(attr.len()), 0);
        let len = NLMSG_HDR_LEN + IFINFOMSG_LEN + attr.len();
        let mut msg = Vec::new();
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
        msg.extend_from_slice(&0x2u16.to_ne_bytes()); // NLM_F_MULTI
        msg.extend_from_slice(&seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&[0, 0, 0, 0]); // family, pad, type
        msg.extend_from_slice(&index.to_ne_bytes());
        msg.extend_from_slice(&[0; 8]); // flags, change
        msg.extend_from_slice(&attr);
        msg
    }

    fn control(kind: u16, code: i32) -> Vec<u8> {
        let mut msg = Vec::new();
        msg.extend_from_slice(&20u32.to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(&0u16.to_ne_bytes());
        msg.extend_from_slice(&DUMP_SEQ.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&code.to_ne_bytes());
        msg
    }

    #[test]
    fn the_request_is_a_getlink_dump_of_32_bytes() {
        let req = dump_links_request();
        assert_eq!(req.len(), 32);
        assert_eq!(u32_at(&req, 0), Some(32));
        assert_eq!(u16_at(&req, 4), Some(18));
        assert_eq!(u16_at(&req, 6), Some(0x301));
    }

    #[test]
    fn links_are_read_until_done_and_other_sequences_are_skipped() {
        let mut datagram = newlink(DUMP_SEQ, 1, "lo");
        datagram.extend(newlink(7, 9, "not-ours"));
        datagram.extend(newlink(DUMP_SEQ, 4, "eth0"));
        let mut links = Vec::new();
        assert_eq!(parse_datagram(&datagram, &mut links), Ok(Reply::More));
        assert_eq!(
            parse_datagram(&control(NLMSG_DONE, 0), &mut links),
            Ok(Reply::Done)
        );
        let names: Vec<(u32, &str)> = links.iter().map(|l| (l.index, l.name.as_str())).collect();
        assert_eq!(names, [(1, "lo"), (4, "eth0")]);
    }

    #[test]
    fn a_kernel_error_and_a_truncated_message_are_reported() {
        let mut links = Vec::new();
        assert_eq!(
            parse_datagram(&control(NLMSG_ERROR, -1), &mut links),
            Err(Problem::Kernel(Errno::EPERM))
        );
        let mut cut = newlink(DUMP_SEQ, 1, "lo");
        cut.truncate(20);
        assert!(matches!(
            parse_datagram(&cut, &mut links),
            Err(Problem::Malformed(_))
        ));
    }
}
