"""REFI-QDA with media (the media issue, item 5): audio sources with their transcripts and sync points.

A VTT transcript with a real recording (PyAV writes a tone) and codings is exported as an ``<AudioSource>``
(the recording inside the archive's sources folder), validated against both Project XSDs and imported into
a fresh project: text, codings, anchors' times and the recording come back exactly. A media source whose
recording is missing or not a recording, or that has no transcript, is a warning; time-range codings of
the recording are reported, not imported."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis.project import Project
from analysis.refi.read import parse_project
from analysis.refi.schema import validate
from tests.formats.test_refi import REFI, XSDS
from tests.services.test_media import tone

VTT = ("WEBVTT\n\n"
       "00:00:00.000 --> 00:00:01.250\n<v Ana>Hello there, I am Ana 😬 from the north.\n\n"
       "00:00:01.250 --> 00:00:02.500\n<v Ana>I came back to the cafe\u0301 after years.\n\n"
       "00:00:02.750 --> 00:00:03.600\n<v Bo>Welcome back, Ana 👍🏽.\n")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source(make_project: Callable[..., Project], tmp_path: Path) -> Project:
    project = make_project("src", transcripts={"talk.vtt": VTT})
    project.media.attach("talk.vtt", tone(tmp_path / "talk.m4a", 4.0))
    project.codebook.add_code("Return")
    project.codebook.add_code("Greeting")
    text = project.transcripts.get("talk.vtt").text
    s = text.index("Hello")
    project.codings.add_coding(transcript="talk.vtt", start=s, end=s + len("Hello there"), code="Greeting")
    s = text.index("Ana 😬")  # across the first cue into the second
    project.codings.add_coding(transcript="talk.vtt", start=s, end=text.index("after"), code="Return")
    s = text.index("Ana:")  # the speaker label: before the first time
    project.codings.add_coding(transcript="talk.vtt", start=s, end=s + 3, code="Greeting")
    s = text.index("back, Ana 👍🏽")
    project.codings.add_coding(transcript="talk.vtt", start=s, end=s + len("back, Ana 👍🏽"), code="Return")
    return project


def _snapshot(project: Project, name: str) -> dict[str, Any]:
    paths = project.codebook.code_paths()
    media = project.media.require(name)
    return {"text": project.transcripts.get(name).text,
            "codings": sorted((paths[c.code_id], c.start, c.end, c.text) for c in project.codings.codings_in(name)),
            "anchors": [(a.offset, a.t_start) for a in project.transcripts.anchors(name)],
            "media": (media.kind, media.format, media.sha256, _sha(media.path))}


@pytest.mark.parametrize("positions", ["codepoints", "utf16"])
def test_audio_round_trip_into_a_fresh_project(make_project: Callable[..., Project], tmp_path: Path,
                                              positions: str) -> None:
    source = _source(make_project, tmp_path)
    out = source.interchange.export_project(tmp_path / "talk.qdpx", positions=positions)
    guid = source.transcripts.get("talk.vtt").guid
    with zipfile.ZipFile(out) as z:
        qde = z.read("project.qde")
        assert z.read(f"sources/{guid}.m4a") == (tmp_path / "talk.m4a").read_bytes()
    if REFI.is_dir():
        for xsd in XSDS:
            assert validate(qde, xsd) == [], xsd.name
    parsed = parse_project("project.qde", qde)
    (src,) = parsed.sources
    assert (src.kind, src.media_path, src.transcripts) == ("AudioSource", f"internal://{guid}.m4a", 1)
    times = [p.time_ms for p in src.sync_points]
    assert list(dict.fromkeys(t for t in times if t is not None)) == [0, 1250, 2750]
    assert times[0] is None  # the coding of the speaker label, before the first time
    fresh = make_project("dst")
    report = fresh.interchange.import_project(out)
    assert report["warnings"] == [] and report["skipped_sources"] == []
    assert [(m["kind"], m["transcript"], m["attached"]) for m in report["media"]] == \
        [("AudioSource", "talk.vtt", "talk.m4a")]
    assert [(s["rule"], s["placed"]) for s in report["sources"]] == [(positions, 4)]
    assert _snapshot(fresh, "talk.vtt") == _snapshot(source, "talk.vtt")
    line = fresh.transcripts.get("talk.vtt").text.index("Welcome")
    assert fresh.transcripts.time_of("talk.vtt", line, line + 7) is not None
    again = fresh.interchange.import_project(out)  # a re-import merges: nothing added, the recording kept
    assert again["added"] == 0 and again["media"][0]["attached"] is None and again["warnings"] == []
    assert sorted(p.name for p in (fresh.path / "media").iterdir()) == ["talk.m4a"]


def clip(path: Path, seconds: float) -> Path:
    """A real video written by PyAV: MPEG-4 pictures (32x32, 10 a second) beside :func:`tone`'s AAC sound."""
    import av
    import numpy as np

    sound = tone(path.with_suffix(".m4a"), seconds)
    with av.open(str(sound)) as src, av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = out.add_stream_from_template(src.streams.audio[0])
        for i in range(int(seconds * 10)):
            picture = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 5 % 256, dtype=np.uint8), format="rgb24")
            for packet in video.encode(picture):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        for packet in src.demux(src.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = audio
                out.mux(packet)
    sound.unlink()
    return path


def test_video_round_trip(make_project: Callable[..., Project], tmp_path: Path) -> None:
    source = make_project("src", transcripts={"talk.vtt": VTT})
    source.media.attach("talk.vtt", clip(tmp_path / "talk.mp4", 4.0))
    source.codebook.add_code("Return")
    text = source.transcripts.get("talk.vtt").text
    start = text.index("came back")
    source.codings.add_coding(transcript="talk.vtt", start=start, end=start + len("came back"), code="Return")
    out = source.interchange.export_project(tmp_path / "video.qdpx")
    with zipfile.ZipFile(out) as z:
        qde = z.read("project.qde")
    assert [s.kind for s in parse_project("project.qde", qde).sources] == ["VideoSource"]
    if REFI.is_dir():
        for xsd in XSDS:
            assert validate(qde, xsd) == [], xsd.name
    fresh = make_project("dst")
    (fresh.path / "media").mkdir()
    (fresh.path / "media" / "talk.mp4").write_bytes(b"another file of that name")  # kept; the import names its own
    report = fresh.interchange.import_project(out)
    guid = source.transcripts.get("talk.vtt").guid
    assert report["warnings"] == [] and report["media"][0]["attached"] == f"talk ({guid[:8]}).mp4"
    assert _snapshot(fresh, "talk.vtt") == _snapshot(source, "talk.vtt")
    assert fresh.media.require("talk.vtt").kind == "video"
    assert (fresh.path / "media" / "talk.mp4").read_bytes() == b"another file of that name"


GUID = "22222222-2222-2222-2222-222222222222"
CODE = "11111111-1111-1111-1111-111111111111"


def _qde(path: str, *, transcript: bool = True) -> bytes:
    points = ('<SyncPoint guid="a0000000-0000-0000-0000-000000000001" timeStamp="0" position="0"/>'
              '<SyncPoint guid="a0000000-0000-0000-0000-000000000002" timeStamp="0" position="6"/>'
              '<SyncPoint guid="a0000000-0000-0000-0000-000000000003" timeStamp="1500" position="13"/>'
              '<SyncPoint guid="a0000000-0000-0000-0000-000000000004" timeStamp="1500" position="16"/>')
    body = (f'<Transcript guid="33333333-3333-3333-3333-333333333333" name="t">'
            f'<PlainTextContent>Hello world. Bye now.</PlainTextContent>{points}'
            '<TranscriptSelection guid="44444444-4444-4444-4444-444444444444" name="world. Bye"'
            ' fromSyncPoint="a0000000-0000-0000-0000-000000000002" toSyncPoint="a0000000-0000-0000-0000-000000000004">'
            f'<Coding guid="55555555-5555-5555-5555-555555555555"><CodeRef targetGUID="{CODE}"/></Coding>'
            '</TranscriptSelection></Transcript>') if transcript else ""
    return ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x">'
            f'<CodeBook><Codes><Code guid="{CODE}" name="c" isCodable="true"/></Codes></CodeBook><Sources>'
            f'<AudioSource guid="{GUID}" name="interview.mp3" path="{path}">{body}'
            '<AudioSelection guid="66666666-6666-6666-6666-666666666666" begin="0" end="900">'
            f'<Coding guid="77777777-7777-7777-7777-777777777777"><CodeRef targetGUID="{CODE}"/></Coding>'
            '</AudioSelection></AudioSource></Sources></Project>').encode()


