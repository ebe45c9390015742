"""MP3 encoding: mono CBR with lameenc, plus the Xing "Info" frame and LAME tag it lacks.

lameenc's output starts straight with audio frames. Without an Info frame players must guess
the duration from the file size, and gapless players cannot trim the encoder delay and end
padding, so :func:`encode_mp3` builds that frame itself, as LAME's command line would:

* an MPEG audio frame with the audio frames' header (version, layer III, bitrate, sample
  rate, mono, no CRC) and zeroed side information, so a decoder that knows nothing of tags
  plays it as one frame of silence;
* the Xing tag, spelled "Info" as LAME does for CBR, with frame count, byte count, a
  100-entry seek table (TOC) and a quality value. The frame count is of the audio frames
  only, the byte count includes the Info frame: LAME's convention, which mutagen and ffmpeg
  rely on;
* LAME's extension: version string, encoder delay and end padding (12 bits each), music
  length and CRC-16s of the audio and of the tag.

Bitrates: MPEG-2 layer III (16, 22.05, 24 kHz) allows 8-160 kbit/s, MPEG-1 (32, 44.1,
48 kHz) 32-320. For 22050 Hz speech a bitrate only MPEG-1 has (192, 224, 256, 320) is
honoured by upsampling 2x to 44100 Hz and encoding MPEG-1: the upsampled audio holds exactly
the same sound, and asking for such a bitrate already means asking for a file that large;
refusing would only make the user look up another number. Other bitrates are refused with
the list of valid ones. LAME is told to keep the input's sample rate: left alone it resamples
low bitrates (16 kbit/s at 22050 Hz comes out at 16000 Hz).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lameenc
import numpy as np

from narrate.atomic import renamed_into_place, write_atomically
from narrate.errors import EXIT_USAGE, NarrateError

#: Layer III bitrates in kbit/s, in header index order (index 0, "free", is not used).
MPEG1_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MPEG2_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
#: Sample rates in header index order, per MPEG version.
MPEG1_RATES = (44100, 48000, 32000)
MPEG2_RATES = (22050, 24000, 16000)
MPEG25_RATES = (11025, 12000, 8000)

DEFAULT_BITRATE = 64
#: LAME's ``-q``: 0 slowest, 9 fastest. Measured on 22 minutes of narrate's speech (three
#: voices, 64 kbit/s, decoded with miniaudio): encoding took 2.45 s at 2, 1.18 s at 5 and
#: 0.67 s at 7; wideband PESQ (ITU-T P.862.2, at 16 kHz; 4.64 is the ceiling) was 4.34,
#: 4.44 and 4.47, and the signal-to-noise ratio 21.4, 23.5 and 24.9 dB. At this bitrate on
#: synthetic speech, 7 (no psychoacoustic model) is both the fastest and the closest. Its
#: log-spectral distance below 7 kHz is larger (8.0 dB against 5.9 at 5): it leaves less
#: shaped noise in the quiet bands, which PESQ does not weigh against it.
DEFAULT_QUALITY = 7

#: The encoder delay LAME 3.100 stores, and the delay its output really has (checked by
#: cross-correlating decoded and input audio: 576 + the decoder's 529 samples).
ENCODER_DELAY = 576
#: What an MP3 decoder adds in front of that (the synthesis filter bank's delay).
DECODER_DELAY = 529
#: The version string of the LAME inside lameenc, written into the tag.
LAME_VERSION = b"LAME3.100"

_VERSION_MPEG1 = 3
_VERSION_MPEG2 = 2
_VERSION_MPEG25 = 0
_LAYER_III = 1
_MODE_MONO = 3

_XING_FLAGS = 0x0F  # frames, bytes, TOC and quality fields present
_XING_SIZE = 120  # "Info", flags, frames, bytes, 100-byte TOC, quality
_LAME_SIZE = 36
_VBR_METHOD_CBR = 1
# LAME's quality field for CBR is 100 - 10 * VBR quality - quality, with its default
# VBR quality of 4 (VbrTag.c); mutagen decodes the two back from it.
_LAME_DEFAULT_VBR_QUALITY = 4


@dataclass(frozen=True)
class EncodedInfo:
    """What :func:`encode_mp3` wrote.

    ``duration`` is the audio's length in seconds (the input samples, exactly what gapless
    players play); ``frames`` counts the audio frames, not the Info frame; ``bytes`` is the
    file size, Info frame included; ``sample_rate`` and ``bitrate`` (kbit/s) are the MP3's.
    """

    path: Path
    duration: float
    frames: int
    bytes: int
    sample_rate: int
    bitrate: int


def valid_bitrates(rate: int) -> tuple[int, ...]:
    """Return the bitrates (kbit/s) :func:`encode_mp3` accepts for audio at ``rate`` Hz."""
    if rate in MPEG1_RATES:
        return MPEG1_BITRATES
    if rate in MPEG2_RATES:
        return tuple(sorted(set(MPEG2_BITRATES) | set(MPEG1_BITRATES)))
    if rate in MPEG25_RATES:
        return MPEG2_BITRATES
    return ()


def check_bitrate(bitrate: int, rate: int) -> None:
    """Refuse (exit 2, naming the valid ones) a bitrate MP3 cannot carry at ``rate`` Hz."""
    _output_rate(rate, bitrate)


def encode_mp3(
    pcm: bytes | np.ndarray,
    rate: int,
    path: str | Path,
    bitrate: int = DEFAULT_BITRATE,
    quality: int = DEFAULT_QUALITY,
) -> EncodedInfo:
    """Encode mono 16-bit PCM to a CBR MP3 file at ``path``, with Info frame and LAME tag.

    ``pcm`` is little-endian signed 16-bit samples as bytes, or an int16 array. The MP3 keeps
    the input's sample rate, except that MPEG-1-only bitrates (192-320 kbit/s) on 16-24 kHz
    audio double it (see the module notes). The file is written under a temporary name in
    the same folder and renamed into place when complete, so ``path`` never holds a partial
    file. Raises NarrateError (exit code 2) for a bitrate or sample rate MP3 cannot carry.
    """
    samples = _samples(pcm)
    if len(samples) == 0:
        raise ValueError("no audio to encode")
    piece = encode_piece(samples, rate, bitrate, quality)
    padding = piece.frames * piece.samples_per_frame - ENCODER_DELAY - piece.samples
    return write_mp3(path, [piece.data], rate, bitrate, quality, padding)


@dataclass(frozen=True)
class Piece:
    """Audio encoded on its own into whole MP3 frames.

    Decoded, the frames give ``lead`` samples of silence (LAME's delay and the decoder's),
    the ``samples`` samples of audio, then silence to the end of the last frame. Pieces and
    :func:`silent_frames` can be joined end to end into one valid stream: every piece starts
    with an empty bit reservoir, and the joins fall in silence. ``rate`` is the MP3's.
    """

    data: bytes
    frames: int
    samples: int
    rate: int
    samples_per_frame: int

    @property
    def lead(self) -> int:
        return ENCODER_DELAY + DECODER_DELAY

    @property
    def length(self) -> int:
        """Decoded length in samples, silences included."""
        return self.frames * self.samples_per_frame


def encode_piece(
    samples: np.ndarray, rate: int, bitrate: int = DEFAULT_BITRATE, quality: int = DEFAULT_QUALITY
) -> Piece:
    """Encode mono int16 ``samples`` at ``rate`` Hz into a :class:`Piece` (CBR frames)."""
    if not 0 <= quality <= 9:
        raise ValueError(f"LAME quality must be 0-9, got {quality}")
    output_rate = _output_rate(rate, bitrate)
    if output_rate != rate:
        samples = _upsample(samples, output_rate // rate)
    encoder = lameenc.Encoder()
    encoder.set_channels(1)
    encoder.set_in_sample_rate(output_rate)
    # Left alone, LAME picks its own output rate for low bitrates (16 kbit/s at 22050 Hz
    # comes out at 16000 Hz, 8 kbit/s at 8000 Hz).
    encoder.set_out_sample_rate(output_rate)
    encoder.set_bit_rate(bitrate)
    encoder.set_quality(quality)
    audio = bytes(encoder.encode(np.ascontiguousarray(samples).tobytes())) + bytes(encoder.flush())
    frames = _count_frames(audio, output_rate, bitrate)
    return Piece(audio, frames, len(samples), output_rate, _samples_per_frame(audio))


def silent_frames(
    count: int,
    rate: int,
    bitrate: int = DEFAULT_BITRATE,
    frames_before: int = 0,
    bytes_before: int = 0,
) -> bytes:
    """``count`` frames that decode to silence, to join between :class:`Piece` s.

    Each is a frame header with empty side information and no audio data: nothing to
    decode, nothing borrowed from or lent to the bit reservoir. ``rate`` is the source's
    rate (as given to :func:`encode_piece`). Where a frame's ideal size is fractional
    (208.98 bytes at 64 kbit/s, 22050 Hz), frames are padded by a byte as LAME pads them,
    so that after ``frames_before`` frames of ``bytes_before`` bytes the stream keeps its
    nominal bitrate: each piece LAME pads on its own ends under a byte short at most, and
    padded silence makes that up (by 0.02 bytes a frame).
    """
    output_rate = _output_rate(rate, bitrate)
    header = _header_bytes(output_rate, bitrate)
    parsed = _Header.parse(header, 0)
    size = parsed.frame_size()
    padded_header = header[:2] + bytes([header[2] | 2]) + header[3:]
    plain, padded = header + bytes(size - 4), padded_header + bytes(size - 3)
    exact = parsed.samples_per_frame // 8 * bitrate * 1000 / output_rate
    if exact == size:
        return plain * count
    chunks = []
    total = bytes_before
    for number in range(frames_before + 1, frames_before + count + 1):
        frame = padded if total + size < int(number * exact) else plain
        chunks.append(frame)
        total += len(frame)
    return b"".join(chunks)


def output_rate(rate: int, bitrate: int = DEFAULT_BITRATE) -> int:
    """The sample rate of the MP3 made from ``rate`` Hz audio at ``bitrate`` kbit/s."""
    return _output_rate(rate, bitrate)


def frame_samples(rate: int, bitrate: int = DEFAULT_BITRATE) -> int:
    """Samples per frame (1152 or 576) of the MP3 made from ``rate`` Hz audio."""
    output_rate = _output_rate(rate, bitrate)
    return 1152 if output_rate in MPEG1_RATES else 576


def write_mp3(
    path: str | Path,
    chunks: list[bytes],
    rate: int,
    bitrate: int = DEFAULT_BITRATE,
    quality: int = DEFAULT_QUALITY,
    padding: int = DECODER_DELAY,
) -> EncodedInfo:
    """Write joined pieces and silences as one MP3 at ``path``, with Info frame and LAME tag.

    The tag says LAME's delay and ``padding`` end samples to trim: by default only what the
    decoder's own delay pushes past the end, so gapless players play every frame after the
    delay. Written under a temporary name and renamed into place.
    """
    path = Path(path)
    audio = b"".join(chunks)
    output_rate = _output_rate(rate, bitrate)
    frames = _frame_offsets(audio, output_rate, bitrate)
    samples_per_frame = _samples_per_frame(audio)
    info = _info_frame(
        audio, frames, padding=padding, quality=quality, bitrate=bitrate, source_rate=rate
    )
    write_atomically(path, (info, audio), "the MP3")
    return EncodedInfo(
        path=path,
        duration=(len(frames) * samples_per_frame - ENCODER_DELAY - padding) / output_rate,
        frames=len(frames),
        bytes=len(info) + len(audio),
        sample_rate=output_rate,
        bitrate=bitrate,
    )


def _samples(pcm: bytes | np.ndarray) -> np.ndarray:
    if isinstance(pcm, (bytes, bytearray, memoryview)):
        if len(pcm) % 2:
            raise ValueError("16-bit PCM must have an even number of bytes")
        return np.frombuffer(pcm, dtype="<i2").astype(np.int16)
    array = np.asarray(pcm)
    if array.dtype != np.int16 or array.ndim != 1:
        raise TypeError(f"expected mono int16 samples, got {array.dtype} of shape {array.shape}")
    return array


def _output_rate(rate: int, bitrate: int) -> int:
    """Return the MP3's sample rate for this input rate and bitrate, or refuse them."""
    if bitrate in valid_bitrates(rate):
        native = MPEG1_BITRATES if rate in MPEG1_RATES else MPEG2_BITRATES
        return rate if bitrate in native else rate * 2
    if not valid_bitrates(rate):
        supported = ", ".join(str(r) for r in sorted(MPEG1_RATES + MPEG2_RATES + MPEG25_RATES))
        raise NarrateError(
            f"MP3 cannot carry audio at {rate} Hz; supported sample rates: {supported}",
            EXIT_USAGE,
        )
    if rate in MPEG2_RATES:
        native = ", ".join(str(b) for b in MPEG2_BITRATES)
        upsampled = ", ".join(str(b) for b in MPEG1_BITRATES if b not in MPEG2_BITRATES)
        valid = f"{native} (and {upsampled}, encoded at {rate * 2} Hz)"
    else:
        valid = ", ".join(str(b) for b in valid_bitrates(rate))
    raise NarrateError(
        f"invalid MP3 bitrate {bitrate} kbit/s for {rate} Hz audio; valid bitrates: {valid}",
        EXIT_USAGE,
    )


