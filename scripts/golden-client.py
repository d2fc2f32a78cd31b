#!/usr/bin/env python3
"""An independent client (NVIDIA's tritonclient, not tritonpack's) that checks a served model
against golden data: N threads, each with its own connection, send requests and compare every
answer with the golden outputs.

With --split-rows (for a model with max_batch_size > 1), each request carries one row of the
golden inputs and must get back that row of the golden outputs, so that the dynamic batcher
stacks requests from several clients into one execution.

Usage: golden-client.py URL MODEL GOLDEN_DIR [--concurrency 8] [--requests 32] [--split-rows]
       [--rtol 1e-5] [--atol 1e-6]
Prints one JSON line; exit 0 only when every request succeeded and every answer matched."""
import argparse
import glob
import json
import os
import sys
import threading
import time

import numpy as np
import tritonclient.http as http
from tritonclient.utils import np_to_triton_dtype


def load(folder, prefix):
    files = sorted(glob.glob(os.path.join(folder, f"{prefix}_*.npy")), key=lambda p: int(p.rsplit("_", 1)[1][:-4]))
    return [(os.path.basename(path)[:-4], np.load(path)) for path in files]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("model")
    parser.add_argument("golden")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--split-rows", action="store_true")
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--atol", type=float, default=1e-6)
    parser.add_argument("--timeout", type=float, default=600)
    arguments = parser.parse_args()

    inputs = load(arguments.golden, "INPUT")
    outputs = load(arguments.golden, "OUTPUT")
    cases = []
    if arguments.split_rows:
        rows = inputs[0][1].shape[0]
        for row in range(rows):
            cases.append(([(name, array[row:row + 1]) for name, array in inputs],
                          [(name, array[row:row + 1]) for name, array in outputs]))
    else:
        cases.append((inputs, outputs))

    lock = threading.Lock()
    counter = iter(range(arguments.requests))
    results = {"requests": 0, "failed": 0, "mismatched": 0, "errors": []}

    def worker():
        client = http.InferenceServerClient(arguments.url, connection_timeout=arguments.timeout,
                                            network_timeout=arguments.timeout)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            sent, expected = cases[index % len(cases)]
            request = []
            for name, array in sent:
                tensor = http.InferInput(name, list(array.shape), np_to_triton_dtype(array.dtype))
                tensor.set_data_from_numpy(array, binary_data=True)
                request.append(tensor)
            wanted = [http.InferRequestedOutput(name, binary_data=True) for name, _ in expected]
            try:
                answer = client.infer(arguments.model, request, outputs=wanted)
            except Exception as error:  # noqa: BLE001 (every failure is reported)
                with lock:
                    results["requests"] += 1
                    results["failed"] += 1
                    results["errors"].append(str(error)[:300])
                continue
            problems = []
            for name, array in expected:
                got = answer.as_numpy(name)
                if got is None or got.shape != array.shape or got.dtype != array.dtype:
                    problems.append(f"{name}: got {None if got is None else (got.shape, str(got.dtype))}, "
                                    f"expected {(array.shape, str(array.dtype))}")
                elif array.dtype.kind in "fc":
                    if not np.allclose(got, array, rtol=arguments.rtol, atol=arguments.atol):
                        problems.append(f"{name}: max abs error {float(np.max(np.abs(got - array)))}")
                elif not np.array_equal(got, array):
                    problems.append(f"{name}: values differ")
            with lock:
                results["requests"] += 1
                if problems:
                    results["mismatched"] += 1
                    results["errors"].append(f"request {index}: " + "; ".join(problems))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(arguments.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results["seconds"] = time.perf_counter() - started
    results["errors"] = results["errors"][:10]
    print(json.dumps(results))
    ok = results["requests"] == arguments.requests and results["failed"] == 0 and results["mismatched"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
