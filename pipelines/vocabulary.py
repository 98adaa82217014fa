"""Reading and checking a WordPiece vocab.txt, and where its `lowercase` setting lives."""

import json
import os

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Files beside a vocabulary that may say whether it is cased (first match wins).
_CASE_FILES = ("tokenizer_config.json", "bert_config.json", "config.json")


def read_vocabulary(path):
    """The list of tokens in a vocab.txt, one per line; bad files get a line-numbered error."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: vocabulary file not found.")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not valid UTF-8.") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # A final newline ends the last line; it adds no token.
    seen = {}
    for number, token in enumerate(lines, start=1):
        if token.endswith("\r"):
            raise ValueError(f"{path}:{number}: Windows line ending; use \\n line endings.")
        if token == "" or token != token.strip():
            raise ValueError(f"{path}:{number}: empty token or surrounding whitespace.")
        if token in seen:
            raise ValueError(
                f"{path}:{number}: duplicate token {token!r} (first on line {seen[token]})."
            )
        seen[token] = number
    if not lines:
        raise ValueError(f"{path}: the vocabulary is empty.")
    return lines


def special_token_ids(tokens, path="vocabulary"):
    """{token: id} for BERT's special tokens; an error names any that are missing."""
    index = {token: i for i, token in enumerate(tokens)}
    missing = [t for t in SPECIAL_TOKENS if t not in index]
    if missing:
        raise ValueError(f"{path}: missing special token(s) {', '.join(missing)}.")
    return {t: index[t] for t in SPECIAL_TOKENS}


def configured_lowercase(directory):
    """(do_lower_case, file) from a checkpoint folder's config files, or (None, None)."""
    for name in _CASE_FILES:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            try:
                config = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
        if isinstance(config, dict) and "do_lower_case" in config:
            return bool(config["do_lower_case"]), path
    return None, None


def resolve_lowercase(vocabulary_path, lowercase=None):
    """The `lowercase` setting for a vocabulary: the argument, else its folder's config.

    It is never guessed from a path name; when neither says, that is an error, and an
    argument that contradicts the folder's config is an error too.
    """
    directory = os.path.dirname(os.path.abspath(vocabulary_path))
    configured, source = configured_lowercase(directory)
    if lowercase is None:
        if configured is None:
            raise ValueError(
                f"{vocabulary_path}: cannot tell whether this vocabulary is cased or "
                "uncased (no do_lower_case in a tokenizer_config.json or bert_config.json "
                "beside it); pass lowercase=True or lowercase=False."
            )
        return configured
    if configured is not None and configured != bool(lowercase):
        raise ValueError(
            f"lowercase={lowercase} contradicts do_lower_case={configured} in {source}."
        )
    return bool(lowercase)


def vocabulary_file(directory):
    """The vocab.txt of a checkpoint folder; a folder with only a `tokenizer.json`
    (a Hugging Face fast tokenizer) gets an error that says how to write the file."""
    path = os.path.join(directory, "vocab.txt")
    if os.path.isfile(path) or not os.path.isfile(os.path.join(directory, "tokenizer.json")):
        return path
    raise FileNotFoundError(
        f"{directory}: has tokenizer.json but no vocab.txt. Write vocab.txt from it once "
        "with `python -m pipelines.vocabulary DIR` (it reads the WordPiece vocabulary in "
        "tokenizer.json), or with transformers: "
        "`AutoTokenizer.from_pretrained(DIR).save_vocabulary(DIR)`."
    )


def vocabulary_from_tokenizer_json(path):
    """The WordPiece tokens of a Hugging Face `tokenizer.json`, in id order."""
    with open(path, encoding="utf-8") as f:
        try:
            model = json.load(f).get("model", {})
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
    if model.get("type") != "WordPiece" or not isinstance(model.get("vocab"), dict):
        raise ValueError(
            f"{path}: not a WordPiece tokenizer (model.type is "
            f"{model.get('type')!r}); BERT needs a WordPiece vocabulary."
        )
    by_id = sorted(model["vocab"].items(), key=lambda item: item[1])
    if [i for _, i in by_id] != list(range(len(by_id))):
        raise ValueError(f"{path}: the vocabulary's ids are not 0..{len(by_id) - 1}.")
    return [token for token, _ in by_id]


def main(argv=None):
    """`python -m pipelines.vocabulary DIR`: writes DIR/vocab.txt from DIR/tokenizer.json."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pipelines.vocabulary DIR", file=sys.stderr)
        return 2
    directory = args[0]
    tokens = vocabulary_from_tokenizer_json(os.path.join(directory, "tokenizer.json"))
    target = os.path.join(directory, "vocab.txt")
    if os.path.exists(target):
        print(f"{target} exists; not overwritten.", file=sys.stderr)
        return 1
    with open(target + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        f.writelines(token + "\n" for token in tokens)
    os.replace(target + ".tmp", target)
    print(f"wrote {len(tokens)} tokens to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
