"""Converts a graph saved by OneFlow's `flow.save(graph, dir)` to ONNX, and proves the result.

Run with the Python that has OneFlow 0.9.0 and the converter set (scripts/setup-oneflow.sh installs
both; LD_LIBRARY_PATH must hold that venv's nvidia/cudnn/lib and nvidia/cublas/lib):

    python oneflow_to_onnx.py GRAPH_DIR --output OUT.onnx [--opset 13] [--ir-version 8]
        [--golden DIR] [--seed 0] [--tolerance 1e-5] [--verbose] [--disable-fix NAME ...]

- The job comes from GRAPH_DIR/model.mlir (OneFlow's own IR loader, tried first in a child process
  because OneFlow exit(1)s on a file it cannot parse); the blob shape table the converter needs comes
  from compiling that job with OneFlow's runtime, as the project's runner does
  (runtime/oneflow/oneflow_runner.py, found beside this file or in ../oneflow).
- oneflow-onnx 0.6.2's `export_onnx_model` converts it, without the Python model code, with the
  fixes below registered from outside the package (`flow_op` handlers and patches); each has a NAME
  that `--disable-fix NAME` turns off.
- Inputs and outputs are renamed INPUT_<k>/OUTPUT_<k> in Python order (read from the interface op
  names, as tritonpack's oneflow config numbers them); the checker (full_check) and strict shape
  inference must pass.
- Nothing is written unless onnxruntime (CPU) on the model answers like OneFlow's runtime on the same
  inputs: golden INPUT_<k>.npy (--golden DIR) or seeded random ones. Float outputs must satisfy
  max|onnx - oneflow| <= tolerance * max(1, max|oneflow|); integer and bool outputs must be equal;
  shapes and dtypes equal. A symbolic batch dimension is kept only when it verifies at batch 1, at
  the saved batch B and (B > 2) at a middle size; OneFlow's answer for fewer rows than B is its
  answer on the input padded to B (as the oneflow backend pads), first rows.
- One JSON document goes to stdout (everything else, OneFlow's logs included, goes to stderr).
  Exit 0: {"ok": true, ...}; exit 1: {"ok": false, "reason": "unsupported_ops" | "mismatch" |
  "invalid_model" | "load_failed", "message": ...}; exit 2: {"ok": false, "reason": "usage"}.
"""
import argparse
import copy
import hashlib
import importlib
import json
import logging
import os
import sys
import tempfile
import time
import types

import numpy as np

TOOL = "tritonpack oneflow_to_onnx"
BATCH_PARAM = "batch"
PROBE_PREFIX = "_tritonpack_probe_output.9."  # python_position() reads (9, j): after every real output
SUGGESTION = ("This graph cannot be converted to a verified ONNX model; serve it with OneFlow's own "
              "runtime instead (--runtime oneflow-python)")

# OneFlow DataType enum value -> numpy type, for everything this tool may read or generate.
_FLOW_NUMPY = {2: np.float32, 3: np.float64, 4: np.int8, 5: np.int32, 6: np.int64, 7: np.uint8,
               9: np.float16, 12: np.bool_}

# --------------------------------------------------------------------------------------------------
# The fixes. Each one names a defect of oneflow-onnx 0.6.2 (also at its GitHub head, 2026) that a
# real save hits; README.md says why each exists. Order matters only for numpy_bool (before import).
FIX_NAMES = [
    "numpy_bool",            # oneflow_onnx.util uses np.bool, removed in numpy 1.24: import fails
    "empty_list_attribute",  # untyped empty list attributes (upsample_nearest_2d output_size=[]) fail in onnx >= 1.13
    "reduce_sum_axes",       # opset >= 13 ReduceSum takes axes as an input; the handler's attribute is dropped: reduces every axis (silent)
    "squeeze_axes",          # same defect for Squeeze at opset >= 13 (axes dropped: squeezes every 1-dim)
    "argmax_input",          # argmax/argmin handler removes a second input that does not exist (IndexError)
    "var_handler",           # var: only opset 13, unbiased branch counts the wrong dims, float32 constants
    "reduce_max_mean",       # no handler for reduce_max (commented out upstream) nor reduce_mean
    "reflection_pad2d",      # no handler: ONNX Pad mode=reflect
    "replication_pad2d",     # no handler: ONNX Pad mode=edge
]
_fix_used = {}


