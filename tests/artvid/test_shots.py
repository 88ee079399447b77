"""Shot-cut detection on real footage joined into clips with known cuts; the cuts option and shots."""

import functools
import subprocess
import sys

import numpy as np
import pytest

from artvid import shots
from artvid.errors import ConfigError
from artvid.shots import Boundary
from tests.helpers import join_shots, real_footage, write_clip_with_audio, write_frame_folder

# Small frames keep the file fast; detection works at shots.WORK_SIZE = 128 px anyway.
WIDTH, HEIGHT = 128, 54


@functools.lru_cache(maxsize=1)
def _footage(data):
    return real_footage(data, WIDTH, HEIGHT)


@pytest.fixture
def footage(shared_data):
    """The shared data's four continuous scenes at 128x54 (see tests.helpers.real_footage)."""
    return _footage(shared_data)


def test_cuts_between_scenes_are_found_in_a_frame_folder(footage, tmp_path):
    chase = footage["mmflow"]
    frames, truth = join_shots([chase[0:8], footage["alley"], chase[30:37], footage["market"], footage["marple"],
                                chase[15:21]])
    write_frame_folder(tmp_path / "clip", frames)
    assert shots.detect_clip_cuts(tmp_path / "clip") == truth == (8, 12, 19, 23, 28)


def test_cuts_between_shots_of_one_scene_and_palette_are_found_in_a_video(footage, tmp_path):
    # Pieces of the one cave chase, at least 10 frames apart: the colour distance across these
    # cuts is as low as inside the fast parts of the chase; the motion-compensated residual finds them.
    chase = footage["mmflow"]
    frames, truth = join_shots([chase[40:50], chase[0:9], chase[24:32], chase[12:19], chase[33:38]])
    write_clip_with_audio(tmp_path / "clip.mp4", frames, audio_codec=None)
    measured = shots.boundaries(frames)
    assert max(b.colour for b in measured if b.index in truth) < shots.COLOUR_CUT
    assert shots.detect_clip_cuts(tmp_path / "clip.mp4") == truth == (10, 19, 27, 34)


def test_a_continuous_clip_with_fast_motion_has_no_cut(shared_data, footage):
    # The chase has a dragon's wing sweeping across the frame (frames 22-33); every second frame
    # doubles the motion.
    assert shots.detect_clip_cuts(shared_data / "video" / "mmflow_demo_sintel.mp4") == ()
    assert shots.detect_cuts(footage["mmflow"][::2]) == ()


def test_short_shots_and_a_one_frame_shot(footage):
    chase = footage["mmflow"]
    frames, truth = join_shots([footage["alley"][:2], chase[30:31], footage["market"][:3], chase[0:3], chase[20:24]])
    assert shots.detect_cuts(frames) == truth == (2, 3, 6, 9)


def test_a_two_frame_clip_is_cut_by_colour_alone(footage):
    chase = footage["mmflow"]
    assert shots.detect_cuts([footage["alley"][0], footage["market"][0]]) == (1,)
    # Without neighbours there is nothing to compare a residual with: one scene stays one shot.
    assert shots.detect_cuts([chase[0], chase[30]]) == ()
    assert shots.detect_cuts(chase[:1]) == shots.detect_cuts([]) == ()


def test_cuts_to_and_from_black_are_found(footage):
    # Flow to or from a black frame passes the forward-backward check (reliable ~0.97): the
    # reliability veto alone missed both cuts.
    black = [np.zeros_like(footage["alley"][0])] * 4
    frames, truth = join_shots([footage["alley"][:6], black, footage["mmflow"][10:16]])
    measured = shots.boundaries(frames)
    assert min(b.reliable for b in measured if b.index in truth) > shots.RELIABLE_MAX
    assert len(truth) == 2 and shots.detect_cuts(frames) == truth
    # A fade through black is no cut: no boundary changes the colours completely.
    fade = [(frame * gain).astype(np.uint8) for frame, gain in zip(footage["mmflow"][:12], np.linspace(1, 0.05, 12))]
    assert shots.detect_cuts(fade) == ()


def test_detection_is_deterministic(footage):
    frames, truth = join_shots([footage["mmflow"][20:26], footage["alley"], footage["mmflow"][40:44]])
    first = shots.boundaries(frames)
    assert shots.boundaries(iter(frames)) == first
    assert shots.cuts_from_boundaries(first) == truth


def test_detect_clip_cuts_reads_a_clip_smaller_than_the_work_size(clip):
    assert shots.detect_clip_cuts(clip) == ()


def _boundaries(residuals, reliable=0.2, colour=0.1):
    return [Boundary(index=i + 1, colour=colour, reliable=reliable, residual=r) for i, r in enumerate(residuals)]


def test_residual_relative_to_the_neighbourhood_makes_a_cut():
    assert shots.cuts_from_boundaries(_boundaries([4, 4, 4, 10, 4, 4])) == (4,)
    assert shots.cuts_from_boundaries(_boundaries([4, 4, 4, 7, 4, 4])) == ()
    # Reliable flow vetoes a cut: motion starting after a still passage.
    assert shots.cuts_from_boundaries(_boundaries([2, 2, 2, 10, 10, 10], reliable=0.9)) == ()
    # Unless the colours change completely too: flow to or from a flat frame looks reliable.
    flat = _boundaries([2, 2, 2, 60, 2, 2], reliable=0.9)
    flat[3] = Boundary(4, 1.0, 0.97, 60)
    assert shots.cuts_from_boundaries(flat) == (4,)
    flat[3] = Boundary(4, 1.0, 0.97, 3)  # the same colours, a small residual: no cut
    assert shots.cuts_from_boundaries(flat) == ()
    # The floor: a still shot's compression noise is no reference.
    assert shots.cuts_from_boundaries(_boundaries([0.5, 0.5, 3, 0.5, 0.5])) == ()


