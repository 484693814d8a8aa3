#!/usr/bin/env python3
# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Screenshot pages of a running Odoo (scripts/demo) in headless Chromium.

    python3 scripts/screenshot.py OUTPUT.png /odoo/crm [--wait CSS] [--size 1600x900]

Logs in (admin/admin by default), opens the page and saves a PNG once the
CSS selector given with --wait is on the page. Uses Chromium's DevTools
protocol through websocket-client, the library Odoo's own tours use.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import requests
import websocket


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Chrome:
    def __init__(self, width, height):
        self.profile = tempfile.mkdtemp(prefix="sfp_chrome_")
        port = free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as resp:
                    pages = [t for t in json.load(resp) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], suppress_origin=True
        )
        self.ids = 0
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("path")
    parser.add_argument(
        "--url", default=os.environ.get("ODOO_URL", "http://localhost:8069")
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("SALES_FUNNEL_PL_DEMO_DB", "sales_funnel_pl_demo"),
    )
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--wait", default=".o_action_manager .o_view_controller")
    parser.add_argument("--size", default="1600x900")
    parser.add_argument(
        "--js", help="JavaScript run once the page is ready (e.g. a click)"
    )
    parser.add_argument(
        "--sleep",
        type=float,
        default=1.5,
        help="seconds to wait before the screenshot (animations, --js steps)",
    )
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))

    session = requests.Session()
    response = session.post(
        f"{args.url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": args.db, "login": args.login, "password": args.password},
        },
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("error"):
        raise SystemExit(f"login failed: {response.json()['error']}")

    chrome = Chrome(width, height)
    try:
        chrome.call("Network.enable")
        chrome.call(
            "Network.setCookie",
            name="session_id",
            value=session.cookies["session_id"],
            url=args.url,
        )
        chrome.call("Page.navigate", url=args.url + args.path)
        deadline = time.time() + 60
        while not chrome.evaluate(f"!!document.querySelector({json.dumps(args.wait)})"):
            if time.time() > deadline:
                raise SystemExit(f"timeout waiting for {args.wait}")
            time.sleep(0.3)
        if args.js:
            chrome.evaluate(args.js)
        time.sleep(args.sleep)  # let animations, lazy widgets and --js steps settle
        png = chrome.call("Page.captureScreenshot", format="png")["data"]
        with open(args.output, "wb") as file:
            file.write(base64.b64decode(png))
        print(f"saved {args.output}")
    finally:
        chrome.close()


if __name__ == "__main__":
    main()
