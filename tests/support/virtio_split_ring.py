"""Guest memory shared by memfd and virtio split virtqueues in it, driver side (what a guest's
virtio driver does), for testing vhost-user back-ends from Python.

Layouts per ../shared/specs/vhost-user.md §6 (memory regions: guest-physical vs front-end virtual
addresses) and §7 (split virtqueue: descriptor table 16·N, avail ring, used ring; flags NEXT=1,
WRITE=2, INDIRECT=4; free-running u16 indices). Nothing here validates what the caller writes:
hostile tests poke the same structures directly.
"""
import fcntl
import mmap
import os
import select
import struct

DESC_NEXT = 1
DESC_WRITE = 2
DESC_INDIRECT = 4
AVAIL_NO_INTERRUPT = 1
USED_NO_NOTIFY = 1

DESC = struct.Struct("<QIHH")
USED_ELEM = struct.Struct("<II")

PAGE = 4096
GPA_BASE = 0x40000000
# The front-end's "own" virtual addresses: deliberately unrelated to the GPAs, and spaced
# differently between regions, so a back-end that translates one kind with the other's table
# fails at once. Nothing is mapped there in this process; only the back-end uses them.
UVA_BASE = 0x7F5A_1230_0000
GPA_REGION_STRIDE = 0x1_0000_0000
UVA_REGION_STRIDE = 0x3_0000_0000


def align_up(value, alignment):
    return (value + alignment - 1) // alignment * alignment


class Region:
    def __init__(self, gpa, size, uva, offset):
        self.gpa, self.size, self.uva, self.offset = gpa, size, uva, offset
        self.used = 0  # bump allocator, bytes from the start of the region

    def entry(self):
        """(guest_phys_addr, memory_size, userspace_addr, mmap_offset) as SET_MEM_TABLE sends."""
        return (self.gpa, self.size, self.uva, self.offset)


# How the memfd is sealed: "qemu" as QEMU's memory-backend-memfd does by default (seal=on:
# F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL), "sealable" (MFD_ALLOW_SEALING, no seal yet: the
# back-end may add one), "none" (cannot be sealed; it could shrink under the back-end's mapping).
SEALINGS = ("qemu", "sealable", "none")


