"""Scale the sample study: copy each transcript ``factor`` times with light perturbation.

Copy ``k`` of ``leader_a.docx`` is ``leader_a_k.docx``; its participant is "Leader A k". In every
copy after the first, a fraction ``perturb`` of the spoken lines (or docx paragraphs) gets one
extra word, so those sentences are new text that must be embedded, while the rest hit the cache,
as re-coded or lightly corrected transcripts would. Used by benchmarks/ingest.py and ui.py.
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
from pathlib import Path

FILLERS = ("really", "actually", "certainly", "perhaps", "frankly", "honestly", "basically", "clearly")
_TIMING = re.compile(r"^\s*(\d+|WEBVTT.*|\d{1,2}:\d{2}[:.,\d]*\s*-->.*)\s*$")


def _perturb_line(line: str, rng: random.Random) -> str:
    colon = line.find(": ")
    lo = colon + 2 if 0 <= colon < 40 else 0
    spaces = [m.start() for m in re.finditer(" ", line) if m.start() > lo]
    if not spaces:
        return line
    at = rng.choice(spaces)
    return f"{line[:at]} {rng.choice(FILLERS)}{line[at:]}"


def perturb_text(text: str, *, fraction: float, rng: random.Random) -> str:
    out = []
    for line in text.split("\n"):
        if line.strip() and not _TIMING.match(line) and not line.startswith("#") and rng.random() < fraction:
            line = _perturb_line(line, rng)
        out.append(line)
    return "\n".join(out)


def _perturb_docx(src: Path, dest: Path, *, fraction: float, rng: random.Random) -> None:
    import docx

    document = docx.Document(str(src))
    for para in document.paragraphs:
        runs = [r for r in para.runs if not r.bold and len(r.text) > 20]
        if runs and rng.random() < fraction:
            runs[-1].text = _perturb_line(runs[-1].text, rng)
    document.save(str(dest))


def scale_study(source: Path, dest: Path, factor: int, *, perturb: float = 0.2, seed: int = 0) -> Path:
    """Write ``factor`` copies of ``source/transcripts`` into ``dest/transcripts``; returns ``dest``."""
    rng = random.Random(seed)
    out = dest / "transcripts"
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(io.StringIO((source / "transcripts" / "participants.csv").read_text(encoding="utf-8"))))
    scaled_rows = []
    for k in range(1, factor + 1):
        fraction = 0.0 if k == 1 else perturb
        for f in sorted((source / "transcripts").iterdir()):
            if f.name == "participants.csv":
                continue
            name = f.name if factor == 1 else f"{f.stem}_{k}{f.suffix}"
            if f.suffix == ".docx":
                if fraction:
                    _perturb_docx(f, out / name, fraction=fraction, rng=rng)
                else:
                    shutil.copy(f, out / name)
            else:
                text = f.read_text(encoding="utf-8")
                (out / name).write_text(perturb_text(text, fraction=fraction, rng=rng), encoding="utf-8")
        for row in rows:
            stem, suffix = Path(row["transcript"]).stem, Path(row["transcript"]).suffix
            scaled_rows.append({**row, "pseudonym": row["pseudonym"] if factor == 1 else f"{row['pseudonym']} {k}",
                                "transcript": row["transcript"] if factor == 1 else f"{stem}_{k}{suffix}"})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(scaled_rows)
    (out / "participants.csv").write_text(buf.getvalue(), encoding="utf-8")
    return dest
