#!/bin/sh
# /init of the vsw test guest (packed by tests/vm/build_guest.py; its hash is part of the cache
# key, so editing this file rebuilds the guest). Talks to tests/vm/guest.py over ttyS0:
#   "@@vsw-booted@@"      once: modules loaded, interfaces configured
#   "@@vsw-console@@"     each time the command console (below) is ready for a command
#   "@@vsw-error@@ ..."   something in the boot went wrong (guest.py fails wait_booted on it)
# Kernel command line options (all optional):
#   vsw.ip=eth0:10.0.0.1/24,eth1:10.0.1.1/24   addresses (the interface is brought up)
#   vsw.mtu=eth0:9000                           MTUs
#   vsw.skip_modules=virtio_net,uio_pci_generic modules of /etc/vsw/modules not to load
#   vsw.hostname=NAME
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp     # iperf3 creates its scratch files here
mount -t tmpfs tmpfs /run
mount -t hugetlbfs hugetlbfs /dev/hugepages

error() { echo "@@vsw-error@@ $*"; }

ips= mtus= skip= name=vsw-guest shares=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vsw.ip=*) ips=${arg#vsw.ip=} ;;
    vsw.mtu=*) mtus=${arg#vsw.mtu=} ;;
    vsw.skip_modules=*) skip=${arg#vsw.skip_modules=} ;;
    vsw.hostname=*) name=${arg#vsw.hostname=} ;;
    vsw.shares=*) shares=${arg#vsw.shares=} ;;
  esac
done
hostname "$name"

# Modules in dependency order (build_guest.py resolved it from modules.dep): "name file".
while read -r mod file; do
  case ",$skip," in *",$mod,"*) continue ;; esac
  insmod "/lib/modules/$file" || error "insmod $mod failed"
done < /etc/vsw/modules

# Host directories shared with -virtfs: vsw.shares=tag1,tag2 mounts /mnt/<tag> (read-only).
for tag in $(echo "$shares" | tr , ' '); do
  mkdir -p "/mnt/$tag"
  mount -t 9p -o trans=virtio,version=9p2000.L,ro "$tag" "/mnt/$tag" || error "mount $tag failed"
done

# Waits (bounded) for a network interface: virtio_net probes synchronously, so this is only a
# guard against a slow probe, not a synchronisation point.
wait_dev() {
  i=0
  while [ ! -e "/sys/class/net/$1" ]; do
    i=$((i + 1)); [ $i -gt 100 ] && return 1
    sleep 0.1
  done
}

ip link set lo up
for spec in $(echo "$mtus" | tr , ' '); do
  dev=${spec%%:*}
  wait_dev "$dev" || { error "no interface $dev"; continue; }
  ip link set "$dev" mtu "${spec#*:}" || error "mtu $spec failed"
done
for spec in $(echo "$ips" | tr , ' '); do
  dev=${spec%%:*}
  wait_dev "$dev" || { error "no interface $dev"; continue; }
  ip addr add "${spec#*:}" dev "$dev" || error "address $spec failed"
  ip link set "$dev" up || error "link up $dev failed"
done

# Keep kernel messages off the console from here on (they would interleave with command
# output); `dmesg` still has them.
echo 1 > /proc/sys/kernel/printk
echo "@@vsw-booted@@ $(uname -r) $(hostname)"

# The command console. Each command arrives as one line "<id> <base64 of a shell script>"; the
# reply is "@@<id>@@B", the script's output (stdout and stderr), "@@<id>@@E<exit status>". The
# script runs after /etc/vsw/profile (functions making ping and ip the host's iputils and
# iproute2 tools), with stdin from /dev/null, so a command never eats the next one. The console
# is its own session on ttyS0 (setsid -c), so a ^C from the host (guest.py on a command
# timeout) kills it and whatever it runs; this loop then starts a fresh one.
while :; do
  setsid -c sh -c '
    stty -echo
    echo "@@vsw-console@@"
    while read -r id b64; do
      [ -n "$id" ] || continue
      { cat /etc/vsw/profile; echo "$b64" | base64 -d; } > "/tmp/cmd.$id"
      printf "\n@@%s@@B\n" "$id"
      sh "/tmp/cmd.$id" < /dev/null 2>&1
      rc=$?
      rm -f "/tmp/cmd.$id"
      printf "\n@@%s@@E%d\n" "$id" "$rc"
    done' < /dev/ttyS0 > /dev/ttyS0 2>&1
done