class GuestMemory:
    """One memfd split into `regions` equal regions (QEMU-style: pieces of the same file at
    different mmap_offset), each with its own GPA and front-end VA."""

    def __init__(self, size, regions=1, sealing="qemu"):
        assert sealing in SEALINGS, sealing
        size = align_up(size, PAGE * regions)
        self.size = size
        flags = os.MFD_CLOEXEC | (0 if sealing == "none" else os.MFD_ALLOW_SEALING)
        self.fd = os.memfd_create("vhost-frontend-guest", flags)
        os.ftruncate(self.fd, size)
        if sealing == "qemu":
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS,
                        fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
        self.map = mmap.mmap(self.fd, size)
        # Ring indices are shared with the device while it runs: they must be read and written
        # with single 16-bit accesses. struct's "<H" goes byte by byte (a torn 0x00ff -> 0x0100
        # reads as 0x01ff); a memoryview cast to native u16 does one aligned access.
        self.u16 = memoryview(self.map).cast("H")
        part = size // regions
        self.regions = [Region(GPA_BASE + i * GPA_REGION_STRIDE, part,
                               UVA_BASE + i * UVA_REGION_STRIDE, i * part) for i in range(regions)]

    def seals(self):
        return fcntl.fcntl(self.fd, fcntl.F_GET_SEALS)

    def table(self):
        return [r.entry() for r in self.regions]

    def alloc(self, nbytes, alignment=64, region=0):
        """GPA of `nbytes` zeroed bytes in `region` (or the next one with room)."""
        for r in self.regions[region:] + self.regions[:region]:
            start = align_up(r.used, alignment)
            if start + nbytes <= r.size:
                r.used = start + nbytes
                return r.gpa + start
        raise MemoryError(f"guest memory full ({nbytes} bytes wanted)")

    def _region_of(self, gpa, n):
        for r in self.regions:
            if r.gpa <= gpa and gpa + n <= r.gpa + r.size:
                return r
        raise ValueError(f"gpa {gpa:#x}+{n} is not inside one region")

    def offset(self, gpa, n=1):
        r = self._region_of(gpa, n)
        return r.offset + gpa - r.gpa

    def uva(self, gpa):
        """The front-end VA of a guest-physical address (what SET_VRING_ADDR carries)."""
        r = self._region_of(gpa, 1)
        return r.uva + gpa - r.gpa

    def read(self, gpa, n):
        o = self.offset(gpa, n)
        return bytes(self.map[o:o + n])

    def write(self, gpa, data):
        o = self.offset(gpa, len(data))
        self.map[o:o + len(data)] = data

    def pack(self, fmt, gpa, *values):
        struct.pack_into(fmt, self.map, self.offset(gpa, struct.calcsize(fmt)), *values)

    def unpack(self, fmt, gpa):
        return struct.unpack_from(fmt, self.map, self.offset(gpa, struct.calcsize(fmt)))

    def load16(self, gpa):
        return self.u16[self.offset(gpa, 2) // 2]

    def store16(self, gpa, value):
        assert gpa % 2 == 0
        self.u16[self.offset(gpa, 2) // 2] = value & 0xFFFF

    def close(self):
        self.u16.release()
        self.map.close()
        os.close(self.fd)


class SplitRing:
    """One split virtqueue of `num` slots in guest memory, with a buffer of `buf_size` bytes per
    descriptor and (if `indirect_max`) room for an indirect table of that many entries per
    descriptor. Keeps the driver's shadow indices; the caller decides what to post."""

    def __init__(self, mem, index, num, buf_size=2048, indirect_max=0, buf_region=0):
        self.mem, self.index, self.num, self.buf_size = mem, index, num, buf_size
        self.desc = mem.alloc(16 * num, 16)
        self.avail = mem.alloc(6 + 2 * num, 2)  # incl. used_event (EVENT_IDX)
        self.used = mem.alloc(6 + 8 * num, 4)  # incl. avail_event (EVENT_IDX)
        self.bufs = mem.alloc(buf_size * num, 64, region=buf_region)
        self.indirect_max = indirect_max
        self.indirect = mem.alloc(16 * indirect_max * num, 16) if indirect_max else 0
        self.kick_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.call_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.avail_idx = 0  # next avail->idx to publish
        self.last_used = 0  # next used->idx we have not consumed
        self.free = list(range(num))
        self.chains = {}  # head -> descriptor ids (for freeing on completion)
        self.calls = 0  # call eventfd signals seen

    # ---- addresses -----------------------------------------------------------------------------
    def buf(self, i):
        return self.bufs + i * self.buf_size

    def addr_uva(self):
        """(desc, used, avail) front-end VAs for SET_VRING_ADDR."""
        m = self.mem
        return m.uva(self.desc), m.uva(self.used), m.uva(self.avail)

    # ---- descriptors -------------------------------------------------------------------------
    def set_desc(self, i, addr, length, flags=0, nxt=0):
        self.mem.pack("<QIHH", self.desc + 16 * i, addr, length, flags, nxt)

    def set_indirect(self, owner, entry, addr, length, flags=0, nxt=0):
        table = self.indirect + owner * 16 * self.indirect_max
        self.mem.pack("<QIHH", table + 16 * entry, addr, length, flags, nxt)
        return table

    def take(self, n):
        if len(self.free) < n:
            raise BufferError(f"ring {self.index}: {n} descriptors wanted, {len(self.free)} free")
        ids, self.free = self.free[:n], self.free[n:]
        return ids

    # ---- avail ring (driver -> device) ---------------------------------------------------------
    def publish(self, head, chain=None):
        """Puts `head` in the next avail slot and bumps avail->idx (x86 keeps the store order)."""
        self.chains[head] = chain if chain is not None else [head]
        self.mem.store16(self.avail + 4 + 2 * (self.avail_idx % self.num), head)
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.set_avail_idx(self.avail_idx)

    def set_avail_idx(self, value):
        self.mem.store16(self.avail + 2, value)

    def set_avail_slot(self, slot, head):
        self.mem.store16(self.avail + 4 + 2 * slot, head)

    def set_avail_flags(self, flags):
        self.mem.store16(self.avail, flags)

    def set_used_event(self, value):
        self.mem.store16(self.avail + 4 + 2 * self.num, value)

    def kick(self):
        os.eventfd_write(self.kick_fd, 1)

    # ---- used ring (device -> driver) ---------------------------------------------------------
    def used_idx(self):
        return self.mem.load16(self.used + 2)

    def used_flags(self):
        return self.mem.load16(self.used)

    def avail_event(self):
        return self.mem.load16(self.used + 4 + 8 * self.num)

    def pop_used(self):
        """Used elements (id, len) published since the last call; their chains go back to the
        free list. Raises if the device claims more than the ring holds or an unknown head."""
        idx = self.used_idx()
        n = (idx - self.last_used) & 0xFFFF
        if n > self.num:
            raise AssertionError(f"ring {self.index}: used idx jumped by {n} > {self.num}")
        out = []
        for _ in range(n):
            slot = self.last_used % self.num
            head, length = self.mem.unpack("<II", self.used + 4 + 8 * slot)
            if head not in self.chains:
                raise AssertionError(f"ring {self.index}: used id {head} was not outstanding")
            self.free += self.chains.pop(head)
            out.append((head, length))
            self.last_used = (self.last_used + 1) & 0xFFFF
        self.set_used_event(self.last_used)
        return out

    def wait_call(self, timeout):
        """True if the call eventfd fired within timeout (the counter is cleared)."""
        r, _, _ = select.select([self.call_fd], [], [], timeout)
        if not r:
            return False
        try:
            os.eventfd_read(self.call_fd)
        except BlockingIOError:
            return False
        self.calls += 1
        return True

    def signalled(self):
        """Calls seen so far, counting one still pending on the eventfd (cleared here)."""
        try:
            if os.eventfd_read(self.call_fd):
                self.calls += 1
        except BlockingIOError:
            pass
        return self.calls

    def close(self):
        for fd in (self.kick_fd, self.call_fd):
            try:
                os.close(fd)
            except OSError:
                pass
