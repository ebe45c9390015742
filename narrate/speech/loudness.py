"""Loudness measurement and normalisation for mono audio (ITU-R BS.1770-4, EBU R128).

Every function takes a 1-D numpy array: ``int16`` samples (full scale 32768) or floating
point samples (full scale 1.0). Loudness is in LUFS, true peak in dBTP, both relative to
full scale.

* :func:`integrated_loudness`: K-weighting, 400 ms blocks with 75 % overlap, absolute gate
  at -70 LUFS, relative gate at -10 LU. Silence, and audio shorter than one block, measure
  ``-inf`` (:data:`SILENCE`).
* :func:`true_peak`: oversampling as in BS.1770-4 Annex 2: 4x at 48 kHz, and to at least
  192 kHz at lower rates (9x at 22050 Hz; see :func:`oversampling_factor`).
* :func:`normalize`: gain to a target loudness plus a look-ahead true-peak limiter, for a
  whole chapter.

All of it is vectorised and streams through the audio in pieces, so an hour of 22050 Hz
audio (80 million samples) normalises in seconds without gigabytes of temporary arrays.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import correlate1d, maximum_filter1d, uniform_filter1d
from scipy.signal import resample_poly, sosfilt

logger = logging.getLogger(__name__)

#: What the measurements return for silence (and integrated loudness for audio too short to
#: hold one 400 ms block): minus infinity, so comparisons and ``math.isfinite`` work.
SILENCE = float("-inf")

BLOCK_SECONDS = 0.4
STEP_SECONDS = 0.1  # 75 % overlap: a block every 100 ms
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
#: BS.1770's constant that makes a 997 Hz full-scale sine measure -3.01 LUFS at 48 kHz.
LOUDNESS_OFFSET = -0.691
#: BS.1770-4's oversampling factor for true peak at 48 kHz; see :func:`oversampling_factor`.
OVERSAMPLING = 4
_TRUE_PEAK_RATE = 192000

INT16_FULL_SCALE = 32768.0

# The K-weighting filter as analog prototype parameters (centre frequency, gain, Q), the
# values that reproduce the 48 kHz coefficient table of BS.1770-4. Deriving the biquads
# from these keeps the curve right at 22050 Hz, where the 48 kHz table would be wrong.
_SHELF_FREQUENCY = 1681.974450955533
_SHELF_GAIN_DB = 3.999843853973347
_SHELF_Q = 0.7071752369554196
_SHELF_BANDWIDTH_EXPONENT = 0.4996667741545416
_HIGHPASS_FREQUENCY = 38.13547087602444
_HIGHPASS_Q = 0.5003270373238773

# Limiter shape. The attack ramp is also the look-ahead: gain starts falling this long
# before a peak and reaches the needed reduction exactly at it.
_ATTACK_SECONDS = 0.005
# Release as a slope in dB: linear in dB sounds even, and lets the release be computed with
# a running maximum instead of a per-sample recursion.
_RELEASE_DB_PER_SECOND = 40.0
# Aim a little under the ceiling: the gain changes smoothly but not instantly, so the
# oversampled peak of the limited signal can differ a hair from gain x envelope.
_CEILING_MARGIN_DB = 0.05
_LOUDNESS_TOLERANCE_LU = 0.05  # internal aim; the promise is 0.5 LU
_PROMISED_TOLERANCE_LU = 0.5
_MAX_ITERATIONS = 16

# True peak works on chunks, so that chunks which cannot hold the peak are skipped and
# memory stays small. The margin covers the interpolation filter's reach on each side
# (resample_poly's filter spans 10 input samples either way, whatever the factor).
_CHUNK = 1024
_MARGIN = 16
_CHUNKS_PER_BATCH = 256
_WORKERS = min(4, os.cpu_count() or 1)

# Callers hand over this many chunks at a time: enough batches for every worker thread,
# few enough that the envelopes in hand stay small.
_CHUNKS_PER_GROUP = _CHUNKS_PER_BATCH * _WORKERS * 4
# Streaming passes (filtering, rendering) work on pieces of this many samples.
_PIECE = 1 << 20


def set_threads(count: int) -> None:
    """Use at most ``count`` threads for true peaks (1 in worker processes, which already
    keep every core busy)."""
    global _WORKERS
    _WORKERS = max(1, min(4, count))


def k_weighting_filter(rate: int) -> np.ndarray:
    """Return the BS.1770 K-weighting filter for ``rate`` Hz as second-order sections.

    Two biquads: the high-frequency shelf ("pre-filter") and the RLB high-pass, each derived
    from its analog prototype with the bilinear transform, pre-warped at its own frequency.
    At 48 kHz the coefficients equal the table in BS.1770-4.
    """
    k = math.tan(math.pi * _SHELF_FREQUENCY / rate)
    shelf_gain = 10.0 ** (_SHELF_GAIN_DB / 20.0)
    band_gain = shelf_gain**_SHELF_BANDWIDTH_EXPONENT
    a0 = 1.0 + k / _SHELF_Q + k * k
    shelf = [
        (shelf_gain + band_gain * k / _SHELF_Q + k * k) / a0,
        2.0 * (k * k - shelf_gain) / a0,
        (shelf_gain - band_gain * k / _SHELF_Q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / _SHELF_Q + k * k) / a0,
    ]
    k = math.tan(math.pi * _HIGHPASS_FREQUENCY / rate)
    a0 = 1.0 + k / _HIGHPASS_Q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _HIGHPASS_Q + k * k) / a0]
    return np.array([shelf, highpass])


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Return the gated integrated loudness of mono ``samples`` in LUFS (BS.1770-4).

    Returns :data:`SILENCE` (``-inf``) when no 400 ms block passes the absolute gate: silence,
    audio quieter than -70 LUFS throughout, or audio shorter than one block.
    """
    steps, _ = _weighted_pass(_checked(samples), rate, keep=False)
    return steps.loudness(ungated_fallback=False)


