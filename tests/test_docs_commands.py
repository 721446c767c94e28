"""Every command the docs quote names a script or subcommand that exists, and no doc names a machine's own paths
(issue 23 item 8: the experiments behind docs/experiments.md are in the repository, with no machine paths).

Commands are read from fenced code blocks and inline code spans of docs/*.md and README.md: `benchmarks/*.py`
and `tools/*.py` must be files of the repository, `stutterscope SUB` (or `python -m app.cli SUB`) a subcommand
registered in app.cli's parser (and `SUB SUBSUB` one of its own, where it has them). Placeholders such as
`<runs>` are fine; a path of the machine the work was done on (/tmp/..., /work/..., /root/..., a home folder)
is not, anywhere. An example mount such as README's /mnt/archive is no one machine's, so it may stay.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_SCRIPT = re.compile(r"(?<![\w/.-])((?:benchmarks|tools)/[\w./-]+\.py)\b")
_COMMAND = re.compile(r"(?:\bstutterscope|python -m app\.cli)((?:\s+[a-z][a-z0-9-]*){1,2})")
# An absolute path on one machine: after a space, quote, bracket, '=' or line start, not inside a URL or ~/...
MACHINE_PATH = re.compile(r"(?<![\w.~/:-])(/(?:tmp|work|root)/|/home/\w|/Users/\w|[A-Z]:\\Users)")


def code_of(text: str) -> list[str]:
    """The fenced code blocks and inline code spans of a Markdown text."""
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    prose = _FENCE.sub("", text)
    return blocks + [m.group(2) for m in _INLINE.finditer(prose)]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def unknown_command(words: list[str], parser: argparse.ArgumentParser) -> str | None:
    """The first of `words` that is not a registered (sub)subcommand, or None when they are (or it takes no more)."""
    for word in words:
        choices = _subparsers(parser)
        if not choices:
            return None  # the rest are arguments
        if word not in choices:
            return word
        parser = choices[word]
    return None


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(scope="module")
def parser():
    from app.cli import build_parser

    return build_parser()


@pytest.mark.parametrize("doc", DOCS, ids=_relative)
def test_every_script_the_doc_quotes_exists(doc):
    missing = {m for code in code_of(doc.read_text(encoding="utf-8")) for m in _SCRIPT.findall(code)
               if not (ROOT / m).is_file()}
    assert not missing, f"{_relative(doc)} quotes scripts the repository does not hold: {sorted(missing)}"


@pytest.mark.parametrize("doc", DOCS, ids=_relative)
def test_every_subcommand_the_doc_quotes_is_registered(doc, parser):
    unknown = set()
    for code in code_of(doc.read_text(encoding="utf-8")):
        for m in _COMMAND.finditer(code):
            word = unknown_command(m.group(1).split(), parser)
            if word is not None:
                unknown.add(f"{m.group(0).strip()} ({word})")
    assert not unknown, f"{_relative(doc)} quotes subcommands app/cli.py does not register: {sorted(unknown)}"


@pytest.mark.parametrize("doc", DOCS, ids=_relative)
def test_no_doc_names_a_machines_own_paths(doc):
    lines = [f"{i}: {line.strip()}" for i, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
             if MACHINE_PATH.search(line)]
    assert not lines, f"{_relative(doc)} names paths of one machine (use a placeholder such as <runs>):\n" + \
        "\n".join(lines)


def test_the_checks_find_what_they_look_for(parser):
    # The parsers must see a bad command, or every test above passes on nothing.
    text = "Run\n```\nstutterscope assesss x.wav\npython benchmarks/nope.py --out /tmp/x\n```\nand `stutterscope prep cache`."
    codes = code_of(text)
    assert _SCRIPT.findall(codes[0]) == ["benchmarks/nope.py"]
    words = [m.group(1).split() for code in codes for m in _COMMAND.finditer(code)]
    assert [unknown_command(w, parser) for w in words] == ["assesss", None]
    assert MACHINE_PATH.search("--out /tmp/x") and not MACHINE_PATH.search("https://example.org/work/x ~/data/x <runs>/x")
