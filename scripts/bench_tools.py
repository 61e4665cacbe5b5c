#!/usr/bin/env python3
"""Helpers for scripts/bench that wrk cannot do: large streamed transfers with an RSS watch,
many idle connections, many services, cold start. Standard library only.

  bench_tools.py sink PORT                     HTTP/1.1 server that reads and discards bodies
  bench_tools.py transfer PID HOST PORT PATH TOKEN up|down BYTES
                                               one upload (Content-Length, zeros) or download,
                                               prints "bytes seconds rss_growth_mib"
  bench_tools.py hold HOST PORT PATH TOKEN N SECONDS
                                               opens N keep-alive connections (one request
                                               each), keeps them idle for SECONDS
  bench_tools.py services N BACKEND_URL        YAML with N services (bench-0 … bench-N-1)
  bench_tools.py coldstart BINARY URL          seconds from exec to /health/ready == 200
"""
import os
import socket
import subprocess
import sys
import threading
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sink(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)

    def serve(conn):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                remaining = length - len(buf)
                buf = b"" if remaining >= 0 else buf[length:]
                while remaining > 0:
                    data = conn.recv(min(remaining, 1 << 20))
                    if not data:
                        return
                    remaining -= len(data)
                body = b'{"ok":true}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        finally:
            conn.close()

    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def transfer(pid, host, port, path, token, direction, total):
    baseline = rss_kib(pid)
    peak = [baseline]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    s = socket.create_connection((host, port))
    start = time.time()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    moved = 0
    if direction == "up":
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: bench\r\n{auth}Content-Type: application/octet-stream\r\n"
                  f"Content-Length: {total}\r\nConnection: close\r\n\r\n".encode())
        chunk = b"\0" * (1 << 20)
        while moved < total:
            n = min(len(chunk), total - moved)
            s.sendall(chunk[:n])
            moved += n
        response = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            response += data
        ok = response.startswith(b"HTTP/1.1 200")
    else:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}Connection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(65536)
        head, rest = head.split(b"\r\n\r\n", 1)
        ok = head.startswith(b"HTTP/1.1 200")
        moved = len(rest)
        while True:
            data = s.recv(1 << 20)
            if not data:
                break
            moved += len(data)
    elapsed = time.time() - start
    done.set()
    watcher.join()
    s.close()
    if not ok or (direction == "down" and moved != total):
        sys.stderr.write(f"transfer failed after {moved} bytes: {(response if direction == 'up' else head)[:300]!r}\n")
        print(f"0 {elapsed:.2f} -1")
        return
    print(f"{moved} {elapsed:.2f} {(peak[0] - baseline) / 1024:.1f}")


def hold(host, port, path, token, count, seconds):
    conns = []
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    for _ in range(count):
        s = socket.create_connection((host, port))
        s.sendall(request)
        conns.append(s)
    answered = 0
    for s in conns:
        s.settimeout(10)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                more = s.recv(65536)
                if not more:
                    break
                data += more
        except OSError:
            pass
        answered += data.startswith(b"HTTP/1.1 200")
    print(f"holding {len(conns)} connections ({answered} answered 200)", flush=True)
    time.sleep(seconds)
    for s in conns:
        s.close()


def services(count, backend):
    print("services:")
    for i in range(count):
        print(f"  - {{name: bench-{i}, url: \"{backend}\", base_path: /, rate_limit: {{requests: 1000000000, window_seconds: 60}}}}")


def coldstart(binary, url):
    start = time.time()
    proc = subprocess.Popen([binary], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host, port = url.split("//")[1].split("/")[0].split(":")
    try:
        while time.time() - start < 30:
            try:
                s = socket.create_connection((host, int(port)), timeout=1)
                s.sendall(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    print(f"{time.time() - start:.3f}")
                    return
                s.close()
            except OSError:
                pass
            time.sleep(0.005)
        print("timeout")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sink":
        sink(int(args[0]))
    elif cmd == "transfer":
        transfer(int(args[0]), args[1], int(args[2]), args[3], args[4], args[5], int(args[6]))
    elif cmd == "hold":
        hold(args[0], int(args[1]), args[2], args[3], int(args[4]), float(args[5]))
    elif cmd == "services":
        services(int(args[0]), args[1])
    elif cmd == "coldstart":
        coldstart(args[0], args[1])
