"""TF Serving's side files: warm-up requests (`assets.extra/tf_serving_warmup_requests`,
PredictionLog records), the `models.config` (a ModelServerConfig text proto) and the
`batching_parameters.txt` of `--enable_batching` (a BatchingParameters text proto)."""

import os

import tensorflow as tf

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def write_warmup(version_dir, requests, model_name="model"):
    """Writes one PredictionLog per (signature, inputs) request; returns the file path.

    Args:
        version_dir: str, an export's version folder.
        requests: list of (signature name, {input name: array-like}).
        model_name: str, the model name in each request's ModelSpec.
    """
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature)
            )
            for name, value in inputs.items():
                request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def read_warmup(path):
    """[(signature name, {input name: numpy array})] from a warm-up file."""
    from tensorflow_serving.apis import prediction_log_pb2

    out = []
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        request = log.predict_log.request
        out.append(
            (
                request.model_spec.signature_name,
                {k: tf.make_ndarray(v) for k, v in request.inputs.items()},
            )
        )
    return out


def update_models_config(config_path, name, base_path):
    """Adds (or updates) `name` -> `base_path` in a ModelServerConfig text file, keeping
    the other models; written atomically. Returns the config's model names."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as f:
            try:
                text_format.Parse(f.read(), config)
            except text_format.ParseError as error:
                raise ValueError(f"{config_path}: not a ModelServerConfig ({error}).") from None
    models = config.model_config_list.config
    entry = next((m for m in models if m.name == name), None) or models.add()
    entry.name = name
    entry.base_path = os.path.abspath(base_path)
    entry.model_platform = "tensorflow"
    entry.model_version_policy.latest.num_versions = 1
    tmp = f"{config_path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(config))
    os.replace(tmp, config_path)
    return [m.name for m in models]


BATCHING_FILE = "batching_parameters.txt"


def batching_parameters(max_batch_size=32, batch_timeout_micros=2000, num_batch_threads=None):
    """TF Serving's server-side batching options (a BatchingParameters text proto), for
    `tensorflow_model_server --enable_batching --batching_parameters_file=...`.

    How the defaults were chosen: batches of 32 are where an encoder's throughput on
    two to sixteen CPU cores stops growing (`benchmarks/serving.py`); a request waits
    at most 2 ms for others to join its batch; one batch thread per core (default: this
    machine's count) keeps every core busy without two batches fighting over one; up
    to 8 batches per thread wait in the queue before requests are refused (a bounded
    queue answers a flood with errors instead of growing latency); and token-id
    requests of different lengths are padded to one length so that they batch
    together (raw-text requests are 1-D string batches and need no padding; the
    graph pads each merged batch to its longest row itself).

    Example:
    >>> print(batching_parameters(num_batch_threads=4))
    max_batch_size { value: 32 }
    batch_timeout_micros { value: 2000 }
    max_enqueued_batches { value: 32 }
    num_batch_threads { value: 4 }
    pad_variable_length_inputs: true
    <BLANKLINE>
    """
    threads = num_batch_threads or os.cpu_count() or 1
    return (
        f"max_batch_size {{ value: {max_batch_size} }}\n"
        f"batch_timeout_micros {{ value: {batch_timeout_micros} }}\n"
        f"max_enqueued_batches {{ value: {8 * threads} }}\n"
        f"num_batch_threads {{ value: {threads} }}\n"
        "pad_variable_length_inputs: true\n"
    )


def write_batching_parameters(folder, **options):
    """Writes `folder/batching_parameters.txt` (atomically); returns its path."""
    path = os.path.join(folder, BATCHING_FILE)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(batching_parameters(**options))
    os.replace(tmp, path)
    return path
