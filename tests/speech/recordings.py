"""Recordings made in the tests: espeak-ng speaks each line in its voice, sox makes it 16 kHz mono with a pause,
and the lines are joined into one interview (two voices that really differ: en-us and en-gb-x-rp+f3)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


VOICES = ("en-us", "en-gb-x-rp+f3")
#: (speaker index, line): an interviewer (en-us) and a participant (en-gb-x-rp+f3), about 25 seconds.
SCRIPT: tuple[tuple[int, str], ...] = (
    (0, "Thank you for coming in today. How did you start working at the community garden?"),
    (1, "My neighbour asked me to help with the tomatoes, and after that I kept coming back every weekend."),
    (0, "What kept you coming back?"),
    (1, "Mostly the people. We share lunch on Saturdays, and the older members teach us how to save seeds."),
    (0, "That sounds like a lovely place to learn."),
)


@dataclass(frozen=True)
class Recording:
    path: Path
    lines: tuple[tuple[int, str], ...]

    @property
    def words(self) -> list[tuple[int, str]]:
        return [(who, w) for who, line in self.lines for w in normalise(line)]


def normalise(text: str) -> list[str]:
    return ["".join(c for c in w.lower() if c.isalnum() or c == "'") for w in text.split()
            if any(c.isalnum() for c in w)]


def speak(lines: tuple[tuple[int, str], ...], out: Path) -> Path:
    """``out``: the lines spoken in turn, each followed by 0.8 s of silence, as one 16 kHz mono WAV."""
    parts = []
    for n, (who, line) in enumerate(lines):
        raw, part = out.with_name(f"{out.stem}.{n}.raw.wav"), out.with_name(f"{out.stem}.{n}.wav")
        subprocess.run(["espeak-ng", "-v", VOICES[who], "-s", "160", "-w", str(raw), line], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(part), "pad", "0", "0.8"], check=True)
        parts.append(str(part))
    subprocess.run(["sox", *parts, str(out)], check=True)
    return out


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions (Levenshtein over words)."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        prev, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref != hyp))
    return row[-1]


def wer(reference: list[str], hypothesis: list[str]) -> float:
    return word_errors(reference, hypothesis) / max(len(reference), 1)


def speaker_accuracy(reference: list[tuple[int, str]], hypothesis: list[tuple[str, str]]) -> float:
    """Share of the reference's words found in the hypothesis (aligned with difflib) on the right speaker,
    under the best matching of speaker labels to reference speakers (counted over the words aligned)."""
    import difflib
    from collections import Counter
    from itertools import permutations

    matcher = difflib.SequenceMatcher(a=[w for _, w in reference], b=[w for _, w in hypothesis], autojunk=False)
    pairs: Counter[tuple[int, str]] = Counter()
    aligned = 0
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            pairs[(reference[block.a + k][0], hypothesis[block.b + k][0])] += 1
            aligned += 1
    labels = sorted({h for h, _ in hypothesis})
    people = sorted({r for r, _ in reference})
    best = 0
    for order in permutations(labels, min(len(labels), len(people))):
        best = max(best, sum(pairs[(p, h)] for p, h in zip(people, order)))
    return best / max(aligned, 1)
