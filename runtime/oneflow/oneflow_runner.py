"""Runs a graph saved by OneFlow's `flow.save(graph, dir)` with OneFlow's own runtime, the way the
`oneflow` Triton backend (OneFlow Serving) loads it through `oneflow_api::Graph`:

- the job comes from `<dir>/model.mlir` (OneFlow's `LoadJobFromIR`), renamed to a unique job name,
  marked as a predict job, and placed on one device (`cpu`, or `cuda` device N);
- only the variables the job declares are read, from `<dir>/<variable op name>/out`;
- with a batch size (the config's `max_batch_size > 0`) dimension 0 of every input is rewritten
  to it, as `Graph::set_batch_size` does, and each call is padded to it; only the real rows return.

Tensors are numbered the way tritonpack's config numbers them: `INPUT_<k>` is the k-th Python
argument and `OUTPUT_<k>` the k-th Python return value, read from the interface op names
(`_G_1_input.0.<k>_<id>`, `_G_1_output.0.0.<k>_<id>`), never from the order in the file.

Also a command line: `check DIR` (does OneFlow parse model.mlir? OneFlow calls exit(1) when it
cannot, so callers run it in a child process), `run DIR --inputs IN --outputs OUT` (computes the
outputs for INPUT_<k>.npy files without any server), `bench DIR` (the runtime's own speed), and,
without importing OneFlow, `describe` (this Python's version and whether it has OneFlow) and
`stub-launcher --stub STUB` (the launcher a Triton model folder uses as its Python-backend stub).
"""
import argparse
import importlib.util
import json
import os
import shlex
import site
import sysconfig
import re
import subprocess
import sys
import time
import uuid

import numpy as np

_CHECK_PASSED = "tritonpack: model.mlir parses"
_INTERFACE_POSITION = re.compile(r"(?:^|[_-])(input|output)[._]([0-9]+(?:\.[0-9]+)*)(?:_[0-9]+)?$")

# OneFlow DataType enum values (oneflow/core/common/data_type.proto) the backend can serve.
_NUMPY_TYPES = {2: np.float32, 3: np.float64, 4: np.int8, 5: np.int32, 6: np.int64, 7: np.uint8, 9: np.float16}


def python_position(op_name):
    """The Python position of an interface op, from its name: `_G_1_output.0.0.1_4` -> (0, 0, 1)."""
    match = _INTERFACE_POSITION.search(op_name)
    if match is None:
        raise ValueError(f"cannot tell the Python position of '{op_name}' from its op name")
    return tuple(int(part) for part in match.group(2).split("."))


def name_index(name, prefix):
    """The index in a tensor name after `prefix` as the backend reads it (atoi): the digits up to
    the first other character, 0 without any (`INPUT_12x` -> 12)."""
    digits = ""
    for character in name[len(prefix):]:
        if not character.isdigit():
            break
        digits += character
    return int(digits) if digits else 0


def fit_inputs(arrays, input_specs, batch_size):
    """The arrays of one call as the graph takes them (`input_specs`: its (shape, numpy type) per
    input) and how many of their rows are real (None without a batch size). With a batch size every
    input needs the graph's shape past dimension 0 and 1 to batch_size rows, the same in all inputs,
    and is padded with zero rows to batch_size; without one it needs the graph's shape exactly."""
    if len(arrays) != len(input_specs):
        raise ValueError(f"the graph takes {len(input_specs)} inputs, got {len(arrays)}")
    rows = None
    fitted = []
    for index, (array, (shape, numpy_type)) in enumerate(zip(arrays, input_specs)):
        array = np.ascontiguousarray(array, dtype=numpy_type)
        if batch_size > 0:
            if array.ndim != len(shape) or array.shape[1:] != shape[1:] or not 1 <= array.shape[0] <= batch_size:
                raise ValueError(f"INPUT_{index}: shape {list(array.shape)} does not fit {list(shape)} "
                                 f"with 1 to {batch_size} rows")
            if rows is not None and array.shape[0] != rows:
                raise ValueError("all inputs of one call need the same number of rows")
            rows = array.shape[0]
            if rows < batch_size:
                padding = np.zeros((batch_size - rows,) + tuple(shape[1:]), dtype=numpy_type)
                array = np.concatenate([array, padding])
        elif tuple(array.shape) != shape:
            raise ValueError(f"INPUT_{index}: shape {list(array.shape)}, but the saved graph takes {list(shape)}")
        fitted.append(array)
    return fitted, rows


def real_rows(results, rows, batch_size):
    """The graph's outputs without the padding rows fit_inputs added: outputs with batch_size rows
    keep their first `rows`; others (and every output when rows is None) are returned as they are."""
    if rows is None:
        return results
    return [result[:rows] if result.ndim and result.shape[0] == batch_size else result for result in results]


