"""Memos and the reflexive journal: the kinds of memo.

The service is :class:`analysis.services.memos.MemoService` (``project.memos``); its queries live in
:mod:`analysis.store.memos`.
"""

from __future__ import annotations

MEMO_KINDS = ("journal", "familiarisation", "code", "coding", "participant")
