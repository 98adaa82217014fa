"""The one task registry (`keras_bert.tasks.registry`): `build()`, the export's raw-text
steps and the CLI families all read it and agree with it."""

import argparse

import pytest

import keras_bert
from keras_bert.cli import kinds
from keras_bert.tasks import BertTask
from keras_bert.tasks.registry import REGISTRY, families, task_name
from saved_models import text_tasks
from tests.task_checks import build_tiny

# The options a tiny model of each task needs.
OPTIONS = {
    "classification": dict(num_classes=3, label_names=["a", "b", "c"]),
    "token_classification": dict(num_classes=3, label_names=["O", "B-PER", "I-PER"]),
    "feature_tagging": dict(num_classes=3, label_names=["O", "B-PER", "I-PER"]),
    "multiple_choice": dict(num_choices=2),
}


def test_build_reads_the_registry():
    assert keras_bert.TASKS == {name: task.model for name, task in REGISTRY.items()}
    for name, task in REGISTRY.items():
        assert task.name == name and issubclass(task.model, BertTask)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_built_task_is_named_and_served_as_registered(name):
    model = build_tiny(name, **OPTIONS.get(name, {}))
    assert type(model) is REGISTRY[name].model
    assert task_name(model) == name
    serving = REGISTRY[name].serving
    want = None if serving is None else getattr(text_tasks, serving)
    assert text_tasks.serving_step(model) is want
    assert (text_tasks.step_for(model) is None) == (serving is None)


def test_a_subclass_of_a_task_keeps_its_registration():
    class MyClassifier(REGISTRY["classification"].model):
        pass

    model = MyClassifier(build_tiny("classification", num_classes=2).backbone, num_classes=2)
    assert task_name(model) == "classification"
    assert text_tasks.serving_step(model) is text_tasks.classification


@pytest.mark.parametrize("family", families())
def test_every_family_has_its_cli_kind(family):
    kind = kinds.kind_class(family)
    assert kind.family == family
    tasks = [t.name for t in REGISTRY.values() if t.family == family]
    assert tasks, family
    if isinstance(kind.task, str):  # A fixed task (conll's depends on --features).
        assert tasks == [kind.task]
    # run.json names the task: each of the family's tasks leads back to its kind.
    for name in tasks:
        assert kinds.kind_class(kinds.family_of_run({"task": name})) is kind


@pytest.mark.parametrize(
    "source, family",
    [("squad", "squad"), ("conll", "conll"), ("swag", "swag")]
    + [(s, "classification") for s in ("glue", "csv", "tsv", "jsonl", "folders")],
)
def test_finetune_sources_pick_the_registry_family(source, family):
    args = argparse.Namespace(source=source, seq_len=None)
    assert kinds.for_args(args).family == family
