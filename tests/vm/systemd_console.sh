#!/bin/sh
# The command console of the systemd test guest (tests/vm/build_systemd_guest.py installs it as
# /usr/local/sbin/vsw-console, run by vsw-console.service). It speaks tests/vm/guest.py's console
# protocol on ttyS0, like guest_init.sh does for the busybox guest:
#   "@@vsw-booted@@ <kernel> <hostname>"  once, when systemd starts this service
#   "@@vsw-console@@"                     each time the console is ready for a command
# A command arrives as one line "<id> <base64 of a shell script>"; the reply is "@@<id>@@B", the
# script's output (stdout and stderr), "@@<id>@@E<exit status>". The console is its own session
# with ttyS0 as its controlling terminal (setsid -w -c), so guest.py's ^C on a command timeout
# kills it and what it runs; the loop then starts a fresh one.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
echo 1 > /proc/sys/kernel/printk   # kernel messages off the console (dmesg has them)
echo "@@vsw-booted@@ $(uname -r) $(hostname)" > /dev/ttyS0
while :; do
  setsid -w -c sh -c '
    stty -echo
    echo "@@vsw-console@@"
    while read -r id b64; do
      [ -n "$id" ] || continue
      echo "$b64" | base64 -d > "/run/vsw-cmd.$id"
      printf "\n@@%s@@B\n" "$id"
      sh "/run/vsw-cmd.$id" < /dev/null 2>&1
      rc=$?
      rm -f "/run/vsw-cmd.$id"
      printf "\n@@%s@@E%d\n" "$id" "$rc"
    done' < /dev/ttyS0 > /dev/ttyS0 2>&1
done