def _qdpx(path: Path, members: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize("path,member,expect", [
    (f"internal://{GUID}.mp3", None, "SL1652"),  # not in the archive
    ("C:/Users/someone/interview.mp3", None, "SL1652"),  # outside the archive
    (f"internal://{GUID}.mp3", b"ID3 this is not audio at all" * 40, "SL1653"),  # refused by the probe
])
def test_a_missing_or_corrupt_recording_is_a_warning(make_project: Callable[..., Project], tmp_path: Path,
                                                     path: str, member: bytes | None, expect: str) -> None:
    members = {"project.qde": _qde(path)}
    if member is not None:
        members[f"Sources/{GUID}.mp3"] = member
    project = make_project()
    report = project.interchange.import_project(_qdpx(tmp_path / "m.qdpx", members))
    codes = [w.split("]")[0].lstrip("[") for w in report["warnings"]]
    assert sorted(codes) == sorted([expect, "SL1654"]), report["warnings"]
    warning = next(w for w in report["warnings"] if expect in w)
    assert "interview.mp3" in warning and "m.qdpx" in warning and "Traceback" not in warning
    assert report["media"][0]["media_selections"] == 1 and report["media"][0]["attached"] is None
    assert [c.text for c in project.codings.codings_in("interview.mp3")] == ["world. Bye"]
    assert [(a.offset, a.t_start) for a in project.transcripts.anchors("interview.mp3")] == [(0, 0.0), (13, 1.5)]
    assert project.media.of("interview.mp3") is None
    assert not (project.path / "media").is_dir() or list((project.path / "media").iterdir()) == []


def test_a_damaged_member_is_a_warning(make_project: Callable[..., Project], tmp_path: Path) -> None:
    sound = tone(tmp_path / "t.m4a", 1.0).read_bytes()
    qdpx = _qdpx(tmp_path / "d.qdpx", {"project.qde": _qde(f"internal://{GUID}.m4a"), f"sources/{GUID}.m4a": sound})
    data = bytearray(qdpx.read_bytes())
    at = data.index(sound[200:240])
    data[at] ^= 0xFF  # a flipped byte: the member's CRC no longer matches
    qdpx.write_bytes(bytes(data))
    project = make_project()
    report = project.interchange.import_project(qdpx)
    warning = next(w for w in report["warnings"] if w.startswith("[SL1653]"))
    assert "damaged" in warning and "CRC" in warning
    # the one message of a damaged member (SL5203's, as a refused read says it), without "Nothing was imported"
    assert f"member 'sources/{GUID}.m4a' is damaged" in warning and "Nothing was imported" not in warning
    assert project.media.of("interview.mp3") is None and list((project.path / "media").iterdir()) == []
    assert [c.text for c in project.codings.codings_in("interview.mp3")] == ["world. Bye"]


def test_the_cli_shows_recordings_and_warnings(make_project: Callable[..., Project], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analysis.cli import app

    qdpx = _qdpx(tmp_path / "c.qdpx", {"project.qde": _qde(f"internal://{GUID}.mp3")})
    project = make_project()
    res = CliRunner().invoke(app, ["refi", "import", str(qdpx), "--project", str(project.path)])
    assert res.exit_code == 0, res.output
    assert "AudioSource" in res.output and "Warning: [SL1652]" in res.output and "Traceback" not in res.output


def test_a_media_source_without_transcript_and_the_dry_run(make_project: Callable[..., Project],
                                                           tmp_path: Path) -> None:
    qdpx = _qdpx(tmp_path / "n.qdpx", {"project.qde": _qde(f"internal://{GUID}.mp3", transcript=False),
                                        f"sources/{GUID}.mp3": b"x"})
    project = make_project()
    dry = project.interchange.import_project(qdpx, dry_run=True)
    assert [(m["name"], m["kind"], m["recording"], m["transcripts"]) for m in dry["media"]] == \
        [("interview.mp3", "AudioSource", f"sources/{GUID}.mp3", 0)]
    assert project.status()["codes"] == 0
    report = project.interchange.import_project(qdpx)
    assert [w.split("]")[0] for w in report["warnings"]] == ["[SL1651", "[SL1654"]
    assert report["sources"] == [] and report["skipped_sources"] == ["interview.mp3 (AudioSource)"]
    assert project.transcripts.list() == []
