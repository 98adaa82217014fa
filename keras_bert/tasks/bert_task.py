"""BertTask: what every task model shares (backbone, one compile recipe, heads, config)."""

import inspect

import keras

from keras_bert.training import make_optimizer

# BERT's fine-tuning recipe (Devlin et al., 2019, appendix A.3): AdamW, eps 1e-6, weight
# decay 0.01 except LayerNorm and biases, 10% warmup then linear decay, clip 1.0. The
# learning rate is the top of the paper's grid {5e-5, 4e-5, 3e-5, 2e-5}.
FINE_TUNING = {
    "optimizer": "adamw",
    "learning_rate": 5e-5,
    "weight_decay": 0.01,
    "epsilon": 1e-6,
    "clipnorm": 1.0,
}
# Pretraining (run_pretraining.py): the same optimizer at 1e-4.
PRETRAINING = dict(FINE_TUNING, learning_rate=1e-4)
# Every option `compile_recipe` takes: make_optimizer's arguments and jit_compile.
# `metrics` replaces the task's default metrics (e.g. F1 for MRPC).
RECIPE_ARGS = tuple(inspect.signature(make_optimizer).parameters) + ("jit_compile", "metrics")


def head_initializer(backbone):
    """A new fine-tuning head's kernel initializer: normal with the encoder's
    `initializer_range`, as transformers initializes its heads. Adam moves a weight by
    about the learning rate a step, so over a short fine-tuning run a head barely leaves
    its initial scale; a truncated normal (0.88 of that scale) learned measurably slower
    on small NER data (`benchmarks/finetune_parity.py`)."""
    return keras.initializers.RandomNormal(stddev=backbone.initializer_range)


class BertTask(keras.Model):
    """Base of the task models: a `BertBackbone` plus heads, as one functional model.

    A subclass builds its graph in `__init__(backbone, **options)` (its options are its
    config: `task_options()` reads them from that signature, so `build()` and
    `get_config()` never list them twice) and says how it is trained:

    - `RECIPE`: default optimizer options (`FINE_TUNING` or `PRETRAINING`);
    - `compile_arguments()`: the `loss`, `metrics`, ... given to `compile`;
    - `checkpoint_heads()`: `{tf1_prefix: layer}`, the heads stored in Google-format
      checkpoints (loaded and written by `keras_bert.checkpoints`);
    - `POOLED_OUTPUT_ONLY`: True where the heads read the backbone's `pooled_output`
      alone, so `build()` gives it `cls_row_alone=True` (see `BertBackbone`).

    `compile_recipe(**recipe)` is the one way every task compiles: BERT's optimizer
    (`training.make_optimizer`), loss scaling under mixed_float16, optional XLA. A user
    can still call `model.compile(...)` with anything.
    """

    RECIPE = FINE_TUNING
    POOLED_OUTPUT_ONLY = False

    @classmethod
    def task_options(cls):
        """The constructor options besides `backbone` (the task's config)."""
        params = inspect.signature(cls.__init__).parameters
        return tuple(
            n
            for n, p in params.items()
            if n not in ("self", "backbone") and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )

    def compile_arguments(self):
        return {}

    def checkpoint_heads(self):
        return {}

    def compile_recipe(self, jit_compile=False, metrics=None, **recipe):
        """Compiles with BERT's optimizer recipe (this task's defaults, then `recipe`);
        `metrics`, when given, replace the task's default metrics."""
        unknown = set(recipe) - set(RECIPE_ARGS)
        if unknown:
            raise ValueError(
                f"Unknown recipe option(s) for {type(self).__name__}: "
                f"{', '.join(sorted(unknown))}; expected: "
                f"{', '.join(RECIPE_ARGS)}."
            )
        optimizer = make_optimizer(**dict(self.RECIPE, **recipe))
        if self.backbone.dtype_policy.name == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)  # float16 underflow.
        arguments = self.compile_arguments()
        if metrics is not None:
            arguments["metrics"] = metrics
        self.compile(optimizer=optimizer, jit_compile=jit_compile, **arguments)
        if self.built:
            # The slots now, eagerly, as Keras does for a loaded model: left to the first
            # traced step, each becomes a lifted initializer with its own conditional
            # graph, seconds of tracing per run (tf.distribute or not).
            self.optimizer.build(self.trainable_variables)
        return self

    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
        }
        config.update({name: getattr(self, name) for name in self.task_options()})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
