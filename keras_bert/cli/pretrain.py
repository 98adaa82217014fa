"""`keras-bert pretrain`: MLM + NSP pretraining from text files; resumable after a kill.

`--objective` picks one of the paper's ablation rows: `mlm_nsp` (BERT), `mlm` (no NSP:
single segments of consecutive text) or `ltr` (a left-to-right LM without NSP, on a
causal encoder). `--validation FILES` scores held-out text after every checkpoint
segment (LM loss, accuracy, perplexity): the learning curve and the final scores, in
`metrics.json`.

Layout of `--out`: `checkpoints/step-<N>.keras` (model + optimizer state) and
`checkpoints/state.json` (the step and its file), rewritten atomically every
`--checkpoint-every` steps; `logs/` (TensorBoard); at the end `model.keras`, `tf1/`
(Google's format with the pretraining heads, vocab.txt and bert_config.json) and
`metrics.json`. With several workers only the chief writes there.
"""

import argparse
import json

from keras_bert.cli.common import (
    HelpFormatter,
    UsageError,
    add_recipe_flags,
    log,
    model_size,
    non_negative_int,
    positive_int,
    probability,
    reading_inputs,
)
from keras_bert.cli.distributed import add_strategy_flags

# Flags a resumed run must keep (compared with the run's state.json, each one named).
_SETTINGS = (
    "objective",
    "preset",
    "size",
    "init_checkpoint",
    "seq_len",
    "vocab",
    "format",
    "optimizer",
    "learning_rate",
    "grad_accum",
    "dtype",
    "dropout",
)


def _check_inputs(args):
    """Everything that can be wrong is found here, before any training starts."""
    from keras_bert.checkpoints import read_config
    from keras_bert.cli.tokenizers import shared_tokenizer
    from keras_bert.presets import get_preset
    from pipelines.documents import check_utf8, document_dataset, list_files

    files = list_files(args.train)
    if args.encoding_errors == "strict":
        check_utf8(files)
    if not any(True for _ in document_dataset(files, args.format, args.encoding_errors).take(1)):
        raise UsageError(f"the corpus has no text: {', '.join(files[:3])}")
    tokenizer = shared_tokenizer(args.vocab, args.lowercase)
    if args.init_checkpoint:
        config = read_config(args.init_checkpoint)
        if config["vocabulary_size"] != tokenizer.vocabulary_size:
            raise UsageError(
                f"--vocab has {tokenizer.vocabulary_size} tokens but "
                f"{args.init_checkpoint} has {config['vocabulary_size']}"
            )
    else:
        config = dict(get_preset(args.preset), **_size(args))
    if args.init_checkpoint and args.size:
        raise UsageError("--size builds a new model; --init-checkpoint has its own size")
    if not 8 <= args.seq_len <= config["max_sequence_length"]:
        raise UsageError(
            f"--seq-len {args.seq_len} must be in [8, "
            f"{config['max_sequence_length']}] (the model's maximum)"
        )
    if args.sentence_order and args.objective != "mlm_nsp":
        raise UsageError(f"--sentence-order replaces NSP; --objective {args.objective} has none")
    if args.validation:
        validation = list_files(args.validation)
        if args.encoding_errors == "strict":
            check_utf8(validation)
    if args.warmup_steps is not None and args.warmup_steps > args.steps:
        raise UsageError(f"--warmup-steps {args.warmup_steps} exceeds --steps {args.steps}")
    return files, tokenizer


def _size(args):
    """The backbone arguments of `--size LxHxA` (intermediate 4H, as BERT), or {}."""
    if not args.size:
        return {}
    layers, hidden, heads = args.size
    return dict(num_layers=layers, hidden_dim=hidden, num_heads=heads, intermediate_dim=4 * hidden)


def _settings(args):
    # As JSON keeps them (a tuple comes back a list), so a resumed run compares equal.
    return json.loads(json.dumps({k: getattr(args, k) for k in _SETTINGS}))


