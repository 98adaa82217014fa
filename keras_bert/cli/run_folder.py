"""RunFolder: a training run's folder, its atomic checkpoints and its resume guard.

Layout: `checkpoints/latest.keras` (model + optimizer state) and `checkpoints/state.json`
(the step, the run's settings and recipe), each replaced atomically, so a run killed at
any moment resumes from its last checkpoint; `logs/` for TensorBoard.
"""

import json
import os

from keras_bert.cli.common import UsageError, log, prepare_output_folder, save_atomically


class RunFolder:
    """A run's output folder.

    Args:
        path: str, the folder (created, and checked to be writable, at once).
        flag: str, the flag that named it, for messages.
    """

    def __init__(self, path, flag="--out"):
        self.path = prepare_output_folder(path, flag)
        self.checkpoints = prepare_output_folder(os.path.join(path, "checkpoints"), flag)
        self.model_path = os.path.join(self.checkpoints, "latest.keras")
        self.state_path = os.path.join(self.checkpoints, "state.json")
        self.logs = os.path.join(path, "logs")

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
            raise UsageError(f"{self.state_path}: unreadable run state ({e}); the checkpoint "
                             f"is damaged: delete {self.checkpoints} to start again") from None
        if not isinstance(state, dict) or not isinstance(state.get("step"), int):
            raise UsageError(f"{self.state_path}: not a run state (no step); delete "
                             f"{self.checkpoints} to start again")
        return state

    def check_settings(self, state, settings):
        """Refuses to resume a run whose settings differ, naming each changed one."""
        saved = state.get("settings", {})
        changed = [f"{_flag(k)} {saved.get(k)!r} -> {v!r}" for k, v in settings.items()
                   if k in saved and saved[k] != v]
        if changed:
            raise UsageError(f"{self.path} holds a run with other settings "
                             f"({'; '.join(changed)}): use the run's own values or another "
                             "--out")

    def load_model(self):
        import keras

        import keras_bert  # noqa: F401  (registers the classes a .keras file names)

        try:
            return keras.saving.load_model(self.model_path)
        except Exception as e:  # Keras reports a damaged zip as "file not found".
            raise UsageError(f"{self.model_path}: cannot be loaded ({type(e).__name__}); the "
                             f"checkpoint is damaged: delete {self.checkpoints} to start "
                             "again") from None

    def save(self, model, step, **state):
        """Writes the model, then the state that points at it, each atomically."""
        save_atomically(model.save, self.model_path)
        state = dict(state, step=step)

        def write_state(path):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(state, f, indent=1)

        save_atomically(write_state, self.state_path)
        log(f"checkpoint at step {step}: {self.model_path}")


def _flag(name):
    return "--" + name.replace("_", "-")
