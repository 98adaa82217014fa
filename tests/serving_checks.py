"""Calling an export the way a server does: in a fresh process that imports only
tensorflow and tensorflow_text, and listing the op types of its graphs."""

import json
import os
import subprocess
import sys

import tensorflow as tf

# A fresh process: load the export, call each signature on the given inputs, print the
# outputs as JSON and which of our packages (or new keras modules) the load imported.
_CALLER = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tf-text ops the graph uses)
before = set(sys.modules)
model = tf.saved_model.load(sys.argv[1])
requests = json.load(open(sys.argv[2]))
def plain(value):
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.decode("utf-8") if isinstance(value, bytes) else value

results = {}
for name, inputs in requests.items():
    function = model.signatures[name]
    spec = function.structured_input_signature[1]
    tensors = {k: tf.constant(v, dtype=spec[k].dtype) for k, v in inputs.items()}
    results[name] = {k: plain(v.numpy().tolist()) for k, v in function(**tensors).items()}
loaded = set(sys.modules) - before
ours = sorted(m for m in sys.modules if m.split(".")[0] in
              ("keras_bert", "pipelines", "saved_models"))
keras_loaded = sorted(m for m in loaded if m.split(".")[0] == "keras")
print(json.dumps({"results": results, "ours": ours, "keras_loaded": keras_loaded}))
"""


def call_in_fresh_process(export_path, requests, tmp_path):
    """{signature: {output: list}} computed by a process without our code."""
    request_file = os.path.join(tmp_path, "requests.json")
    with open(request_file, "w") as f:
        json.dump(requests, f)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    done = subprocess.run(
        [sys.executable, "-c", _CALLER, export_path, request_file],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ours"] == [], report["ours"]
    assert report["keras_loaded"] == [], report["keras_loaded"]
    return report["results"]


# tf-text ops that the official TF Serving builds (2.12-2.20) register.
SERVING_TF_TEXT_OPS = {
    "FastWordpieceTokenizeWithOffsets",
    "WordpieceTokenizeWithOffsets",
    "RegexSplitWithOffsets",
    "CaseFoldUTF8",
    "NormalizeUTF8",
    "FastBertNormalize",
    "UnicodeScriptTokenizeWithOffsets",
}


def op_types(export_path):
    """Every op type in the export's graphs (the functions' bodies included)."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    types = set()
    for meta in proto.meta_graphs:
        types |= {node.op for node in meta.graph_def.node}
        for function in meta.graph_def.library.function:
            types |= {node.op for node in function.node_def}
        names = {f.signature.name for f in meta.graph_def.library.function}
    return types - names  # calls of the library's own functions are not ops


def ops_outside_serving(export_path):
    """Op types that are neither core TensorFlow nor in `SERVING_TF_TEXT_OPS`."""
    core = set(dir(tf.raw_ops))
    return sorted(
        t for t in op_types(export_path) if t not in core and t not in SERVING_TF_TEXT_OPS
    )


def signature_op_types(export_path, signature):
    """The op types one signature can run: its graph node's function and every function
    that one calls (calls, loops and branches), followed through the library."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    (meta,) = proto.meta_graphs
    library = {f.signature.name: f for f in meta.graph_def.library.function}
    nodes = {node.name: node for node in meta.graph_def.node}

    def called(node):
        for value in node.attr.values():
            if value.HasField("func"):
                yield value.func.name
            yield from (f.name for f in value.list.func)

    outputs = meta.signature_def[signature].outputs.values()
    pending = [name for out in outputs for name in called(nodes[out.name.split(":")[0]])]
    seen, types = set(), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in library[name].node_def:
            types.add(node.op)
            pending.extend(called(node))
    return types - set(library)
