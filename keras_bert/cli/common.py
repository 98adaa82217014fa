"""Helpers shared by the command-line commands: errors, flag types, outputs, logging."""

import argparse
import contextlib
import os
import sys
import uuid
import weakref


class UsageError(Exception):
    """Bad user input (a flag, a file, a folder): printed as one line, exit status 2."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` shows every default (and argparse lists the choices)."""


def log(message):
    """One line per phase, on stderr (stdout stays for results)."""
    print(f"[keras-bert] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def reading_inputs():
    """Errors raised while the user's inputs are read and checked are the user's: they
    become one-line `UsageError`s. Errors anywhere else keep their traceback (a bug)."""
    try:
        yield
    except UsageError:
        raise
    except (ValueError, OSError) as e:  # FileNotFoundError, IsADirectoryError, ...
        raise UsageError(str(e).strip().splitlines()[0] if str(e).strip() else repr(e)) from e


def _number(kind, test, requirement):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{text} must be {requirement}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages.
    return parse


positive_int = _number(int, lambda v: v > 0, "> 0")
non_negative_int = _number(int, lambda v: v >= 0, ">= 0")
positive_float = _number(float, lambda v: v > 0, "> 0")
non_negative_float = _number(float, lambda v: v >= 0, ">= 0")
probability = _number(float, lambda v: 0 <= v <= 1, "in [0, 1]")


def _check_writable(folder, flag):
    probe = os.path.join(folder, f".keras-bert-write-test-{uuid.uuid4().hex}")
    try:
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        raise UsageError(f"{flag} {folder}: cannot write there ({e.strerror})") from None


def prepare_output_file(path, flag="--out"):
    """Checks, before any long work, that `path` can be written: not a folder, its
    folder created when missing and writable."""
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    prepare_output_folder(folder, flag)
    return path


def prepare_output_folder(path, flag="--out"):
    """Creates `path` (and its parents) when missing and checks that it is a writable
    folder, before any long work."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot create the folder ({e.strerror})") from None
    _check_writable(path, flag)
    return path


def save_atomically(write, path):
    """`write(tmp)` then rename over `path`: a kill never leaves a half-written file.
    A failed write (a full disk, a folder made read-only) removes its temporary file
    and is a `UsageError` naming the file and folder; `path` keeps its last version."""
    tmp = f"{path}.tmp{os.path.splitext(path)[1]}"
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        reason = e.strerror or str(e).strip().splitlines()[0]
        raise UsageError(
            f"cannot write {path} ({reason}); free space in (or fix) "
            f"{os.path.dirname(os.path.abspath(path))} and re-run: a training "
            "run resumes from its last checkpoint"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def save_model(model, path):
    """`model.save(path)`, atomically. A model that no training step changed since its
    last save here is copied from that file instead: the best epoch's model, the
    checkpoint after it and a run's final model are often the same weights, and
    serializing a BERT again takes seconds.

    Args:
        model: a keras.Model; its optimizer's step count says whether it changed.
        path: str, the `.keras` file to write.
    """
    import shutil

    step = _optimizer_step(model)
    last = _LAST_SAVE.get(model) if step is not None else None
    if last is not None and last[0] == step and os.path.isfile(last[1]):
        save_atomically(lambda tmp: shutil.copyfile(last[1], tmp), path)
    else:
        save_atomically(model.save, path)
    if step is not None:
        _LAST_SAVE[model] = (step, os.path.abspath(path))


def _optimizer_step(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    return (id(optimizer), int(optimizer.iterations.numpy()))


# model -> (its optimizer step, the file it was last saved to); not keeping the model.
_LAST_SAVE = weakref.WeakKeyDictionary()

DTYPES = ("float32", "mixed_bfloat16", "mixed_float16")


def add_recipe_flags(add, learning_rate):
    """The optimizer-recipe flags every training command takes (BERT's AdamW by default)."""
    add(
        "--optimizer",
        default="adamw",
        choices=("adamw", "lamb"),
        help="weight decay 0.01 except LayerNorm and biases, clipnorm 1.0",
    )
    add("--learning-rate", type=positive_float, default=learning_rate, help="peak learning rate")
    add("--dtype", default=None, choices=DTYPES, help="default: float32")
    add("--xla", action="store_true", help="compile the train step with XLA")
    add("--grad-accum", type=positive_int, default=None, help="gradient accumulation steps")


def model_size(text):
    """An argparse type: "LxHxA" (layers, hidden size, heads) -> (L, H, A), H divisible
    by A (the paper's notation, e.g. 12x768x12)."""
    try:
        layers, hidden, heads = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not LxHxA, e.g. 12x768x12") from None
    if min(layers, hidden, heads) < 1 or hidden % heads:
        raise argparse.ArgumentTypeError(
            f"{text!r}: layers, hidden and heads must be positive, hidden divisible by heads"
        )
    return layers, hidden, heads


model_size.__name__ = "model size"
