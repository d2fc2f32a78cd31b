#!/usr/bin/env python3
"""A client that keeps sending requests to one model on several servers until told to stop (a
file appears) or a time limit passes, one thread per server, and counts what failed: the traffic a
fleet serves while `tritonpack rollout` runs. Standard library only.

Usage: request-loop.py --model M --url http://127.0.0.1:8000 [--url ...] --input NPY
       [--stop-file F] [--seconds 300] [--version V]   (prints one JSON line at the end)
"""
import argparse
import json
import os
import threading
import time
import urllib.request

import numpy as np

TYPES = {"float32": "FP32", "float64": "FP64", "int64": "INT64", "int32": "INT32", "uint8": "UINT8"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--input", required=True, help="INPUT_0.npy sent as INPUT_0 in every request")
    parser.add_argument("--stop-file")
    parser.add_argument("--seconds", type=float, default=300)
    arguments = parser.parse_args()
    array = np.load(arguments.input)
    body = json.dumps({"inputs": [{"name": "INPUT_0", "shape": list(array.shape), "datatype": TYPES[str(array.dtype)],
                                   "data": array.flatten().tolist()}]}).encode()
    deadline = time.time() + arguments.seconds
    lock = threading.Lock()
    counts = {"requests": 0, "failed": 0, "errors": [], "latencies_ms": []}

    def stopped():
        return time.time() > deadline or (arguments.stop_file and os.path.exists(arguments.stop_file))

    def run(url):
        while not stopped():
            start = time.perf_counter()
            try:
                request = urllib.request.Request(f"{url}/v2/models/{arguments.model}/infer", data=body)
                with urllib.request.urlopen(request, timeout=60) as answer:
                    json.load(answer)
                ok, error = True, None
            except Exception as exception:  # noqa: BLE001 (every failure counts)
                ok, error = False, f"{url}: {exception}"[:300]
            with lock:
                counts["requests"] += 1
                counts["latencies_ms"].append((time.perf_counter() - start) * 1000)
                if not ok:
                    counts["failed"] += 1
                    counts["errors"].append(error)

    threads = [threading.Thread(target=run, args=(url,)) for url in arguments.url]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(counts.pop("latencies_ms"))
    counts["p99_ms"] = latencies[int(len(latencies) * 0.99)] if latencies else None
    counts["errors"] = counts["errors"][:10]
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
