"""Shell commands and guaranteed teardown for the kernel-path benchmark.

Every object the benchmark creates (namespace, process, scratch directory) registers its undo
action with a Teardown; run_bench.py runs them in reverse order in a `finally`, and on SIGTERM /
SIGINT, so a failed or interrupted run leaves nothing behind.
"""
import os
import subprocess
import time

# Unique per run: every namespace and interface name starts with it.
PREFIX = f"vkp{os.getpid() % 10000}"


def sh(cmd, check=True, timeout=120):
    """Runs a shell command; returns the CompletedProcess (text). Raises on failure if check."""
    res = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise RuntimeError(f"command failed ({res.returncode}): {cmd}\n{res.stdout}{res.stderr}")
    return res


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it is true; raises with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Teardown:
    """A stack of undo actions, run last-in first-out; errors in one do not stop the others."""

    def __init__(self):
        self._actions = []

    def push(self, what, action):
        self._actions.append((what, action))

    def run(self):
        while self._actions:
            what, action = self._actions.pop()
            try:
                action()
            except Exception as e:  # keep tearing down the rest
                print(f"teardown of {what} failed: {e}")


def add_namespace(teardown, short):
    """Creates namespace <PREFIX><short> with lo up; removed (its processes killed) at teardown."""
    ns = f"{PREFIX}{short}"
    sh(f"ip netns add {ns}")

    def remove():
        sh(f"ip netns pids {ns} | xargs -r kill -9", check=False)
        sh(f"ip netns del {ns}", check=False)

    teardown.push(f"namespace {ns}", remove)
    sh(f"ip -n {ns} link set lo up")
    return ns


def spawn(teardown, what, argv, log_path, netns=None):
    """Starts a long-running process (inside `netns` if given), output to `log_path`; it is
    terminated (then killed) at teardown. Returns the Popen."""
    if netns is not None:
        argv = ["ip", "netns", "exec", netns] + list(argv)
    log = open(log_path, "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def stop():
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()

    teardown.push(what, stop)
    return proc