def join_requests(per_request):
    """A dynamic batch as the backend gathers it: each input of all requests (lists of arrays in the
    same order) concatenated along dimension 0, and each request's number of rows."""
    rows = [arrays[0].shape[0] for arrays in per_request]
    joined = [np.concatenate([arrays[k] for arrays in per_request]) for k in range(len(per_request[0]))]
    return joined, rows


def split_rows(results, rows):
    """The outputs of a joined batch handed back per request: request i gets rows[i] rows of each
    output, in order; rows None (one request, no batching) gets the outputs whole."""
    if rows is None:
        return [list(results)]
    per_request = []
    start = 0
    for count in rows:
        per_request.append([result[start:start + count] for result in results])
        start += count
    return per_request


def as_config_type(value, numpy_type):
    """An output under the data type its config declares, as the backend copies it: the graph's
    bytes reinterpreted where the sizes agree, else converted."""
    if value.dtype.itemsize == np.dtype(numpy_type).itemsize:
        return np.ascontiguousarray(value).view(numpy_type)
    return value.astype(numpy_type)


def describe():
    """This interpreter, as a server needs to know it to run OneFlow with it."""
    sites = [path for path in site.getsitepackages() if os.path.isdir(path)]
    libraries = [sysconfig.get_config_var("LIBDIR") or ""]
    for path in sites:
        for sub in ("nvidia/cudnn/lib", "nvidia/cublas/lib"):  # the wheel links them even on CPU
            if os.path.isdir(os.path.join(path, sub)):
                libraries.append(os.path.join(path, sub))
    return {"python": sys.executable, "version": "%d.%d" % sys.version_info[:2],
            "oneflow": importlib.util.find_spec("oneflow") is not None,
            "site_packages": sites, "library_dirs": [path for path in libraries if path]}


def stub_launcher(stub):
    """A script the Python backend runs in place of its stub (it runs a model folder's own
    `triton_python_backend_stub` when there is one): it gives only that model's stub this Python's
    packages and libraries, then runs the real stub, which must be built for this Python's version."""
    here = describe()
    return "\n".join([
        "#!/bin/sh",
        f"# Written by tritonpack: the Python-backend stub for OneFlow's Python {here['version']}, with its packages.",
        f"PYTHONPATH={shlex.quote(':'.join(here['site_packages']))}${{PYTHONPATH:+:$PYTHONPATH}}",
        f"LD_LIBRARY_PATH={shlex.quote(':'.join(here['library_dirs']))}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}",
        f"TRITONPACK_ONEFLOW_PYTHON={shlex.quote(here['python'])}",
        "export PYTHONPATH LD_LIBRARY_PATH TRITONPACK_ONEFLOW_PYTHON",
        f'exec {shlex.quote(stub)} "$@"',
        "",
    ])


def check_in_child(python, graph_dir, timeout=300):
    """Asks a separate interpreter whether OneFlow can parse `graph_dir/model.mlir`.

    OneFlow calls exit(1) on a model.mlir it cannot parse: in the serving process that would take
    the whole server down, so the first parse happens in a process that may die. Returns None when
    it parses, else OneFlow's own words."""
    command = [python or sys.executable, os.path.abspath(__file__), "check", graph_dir]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot run the OneFlow check with {command[0]}: {error}"
    if done.returncode == 0 or _CHECK_PASSED in done.stdout:
        return None
    lines = [line for line in (done.stderr + done.stdout).splitlines()
             if line.strip() and not line.startswith(("W2", "I2", "E2")) and "libibverbs" not in line]
    return "; ".join(lines[-3:]) or f"OneFlow exited with status {done.returncode}"


def confine_to_one_cpu(slot=0):
    """Keeps OneFlow's threads on one CPU (the `slot`-th allowed one, modulo their number, so that
    the instances of a model spread over the CPUs) unless TRITONPACK_ONEFLOW_CPUS=all.

    OneFlow 0.9.0 races when a graph's completion callback (an actor thread) and the launch of the
    next run (the VM thread) execute in parallel: LazyJobStreamPolicy::DequeueNNGraph then crashes
    the process (seen here in about one process in four over 400 calls on 2 cores, with
    `oneflow.nn.Graph` itself too; none in 10 such processes confined to one CPU). A thread
    inherits the affinity of the thread that creates it, so confining the calling thread before
    OneFlow starts confines all of OneFlow's threads, and only them: the threads the host already
    runs (the Python-backend stub's health and message threads) keep every CPU, so a long
    inference cannot starve them into reporting the stub unhealthy."""
    if os.environ.get("TRITONPACK_ONEFLOW_CPUS", "") == "all" or not hasattr(os, "sched_setaffinity"):
        return
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) > 1:
        os.sched_setaffinity(0, {allowed[slot % len(allowed)]})


