"""Tests for narrate.speech.mp3: CBR encoding with a Xing "Info" frame and LAME tag."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import miniaudio
import mutagen.mp3
import numpy as np
import pytest
from mutagen.mp3 import BitrateMode
from mutagen.mp3._util import XingHeader
from scipy.signal import correlate

from narrate import atomic as files
from narrate.errors import NarrateError
from narrate.speech import mp3
from narrate.speech.mp3 import ENCODER_DELAY, EncodedInfo, encode_mp3, valid_bitrates

RATE = 22050
DECODER_DELAY = 529  # what mpg123-style decoders (ffmpeg, minimp3) add to the encoder's
FFPROBE = shutil.which("ffprobe")
FFMPEG = shutil.which("ffmpeg")
needs_ffprobe = pytest.mark.skipif(FFPROBE is None, reason="ffprobe is not installed")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")


def noisy_signal(seconds: float = 3.0, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Noise bursts and a tone: aperiodic, so cross-correlation finds a single lag."""
    generator = np.random.default_rng(seed)
    count = int(seconds * rate) + 123  # not a whole number of frames
    signal = np.zeros(count)
    edge = rate // 4
    signal[edge : count - edge] = generator.standard_normal(count - 2 * edge) * 3000
    signal += 2000 * np.sin(2 * np.pi * 330 * np.arange(count) / rate)
    return signal.astype(np.int16)


def decode(path: Path, rate: int) -> np.ndarray:
    decoded = miniaudio.decode_file(
        str(path), output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=rate
    )
    return np.array(decoded.samples, dtype=np.int16)


def lag(reference: np.ndarray, decoded: np.ndarray) -> int:
    """Return how many samples later the reference appears in the decoded audio."""
    scores = correlate(decoded.astype(float), reference.astype(float), mode="full", method="fft")
    return int(np.argmax(scores)) - (len(reference) - 1)


def xing_header(path: Path) -> XingHeader:
    data = path.read_bytes()
    header = mp3._Header.parse(data, 0)
    with open(path, "rb") as file:
        file.seek(4 + header.side_info_size)
        return XingHeader(file)


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    return noisy_signal()


@pytest.fixture
def encoded(tmp_path, signal) -> EncodedInfo:
    return encode_mp3(signal, RATE, tmp_path / "chapter.mp3")


def test_encoded_info_describes_the_file(encoded, signal):
    assert encoded.path.exists()
    assert encoded.bytes == encoded.path.stat().st_size
    assert encoded.sample_rate == RATE
    assert encoded.bitrate == 64
    assert encoded.duration == pytest.approx(len(signal) / RATE)
    # MPEG-2 layer III: 576 samples a frame, the encoder delay in front, padding at the end.
    assert encoded.frames * 576 >= len(signal) + ENCODER_DELAY
    assert encoded.frames * 576 < len(signal) + ENCODER_DELAY + 4096


def test_frames_are_mono_cbr_at_the_input_rate(encoded):
    data = encoded.path.read_bytes()
    frames = list(mp3._frames(data))
    assert len(frames) == encoded.frames + 1  # the Info frame first
    headers = [mp3._Header.parse(data, offset) for offset, _ in frames]
    assert {(h.version, h.layer, h.protected, h.mode) for h in headers} == {(2, 1, False, 3)}
    assert {h.sample_rate for h in headers} == {RATE}
    assert {h.bitrate for h in headers} == {64}
    assert data[13:17] == b"Info"  # after the 4-byte header and 9 bytes of side info
    assert data[4:13] == bytes(9)  # zeroed side information


def test_independent_decoder_returns_exactly_the_input(encoded, signal):
    # miniaudio (dr_mp3) reads the LAME tag and trims delay and padding: gapless.
    decoded = decode(encoded.path, RATE)
    assert abs(len(decoded) - len(signal)) <= 576 + ENCODER_DELAY
    assert len(decoded) == len(signal)
    assert lag(signal, decoded) == 0


def test_stored_delay_is_the_real_delay(encoded, signal):
    # Without the Info frame a decoder keeps everything: the input then appears after the
    # encoder's delay plus the decoder's 529 samples.
    data = encoded.path.read_bytes()
    _, info_length = next(mp3._frames(data))
    raw = encoded.path.with_name("raw.mp3")
    raw.write_bytes(data[info_length:])
    decoded = decode(raw, RATE)
    assert len(decoded) == encoded.frames * 576
    assert lag(signal, decoded) == ENCODER_DELAY + DECODER_DELAY