def _upsample(samples: np.ndarray, factor: int) -> np.ndarray:
    from scipy.signal import resample_poly  # rarely needed, and slow to import

    upsampled = resample_poly(samples.astype(np.float32), factor, 1)
    return np.clip(np.rint(upsampled), -32768, 32767).astype(np.int16)


# --- frames --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    """The fields of a 4-byte MPEG audio frame header that matter here."""

    version: int  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    layer: int
    protected: bool  # a CRC follows the header
    bitrate_index: int
    rate_index: int
    padded: bool
    mode: int

    @classmethod
    def parse(cls, data: bytes, offset: int) -> _Header:
        if len(data) < offset + 4:
            raise ValueError(f"no MPEG frame at byte {offset}: the data ends")
        word = int.from_bytes(data[offset : offset + 4], "big")
        if word >> 21 != 0x7FF:  # eleven sync bits
            raise ValueError(f"no MPEG frame at byte {offset}")
        return cls(
            version=(word >> 19) & 3,
            layer=(word >> 17) & 3,
            protected=not (word >> 16) & 1,
            bitrate_index=(word >> 12) & 15,
            rate_index=(word >> 10) & 3,
            padded=bool((word >> 9) & 1),
            mode=(word >> 6) & 3,
        )

    @property
    def bitrates(self) -> tuple[int, ...]:
        return MPEG1_BITRATES if self.version == _VERSION_MPEG1 else MPEG2_BITRATES

    @property
    def bitrate(self) -> int:
        return self.bitrates[self.bitrate_index - 1]

    @property
    def sample_rate(self) -> int:
        rates = {_VERSION_MPEG1: MPEG1_RATES, _VERSION_MPEG2: MPEG2_RATES}
        return rates.get(self.version, MPEG25_RATES)[self.rate_index]

    @property
    def samples_per_frame(self) -> int:
        return 1152 if self.version == _VERSION_MPEG1 else 576

    def frame_size(self, bitrate: int | None = None, padded: bool | None = None) -> int:
        """Return the frame's length in bytes (optionally for another bitrate or padding)."""
        bitrate = self.bitrate if bitrate is None else bitrate
        padded = self.padded if padded is None else padded
        # 1152 or 576 samples a frame: 144 or 72 bytes per kbit/s per kHz, plus one slot.
        bytes_per_kilobit = self.samples_per_frame // 8
        return bytes_per_kilobit * bitrate * 1000 // self.sample_rate + int(padded)

    @property
    def side_info_size(self) -> int:
        mono = self.mode == _MODE_MONO
        if self.version == _VERSION_MPEG1:
            return 17 if mono else 32
        return 9 if mono else 17