class Refusal(Exception):
    def __init__(self, reason, message, **fields):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.fields = fields


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def _parse(argv):
    parser = _Parser(prog="oneflow_to_onnx.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("graph_dir", help="the folder flow.save(graph, ...) wrote (model.mlir + variables)")
    parser.add_argument("--output", required=True, help="the .onnx file to write (only after verification)")
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--ir-version", type=int, default=8)
    parser.add_argument("--golden", help="folder holding INPUT_<k>.npy to verify with (else seeded random inputs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--fixed-batch", action="store_true",
                        help="keep the saved batch fixed (no symbolic batch is tried): for configs that cannot batch")
    parser.add_argument("--verbose", action="store_true", help="log more, and locate the first diverging ONNX node")
    parser.add_argument("--disable-fix", action="append", default=[], metavar="NAME",
                        help="turn one fix off (repeatable): " + ", ".join(FIX_NAMES))
    arguments = parser.parse_args(argv)
    unknown = [name for name in arguments.disable_fix if name not in FIX_NAMES]
    if unknown:
        raise _UsageError(f"unknown fix {', '.join(unknown)}; the fixes are: {', '.join(FIX_NAMES)}")
    if arguments.tolerance < 0:
        raise _UsageError("--tolerance must not be negative")
    return arguments


# --------------------------------------------------------------------------------------------------
def _import_runner():
    """The project's OneFlow runner: beside this file (both copied into one folder) or ../oneflow."""
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (here, os.path.normpath(os.path.join(here, "..", "oneflow"))):
        if os.path.isfile(os.path.join(folder, "oneflow_runner.py")):
            if folder not in sys.path:
                sys.path.insert(0, folder)
            return importlib.import_module("oneflow_runner")
    raise Refusal("load_failed", f"oneflow_runner.py is neither beside {__file__} nor in ../oneflow")


def graph_sha256(graph_dir):
    """sha256 of the saved graph, reproducible in a shell:

        (cd GRAPH_DIR && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum) | sha256sum

    i.e. the sha256 of the lines "<sha256 hex of the file>  <path relative to GRAPH_DIR>\\n", one per
    regular file under GRAPH_DIR (model.mlir, every variable folder's meta and out, anything else;
    symbolic links are skipped), sorted by the UTF-8 bytes of the relative path."""
    entries = []
    for root, folders, files in os.walk(graph_dir):
        folders[:] = [folder for folder in folders if not os.path.islink(os.path.join(root, folder))]
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            relative = os.path.relpath(path, graph_dir).replace(os.sep, "/")
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            entries.append((relative.encode("utf-8"), digest.hexdigest()))
    total = hashlib.sha256()
    for relative, hexdigest in sorted(entries):
        total.update(hexdigest.encode("ascii") + b"  " + relative + b"\n")
    return total.hexdigest()


# --------------------------------------------------------------------------------------------------
# Fixes installed from outside the package.

def _install_numpy_bool():
    if "bool" not in np.__dict__:
        np.bool = np.bool_  # what np.bool meant for the converter's dtype table: numpy's bool type


def _install_empty_list_attribute():
    from onnx import AttributeProto, helper
    original = helper.make_attribute
    if getattr(original, "_tritonpack", False):
        return

    def make_attribute(key, value, doc_string=None, attr_type=None):
        if attr_type is None and isinstance(value, (list, tuple)) and len(value) == 0:
            _fix_used["empty_list_attribute"] = _fix_used.get("empty_list_attribute", 0) + 1
            attr_type = AttributeProto.INTS  # an empty list reads back as [] whatever its type
        return original(key, value, doc_string, attr_type)

    make_attribute._tritonpack = True
    helper.make_attribute = make_attribute


def _used(name):
    _fix_used[name] = _fix_used.get(name, 0) + 1


def _axes_const(ctx, values, hint):
    import oneflow
    return ctx.MakeConst(oneflow._oneflow_internal.UniqueStr(hint), np.array(values, dtype=np.int64)).output_tensor_names[0]


def _positive_axes(ctx, node, axes):
    rank = len(ctx.get_shape(node.input_tensor_names[0]))
    return [int(axis) + rank if int(axis) < 0 else int(axis) for axis in axes]


def _reduce(ctx, op_type, tensor, axes, keepdims, scope, name, dtypes):
    """A Reduce* node in the form the graph's opset takes: axes as an input for ReduceSum from
    opset 13 and for the others from 18, as an attribute before."""
    axes_as_input = ctx.opset >= (13 if op_type == "ReduceSum" else 18)
    if axes_as_input:
        inputs = [tensor, _axes_const(ctx, axes, name + "_axes")] if axes else [tensor]
        return ctx.MakeNode(op_type, inputs, op_name_scope=scope, name=name, dtypes=dtypes, attr={"keepdims": int(keepdims)})
    attrs = {"keepdims": int(keepdims)}
    if axes:
        attrs["axes"] = list(axes)
    return ctx.MakeNode(op_type, [tensor], op_name_scope=scope, name=name, dtypes=dtypes, attr=attrs)


def _install_handlers(enabled):
    import oneflow
    from onnx import onnx_pb
    from oneflow_onnx import util
    from oneflow_onnx.oneflow2onnx.handler import flow_op

    if "reduce_sum_axes" in enabled:
        @flow_op("reduce_sum", onnx_op="ReduceSum")
        class ReduceSumAxesInput:
            @classmethod
            def Version_13(cls, ctx, node, **kwargs):
                _used("reduce_sum_axes")
                axes = _positive_axes(ctx, node, node.attrs.pop("axis", []) or [])
                node.attrs["keepdims"] = int(node.attrs.get("keepdims", 1))
                if axes:  # no axes input (and noop_with_empty_axes=0): every axis, as OneFlow's []
                    node.input_tensor_names.append(_axes_const(ctx, axes, "axes"))

    if "reduce_max_mean" in enabled:
        @flow_op(["reduce_max", "reduce_mean"], onnx_op=["ReduceMax", "ReduceMean"])
        class ReduceMaxMean:
            """axes as an attribute before opset 18, as an input from 18; [] reduces every axis."""

            @classmethod
            def Version_1(cls, ctx, node, **kwargs):
                _used("reduce_max_mean")
                axes = _positive_axes(ctx, node, node.attrs.pop("axis", []) or [])
                node.attrs["keepdims"] = int(node.attrs.get("keepdims", 1))
                if axes and ctx.opset >= 18:
                    node.input_tensor_names.append(_axes_const(ctx, axes, "axes"))
                elif axes:
                    node.attrs["axes"] = axes

            @classmethod
            def Version_18(cls, ctx, node, **kwargs):
                cls.Version_1(ctx, node, **kwargs)

    if "squeeze_axes" in enabled:
        @flow_op("squeeze", onnx_op="Squeeze")
        class SqueezeAxesInput:
            @classmethod
            def Version_13(cls, ctx, node, **kwargs):
                _used("squeeze_axes")
                axes = _positive_axes(ctx, node, node.attrs.pop("axes", []) or [])
                if axes:
                    node.input_tensor_names.append(_axes_const(ctx, axes, "axes"))

    if "argmax_input" in enabled:
        @flow_op(["argmax", "argmin"], ["ArgMax", "ArgMin"])
        class ArgMaxOneInput:
            """OneFlow's argmax/argmin op reduces the last axis (flow.argmax(x, dim) transposes
            first), drops it, and returns int64, as ONNX ArgMax(axis=-1, keepdims=0) does."""

            @classmethod
            def Version_1(cls, ctx, node, **kwargs):
                _used("argmax_input")
                shape = ctx.get_shape(node.input_tensor_names[0])
                node.attrs["axis"] = (len(shape) - 1) if shape else 0
                node.attrs["keepdims"] = 0
                if ctx.get_dtype(node.output_tensor_names[0]) == onnx_pb.TensorProto.INT32:
                    ctx.set_dtype(node.output_tensor_names[0], onnx_pb.TensorProto.INT64)
                    cast = ctx.InsertNewNodeOnOutput("Cast", node.output_tensor_names[0],
                                                     name=oneflow._oneflow_internal.UniqueStr("Cast"),
                                                     to=onnx_pb.TensorProto.INT32)
                    ctx.set_dtype(cast.output_tensor_names[0], onnx_pb.TensorProto.INT32)
                    ctx.CopyShape(node.output_tensor_names[0], cast.output_tensor_names[0])

            @classmethod
            def Version_11(cls, ctx, node, **kwargs):
                cls.Version_1(ctx, node, **kwargs)

    if "var_handler" in enabled:
        @flow_op(["var"])
        class Variance:
            """var(x, dim, unbiased, keepdim) = ReduceMean((x - mean)^2) or ReduceSum(...)/(N-1)."""

            @classmethod
            def Version_1(cls, ctx, node, **kwargs):
                _used("var_handler")
                x = node.input_tensor_names[0]
                y = node.output_tensor_names[0]
                shape = ctx.get_shape(x)
                dims = node.attrs.get("dim", None)
                axes = _positive_axes(ctx, node, dims) if dims else list(range(len(shape)))
                keepdim = int(bool(node.attrs.get("keepdim", False)))
                unbiased = bool(node.attrs.get("unbiased", False))
                dtypes = node.output_dtypes
                numpy_type = util.Onnx2NumpyDtype(ctx.get_dtype(x))
                count = int(np.prod([shape[axis] for axis in axes])) if axes else 1
                scope = node.name
                ctx.RemoveNode(node.name)
                mean = _reduce(ctx, "ReduceMean", x, axes, 1, scope, "mean", dtypes)
                centred = ctx.MakeNode("Sub", [x, mean.output_tensor_names[0]], op_name_scope=scope, name="centred", dtypes=dtypes)
                square = ctx.MakeNode("Mul", [centred.output_tensor_names[0]] * 2, op_name_scope=scope, name="square", dtypes=dtypes)
                if unbiased:
                    total = _reduce(ctx, "ReduceSum", square.output_tensor_names[0], axes, keepdim, scope, "sum", dtypes)
                    divisor = ctx.MakeConst(oneflow._oneflow_internal.UniqueStr(scope + "_count"),
                                            np.array(max(count - 1, 0), dtype=numpy_type))
                    ctx.MakeNode("Div", [total.output_tensor_names[0], divisor.output_tensor_names[0]],
                                 outputs=[y], op_name_scope=scope, name="var", dtypes=dtypes)
                else:
                    mean_square = _reduce(ctx, "ReduceMean", square.output_tensor_names[0], axes, keepdim, scope, "mean_square", dtypes)
                    ctx.MakeNode("Identity", [mean_square.output_tensor_names[0]], outputs=[y],
                                 op_name_scope=scope, name="var", dtypes=dtypes)

            @classmethod
            def Version_13(cls, ctx, node, **kwargs):
                cls.Version_1(ctx, node, **kwargs)

    def pad_handler(fix, mode):
        class Pad2d:
            """OneFlow's padding attribute is [left, right, top, bottom] on NCHW; ONNX Pad takes
            [n, c, top, left] begins then [n, c, bottom, right] ends."""

            @classmethod
            def _pads(cls, node):
                left, right, top, bottom = [int(value) for value in node.attrs.pop("padding")]
                return [0, 0, top, left, 0, 0, bottom, right]

            @classmethod
            def Version_2(cls, ctx, node, **kwargs):
                _used(fix)
                node.attrs["pads"] = cls._pads(node)
                node.attrs["mode"] = mode

            @classmethod
            def Version_11(cls, ctx, node, **kwargs):
                _used(fix)
                pads = cls._pads(node)
                node.attrs["mode"] = mode
                node.input_tensor_names.append(_axes_const(ctx, pads, "pads"))

        return Pad2d

    if "reflection_pad2d" in enabled:
        flow_op("reflection_pad2d", onnx_op="Pad")(pad_handler("reflection_pad2d", "reflect"))
    if "replication_pad2d" in enabled:
        flow_op("replication_pad2d", onnx_op="Pad")(pad_handler("replication_pad2d", "edge"))


class _ConversionReport:
    """Replaces flow2onnx.FlowOnnxMapping (same logic) to record every op the converter cannot map
    or whose handler fails, instead of logging them and writing an invalid model."""

    def __init__(self):
        self.unmapped = {}  # op type -> [op names]
        self.failed = {}    # op type -> [(op name, error)]

    def install(self, flow2onnx):
        report = self

        def flow_onnx_mapping(g, ops_mapping):
            import collections
            mapped, unmapped, exceptions = collections.Counter(), collections.Counter(), []
            for node in list(g.get_nodes()):
                if node.skip_conversion:
                    continue
                op = node.op_type
                if op == "output":
                    continue
                info = ops_mapping.get(op)
                if info is None:
                    unmapped[op] += 1
                    report.unmapped.setdefault(op, []).append(node.name)
                    continue
                mapped[op] += 1
                func, onnx_op, kwargs = info
                if onnx_op is not None:
                    node.op_type = onnx_op
                try:
                    func(g, node, **kwargs)
                    node.skip_conversion = True
                except Exception as error:  # noqa: BLE001 (the converter's own errors, reported by op)
                    logging.getLogger("oneflow_to_onnx").debug("handler for %s failed", node.name, exc_info=True)
                    report.failed.setdefault(op, []).append((node.name, f"{type(error).__name__}: {error}"))
                    exceptions.append(error)
            return mapped, unmapped, exceptions

        flow2onnx.FlowOnnxMapping = flow_onnx_mapping


class _Weight:
    """What the converter's weight lookup gets in place of a OneFlow tensor: `.numpy()` works; its
    fallback lookup (indexing with a string), which segfaults on a real tensor, raises KeyError."""

    def __init__(self, array):
        self._array = array

    def numpy(self):
        return self._array

    def __getitem__(self, key):
        raise KeyError(key)


# --------------------------------------------------------------------------------------------------
def _op_type(op):
    kind = op.WhichOneof("op_type")
    return op.user_conf.op_type_name if kind == "user_conf" else kind[:-5]


def _numpy_type(data_type, what):
    numpy_type = _FLOW_NUMPY.get(int(data_type))
    if numpy_type is None:
        raise Refusal("load_failed", f"{what} has a data type this tool cannot handle (OneFlow DataType {int(data_type)})")
    return numpy_type


class Conversion:
    def __init__(self, arguments, runner):
        self.args = arguments
        self.runner = runner
        self.graph_dir = os.path.abspath(arguments.graph_dir)
        self.mlir = os.path.join(self.graph_dir, "model.mlir")
        self.log = logging.getLogger("oneflow_to_onnx")
        self.graphs = []
        self.times = {}

    # ---- loading
    def load(self):
        started = time.perf_counter()
        if not os.path.isdir(self.graph_dir):
            raise Refusal("load_failed", f"{self.graph_dir} is not a folder")
        if not os.path.isfile(self.mlir):
            raise Refusal("load_failed", f"{self.mlir} does not exist: not a graph saved by flow.save(graph, dir)")
        problem = self.runner.check_in_child(sys.executable, self.graph_dir)
        if problem is not None:
            raise Refusal("load_failed", f"OneFlow cannot load {self.mlir}: {problem}")
        import oneflow  # noqa: F401  (initialises OneFlow before its IR loader runs)
        import oneflow._oneflow_internal as internal
        from oneflow.core.job import job_pb2
        self.internal = internal
        self.job_pb2 = job_pb2
        self.job_bytes = internal.nn.graph.LoadSerializedJobFromIR(self.mlir)
        job = job_pb2.Job()
        job.ParseFromString(self.job_bytes)
        self.inputs, self.outputs, self.variables, others = [], [], [], []
        for op in job.net.op:
            kind = op.WhichOneof("op_type")
            {"input_conf": self.inputs, "output_conf": self.outputs}.get(kind, others).append(op)
            if kind == "variable_conf":
                self.variables.append(op)
        try:
            self.inputs.sort(key=lambda op: self.runner.python_position(op.name))
            self.outputs.sort(key=lambda op: self.runner.python_position(op.name))
        except ValueError as error:
            raise Refusal("load_failed", f"{self.mlir}: {error}") from error
        if not self.outputs:
            raise Refusal("load_failed", f"{self.mlir} declares no output op")
        self.input_specs = [(tuple(op.input_conf.blob_conf.shape.dim),
                             _numpy_type(op.input_conf.blob_conf.data_type, f"input '{op.name}'")) for op in self.inputs]
        self.output_specs = [(tuple(op.output_conf.blob_conf.shape.dim),
                              _numpy_type(op.output_conf.blob_conf.data_type, f"output '{op.name}'")) for op in self.outputs]
        # The batch: dim 0 of every input, when they all have one and agree (as the backend's
        # set_batch_size assumes); else the graph has no batch dimension.
        firsts = {shape[0] if shape else None for shape, _ in self.input_specs}
        self.batch = firsts.pop() if len(firsts) == 1 and None not in firsts and self.input_specs else 0
        self.batch = int(self.batch or 0)
        # The ops in the order the converter numbers them: inputs first and outputs last, both in
        # Python position; the rest keep the saved (topological) order.
        ordered = [copy.deepcopy(op) for op in self.inputs + others + self.outputs]
        del job.net.op[:]
        job.net.op.extend(ordered)
        self.job = job
        try:
            graph = self.runner.SavedGraph(self.graph_dir, batch_size=self.batch)
        except Exception as error:  # noqa: BLE001 (OneFlow's and the runner's own words)
            raise Refusal("load_failed", f"OneFlow's runtime cannot build {self.graph_dir}: {error}") from error
        self.graphs.append(graph)
        self.oneflow_graph = graph
        compiled = job_pb2.Job()
        compiled.ParseFromString(graph._graph.get_current_job_str())
        names = {op.name for op in job.net.op}
        self.blob_table = {}
        for lbn, desc in compiled.helper.lbn2logical_blob_desc.items():
            if lbn.split("/")[0] in names:
                job.helper.lbn2logical_blob_desc[lbn].CopyFrom(desc)
                self.blob_table[lbn] = desc
        self.times["load_seconds"] = time.perf_counter() - started

    def weights(self):
        """Every variable the job reads, keyed as the converter looks it up: the variable op name
        without its first dotted part (`m.conv1.weight` -> `conv1.weight`), or the whole name when it
        has no dot. Two variables with the same key would be ambiguous: refused."""
        table = {}
        for op in self.variables:
            conf = op.variable_conf
            numpy_type = _numpy_type(conf.data_type, f"variable '{op.name}'")
            path = os.path.join(self.graph_dir, op.name, "out")
            if not os.path.isfile(path):
                raise Refusal("load_failed", f"{path} is missing (variable '{op.name}' of {self.mlir})")
            values = np.fromfile(path, dtype=numpy_type)
            shape = [int(dim) for dim in conf.shape.dim]
            if values.size != int(np.prod(shape, dtype=np.int64)):
                raise Refusal("load_failed", f"{path} holds {values.size} values but the variable's shape {shape} needs {int(np.prod(shape))}")
            key = ".".join(op.name.split(".")[1:]) or op.name
            if key in table:
                raise Refusal("invalid_model", f"variables '{op.name}' and another one share the converter's weight key '{key}'")
            table[key] = _Weight(values.reshape(shape))
        return table

    # ---- conversion
    def convert(self, enabled):
        started = time.perf_counter()
        sys.modules.setdefault("onnxsim", None)  # never simplify: the output must not depend on what else is installed
        if "numpy_bool" in enabled:
            _install_numpy_bool()
            _used("numpy_bool")
        try:
            import oneflow
            from oneflow_onnx.oneflow2onnx import flow2onnx, handler
            from oneflow_onnx.oneflow2onnx.util import export_onnx_model
        except Exception as error:  # noqa: BLE001
            raise Refusal("invalid_model", f"the converter oneflow-onnx cannot be imported: {type(error).__name__}: {error}",
                          stage="convert") from error
        if "empty_list_attribute" in enabled:
            _install_empty_list_attribute()
        _install_handlers(enabled)
        report = _ConversionReport()
        report.install(flow2onnx)

        mapping = handler.flow_op.CreateMapping(self.args.opset, None)
        unsupported = {}
        for op in self.job.net.op:
            op_type = _op_type(op)
            if op_type != "output" and op_type not in mapping:
                unsupported.setdefault(op_type, []).append(op.name)
        if unsupported:
            self._refuse_unsupported(unsupported, {})

        # An output returning an input, or the tensor of an earlier output, is left out of the
        # conversion (the converter cannot give one tensor two names) and added back afterwards
        # as an Identity of INPUT_<i> / OUTPUT_<j>.
        sources = {f"{op.name}/out": f"INPUT_{index}" for index, op in enumerate(self.inputs)}
        self.aliases = {}
        for index, op in enumerate(self.outputs):
            tensor = getattr(op.output_conf, "in")
            if tensor in sources:
                self.aliases[index] = sources[tensor]
            else:
                sources[tensor] = f"OUTPUT_{index}"
        if self.aliases:
            aliased = {self.outputs[index].name for index in self.aliases}
            kept = [op for op in self.job.net.op if op.name not in aliased]
            del self.job.net.op[:]
            self.job.net.op.extend(kept)
        weights = self.weights()
        ghost = types.SimpleNamespace(_full_graph_proto=self.job, _is_global_view=False)
        original_load = oneflow.load
        oneflow.load = lambda path, *args, **kwargs: weights
        # The converter names every tensor it makes with OneFlow's process-wide UniqueStr counter,
        # whose value when conversion starts varies from run to run (OneFlow's own threads draw
        # from it), and it sorts nodes by those names: a private counter makes the output stable.
        original_unique = oneflow._oneflow_internal.UniqueStr
        counter = iter(range(1, 1 << 62))
        oneflow._oneflow_internal.UniqueStr = lambda prefix: f"{prefix}_{next(counter)}"
        # Its optimizers also iterate over sets of Node objects, ordered by their addresses, and
        # keep the first of duplicated constants: hashing a node by its (immutable) name instead
        # makes that order, and so the output, the same in every run.
        from oneflow_onnx import onnx_wrapper
        onnx_wrapper.Node.__hash__ = lambda node: hash(node._op.name)
        error = None
        try:
            with tempfile.TemporaryDirectory(prefix="oneflow_to_onnx.") as folder:
                path = os.path.join(folder, "model.onnx")
                export_onnx_model(ghost, opset=self.args.opset, flow_weight_dir=self.graph_dir, onnx_model_path=path)
                with open(path, "rb") as handle:
                    data = handle.read()
        except Exception as caught:  # noqa: BLE001
            error = caught
            self.log.info("oneflow-onnx failed", exc_info=caught)
        finally:
            oneflow.load = original_load
            oneflow._oneflow_internal.UniqueStr = original_unique
        if report.unmapped or report.failed:
            self._refuse_unsupported(report.unmapped, report.failed)
        if error is not None:
            raise Refusal("invalid_model", f"oneflow-onnx failed converting {self.mlir}: {type(error).__name__}: {error}",
                          stage="convert")
        import onnx
        model = onnx.load_from_string(data)
        self.model = self._finish(model)
        self.times["convert_seconds"] = time.perf_counter() - started

    def _refuse_unsupported(self, unmapped, failed):
        names = sorted(set(unmapped) | set(failed))
        parts = []
        for op_type in names:
            if op_type in unmapped:
                ops = unmapped[op_type]
                parts.append(f"{op_type} (no handler; {len(ops)} op(s), e.g. '{ops[0]}')")
            else:
                op_name, why = failed[op_type][0]
                parts.append(f"{op_type} (its handler failed on '{op_name}': {why})")
        raise Refusal("unsupported_ops",
                      f"oneflow-onnx 0.6.2 cannot convert these ops of {self.mlir} at opset {self.args.opset}: "
                      + "; ".join(parts) + f". {SUGGESTION}",
                      unsupported_ops=names)

    def _finish(self, model):
        """INPUT_<k>/OUTPUT_<k> names in Python order, the asked opset and IR version, a fixed
        producer; then the checker and strict shape inference."""
        from onnx import helper
        graph = model.graph
        renames = {f"{op.name}/out": f"INPUT_{index}" for index, op in enumerate(self.inputs)}
        for index, op in enumerate(self.outputs):
            if index not in self.aliases:
                renames[getattr(op.output_conf, "in")] = f"OUTPUT_{index}"
        for node in graph.node:
            for field in (node.input, node.output):
                for position, name in enumerate(field):
                    if name in renames:
                        field[position] = renames[name]
        for value in list(graph.input) + list(graph.output) + list(graph.value_info):
            value.name = renames.get(value.name, value.name)
        initializers = {tensor.name for tensor in graph.initializer}
        present = {value.name: value for value in graph.input if value.name not in initializers}
        ordered_inputs = []
        for index, (shape, numpy_type) in enumerate(self.input_specs):
            name = f"INPUT_{index}"
            value = present.get(name) or helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(np.dtype(numpy_type)), list(shape))
            ordered_inputs.append(copy.deepcopy(value))
        del graph.input[:]
        graph.input.extend(ordered_inputs)
        outputs = {value.name: value for value in graph.output}
        for index, source in sorted(self.aliases.items()):
            name = f"OUTPUT_{index}"
            graph.node.append(helper.make_node("Identity", [source], [name], name=f"{name}_is_{source}"))
            value = copy.deepcopy(outputs[source] if source in outputs else ordered_inputs[int(source.split("_")[1])])
            value.name = name
            outputs[name] = value
        missing = [f"OUTPUT_{index}" for index in range(len(self.outputs)) if f"OUTPUT_{index}" not in outputs]
        if missing or len(outputs) != len(self.outputs):
            raise Refusal("invalid_model", f"the converted model's outputs {sorted(outputs)} do not match the graph's "
                          f"{len(self.outputs)} outputs (missing {missing})", stage="convert")
        ordered_outputs = [copy.deepcopy(outputs[f"OUTPUT_{index}"]) for index in range(len(self.outputs))]
        del graph.output[:]
        graph.output.extend(ordered_outputs)
        graph.name = "tritonpack"
        graph.doc_string = ""
        model.ir_version = self.args.ir_version
        del model.opset_import[:]
        model.opset_import.extend([helper.make_opsetid("", self.args.opset)])
        model.producer_name = TOOL
        model.producer_version = "oneflow-onnx 0.6.2"
        model.doc_string = ""
        self._check(model, "the converted model")
        return model

    def _check(self, model, what):
        import onnx
        try:
            onnx.checker.check_model(model, full_check=True)
            onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        except Exception as error:  # noqa: BLE001
            raise Refusal("invalid_model", f"{what} of {self.mlir} is not valid ONNX (opset {self.args.opset}, IR "
                          f"{self.args.ir_version}): {type(error).__name__}: {str(error).strip()[:2000]}", stage="check") from error

    # ---- verification
    def make_inputs(self):
        arrays, described = [], []
        if self.args.golden:
            folder = os.path.abspath(self.args.golden)
            for index, (shape, numpy_type) in enumerate(self.input_specs):
                path = os.path.join(folder, f"INPUT_{index}.npy")
                if not os.path.isfile(path):
                    raise Refusal("load_failed", f"{path} is missing (--golden must hold INPUT_<k>.npy for every input)")
                array = np.load(path, allow_pickle=False)
                if array.dtype != np.dtype(numpy_type) or tuple(array.shape) != shape:
                    raise Refusal("load_failed", f"{path} holds {array.dtype}{list(array.shape)}, but INPUT_{index} of the "
                                  f"saved graph is {np.dtype(numpy_type)}{list(shape)}")
                arrays.append(np.ascontiguousarray(array))
                described.append({"name": f"INPUT_{index}", "source": "golden", "seed": None, "file": path})
        else:
            generator = np.random.default_rng(self.args.seed)
            for index, (shape, numpy_type) in enumerate(self.input_specs):
                kind = np.dtype(numpy_type).kind
                if kind == "f":
                    array = generator.standard_normal(shape).astype(numpy_type)
                elif kind == "b":
                    array = generator.integers(0, 2, shape).astype(np.bool_)
                else:  # integers in [0, 10): valid indices for any table of 10 rows or more
                    array = generator.integers(0, 10, shape).astype(numpy_type)
                arrays.append(np.ascontiguousarray(array))
                described.append({"name": f"INPUT_{index}", "source": "seeded", "seed": self.args.seed})
        for entry, array in zip(described, arrays):
            entry.update({"shape": list(array.shape), "dtype": str(array.dtype),
                          "sha256": hashlib.sha256(array.tobytes()).hexdigest()})
        return arrays, described

    def _session(self, model):
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(model.SerializeToString(), sess_options=options,
                                            providers=["CPUExecutionProvider"])

    def compare(self, name, expected, actual):
        """One output: shapes and dtypes equal; integers and bools equal; floats within
        tolerance * max(1, max|expected|). NaN must meet NaN, infinities the same infinity."""
        entry = {"name": name}
        if actual.shape != expected.shape or actual.dtype != expected.dtype:
            entry.update({"ok": False, "max_abs_error": None, "max_magnitude": None, "bound": None,
                          "exact": expected.dtype.kind != "f",
                          "problem": f"onnxruntime gives {actual.dtype}{list(actual.shape)}, OneFlow {expected.dtype}{list(expected.shape)}"})
            return entry
        if expected.dtype.kind != "f":
            wrong = int(np.count_nonzero(actual != expected))
            error = 0.0 if wrong == 0 else float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64))))
            magnitude = float(np.max(np.abs(expected.astype(np.float64)))) if expected.size else 0.0
            entry.update({"ok": wrong == 0, "max_abs_error": error, "max_magnitude": magnitude, "bound": 0.0, "exact": True})
            if wrong:
                entry["problem"] = f"{wrong} of {expected.size} values differ"
            return entry
        a = actual.astype(np.float64)
        e = expected.astype(np.float64)
        same = (a == e) | (np.isnan(a) & np.isnan(e))
        difference = np.where(same, 0.0, np.abs(a - e))
        difference = np.where(np.isnan(difference), np.inf, difference)
        error = float(np.max(difference)) if difference.size else 0.0
        finite = np.abs(e[np.isfinite(e)])
        magnitude = float(np.max(finite)) if finite.size else 0.0
        bound = self.args.tolerance * max(1.0, magnitude)
        entry.update({"ok": error <= bound, "max_abs_error": error, "max_magnitude": magnitude, "bound": bound, "exact": False})
        return entry

    def run_both(self, model, arrays, session=None):
        session = session or self._session(model)
        feeds = {f"INPUT_{index}": array for index, array in enumerate(arrays)}
        names = [f"OUTPUT_{index}" for index in range(len(self.outputs))]
        onnx_results = session.run(names, feeds)
        oneflow_results = self.oneflow_graph.run(arrays)
        return [self.compare(name, expected, np.asarray(actual))
                for name, expected, actual in zip(names, oneflow_results, onnx_results)], onnx_results, oneflow_results

    def verify(self, arrays):
        started = time.perf_counter()
        results, _, _ = self.run_both(self.model, arrays)
        self.times["verify_seconds"] = time.perf_counter() - started
        failed = [entry for entry in results if not entry["ok"]]
        if failed:
            first = failed[0]
            detail = first.get("problem") or (f"max |onnx - oneflow| = {first['max_abs_error']:.3g} exceeds the bound "
                                              f"{first['bound']:.3g} ({self.args.tolerance:g} x max(1, {first['max_magnitude']:.3g}))")
            fields = {"output": first["name"], "max_abs_error": _number(first["max_abs_error"]),
                      "bound": _number(first["bound"]), "outputs": [_clean(entry) for entry in results],
                      "first_divergent_op": None}
            message = (f"the ONNX conversion of {self.mlir} does not answer like OneFlow: {first['name']}: {detail}")
            if self.args.verbose:
                located = self.locate(arrays, first["name"])
                fields["first_divergent_op"] = located
                if located and located.get("node"):
                    message += (f"; first diverging ONNX node '{located['node']}' ({located['op_type']}, from OneFlow op "
                                f"'{located.get('oneflow_op')}')")
                elif located:
                    message += f"; {located.get('note')}"
            else:
                message += " (run with --verbose to locate the first diverging op)"
            raise Refusal("mismatch", message + f". {SUGGESTION}", **fields)
        return results

    def locate(self, arrays, failing_output):
        """Runs both sides again with every intermediate tensor the converter kept under its OneFlow
        blob name exposed as an extra output, and returns the first ONNX node (in the model's
        topological order) whose output breaks the tolerance rule."""
        import onnx
        from onnx import helper
        try:
            inferred = onnx.shape_inference.infer_shapes(self.model)
            types_known = {value.name: value.type.tensor_type.elem_type for value in inferred.graph.value_info}
            graph_outputs = {value.name for value in self.model.graph.output}
            candidates = []
            for node in self.model.graph.node:
                for name in node.output:
                    desc = self.blob_table.get(name)
                    if (desc is None or name in graph_outputs or int(desc.data_type) not in self.runner._NUMPY_TYPES
                            or name in candidates):
                        continue
                    candidates.append(name)
            if not candidates:
                return self._producer_of(failing_output, "the converter kept no OneFlow blob name inside the graph")
            probe_model = copy.deepcopy(self.model)
            for name in candidates:
                elem = types_known.get(name) or helper.np_dtype_to_tensor_dtype(
                    np.dtype(self.runner._NUMPY_TYPES[int(self.blob_table[name].data_type)]))
                probe_model.graph.output.append(helper.make_tensor_value_info(name, elem, None))
            session = self._session(probe_model)
            feeds = {f"INPUT_{index}": array for index, array in enumerate(arrays)}
            onnx_values = dict(zip(candidates, session.run(candidates, feeds)))

            job = self.job_pb2.Job()
            job.ParseFromString(self.job_bytes)
            template = next(op for op in job.net.op if op.WhichOneof("op_type") == "output_conf")
            probe_names = []
            for index, lbn in enumerate(candidates):
                op = job.net.op.add()
                op.CopyFrom(template)
                op.name = f"{PROBE_PREFIX}{index}"
                setattr(op.output_conf, "in", lbn)
                op.output_conf.blob_conf.shape.CopyFrom(self.blob_table[lbn].shape)
                op.output_conf.blob_conf.data_type = self.blob_table[lbn].data_type
                probe_names.append(op.name)
            group = job.placement.placement_group.add()
            group.parallel_conf.CopyFrom(job.placement.placement_group[0].parallel_conf)
            group.op_set.op_name.extend(probe_names)
            loader = self.internal.nn.graph.LoadSerializedJobFromIR
            self.internal.nn.graph.LoadSerializedJobFromIR = lambda path: job.SerializeToString()
            try:
                probe_graph = self.runner.SavedGraph(self.graph_dir, batch_size=self.batch)
            finally:
                self.internal.nn.graph.LoadSerializedJobFromIR = loader
            self.graphs.append(probe_graph)
            oneflow_values = dict(zip(candidates, probe_graph.run(arrays)[len(self.outputs):]))
            compared = 0
            for node in self.model.graph.node:
                for name in node.output:
                    if name not in onnx_values:
                        continue
                    compared += 1
                    entry = self.compare(name, oneflow_values[name], np.asarray(onnx_values[name]))
                    if not entry["ok"]:
                        return {"node": node.name, "op_type": node.op_type, "tensor": name,
                                "oneflow_op": name.split("/")[0], "max_abs_error": _number(entry["max_abs_error"]),
                                "bound": _number(entry["bound"]), "problem": entry.get("problem"),
                                "compared_tensors": compared}
            located = self._producer_of(failing_output, f"all {compared} intermediate tensors kept under OneFlow blob "
                                        "names agree; the divergence starts in the last op before the output")
            located["compared_tensors"] = compared
            return located
        except Exception as error:  # noqa: BLE001 (locating is best effort)
            self.log.warning("could not locate the diverging op: %s", error, exc_info=self.args.verbose)
            return {"node": None, "note": f"the diverging op could not be located: {type(error).__name__}: {error}"}

    def _producer_of(self, output, note):
        producers = {name: node for node in self.model.graph.node for name in node.output}
        node = producers.get(output)
        while node is not None and node.op_type == "Identity" and node.input and node.input[0] in producers:
            node = producers[node.input[0]]
        if node is None:
            return {"node": None, "note": note}
        return {"node": node.name, "op_type": node.op_type, "tensor": node.output[0],
                "oneflow_op": node.name.split("/")[0], "note": note}

    def try_dynamic_batch(self, arrays):
        """Dim 0 of every input (and of every output whose dim 0 is the saved batch) made symbolic;
        kept only if it verifies at batch 1, at B, and at a middle size when B > 2."""
        batch = self.batch
        if batch <= 0:
            return self.model, {"dynamic": False, "max": 0, "reason": "the inputs have no common batch dimension"}
        started = time.perf_counter()
        sizes = sorted({1, batch} | ({(batch + 1) // 2} if batch > 2 else set()))
        model = copy.deepcopy(self.model)
        for value in model.graph.input:
            value.type.tensor_type.shape.dim[0].dim_param = BATCH_PARAM
        for value, (shape, _) in zip(model.graph.output, self.output_specs):
            if shape and shape[0] == batch:
                value.type.tensor_type.shape.dim[0].dim_param = BATCH_PARAM
        del model.graph.value_info[:]
        info = {"dynamic": False, "max": batch, "tried": sizes}
        try:
            self._check(model, "the model with a symbolic batch")
            session = self._session(model)
            for size in sizes:
                results, _, _ = self.run_both(model, [array[:size] for array in arrays], session)
                failed = [entry for entry in results if not entry["ok"]]
                if failed:
                    first = failed[0]
                    info["reason"] = (f"at batch {size} {first['name']} differs from OneFlow: "
                                      + (first.get("problem") or f"max error {first['max_abs_error']:.3g} > bound {first['bound']:.3g}"))
                    return self.model, info
        except Refusal as refusal:
            info["reason"] = refusal.message
            return self.model, info
        except Exception as error:  # noqa: BLE001 (onnxruntime refusing the symbolic shapes)
            info["reason"] = f"{type(error).__name__}: {str(error).strip()[:500]}"
            return self.model, info
        finally:
            self.times["batch_seconds"] = time.perf_counter() - started
        # Triton's onnxruntime backend takes each output's shape from the session, whose own shape
        # inference keeps a batch that Reshape constants fix: batching needs -1 there too.
        fixed = [entry.name for entry in session.get_outputs() if entry.shape and not isinstance(entry.shape[0], str)]
        if fixed:
            info["reason"] = (f"onnxruntime infers a fixed first dimension for {', '.join(fixed)} "
                              "(a Reshape constant holds the saved batch)")
            return self.model, info
        info["dynamic"] = True
        info["verified"] = sizes
        del info["tried"]
        return model, info

    def close(self):
        for graph in self.graphs:
            try:
                graph.close()
            except Exception:  # noqa: BLE001
                pass


def _number(value):
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _clean(entry):
    cleaned = {key: (_number(value) if key in ("max_abs_error", "max_magnitude", "bound") else value)
               for key, value in entry.items() if key != "ok"}
    return cleaned


def _versions():
    from importlib import metadata
    versions = {}
    for key, distribution in (("oneflow", "oneflow"), ("oneflow_onnx", "oneflow-onnx"), ("onnx", "onnx"),
                              ("onnxruntime", "onnxruntime"), ("protobuf", "protobuf"), ("numpy", "numpy")):
        try:
            versions[key] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[key] = None
    versions["python"] = "%d.%d.%d" % sys.version_info[:3]
    return versions


def _write_atomically(path, data):
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(handle.name, 0o666 & ~mask)  # as open() would create it, not mkstemp's 0600
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def run(argv):
    started = time.perf_counter()
    try:
        arguments = _parse(argv)
    except _UsageError as error:
        return 2, {"ok": False, "reason": "usage", "message": f"oneflow_to_onnx.py: {error}"}
    logging.basicConfig(level=logging.INFO if arguments.verbose else logging.WARNING, stream=sys.stderr,
                        format="oneflow_to_onnx: %(name)s: %(message)s")
    if not arguments.verbose:
        logging.getLogger("oneflow_onnx").setLevel(logging.CRITICAL)  # its errors become the JSON's words
    enabled = [name for name in FIX_NAMES if name not in arguments.disable_fix]
    conversion = None
    try:
        runner = _import_runner()
        conversion = Conversion(arguments, runner)
        conversion.load()
        conversion.convert(enabled)
        arrays, inputs = conversion.make_inputs()
        results = conversion.verify(arrays)
        if arguments.fixed_batch:
            model, batch = conversion.model, {"dynamic": False, "max": conversion.batch, "reason": "--fixed-batch"}
        else:
            model, batch = conversion.try_dynamic_batch(arrays)
        data = model.SerializeToString(deterministic=True)
        output = os.path.abspath(arguments.output)
        _write_atomically(output, data)
        conversion.times["total_seconds"] = time.perf_counter() - started
        errors = [entry["max_abs_error"] for entry in results]
        return 0, {
            "ok": True,
            "onnx": output,
            "onnx_sha256": hashlib.sha256(data).hexdigest(),
            "opset": arguments.opset,
            "ir_version": arguments.ir_version,
            "versions": _versions(),
            "fixes": enabled,
            "fixes_used": [name for name in enabled if _fix_used.get(name)],
            "batch": batch,
            "tolerance": arguments.tolerance,
            "inputs": inputs,
            "outputs": [_clean(entry) for entry in results],
            "max_error": _number(max(errors)) if errors else 0.0,
            "graph_sha256": graph_sha256(conversion.graph_dir),
            "seconds": {key: round(value, 3) for key, value in conversion.times.items()},
        }
    except Refusal as refusal:
        document = {"ok": False, "reason": refusal.reason, "message": refusal.message,
                    "unsupported_ops": refusal.fields.pop("unsupported_ops", [])}
        document.update(refusal.fields)
        document["fixes"] = enabled
        document["disabled_fixes"] = list(arguments.disable_fix)
        return 1, document
    finally:
        if conversion is not None:
            conversion.close()


def main():
    # The converter's optimizers walk Python sets of tensor names: with string hashing randomised,
    # the same graph gives differently numbered constants. One fixed hash seed makes the .onnx
    # byte-identical from run to run, so run again under it (before anything is imported).
    if os.environ.get("PYTHONHASHSEED") != "0":
        environment = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], environment)
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # OneFlow, the converter and glog print to fd 1: only the JSON document goes there
    status, document = run(sys.argv[1:])
    out.write(json.dumps(document, allow_nan=False) + "\n")
    out.flush()
    sys.stderr.flush()
    # OneFlow's own teardown at interpreter exit can crash after the work is done: skip it.
    os._exit(status)


if __name__ == "__main__":
    main()
