"""The one task registry: each task name with its model class, the raw-text serving step
an export gives it and the command-line family that fine-tunes, evaluates and predicts
with it. `keras_bert.build`, `saved_models` and `keras_bert.cli` all read it, so adding a
task is its file plus one line here.

Example:
>>> REGISTRY["question_answering"].serving, REGISTRY["question_answering"].family
('span_extraction', 'squad')
>>> families()
['classification', 'squad', 'conll', 'swag']
"""

from dataclasses import dataclass

from keras_bert.tasks.bert_classifier import BertClassifier
from keras_bert.tasks.bert_feature_tagger import BertFeatureTagger
from keras_bert.tasks.bert_multiple_choice import BertMultipleChoice
from keras_bert.tasks.bert_pretrainer import BertPretrainer
from keras_bert.tasks.bert_span_extractor import BertSpanExtractor
from keras_bert.tasks.bert_text_embedder import BertTextEmbedder
from keras_bert.tasks.bert_token_classifier import BertTokenClassifier


@dataclass(frozen=True)
class Task:
    """One registered task.

    Args:
        name: str, the `build(task=...)` name (and run.json's "task").
        model: the `BertTask` subclass.
        serving: str or None, the raw-text step's name in `saved_models.text_tasks`
            (None: no raw-text signature).
        family: str or None, the CLI family (`keras_bert.cli.kinds.<family>`) that
            fine-tunes it (None: not from `finetune`).
    """

    name: str
    model: type
    serving: str = None
    family: str = None


REGISTRY = {
    task.name: task
    for task in (
        Task("pretraining", BertPretrainer),
        Task("classification", BertClassifier, "classification", "classification"),
        Task("embedding", BertTextEmbedder, "embedding"),
        Task("question_answering", BertSpanExtractor, "span_extraction", "squad"),
        Task("token_classification", BertTokenClassifier, "token_classification", "conll"),
        Task("feature_tagging", BertFeatureTagger, "token_classification", "conll"),
        Task("multiple_choice", BertMultipleChoice, "multiple_choice", "swag"),
    )
}


def task_name(model):
    """The registered name of a task model's class, or of the registered class it
    subclasses (None for anything else)."""
    exact = [t.name for t in REGISTRY.values() if type(model) is t.model]
    inherited = [t.name for t in REGISTRY.values() if isinstance(model, t.model)]
    return (exact + inherited + [None])[0]


def families():
    """The CLI families, in registry order."""
    return list(dict.fromkeys(t.family for t in REGISTRY.values() if t.family))
