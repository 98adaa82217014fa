"""The experiments' tables (in the paper's layout, as text) and pictures (PNG)."""

import os

from keras_bert.cli.common import log


def text_table(title, columns, rows, first_width=24):
    """A fixed-width table: `rows` is a list of (name, [value or None]); values print
    with one decimal, a missing one as "-".

    Example:
    >>> print(text_table("Objective", ["A"], [("BERT", [84.41])]))
    Objective                      A
    BERT                        84.4
    """
    widths = [max(8, len(c) + 2) for c in columns]
    lines = [f"{title:<{first_width}}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths))]
    for name, values in rows:
        cells = "".join(f"{'-' if v is None else f'{v:.1f}':>{w}}" for v, w in zip(values, widths))
        lines.append(f"{name:<{first_width}}{cells}")
    return "\n".join(lines)


def pyplot():
    """matplotlib.pyplot drawing to files (Agg), or None (logged) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no picture (pip install matplotlib)")
        return None
    return plt


def learning_curves(path, curves, title, ylabel):
    """A PNG of one line per run: `curves` is {legend: [(step, value)]}. Returns the
    path, or None without matplotlib (the numbers are in results.json either way)."""
    plt = pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for legend, points in curves.items():
        steps, values = zip(*points) if points else ((), ())
        axes.plot(steps, values, marker="o", label=legend)
    axes.set_xlabel("pretraining step")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = path + ".partial.png"
    figure.savefig(partial, dpi=120)
    plt.close(figure)
    os.replace(partial, path)
    return path
