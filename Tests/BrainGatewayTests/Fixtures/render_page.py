"""Loads a page in headless Chromium, lets it run for a few seconds, prints its DOM.

Drives Chromium through the DevTools protocol over --remote-debugging-pipe (fd 3: commands
in, fd 4: replies out; JSON messages ended by NUL), so long-lived requests the page keeps open
(its EventSource) do not stop the dump, as they stop --virtual-time-budget.
Usage: render_page.py CHROMIUM URL SECONDS"""
import json
import os
import select
import subprocess
import sys
import tempfile
import time

chromium, url, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
to_browser_r, to_browser_w = os.pipe()
from_browser_r, from_browser_w = os.pipe()


def child_fds():
    # Move both ends above 4 first, so neither dup2 overwrites the other.
    commands, replies = os.dup(to_browser_r), os.dup(from_browser_w)
    os.dup2(commands, 3)
    os.dup2(replies, 4)
    os.set_inheritable(3, True)
    os.set_inheritable(4, True)


profile = tempfile.mkdtemp(prefix="chromium-")
browser = subprocess.Popen(
    [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
     "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank"],
    close_fds=False, preexec_fn=child_fds,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_browser_r)
os.close(from_browser_w)
buffer = b""
next_id = 0


def send(method, params=None, session=None):
    global next_id
    next_id += 1
    message = {"id": next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_browser_w, json.dumps(message).encode() + b"\0")
    return next_id


def wait_for(reply_id, timeout=20):
    global buffer
    deadline = time.time() + timeout
    while time.time() < deadline:
        while b"\0" in buffer:
            raw, buffer = buffer.split(b"\0", 1)
            message = json.loads(raw)
            if message.get("id") == reply_id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]
        ready, _, _ = select.select([from_browser_r], [], [], 0.2)
        if ready:
            chunk = os.read(from_browser_r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium exited")
            buffer += chunk
    raise TimeoutError("no reply from chromium")


def drain(seconds):
    """Reads (and drops) events for a while, so the pipe never fills."""
    global buffer
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([from_browser_r], [], [], 0.1)
        if ready:
            buffer += os.read(from_browser_r, 1 << 20)
            buffer = buffer.split(b"\0")[-1]


try:
    target = wait_for(send("Target.createTarget", {"url": "about:blank"}))["targetId"]
    session = wait_for(send("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
    wait_for(send("Page.navigate", {"url": url}, session))
    drain(seconds)
    result = wait_for(send("Runtime.evaluate", {"expression": "document.documentElement.outerHTML", "returnByValue": True}, session))
    print(result["result"]["value"])
finally:
    try:
        send("Browser.close")
    except OSError:
        pass
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        browser.kill()
