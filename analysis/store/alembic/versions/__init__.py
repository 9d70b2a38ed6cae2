"""Alembic revisions, oldest first: ``0001_base`` (the v1 release's schema), ``0002_keys_targets``.

Never edit a revision that has shipped: add a new one (``down_revision`` = the current head).
"""
