"""Bidirectional isolation of user text in reports: a U+202E in a patient code must not reverse the page.

Text a user typed (patient codes, names, tasks, notes, the clinic name) may hold right-to-left letters
(Arabic, Hebrew: legitimate) and explicit direction controls (U+202A-U+202E embeddings and overrides,
U+2066-U+2069 isolates: legitimate in RTL text, hostile when left open). Each such value is closed and
wrapped: every embedding or override it leaves open gets a POP DIRECTIONAL FORMATTING, every isolate a
POP DIRECTIONAL ISOLATE, and the whole value is put inside FIRST STRONG ISOLATE ... PDI (Unicode UAX #9),
so its direction is its own and stops at its end. Text with neither is returned unchanged.
"""

from __future__ import annotations

import unicodedata

_EMBEDDINGS = "\u202a\u202b\u202d\u202e"  # LRE, RLE, LRO, RLO: closed by PDF
_PDF = "\u202c"
_ISOLATES = "\u2066\u2067\u2068"  # LRI, RLI, FSI: closed by PDI
_PDI = "\u2069"
_FSI = "\u2068"
_RTL_CLASSES = {"R", "AL", "RLE", "RLO", "LRE", "LRO", "RLI", "LRI", "FSI", "PDF", "PDI"}


def needs_isolation(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in text)


def isolate(text: str) -> str:
    """text closed and wrapped so that nothing in it changes the direction of what surrounds it."""
    if not needs_isolation(text):
        return text
    stack: list[str] = []  # what is open, innermost last: "e" embedding/override, "i" isolate
    for c in text:
        if c in _EMBEDDINGS:
            stack.append("e")
        elif c in _ISOLATES:
            stack.append("i")
        elif c == _PDF and stack and stack[-1] == "e":
            stack.pop()
        elif c == _PDI:
            while stack and stack.pop() != "i":  # a PDI also closes the embeddings inside its isolate
                pass
    closing = "".join(_PDF if kind == "e" else _PDI for kind in reversed(stack))
    return f"{_FSI}{text}{closing}{_PDI}"
