"""Alembic migrations of the project database (``env.py`` and ``versions/``).

:meth:`analysis.store.Store._migrate` runs them in code; no ``alembic.ini`` is needed. A package only
so that the files ship with Storyloom; nothing here is imported by the library.
"""
