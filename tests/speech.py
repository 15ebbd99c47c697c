"""Word error rate of a transcript against the script that was spoken, for tests and benches.

Both sides are normalised the way a listener would compare them: case and punctuation
dropped, digits and "%" spelled out ("23%" -> "twenty three percent", as espeak-ng says it),
and the contractions a transcriber writes for what was said in full ("here's" -> "here is").
"""

from __future__ import annotations

import re

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return f"{_ONES[n // 100]} hundred" + (f" {number_words(rest)}" if rest else "")
    rest = n % 1000
    return f"{number_words(n // 1000)} thousand" + (f" {number_words(rest)}" if rest else "")


_CONTRACTIONS = {"'s": " is", "'re": " are", "'ll": " will", "'ve": " have", "'m": " am", "n't": " not",
                  "'d": " would"}
_IRREGULAR = {"won't": "will not", "can't": "cannot", "let's": "let us"}


def normalise(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("%", " percent ").replace("-", " ")
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} " if len(m.group()) < 7 else m.group(), text)
    return [w for word in re.findall(r"[a-z0-9']+", text) for w in _expanded(word).split()]


def _expanded(word: str) -> str:
    """A contraction in full ("here's" -> "here is"; a possessive's "'s" reads as "is" too,
    which only matters where the script has one)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for short, full in _CONTRACTIONS.items():
        if word.endswith(short) and len(word) > len(short):
            return word[: -len(short)] + full
    return word


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words): a Levenshtein on words."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    errors, words = word_errors(reference, hypothesis)
    return errors / max(1, words)
