"""Writes test checkpoints in foreign formats the way their own tools do."""

import json
import os

import numpy as np
import tensorflow as tf

from tests import numpy_bert


def tf1_config(vocab, hidden, layers, heads, intermediate, max_positions=16):
    return {
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": intermediate,
        "max_position_embeddings": max_positions,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "type_vocab_size": 2,
        "vocab_size": vocab,
    }


def write_tf1(directory, weights, config, optimizer_slots=True):
    """Google's layout, saved by a TF1 `Saver` in graph mode like run_pretraining.py."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "bert_config.json"), "w") as f:
        json.dump(config, f)
    with tf.Graph().as_default():
        variables = [tf.compat.v1.Variable(v, name=n) for n, v in weights.items()]
        if optimizer_slots:
            for n, v in list(weights.items())[:3]:
                variables.append(tf.compat.v1.Variable(np.ones_like(v), name=f"{n}/adam_m"))
                variables.append(tf.compat.v1.Variable(np.ones_like(v), name=f"{n}/adam_v"))
            variables.append(tf.compat.v1.Variable(7, dtype=tf.int64, name="global_step"))
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(
                session,
                os.path.join(directory, "bert_model.ckpt"),
                write_meta_graph=False,
                write_state=False,
            )
    return directory


def hf_weights(weights):
    """TF1-named weights renamed and laid out as transformers' BertForPreTraining."""
    out = {}
    for name, value in weights.items():
        hf = name.replace("bert/", "bert.").replace("/", ".")
        hf = hf.replace("encoder.layer_", "encoder.layer.")
        hf = hf.replace("LayerNorm.gamma", "LayerNorm.weight")
        hf = hf.replace("LayerNorm.beta", "LayerNorm.bias")
        if hf.endswith(".kernel"):
            hf, value = hf[: -len("kernel")] + "weight", value.T
        if hf.endswith("_embeddings"):
            hf += ".weight"
        hf = hf.replace("cls.predictions.output_bias", "cls.predictions.bias")
        hf = hf.replace("cls.seq_relationship.output_weights", "cls.seq_relationship.weight")
        hf = hf.replace("cls.seq_relationship.output_bias", "cls.seq_relationship.bias")
        out[hf] = np.ascontiguousarray(value)
    out["bert.embeddings.position_ids"] = np.arange(16, dtype=np.int64)[None]
    return out


def write_hf(directory, weights, config):
    from safetensors.numpy import save_file

    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(dict(config, model_type="bert", layer_norm_eps=1e-12), f)
    save_file(hf_weights(weights), os.path.join(directory, "model.safetensors"))
    return directory


def tiny_weights(seed=0, vocab=11, hidden=6, layers=2, intermediate=10, heads=True):
    return numpy_bert.random_weights(
        np.random.default_rng(seed),
        vocab,
        hidden,
        layers,
        intermediate,
        max_positions=16,
        heads=heads,
    )
