"""`keras-bert pretrain`: MLM + NSP pretraining from text files; resumable after a kill.

Layout of `--out`: `checkpoints/latest.keras` (model + optimizer state) and
`checkpoints/state.json` (the step), rewritten atomically every `--checkpoint-every`
steps; `logs/` (TensorBoard); at the end `model.keras`, `tf1/` (Google's format with
the pretraining heads, vocab.txt and bert_config.json) and `metrics.json`.
"""

import argparse
import json
import os

from keras_bert.cli.common import UsageError, log

_SETTINGS = ("preset", "init_checkpoint", "seq_len", "vocab")


def _check_inputs(args):
    """Everything that can be wrong is found here, before any training starts."""
    from keras_bert.checkpoints import read_config
    from keras_bert.presets import get_preset
    from pipelines import BertTokenizer
    from pipelines.documents import document_dataset, list_files

    for name in ("steps", "batch_size", "checkpoint_every"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")
    files = list_files(args.train)
    if not any(True for _ in document_dataset(files, args.format).take(1)):
        raise UsageError(f"the corpus has no text: {', '.join(files[:3])}")
    tokenizer = BertTokenizer(args.vocab, lowercase=args.lowercase)
    if args.init_checkpoint:
        config = read_config(args.init_checkpoint)
        if config["vocabulary_size"] != tokenizer.vocabulary_size:
            raise UsageError(f"--vocab has {tokenizer.vocabulary_size} tokens but "
                             f"{args.init_checkpoint} has {config['vocabulary_size']}")
    else:
        config = get_preset(args.preset)
    if not 8 <= args.seq_len <= config["max_sequence_length"]:
        raise UsageError(f"--seq-len {args.seq_len} must be in [8, "
                         f"{config['max_sequence_length']}] (the model's maximum)")
    return files, tokenizer


def _new_model(args, tokenizer):
    import keras_bert

    source = args.init_checkpoint or args.preset
    options = dict(task="pretraining", optimizer=args.optimizer,
                   learning_rate=args.learning_rate, total_steps=args.steps,
                   warmup_steps=args.warmup_steps, jit_compile=args.xla,
                   gradient_accumulation_steps=args.grad_accum)
    if args.dtype:
        options["dtype"] = args.dtype
    if args.init_checkpoint:
        log(f"starting from checkpoint {args.init_checkpoint}")
        return keras_bert.build(source, **options)
    return keras_bert.build(source, vocabulary_size=tokenizer.vocabulary_size, **options)


def _save_atomically(write, path):
    tmp = path + ".tmp" + os.path.splitext(path)[1]
    write(tmp)
    os.replace(tmp, path)


def _resume(args, paths):
    """(model, step) from the last checkpoint in --out, or (None, 0)."""
    import keras

    if not os.path.exists(paths["state"]):
        return None, 0
    with open(paths["state"]) as f:
        state = json.load(f)
    settings = {k: getattr(args, k) for k in _SETTINGS}
    if state["settings"] != settings:
        raise UsageError(f"{args.out} holds a run with other settings "
                         f"({state['settings']}); use another --out")
    model = keras.saving.load_model(paths["model"])
    model.jit_compile = args.xla
    log(f"resuming from step {state['step']} ({paths['model']})")
    return model, state["step"]


def _checkpoint(model, step, args, paths):
    _save_atomically(model.save, paths["model"])
    state = {"step": step, "settings": {k: getattr(args, k) for k in _SETTINGS}}

    def write_state(path):
        with open(path, "w") as f:
            json.dump(state, f)

    _save_atomically(write_state, paths["state"])
    log(f"checkpoint at step {step}: {paths['model']}")


def _unigram_baseline(files, tokenizer, args, batches=20):
    """MLM accuracy of always guessing the most frequent masked token."""
    import collections

    from pipelines.pretraining import pretraining_dataset

    data = pretraining_dataset(files, tokenizer, args.seq_len, args.batch_size,
                               format=args.format, seed=args.seed + 7, for_fit=False)
    counts = collections.Counter()
    for batch in data.take(batches):
        ids = batch["mask_ids"].numpy()[batch["mask_weights"].numpy() > 0]
        counts.update(ids.tolist())
    return counts.most_common(1)[0][1] / sum(counts.values())


def run(args):
    import keras

    from keras_bert.checkpoints import write_tf1_checkpoint
    from pipelines.pretraining import pretraining_dataset

    log("checking inputs")
    files, tokenizer = _check_inputs(args)
    os.makedirs(os.path.join(args.out, "checkpoints"), exist_ok=True)
    paths = {"model": os.path.join(args.out, "checkpoints", "latest.keras"),
             "state": os.path.join(args.out, "checkpoints", "state.json")}
    model, step = _resume(args, paths)
    if model is None:
        log("building the model")
        model = _new_model(args, tokenizer)
    log(f"{model.backbone.count_params():,} backbone parameters; {len(files)} file(s); "
        f"training steps {step}..{args.steps}")
    tensorboard = keras.callbacks.TensorBoard(os.path.join(args.out, "logs"))
    history = {}
    while step < args.steps:
        count = min(args.checkpoint_every, args.steps - step)
        segment = step // args.checkpoint_every
        data = pretraining_dataset(
            files, tokenizer, args.seq_len, args.batch_size, format=args.format,
            max_predictions=args.max_predictions, short_seq_prob=args.short_seq_prob,
            sentence_order=args.sentence_order, whole_word_masking=args.whole_word_masking,
            seed=args.seed, start_step=step)
        log(f"steps {step + 1}..{step + count} of {args.steps}")
        result = model.fit(data, steps_per_epoch=count, initial_epoch=segment,
                           epochs=segment + 1, callbacks=[tensorboard],
                           verbose=args.verbose)
        history = {k: float(v[-1]) for k, v in result.history.items()}
        step += count
        _checkpoint(model, step, args, paths)
    log("writing final checkpoints")
    model.save(os.path.join(args.out, "model.keras"))
    write_tf1_checkpoint(os.path.join(args.out, "tf1"), model.backbone, model.mlm_head,
                         model.nsp_head, vocabulary=args.vocab, lowercase=tokenizer.lowercase)
    if history:
        history["unigram_baseline_mlm_accuracy"] = _unigram_baseline(files, tokenizer, args)
        history["steps"] = args.steps
        with open(os.path.join(args.out, "metrics.json"), "w") as f:
            json.dump(history, f, indent=2)
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in history.items()))
    return 0


