"""TF Serving's side files: warm-up requests (`assets.extra/tf_serving_warmup_requests`,
PredictionLog records) and the `models.config` (a ModelServerConfig text proto)."""

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