def test_mutagen_reads_cbr_length_and_lame_tag(encoded, signal):
    info = mutagen.mp3.MP3(encoded.path).info
    assert info.bitrate_mode == BitrateMode.CBR
    assert info.length == pytest.approx(len(signal) / RATE, abs=0.030)
    assert info.length == pytest.approx(len(signal) / RATE, abs=1e-9)  # exact, in fact
    assert info.sample_rate == RATE
    assert info.channels == 1
    assert info.bitrate == pytest.approx(64000, abs=10)
    assert info.encoder_info == "LAME 3.100.0+"
    assert info.encoder_settings == "-b 64"
    assert info.track_peak is None and info.track_gain is None  # not set


def test_lame_tag_fields(encoded, signal):
    xing = xing_header(encoded.path)
    data = encoded.path.read_bytes()
    assert xing.is_info
    assert xing.frames == encoded.frames  # audio frames, the Info frame not counted
    assert xing.bytes == len(data)  # the Info frame counted
    assert len(xing.toc) == 100
    assert xing.toc[0] == 0
    assert xing.toc == sorted(xing.toc)
    assert xing.toc[50] == pytest.approx(128, abs=2)  # CBR: half the time, half the bytes
    lame = xing.lame_header
    assert lame.vbr_method == 1  # CBR
    assert lame.bitrate == 64
    assert lame.quality == mp3.DEFAULT_QUALITY
    assert lame.encoder_delay_start == ENCODER_DELAY
    assert lame.encoder_padding_end == encoded.frames * 576 - ENCODER_DELAY - len(signal)
    assert lame.music_length == len(data)
    _, info_length = next(mp3._frames(data))
    assert lame.music_crc == mp3._crc16(data[info_length:])
    # The tag CRC covers the frame up to the CRC itself: 13 + 120 + 34 bytes here.
    assert lame.header_crc == mp3._crc16(data[: 13 + 120 + 34])


def test_crc16_is_lames_crc():
    # CRC-16/ARC's standard check value.
    assert mp3._crc16(b"123456789") == 0xBB3D
    long_data = np.random.default_rng(1).integers(0, 256, 100_003, dtype=np.uint8).tobytes()
    assert mp3._crc16(long_data) == mp3._crc16_update(0, long_data)


def test_accepts_bytes(tmp_path, signal):
    from_bytes = encode_mp3(signal.astype("<i2").tobytes(), RATE, tmp_path / "a.mp3")
    from_array = encode_mp3(signal, RATE, tmp_path / "b.mp3")
    assert from_bytes.path.read_bytes() == from_array.path.read_bytes()


@pytest.mark.parametrize("bitrate", [8, 16, 24, 32, 48])
def test_low_bitrates_keep_the_rate_and_still_carry_the_tag(tmp_path, signal, bitrate):
    # LAME would resample these to 8 or 16 kHz if left alone; and their frames are too
    # small for the tag, so the Info frame's header names a larger bitrate.
    encoded = encode_mp3(signal, RATE, tmp_path / "low.mp3", bitrate=bitrate)
    assert encoded.sample_rate == RATE
    info = mutagen.mp3.MP3(encoded.path).info
    assert info.sample_rate == RATE
    assert info.bitrate_mode == BitrateMode.CBR
    assert info.bitrate == pytest.approx(bitrate * 1000, abs=10)
    assert info.length == pytest.approx(len(signal) / RATE, abs=1e-9)
    assert len(decode(encoded.path, RATE)) == len(signal)
    data = encoded.path.read_bytes()
    audio_headers = [mp3._Header.parse(data, offset) for offset, _ in mp3._frames(data)][1:]
    assert {header.bitrate for header in audio_headers} == {bitrate}


@pytest.mark.parametrize("bitrate", [192, 320])
def test_mpeg1_bitrates_upsample_to_44100(tmp_path, signal, bitrate):
    encoded = encode_mp3(signal, RATE, tmp_path / "high.mp3", bitrate=bitrate)
    assert encoded.sample_rate == 44100
    assert encoded.duration == pytest.approx(len(signal) / RATE)
    info = mutagen.mp3.MP3(encoded.path).info
    assert (info.sample_rate, info.bitrate_mode) == (44100, BitrateMode.CBR)
    assert info.length == pytest.approx(len(signal) / RATE, abs=1e-9)
    assert xing_header(encoded.path).lame_header.encoder_delay_start == ENCODER_DELAY
    assert len(decode(encoded.path, 44100)) == 2 * len(signal)


