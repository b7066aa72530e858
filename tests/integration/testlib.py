# SPDX-License-Identifier: GPL-2.0-or-later
# Shared pieces of the python integration tests: soft checks that report every
# failure before exiting, and a loopback HTTP server serving a directory.
import http.server, os, sys, threading

failures = []

def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)

def finish():
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok")
    sys.exit(0)

def shared_hub_dir():
    """../shared/btfhub-sample, or exit 77 (skip) when it is absent."""
    d = os.path.join(os.environ.get("BTFD_SHARED_DIR", ""), "btfhub-sample")
    if not os.path.isdir(d):
        print("SKIP: ../shared/btfhub-sample is absent")
        sys.exit(77)
    return d

def serve_dir(directory, port=0, handler_base=http.server.SimpleHTTPRequestHandler):
    """A threaded HTTP server on 127.0.0.1 serving directory; returns (server, base URL)."""
    class Handler(handler_base):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=directory, **kw)
        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d" % srv.server_address[1]
