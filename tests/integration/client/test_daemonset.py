#!/usr/bin/env python3
# docs/examples/daemonset.yaml is valid YAML and a consistent DaemonSet: its
# selector matches its pods, every mount names a volume, and the only thing
# taken from the host is btfd's socket directory, mounted where libbtfd looks
# ($BTFD_SOCKET, else the default socket). libbtfd(3) shows the same mount.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, fatal, finish, source_root

try:
    import yaml
except ImportError:
    fatal("python3-yaml is missing (scripts/deps.sh installs it)")

path, default_socket = sys.argv[1], sys.argv[2]
with open(path) as f:
    docs = list(yaml.safe_load_all(f))
check(len(docs) == 1 and isinstance(docs[0], dict), "one YAML document")
ds = docs[0]
check(ds.get("apiVersion") == "apps/v1" and ds.get("kind") == "DaemonSet", "an apps/v1 DaemonSet")
spec = ds.get("spec", {})
template = spec.get("template", {})
labels = template.get("metadata", {}).get("labels", {})
selector = spec.get("selector", {}).get("matchLabels", {})
check(selector and all(labels.get(k) == v for k, v in selector.items()), "the selector matches the pod template")
pod = template.get("spec", {})
volumes = {v["name"]: v for v in pod.get("volumes", [])}
host_paths = {n: v["hostPath"] for n, v in volumes.items() if "hostPath" in v}
socket_dir = os.path.dirname(default_socket)
check(list(host_paths.values()) == [{"path": socket_dir, "type": "Directory"}],
      "the only host path is btfd's socket directory %s, as a directory: %s" % (socket_dir, host_paths))
for key in ("hostPID", "hostNetwork", "hostIPC"):
    check(not pod.get(key), "the pod does not take the host's %s" % key)
containers = pod.get("containers", [])
check(len(containers) >= 1, "at least one container")
for c in containers:
    check(not c.get("securityContext", {}).get("privileged"), "%s is not privileged" % c.get("name"))
    mounts = c.get("volumeMounts", [])
    for m in mounts:
        check(m.get("name") in volumes, "%s mounts a declared volume (%s)" % (c.get("name"), m.get("name")))
    socket_mounts = [m for m in mounts if m.get("name") in host_paths]
    check(len(socket_mounts) == 1 and socket_mounts[0].get("readOnly") is True,
          "%s mounts the socket directory once, read-only" % c.get("name"))
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    sock = env.get("BTFD_SOCKET", default_socket)
    check(socket_mounts and os.path.dirname(sock) == socket_mounts[0].get("mountPath"),
          "%s's btfd socket %s lies in the mounted directory" % (c.get("name"), sock))
    timeout = env.get("BTFD_TIMEOUT_MSEC")
    check(timeout is None or (isinstance(timeout, str) and timeout.isdigit()),
          "BTFD_TIMEOUT_MSEC is a string of digits, as Kubernetes wants env values (%r)" % timeout)

man = open(os.path.join(source_root(), "docs", "man", "libbtfd.3.scd")).read()
check("daemonset.yaml" in man and "hostPath" in man and socket_dir in man,
      "libbtfd(3) shows the container case and names the example")
finish()
