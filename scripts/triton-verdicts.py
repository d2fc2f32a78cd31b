#!/usr/bin/env python3
"""Loads every model folder of a repository into the real tritonserver 2.51 (scripts/tritonserver,
explicit model control) one at a time and writes the server's verdict for each as JSON:

    {"<model>": {"loaded": bool, "crashed": bool, "message": "<the server's error, if any>"}}

("hung": true when two load requests on fresh servers got no answer.)

The message is the HTTP answer of the load request, or, when that only says
"failed to poll from model repository" (poll-stage errors), the server log's line for the model.
A model that makes the server die is recorded as crashed, and the server is started again.

Usage: scripts/triton-verdicts.py REPOSITORY OUT.json [--disable-auto-complete-config] [MODEL ...]
Used to (re)generate Tests/Fixtures/lint-corpus/expected.json (see its README.md) and for the
experiments behind the crash rules.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, repository, strict, log_path):
        self.http = free_port()
        grpc, metrics = free_port(), free_port()
        self.log_path = log_path
        self.log = open(log_path, "ab")
        args = [os.path.join(ROOT, "scripts/tritonserver"), "--model-repository", repository,
                "--model-control-mode=explicit", "--http-port", str(self.http), "--grpc-port", str(grpc),
                "--metrics-port", str(metrics), "--log-verbose=0", "--exit-on-error=false"]
        if strict:
            args.append("--disable-auto-complete-config")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("tritonserver exited at start-up; see " + log_path)
            try:
                if self.request("GET", "/v2/health/live")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("tritonserver not live; see " + log_path)

    def request(self, method, path, timeout=90):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http}{path}", method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def log_size(self):
        self.log.flush()
        return os.path.getsize(self.log_path)

    def log_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.alive():
            self.process.send_signal(2)  # SIGINT: a clean stop (Python stubs release /dev/shm)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def verdict(server, model):
    offset = server.log_size()
    try:
        status, body = server.request("POST", f"/v2/repository/models/{model}/load")
    except OSError:
        return None  # no answer in time (a loaded machine): the caller retries on a fresh server
    time.sleep(0.1)
    log = server.log_since(offset)
    if not server.alive():
        return {"loaded": False, "crashed": True, "message": ""}
    if status == 200:
        server.request("POST", f"/v2/repository/models/{model}/unload")
        return {"loaded": True, "crashed": False, "message": ""}
    try:
        message = json.loads(body).get("error", body)
    except ValueError:
        message = body
    if "failed to poll from model repository" in message:
        lines = [line for line in log.splitlines()
                 if line.startswith("E") and (f"'{model}'" in line or "repo agent" in line or "failed to read text proto" in line)]
        if lines:
            message = re.sub(r"^E\d{4} [0-9:.]+ +\d+ [^\]]+\] ", "", lines[0])
    return {"loaded": False, "crashed": False, "message": message}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    strict = "--disable-auto-complete-config" in sys.argv
    repository, out, only = os.path.abspath(args[0]), args[1], args[2:]
    models = only or sorted(d for d in os.listdir(repository) if os.path.isdir(os.path.join(repository, d)))
    work = tempfile.mkdtemp(prefix="triton-verdicts-")
    log_path = os.path.join(work, "server.log")
    results = {}
    server = Server(repository, strict, log_path)
    try:
        for model in models:
            result = verdict(server, model)
            if result is None:
                server.stop()
                server = Server(repository, strict, log_path)
                result = verdict(server, model)
            if result is None:
                # The load never returns (seen: a Python model whose version folder is "1abc": the
                # stub looks in "1/" and the load hangs): the model never becomes available.
                result = {"loaded": False, "crashed": False, "hung": True, "message": "no answer to the load request"}
                server.stop()
                server = Server(repository, strict, log_path)
            results[model] = result
            state = "crashed" if results[model]["crashed"] else "loaded" if results[model]["loaded"] else "refused"
            print(f"{model}: {state} {results[model]['message'][:200]}", flush=True)
            if results[model]["crashed"]:
                server.stop()
                server = Server(repository, strict, log_path)
    finally:
        server.stop()
    with open(out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
        f.write("\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
