"""A QEMU guest (TCG) that runs Debian 12 with systemd as PID 1, driven like any Guest.

    from tests.vm.systemd_guest import SystemdGuest

    with SystemdGuest("sd", packages=["libfmt9"], shares={"deb": "/var/cache/vsw-deb/KEY"}) as g:
        g.wait_booted()                 # vsw-console.service printed its marker
        g.check("systemctl is-system-running --wait")

The image is tests/vm/build_systemd_guest.py's (built on first use, cached in /var/cache/vsw-vm):
the Debian kernel of the busybox guests, a small initramfs that mounts the root disk, and an ext4
root file system opened with snapshot=on, so every boot starts from the same pristine image and
writes nothing back. The command console (guest.py's protocol) is a systemd service on ttyS0
(the kernel console is ttyS1, kept in `kernel_log`; VSW_VM_KEEP=1 keeps it), so
run(), check(), wait_until(), poweroff() and kill() behave as for the busybox guests. `shares`
are 9p exports the guest mounts itself (mount_share()).
"""
from tests.vm import build_systemd_guest
from tests.vm.guest import QEMU, Guest


class SystemdGuest(Guest):
    def __init__(self, name, packages=(), mem_mb=1024, smp=2, shares=None, append=(), **kw):
        super().__init__(name, mem_mb=mem_mb, smp=smp, shares=shares, append=append, **kw)
        self.packages = list(packages)
        self.image = None

    def command_line(self):
        if self.image is None:
            self.image = build_systemd_guest.ensure_image(
                self.packages, log=lambda m: print(f"[vm] {m}", flush=True))
        img = self.image
        # ttyS0 (stdio) is the command console alone; the kernel's console, which systemd uses
        # as /dev/console (status lines, resets on daemon-reload), is ttyS1, in a file.
        cmdline = ["console=ttyS1", "panic=-1", "quiet", "systemd.show_status=0",
                   "udev.log_level=3"] + self.append
        args = [QEMU, "-name", self.name, "-accel", "tcg", "-cpu", self.cpu,
                "-smp", str(self.smp), "-m", f"{self.mem_mb}M",
                "-kernel", str(img / "kernel"), "-initrd", str(img / "initrd.cpio"),
                "-append", " ".join(cmdline),
                "-drive", f"file={img / 'root.img'},if=virtio,format=raw,snapshot=on",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", "stdio", "-serial", f"file:{self.kernel_log}",
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        for tag, path in self.shares.items():
            args += ["-virtfs", f"local,path={path},mount_tag={tag},security_model=none,"
                                f"readonly=on,id=fs-{tag}"]
        return args + self.extra_args

    @property
    def kernel_log(self):
        """The kernel's (and systemd's) console output, ttyS1."""
        return f"{self.workdir}/kernel-console-{self.name}.log"

    def mount_share(self, tag):
        """Mounts the 9p share `tag` read-only at /mnt/<tag> in the guest; returns that path."""
        self.check(f"mkdir -p /mnt/{tag} && mountpoint -q /mnt/{tag} || "
                   f"mount -t 9p -o trans=virtio,version=9p2000.L,ro {tag} /mnt/{tag}")
        return f"/mnt/{tag}"
