"""Graph code traced as written, without AutoGraph.

Every function that `pipelines` and `saved_models` hand to `tf.function` or to a
`tf.data` transformation is written in TensorFlow ops: where it branches or loops on a
tensor it says so (`tf.cond`, `tf.while_loop`, `tf.map_fn`), and its Python `if`s and
`for`s run once, at trace time. AutoGraph's source rewriting of such code changes
nothing in the graph, yet parsing and converting the tokenizer, the packing and the
pair drawing took seconds in every process that built a dataset or an export. So those
functions are traced as written: `tf.function(..., autograph=False)`, and `plain(fn)`
for `Dataset.map`, `flat_map` and `filter` (which convert by default).

`kept_function` keeps such a function for as long as the object it is made for (a
tokenizer) lives: pipelines are built again for every epoch, checkpoint segment and
evaluation, and calling an already traced function from a new `Dataset.map` costs
almost nothing where tracing the tokenizer again costs about a second.

Example:
>>> import tensorflow as tf
>>> data = tf.data.Dataset.range(3).map(plain(lambda x: x * 2))
>>> [int(x) for x in data]
[0, 2, 4]
"""

import weakref

import tensorflow as tf

plain = tf.autograph.experimental.do_not_convert


def kept_function(owner, key, make, **options):
    """`tf.function(make(owner), autograph=False, **options)`, made once per `key` and
    kept while `owner` lives. The function holds `owner` weakly (the cache never keeps
    it alive) and calls `make(owner)` only when it traces.

    Args:
        owner: a weakly referable object the function is made for (a tokenizer).
        key: hashable, what else the function depends on (its settings).
        make: callable(owner) -> the Python function to trace.
        options: more `tf.function` arguments (`input_signature`, ...).
    """
    functions = _KEPT.setdefault(owner, {})
    if key not in functions:
        held = weakref.ref(owner)
        functions[key] = tf.function(lambda *args: make(held())(*args), autograph=False, **options)
    return functions[key]


# owner -> {key: tf.function}; outside any tf.Module, so that an export never saves them.
_KEPT = weakref.WeakKeyDictionary()
