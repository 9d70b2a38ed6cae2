"""Private transcription on the researcher's machine (issue 22): recordings to timed, speaker-labelled WebVTT.

``models`` finds, joins and verifies the packaged weights; ``transcribe`` decodes recordings and runs
Whisper base (faster-whisper, int8); ``speakers`` embeds each segment's voice and clusters them;
``webvtt`` writes the transcript. The service that puts it into a project is
:mod:`analysis.services.transcription`. Nothing here imports the engines until it is used.
"""