def _frames(audio: bytes) -> Iterator[tuple[int, int]]:
    """Yield (offset, length) of each frame of a stream of MPEG audio frames, any kind."""
    offset = 0
    while offset < len(audio):
        length = _Header.parse(audio, offset).frame_size()
        yield offset, length
        offset += length


def _count_frames(audio: bytes, rate: int, bitrate: int) -> int:
    """Count the frames of LAME's output, checking it is what was asked for."""
    return len(_frame_offsets(audio, rate, bitrate))


def _frame_offsets(audio: bytes, rate: int, bitrate: int) -> list[int]:
    """The offset of every frame of a stream of mono CBR layer III frames at ``bitrate``
    kbit/s and ``rate`` Hz. Headers are checked against the first one, which must be
    what was asked for (LAME writes one kind of frame; narrate joins only its own)."""
    if not audio:
        raise RuntimeError("LAME wrote no frames")
    first = _Header.parse(audio, 0)
    if (first.bitrate, first.sample_rate, first.mode) != (bitrate, rate, _MODE_MONO):
        raise RuntimeError(
            f"LAME wrote a {first.bitrate} kbit/s, {first.sample_rate} Hz, mode "
            f"{first.mode} frame; asked for {bitrate} kbit/s, {rate} Hz, mono"
        )
    if first.layer != _LAYER_III or first.protected:
        raise RuntimeError("LAME wrote a frame that is not layer III without CRC")
    size = first.frame_size(padded=False)
    # All but the padding bit (byte 2, bit 1) must equal the first header's.
    head = audio[0:2]
    third = audio[2] & 0xFD
    offsets = []
    offset = 0
    end = len(audio)
    while offset < end:
        if audio[offset : offset + 2] != head or audio[offset + 2] & 0xFD != third:
            raise RuntimeError(f"MPEG frame at byte {offset} differs from the first")
        offsets.append(offset)
        offset += size + (audio[offset + 2] >> 1 & 1)
    if offset != end:
        raise RuntimeError("LAME's output ends with a partial frame")
    return offsets


