#!/usr/bin/env python3
# One protocol, two clients: the same request table (requests.txt) through
# libbtfd (conformance.c) and the Go client (clients/go/internal/conformance)
# against one btfd serving the repo's btfhub fixtures. Every answer must be the
# code the table expects, and both clients must agree on codes, BTF digests,
# sizes, sources and flags; the Go client's error names must be the ones
# common/proto/errors.cpp maps to those codes.
import os, shutil, signal, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import varlink
from testlib import check, fatal, finish, hub_dir

btfd, c_client, gotool, workdir, table, obj = sys.argv[1:7]
names = {"-1001": "io.btfd.KernelNotInHub", "-1003": "io.btfd.InvalidObject", "-1004": "io.btfd.InvalidKernel"}

go_client = os.path.join(workdir, "conformance")
subprocess.run([gotool, workdir, "build", "-o", go_client,
                "github.com/btfd/btfd/clients/go/internal/conformance"], check=True)

tmp = tempfile.mkdtemp(prefix="btfd-conformance-")
sock = os.path.join(tmp, "btfd.sock")
args = [btfd, "--socket", sock, "--cache-dir", os.path.join(tmp, "cache"), "--idle-exit", "0", "--mirror", hub_dir()]
if not os.path.exists("/sys/kernel/btf/vmlinux"):
    # "This host" is then a host root whose kernel carries the fixture kernel's BTF.
    hostroot = os.path.join(tmp, "hostroot")
    os.makedirs(os.path.join(hostroot, "etc")); os.makedirs(os.path.join(hostroot, "sys/kernel/btf"))
    open(os.path.join(hostroot, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
    shutil.copy(os.environ.get("BTFD_FIXTURE_KERNEL_BTF") or fatal("BTFD_FIXTURE_KERNEL_BTF is not set"),
                os.path.join(hostroot, "sys/kernel/btf/vmlinux"))
    args += ["--host-root", hostroot]
d = subprocess.Popen(args, stderr=open(os.path.join(tmp, "btfd.log"), "w"))
try:
    varlink.wait_for_socket(sock, d)
    env = dict(os.environ, BTFD_SOCKET=sock)
    out = {}
    for name, exe in (("c", c_client), ("go", go_client)):
        # "Not an object": a small text file (btfd's own executable would do, but
        # under ASan it is larger than btfd's per-object limit: TooLarge).
        p = subprocess.run([exe, table, obj, table], env=env, capture_output=True, text=True, timeout=180)
        print("%s client:\n%s%s" % (name, p.stdout, p.stderr))
        check(p.returncode == 0, "%s client exited %d" % (name, p.returncode))
        out[name] = [l.split("\t") for l in p.stdout.splitlines()]
finally:
    d.send_signal(signal.SIGTERM); d.wait(timeout=20)

expected = [l.split() for l in open(table) if l.strip() and not l.startswith("#")]
check(len(out["c"]) == len(expected) and len(out["go"]) == len(expected), "one answer per request from each client")
for want, c, go in zip(expected, out["c"], out["go"]):
    name, code = want[0], want[6]
    check(c[:7] == go[:7], "%s: C and Go disagree: %s vs %s" % (name, c, go[:7]))
    check(c[1] == code, "%s: libbtfd answered %s, the table expects %s" % (name, c[1], code))
    check(go[1] == code, "%s: the Go client answered %s, the table expects %s" % (name, go[1], code))
    if code in names:
        check(go[7] == names[code], "%s: the Go client's error is %s, want %s" % (name, go[7], names[code]))
    if code == "0":
        check(len(c[2]) == 64 and int(c[3]) > 0, "%s: no BTF digest or size: %s" % (name, c))
byname = {r[0]: r for r in out["go"]}
if "host" in byname and "host-object" in byname:
    check(byname["host-object"][6] == "1" and byname["host"][6] == "0", "minimized only with an object")
    check(byname["host-object"][2] != byname["host"][2], "the minimized BTF is not the full one")
if "hub" in byname:
    check(byname["hub"][4] == "hub" and byname["hub"][5] == "1", "the fixture kernel comes from the hub, exact")
finish()