def test_cuts_found_bound_the_neighbourhood_of_others():
    # A cut between a calm and a fast shot, with another cut nearby: at first its neighbourhood
    # median is raised by that cut; once that one is found and left out, the second is found too.
    residuals = [3, 3, 14, 3, 3, 3, 14, 8, 8, 8]
    assert shots.neighbourhood_residual(residuals, 6) == 8.0
    assert shots.neighbourhood_residual(residuals, 6, {2}) == 5.5
    assert shots.cuts_from_boundaries(_boundaries(residuals)) == (3, 7)
    # A short shot of another scene is compared with itself, not with the calm shots around it.
    measured = _boundaries([2, 2, 2, 2, 40, 12, 14, 12, 40, 2, 2, 2])
    measured[4] = Boundary(5, 0.9, 0.0, 40)
    measured[8] = Boundary(9, 0.9, 0.0, 40)
    residuals = [b.residual for b in measured]
    assert shots.neighbourhood_residual(residuals, 6) == 7.0
    assert shots.neighbourhood_residual(residuals, 6, {4, 8}) == 12.0
    assert shots.cuts_from_boundaries(measured) == (5, 9)


def test_neighbourhood_needs_two_boundaries():
    assert shots.neighbourhood_residual([5, 20], 1) is None
    assert shots.neighbourhood_residual([5, 20, 5], 1) == 5.0
    assert shots.neighbourhood_residual([5, 20, 5], 1, {0}) is None
    assert shots.neighbourhood_residual([1, 20, 1], 1) == shots.RESIDUAL_FLOOR


def test_frames_are_checked():
    frame = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(ValueError, match=r"expected frame 1 to be an \(H, W, 3\) uint8"):
        shots.detect_cuts([frame, frame.astype(np.float32)])
    with pytest.raises(ValueError, match=r"expected frame 1 to have the shape of frame 0 \(20, 30, 3\), got \(30, 20"):
        shots.detect_cuts([frame, np.zeros((30, 20, 3), np.uint8)])
    with pytest.raises(ValueError, match="expected frames at least 16 px on the long side, got 12x8"):
        shots.detect_cuts([np.zeros((8, 12, 3), np.uint8)] * 2)


@pytest.mark.parametrize(("text", "expected"), [
    ("auto", None), (" Auto ", None), ("0", ()), ("120,340", (119, 339)), (" 340 , 120 ", (119, 339)), ("2", (1,)),
])
def test_parse_cuts(text, expected):
    assert shots.parse_cuts(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", r"expected cuts as 'auto', '0' or frame numbers like '120,340', got '' \(bad item ''\)"),
    ("12,,30", r"got '12,,30' \(bad item ''\)"),
    ("12;30", r"bad item '12;30'"),
    ("-5", r"bad item '-5'"),
    ("+5", r"bad item '\+5'"),
    ("1.5", r"bad item '1.5'"),
    ("none", r"bad item 'none'"),
    ("1,120", r"expected frame numbers >= 2 \(frame 1 always starts the first shot\), got '1,120'"),
    ("0,120", r"expected frame numbers >= 2 \('0' alone turns cuts off\), got '0,120'"),
    ("120,340,120", r"expected each cut once, got 120 more than once in '120,340,120'"),
])
def test_parse_cuts_refuses(text, message):
    with pytest.raises(ConfigError, match=message):
        shots.parse_cuts(text)


def test_parse_cuts_refuses_a_non_string():
    with pytest.raises(ConfigError, match=r"expected cuts as a string .*, got \[120\]"):
        shots.parse_cuts([120])


def test_format_cuts_is_the_inverse_of_parse_cuts():
    assert shots.format_cuts(()) == "0"
    assert shots.format_cuts((119, 339)) == "120,340"
    assert shots.parse_cuts(shots.format_cuts((1, 9))) == (1, 9)


def test_check_cuts():
    assert shots.check_cuts([1, 5], 6) == (1, 5)
    assert shots.check_cuts(np.array([3]), 4) == (3,)
    assert shots.check_cuts((), 1) == ()


@pytest.mark.parametrize(("cuts", "frame_count", "message"), [
    ((6,), 6, "expected cuts at frames 2..6 of a 6-frame clip, got frame 7"),
    ((0,), 6, "expected cuts at frames 2..6 of a 6-frame clip, got frame 1"),
    ((-1,), 6, "got frame 0"),
    ((4, 2), 6, "expected cuts in ascending order, each once, got frame 3 after 5"),
    ((2, 2), 6, "got frame 3 after 3"),
    ((2.0,), 6, r"expected cuts to be frame indices \(int\), got 2.0"),
    ((True,), 6, r"expected cuts to be frame indices \(int\), got True"),
    ((), 0, "expected frame_count to be an int >= 1, got 0"),
    ((), 2.0, "expected frame_count to be an int >= 1, got 2.0"),
])
def test_check_cuts_refuses(cuts, frame_count, message):
    with pytest.raises(ConfigError, match=message):
        shots.check_cuts(cuts, frame_count)


def test_shots():
    assert shots.shots(5, ()) == [range(0, 5)]
    assert shots.shots(10, (3, 7)) == [range(0, 3), range(3, 7), range(7, 10)]
    assert shots.shots(3, (1, 2)) == [range(0, 1), range(1, 2), range(2, 3)]
    assert [i for shot in shots.shots(12, (4, 5, 9)) for i in shot] == list(range(12))
    with pytest.raises(ConfigError, match="got frame 11"):
        shots.shots(10, (10,))


def test_importing_shots_loads_no_torch():
    code = "import sys, artvid.shots; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
