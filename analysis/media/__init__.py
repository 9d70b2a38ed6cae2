"""Recordings beside transcripts: the registry of media formats and the probe (PyAV, FFmpeg in its wheel).

A recording lives in the project's ``media/`` folder and is attached to one transcript
(:class:`analysis.services.media.MediaService`, ``project.media``). Nothing of it ever leaves the machine:
the workbench serves it from the local app only.
"""

from analysis.media.formats import MEDIA_FORMATS, MediaFormat, media_format_for, media_suffix_list
from analysis.media.probe import Probe, probe

__all__ = ["MEDIA_FORMATS", "MediaFormat", "Probe", "media_format_for", "media_suffix_list", "probe"]
