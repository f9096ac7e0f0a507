#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A TCP echo service that first reads a PROXY protocol v2 header, for integration tests.

Each connection must open with a PROXY v2 header (HAProxy's proxy-protocol.txt, section 2.2).
The service parses it strictly and answers one line, then echoes every later byte until EOF:
    PROXY <src_ip> <src_port> <dst_ip> <dst_port>   a PROXY command over TCP/IPv4 or TCP/IPv6
    LOCAL <peer_ip> <peer_port> <local_ip> <local_port>   a LOCAL command: the socket's own ends
    ERROR <reason>   anything malformed; the connection is then closed
Usage: proxy_v2_service.py --listen HOST:PORT   (PORT 0: ephemeral; `[::1]:0` for IPv6)
Prints "listening on HOST:PORT" once bound; one thread per connection; every socket operation
times out after 10 s; exits on SIGTERM. Standard library only.
Importable: parse_proxy_v2(bytes) parses a whole header; read_proxy_v2(sock) reads one."""
import argparse
import signal
import socket
import struct
import sys
import threading
from dataclasses import dataclass, field

SIGNATURE = b"\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
FIXED_SIZE = 16  # signature, version/command, family/transport, 2-byte length
TIMEOUT = 10.0

COMMAND_LOCAL = 0x0
COMMAND_PROXY = 0x1
FAMILY_UNSPEC, FAMILY_INET, FAMILY_INET6, FAMILY_UNIX = 0x0, 0x1, 0x2, 0x3
TRANSPORT_UNSPEC, TRANSPORT_STREAM, TRANSPORT_DGRAM = 0x0, 0x1, 0x2
# Address block sizes: both addresses, then both ports. AF_UNIX is not served here.
BLOCK_SIZE = {FAMILY_INET: 4 + 4 + 2 + 2, FAMILY_INET6: 16 + 16 + 2 + 2}


class ProxyHeaderError(ValueError):
    """A header that does not follow the spec; str() is the reason sent back as ERROR."""


@dataclass
class ProxyHeader:
    """A parsed header. For LOCAL the addresses are None and the family is whatever was sent."""

    command: int
    family: int
    transport: int
    src_ip: str | None = None
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    tlvs: list = field(default_factory=list)  # (type, value bytes) after the addresses
    size: int = FIXED_SIZE  # bytes the whole header took


def header_length(fixed: bytes) -> int:
    """The length field of the 16-byte fixed part: how many bytes follow it."""
    if len(fixed) < FIXED_SIZE:
        raise ProxyHeaderError(f"truncated header ({len(fixed)} of {FIXED_SIZE} bytes)")
    if fixed[:12] != SIGNATURE:
        raise ProxyHeaderError("bad signature")
    return struct.unpack("!H", fixed[14:16])[0]


def _parse_tlvs(data: bytes) -> list:
    tlvs, at = [], 0
    while at < len(data):
        if len(data) - at < 3:
            raise ProxyHeaderError(f"truncated TLV at offset {at} after the addresses")
        kind, length = data[at], struct.unpack("!H", data[at + 1:at + 3])[0]
        if at + 3 + length > len(data):
            raise ProxyHeaderError(f"TLV 0x{kind:02x} of {length} bytes overruns the header")
        tlvs.append((kind, data[at + 3:at + 3 + length]))
        at += 3 + length
    return tlvs


def _parse_addresses(header: ProxyHeader, block: bytes) -> None:
    if header.family == FAMILY_INET:
        af, size = socket.AF_INET, 4
    elif header.family == FAMILY_INET6:
        af, size = socket.AF_INET6, 16
    else:
        raise ProxyHeaderError(f"unsupported address family 0x{header.family:x}")
    needed = BLOCK_SIZE[header.family]
    if len(block) < needed:
        raise ProxyHeaderError(
            f"length {len(block)} is too short for the family's {needed} address bytes")
    header.src_ip = socket.inet_ntop(af, block[:size])
    header.dst_ip = socket.inet_ntop(af, block[size:2 * size])
    header.src_port, header.dst_port = struct.unpack("!HH", block[2 * size:needed])
    header.tlvs = _parse_tlvs(block[needed:])


def parse_proxy_v2(data: bytes) -> ProxyHeader:
    """Parses one complete PROXY v2 header, which must be all of `data`.

    Raises ProxyHeaderError for a bad signature, version, command, family or transport, a length
    that disagrees with `data` or is too short for the family, or malformed TLVs."""
    length = header_length(data)
    if len(data) != FIXED_SIZE + length:
        raise ProxyHeaderError(
            f"length field says {length} bytes follow but {len(data) - FIXED_SIZE} do")
    version, command = data[12] >> 4, data[12] & 0x0F
    if version != 2:
        raise ProxyHeaderError(f"version {version}, expected 2")
    if command not in (COMMAND_LOCAL, COMMAND_PROXY):
        raise ProxyHeaderError(f"unknown command 0x{command:x}")
    header = ProxyHeader(command, data[13] >> 4, data[13] & 0x0F, size=len(data))
    if command == COMMAND_LOCAL:
        return header  # the spec: the receiver ignores the family and skips the block
    if header.transport not in (TRANSPORT_STREAM, TRANSPORT_DGRAM):
        raise ProxyHeaderError(f"unsupported transport 0x{header.transport:x}")
    _parse_addresses(header, data[FIXED_SIZE:])
    return header


def recv_exactly(sock: socket.socket, count: int) -> bytes:
    """`count` bytes from `sock`, or fewer if the peer closed first."""
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read_proxy_v2(sock: socket.socket) -> ProxyHeader:
    """Reads exactly one header from `sock` (never a byte past it) and parses it."""
    fixed = recv_exactly(sock, FIXED_SIZE)
    length = header_length(fixed)
    rest = recv_exactly(sock, length)
    if len(rest) < length:
        raise ProxyHeaderError(f"truncated header ({len(rest)} of {length} bytes after the "
                               f"fixed part)")
    return parse_proxy_v2(fixed + rest)


def _first_line(conn: socket.socket, header: ProxyHeader) -> bytes:
    if header.command == COMMAND_LOCAL:
        peer, local = conn.getpeername(), conn.getsockname()
        return f"LOCAL {peer[0]} {peer[1]} {local[0]} {local[1]}\n".encode()
    if header.transport != TRANSPORT_STREAM:
        raise ProxyHeaderError("a datagram (UDP) header on a TCP connection")
    return (f"PROXY {header.src_ip} {header.src_port} {header.dst_ip} {header.dst_port}\n"
            .encode())


def serve_connection(conn: socket.socket) -> None:
    """One connection: the header, the PROXY line, then an echo until EOF (or a timeout)."""
    with conn:
        conn.settimeout(TIMEOUT)
        try:
            try:
                line = _first_line(conn, read_proxy_v2(conn))
            except ProxyHeaderError as error:
                conn.sendall(f"ERROR {error}\n".encode())
                return
            except socket.timeout:
                conn.sendall(b"ERROR timed out reading the header\n")
                return
            conn.sendall(line)
            while chunk := conn.recv(65536):
                conn.sendall(chunk)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # reset, timeout or a peer gone: the test on the other end reports it


def parse_listen(text: str) -> tuple:
    """`HOST:PORT` or `[V6]:PORT` -> (family, host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        return socket.AF_INET6, host[1:-1], int(port)
    return socket.AF_INET, host, int(port)


def serve(listener: socket.socket) -> None:
    """Accepts until the process ends; one daemon thread per connection."""
    listener.settimeout(TIMEOUT)
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue  # idle: keep listening
        threading.Thread(target=serve_connection, args=(conn,), daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, type=parse_listen, metavar="HOST:PORT")
    family, host, port = parser.parse_args().listen
    # SystemExit out of accept(): connection threads are daemons and end with the process.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        bound_host, bound_port = listener.getsockname()[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        print(f"listening on {shown}:{bound_port}", flush=True)
        try:
            serve(listener)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