def _header_bytes(rate: int, bitrate: int) -> bytes:
    """The 4-byte header of an unpadded mono layer III frame without CRC."""
    if rate in MPEG1_RATES:
        version, rates, bitrates = _VERSION_MPEG1, MPEG1_RATES, MPEG1_BITRATES
    elif rate in MPEG2_RATES:
        version, rates, bitrates = _VERSION_MPEG2, MPEG2_RATES, MPEG2_BITRATES
    else:
        version, rates, bitrates = _VERSION_MPEG25, MPEG25_RATES, MPEG2_BITRATES
    word = 0x7FF << 21 | version << 19 | _LAYER_III << 17 | 1 << 16
    word |= (bitrates.index(bitrate) + 1) << 12 | rates.index(rate) << 10 | _MODE_MONO << 6
    return word.to_bytes(4, "big")


def _samples_per_frame(audio: bytes) -> int:
    return _Header.parse(audio, 0).samples_per_frame


# --- the Info frame ------------------------------------------------------------------------


def _info_frame(
    audio: bytes,
    frames: list[int],
    padding: int,
    quality: int,
    bitrate: int,
    source_rate: int,
) -> bytes:
    """Return the Info frame (Xing tag and LAME extension) for the audio frames."""
    return _info_frame_for(
        audio[0:4],
        len(frames),
        len(audio),
        _seek_table(frames, len(audio)),
        _crc16(audio),
        padding,
        quality,
        bitrate,
        source_rate,
    )


