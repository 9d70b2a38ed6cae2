"""Who spoke each segment: one voice embedding per segment, then clustering into the speakers the researcher names.

The embeddings come from Resemblyzer's speaker encoder (``resemblyzer`` 0.1.4, Apache-2.0): its bundled
weights ``pretrained.pt`` (sha256 checked, loaded with ``weights_only=True``) in a copy of its small
network (a 3-layer LSTM over 40 mel bands and a linear layer, 256 numbers per voice). The package itself is
not imported: its ``__init__`` imports ``webrtcvad`` and ``librosa``, which Storyloom does not install
(``webrtcvad`` no longer builds). The mel spectrogram is computed here as librosa computes it for
Resemblyzer (25 ms Hann windows every 10 ms, power spectrum, Slaney mel filters), after the same volume
normalisation; long silences need no trimming, since each segment is already speech found by the recogniser.

The segments' embeddings are grouped by Ward clustering into exactly the number of speakers given
(measured on synthetic interviews: 100 % of words on the right speaker for a male/female pair, 94.6 % for
two similar male voices; a speaker count guessed from the data could not tell 2 from 3, so it is asked
for). Speakers are numbered by first appearance: Speaker 1 speaks first.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.speech import models
from analysis.speech.transcribe import SAMPLE_RATE, Audio, Segment

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
PARTIAL_RATE = 1.3  # partials per second
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
MAX_SPEAKERS = 20

Vector = npt.NDArray[np.float32]
_encoder: Any = None
_lock = threading.Lock()


def _mel_filters() -> npt.NDArray[np.float64]:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40) with its defaults (Slaney scale and norm)."""
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, np.log(6.4) / 27.0

    def hz_to_mel(f: float) -> float:
        return f / f_sp if f < min_log_hz else min_log_mel + float(np.log(f / min_log_hz)) / logstep

    def mel_to_hz(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.where(m < min_log_mel, m * f_sp, min_log_hz * np.exp(logstep * (m - min_log_mel)))

    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((N_MELS, len(fft_freqs)))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights


_MEL = _mel_filters()
_WINDOW = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann, as scipy's fftbins=True


def mel_spectrogram(wav: Audio) -> Vector:
    """(frames, 40) power mel spectrogram, centred frames with zero padding (librosa >= 0.10's default)."""
    padded = np.pad(wav.astype(np.float64), N_FFT // 2)
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    power = np.abs(np.fft.rfft(padded[idx] * _WINDOW, axis=1)) ** 2
    return (power @ _MEL.T).astype(np.float32)


def _normalise_volume(wav: Audio) -> Audio:
    rms = float(np.mean(wav.astype(np.float64) ** 2))
    if rms <= 0:
        return wav
    change = TARGET_DBFS - 10 * np.log10(rms)
    return wav if change < 0 else (wav * (10 ** (change / 20))).astype(np.float32)


def _partials(n_samples: int) -> list[slice]:
    """Resemblyzer's partial utterances (mel frame ranges) for a waveform of ``n_samples``."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = max(1, int(np.round((SAMPLE_RATE / PARTIAL_RATE) / HOP)))
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)]
    last = slices[-1]
    coverage = (n_samples - last.start * HOP) / ((last.stop - last.start) * HOP)
    if coverage < MIN_COVERAGE and len(slices) > 1:
        slices = slices[:-1]
    return slices


def _network() -> Any:
    """Resemblyzer's encoder network with its bundled weights, made once per process."""
    global _encoder
    with _lock:
        if _encoder is None:
            import torch
            from torch import nn

            class VoiceEncoder(nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
                    self.linear = nn.Linear(256, 256)
                    self.relu = nn.ReLU()

                def forward(self, mels: torch.Tensor) -> torch.Tensor:
                    _, (hidden, _) = self.lstm(mels)
                    raw: torch.Tensor = self.relu(self.linear(hidden[-1]))
                    out: torch.Tensor = raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)
                    return out

            checkpoint = torch.load(models.encoder_weights(), map_location="cpu", weights_only=True)
            net = VoiceEncoder()
            state = {k: v for k, v in checkpoint["model_state"].items() if not k.startswith("similarity_")}
            net.load_state_dict(state)  # strict: every weight of the network, from the file
            net.eval()
            _encoder = net
        return _encoder


def embed(wav: Audio) -> Vector:
    """One voice embedding (256 numbers, unit length) for a stretch of speech (16 kHz mono)."""
    import torch

    wav = _normalise_volume(wav)
    slices = _partials(len(wav))
    need = slices[-1].stop * HOP
    if need >= len(wav):
        wav = np.pad(wav, (0, need - len(wav) + 1))
    mel = mel_spectrogram(wav)
    batch = np.stack([mel[s] for s in slices])
    with torch.no_grad():
        partial: Vector = _network()(torch.from_numpy(batch)).numpy()
    mean = partial.mean(axis=0)
    unit: Vector = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    return unit


def assign(audio: Audio, segments: Sequence[Segment], speakers: int) -> None:
    """Set each segment's ``speaker`` (0 .. speakers-1, numbered by first appearance)."""
    if speakers <= 1 or len(segments) < 2:
        for seg in segments:
            seg.speaker = 0
        return
    vectors = np.stack([embed(audio[int(s.start * SAMPLE_RATE):max(int(s.end * SAMPLE_RATE),
                                                                    int(s.start * SAMPLE_RATE) + HOP)])
                        for s in segments])
    if len(segments) <= speakers:
        labels = list(range(len(segments)))
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = [int(x) for x in AgglomerativeClustering(n_clusters=speakers, linkage="ward").fit_predict(vectors)]
    order: dict[int, int] = {}
    for seg, label in zip(segments, labels):
        seg.speaker = order.setdefault(label, len(order))
