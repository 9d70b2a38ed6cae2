"""The sample study that comes with Storyloom: seven interviews about a polytechnic's micro-credential
programme, with their participants.csv, codebook, codings, cases and story (``storyloom demo``).

In an installed Storyloom it is package data, ``analysis/sample/study/`` (written into the wheel by the
build from the repository's ``transcripts/`` and ``codebooks/``: ``build_hooks.py``). In a checkout (an
editable install) it is the repository root itself, which is the sample project.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from analysis.errors import Errors, ProjectError

#: Where the build puts the study in the package.
PACKAGED = Path(__file__).resolve().parent / "study"
#: The checkout's root (the sample project), when this package runs from a clone.
CHECKOUT = Path(__file__).resolve().parents[2]
#: The codebooks/ files that belong to the study (exports a researcher made there are not part of it).
CODEBOOK_FILES = ("codebook.yaml", "codings.yaml", "cases.yaml", "story.yaml")


def sample_dir() -> Path:
    """The folder holding the study's ``transcripts/`` and ``codebooks/``."""
    for folder in (PACKAGED, CHECKOUT):
        if (folder / "transcripts" / "participants.csv").is_file() and (folder / "codebooks" / "codebook.yaml").is_file():
            return folder
    raise ProjectError(Errors.E4401, path=PACKAGED)


def sample_files(folder: Path | None = None) -> list[str]:
    """The study's files, relative to its folder (``transcripts/...``, ``codebooks/...``), sorted."""
    root = folder or sample_dir()
    transcripts = [f"transcripts/{p.name}" for p in sorted((root / "transcripts").iterdir())
                   if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".bak")]
    return transcripts + [f"codebooks/{name}" for name in CODEBOOK_FILES if (root / "codebooks" / name).is_file()]


def copy_sample(dest: Path) -> dict[str, list[str]]:
    """Copy the study into folder ``dest`` (made if need be): ``copied`` files, ``unchanged`` ones already
    there, and ``kept``: a different file of the same name already in ``dest``, left as it is."""
    source = sample_dir()
    if dest.exists() and not dest.is_dir():
        raise ProjectError(Errors.E4008, path=dest, db="project.db")
    report: dict[str, list[str]] = {"copied": [], "unchanged": [], "kept": []}
    for name in sample_files(source):
        src, target = source / name, dest / name
        if target.exists():
            if source.resolve() == dest.resolve() or filecmp.cmp(src, target, shallow=False):
                report["unchanged"].append(name)
            else:
                report["kept"].append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        report["copied"].append(name)
    return report
