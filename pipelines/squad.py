"""Reading SQuAD v1.1 / v2.0 files (the official JSON schema) into `SquadExamples`.

The schema: `data` -> articles -> `paragraphs` -> `context` and `qas`; each question has
an `id`, the `question`, `answers` (`text`, `answer_start` as a character offset into
the context) and, in v2.0, `is_impossible` with `plausible_answers`. Every answer is
checked against its context: `context[answer_start:answer_start + len(text)]` must be
the text. A mismatch (or a missing field) is an error naming the question id; with
`on_error="skip"` that question is skipped and counted, never dropped silently.
"""

import dataclasses
import json
import os

ON_ERROR = ("raise", "skip")


@dataclasses.dataclass
class SquadExamples:
    """Questions with their contexts, in file order.

    Args:
        ids: list of str, the question ids.
        questions: list of str.
        contexts: list of str, each question's paragraph.
        answers: list of lists of (text, start_char) pairs; empty for an impossible
            question (v2.0) and for unlabelled files.
        impossible: list of bool, v2.0's `is_impossible`.
        version: str, the file's `version` field ("" when absent).
        source: str, the file read.
        skipped: int, questions skipped with on_error="skip".
        problems: list of str, the first reasons questions were skipped.
    """

    ids: list
    questions: list
    contexts: list
    answers: list
    impossible: list
    version: str = ""
    source: str = ""
    skipped: int = 0
    problems: list = dataclasses.field(default_factory=list)

    def __len__(self):
        return len(self.ids)

    @property
    def has_impossible(self):
        """True for SQuAD v2.0 data (some question has no answer)."""
        return any(self.impossible)

    def first_answers(self):
        """(start_char, end_char) of each question's first answer; (-1, -1) if none."""
        spans = []
        for answers in self.answers:
            if answers:
                text, start = answers[0]
                spans.append((start, start + len(text)))
            else:
                spans.append((-1, -1))
        return spans

    def gold_answers(self):
        """{id: list of answer texts} (the official scorers' ground truth)."""
        return {i: [text for text, _ in a] for i, a in zip(self.ids, self.answers)}


def _field(record, name, kind, where):
    if not isinstance(record, dict):
        raise ValueError(f"{where}: should be a JSON object, not {type(record).__name__}.")
    if name not in record:
        raise ValueError(f"{where}: missing field {name!r}.")
    value = record[name]
    if not isinstance(value, kind):
        raise ValueError(
            f"{where}: field {name!r} should be {kind.__name__}, not {type(value).__name__}."
        )
    return value


def _answers(qa, context, where, labelled):
    impossible = qa.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise ValueError(
            f"{where}: is_impossible should be true or false, not {json.dumps(impossible)}."
        )
    listed = qa.get("answers", [])
    if labelled and not isinstance(listed, list):
        raise ValueError(f"{where}: field 'answers' should be list, not {type(listed).__name__}.")
    answers = []
    for n, answer in enumerate(listed if labelled else []):
        here = f"{where}, answer {n}"
        text = _field(answer, "text", str, here)
        start = _field(answer, "answer_start", int, here)
        found = context[start : start + len(text)]
        if start < 0 or found != text:
            raise ValueError(
                f"{here}: answer text {text!r} does not match the context at "
                f"answer_start {start} ({found!r})."
            )
        if not text.strip():
            raise ValueError(f"{here}: empty answer text.")
        answers.append((text, start))
    if impossible and answers:
        raise ValueError(f"{where}: is_impossible is true but the question has answers.")
    if labelled and not impossible and not answers:
        raise ValueError(f"{where}: no answers and not is_impossible.")
    return answers, impossible


def read_squad(path, on_error="raise", labelled=True):
    """Reads a SQuAD JSON file.

    Args:
        path: str, a train or dev file (v1.1 or v2.0).
        on_error: "raise" (default) or "skip": skip (and count) bad questions.
        labelled: bool, False to ignore answers (questions to predict).

    Returns:
        SquadExamples.

    Example:
    >>> import json, tempfile
    >>> data = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{
    ...     "context": "Paris is in France.",
    ...     "qas": [{"id": "q1", "question": "Where is Paris?",
    ...              "answers": [{"text": "France", "answer_start": 12}]},
    ...             {"id": "q2", "question": "Where is Rome?", "answers": [],
    ...              "is_impossible": True}]}]}]}
    >>> path = tempfile.mktemp(suffix=".json")
    >>> _ = open(path, "w").write(json.dumps(data))
    >>> examples = read_squad(path)
    >>> examples.answers, examples.has_impossible
    ([[('France', 12)], []], True)
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file.")
    try:
        with open(path, encoding="utf-8-sig") as f:
            document = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a SQuAD JSON file ({error}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ValueError(f"{path}: not a SQuAD JSON file (no 'data' list at the top).")
    out = SquadExamples([], [], [], [], [], str(document.get("version", "")), path)
    seen = set()
    for a, article in enumerate(document["data"]):
        for p, paragraph in enumerate(_field(article, "paragraphs", list, f"{path}: data[{a}]")):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            context = _field(paragraph, "context", str, where)
            for q, qa in enumerate(_field(paragraph, "qas", list, where)):
                qid = qa.get("id", f"qas[{q}]") if isinstance(qa, dict) else f"qas[{q}]"
                here = f"{path}: question {qid}"
                try:
                    if not isinstance(qa, dict):
                        raise ValueError(f"{here}: not a JSON object.")
                    _field(qa, "id", str, here)
                    question = _field(qa, "question", str, here)
                    if qid in seen:
                        raise ValueError(f"{here}: duplicate question id.")
                    answers, impossible = _answers(qa, context, here, labelled)
                except ValueError as error:
                    if on_error == "raise":
                        raise
                    out.skipped += 1
                    if len(out.problems) < 5:
                        out.problems.append(str(error))
                    continue
                seen.add(qid)
                out.ids.append(qid)
                out.questions.append(question)
                out.contexts.append(context)
                out.answers.append(answers)
                out.impossible.append(impossible)
    return out


def write_squad(path, examples, title="keras_bert"):
    """Writes `SquadExamples` in the official schema (v2.0 when any is impossible);
    one paragraph per question. Returns `path`."""
    paragraphs = []
    for i in range(len(examples)):
        qa = {
            "id": examples.ids[i],
            "question": examples.questions[i],
            "answers": [{"text": t, "answer_start": s} for t, s in examples.answers[i]],
        }
        if examples.has_impossible:
            qa["is_impossible"] = examples.impossible[i]
        paragraphs.append({"context": examples.contexts[i], "qas": [qa]})
    version = "v2.0" if examples.has_impossible else "1.1"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(
            {"version": version, "data": [{"title": title, "paragraphs": paragraphs}]},
            f,
            ensure_ascii=False,
        )
    return path
