"""Pure rules of the method: no store, no services, no I/O (tests/system/test_layering.py)."""
