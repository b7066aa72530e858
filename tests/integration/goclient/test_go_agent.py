#!/usr/bin/env python3
# The Go agent example (clients/go/examples/agent) loads a real CO-RE object with
# cilium/ebpf using the BTF a real btfd minimized for it; with btfd unreachable it
# goes on with the kernel's own BTF where there is one, else fails with a clear
# error.
import os, signal, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import skip_no_bpf, skip_not_root

btfd, gotool, workdir, obj = sys.argv[1:5]
agent = os.path.join(workdir, "agent")
subprocess.run([gotool, workdir, "build", "-o", agent, "github.com/btfd/btfd/clients/go/examples/agent"], check=True)
if os.geteuid() != 0:
    skip_not_root("the agent loads a BPF program")
tmp = tempfile.mkdtemp(prefix="btfd-go-agent-")
sock = os.path.join(tmp, "s")
d = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, "c"), "--idle-exit", "0"],
                     stderr=subprocess.DEVNULL)
try:
    varlink.wait_for_socket(sock, d)
    env = dict(os.environ, BTFD_SOCKET=sock)
    p = subprocess.run([agent, obj], env=env, capture_output=True, text=True, timeout=60)
    print(p.stdout, p.stderr)
    if "operation not permitted" in p.stderr.lower():
        skip_no_bpf("the agent's program load was refused")
    assert p.returncode == 0 and "load: ok" in p.stdout, "agent failed"
    assert "btf: from btfd, minimized" in p.stdout, "the agent did not use btfd's BTF"
    env["BTFD_SOCKET"] = os.path.join(tmp, "nobody")
    p = subprocess.run([agent, obj], env=env, capture_output=True, text=True, timeout=60)
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        # btfd away on a kernel with BTF of its own: the agent goes on with
        # the kernel's BTF, as libbtfd's helpers leave libbpf to it (whether
        # cilium/ebpf 0.9.1 can parse that BTF is the kernel's matter).
        assert "btf: the kernel's own" in p.stdout and "not reachable" not in p.stderr, (p.stdout, p.stderr)
    else:
        assert p.returncode == 1 and "not reachable" in p.stderr, p.stderr
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=20)
print("ok")
