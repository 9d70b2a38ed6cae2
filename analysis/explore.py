"""Exploration as pandas DataFrames: codings joined with everything a researcher filters by, the
theme x participant matrix and code co-occurrence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa


CODING_COLUMNS = ["coding_id", "code", "code_id", "code_path", "theme", "participant", "transcript", "turn",
                  "speaker", "timestamp", "start", "end", "text", "coder", "memo", "origin"]


def format_timestamp(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and np.isnan(seconds)):
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class ExploreMixin:
    """Project methods returning DataFrames."""

    def _turn_table(self: Any, conn: Any) -> pd.DataFrame:
        t = self.t
        q = (sa.select(t.turns.c.transcript_id, t.turns.c.idx, t.turns.c.start, t.turns.c.end, t.turns.c.t_start,
                       t.speakers.c.label, t.speakers.c.interviewer, t.participants.c.pseudonym)
             .join(t.speakers, t.speakers.c.id == t.turns.c.speaker_id)
             .outerjoin(t.participants, t.participants.c.id == t.speakers.c.participant_id)
             .order_by(t.turns.c.transcript_id, t.turns.c.start))
        return pd.DataFrame(conn.execute(q).all(), columns=["transcript_id", "turn", "tstart", "tend", "t_start",
                                                            "speaker", "interviewer", "participant"])

    def codings_frame(
        self: Any, *, code: str | int | None = None, participant: str | list[str] | None = None,
        attributes: dict[str, str | list[str]] | None = None, include_orphans: bool = False,
    ) -> pd.DataFrame:
        """One row per coding, joined with code path, theme, participant (+ attributes), transcript, turn,
        timestamp and text. ``code`` includes its descendants."""
        t = self.t
        with self.store.read() as conn:
            rows = conn.execute(sa.select(t.codings, t.transcripts.c.name.label("transcript"))
                                .join(t.transcripts, t.transcripts.c.id == t.codings.c.transcript_id)).all()
            texts = dict(conn.execute(sa.select(t.transcripts.c.id, t.transcripts.c.text)).all())
            turns = self._turn_table(conn)
            wanted = None
            if code is not None:
                root = self._code_row(conn, code).id
                wanted = {root} | self._descendants(conn, root)
        codes = {c.id: c for c in self.codes()}
        paths = self.code_paths()
        people = {p.pseudonym: p.attributes for p in self.participants()}
        attr_names = sorted({k for a in people.values() for k in a})
        # Per transcript: turn ends (to find a coding's turn by binary search) and plain turn tuples.
        by_tr: dict[int, tuple[np.ndarray, list[tuple[Any, ...]]]] = {}
        for tid, g in turns.groupby("transcript_id"):
            cols = ["turn", "t_start", "speaker", "interviewer", "participant"]
            by_tr[int(tid)] = (g["tend"].to_numpy(), list(g[cols].astype(object).itertuples(index=False, name=None)))
        themes: dict[int, str] = {}
        for cid in codes:
            top = cid
            while codes[top].parent_id is not None:
                top = codes[top].parent_id
            themes[cid] = codes[top].name
        records = []
        for r in rows:
            if (r.orphaned and not include_orphans) or (wanted is not None and r.code_id not in wanted):
                continue
            turn_no = t_start = speaker = who = None
            if r.transcript_id in by_tr:
                ends, tuples = by_tr[r.transcript_id]
                pos = min(int(np.searchsorted(ends, r.start, side="right")), len(tuples) - 1)
                turn_no, t_start, speaker, interviewer, mapped = tuples[pos]
                mapped = mapped if isinstance(mapped, str) else None
                who = mapped or ("(interviewer)" if interviewer else speaker)
            records.append({
                "coding_id": r.id, "code": codes[r.code_id].name, "code_id": r.code_id, "code_path": paths[r.code_id],
                "theme": themes[r.code_id], "participant": who, "transcript": r.transcript,
                "turn": None if turn_no is None else int(turn_no), "speaker": speaker,
                "timestamp": format_timestamp(t_start if isinstance(t_start, float) else None),
                "start": r.start, "end": r.end, "text": r.quote if r.orphaned else texts[r.transcript_id][r.start:r.end],
                "coder": r.coder, "memo": r.memo, "origin": r.origin,
                **{a: people.get(who or "", {}).get(a, "") for a in attr_names},
            })
        df = pd.DataFrame(records, columns=CODING_COLUMNS + attr_names)
        if participant is not None:
            df = df[df["participant"].isin([participant] if isinstance(participant, str) else participant)]
        for key, value in (attributes or {}).items():
            if key not in df.columns:
                continue
            df = df[df[key].isin([value] if isinstance(value, str) else value)]
        return df.sort_values(["transcript", "start", "code_path"]).reset_index(drop=True)

    def theme_matrix(
        self: Any, *, level: str = "theme", presence: bool = False, participant: str | list[str] | None = None,
        attributes: dict[str, str | list[str]] | None = None,
    ) -> pd.DataFrame:
        """Themes (``level="theme"``) or code paths (``level="code"``) x participants: counts of codings,
        or 1/0 for "has at least one" (``presence=True``). Every participant gets a column."""
        df = self.codings_frame(participant=participant, attributes=attributes)
        rows_key = "theme" if level == "theme" else "code_path"
        participants = [p.pseudonym for p in self.participants()]
        if participant is not None:
            participants = [p for p in participants if p in ([participant] if isinstance(participant, str) else participant)]
        if attributes:
            keep = {p.pseudonym for p in self.participants()
                    if all(p.attributes.get(k) in ([v] if isinstance(v, str) else v) for k, v in attributes.items())}
            participants = [p for p in participants if p in keep]
        index = [c.name for c in self.codes() if c.parent_id is None] if level == "theme" else list(self.code_paths().values())
        m = pd.crosstab(df[rows_key], df["participant"]) if len(df) else pd.DataFrame()
        m = m.reindex(index=index, columns=participants, fill_value=0).fillna(0).astype(int)
        m.index.name, m.columns.name = rows_key, "participant"
        return (m > 0).astype(int) if presence else m

    def cooccurrence(self: Any, *, kind: str = "overlap", level: str = "code") -> pd.DataFrame:
        """Code x code counts of co-occurrence: spans that overlap (``kind="overlap"``) or codings in the
        same turn (``kind="turn"``). The diagonal holds each code's own count of codings."""
        df = self.codings_frame()
        key = "code_path" if level == "code" else "theme"
        labels = sorted(df[key].unique()) if len(df) else []
        pos = {label: i for i, label in enumerate(labels)}
        counts = np.zeros((len(labels), len(labels)), dtype=int)
        for _, g in df.groupby("transcript"):
            idx = g[key].map(pos).to_numpy()
            np.add.at(counts, (idx, idx), 1)
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
