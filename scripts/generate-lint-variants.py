#!/usr/bin/env python3
"""Generates the lint-variants repository: N Python-backend models, each a valid base config with
1-3 random mutations (one per area of the checks Triton runs at load time), deterministic for a
seed. Usage: scripts/generate-lint-variants.py REPOSITORY N SEED (the tests use 160 7).
Tests/Fixtures/lint-variants/expected.json holds the real 2.51 server's verdicts for them; regenerate
with Tests/Fixtures/lint-variants/README.md.
"""
import os
import random
import shutil
import sys

root = sys.argv[1]
n = int(sys.argv[2])
seed = int(sys.argv[3])
random.seed(seed)
shutil.rmtree(root, ignore_errors=True)
STUB = "import triton_python_backend_utils as pb_utils\nclass TritonPythonModel:\n    def initialize(self, args):\n        pass\n    def execute(self, requests):\n        return [pb_utils.InferenceResponse(output_tensors=[]) for _ in requests]\n"
def inp(name="INPUT0", t="TYPE_FP32", dims="[ 4 ]", extra=""):
    return '{ name: "%s" data_type: %s dims: %s %s}' % (name, t, dims, extra)
MUT = {
 "mbs": lambda c: c.update(mbs=random.choice([-1, 0, 1, 8])),
 "dims_in": lambda c: c.update(in0=inp(dims=random.choice(["[ ]", "[ 0 ]", "[ -1 ]", "[ -2 ]", "[ 2, 2 ]", "[ 4, 1 ]"]))),
 "type_in": lambda c: c.update(in0=random.choice(['{ name: "INPUT0" dims: [ 4 ] }', inp(t="TYPE_STRING"), inp(t="TYPE_BF16"), inp(t="TYPE_BOOL")])),
 "reshape": lambda c: c.update(in0=inp(dims=random.choice(["[ 4 ]", "[ 1 ]", "[ -1 ]"]), extra="reshape { shape: %s } " % random.choice(["[ ]", "[ 2, 2 ]", "[ 5 ]", "[ -1 ]", "[ 1, -1 ]"]))),
 "second_input": lambda c: c.update(in1=random.choice([inp("INPUT1", "TYPE_INT32", "[ 2 ]"), inp("INPUT1", "TYPE_FP32", "[ 4 ]", "optional: true "), inp("INPUT0"), inp("", "TYPE_FP32")])),
 "format": lambda c: c.update(in0=inp(dims=random.choice(["[ 3, 4, 4 ]", "[ 4 ]"]), extra="format: %s " % random.choice(["FORMAT_NCHW", "FORMAT_NHWC"]))),
 "dyn": lambda c: c.update(sched="dynamic_batching { %s }" % random.choice(["", "preferred_batch_size: [ 2, 4 ]", "preferred_batch_size: [ 16 ]", "preferred_batch_size: [ 0 ]", "priority_levels: 2 default_priority_level: 1", "priority_levels: 2 default_priority_level: 0", "priority_levels: 2 default_priority_level: 1 priority_queue_policy { key: 3 value: { } }", "preserve_ordering: true priority_levels: 2 default_priority_level: 1", "preserve_ordering: true default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 10 }", "max_queue_delay_microseconds: 100"])),
 "seq": lambda c: c.update(sched="sequence_batching { %s }" % random.choice(["", 'control_input [ { name: "S" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] } ]', 'control_input [ { name: "S" control [ { kind: CONTROL_SEQUENCE_START } ] } ]', 'control_input [ { name: "C" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ] } ]', 'control_input [ { name: "C" control [ { kind: CONTROL_SEQUENCE_CORRID } ] } ]', 'oldest { preferred_batch_size: [ 16 ] }', 'direct { minimum_slot_utilization: 1.5 }', 'state [ { input_name: "SI" output_name: "SO" data_type: TYPE_FP32 dims: [ 1 ] } ]'])),
 "ig": lambda c: c.update(ig="instance_group [ %s ]" % random.choice(["{ kind: KIND_CPU }", "{ kind: KIND_GPU }", "{ kind: KIND_CPU gpus: [ 0 ] }", "{ kind: KIND_MODEL }", "{ count: 0 kind: KIND_CPU }", "{ count: -2 }", "{ kind: KIND_CPU profile: [ \"1\" ] }", "{ name: \"g\" kind: KIND_CPU count: 2 }, { kind: KIND_CPU }", "{ kind: KIND_AUTO gpus: [ 1 ] }"])),
 "warmup": lambda c: c.update(warm='model_warmup [ { name: "w" batch_size: %s inputs { key: "%s" value: { data_type: %s dims: %s %s } } } ]' % (random.choice(["0", "1", "2", "16"]), random.choice(["INPUT0", "INPUT0", "OTHER"]), random.choice(["TYPE_FP32", "TYPE_FP32", "TYPE_INT32"]), random.choice(["[ 4 ]", "[ 4 ]", "[ 5 ]", "[ -1 ]", "[ 1, 4 ]"]), random.choice(["zero_data: true", "random_data: true", "", 'input_data_file: "d.bin"']))),
 "policy": lambda c: c.update(policy="version_policy { %s }" % random.choice(["all { }", "latest { }", "latest { num_versions: 2 }", "specific { versions: [ 1 ] }", "specific { versions: [ 3 ] }", "specific { versions: [ 1, 3 ] }"])),
 "versions": lambda c: c.update(vdirs=random.choice([["1"], ["1", "2"], ["01"], ["0"], ["1abc"], ["2"], []])),
 "label": lambda c: c.update(out0='{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] label_filename: "%s" }' % random.choice(["labels.txt", "missing.txt", "../x.txt"])),
 "cache": lambda c: c.update(extra=c.get("extra", "") + random.choice(["response_cache { enable: true }\n", "model_transaction_policy { decoupled: true }\n", "model_transaction_policy { decoupled: true }\nresponse_cache { enable: true }\n"])),
 "batchio": lambda c: c.update(extra=c.get("extra", "") + random.choice(['batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: "B" data_type: TYPE_FP32 source_input: "INPUT0" } ]\n', 'batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: "B" source_input: "INPUT0" } ]\n', 'batch_output [ { target_name: "OUTPUT0" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: "INPUT0" } ]\n', 'batch_output [ { target_name: "NOPE" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: "INPUT0" } ]\n'])),
 "name": lambda c: c.update(name=random.choice(['name: "other"', ""])),
 "platform": lambda c: c.update(backend=random.choice(['backend: "python"\nplatform: "tensorrt_plan"', 'platform: "ensemble"\nbackend: "python"', 'backend: "python"\nplatform: "whatever"', 'platform: "tensorflow_savedmodel"', 'backend: "nonexistent"'])),
 "metrics": lambda c: c.update(extra=c.get("extra", "") + random.choice(['model_metrics { metric_control [ { metric_identifier { family: "nv_inference_request_duration_us" } histogram_options { buckets: [ 1, 10 ] } } ] }\n', 'model_metrics { metric_control [ { histogram_options { buckets: [ 1 ] } } ] }\n'])),
 "agent": lambda c: c.update(extra=c.get("extra", "") + 'model_repository_agents { agents [ { name: "checksum" } ] }\n'),
 "syntax": lambda c: c.update(extra=c.get("extra", "") + random.choice(["max_batch_sise: 2\n", "input [ { name: \"X\" data_type: TYPE_FLOAT dims: [ 1 ] } ]\n", "dynamic_batching { }\nsequence_batching { }\n"])),
 "missing_config": lambda c: c.update(noconfig=True),
 "autocomplete_py": lambda c: c.update(ac=True, in0=random.choice(['{ name: "INPUT0" }', '{ name: "INPUT0" data_type: TYPE_FP32 }', inp()]), out0=random.choice(['{ name: "OUTPUT0" }', '{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] }'])),
}
AC = "import triton_python_backend_utils as pb_utils\nclass TritonPythonModel:\n    @staticmethod\n    def auto_complete_config(c):\n        c.add_input({'name': 'INPUT0', 'data_type': 'TYPE_FP32', 'dims': [4]})\n        c.add_output({'name': 'OUTPUT0', 'data_type': 'TYPE_FP32', 'dims': [4]})\n        return c\n    def initialize(self, args):\n        pass\n    def execute(self, requests):\n        return [pb_utils.InferenceResponse(output_tensors=[]) for _ in requests]\n"
names = list(MUT)
for i in range(n):
    c = {"mbs": random.choice([0, 4]), "in0": inp(), "out0": '{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] }', "backend": 'backend: "python"', "vdirs": ["1"]}
    applied = random.sample(names, random.choice([1, 1, 2, 2, 3]))
    for m in applied:
        MUT[m](c)
    model = f"g{i:03d}_" + "_".join(applied)
    d = os.path.join(root, model)
    os.makedirs(d)
    cfg = (c.get("name", "") + "\n" + c["backend"] + "\n" + f"max_batch_size: {c['mbs']}\n" + "input [ " + c["in0"] + (", " + c["in1"] if "in1" in c else "") + " ]\n"
           + "output [ " + c["out0"] + " ]\n" + c.get("sched", "") + "\n" + c.get("ig", "") + "\n" + c.get("warm", "") + "\n" + c.get("policy", "") + "\n" + c.get("extra", ""))
    if not c.get("noconfig"):
        open(os.path.join(d, "config.pbtxt"), "w").write(cfg)
    for v in c["vdirs"]:
        os.makedirs(os.path.join(d, v))
        open(os.path.join(d, v, "model.py"), "w").write(AC if c.get("ac") else STUB)
    open(os.path.join(d, "labels.txt"), "w").write("a\nb\nc\nd\n")
    os.makedirs(os.path.join(d, "warmup"))
    open(os.path.join(d, "warmup", "d.bin"), "wb").write(b"\0" * 8)
print(n)
