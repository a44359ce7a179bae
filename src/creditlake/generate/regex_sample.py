"""Sample a string that matches a regular expression (the catalogue's column patterns), deterministically."""

from __future__ import annotations

import random
import re

try:  # Python 3.11 still ships the parser as sre_parse (re._parser since 3.11, with a deprecation shim)
    from re import _parser as sre_parse  # type: ignore[attr-defined]
    from re import _constants as sre_constants  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants
    import sre_parse

_CATEGORY = {
    sre_constants.CATEGORY_DIGIT: "0123456789",
    sre_constants.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    sre_constants.CATEGORY_SPACE: " ",
}
_MAX_OPEN_REPEAT = 4  # `+` and `*` draw at most this many repetitions


def _choices_of_in(items) -> list[str]:
    chars: list[str] = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            chars.append(chr(arg))
        elif op is sre_constants.RANGE:
            chars.extend(chr(c) for c in range(arg[0], arg[1] + 1))
        elif op is sre_constants.CATEGORY:
            chars.extend(_CATEGORY.get(arg, "x"))
        elif op is sre_constants.NEGATE:
            raise ValueError("negated character classes are not sampled")
    return chars


def _emit(parsed, rng: random.Random, out: list[str]) -> None:
    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.IN:
            out.append(rng.choice(_choices_of_in(arg)))
        elif op is sre_constants.ANY:
            out.append("x")
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            lo, hi, sub = arg
            hi = lo + _MAX_OPEN_REPEAT if hi is sre_constants.MAXREPEAT else hi
            for _ in range(rng.randint(lo, hi)):
                _emit(sub, rng, out)
        elif op is sre_constants.SUBPATTERN:
            _emit(arg[-1], rng, out)
        elif op is sre_constants.BRANCH:
            _emit(rng.choice(arg[1]), rng, out)
        elif op is sre_constants.AT:
            continue
        else:
            raise ValueError(f"pattern element {op} is not sampled")


def sample(pattern: str, rng: random.Random) -> str:
    """A string `re.fullmatch(pattern, s)` accepts; raises ValueError for constructs it cannot sample."""
    out: list[str] = []
    _emit(sre_parse.parse(pattern), rng, out)
    text = "".join(out)
    if not re.search(pattern, text):
        raise ValueError(f"sampled {text!r} does not match {pattern!r}")
    return text