def _info_frame_for(
    first_header: bytes,
    frame_count: int,
    audio_bytes: int,
    table: bytes,
    music_crc: int,
    padding: int,
    quality: int,
    bitrate: int,
    source_rate: int,
) -> bytes:
    """The Info frame for audio frames described by their first header, count, size, seek
    table and CRC (so that audio never held whole in memory can have one)."""
    first = _Header.parse(first_header, 0)
    xing_offset = 4 + first.side_info_size
    needed = xing_offset + _XING_SIZE + _LAME_SIZE
    # The tag frame has the audio's header. At low bitrates such a frame is too small for
    # the tag (at 22050 Hz, 48 kbit/s frames have 156 bytes, the tag needs 169): then it
    # says the lowest bitrate whose frame holds it, as LAME does for VBR. Decoders skip the
    # frame either way, and mutagen and ffmpeg take the audio bitrate from the byte count.
    index = first.bitrate_index
    while first.frame_size(first.bitrates[index - 1], padded=False) < needed:
        index += 1
    size = first.frame_size(first.bitrates[index - 1], padded=False)
    header_word = int.from_bytes(first_header[0:4], "big")
    header_word &= ~((0xF << 12) | (1 << 9))  # new bitrate index, no padding
    header_word |= index << 12

    total_bytes = size + audio_bytes
    frame = bytearray(size)
    frame[0:4] = header_word.to_bytes(4, "big")
    # Side information stays zero: a decoder that does not know the tag decodes silence.
    xing = bytearray()
    xing += b"Info"
    xing += _XING_FLAGS.to_bytes(4, "big")
    xing += frame_count.to_bytes(4, "big")
    xing += total_bytes.to_bytes(4, "big")
    xing += table
    xing += (100 - 10 * _LAME_DEFAULT_VBR_QUALITY - quality).to_bytes(4, "big")
    frame[xing_offset : xing_offset + _XING_SIZE] = xing

    lame_offset = xing_offset + _XING_SIZE
    lame = _lame_extension(padding, bitrate, source_rate, total_bytes, music_crc)
    frame[lame_offset : lame_offset + len(lame)] = lame
    # The tag's own CRC covers the frame from its first byte to just before the CRC.
    tag_crc = _crc16(bytes(frame[: lame_offset + _LAME_SIZE - 2]))
    frame[lame_offset + _LAME_SIZE - 2 : lame_offset + _LAME_SIZE] = tag_crc.to_bytes(2, "big")
    return bytes(frame)