def piece_loudness(samples: np.ndarray, rate: int) -> float:
    """Return the loudness of a short piece in LUFS, for pieces that may be under 400 ms.

    Pieces of at least one block use the gated integrated loudness. Shorter ones (and longer
    ones no block of which passes the gate) use the ungated K-weighted mean square over the
    whole piece; that too is :data:`SILENCE` if it is below the -70 LUFS absolute gate.
    """
    steps, _ = _weighted_pass(_checked(samples), rate, keep=False)
    return steps.loudness(ungated_fallback=True)


def true_peak(samples: np.ndarray, rate: int, oversampling: int | None = None) -> float:
    """Return the true peak of mono ``samples`` in dBTP (``-inf`` for silence).

    The signal is oversampled with ``scipy.signal.resample_poly``'s interpolation filter and
    the largest absolute value of the oversampled signal is taken, as in BS.1770-4 Annex 2.
    The factor is ``oversampling`` if given, else :func:`oversampling_factor` of ``rate``
    (4 at 48 kHz, 9 at 22050 Hz).
    """
    factor = oversampling or oversampling_factor(rate)
    peak = _true_peak_linear(_checked(samples), _interpolator(factor))
    return 20.0 * math.log10(peak) if peak > 0 else SILENCE


def normalize(
    samples: np.ndarray,
    rate: int,
    target_lufs: float = -19.0,
    max_true_peak: float = -1.5,
    oversampling: int | None = None,
) -> np.ndarray:
    """Return ``samples`` brought to ``target_lufs`` with true peak at most ``max_true_peak``.

    A gain takes the audio to the target, then a look-ahead limiter lowers the gain around
    peaks that would exceed the ceiling; since limiting lowers the loudness a little, the
    gain is adjusted and the process repeated until the loudness is within 0.05 LU of the
    target (the promise is 0.5 LU) and the measured true peak of the result is under the
    ceiling. The ceiling always holds; if the target cannot be reached under it (a target
    close to the ceiling), the closest result is returned and a warning logged.

    ``int16`` input gives ``int16`` output (rounded); floating-point input gives the same
    floating-point type, full scale 1.0. Silence is returned unchanged (as a copy). Audio
    shorter than one 400 ms block is measured as in :func:`piece_loudness`.

    True peaks are found by oversampling ``oversampling`` times (default: as
    :func:`true_peak`); a smaller factor is much faster and under-reads peaks between its
    points a little, which a lower ceiling makes up for.
    """
    factor = oversampling or oversampling_factor(rate)
    return _normalize(_checked(samples), rate, target_lufs, max_true_peak, factor)


