"""Graph code traced as written, without AutoGraph.

Every function that `pipelines` and `saved_models` hand to `tf.function` or to a
`tf.data` transformation is written in TensorFlow ops: where it branches or loops on a
tensor it says so (`tf.cond`, `tf.while_loop`, `tf.map_fn`), and its Python `if`s and
`for`s run once, at trace time. AutoGraph's source rewriting of such code changes
nothing in the graph, yet parsing and converting the tokenizer, the packing and the
pair drawing took seconds in every process that built a dataset or an export. So those
functions are traced as written: `tf.function(..., autograph=False)`, and `plain(fn)`
for `Dataset.map`, `flat_map` and `filter` (which convert by default).

Example:
>>> import tensorflow as tf
>>> data = tf.data.Dataset.range(3).map(plain(lambda x: x * 2))
>>> [int(x) for x in data]
[0, 2, 4]
"""

import tensorflow as tf

plain = tf.autograph.experimental.do_not_convert