def add_parser(commands):
    parser = commands.add_parser("pretrain", help="MLM + NSP pretraining from text files")
    add = parser.add_argument
    add("--preset", default="tiny", help="architecture preset (ignored with --init-checkpoint)")
    add("--init-checkpoint", help="continue from a checkpoint folder (TF1/HF/Model Garden)")
    add("--train", required=True, nargs="+", help="text files or globs")
    add("--format", default="sentences", help="sentences | lines | files (see pipelines.documents)")
    add("--vocab", required=True, help="vocab.txt (special tokens included)")
    add("--lowercase", action=argparse.BooleanOptionalAction, default=None,
        help="uncased/cased; default: do_lower_case from the vocab's folder")
    add("--seq-len", type=int, default=128)
    add("--batch-size", type=int, default=32)
    add("--steps", type=int, required=True)
    add("--out", required=True, help="run folder (re-run with the same --out to resume)")
    add("--checkpoint-every", type=int, default=100)
    add("--optimizer", default="adamw", choices=("adamw", "lamb"))
    add("--learning-rate", type=float, default=1e-4)
    add("--warmup-steps", type=int, default=None, help="default: 10%% of --steps")
    add("--max-predictions", type=int, default=None, help="default: 20 at 128, 76 at 512")
    add("--short-seq-prob", type=float, default=0.1)
    add("--whole-word-masking", action="store_true")
    add("--sentence-order", action="store_true", help="ALBERT's SOP instead of NSP")
    add("--dtype", default=None, help="e.g. mixed_bfloat16 or mixed_float16")
    add("--xla", action="store_true", help="compile the train step with XLA")
    add("--grad-accum", type=int, default=None, help="gradient accumulation steps")
    add("--seed", type=int, default=0)
    add("--verbose", type=int, default=1, help="Keras progress: 1 bar, 2 a line per epoch")
    parser.set_defaults(run=run)
