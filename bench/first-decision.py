#!/usr/bin/env python3
"""Starts a command, POSTs one check to it every 2 ms until one is answered 200 or 429, then stops it.

    first-decision.py PORT BODY -- COMMAND...

Prints "<ms from process start to the first decision> <RSS in MiB at that moment> <status>".
The clock starts just before the process is spawned; a refused connection is retried at once.
"""
import socket
import subprocess
import sys
import time

port = int(sys.argv[1])
body = sys.argv[2].encode()
command = sys.argv[sys.argv.index("--") + 1:]
request = (b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body


def ask():
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data.split(b" ", 2)[1].decode()


start = time.monotonic()
process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
status = "none"
try:
    while time.monotonic() - start < 60 and process.poll() is None:
        try:
            status = ask()
            if status in ("200", "429"):
                break
        except OSError:
            pass
        time.sleep(0.002)
    elapsed_ms = (time.monotonic() - start) * 1000
    rss_mib = 0.0
    with open("/proc/%d/status" % process.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_mib = int(line.split()[1]) / 1024
    print("%.0f %.1f %s" % (elapsed_ms, rss_mib, status))
finally:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
