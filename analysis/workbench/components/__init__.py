"""Custom Components v2 used by the workbench pages (no build step, no iframe)."""
