"""vhost-user messages on the wire, front-end side: request codes, feature bits, and a Channel that
sends and receives raw messages with their file descriptors.

Layouts follow ../shared/specs/vhost-user.md (QEMU docs/interop/vhost-user.rst): §1 transport
(AF_UNIX SOCK_STREAM, fds as SCM_RIGHTS on the header bytes, at most 8 per message), §2 the 12-byte
header {u32 request, u32 flags, u32 size} in native (little-endian) order, §3 request codes.
Nothing here checks what it is told to send: hostile tests use the same Channel as the
well-behaved front-end.
"""
import array
import os
import select
import socket
import struct
import time

# §3 request codes (front-end -> back-end).
GET_FEATURES = 1
SET_FEATURES = 2
SET_OWNER = 3
RESET_OWNER = 4
SET_MEM_TABLE = 5
SET_LOG_BASE = 6
SET_LOG_FD = 7
SET_VRING_NUM = 8
SET_VRING_ADDR = 9
SET_VRING_BASE = 10
GET_VRING_BASE = 11
SET_VRING_KICK = 12
SET_VRING_CALL = 13
SET_VRING_ERR = 14
GET_PROTOCOL_FEATURES = 15
SET_PROTOCOL_FEATURES = 16
GET_QUEUE_NUM = 17
SET_VRING_ENABLE = 18
SEND_RARP = 19
NET_SET_MTU = 20
SET_BACKEND_REQ_FD = 21
IOTLB_MSG = 22
GET_CONFIG = 24
SET_CONFIG = 25
GET_MAX_MEM_SLOTS = 36
ADD_MEM_REG = 37
REM_MEM_REG = 38
SET_STATUS = 39
GET_STATUS = 40

# Requests that always have a reply of their own (§3 "Requests that always produce a reply").
HAS_REPLY = {GET_FEATURES, GET_PROTOCOL_FEATURES, GET_VRING_BASE, GET_QUEUE_NUM,
             GET_MAX_MEM_SLOTS, GET_CONFIG, GET_STATUS}

# §2 header flags.
VERSION = 0x1
FLAG_REPLY = 0x4
FLAG_NEED_REPLY = 0x8

# §4 virtio feature bits (u64 of GET/SET_FEATURES).
F_CSUM = 0
F_GUEST_CSUM = 1
F_GUEST_TSO4 = 7
F_GUEST_TSO6 = 8
F_HOST_TSO4 = 11
F_HOST_TSO6 = 12
F_MRG_RXBUF = 15
F_MQ = 22
F_NOTIFY_ON_EMPTY = 24
F_LOG_ALL = 26
F_ANY_LAYOUT = 27
F_INDIRECT_DESC = 28
F_EVENT_IDX = 29
F_PROTOCOL_FEATURES = 30
F_VERSION_1 = 32
F_IOMMU_PLATFORM = 33
F_RING_PACKED = 34

# §3 protocol feature bits (u64 of GET/SET_PROTOCOL_FEATURES).
PF_MQ = 0
PF_LOG_SHMFD = 1
PF_RARP = 2
PF_REPLY_ACK = 3
PF_CONFIGURE_MEM_SLOTS = 15
PF_STATUS = 16

# §2 vring fd messages: bits 0-7 vring index, bit 8 "no fd attached".
VRING_NOFD = 0x100

HEADER = struct.Struct("<III")
MAX_FDS = 8


def bit(n):
    return 1 << n


def u64(value):
    return struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF)


def vring_state(index, num):
    return struct.pack("<II", index, num)


def vring_addr(index, desc, used, avail, flags=0, log=0):
    """§2 vring address: used comes before avail."""
    return struct.pack("<IIQQQQ", index, flags, desc, used, avail, log)


def mem_region(gpa, size, uva, offset):
    return struct.pack("<QQQQ", gpa, size, uva, offset)


def mem_table(regions, nregions=None):
    """regions: (gpa, size, uva, mmap_offset) tuples; nregions overrides the count field."""
    n = len(regions) if nregions is None else nregions
    return struct.pack("<II", n, 0) + b"".join(mem_region(*r) for r in regions)


class PeerClosed(Exception):
    """The back-end closed the connection (EOF or reset)."""


class Channel:
    """One vhost-user connection, front-end side. Not thread-safe."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(10)  # a back-end that stops reading must not hang a test

    # ---- sending -----------------------------------------------------------------------------
    def send_bytes(self, data, fds=()):
        """Sends raw bytes; fds ride on the first byte (SCM_RIGHTS). Raises PeerClosed on EPIPE."""
        anc = []
        if fds:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", list(fds)))]
        try:
            sent = self.sock.sendmsg([data], anc)
            if sent < len(data):
                self.sock.sendall(data[sent:])
        except (BrokenPipeError, ConnectionResetError) as e:
            raise PeerClosed(str(e)) from e

    def send(self, request, payload=b"", fds=(), flags=VERSION, size=None):
        """One message: header (size defaults to len(payload)) + payload, fds on the header."""
        n = len(payload) if size is None else size
        self.send_bytes(HEADER.pack(request, flags, n) + payload, fds)

    # ---- receiving ---------------------------------------------------------------------------
    def _recv_exact(self, n, deadline):
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"vhost-user: {len(buf)}/{n} bytes before the deadline")
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError as e:
                raise PeerClosed(str(e)) from e
            if not chunk:
                raise PeerClosed("EOF")
            buf += chunk
        return buf

    def recv(self, timeout=5.0):
        """The next message from the back-end as (request, flags, payload). Raises PeerClosed on
        EOF and TimeoutError when nothing complete arrives in time. Back-ends send no fds to us
        (no BACKEND_REQ), so none are expected."""
        deadline = time.monotonic() + timeout
        request, flags, size = HEADER.unpack(self._recv_exact(HEADER.size, deadline))
        payload = self._recv_exact(size, deadline) if size else b""
        return request, flags, payload

    def recv_reply(self, request, timeout=5.0):
        """The payload of the reply to `request`; asserts the header is a proper reply."""
        req, flags, payload = self.recv(timeout)
        if req != request or flags & 0x3 != VERSION or not flags & FLAG_REPLY:
            raise AssertionError(f"bad reply header: request {req} flags {flags:#x} "
                                 f"(expected reply to {request})")
        return payload

    def recv_u64(self, request, timeout=5.0):
        payload = self.recv_reply(request, timeout)
        if len(payload) != 8:
            raise AssertionError(f"reply to {request}: {len(payload)} bytes, expected 8")
        return struct.unpack("<Q", payload)[0]

    def nothing_pending(self, timeout=0.2):
        """True if the back-end neither sends a byte nor closes within timeout."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        return not r

    def wait_closed(self, timeout=5.0):
        """True once the back-end has closed the connection (EOF/reset) within timeout; any bytes
        it sends meanwhile are read and dropped. False if it is still open at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                if not self.sock.recv(65536):
                    return True
            except ConnectionResetError:
                return True

    def close(self):
        self.sock.close()


def connect(path, timeout=10.0):
    """Connects to a listening back-end (vsw in server mode), retrying until the socket exists
    and accepts, or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return Channel(s)
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Listener:
    """A listening socket for a connecting back-end (vsw in client mode, testpmd client=1)."""

    def __init__(self, path):
        if os.path.exists(path):
            os.unlink(path)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)

    def accept(self, timeout=10.0):
        """The next connection from the back-end as a Channel; TimeoutError if none in time."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            raise TimeoutError(f"no back-end connected to {self.path} within {timeout}s")
        s, _ = self.sock.accept()
        return Channel(s)

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
