"""The build's one step of its own (pyproject.toml: [tool.setuptools.cmdclass]): put the sample study
into the package, as ``analysis/sample/study/``, from the repository's ``transcripts/`` and ``codebooks/``
(the repository root is the sample project). ``analysis/sample/__init__.py`` says which files are the
study; tests/system/test_install.py checks that the wheel carries exactly those."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CODEBOOK_FILES = ("codebook.yaml", "codings.yaml", "cases.yaml", "story.yaml")  # as analysis.sample.CODEBOOK_FILES


def study_files(root: Path = ROOT) -> list[str]:
    transcripts = [f"transcripts/{p.name}" for p in sorted((root / "transcripts").iterdir())
                   if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".bak")]
    return transcripts + [f"codebooks/{name}" for name in CODEBOOK_FILES if (root / "codebooks" / name).is_file()]


class BuildWithSample(build_py):
    """build_py, then the sample study copied into the built package (not for an editable install,
    which finds the study in the checkout)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "analysis" / "sample" / "study"
        shutil.rmtree(target, ignore_errors=True)
        for name in study_files():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, target / name)
