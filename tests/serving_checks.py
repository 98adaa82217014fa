"""Calling an export the way a server does: in a fresh process that imports only
tensorflow and tensorflow_text, and listing the op types of its graphs."""

import atexit
import json
import os
import subprocess
import sys

import tensorflow as tf

# A process of its own that imports only tensorflow and tensorflow_text: for each line
# of JSON on stdin ({"export": path, "requests": {signature: inputs}}) it loads the
# export, calls each signature, and prints the outputs as one line of JSON with which of
# our packages (or new keras modules) that load imported.
_SERVER = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tf-text ops the graph uses)

def plain(value):
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.decode("utf-8") if isinstance(value, bytes) else value

for line in sys.stdin:
    job = json.loads(line)
    before = set(sys.modules)
    model = tf.saved_model.load(job["export"])
    results = {}
    for name, inputs in job["requests"].items():
        function = model.signatures[name]
        spec = function.structured_input_signature[1]
        tensors = {k: tf.constant(v, dtype=spec[k].dtype) for k, v in inputs.items()}
        results[name] = {k: plain(v.numpy().tolist()) for k, v in function(**tensors).items()}
    loaded = set(sys.modules) - before
    ours = sorted(m for m in sys.modules if m.split(".")[0] in
                  ("keras_bert", "pipelines", "saved_models"))
    keras_loaded = sorted(m for m in loaded if m.split(".")[0] == "keras")
    print(json.dumps({"results": results, "ours": ours, "keras_loaded": keras_loaded}),
          flush=True)
"""
_SERVERS = []  # The one server process of this test process, started at the first call.


def _server(cwd):
    if _SERVERS and _SERVERS[0].poll() is None:
        return _SERVERS[0]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    log = os.path.join(cwd, "export-caller.log")
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(log, "w"),
        text=True,
        env=env,
        cwd=cwd,  # Not the checkout: nothing of ours is importable from there.
    )
    atexit.register(process.kill)
    process.log = log
    _SERVERS[:] = [process]
    return process


def call_in_fresh_process(export_path, requests, tmp_path):
    """{signature: {output: list}} computed by a process without our code: it imports
    only tensorflow and tensorflow_text, and loading this export imports nothing of ours
    and no keras module. One such process serves a test process's calls (starting
    TensorFlow is most of a call's time)."""
    process = _server(tmp_path)
    process.stdin.write(json.dumps({"export": export_path, "requests": requests}) + "\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        log = open(process.log).read()
        _SERVERS.clear()
        raise AssertionError(f"the export-calling process ended: {log[-3000:]}")
    report = json.loads(line)
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


def parse_batching_parameters(text):
    """A `batching_parameters.txt` parsed as TF Serving's BatchingParameters message
    (its fields as tensorflow_serving/servables/tensorflow/session_bundle_config.proto
    declares them; the message is not in tensorflow-serving-api, so it is declared
    here): an unknown field or a wrong type fails to parse."""
    from google.protobuf import (
        descriptor_pb2,
        descriptor_pool,
        message_factory,
        text_format,
        wrappers_pb2,
    )

    proto = descriptor_pb2.FileDescriptorProto(
        name="batching_check.proto",
        package="tensorflow.serving",
        dependency=["google/protobuf/wrappers.proto"],
        syntax="proto3",
    )
    message = proto.message_type.add(name="BatchingParameters")
    field = descriptor_pb2.FieldDescriptorProto
    wrapped = [
        ("max_batch_size", 1, "Int64Value"),
        ("batch_timeout_micros", 2, "Int64Value"),
        ("max_enqueued_batches", 3, "Int64Value"),
        ("num_batch_threads", 4, "Int64Value"),
        ("thread_pool_name", 5, "StringValue"),
    ]
    for name, number, kind in wrapped:
        message.field.add(
            name=name,
            number=number,
            type=field.TYPE_MESSAGE,
            type_name=f".google.protobuf.{kind}",
            label=field.LABEL_OPTIONAL,
        )
    message.field.add(
        name="allowed_batch_sizes", number=6, type=field.TYPE_INT64, label=field.LABEL_REPEATED
    )
    message.field.add(
        name="pad_variable_length_inputs",
        number=7,
        type=field.TYPE_BOOL,
        label=field.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(proto)
    cls = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters")
    )
    return text_format.Parse(text, cls())