def test_mpeg1_input_rate(tmp_path):
    samples = noisy_signal(2.0, rate=44100)
    encoded = encode_mp3(samples, 44100, tmp_path / "cd.mp3", bitrate=128)
    assert (encoded.sample_rate, encoded.bitrate) == (44100, 128)
    assert len(decode(encoded.path, 44100)) == len(samples)
    assert mutagen.mp3.MP3(encoded.path).info.length == pytest.approx(2.0 + 123 / 44100)


@pytest.mark.parametrize("bitrate", [0, 7, 65, 144 + 1, 176, 400])
def test_invalid_bitrates_are_refused_naming_the_valid_ones(tmp_path, signal, bitrate):
    with pytest.raises(NarrateError) as caught:
        encode_mp3(signal, RATE, tmp_path / "x.mp3", bitrate=bitrate)
    assert caught.value.exit_code == 2
    assert "8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160" in str(caught.value)
    assert "192, 224, 256, 320" in str(caught.value)
    assert not (tmp_path / "x.mp3").exists()


def test_mpeg1_rates_refuse_lsf_only_bitrates(tmp_path):
    with pytest.raises(NarrateError) as caught:
        encode_mp3(noisy_signal(0.5, 44100), 44100, tmp_path / "x.mp3", bitrate=144)
    assert caught.value.exit_code == 2
    assert "32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320" in str(caught.value)


def test_unsupported_sample_rate_is_refused(tmp_path):
    with pytest.raises(NarrateError) as caught:
        encode_mp3(np.zeros(1000, dtype=np.int16), 96000, tmp_path / "x.mp3")
    assert caught.value.exit_code == 2
    assert valid_bitrates(96000) == ()


def test_valid_bitrates():
    assert valid_bitrates(22050) == (
        8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320
    )  # fmt: skip
    assert valid_bitrates(44100) == mp3.MPEG1_BITRATES
    assert valid_bitrates(11025) == mp3.MPEG2_BITRATES


def test_rejects_wrong_input(tmp_path):
    with pytest.raises(TypeError, match=r"^expected mono int16 samples, got float32"):
        encode_mp3(np.zeros(100, dtype=np.float32), RATE, tmp_path / "x.mp3")
    with pytest.raises(ValueError, match=r"^16-bit PCM must have an even number of bytes$"):
        encode_mp3(b"\x00\x00\x00", RATE, tmp_path / "x.mp3")
    with pytest.raises(ValueError, match=r"^no audio to encode$"):
        encode_mp3(np.zeros(0, dtype=np.int16), RATE, tmp_path / "x.mp3")


def test_short_input_still_makes_a_valid_file(tmp_path):
    samples = np.full(10, 1000, dtype=np.int16)
    encoded = encode_mp3(samples, RATE, tmp_path / "tiny.mp3")
    assert len(decode(encoded.path, RATE)) == 10
    assert mutagen.mp3.MP3(encoded.path).info.length == pytest.approx(10 / RATE)