def audio_frames(path: Path) -> bytes:
    """The audio frames of an MP3 file narrate wrote: without its ID3v2 tag and Info frame."""
    data = Path(path).read_bytes()
    offset = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for byte in data[6:10]:
            size = size << 7 | (byte & 0x7F)
        offset = 10 + size + (10 if data[5] & 0x10 else 0)
    header = _Header.parse(data, offset)
    tag = data[offset + 4 + header.side_info_size : offset + 8 + header.side_info_size]
    if tag in (b"Info", b"Xing"):
        offset += header.frame_size()
    return data[offset:]


def join_mp3(
    target: str | Path,
    sources: list[Path],
    rate: int,
    bitrate: int = DEFAULT_BITRATE,
    quality: int = DEFAULT_QUALITY,
) -> tuple[EncodedInfo, list[float]]:
    """Join MP3 files narrate wrote (chapters) into one at ``target``, reading one at a
    time, with one Info frame and LAME tag for the whole. Returns what was written and
    where each source starts in it, in seconds as gapless players count.

    Each source's own delay plays where it joins (at a chapter's start, in its lead-in
    silence); only the first is trimmed. Written under a temporary name and renamed.
    """
    target = Path(target)
    mp3_rate = _output_rate(rate, bitrate)
    per_frame = 1152 if mp3_rate in MPEG1_RATES else 576
    lead = ENCODER_DELAY + DECODER_DELAY
    placeholder = len(
        _info_frame_for(
            _header_bytes(mp3_rate, bitrate), 0, 0, bytes(100), 0, 0, quality, bitrate, rate
        )
    )
    spans: list[tuple[int, int, int, int]] = []  # first frame, first byte, frames, bytes
    starts: list[float] = []
    crc = frame_count = audio_bytes = 0
    first_header = b""
    with renamed_into_place(target) as partial, open(partial, "wb") as out:
        out.write(bytes(placeholder))
        for source in sources:
            audio = audio_frames(source)
            offsets = _frame_offsets(audio, mp3_rate, bitrate)
            first_header = first_header or audio[:4]
            starts.append(max(0, frame_count * per_frame - lead) / mp3_rate)
            spans.append((frame_count, audio_bytes, len(offsets), len(audio)))
            crc = _crc_shift(crc, len(audio)) ^ _crc16(audio)
            frame_count += len(offsets)
            audio_bytes += len(audio)
            out.write(audio)
        table = _seek_table_for(spans, frame_count, audio_bytes)
        info = _info_frame_for(
            first_header,
            frame_count,
            audio_bytes,
            table,
            crc,
            DECODER_DELAY,
            quality,
            bitrate,
            rate,
        )
        assert len(info) == placeholder
        out.seek(0)
        out.write(info)
        out.flush()
        os.fsync(out.fileno())
    info_record = EncodedInfo(
        path=target,
        duration=(frame_count * per_frame - lead) / mp3_rate,
        frames=frame_count,
        bytes=placeholder + audio_bytes,
        sample_rate=mp3_rate,
        bitrate=bitrate,
    )
    return info_record, starts


