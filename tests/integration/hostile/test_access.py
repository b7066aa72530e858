#!/usr/bin/env python3
# Who may call privileged methods, with real unprivileged uids: AllowGroup by
# primary and by supplementary group (SO_PEERGROUPS), a non-member denied, and
# the admin socket (mode 0660, group AllowGroup) as the shipped units use it:
# the kernel refuses non-members at connect(), members are privileged there
# whatever btfd can tell of their groups.
import json, os, shutil, signal, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib, varlink
from testlib import check

# The interpreter other uids can run (the one running this test may live in a
# private directory, e.g. under /root).
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

btfd, btfctl = sys.argv[1:3]
if os.geteuid() != 0:
    testlib.skip_not_root("clients run as other uids and groups")
native_src = os.environ.get("BTFD_FIXTURE_KERNEL_BTF") or testlib.fatal("BTFD_FIXTURE_KERNEL_BTF is not set")
GROUP = 4242  # a group no one else uses: numeric, no /etc/group entry needed
MEMBER, OUTSIDER = 65534, 65533

tmp = tempfile.mkdtemp(prefix="btfd-access-")
os.chmod(tmp, 0o755)
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "varlink.py"), tmp)
hostroot = os.path.join(tmp, "host")
os.makedirs(os.path.join(hostroot, "etc")); os.makedirs(os.path.join(hostroot, "sys/kernel/btf"))
open(os.path.join(hostroot, "etc/os-release"), "w").write('ID=ubuntu\nVERSION_ID="20.04"\n')
shutil.copy(native_src, os.path.join(hostroot, "sys/kernel/btf/vmlinux"))
sock, admin = os.path.join(tmp, "btfd.sock"), os.path.join(tmp, "admin.sock")
os.makedirs(os.path.join(tmp, "nohub"))  # an empty mirror: a missing directory would stop btfd at start-up
daemon = subprocess.Popen([btfd, "--socket", sock, "--admin-socket", admin, "--allow-group", str(GROUP),
                           "--cache-dir", os.path.join(tmp, "cache"), "--mirror", os.path.join(tmp, "nohub"),
                           "--idle-exit", "0", "--host-root", hostroot],
                          stderr=open(os.path.join(tmp, "btfd.log"), "w"))
varlink.wait_for_socket(sock, daemon)

CLIENT = r"""
import json, sys
sys.path.insert(0, %r)
import varlink
try:
    c = varlink.Conn(sys.argv[1], timeout=20)
    r, _ = c.call("io.btfd.GarbageCollect", {})
    print(json.dumps(r.get("error") or "ok"))
except OSError as e:
    print(json.dumps("connect: %%s" %% e.strerror))
"""

def gc_as(uid, gid, groups, path):
    r = subprocess.run([PY, "-c", CLIENT % tmp, path], user=uid, group=gid, extra_groups=groups,
                       capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout) if r.returncode == 0 else r.stderr

try:
    st = os.stat(admin)
    check(st.st_mode & 0o777 == 0o660 and st.st_gid == GROUP, "admin socket is 0660, group %d" % GROUP)
    check(gc_as(MEMBER, GROUP, [], sock) == "ok", "a member by primary group may GarbageCollect")
    check(gc_as(MEMBER, MEMBER, [GROUP], sock) == "ok", "a member by supplementary group may GarbageCollect")
    check(gc_as(OUTSIDER, OUTSIDER, [], sock) == "io.btfd.PermissionDenied", "a non-member is denied")
    check(gc_as(MEMBER, MEMBER, [GROUP], admin) == "ok", "a member is served on the admin socket")
    r = gc_as(OUTSIDER, OUTSIDER, [], admin)
    check(r == "connect: Permission denied", "the kernel refuses a non-member at the admin socket: %s" % r)
    check(gc_as(0, 0, [], sock) == "ok", "root may GarbageCollect")
    # btfctl's view of a denial: the error's name and btfd's message.
    r = subprocess.run([btfctl, "--socket", sock, "gc"], user=OUTSIDER, group=OUTSIDER, capture_output=True, text=True)
    check(r.returncode == 1 and "PermissionDenied" in r.stderr, "btfctl gc as a non-member: %r" % r.stderr)
finally:
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=20)
    if testlib.failures: print(open(os.path.join(tmp, "btfd.log")).read()[-3000:])
    shutil.rmtree(tmp, ignore_errors=True)
testlib.finish()