def test_interrupted_write_leaves_nothing_under_the_final_name(tmp_path, signal, monkeypatch):
    target = tmp_path / "chapter.mp3"

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        encode_mp3(signal, RATE, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # and no temporary file left behind


def test_interrupted_write_keeps_the_previous_file(tmp_path, signal, monkeypatch):
    target = tmp_path / "chapter.mp3"
    target.write_bytes(b"previous render")

    def full_disk(*arguments: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full_disk)
    with pytest.raises(NarrateError, match="No space left"):
        encode_mp3(signal, RATE, target)
    assert target.read_bytes() == b"previous render"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["chapter.mp3"]


def test_written_file_has_ordinary_permissions(encoded):
    assert encoded.path.stat().st_mode & 0o644 == 0o644


# --- against ffmpeg ---------------------------------------------------------------------------


def ffprobe(path: Path) -> dict:
    completed = subprocess.run(
        [FFPROBE, "-v", "error", "-of", "json", "-show_entries",
         "stream=codec_name,sample_rate,channels,bit_rate,start_time,duration:format=duration",
         str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(completed.stdout)


@needs_ffprobe
@pytest.mark.parametrize("bitrate", [32, 64, 192])
def test_ffprobe_reads_the_stream(tmp_path, signal, bitrate):
    encoded = encode_mp3(signal, RATE, tmp_path / "probe.mp3", bitrate=bitrate)
    probe = ffprobe(encoded.path)
    stream = probe["streams"][0]
    assert stream["codec_name"] == "mp3"
    assert int(stream["sample_rate"]) == encoded.sample_rate
    assert stream["channels"] == 1
    assert int(stream["bit_rate"]) == bitrate * 1000
    # ffprobe's duration is the untrimmed one, all frames' samples; the gapless start
    # shows as start_time (delay + 529 samples), as for files ffmpeg itself encodes with
    # LAME. So compare with the frames, and check the trimmed length by decoding.
    samples_per_frame = 1152 if encoded.sample_rate > 24000 else 576
    untrimmed = encoded.frames * samples_per_frame / encoded.sample_rate
    assert float(probe["format"]["duration"]) == pytest.approx(untrimmed, abs=0.030)
    skipped = (ENCODER_DELAY + DECODER_DELAY) / encoded.sample_rate
    assert float(stream["start_time"]) == pytest.approx(skipped, abs=0.001)


@needs_ffmpeg
def test_ffmpeg_decodes_exactly_the_input(encoded, signal):
    completed = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(encoded.path), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    decoded = np.frombuffer(completed.stdout, dtype="<i2")
    assert len(decoded) == len(signal)
    assert len(decoded) / RATE == pytest.approx(encoded.duration, abs=0.030)
    assert lag(signal, decoded) == 0


def test_pieces_and_silent_frames_join_into_one_exact_stream(tmp_path):
    """Pieces encoded apart, joined with silent frames between, as chapters are made:
    one valid stream whose decoded audio holds each piece where the layout says, silence
    between, at exactly the nominal bitrate."""
    first, second = noisy_signal(1.0, seed=1), noisy_signal(1.5, seed=2)
    one, two = mp3.encode_piece(first, RATE), mp3.encode_piece(second, RATE)
    assert one.samples == len(first) and one.length >= len(first) + one.lead
    gap = 20  # frames
    silence = mp3.silent_frames(gap, RATE, frames_before=one.frames, bytes_before=len(one.data))
    frames, size = one.frames + gap + two.frames, len(one.data) + len(silence) + len(two.data)
    # As a chapter ends: its closing pause.
    tail = mp3.silent_frames(gap, RATE, frames_before=frames, bytes_before=size)
    info = mp3.write_mp3(tmp_path / "joined.mp3", [one.data, silence, two.data, tail], RATE)
    frames = one.frames + gap + two.frames + gap
    assert info.frames == frames
    decoded = decode(tmp_path / "joined.mp3", RATE)
    # Gapless players trim the first delay; every frame after it plays.
    assert len(decoded) == frames * 576 - one.lead
    assert lag(first, decoded[: one.length]) == 0
    second_start = (one.frames + gap) * 576  # its own delay falls inside the stream
    assert lag(second, decoded[second_start:]) == 0
    quiet = decoded[one.samples + 600 : second_start]  # past the first piece's ringing
    assert np.abs(quiet.astype(int)).max() < 30  # about -60 dBFS: silence
    assert not decoded[second_start + two.lead + two.samples + 600 :].any()
    # The nominal size to within a byte per piece: each piece LAME pads on its own, under
    # a byte short at most, and silent frames catch up (0.02 bytes a frame at most).
    audio_bytes = info.bytes - next(mp3._frames(info.path.read_bytes()))[1]
    assert abs(audio_bytes - frames * 576 * 64000 / 8 / RATE) <= 2
    probe = mutagen.mp3.MP3(tmp_path / "joined.mp3").info
    assert abs(probe.bitrate - 64000) <= 2 and probe.bitrate_mode == BitrateMode.CBR
    assert probe.length == pytest.approx(len(decoded) / RATE, abs=0.03)


def test_silent_frames_keep_the_bitrate_exact():
    """At 22050 Hz a 64 kbit/s frame is 208.98 bytes: frames are padded by a byte as LAME
    pads them, so any run of them averages the nominal rate."""
    for count in (1, 7, 100, 1000):
        data = mp3.silent_frames(count, RATE)
        assert len(data) == pytest.approx(count * 576 * 64000 / 8 / RATE, abs=1)
        assert [offset for offset, _ in mp3._frames(data)][-1] < len(data)
