"""The repository's sample study opens coded: Dr Mere Tane's codebook and codings (codebooks/) on the
seven synthetic interviews (transcripts/), checked with the fast hashing embedder."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from analysis import Project, open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.services.results import CodebookImport

REPO = Path(__file__).resolve().parents[2]
CODER = "Dr Mere Tane"
PARTICIPANTS = {"Leader A", "Leader B", "Manager A", "Academic A", "Academic B", "Professional A", "Professional B"}


def _copy_study(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copytree(REPO / "transcripts", folder / "transcripts")
    shutil.copytree(REPO / "codebooks", folder / "codebooks")
    return folder


def _walk(tree: list[dict], depth: int = 0) -> Iterator[tuple[int, dict]]:
    for node in tree:
        yield depth, node
        yield from _walk(node.get("children", []), depth + 1)


def _without_guids(tree: list[dict]) -> list[dict]:
    return [{k: (_without_guids(v) if k == "children" else v) for k, v in n.items() if k != "guid"} for n in tree]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict]]:
    """The sample study copied to a temporary folder and synced once; yields the project and sync's report."""
    folder = _copy_study(tmp_path_factory.mktemp("sample") / "study")
    project = open_project(folder, embedder=HashingEmbedder())
    report = project.sync()
    yield project, report
    project.close()


@pytest.fixture(scope="module")
def study(synced: tuple[Project, dict]) -> Project:
    """The synced study with its codebook and codings files imported. Importing again after sync is
    idempotent (codes are matched by path, codings already present are skipped), so the content tests
    below check the files themselves whatever sync did."""
    project, _ = synced
    project.codebook_files.import_codebook(project.codebooks_dir / "codebook.yaml")
    project.codebook_files.import_codings(project.codebooks_dir / "codings.yaml")
    return project


def test_sync_opens_the_sample_study_coded(synced):
    """sync() on a project with no codebook imports codebooks/codebook.yaml and codings.yaml."""
    project, report = synced
    status = project.status()
    assert status["transcripts"] == 7 and status["participants"] == 7
    assert status["codes"] >= 24, "sync did not import codebooks/codebook.yaml into a project with no codes"
    assert status["codings"] >= 150, "sync did not import codebooks/codings.yaml into a project with no codings"
    assert report.get("codebook_imported") == status["codes"]
    assert report.get("codings_imported") == status["codings"]
    assert project.codings.orphans() == []


def test_participants(study):
    assert {p.pseudonym for p in study.participants.list()} == PARTICIPANTS


def test_codebook_shape(study):
    codes = study.codebook.codes()
    themes = [c for c in codes if c.parent_id is None]
    assert all(t.kind == "theme" for t in themes)
    assert 4 <= len(themes) <= 6
    assert 20 <= sum(c.kind == "code" for c in codes) <= 40
    # Codes sit under themes (directly or through a subtheme), never at the top level.
    by_id = {c.id: c for c in codes}
    for c in codes:
        if c.kind == "code":
            assert c.parent_id is not None and by_id[c.parent_id].kind == "theme", c.name


def test_every_code_is_defined_and_every_theme_has_a_central_concept(study):
    for c in study.codebook.codes():
        if c.kind == "code":
            for field in ("definition", "inclusion", "exclusion", "example"):
                assert getattr(c, field).strip(), f"code '{c.name}' has no {field}"
            assert c.status in ("reviewed", "defined")
        else:
            assert c.central_concept.strip(), f"theme '{c.name}' has no central concept"
            assert c.definition.strip(), f"theme '{c.name}' has no definition"
            assert c.status in ("reviewed", "defined")


def test_codings_cover_every_participant(study):
    assert study.status()["codings"] >= 150
    assert study.codings.orphans() == []
    df = study.explore.codings_frame()
    assert set(df["coder"]) == {CODER}
    per_participant = Counter(df["participant"])
    assert set(per_participant) == PARTICIPANTS, "every coding lies in a participant's turn, none in the interviewer's"
    assert min(per_participant.values()) >= 15, per_participant
    # Codes are applied to codes, not to themes.
    kinds = {c.id: c.kind for c in study.codebook.codes()}
    assert {kinds[i] for i in df["code_id"]} == {"code"}


def test_every_theme_is_shared_across_participants(study):
    matrix = study.explore.theme_matrix()
    assert list(matrix.columns) and set(matrix.columns) == PARTICIPANTS
    assert len(matrix.index) == len([c for c in study.codebook.codes() if c.parent_id is None])
    spread = (matrix > 0).sum(axis=1)
    assert (spread >= 3).all(), spread.to_dict()
    assert ((matrix > 0).sum(axis=0) >= 3).all(), "every participant appears under several themes"


def test_codings_mix_phrases_passages_and_double_coding(study):
    df = study.explore.codings_frame()
    words = df["text"].str.split().str.len()
    assert words.min() <= 8 and (words >= 40).sum() >= 20  # from a phrase to block-quote vignettes
    assert (df["memo"].str.len() > 0).sum() >= 5
    overlap = study.explore.cooccurrence(kind="overlap")
    off_diagonal = overlap.to_numpy().sum() - overlap.to_numpy().trace()
    assert off_diagonal > 0, "some spans are coded with more than one code"


def test_codings_file_quotes_are_exact(study):
    """Every quote in codings.yaml is the exact text at its offsets in the canonical stored text."""
    items = yaml.safe_load((REPO / "codebooks" / "codings.yaml").read_text(encoding="utf-8"))["codings"]
    texts = {}
    for item in items:
        name = item["transcript"]
        if name not in texts:
            texts[name] = study.transcripts.get(name).text
        assert texts[name][item["start"]:item["end"]] == item["quote"], (name, item["quote"][:60])
    stored = {(c.transcript_id, c.start, c.end, c.code_id) for name in texts for c in study.codings.codings_in(name)}
    assert len(stored) == len(items) == study.status()["codings"]


def test_codebook_export_import_round_trip_is_lossless(study, tmp_path):
    path = study.codebook_files.export_codebook(tmp_path / "codebook.yaml")
    fresh = open_project(tmp_path / "fresh", embedder=HashingEmbedder())
    try:
        result = fresh.codebook_files.import_codebook(path)
        assert result == CodebookImport(created=len(study.codebook.codes()), updated=0)
        assert fresh.codebook_files.codebook_tree() == study.codebook_files.codebook_tree()
        assert _without_guids(fresh.codebook_files.codebook_tree()) == _without_guids(study.codebook_files.codebook_tree())
        # The committed file describes the same tree as the project built from it.
        committed = yaml.safe_load((REPO / "codebooks" / "codebook.yaml").read_text(encoding="utf-8"))["codes"]
        assert [(d, n["name"]) for d, n in _walk(committed)] == [(d, n["name"]) for d, n in _walk(study.codebook_files.codebook_tree())]
    finally:
        fresh.close()
