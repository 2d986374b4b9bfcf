"""Reference path (b): a Linux bridge in its own namespace with one veth pair per end.

Whatever the port kind measured for vsw, the Linux bridge path is the same (a kernel bridge
takes no tap or AF_PACKET user-space hop); it is the upper bound the issue compares against.
"""
from endpoints import Endpoints, address, subnet, veth_into
from shell import add_namespace, sh


class LinuxBridge:
    name = "linux-bridge"

    def __init__(self, teardown, workdir, index, kind):
        self.kind = kind
        sw = add_namespace(teardown, f"{index}lb")
        client = add_namespace(teardown, f"{index}lbc")
        server = add_namespace(teardown, f"{index}lbs")
        sh(f"ip -n {sw} link add br0 type bridge")
        sh(f"ip -n {sw} link set br0 up")
        net = subnet(index)
        for ns, outer, host in ((client, "pc", 1), (server, "ps", 2)):
            veth_into(sw, outer, ns)
            sh(f"ip -n {sw} link set {outer} master br0")
            address(ns, "eth0", f"{net}.{host}/24")
        self.endpoints = Endpoints(client, server, f"{net}.2", "eth0", "eth0")

    def describe(self):
        return "Linux bridge, veth pairs"

    def before_run(self):
        pass

    def after_run(self):
        return {}
