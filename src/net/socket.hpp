// SPDX-License-Identifier: MIT
// Socket helpers: TCP listeners and sockets to connect, UDP sockets, addresses, options,
// test-only blocking pairs.
#pragma once

#include <string>
#include <utility>

#include "net/socket_address.hpp"
#include "net/unique_fd.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::net {

// Every function here is a thin, thread-safe wrapper over one or a few syscalls. None throws;
// failures come back as the errno of the failing syscall (e.g. EADDRINUSE from bind).

/// Whether a listener shares its port with other SO_REUSEPORT listeners (one per core).
enum class ReusePort : bool { no, yes };

/// A listening TCP socket bound to `address`, non-blocking and close-on-exec, ready for
/// accept through io_uring or epoll. SO_REUSEADDR is always set; SO_REUSEPORT when asked.
/// IPv6 listeners set IPV6_V6ONLY so that `[::]:P` and `0.0.0.0:P` can coexist.
/// Port 0 binds an ephemeral port: read it back with `local_address`.
/// Errors: EAFNOSUPPORT for an empty address; otherwise socket/setsockopt/bind/listen errno.
Result<UniqueFd> listen_tcp(const SocketAddress& address, ReusePort reuse_port, int backlog = 4096);

/// An unconnected TCP socket of `family` (AF_INET or AF_INET6), non-blocking and
/// close-on-exec, for a connect submitted through io_uring or epoll.
/// Errors: EAFNOSUPPORT for any other family; otherwise socket(2) errno.
Result<UniqueFd> tcp_socket(int family);

/// A UDP socket bound to `address` (non-blocking, close-on-exec) that receives from anyone:
/// a UDP tunnel's local end. SO_REUSEPORT when asked (the kernel then keeps each source on one
/// socket); IPv6 sockets set IPV6_V6ONLY. Each datagram carries the address it was sent to
/// (IP_PKTINFO / IPV6_RECVPKTINFO), so a reply can leave from that address: a socket bound
/// to 0.0.0.0 would otherwise answer from whatever address the route picks, which a client
/// that connect()ed its socket drops. Asks for 4 MiB socket buffers (the kernel caps
/// them at net.core.rmem_max / wmem_max), so a burst of large datagrams is not lost at once.
/// Errors: EAFNOSUPPORT for an empty address; otherwise socket/setsockopt/bind errno.
Result<UniqueFd> bind_udp(const SocketAddress& address, ReusePort reuse_port);

/// A UDP socket connected to `address` (non-blocking, close-on-exec): one flow to a UDP
/// service, which then only hears that service's replies. Connecting a UDP socket sends
/// nothing, so this never blocks. Errors: socket/connect errno (ENETUNREACH...).
Result<UniqueFd> connect_udp(const SocketAddress& address);

/// The address `fd` is bound to (getsockname). Errors: EBADF, ENOTSOCK; EAFNOSUPPORT for a
/// non-IP socket.
Result<SocketAddress> local_address(int fd);

/// The address of the peer `fd` is connected to (getpeername). Errors: ENOTCONN, EBADF,
/// ENOTSOCK; EAFNOSUPPORT for a non-IP socket.
Result<SocketAddress> peer_address(int fd);

/// Disables Nagle's algorithm on a TCP socket.
Result<void> set_tcp_nodelay(int fd);

/// Sets O_NONBLOCK, keeping the other file status flags.
Result<void> set_nonblocking(int fd);

/// The pending socket error (SO_ERROR), which reading clears: 0 when none. This is how a
/// non-blocking connect reports its outcome once the socket turns writable.
/// The Result fails only when getsockopt itself fails (EBADF, ENOTSOCK).
Result<int> socket_error(int fd);

/// Connects a blocking, close-on-exec TCP socket to `address`. For tests and tools only: it
/// blocks the calling thread, so never call it from a reactor core.
/// Errors: connect(2) errno, e.g. ECONNREFUSED, ENETUNREACH.
Result<UniqueFd> connect_tcp_blocking(const SocketAddress& address);

/// This machine's host name ("localhost" if it has none): how a client names itself to the
/// server, and the host a server's first-start hint tells clients to use.
std::string host_name();

/// Two blocking TCP sockets connected to each other over 127.0.0.1: `first` is the side that
/// connected, `second` the side that was accepted. For tests and tools only (it blocks).
/// Errors: any errno from listen/connect/accept; ETIMEDOUT if the accept never comes.
Result<std::pair<UniqueFd, UniqueFd>> tcp_loopback_pair();

}  // namespace ringtunnel::net
