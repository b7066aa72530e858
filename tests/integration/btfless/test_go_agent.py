#!/usr/bin/env python3
# The Go agent example (clients/go/examples/agent: cilium/ebpf 0.9.1 with
# btfdebpf.KernelTypes) on a host without BTF of its own (btfless.py): with
# btfd up it loads a real CO-RE object with the BTF btfd fetched from a
# loopback mirror and minimized for it; with btfd away it fails naming btfd
# unreachable, as libbtfd's helper does there (on a host with native BTF,
# goclient/test_go_agent.py shows both going on with the kernel's own).
import os, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from btfless import BtflessHost, NATIVE_BTF, stop
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, finish, fatal, skip_no_bpf

btfd, gotool, go_work, obj = sys.argv[1:5]
tmp = tempfile.mkdtemp(prefix="btfd-go-btfless-")
agent = os.path.join(tmp, "agent")
# Built before the namespace hides anything (Debian's Go, offline).
p = subprocess.run([gotool, go_work, "build", "-o", agent, "github.com/btfd/btfd/clients/go/examples/agent"],
                   capture_output=True, text=True, timeout=600)
if p.returncode != 0:
    fatal("building the agent: %s" % (p.stdout + p.stderr))


def run_agent(sock):
    p = subprocess.run([agent, obj], env=dict(os.environ, BTFD_SOCKET=sock), capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


# On the real host first: a refused bpf(2) is a missing privilege, not a failure.
rc, out, err = run_agent(os.path.join(tmp, "nobody"))
if "operation not permitted" in err.lower():
    skip_no_bpf("the agent's program load was refused: %s" % err.strip()[-200:])

host = BtflessHost(tmp, "ubuntu-20.04").enter()
d = None
try:
    check(not os.path.exists(NATIVE_BTF), "native BTF hidden in the namespace")
    mirror_dir = host.make_mirror("hub", {host.release: host.real_btf()})
    srv, mirror = host.serve(mirror_dir)
    sock = os.path.join(tmp, "btfd.sock")
    d = host.start_btfd(btfd, sock, os.path.join(tmp, "cache"), mirror)

    rc, out, err = run_agent(sock)
    print(out, err)
    check(rc == 0 and "load: ok" in out, "the agent loads its object on a BTF-less host through btfd: %s %s" % (out, err))
    check("btf: from btfd, minimized" in out, "KernelTypes gave btfd's minimized BTF: %s" % out)

    rc, out, err = run_agent(os.path.join(tmp, "nobody"))
    check(rc == 1 and "not reachable" in err and "btf: the kernel's own" not in out,
          "btfd away on a host without BTF: the agent fails naming btfd unreachable: %d %s %s" % (rc, out, err))
    srv.shutdown()
finally:
    stop(d)
    host.cleanup()
finish()
