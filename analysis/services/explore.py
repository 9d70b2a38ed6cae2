"""Exploration as pandas DataFrames: codings joined with everything a researcher filters by, the
theme x participant matrix and code co-occurrence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from analysis.domain.explore import CODING_COLUMNS, format_timestamp
from analysis.domain.timing import own_time
from analysis.store import audit as audit_store, codes as code_store, segments as segment_store
from analysis.store import transcripts as transcript_store
from analysis.store.segments import TurnInfo
from analysis.services.context import Context

if TYPE_CHECKING:
    import pandas as pd
    from analysis.services.codebook import CodebookService
    from analysis.services.participants import ParticipantService

__all__ = ["CODING_COLUMNS", "ExploreService", "format_timestamp"]

Filter = str | list[str]


def _one_or_many(value: Filter) -> list[str]:
    return [value] if isinstance(value, str) else value


class ExploreService:
    """Read-only views of the coding as DataFrames."""

    def __init__(self, ctx: Context, codebook: CodebookService, participants: ParticipantService) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.participants = participants
        # Every coding joined, orphans included, as built for one value of the project's change counter
        # (every change bumps it): a page asks for it several times (matrix, co-occurrence, quotes, story).
        self._frame_cache: tuple[int, pd.DataFrame, npt.NDArray[np.bool_]] | None = None

    def codings_frame(
        self, *, code: str | int | None = None, participant: Filter | None = None,
        attributes: dict[str, Filter] | None = None, include_orphans: bool = False,
    ) -> pd.DataFrame:
        """One row per coding, joined with code path, theme, participant (+ attributes), transcript, turn,
        timestamp and text. ``code`` includes its descendants."""
        wanted: set[int] | None = None
        with self.ctx.store.read() as conn:
            version = audit_store.change_counter(conn)
            if code is not None:
                root = int(code_store.code_row(conn, code).id)
                wanted = {root} | code_store.descendants(conn, root)
        cached = self._frame_cache
        if cached is None or cached[0] != version:
            # The counter is read before the rows: a frame is never older than the version it is kept under.
            cached = (version, *self._all_codings())
            self._frame_cache = cached
        df, orphaned = cached[1], cached[2]
        keep = np.ones(len(df), dtype=bool) if include_orphans else ~orphaned
        if wanted is not None:
            keep &= df["code_id"].isin(wanted).to_numpy()
        df = df[keep]
        if participant is not None:
            df = df[df["participant"].isin(_one_or_many(participant))]
        for key, value in (attributes or {}).items():
            if key not in df.columns:
                continue
            df = df[df[key].isin(_one_or_many(value))]
        return df.sort_values(["transcript", "start", "code_path"]).reset_index(drop=True)

    def _all_codings(self) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
        """Every coding (orphans included, in the store's order) as :meth:`codings_frame`'s rows, and
        which of them are orphaned."""
        import pandas as pd

        with self.ctx.store.read() as conn:
            rows = segment_store.frame_codings(conn)
            texts = segment_store.transcript_texts(conn)
            turns = segment_store.turn_infos(conn)
            anchors = transcript_store.sync_points_of(conn)
        codes = {c.id: c for c in self.codebook.codes()}
        paths = self.codebook.code_paths()
        people = {p.pseudonym: p.attributes for p in self.participants.list()}
        attr_names = sorted({k for a in people.values() for k in a})
        # Per transcript: turn ends (to find a coding's turn by binary search) and the turns, by start.
        grouped: dict[int, list[TurnInfo]] = {}
        for turn in turns:
            grouped.setdefault(turn.transcript_id, []).append(turn)
        by_tr = {tid: (np.asarray([t.end for t in ts], dtype=np.int64), ts) for tid, ts in grouped.items()}
        themes: dict[int, str] = {}
        for cid in codes:
            top = codes[cid]
            while top.parent_id is not None:
                top = codes[top.parent_id]
            themes[cid] = top.name
        records: list[dict[str, object]] = []
        for r in rows:
            turn_no: int | None = None
            speaker: str | None = None
            who: str | None = None
            found_turn = r.transcript_id in by_tr
            if found_turn:
                ends, tuples = by_tr[r.transcript_id]
                found = tuples[min(int(np.searchsorted(ends, r.start, side="right")), len(tuples) - 1)]
                turn_no, speaker = found.idx, found.speaker
                who = found.participant or ("(interviewer)" if found.interviewer else speaker)
            # the time of the coding's first word: the nearest anchor at or before it in its turn
            t_start = own_time(anchors.get(r.transcript_id, []), r.start, found.start if found_turn else None)
            text = r.quote if r.orphaned else texts[r.transcript_id][r.start:r.end]
            records.append({
                "coding_id": r.id, "code": codes[r.code_id].name, "code_id": r.code_id, "code_path": paths[r.code_id],
                "theme": themes[r.code_id], "participant": who, "transcript": r.transcript,
                "turn": turn_no, "speaker": speaker, "timestamp": format_timestamp(t_start),
                "start": r.start, "end": r.end, "text": text,
                "coder": r.coder, "memo": r.memo, "origin": r.origin,
                **{a: people.get(who or "", {}).get(a, "") for a in attr_names},
            })
        return (pd.DataFrame(records, columns=CODING_COLUMNS + attr_names),
                np.asarray([bool(r.orphaned) for r in rows], dtype=bool))

    def theme_matrix(
        self, *, level: str = "theme", presence: bool = False, participant: Filter | None = None,
        attributes: dict[str, Filter] | None = None,
    ) -> pd.DataFrame:
        """Themes (``level="theme"``) or code paths (``level="code"``) x participants: counts of codings,
        or 1/0 for "has at least one" (``presence=True``). Every participant gets a column."""
        import pandas as pd

        df = self.codings_frame(participant=participant, attributes=attributes)
        rows_key = "theme" if level == "theme" else "code_path"
        everyone = self.participants.list()
        columns = [p.pseudonym for p in everyone]
        if participant is not None:
            columns = [p for p in columns if p in _one_or_many(participant)]
        if attributes:
            keep = {p.pseudonym for p in everyone
                    if all(p.attributes.get(k) in _one_or_many(v) for k, v in attributes.items())}
            columns = [p for p in columns if p in keep]
        index = ([c.name for c in self.codebook.codes() if c.parent_id is None] if level == "theme"
                 else list(self.codebook.code_paths().values()))
        m = pd.crosstab(df[rows_key], df["participant"]) if len(df) else pd.DataFrame()
        m = m.reindex(index=index, columns=columns, fill_value=0).fillna(0).astype(int)
        m.index.name, m.columns.name = rows_key, "participant"
        return (m > 0).astype(int) if presence else m

    def cooccurrence(self, *, kind: str = "overlap", level: str = "code") -> pd.DataFrame:
        """Code x code counts of co-occurrence: spans that overlap (``kind="overlap"``) or codings in the
        same turn (``kind="turn"``). The diagonal holds each code's own count of codings."""
        import pandas as pd

        df = self.codings_frame()
        key = "code_path" if level == "code" else "theme"
        labels: list[str] = sorted(df[key].unique()) if len(df) else []
        pos = {label: i for i, label in enumerate(labels)}
        counts: npt.NDArray[np.int64] = np.zeros((len(labels), len(labels)), dtype=np.int64)
        for _, g in df.groupby("transcript"):
            idx = g[key].map(pos).to_numpy(dtype=np.int64)
            np.add.at(counts, (idx, idx), 1)
            hit: npt.NDArray[np.bool_]
            if kind == "overlap":
                s, e = g["start"].to_numpy(), g["end"].to_numpy()
                hit = (s[:, None] < e[None, :]) & (s[None, :] < e[:, None])
            else:
                turn = g["turn"].to_numpy()
                hit = turn[:, None] == turn[None, :]
            hit &= idx[:, None] != idx[None, :]
            i, j = np.nonzero(np.triu(hit, k=1))
            np.add.at(counts, (idx[i], idx[j]), 1)
            np.add.at(counts, (idx[j], idx[i]), 1)
        m = pd.DataFrame(counts, index=labels, columns=labels)
        m.index.name = m.columns.name = key
        return m