def _new_model(args, tokenizer):
    import keras_bert

    source = args.init_checkpoint or args.preset
    options = dict(
        task="pretraining",
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        total_steps=args.steps,
        warmup_steps=_warmup(args),
        jit_compile=args.xla,
        gradient_accumulation_steps=args.grad_accum,
        dropout=args.dropout,
        objective=args.objective,
        causal=args.objective == "ltr",
    )
    if args.dtype:
        options["dtype"] = args.dtype
    if args.init_checkpoint:
        log(f"starting from checkpoint {args.init_checkpoint}")
        return keras_bert.build(source, **options)
    options.update(_size(args))
    return keras_bert.build(source, vocabulary_size=tokenizer.vocabulary_size, **options)


def _warmup(args, saved=None):
    if args.warmup_steps is not None:
        return args.warmup_steps
    return saved if saved is not None else int(0.1 * args.steps)


def _resume(args, folder, state):
    """(model, step) from the last checkpoint in --out.

    Changed settings are refused, naming each flag. A changed --steps is allowed: the
    learning-rate schedule is rebuilt to decay to 0 at the new total (warmup kept).
    """
    from keras_bert.training import WarmupLinearDecay

    folder.check_settings(state, _settings(args))
    step, saved_warmup = state["step"], state.get("warmup_steps")
    if saved_warmup is not None and args.warmup_steps not in (None, saved_warmup):
        raise UsageError(
            f"{folder.path} holds a run with other settings (--warmup-steps "
            f"{saved_warmup} -> {args.warmup_steps}): use the run's own values "
            "or another --out"
        )
    if args.steps < step:
        raise UsageError(
            f"--steps {args.steps} is below the {step} steps already trained in {folder.path}"
        )
    model = folder.load_model()
    model.jit_compile = args.xla
    log(f"resuming from step {step} ({folder.model_path})")
    total = state.get("total_steps", args.steps)
    if total != args.steps:
        optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
        old = optimizer._learning_rate  # The run's WarmupLinearDecay.
        optimizer.learning_rate = WarmupLinearDecay(old.peak, old.warmup_steps, args.steps)
        log(
            f"--steps changed from {total} to {args.steps}: the learning rate now decays "
            f"to 0 at step {args.steps} (warmup {old.warmup_steps} steps, peak {old.peak})"
        )
    return model, step


def _unigram_baseline(files, tokenizer, args, batches=20):
    """The LM's accuracy when it always guesses the most frequent label token."""
    import collections

    from pipelines.pretraining import pretraining_dataset

    data = pretraining_dataset(
        files,
        tokenizer,
        args.seq_len,
        args.batch_size,
        format=args.format,
        seed=args.seed + 7,
        for_fit=False,
        encoding_errors=args.encoding_errors,
        objective=args.objective,
    )
    labels, weights = ("mask_ids", "mask_weights")
    if args.objective == "ltr":
        labels, weights = ("next_ids", "next_weights")
    counts = collections.Counter()
    for batch in data.take(batches):
        ids = batch[labels].numpy()[batch[weights].numpy() > 0]
        counts.update(ids.tolist())
    return counts.most_common(1)[0][1] / sum(counts.values())


def run(args):
    from keras_bert.cli.distributed import run_under_strategy

    return run_under_strategy(args, _run, even=True)


def _run(args, setup):
    import keras

    from keras_bert.cli.run_folder import RunFolder

    keras.utils.set_random_seed(args.seed)  # The new model's weights (and dropout).
    log("checking inputs")
    with reading_inputs():
        files, tokenizer = _check_inputs(args)
        folder = RunFolder(args.out, chief=setup.chief)
    try:
        return _train(args, setup, folder, files, tokenizer)
    finally:
        folder.close()


