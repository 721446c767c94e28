"""benchmarks/timestamped_compare.py: reading the syllable reports' first table and comparing them, on hand-made
reports with hand-worked numbers."""

from __future__ import annotations

from pathlib import Path

from benchmarks.timestamped_compare import compare, errors

HEAD = ("| episode | SLP moments /100 syl. | Whisper verbatim / intended / gated | Timestamped | a | **b** | c | d | e |\n"
        "|---|---|---|---|---|---|---|---|---|\n")


def _report(tmp_path: Path, name: str, rows: list[tuple[str, float, float]]) -> Path:
    body = "".join(f"| FluencyBank/{e} | {sev}{' (severe)' if sev > 15 else ''} | 1 / 1 / 1 | 1 / 1 / 1 / 1 | -1.0% | "
                   f"**{err:+.1f}%** | -1.0% | -1.0% | +1.0% |\n" for e, sev, err in rows)
    # The second table of a real report repeats the episodes: only the first counts.
    path = tmp_path / f"{name}.md"
    path.write_text("# x\n\n" + HEAD + body + "\n| FluencyBank/097 | 1 | 2 | 3 |\n")
    return path


def test_reports_are_read_from_their_first_table(tmp_path):
    got = errors(_report(tmp_path, "a", [("097", 32.6, -7.0), ("010", 1.0, 12.5)]))
    assert got == {"FluencyBank/097": (32.6, -7.0), "FluencyBank/010": (1.0, 12.5)}


def test_comparison_counts_the_aim_and_pairs_the_episodes():
    old = {"FluencyBank/1": (20.0, -12.0), "FluencyBank/2": (5.0, 4.0), "FluencyBank/3": (1.0, -2.0)}
    new = {"FluencyBank/1": (20.0, -6.0), "FluencyBank/2": (5.0, 4.0), "FluencyBank/3": (1.0, -5.0)}
    text = compare({"old": old, "new": new})
    # old: |errors| 12, 4, 2 -> 1 of 3 over 10 %, mean 6.00, median -2.0; new: 6, 4, 5 -> mean 5.00, median -5.0
    assert "| old | 2 of 3 | 6.00 % | -2.0 % | -12.0 % (FluencyBank/1) |  |" in text
    # paired differences -6, 0, +3: mean -1.00; the resampled means lie between -6 and +3
    row = next(line for line in text.splitlines() if line.startswith("| new |"))
    assert "| new | 3 of 3 | 5.00 % | -5.0 % | -6.0 % (FluencyBank/1) | -1.00 [" in row
    low, high = (float(x) for x in row.split("[")[1].split("]")[0].split(", "))
    assert -6.0 <= low < -1.0 < high <= 3.0


def test_loops_are_six_or_more_of_the_same_word_in_a_row():
    from benchmarks.timestamped_syllables import loop_words
    from model.measures.words import Word

    texts = ["I", "I", "I", "want"] + ["up,"] * 5 + ["Up"] + ["and", "and"] + ["art"] * 7
    words = [Word(k * 0.1, k * 0.1 + 0.05, t, 1.0) for k, t in enumerate(texts)]
    assert loop_words(words) == 6 + 7  # "up," x5 + "Up" (case and punctuation off) and "art" x7; "I" x3 is speech
    assert loop_words([]) == 0
