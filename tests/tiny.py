"""The tiny encoder the tests build, declared once: odd sizes (hidden 6, heads 2,
intermediate 10, sequence 7, 9 positions) catch transposed axes and stay fast on two
cores. A test states only what it changes: `tiny(num_layers=1, dropout=0.0)`."""

VOCAB, HIDDEN, HEADS, INTER, LAYERS, SEQ, MAX_POS = 13, 6, 2, 10, 2, 7, 9

TINY = dict(
    vocabulary_size=VOCAB,
    num_layers=LAYERS,
    num_heads=HEADS,
    hidden_dim=HIDDEN,
    intermediate_dim=INTER,
    max_sequence_length=MAX_POS,
)


def tiny(**changes):
    """`TINY` with `changes` applied (a new dict; keras_bert.build's and BertBackbone's
    arguments)."""
    return {**TINY, **changes}