def _train(args, setup, folder, files, tokenizer):
    from keras_bert.checkpoints import write_tf1_checkpoint
    from keras_bert.cli.common import save_model
    from keras_bert.cli.pretrain_validation import held_out_scores
    from keras_bert.cli.training_loop import train_in_segments
    from pipelines.pretraining import pretraining_dataset

    with reading_inputs():
        state = folder.state()
        with setup.strategy.scope():
            if state is not None:
                model, step = _resume(args, folder, state)
            else:
                log("building the model")
                model, step = _new_model(args, tokenizer), 0
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    warmup = optimizer._learning_rate.warmup_steps
    log(
        f"{model.backbone.count_params():,} backbone parameters; {len(files)} file(s); "
        f"training steps {step}..{args.steps}"
    )

    def segment_data(start, count, input_context=None):
        return pretraining_dataset(
            files,
            tokenizer,
            args.seq_len,
            args.batch_size,
            short_seq_prob=args.short_seq_prob,
            sentence_order=args.sentence_order,
            seed=args.seed,
            start_step=start,
            input_context=input_context,
            **_data_options(args),
        )

    curve = list((state or {}).get("validation_curve", []))
    run_state = {
        "settings": _settings(args),
        "total_steps": args.steps,
        "warmup_steps": warmup,
        "segments": (state or {}).get("segments", step // args.checkpoint_every),
        "validation_curve": curve,
    }

    held_out = []  # The held-out batches: made at the first scoring, then kept.

    def score_held_out(at):
        """After each segment: the held-out scores at step `at` (the learning curve)."""
        if not args.validation:
            return {}
        held_out[:] = held_out or _held_out_data(tokenizer, args)
        data, files = held_out
        log(f"scoring the held-out text ({len(files)} file(s))")
        scores = held_out_scores(model, data, args.objective, files)
        log(
            f"step {at} held-out: LM loss {scores['lm_loss']:.4f}, accuracy "
            f"{scores['lm_accuracy']:.4f}, perplexity {scores['perplexity']:.2f}"
        )
        curve.append({"step": at, **scores})
        return {"validation_curve": curve}

    history = train_in_segments(
        model,
        folder,
        step,
        args.steps,
        lambda at: at + args.checkpoint_every,
        segment_data,
        verbose=args.verbose if setup.chief else 0,
        after_segment=score_held_out,
        state=run_state,
        trainer=setup.trainer(model),
    )
    log("writing final checkpoints")
    save_model(model, folder.file("model.keras"))
    write_tf1_checkpoint(
        folder.file("tf1"), model, vocabulary=args.vocab, lowercase=tokenizer.lowercase
    )
    if history:
        _write_metrics(folder, history, files, tokenizer, args, curve)
    return 0


def _held_out_data(tokenizer, args):
    """The held-out text's batches, one pass with a fixed seed, kept in memory after the
    first pass (`cache`): every scoring of the run reads the same batches, and making
    them again (a new pipeline, its functions instantiated anew) cost more than the
    scoring itself. Returns (dataset, the files it reads)."""
    from pipelines.documents import list_files
    from pipelines.pretraining import pretraining_dataset

    files = list_files(args.validation)
    data = pretraining_dataset(
        files,
        tokenizer,
        args.seq_len,
        args.batch_size,
        seed=args.seed + 11,
        repeat=False,
        **_data_options(args),
    ).cache()
    return data, files


def _data_options(args):
    """The `pretraining_dataset` options that training and held-out scoring share."""
    return {
        "format": args.format,
        "max_predictions": args.max_predictions,
        "whole_word_masking": args.whole_word_masking,
        "encoding_errors": args.encoding_errors,
        "objective": args.objective,
    }


def _write_metrics(folder, history, files, tokenizer, args, curve):
    lm = "lm" if args.objective == "ltr" else "mlm"
    history[f"unigram_baseline_{lm}_accuracy"] = _unigram_baseline(files, tokenizer, args)
    if curve:  # The final model's scores: the last segment ends at the last step.
        history["validation"] = {k: v for k, v in curve[-1].items() if k != "step"}
        history["validation_curve"] = curve
    history["objective"] = args.objective
    history["steps"] = args.steps
    with open(folder.file("metrics.json"), "w") as f:
        json.dump(history, f, indent=2)
    flat = dict(history)
    flat.update({f"validation_{k}": v for k, v in flat.pop("validation", {}).items()})
    flat.pop("validation_curve", None)
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in flat.items()))