class SavedGraph:
    """One compiled saved graph. Not thread-safe: one instance serves one caller at a time."""

    def __init__(self, graph_dir, device="cpu", batch_size=0, cpu_slot=0):
        confine_to_one_cpu(cpu_slot)
        import oneflow as flow
        import oneflow._oneflow_internal as internal
        from oneflow.core.job import job_pb2
        from oneflow.framework import graph_build_util, session_context
        from oneflow.framework.tensor_tuple_util import convert_to_tensor_tuple

        self._flow = flow
        self._internal = internal
        self._tuple = convert_to_tensor_tuple
        self.graph_dir = graph_dir
        self.batch_size = batch_size
        self.device = flow.device(device)
        device_tag = "cuda" if self.device.type == "cuda" else "cpu"
        device_index = self.device.index or 0

        job = job_pb2.Job()
        job.ParseFromString(internal.nn.graph.LoadSerializedJobFromIR(os.path.join(graph_dir, "model.mlir")))
        job.job_conf.job_name = f"{job.job_conf.job_name}_{uuid.uuid4().hex}"
        job.job_conf.predict_conf.SetInParent()
        for group in job.placement.placement_group:
            group.parallel_conf.device_tag = device_tag
            del group.parallel_conf.device_name[:]
            group.parallel_conf.device_name.append(f"@0:{device_index}")

        inputs, outputs, variables = [], [], []
        saved_batch = None
        for op in job.net.op:
            op.device_tag = device_tag
            kind = op.WhichOneof("op_type")
            if kind == "input_conf":
                inputs.append(op)
                dims = op.input_conf.blob_conf.shape.dim
                saved_batch = saved_batch if saved_batch is not None else (dims[0] if len(dims) else None)
            elif kind == "output_conf":
                outputs.append(op)
            elif kind == "variable_conf":
                variables.append(op)
        if batch_size > 0:
            for op in inputs:
                if len(op.input_conf.blob_conf.shape.dim) == 0:
                    raise ValueError(f"input '{op.name}' is a scalar: it has no batch dimension for max_batch_size")
                op.input_conf.blob_conf.shape.dim[0] = batch_size
            for op in outputs:
                dims = op.output_conf.blob_conf.shape.dim
                if len(dims) and dims[0] == saved_batch:
                    dims[0] = batch_size

        inputs.sort(key=lambda op: python_position(op.name))
        outputs.sort(key=lambda op: python_position(op.name))
        self.input_names = [op.name for op in inputs]
        self.output_names = [op.name for op in outputs]
        self.input_specs = [(tuple(op.input_conf.blob_conf.shape.dim), _NUMPY_TYPES[op.input_conf.blob_conf.data_type])
                            for op in inputs]
        self.output_specs = [(tuple(op.output_conf.blob_conf.shape.dim), _NUMPY_TYPES[op.output_conf.blob_conf.data_type])
                             for op in outputs]

        def empty(shape, numpy_type):
            return flow.tensor(np.zeros(shape, dtype=numpy_type), device=self.device)

        variable_tensors = []
        for op in variables:
            conf = op.variable_conf
            numpy_type = _NUMPY_TYPES.get(conf.data_type)
            if numpy_type is None:
                raise ValueError(f"variable '{op.name}' has a data type the backend cannot load ({conf.data_type})")
            path = os.path.join(graph_dir, op.name, "out")
            values = np.fromfile(path, dtype=numpy_type)
            expected = int(np.prod(list(conf.shape.dim), dtype=np.int64))
            if values.size != expected:
                raise ValueError(f"{path}: holds {values.size} values but the variable's shape needs {expected}")
            variable_tensors.append(flow.tensor(values.reshape(list(conf.shape.dim)), device=self.device))
        input_buffers = [empty(shape, numpy_type) for shape, numpy_type in self.input_specs]
        self._outputs = self._tuple([empty(shape, numpy_type) for shape, numpy_type in self.output_specs])

        session = session_context.GetDefaultSession()
        session.TryInit()
        with graph_build_util.graph_build_context(job.job_conf, session):
            scope_id = internal.GetCurrentScope().symbol_id
            for op in job.net.op:
                op.scope_symbol_id = scope_id
            internal.ResetVariableTensorMgr()
            internal.FillVariableTensorMgr([op.name for op in variables], self._tuple(variable_tensors))
            job_id = internal.JobBuildAndInferCtx_GetCurrentJobId()
            self._graph = internal.nn.graph.CNNGraph(job.job_conf.job_name, job.SerializeToString(), job_id,
                                                     session._session_ctx)
            self._graph.register_input_op_names_and_tensors(self.input_names, self._tuple(input_buffers))
            self._graph.register_output_op_names_and_tensors(self.output_names, self._outputs)
            names, tensors = internal.DumpVariableTensorMgr()
            self._variables = self._tuple(tensors)
            self._graph.register_variable_op_names_and_tensors(names, self._variables)
        internal.eager.Sync()
        self._graph.complie_and_init_runtime()

    def run(self, arrays):
        """Runs the graph on numpy arrays in Python argument order; returns the outputs in Python
        return order. With a batch size, rows beyond the arrays' own are padding and are dropped."""
        fitted, rows = fit_inputs(arrays, self.input_specs, self.batch_size)
        tensors = [self._flow.tensor(array, device=self.device) for array in fitted]
        self._internal.nn.graph.RunLazyNNGraph(self._tuple(tensors), self._outputs, self._variables, self._graph)
        # As nn.Graph does: copy the outputs out of the graph's buffers, then hand the buffers back
        # (SoftSync). Reading a buffer itself afterwards breaks the graph's execution order and
        # crashes OneFlow now and then.
        copies = [tensor.to(copy=True) for tensor in self._outputs]
        self._internal.nn.graph.SoftSyncNNGraphBuffers(self._outputs, self._graph)
        return real_rows([copy.numpy() for copy in copies], rows, self.batch_size)

    def close(self):
        """Releases the compiled graph; OneFlow aborts at exit when a graph is still alive."""
        if getattr(self, "_graph", None) is not None:
            import gc
            self._internal.eager.Sync()
            self._graph = None
            self._outputs = None
            self._variables = None
            gc.collect()
            self._internal.eager.Sync()


