"""RunFolder: a training run's folder, its atomic checkpoints and its resume guard.

Layout: `checkpoints/step-<N>.keras` (model + optimizer state) and
`checkpoints/state.json` (the step, the file of that step, the run's settings and
recipe). The model is written first, then the state that names it, each atomically; the
previous model file goes only after that. So a run killed at any moment, even between
the two writes, resumes from a model and a state of the same step; `logs/` for
TensorBoard. The random generators' states (dropout's seeds) are saved with each
checkpoint, so a resumed run draws the same dropout masks an uninterrupted one would.

A run holds `.keras-bert.lock` (an OS lock, released when the process ends, even by
`kill -9`): a second run given the same folder is refused, naming the holder.

With several workers (MultiWorkerMirroredStrategy) every worker reads the run from the
shared `--out`, but only the chief writes there: the other workers write their copies
into a temporary folder, removed by `close()`.
"""

import contextlib
import glob
import json
import os
import shutil
import socket
import tempfile
import time

from keras_bert.cli.common import (
    UsageError,
    log,
    prepare_output_folder,
    save_atomically,
    save_model,
)


class RunFolder:
    """A run's output folder.

    Args:
        path: str, the folder (created, and checked to be writable, at once).
        flag: str, the flag that named it, for messages.
        chief: bool, False on the workers that must not write to `path`.
    """

    def __init__(self, path, flag="--out", chief=True):
        self.source = prepare_output_folder(path, flag) if chief else path
        self._lock = _lock(path, flag) if chief else None
        self.path = path if chief else tempfile.mkdtemp(prefix="keras-bert-worker-")
        self.checkpoints = prepare_output_folder(os.path.join(self.path, "checkpoints"), flag)
        self.state_path = os.path.join(self.source, "checkpoints", "state.json")
        self.logs = os.path.join(self.path, "logs")
        self.model_path = self._model_file(None)
        self._saved_state = {}
        if not chief:
            log(
                f"not the chief: writing to {self.path} (removed at the end), reading the "
                f"run from {path}"
            )

    def _model_file(self, state):
        name = (state or {}).get("model", "latest.keras")  # Runs before step files.
        return os.path.join(self.source, "checkpoints", name)

    def close(self):
        """Releases the folder's lock; removes a non-chief worker's temporary folder."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        if self.path != self.source:
            shutil.rmtree(self.path, ignore_errors=True)

    def file(self, name):
        return os.path.join(self.path, name)

    def state(self):
        """The saved state dict, or None for a fresh folder; a damaged file is an error."""
        if not os.path.exists(self.state_path):
            return None
        try:
            with open(self.state_path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise UsageError(
                f"{self.state_path}: unreadable run state ({e}); the checkpoint "
                f"is damaged: delete {self.checkpoints} to start again"
            ) from None
        if not isinstance(state, dict) or not isinstance(state.get("step"), int):
            raise UsageError(
                f"{self.state_path}: not a run state (no step); delete "
                f"{self.checkpoints} to start again"
            )
        self.model_path = self._model_file(state)
        self._saved_state = state
        return state

    def check_settings(self, state, settings, names=None):
        """Refuses to resume a run whose settings differ, naming each changed one (as
        `names` says, else as its flag); settings the saved run lacks are not compared."""
        saved = state.get("settings", {})
        names = names or {}
        changed = [
            f"{names.get(k, _flag(k))} {saved.get(k)!r} -> {v!r}"
            for k, v in settings.items()
            if k in saved and saved[k] != v
        ]
        if changed:
            raise UsageError(
                f"{self.path} holds a run with other settings "
                f"({'; '.join(changed)}): use the run's own values or another "
                "--out"
            )

    def load_model(self):
        import keras

        import keras_bert  # noqa: F401  (registers the classes a .keras file names)

        try:
            model = keras.saving.load_model(self.model_path)
        except Exception as e:  # Keras reports a damaged zip as "file not found".
            raise UsageError(
                f"{self.model_path}: cannot be loaded ({type(e).__name__}); the "
                f"checkpoint is damaged: delete {self.checkpoints} to start "
                "again"
            ) from None
        seeds = self._saved_state.get("seed_states")
        if seeds is not None:
            set_seed_states(model, seeds, self.state_path)
        return model

    def save(self, model, step, **state):
        """Writes the model, then the state that names it (each atomically), then
        removes the older model files."""
        name = f"step-{step}.keras"
        path = os.path.join(self.checkpoints, name)
        save_model(model, path)
        state = dict(state, step=step, model=name, seed_states=seed_states(model))

        def write_state(path):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(state, f, indent=1)

        save_atomically(write_state, os.path.join(self.checkpoints, "state.json"))
        for old in glob.glob(os.path.join(self.checkpoints, "*.keras")):
            if os.path.basename(old) != name:
                os.remove(old)
        self.model_path = path
        if self.path == self.source:
            log(f"checkpoint at step {step}: {path}")


def _flag(name):
    return "--" + name.replace("_", "-")


def _seed_variables(model):
    """The model's random generators' state variables (Keras `SeedGenerator`s: dropout
    and the like), in the model's variable order; `.keras` files do not keep them."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def seed_states(model):
    """The random generators' states, as JSON-able lists of ints."""
    import numpy as np

    return [np.asarray(v.numpy()).tolist() for v in _seed_variables(model)]


def set_seed_states(model, states, where):
    """Restores `seed_states(model)` as saved (the same model, so the same order)."""
    variables = _seed_variables(model)
    if len(variables) != len(states):
        raise UsageError(
            f"{where}: {len(states)} saved random generator states for a model "
            f"with {len(variables)}; the checkpoint does not match its state"
        )
    for variable, value in zip(variables, states):
        variable.assign(value)


def _lock(path, flag):
    """An exclusive lock on the run folder (the open lock file; closing it releases
    the lock), or a UsageError naming the process that holds it."""
    try:
        import fcntl
    except ImportError:  # Not POSIX: no lock.
        return None
    lock_path = os.path.join(path, ".keras-bert.lock")
    handle = open(lock_path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise UsageError(
            f"{flag} {path} is in use by {holder}: wait for that run to end "
            "(or stop it), or give another folder"
        ) from None
    with contextlib.suppress(OSError):
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        )
        handle.flush()
    return handle
