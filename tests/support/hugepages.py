"""Raises vm.nr_hugepages for a test or a benchmark and puts the old value back.

DPDK's `--in-memory` takes 2 MiB pages through memfd (no hugetlbfs mount needed), but the pool
must exist (shared/specs/test-peers.md). vswitchd maps its packet buffers from the same pool.
vsw's vhost-user port maps a front-end's memory only from a sealed memfd or a hugetlbfs file:
testpmd's `--no-huge` memory (an unsealed memfd) is refused, so net_virtio_user front-ends need
huge pages.
"""
import contextlib

_SYSCTL = "/proc/sys/vm/nr_hugepages"


def _read():
    with open(_SYSCTL) as f:
        return int(f.read())


def _write(n):
    with open(_SYSCTL, "w") as f:
        f.write(str(n))


@contextlib.contextmanager
def reserved(pages):
    """At least `pages` 2 MiB pages while the block runs; the previous setting afterwards."""
    before = _read()
    if before < pages:
        _write(pages)
        if _read() < pages:
            _write(before)
            raise RuntimeError(f"could only reserve {_read()} of {pages} huge pages")
    try:
        yield
    finally:
        if before < pages:
            _write(before)