def _load_inputs(folder, count):
    return [np.load(os.path.join(folder, f"INPUT_{index}.npy")) for index in range(count)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="parse model.mlir (exit 1 when OneFlow cannot)")
    check.add_argument("graph_dir")
    commands.add_parser("describe", help="this Python's version, paths and whether it has OneFlow (JSON)")
    launcher = commands.add_parser("stub-launcher", help="print a model folder's Python-backend stub launcher")
    launcher.add_argument("--stub", required=True, help="the real stub, built for this Python's version")
    for name in ("run", "bench"):
        command = commands.add_parser(name)
        command.add_argument("graph_dir")
        command.add_argument("--inputs", required=True, help="folder of INPUT_<k>.npy")
        command.add_argument("--device", default="cpu")
        command.add_argument("--batch-size", type=int, default=0)
    commands.choices["run"].add_argument("--outputs", required=True, help="folder to write OUTPUT_<k>.npy into")
    commands.choices["bench"].add_argument("--requests", type=int, default=100)
    arguments = parser.parse_args(argv)

    if arguments.command == "describe":
        print(json.dumps(describe()))
        return 0
    if arguments.command == "stub-launcher":
        print(stub_launcher(os.path.abspath(arguments.stub)), end="")
        return 0
    if arguments.command == "check":
        import oneflow  # noqa: F401  (OneFlow must be initialised before its IR loader runs)
        import oneflow._oneflow_internal as internal
        internal.nn.graph.LoadSerializedJobFromIR(os.path.join(arguments.graph_dir, "model.mlir"))
        print(_CHECK_PASSED)
        return 0

    started = time.perf_counter()
    graph = SavedGraph(arguments.graph_dir, device=arguments.device, batch_size=arguments.batch_size)
    compiled = time.perf_counter() - started
    try:
        inputs = _load_inputs(arguments.inputs, len(graph.input_specs))
        if arguments.command == "run":
            os.makedirs(arguments.outputs, exist_ok=True)
            for index, result in enumerate(graph.run(inputs)):
                np.save(os.path.join(arguments.outputs, f"OUTPUT_{index}.npy"), result)
            print(json.dumps({"ok": True, "compile_seconds": compiled}))
            return 0
        for _ in range(3):
            graph.run(inputs)
        latencies = []
        begin = time.perf_counter()
        for _ in range(arguments.requests):
            start = time.perf_counter()
            graph.run(inputs)
            latencies.append((time.perf_counter() - start) * 1000)
        seconds = time.perf_counter() - begin
        latencies.sort()
        print(json.dumps({"ok": True, "compile_seconds": compiled, "requests": arguments.requests,
                          "p50_ms": latencies[len(latencies) // 2], "requests_per_second": arguments.requests / seconds}))
        return 0
    finally:
        graph.close()


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # OneFlow's own teardown at interpreter exit can crash after the work is done: skip it.
    os._exit(status)