def _seek_table_for(spans: list[tuple[int, int, int, int]], frames: int, audio_bytes: int) -> bytes:
    """The TOC for audio known by spans of frames (first frame, first byte, frames, bytes):
    a frame's position inside a span is interpolated (CBR frames differ by a byte at most)."""
    table = bytearray(100)
    for percent in range(1, 100):
        wanted = min(frames - 1, percent * frames // 100)
        for first, start, count, size in spans:
            if first <= wanted < first + count:
                offset = start + (wanted - first) * size // count
                table[percent] = min(255, offset * 256 // audio_bytes)
                break
    return bytes(table)


def _seek_table(frames: list[int], audio_bytes: int) -> bytes:
    """Return the 100-byte TOC: for each percent of play time, the byte position in 256ths.

    As LAME computes it: positions and total count the audio frames only, so the first
    entry is 0.
    """
    table = bytearray(100)
    for percent in range(1, 100):
        offset = frames[min(len(frames) - 1, percent * len(frames) // 100)]
        table[percent] = min(255, offset * 256 // audio_bytes)
    return bytes(table)


def _lame_extension(
    padding: int, bitrate: int, source_rate: int, music_length: int, music_crc: int
) -> bytes:
    """Return LAME's 36-byte extension, tag CRC left zero (it covers the whole frame).

    Fields this encoder cannot know (lowpass, ATH type, noise shaping, replay gain, peak)
    are zero, which the LAME tag specification defines as "unknown" or "not set".
    """
    if not 0 <= padding < 4096:
        raise RuntimeError(f"end padding of {padding} samples does not fit the LAME tag")
    extension = bytearray()
    extension += LAME_VERSION[:9].ljust(9, b"\0")
    extension += bytes([(0 << 4) | _VBR_METHOD_CBR])  # tag revision 0, CBR
    extension += bytes([0])  # lowpass / 100 Hz: unknown
    extension += bytes(4)  # peak amplitude: not computed
    extension += bytes(2)  # radio replay gain: not set
    extension += bytes(2)  # audiophile replay gain: not set
    extension += bytes([0])  # encoding flags and ATH type: unknown
    extension += bytes([min(bitrate, 255)])  # CBR: the bitrate
    extension += ((ENCODER_DELAY << 12) | padding).to_bytes(3, "big")
    # Source rate code (0: 32 kHz or less, 1: 44.1, 2: 48, 3: more), no unwise settings,
    # stereo mode 0 (mono), noise shaping unknown.
    source_code = 0 if source_rate <= 32000 else {44100: 1, 48000: 2}.get(source_rate, 3)
    extension += bytes([source_code << 6])
    extension += bytes([0])  # MP3 gain
    extension += bytes(2)  # surround info and preset: none
    extension += music_length.to_bytes(4, "big")
    extension += music_crc.to_bytes(2, "big")
    extension += bytes(2)  # tag CRC, filled in by the caller
    assert len(extension) == _LAME_SIZE
    return bytes(extension)


def _crc16_table() -> list[int]:
    # CRC-16 as LAME computes it (VbrTag.c): polynomial 0x8005 bit-reflected (0xA001),
    # initial value 0, no final XOR, i.e. CRC-16/ARC.
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC16_TABLE = _crc16_table()
# The CRC of an hour of MP3 (28 MB at 64 kbit/s) byte by byte in Python takes seconds, so
# long data is cut into blocks whose CRCs numpy computes side by side, then combined.
_CRC_BLOCK = 1024


def _crc16(data: bytes) -> int:
    """Return the CRC-16 LAME stores for ``data``."""
    if len(data) < 16 * _CRC_BLOCK:
        return _crc16_update(0, data)
    # With initial value 0 leading zero bytes leave the CRC at 0, so padding the front
    # makes every block the same length without changing the result.
    padded = np.frombuffer(bytes((-len(data)) % _CRC_BLOCK) + data, dtype=np.uint8)
    blocks = padded.reshape(-1, _CRC_BLOCK)
    table = np.array(_CRC16_TABLE, dtype=np.uint32)
    crcs = np.zeros(len(blocks), dtype=np.uint32)
    for column in range(_CRC_BLOCK):
        crcs = (crcs >> 8) ^ table[(crcs ^ blocks[:, column]) & 0xFF]
    # The CRC is linear: crc(a + b) = crc(a followed by len(b) zero bytes) ^ crc(b), and
    # "followed by n zero bytes" is a linear map, tabulated per byte of the CRC.
    low, high = _zero_bytes_map(_CRC_BLOCK)
    result = 0
    for crc in crcs.tolist():
        result = low[result & 0xFF] ^ high[result >> 8] ^ crc
    return result


def _crc_shift(crc: int, count: int) -> int:
    """The CRC of some data followed by ``count`` more bytes of zeros, from the data's CRC:
    the "one zero byte" linear map raised to ``count`` by squaring."""
    step = [_crc16_update(1 << bit, b"\0") for bit in range(16)]
    result = [1 << bit for bit in range(16)]
    while count:
        if count & 1:
            result = [_apply_map(step, image) for image in result]
        step = [_apply_map(step, image) for image in step]
        count >>= 1
    return _apply_map(result, crc)


def _apply_map(images: list[int], value: int) -> int:
    out = 0
    for bit in range(16):
        if value >> bit & 1:
            out ^= images[bit]
    return out


def _crc16_update(crc: int, data: bytes) -> int:
    table = _CRC16_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def _zero_bytes_map(count: int) -> tuple[list[int], list[int]]:
    """Return tables giving the CRC after ``count`` more zero bytes, by low and high byte."""
    images = [_crc16_update(1 << bit, bytes(count)) for bit in range(16)]

    def table(first_bit: int) -> list[int]:
        entries = []
        for value in range(256):
            image = 0
            for bit in range(8):
                if value >> bit & 1:
                    image ^= images[first_bit + bit]
            entries.append(image)
        return entries

    return table(0), table(8)
