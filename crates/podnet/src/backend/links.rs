//! Links seen and removed over rtnetlink, for what a failed netavark setup left behind:
//! the container's interface in its namespace, and a bridge that setup made.
//!
//! Only a few requests are needed, so they are written out here rather than pulling in a
//! netlink crate: a dump of every link (index, name, bridge master, address), the removal
//! of one link by index, and setting one link's address. The socket is opened on the calling thread, so it works in whichever
//! network namespace that thread is in (see [`NetNs::run_in`](netns::NetNs::run_in)).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// One link of a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    /// The interface index.
    pub(crate) index: u32,
    /// The interface name.
    pub(crate) name: String,
    /// The index of the bridge (or other master) it is enslaved to.
    pub(crate) master: Option<u32>,
    /// Its hardware address (`IFLA_ADDRESS`; empty when it has none).
    pub(crate) address: Vec<u8>,
}

const NLMSG_HDR: usize = 16;
const IFINFOMSG: usize = 16;

/// A NETLINK_ROUTE socket of the calling thread's network namespace.
pub(crate) struct Rtnl {
    fd: OwnedFd,
    seq: u32,
}

impl Rtnl {
    /// Opens the socket.
    pub(crate) fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh fd owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Self { fd, seq: 0 })
    }

    /// Every link of the namespace.
    pub(crate) fn links(&mut self) -> io::Result<Vec<Link>> {
        let seq = self.send(
            libc::RTM_GETLINK,
            (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
            0,
            &[],
        )?;
        let mut links = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = self.recv(&mut buf)?;
            let mut rest = &buf[..n];
            while rest.len() >= NLMSG_HDR {
                let len = u32_at(rest, 0) as usize;
                let kind = u16_at(rest, 4);
                if len < NLMSG_HDR || len > rest.len() {
                    return Err(io::Error::other("truncated netlink message"));
                }
                let msg = &rest[..len];
                rest = &rest[align(len).min(rest.len())..];
                if u32_at(msg, 8) != seq {
                    continue;
                }
                match kind {
                    k if k == libc::NLMSG_DONE as u16 => return Ok(links),
                    k if k == libc::NLMSG_ERROR as u16 => {
                        return Err(error_of(msg).unwrap_or_else(|| io::Error::other("netlink")))
                    }
                    k if k == libc::RTM_NEWLINK => {
                        if let Some(link) = parse_link(&msg[NLMSG_HDR..]) {
                            links.push(link);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The link named `name`, if there is one.
    pub(crate) fn find(&mut self, name: &str) -> io::Result<Option<Link>> {
        Ok(self.links()?.into_iter().find(|l| l.name == name))
    }

    /// The links enslaved to the link with this index (a bridge's ports).
    pub(crate) fn ports(&mut self, master: u32) -> io::Result<Vec<Link>> {
        Ok(self
            .links()?
            .into_iter()
            .filter(|l| l.master == Some(master))
            .collect())
    }

    /// Removes the link with this index; already gone is success.
    pub(crate) fn delete(&mut self, index: u32) -> io::Result<()> {
        let seq = self.send(
            libc::RTM_DELLINK,
            (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16,
            index,
            &[],
        )?;
        match self.ack(seq) {
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
            other => other,
        }
    }

    /// Sets the hardware address of the link with this index (`ip link set DEV address`).
    /// Setting a bridge's address, even to the one it has, makes the kernel keep it: the
    /// bridge no longer takes the lowest address of its ports as they come and go.
    pub(crate) fn set_address(&mut self, index: u32, address: &[u8]) -> io::Result<()> {
        let mut attr = Vec::with_capacity(4 + address.len());
        attr.extend_from_slice(&((4 + address.len()) as u16).to_ne_bytes());
        attr.extend_from_slice(&libc::IFLA_ADDRESS.to_ne_bytes());
        attr.extend_from_slice(address);
        attr.resize(align(attr.len()), 0);
        let seq = self.send(
            libc::RTM_NEWLINK,
            (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16,
            index,
            &attr,
        )?;
        self.ack(seq)
    }

    /// Waits for the kernel's answer to request `seq`.
    fn ack(&mut self, seq: u32) -> io::Result<()> {
        let mut buf = vec![0u8; 8 * 1024];
        loop {
            let n = self.recv(&mut buf)?;
            let msg = &buf[..n];
            if msg.len() < NLMSG_HDR || u32_at(msg, 8) != seq {
                continue;
            }
            if u16_at(msg, 4) != libc::NLMSG_ERROR as u16 {
                continue;
            }
            return match error_of(msg) {
                None => Ok(()),
                Some(e) => Err(e),
            };
        }
    }

    /// Sends one ifinfomsg request for link `index` with the given attributes.
    fn send(&mut self, kind: u16, flags: u16, index: u32, attrs: &[u8]) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let len = NLMSG_HDR + IFINFOMSG + attrs.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(&flags.to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        // ifinfomsg: family, pad, type, index, flags, change
        msg.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
        msg.extend_from_slice(&index.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 8]);
        msg.extend_from_slice(attrs);
        // SAFETY: the buffer is valid for its length; the fd is an open socket.
        let sent = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(self.seq)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: the buffer is valid and writable for its length; the fd is open.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

fn align(len: usize) -> usize {
    (len + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_ne_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

/// The error of an NLMSG_ERROR message; `None` for an acknowledgement (error 0).
fn error_of(msg: &[u8]) -> Option<io::Error> {
    let code = u32_at(msg, NLMSG_HDR) as i32;
    (code != 0).then(|| io::Error::from_raw_os_error(-code))
}

/// An RTM_NEWLINK payload: ifinfomsg, then attributes.
fn parse_link(payload: &[u8]) -> Option<Link> {
    let index = u32_at(payload, 4);
    let mut attrs = payload.get(IFINFOMSG..)?;
    let (mut name, mut master, mut address) = (None, None, Vec::new());
    while attrs.len() >= 4 {
        let len = u16_at(attrs, 0) as usize;
        let kind = u16_at(attrs, 2) & 0x3fff;
        if len < 4 || len > attrs.len() {
            break;
        }
        let data = &attrs[4..len];
        if kind == libc::IFLA_IFNAME {
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
        } else if kind == libc::IFLA_MASTER {
            master = Some(u32_at(data, 0));
        } else if kind == libc::IFLA_ADDRESS {
            address = data.to_vec();
        }
        attrs = &attrs[align(len).min(attrs.len())..];
    }
    Some(Link {
        index,
        name: name?,
        master,
        address,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn this_namespace_has_a_loopback() {
        let mut rtnl = Rtnl::open().unwrap();
        let lo = rtnl.find("lo").unwrap().unwrap();
        assert_eq!(lo.index, 1);
        assert_eq!(lo.master, None);
        assert!(rtnl.find("no-such-link0").unwrap().is_none());
    }

    #[test]
    fn parses_name_and_master_attributes() {
        let mut payload = vec![0u8; IFINFOMSG];
        payload[4..8].copy_from_slice(&7u32.to_ne_bytes());
        // IFLA_IFNAME "eth1\0" (len 9, padded to 12)
        payload.extend_from_slice(&9u16.to_ne_bytes());
        payload.extend_from_slice(&libc::IFLA_IFNAME.to_ne_bytes());
        payload.extend_from_slice(b"eth1\0\0\0\0");
        // IFLA_MASTER 3
        payload.extend_from_slice(&8u16.to_ne_bytes());
        payload.extend_from_slice(&libc::IFLA_MASTER.to_ne_bytes());
        payload.extend_from_slice(&3u32.to_ne_bytes());
        assert_eq!(
            parse_link(&payload),
            Some(Link {
                index: 7,
                name: "eth1".into(),
                master: Some(3),
                address: Vec::new(),
            })
        );
        assert_eq!(parse_link(&payload[..IFINFOMSG]), None);
    }
}