# --- samples ---------------------------------------------------------------------------


def _checked(samples: np.ndarray) -> np.ndarray:
    array = np.asarray(samples)
    if array.ndim != 1:
        raise ValueError(f"expected mono samples (a 1-D array), got shape {array.shape}")
    if array.dtype != np.int16 and not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"expected int16 or floating-point samples, got {array.dtype}")
    return array


def _full_scale(array: np.ndarray) -> float:
    return INT16_FULL_SCALE if array.dtype == np.int16 else 1.0


def _float_slice(array: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Return ``array[start:stop]`` as float32 with full scale 1.0 (maybe a view: read only)."""
    piece = array[start:stop]
    if piece.dtype == np.float32:
        return piece
    result = piece.astype(np.float32)
    if array.dtype == np.int16:
        result *= np.float32(1.0 / INT16_FULL_SCALE)
    return result


# --- loudness --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Steps:
    """K-weighted energy per 100 ms step: what gating needs, in a few numbers a second.

    ``sums[j]`` is the sum of squared K-weighted samples over ``[edges[j], edges[j + 1])``;
    the last entry is the tail after the last whole step.
    """

    sums: np.ndarray
    edges: np.ndarray
    length: int

    def scaled(self, factor: float, corrections: np.ndarray | None = None) -> _Steps:
        """Return the steps of the signal times a gain (power ``factor``), corrected."""
        sums = self.sums if corrections is None else self.sums + corrections
        return _Steps(sums * factor, self.edges, self.length)

    def loudness(self, ungated_fallback: bool) -> float:
        """Return the gated loudness; or, when no block passes, maybe the ungated one."""
        per_block = round(BLOCK_SECONDS / STEP_SECONDS)
        steps = len(self.sums) - 1
        loudness = SILENCE
        if steps >= per_block:
            count = steps - per_block + 1
            window = self.sums[:count].copy()
            for offset in range(1, per_block):
                window += self.sums[offset : offset + count]
            lengths = self.edges[per_block : per_block + count] - self.edges[:count]
            loudness = _gated_loudness(window / lengths)
        if math.isfinite(loudness) or not ungated_fallback or self.length == 0:
            return loudness
        ungated = _power_to_lufs(float(self.sums.sum()) / self.length)
        return ungated if ungated > ABSOLUTE_GATE_LUFS else SILENCE


def _step_edges(length: int, rate: int) -> np.ndarray:
    """Return the edges of the 100 ms steps, then ``length`` (the end of the tail)."""
    step = rate * STEP_SECONDS
    count = int(length // step)
    # Rounded to samples, so rates whose 100 ms is not a whole number of samples (11025 Hz)
    # still get steps of the right length on average.
    edges = np.rint(np.arange(count + 1) * step).astype(np.int64)
    while count and edges[-1] > length:
        count -= 1
        edges = edges[:-1]
    return np.append(edges, length)


def _weighted_pass(array: np.ndarray, rate: int, keep: bool) -> tuple[_Steps, np.ndarray | None]:
    """K-weight the signal piece by piece; return the step energies (and the signal if kept).

    Squares are summed in float64: float32 sums over a step would lose precision, and a
    float64 copy of an hour of audio would cost 640 MB.
    """
    sos = k_weighting_filter(rate).astype(np.float32)
    state = np.zeros((len(sos), 2), dtype=np.float32)
    edges = _step_edges(len(array), rate)
    sums = np.zeros(len(edges) - 1)
    weighted = np.empty(len(array), dtype=np.float32) if keep else None
    group = max(1, _PIECE // max(1, int(rate * STEP_SECONDS)))
    steps = len(sums) - 1
    # Whole steps a group at a time, then the tail: in order, as the filter state runs on.
    spans = [(first, min(steps, first + group)) for first in range(0, steps, group)]
    spans.append((steps, steps + 1))
    for first, last in spans:
        start, stop = int(edges[first]), int(edges[last])
        if stop == start:
            continue
        piece, state = sosfilt(sos, _float_slice(array, start, stop), zi=state)
        if weighted is not None:
            weighted[start:stop] = piece
        sums[first:last] = np.add.reduceat(
            np.square(piece, dtype=np.float64), edges[first:last] - start
        )
    return _Steps(sums, edges, len(array)), weighted


def _power_to_lufs(mean_square: float) -> float:
    return LOUDNESS_OFFSET + 10.0 * math.log10(mean_square) if mean_square > 0 else SILENCE


def _gated_loudness(block_powers: np.ndarray) -> float:
    """Apply the absolute and relative gates to block powers and return LUFS."""
    absolute_threshold = 10.0 ** ((ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET) / 10.0)
    loud_enough = block_powers[block_powers > absolute_threshold]
    if len(loud_enough) == 0:
        return SILENCE
    relative_threshold = float(np.mean(loud_enough)) * 10.0 ** (RELATIVE_GATE_LU / 10.0)
    gated = loud_enough[loud_enough > relative_threshold]
    return _power_to_lufs(float(np.mean(gated)))


# --- true peak -------------------------------------------------------------------------


def oversampling_factor(rate: int) -> int:
    """Return the true-peak oversampling factor used at ``rate`` Hz.

    BS.1770-4 Annex 2 oversamples 48 kHz audio 4x, to 192 kHz. At lower rates 4x is not
    enough: at 22050 Hz it reaches only 88.2 kHz and under-reads peaks near the Nyquist
    frequency by up to 0.69 dB (measured 0.35 dB on limited speech against ffmpeg's 192 kHz
    meter, because a limiter working on a 4x grid leaves the peaks between its points). So
    the factor is 4, or whatever reaches 192 kHz at lower rates (9 at 22050 Hz).
    """
    return max(OVERSAMPLING, math.ceil(_TRUE_PEAK_RATE / rate))


@dataclass(frozen=True)
class _Interpolator:
    """resample_poly's interpolation filter for one factor, split into polyphase branches.

    ``zero_tap`` is branch 0's only tap (the original sample positions); ``branches`` are
    correlation weights for the points between samples. Taking the filter from
    resample_poly's own impulse response keeps the oversampled values equal to
    ``resample_poly(x, factor, 1)`` while computing them more cheaply: one 21-tap
    correlation per branch at the original rate. ``bound`` is how much larger than the
    local sample peak an oversampled value can be: the largest sum of absolute taps of one
    branch (about 2.24).
    """

    zero_tap: float
    branches: tuple[np.ndarray, ...]
    bound: float


@functools.lru_cache(maxsize=8)
def _interpolator(factor: int) -> _Interpolator:
    probe = np.zeros(4 * _MARGIN + 1)
    probe[2 * _MARGIN] = 1.0
    response = resample_poly(probe, factor, 1)
    centre = factor * 2 * _MARGIN
    reach = factor * _MARGIN
    branches = []
    for phase in range(1, factor):
        taps = response[centre + phase - reach : centre + phase + reach + 1 : factor]
        # The filter reaches 10 input samples either way: drop the zero taps beyond (in
        # pairs, to keep the weights centred), as they would cost time for nothing.
        while len(taps) > 1 and taps[0] == 0.0 and taps[-1] == 0.0:
            taps = taps[1:-1]
        # Correlation runs the taps the other way round from the impulse response.
        branches.append(np.ascontiguousarray(taps[::-1], dtype=np.float32))
    zero_tap = float(response[centre])
    bound = max(abs(zero_tap), *(float(np.abs(taps).sum()) for taps in branches))
    return _Interpolator(zero_tap, tuple(branches), bound)


def _chunk_peaks(array: np.ndarray) -> np.ndarray:
    """Return, per chunk, the sample peak (full scale 1) over the chunk and its neighbours."""
    chunks = -(-len(array) // _CHUNK)
    whole = len(array) // _CHUNK
    peaks = np.zeros(chunks, dtype=np.float32)
    if whole:
        body = array[: whole * _CHUNK].reshape(whole, _CHUNK)
        # int16 extremes widened before negating: -(-32768) does not fit in int16.
        highs = body.max(axis=1).astype(np.float32)
        lows = body.min(axis=1).astype(np.float32)
        peaks[:whole] = np.maximum(highs, -lows)
    if chunks > whole:
        peaks[whole] = np.max(np.abs(array[whole * _CHUNK :].astype(np.float32)))
    peaks /= np.float32(_full_scale(array))
    # Interpolated values near a chunk edge depend on samples in the next chunk.
    widened = peaks.copy()
    widened[1:] = np.maximum(widened[1:], peaks[:-1])
    widened[:-1] = np.maximum(widened[:-1], peaks[1:])
    return widened


class _Oversampler:
    """Computes the true-peak envelope of chunks of one signal.

    Sample n's envelope value is the largest absolute value of the oversampled signal at n
    and at the points between n and n + 1 (full scale 1).
    """

    def __init__(self, array: np.ndarray, interpolator: _Interpolator) -> None:
        self.array = array
        self.interpolator = interpolator
        self.span = _CHUNK + 2 * _MARGIN
        self.windows = (
            np.lib.stride_tricks.sliding_window_view(array, self.span)
            if len(array) >= self.span
            else None
        )

    def _batch(self, chunk_indices: np.ndarray) -> np.ndarray:
        """Return the chunks with their margins as float32 rows, zeros outside the signal."""
        starts = chunk_indices.astype(np.int64) * _CHUNK - _MARGIN
        batch = np.zeros((len(chunk_indices), self.span), dtype=np.float32)
        inside = (starts >= 0) & (starts + self.span <= len(self.array))
        if self.windows is not None and inside.any():
            batch[inside] = self.windows[starts[inside]]
        for row in np.flatnonzero(~inside):
            first = max(0, int(starts[row]))
            last = min(len(self.array), int(starts[row]) + self.span)
            if last > first:
                batch[row, first - starts[row] : last - starts[row]] = self.array[first:last]
        if self.array.dtype == np.int16:
            batch *= np.float32(1.0 / INT16_FULL_SCALE)
        return batch

    def envelopes(self, chunk_indices: np.ndarray) -> np.ndarray:
        """Return the envelope of the given chunks, shape (len(chunk_indices), _CHUNK)."""
        result = np.empty((len(chunk_indices), _CHUNK), dtype=np.float32)
        firsts = range(0, len(chunk_indices), _CHUNKS_PER_BATCH)

        def compute(first: int) -> None:
            indices = chunk_indices[first : first + _CHUNKS_PER_BATCH]
            batch = self._batch(indices)
            envelope = result[first : first + len(indices)]
            np.abs(batch[:, _MARGIN : _MARGIN + _CHUNK], out=envelope)
            envelope *= np.float32(abs(self.interpolator.zero_tap))
            branch = np.empty_like(batch)
            for taps in self.interpolator.branches:
                correlate1d(batch, taps, axis=1, output=branch, mode="constant")
                np.abs(branch, out=branch)
                np.maximum(envelope, branch[:, _MARGIN : _MARGIN + _CHUNK], out=envelope)

        # The filtering releases the GIL, and batches write disjoint rows: threads give
        # a near-linear speed-up on this, the costliest step of normalising.
        if len(firsts) > 1 and _WORKERS > 1:
            with ThreadPoolExecutor(max_workers=_WORKERS) as executor:
                list(executor.map(compute, firsts))
        else:
            for first in firsts:
                compute(first)
        # Past the last sample there is only the filter's ringing into the zero padding,
        # which resample_poly's output does not include either.
        tail = len(self.array) - chunk_indices.astype(np.int64) * _CHUNK
        for row in np.flatnonzero(tail < _CHUNK):
            result[row, max(0, tail[row]) :] = 0.0
        return result


def _true_peak_linear(
    array: np.ndarray, interpolator: _Interpolator, known: np.ndarray | None = None
) -> float:
    """Return the linear true peak, oversampling only chunks that could hold it.

    ``known``, if given, holds per chunk a value already known to bound that chunk's true
    peak tightly (NaN where unknown); such chunks are not oversampled.
    """
    if len(array) == 0:
        return 0.0
    bounds = _chunk_peaks(array) * np.float32(interpolator.bound)
    best = 0.0
    if known is not None:
        have = ~np.isnan(known)
        if have.any():
            best = float(known[have].max())
        bounds[have] = 0.0
    order = np.argsort(bounds)[::-1]
    order = order[bounds[order] > best]
    oversampler = _Oversampler(array, interpolator)
    for first in range(0, len(order), _CHUNKS_PER_GROUP):
        # Chunks in order of their bound: once a bound is below the best value found, no
        # later chunk can beat it.
        candidates = order[first : first + _CHUNKS_PER_GROUP]
        candidates = candidates[bounds[candidates] > best]
        if len(candidates) == 0:
            break
        best = max(best, float(oversampler.envelopes(candidates).max()))
    return best


# --- normalisation ---------------------------------------------------------------------


class _Limiting:
    """A limiter's gain: stretches of gain below 1, in order, and exactly 1 elsewhere."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.gains: list[np.ndarray] = []

    def ends(self) -> list[int]:
        return [start + len(gain) for start, gain in zip(self.starts, self.gains, strict=True)]

    def apply(self, piece: np.ndarray, offset: int) -> None:
        """Multiply ``piece`` (samples from ``offset`` on) by the limiter gain, in place."""
        stop = offset + len(piece)
        index = bisect.bisect_right(self.starts, offset) - 1
        index = max(index, 0)
        while index < len(self.starts) and self.starts[index] < stop:
            start, gain = self.starts[index], self.gains[index]
            first, last = max(start, offset), min(start + len(gain), stop)
            if last > first:
                piece[first - offset : last - offset] *= gain[first - start : last - start]
            index += 1

    def step_corrections(self, weighted: np.ndarray, edges: np.ndarray) -> np.ndarray:
        """Return how much the limiter changes each step's K-weighted energy.

        Treats the limiter gain as applied after K-weighting: exact for a constant gain and
        very close for one that changes over milliseconds, so the gain can be found without
        filtering the whole signal again for every try.
        """
        corrections = np.zeros(len(edges) - 1)
        for start, gain in zip(self.starts, self.gains, strict=True):
            stop = start + len(gain)
            values = weighted[start:stop].astype(np.float64)
            change = np.square(values) * (np.square(gain.astype(np.float64)) - 1.0)
            first = int(np.searchsorted(edges, start, side="right")) - 1
            last = int(np.searchsorted(edges, stop - 1, side="right")) - 1
            local = np.maximum(edges[first : last + 1] - start, 0)
            corrections[first : last + 1] += np.add.reduceat(change, local)
        return corrections

    def touched_chunks(self, chunks: int) -> np.ndarray:
        """Return which chunks the limiter, or a neighbouring chunk's limiting, affects."""
        marks = np.zeros(chunks + 1, dtype=np.int32)
        if self.starts:
            starts = np.array(self.starts, dtype=np.int64)
            ends = np.array(self.ends(), dtype=np.int64)
            # +1 where a stretch's chunks begin, -1 after they end; a running sum marks them.
            np.add.at(marks, starts // _CHUNK, 1)
            np.add.at(marks, (ends - 1) // _CHUNK + 1, -1)
        inside = np.cumsum(marks[:chunks]) > 0
        widened = inside.copy()
        widened[1:] |= inside[:-1]
        widened[:-1] |= inside[1:]
        return widened


class _Envelope:
    """The true-peak envelope of a signal where it matters, computed lazily.

    A chunk whose sample peak times the interpolation bound stays under the level in
    question cannot need limiting, so it is never oversampled. Of the chunks computed only
    the maxima and the samples near or above the level are kept: the level moves by a
    fraction of a dB between tries, and the full envelope would cost as much memory as the
    signal.
    """

    # Samples kept reach this far below the level asked for, so that the next tries (whose
    # level is a little lower) need no oversampling again.
    KEEP_BELOW_DB = 2.0

    def __init__(self, array: np.ndarray, interpolator: _Interpolator) -> None:
        self.oversampler = _Oversampler(array, interpolator)
        self.bounds = _chunk_peaks(array) * np.float32(interpolator.bound)
        self.known = np.zeros(len(self.bounds), dtype=bool)
        self.chunk_maxima = np.zeros(len(self.bounds), dtype=np.float32)
        self.kept_level = math.inf
        self.positions = np.empty(0, dtype=np.int64)
        self.values = np.empty(0, dtype=np.float32)

    def over(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Return the sample positions whose envelope exceeds ``level``, and those values."""
        if level < self.kept_level:
            self._keep(level * 10.0 ** (-self.KEEP_BELOW_DB / 20.0))
        selected = self.values > level
        return self.positions[selected], self.values[selected]

    def _keep(self, level: float) -> None:
        # Chunks whose bound is over the level are (re)computed: those computed before kept
        # only the samples above the previous, higher level.
        wanted = np.flatnonzero(self.bounds > level)
        positions: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for first in range(0, len(wanted), _CHUNKS_PER_GROUP):
            indices = wanted[first : first + _CHUNKS_PER_GROUP]
            envelopes = self.oversampler.envelopes(indices)
            self.chunk_maxima[indices] = envelopes.max(axis=1)
            rows, columns = np.nonzero(envelopes > level)
            positions.append(indices[rows].astype(np.int64) * _CHUNK + columns)
            values.append(envelopes[rows, columns])
        self.known[wanted] = True
        self.kept_level = level
        self.positions = np.concatenate([np.empty(0, dtype=np.int64), *positions])
        self.values = np.concatenate([np.empty(0, dtype=np.float32), *values])

    def peak_bounds(self, gain: float, limiting: _Limiting, slack: float) -> np.ndarray:
        """Return per chunk a bound on the true peak of the gained and limited signal.

        Where the limiter leaves a chunk and its neighbours alone, the oversampled result is
        just ``gain`` times the oversampled signal, so the envelope already computed (or
        the chunk's bound, when it was never needed) gives the peak without oversampling
        again. Elsewhere the result is NaN: unknown. ``slack`` covers the rounding of the
        output samples.
        """
        bounds = np.where(self.known, self.chunk_maxima, self.bounds) * np.float32(gain)
        bounds += np.float32(slack)
        bounds[limiting.touched_chunks(len(bounds))] = np.nan
        return bounds


def _limiter(envelope: _Envelope, length: int, gain: float, ceiling: float, rate: int) -> _Limiting:
    """Return the limiter keeping ``gain`` x the true-peak envelope under ``ceiling``.

    Only the stretches around peaks over the ceiling are computed: each such sample lowers
    the gain from one attack time before it to the end of its release, and overlapping
    stretches are merged and computed as one.
    """
    limiting = _Limiting()
    over, peaks = envelope.over(ceiling / gain)
    if len(over) == 0:
        return limiting
    attenuation = 20.0 * np.log10(peaks.astype(np.float64) * gain / ceiling)
    attack = max(1, round(_ATTACK_SECONDS * rate))
    release_per_sample = _RELEASE_DB_PER_SECOND / rate
    starts = np.maximum(over - attack, 0)
    ends = np.minimum(over + attack + np.ceil(attenuation / release_per_sample) + 2, length)
    ends = np.maximum.accumulate(ends.astype(np.int64))
    # A new stretch begins where a start lies beyond every earlier end.
    new_stretch = np.ones(len(over), dtype=bool)
    new_stretch[1:] = starts[1:] > ends[:-1]
    stretch_firsts = np.flatnonzero(new_stretch)
    stretch_lasts = np.append(stretch_firsts[1:], len(over)) - 1
    for first, last in zip(stretch_firsts, stretch_lasts, strict=True):
        begin, end = int(starts[first]), int(ends[last])
        needed = np.zeros(end - begin)
        needed[over[first : last + 1] - begin] = attenuation[first : last + 1]
        # Look-ahead maximum over the attack time, then a moving average over the same
        # time behind: every sample of the average window saw the peak, so the gain is
        # fully down at the peak and ramps linearly (in dB) into it.
        held = maximum_filter1d(needed, attack, mode="constant", origin=-(attack // 2))
        ramped = uniform_filter1d(held, attack, mode="constant", origin=(attack - 1) // 2)
        # Release: the attenuation falls by at most release_per_sample each sample, i.e.
        # out[n] = max over k <= n of (ramped[k] - release * (n - k)), a running maximum.
        slope = release_per_sample * np.arange(end - begin)
        released = np.maximum.accumulate(ramped + slope) - slope
        limiting.starts.append(begin)
        limiting.gains.append((10.0 ** (-np.maximum(released, 0.0) / 20.0)).astype(np.float32))
    return limiting


def _render(array: np.ndarray, gain: float, limiting: _Limiting) -> np.ndarray:
    """Return the signal times the gain and the limiter, in the input's sample type."""
    output = np.empty(len(array), dtype=array.dtype)
    scale = np.float32(gain * _full_scale(array))
    for start in range(0, len(array), _PIECE):
        piece = _float_slice(array, start, start + _PIECE) * scale
        limiting.apply(piece, start)
        if array.dtype == np.int16:
            np.rint(piece, out=piece)
            np.clip(piece, -32768, 32767, out=piece)
        output[start : start + len(piece)] = piece
    return output


def _normalize(
    array: np.ndarray, rate: int, target_lufs: float, max_true_peak: float, factor: int
) -> np.ndarray:
    steps, weighted = _weighted_pass(array, rate, keep=True)
    assert weighted is not None
    measured = steps.loudness(ungated_fallback=True)
    if not math.isfinite(measured):
        return array.copy()
    interpolator = _interpolator(factor)
    # Rounding to int16 moves each sample by up to half a step; interpolation can add up
    # such errors from neighbouring samples.
    slack = interpolator.bound * 0.5 / INT16_FULL_SCALE if array.dtype == np.int16 else 1e-6
    ceiling_limit = 10.0 ** (max_true_peak / 20.0)
    aim_ceiling_db = max_true_peak - _CEILING_MARGIN_DB
    gain_db = target_lufs - measured
    # Most speech needs no limiting at all: when the plain gain keeps the true peak under
    # the ceiling, the gain alone gives the target exactly. (The true peak oversamples only
    # the chunks that could hold it, so this costs little.)
    gain = 10.0 ** (gain_db / 20.0)
    if _true_peak_linear(array, interpolator) * gain + slack <= 10.0 ** (aim_ceiling_db / 20.0):
        return _render(array, gain, _Limiting())
    envelope = _Envelope(array, interpolator)
    history: list[tuple[float, float]] = []  # (gain dB, resulting loudness)
    # Each try's loudness is first estimated from the step energies (see
    # _Limiting.step_corrections); only a candidate is rendered and measured exactly, and
    # the estimate corrected by the difference.
    correction = 0.0
    best: np.ndarray | None = None
    best_error = math.inf
    for _ in range(_MAX_ITERATIONS):
        gain = 10.0 ** (gain_db / 20.0)
        ceiling = 10.0 ** (aim_ceiling_db / 20.0)
        limiting = _limiter(envelope, len(array), gain, ceiling, rate)
        changes = limiting.step_corrections(weighted, steps.edges)
        estimate = steps.scaled(gain * gain, changes).loudness(True) + correction
        if abs(target_lufs - estimate) > _LOUDNESS_TOLERANCE_LU:
            history.append((gain_db, estimate))
            gain_db += (target_lufs - estimate) / _loudness_slope(history)
            continue
        output = _render(array, gain, limiting)
        known = envelope.peak_bounds(gain, limiting, slack)
        peak = _true_peak_linear(output, interpolator, known)
        if peak > ceiling_limit:
            # The smooth gain let a peak through by a hair: aim lower and redo this gain.
            aim_ceiling_db -= 20.0 * math.log10(peak) - max_true_peak + _CEILING_MARGIN_DB
            continue
        loudness = piece_loudness(output, rate)
        correction += loudness - estimate
        error = target_lufs - loudness
        if abs(error) < best_error:
            best, best_error = output, abs(error)
        if abs(error) <= _LOUDNESS_TOLERANCE_LU:
            return output
        history.append((gain_db, loudness))
        gain_db += error / _loudness_slope(history)
    if best_error > _PROMISED_TOLERANCE_LU:
        logger.warning(
            "loudness target %.1f LUFS not reached under a %.1f dBTP ceiling (off by %.2f LU)",
            target_lufs,
            max_true_peak,
            best_error,
        )
    if best is None:
        # No candidate passed both checks in time (a target far above what the ceiling
        # allows): fall back to a plain gain that puts the true peak at the ceiling.
        peak_db = 20.0 * math.log10(_true_peak_linear(array, interpolator))
        return _render(array, 10.0 ** ((aim_ceiling_db - peak_db) / 20.0), _Limiting())
    return best


def _loudness_slope(history: list[tuple[float, float]]) -> float:
    """Return dLoudness/dGain estimated from the last two tries (1 before there are two)."""
    if len(history) < 2:
        return 1.0
    (gain_before, loudness_before), (gain_now, loudness_now) = history[-2], history[-1]
    if abs(gain_now - gain_before) < 1e-6:
        return 1.0
    # Limiting makes loudness grow slower than gain, never faster; the floor stops a
    # saturated limiter from sending the gain to infinity.
    return min(1.0, max(0.2, (loudness_now - loudness_before) / (gain_now - gain_before)))
