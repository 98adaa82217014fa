"""Entity tag schemes (IOB1, IOB2, IOBES): entity spans from tags and back.

A tag is `O` or `<prefix>-<TYPE>` with prefix B, I, E or S. Spans are read with the
rules of conlleval (and seqeval's default mode), which accept every scheme:
- an entity starts at B- or S-, at I-/E- after O, after an entity that ended (E-, S-)
  or after another type (so I- after O opens an entity, as IOB1 intends);
- it ends before O, B- or S-, after E- or S-, and before a tag of another type.
IOB1 (CoNLL-2003's original files) writes B- only between two touching entities of
one type; IOB2 starts every entity with B-; IOBES adds E- (last word) and S- (single).
"""

SCHEMES = ("iob1", "iob2", "iobes")
PREFIXES = ("B", "I", "E", "S")


def split_tag(tag):
    """(prefix, type) of a tag: ("O", "") for O. Raises ValueError for anything else."""
    if tag == "O":
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if not sep or prefix not in PREFIXES or not kind:
        raise ValueError(f"unknown tag {tag!r} (expected O or B-/I-/E-/S-<TYPE>)")
    return prefix, kind


def entities(tags):
    """[(type, first, last)] word spans of one sentence's tags (inclusive).

    Example:
    >>> entities(["I-PER", "I-PER", "B-PER", "O", "I-LOC", "B-ORG"])
    [('PER', 0, 1), ('PER', 2, 2), ('LOC', 4, 4), ('ORG', 5, 5)]
    """
    spans, start, previous, previous_type = [], None, "O", ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = split_tag(tag)
        if previous != "O" and (previous in "ES" or prefix in "BSO" or kind != previous_type):
            spans.append((previous_type, start, i - 1))
        if prefix != "O" and (prefix in "BS" or previous in "OES" or kind != previous_type):
            start = i
        previous, previous_type = prefix, kind
    return spans


def to_tags(spans, length, scheme="iob2"):
    """Tags of one sentence of `length` words with the given entity spans.

    Example:
    >>> to_tags([("PER", 0, 1), ("PER", 2, 2)], 4, "iob1")
    ['I-PER', 'I-PER', 'B-PER', 'O']
    >>> to_tags([("PER", 0, 1), ("PER", 2, 2)], 4, "iobes")
    ['B-PER', 'E-PER', 'S-PER', 'O']
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, not {scheme!r}.")
    tags = ["O"] * length
    previous_end, previous_type = None, None
    for kind, first, last in spans:
        for i in range(first, last + 1):
            tags[i] = f"I-{kind}"
        if scheme == "iob2" or (
            scheme == "iob1" and previous_end == first - 1 and previous_type == kind
        ):
            tags[first] = f"B-{kind}"
        elif scheme == "iobes":
            tags[first] = f"B-{kind}" if last > first else f"S-{kind}"
            if last > first:
                tags[last] = f"E-{kind}"
        previous_end, previous_type = last, kind
    return tags


def convert(tags, scheme):
    """One sentence's tags in another scheme (read with `entities`)."""
    return to_tags(entities(tags), len(tags), scheme)


def detect_scheme(sentences):
    """The scheme a list of tag sentences is written in: "iobes" if any E-/S- tag,
    "iob1" if some entity starts with I- (legal only in IOB1), else "iob2"."""
    scheme = "iob2"
    for tags in sentences:
        previous, previous_type = "O", ""
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix in "ES":
                return "iobes"
            if prefix == "I" and (previous in "OES" or kind != previous_type):
                scheme = "iob1"
            previous, previous_type = prefix, kind
    return scheme


def entity_types(sentences):
    """Sorted entity types used in tag sentences."""
    return sorted({split_tag(t)[1] for tags in sentences for t in tags} - {""})


def label_names(types, scheme="iob2"):
    """The tag set of a scheme over entity types, O first."""
    prefixes = {"iob1": "BI", "iob2": "BI", "iobes": "BIES"}[scheme]
    return ["O"] + [f"{p}-{t}" for t in types for p in prefixes]
