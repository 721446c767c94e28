"""Test modules live in folders without __init__.py, so pytest imports each by its bare name: two files with one
name in different folders stop the whole run at collection ("import file mismatch"). This keeps the names unique."""

from collections import Counter
from pathlib import Path


def test_every_test_module_name_is_unique():
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert not [n for n, c in names.items() if c > 1]
