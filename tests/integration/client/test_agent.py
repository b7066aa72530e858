#!/usr/bin/env python3
# The documented agent example, built against libbtfd, loads a real CO-RE object
# with libbpf using BTF minimized for it by a real btfd (forced, since this host
# has BTF), handed over as /proc/self/fd/N with no file written.
import os, signal, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import skip_no_bpf, skip_not_root

btfd, agent, obj = sys.argv[1:4]
if os.geteuid() != 0:
    skip_not_root("the agent loads a BPF program")
tmp = tempfile.mkdtemp(prefix="btfd-agent-")
sock = os.path.join(tmp, "s")
d = subprocess.Popen([btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, "c"), "--idle-exit", "0"],
                     stderr=subprocess.DEVNULL)
try:
    varlink.wait_for_socket(sock, d)
    tmpdir = os.path.join(tmp, "t"); os.mkdir(tmpdir)
    env = dict(os.environ, BTFD_SOCKET=sock, BTFD_FORCE="1", TMPDIR=tmpdir)
    p = subprocess.run([agent, obj], env=env, capture_output=True, text=True, timeout=60)
    print(p.stdout, p.stderr)
    if "Operation not permitted" in p.stderr:
        skip_no_bpf("the agent's program load was refused")
    assert p.returncode == 0 and "load: ok" in p.stdout, "agent failed"
    assert "btf: /proc/self/fd/" in p.stdout, "the agent did not use the descriptor btfd passed"
    assert os.listdir(tmpdir) == [], "the agent wrote to $TMPDIR: %s" % os.listdir(tmpdir)
    # btfd unreachable: a clear error, non-zero exit.
    env["BTFD_SOCKET"] = os.path.join(tmp, "nobody")
    p = subprocess.run([agent, obj], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "not reachable" in p.stderr, p.stderr
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=20)
print("ok")