def add_parser(commands):
    from keras_bert.presets import PRESETS
    from pipelines.documents import ENCODING_ERRORS, FORMATS
    from pipelines.pretraining import OBJECTIVES

    parser = commands.add_parser(
        "pretrain",
        help="pretraining from text files: MLM + NSP, MLM alone or left-to-right",
        formatter_class=HelpFormatter,
    )
    add = parser.add_argument
    add(
        "--preset",
        default="tiny",
        choices=sorted(PRESETS),
        metavar="PRESET",
        help="architecture preset (ignored with --init-checkpoint): " + ", ".join(sorted(PRESETS)),
    )
    add(
        "--size",
        type=model_size,
        metavar="LxHxA",
        help="layers x hidden size x heads instead of the preset's (feed-forward 4H), e.g. 6x256x4",
    )
    add("--init-checkpoint", help="continue from a checkpoint folder (TF1/HF/Model Garden)")
    add("--train", required=True, nargs="+", help="text files or globs")
    add(
        "--objective",
        default="mlm_nsp",
        choices=OBJECTIVES,
        help="mlm_nsp: BERT (masked LM + next sentence); mlm: masked LM alone on single "
        "segments; ltr: left-to-right LM (a causal encoder, next-token labels)",
    )
    add(
        "--validation",
        nargs="+",
        help="held-out text files or globs: the final LM loss, accuracy and perplexity",
    )
    add(
        "--format",
        default="sentences",
        choices=FORMATS,
        help="sentences: one per line, blank line between documents; lines: one document "
        "per line; files: one document per file",
    )
    add(
        "--encoding-errors",
        default="strict",
        choices=ENCODING_ERRORS,
        help="invalid UTF-8 in the corpus: an error naming the file, or replaced by U+FFFD",
    )
    add("--vocab", required=True, help="vocab.txt (special tokens included)")
    add(
        "--lowercase",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="uncased/cased; default: do_lower_case from the vocab's folder",
    )
    add(
        "--seq-len",
        type=positive_int,
        default=128,
        help="tokens per example, [CLS] and [SEP] included",
    )
    add("--batch-size", type=positive_int, default=32, help="examples per step")
    add(
        "--steps",
        type=positive_int,
        required=True,
        help="total training steps; a resumed run may raise it (the schedule is rebuilt)",
    )
    add("--out", required=True, help="run folder (re-run with the same --out to resume)")
    add(
        "--checkpoint-every",
        type=positive_int,
        default=100,
        help="steps between atomic checkpoints (what a resumed run can lose at most)",
    )
    add_recipe_flags(add, learning_rate=1e-4)
    add("--warmup-steps", type=non_negative_int, default=None, help="default: 10%% of --steps")
    add("--max-predictions", type=positive_int, default=None, help="default: 20 at 128, 76 at 512")
    add(
        "--short-seq-prob",
        type=probability,
        default=0.1,
        help="share of examples given a shorter random target length",
    )
    add(
        "--dropout",
        type=probability,
        default=0.1,
        help="the encoder's dropout (hidden and attention); 0 for deterministic steps",
    )
    add("--whole-word-masking", action="store_true", help="mask all pieces of a word")
    add("--sentence-order", action="store_true", help="ALBERT's SOP instead of NSP")
    add("--seed", type=int, default=0, help="seeds the data stream (pairs, masks)")
    add_strategy_flags(add)
    add(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="Keras progress: 1 a bar, 2 a line per checkpoint segment",
    )
    parser.set_defaults(run=run)
