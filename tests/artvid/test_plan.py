"""The render plan (plain data) and its execution with injected fake parts, over ranges of frames."""

import subprocess
import sys

import numpy as np
import pytest

from artvid.errors import ConfigError
from artvid.multipass import Init, ScheduleConfig
from artvid.rendering import MissingInputError, Parts, Ref, execute, make_plan
from tests.helpers import MemoryStore

H, W = 4, 5


def pairs(plan):
    return set(plan.flow_pairs)


def test_flow_pairs_are_exactly_the_warps_of_the_steps():
    plan = make_plan(5, ScheduleConfig(), offsets=(1, 2))
    assert pairs(plan) == {(0, 1), (1, 2), (2, 3), (3, 4), (0, 2), (1, 3), (2, 4)}
    # Ordered by first need: frame 1's pair before frame 2's.
    assert plan.flow_pairs[0] == (0, 1)
    assert all(set((i, j) for i, j, _ in step.warps()) <= {(b, a) for a, b in plan.flow_pairs} for step in plan.steps)
    assert set(plan.flow_pairs) == {pair for step in plan.steps for pair in step.flow_pairs()}


def test_no_flow_without_warps_or_temporal_terms():
    independent = ScheduleConfig(init=Init.RANDOM)
    assert make_plan(5, independent, temporal=False).flow_pairs == ()
    assert make_plan(5, ScheduleConfig(init=Init.PREV), temporal=False).flow_pairs == ()
    assert make_plan(1, ScheduleConfig(passes=3)).flow_pairs == ()
    # Blending passes warp neighbours only when temporal terms are on.
    assert make_plan(5, ScheduleConfig(init=Init.RANDOM, passes=2), temporal=False).flow_pairs == ()
    assert pairs(make_plan(5, ScheduleConfig(init=Init.RANDOM, passes=2))) == {(0, 1), (1, 2), (2, 3), (3, 4)}


def test_steps_follow_ruders_schedule():
    plan = make_plan(3, ScheduleConfig(passes=2, iterations_first=7, iterations=3, pass_iterations=2), offsets=(1, 2))
    first = plan.pass_steps(1)
    assert [s.frame for s in first] == [0, 1, 2] and [s.iterations for s in first] == [7, 3, 3]
    assert first[0].from_scratch and first[0].start.fresh is Init.CONTENT
    assert first[2].start.result == Ref(1, 1) and first[2].start.warped
    assert first[2].temporal == (Ref(1, 1), Ref(1, 0))
    second = plan.pass_steps(2)
    assert [s.frame for s in second] == [2, 1, 0]
    assert second[0].start.neighbour is None and second[0].temporal == ()
    assert second[1].start.result == Ref(1, 1) and second[1].start.neighbour == Ref(2, 2)
    assert plan.iterations() == 7 + 3 + 3 + 3 * 2


def test_an_offset_longer_than_the_clip_is_refused():
    with pytest.raises(ConfigError, match="long-term offset 5 needs a clip of more than 5 frames"):
        make_plan(5, ScheduleConfig(), offsets=(1, 5))
    make_plan(5, ScheduleConfig(), offsets=(1, 5), temporal=False)


def test_the_plan_needs_no_torch():
    code = "import sys, artvid.rendering.plan; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def fake_parts(store, calls):
    def stylize(frame, init, temporal, iterations, pass_index):
        calls.append((pass_index, frame))
        return (0.5 * init + 0.1 * (frame + 1) + 0.01 * len(temporal)).astype(np.float32)

    def warp(image, i, j, chained=False):
        return np.roll(image, i - j, axis=1), np.full((H, W), 0.5, np.float32)

    def fresh_init(frame, kind):
        return np.full((H, W, 3), 0.2 if kind is Init.CONTENT else 0.7, np.float32)

    return Parts(stylize=stylize, warp=warp, fresh_init=fresh_init, store=store)


def test_ranges_run_one_after_another_equal_one_whole_run():
    plan = make_plan(6, ScheduleConfig(), offsets=(1, 2))
    whole, calls = MemoryStore(), []
    execute(plan, fake_parts(whole, calls))
    assert calls == [(1, i) for i in range(6)]

    parted, calls = MemoryStore(), []
    first = execute(plan, fake_parts(parted, calls), frames=range(0, 2))
    second = execute(plan, fake_parts(parted, calls), frames=range(2, 6))
    assert calls == [(1, i) for i in range(6)] and (first.stylized, second.stylized) == (2, 4)
    assert parted.frames.keys() == whole.frames.keys()
    for key in whole.frames:
        np.testing.assert_array_equal(parted.frames[key], whole.frames[key])
    again = execute(plan, fake_parts(parted, []), frames=range(2, 4))
    assert (again.stylized, again.resumed) == (0, 2)


def test_a_range_whose_inputs_are_missing_is_refused_before_it_computes():
    plan = make_plan(6, ScheduleConfig(), offsets=(1,))
    calls = []
    with pytest.raises(MissingInputError, match="frame 4 of pass 1 needs frame 3 of pass 1"):
        execute(plan, fake_parts(MemoryStore(), calls), frames=range(3, 6))
    assert calls == []


def test_later_passes_sweep_backwards_so_their_ranges_run_from_the_end():
    plan = make_plan(6, ScheduleConfig(passes=2), offsets=(1,))
    whole = MemoryStore()
    execute(plan, fake_parts(whole, []))
    store = MemoryStore()
    with pytest.raises(MissingInputError, match="frame 3 of pass 2 needs frame 4 of pass 2"):
        execute(plan, fake_parts(store, []), frames=range(0, 3))
    execute(plan, fake_parts(store, []), frames=range(3, 6))
    execute(plan, fake_parts(store, []), frames=range(0, 3))
    assert store.frames.keys() == whole.frames.keys()
    for key in whole.frames:
        np.testing.assert_array_equal(store.frames[key], whole.frames[key])


def test_a_cut_starts_a_new_shot_like_a_first_frame():
    schedule = ScheduleConfig(passes=2, iterations_first=7, iterations=3, pass_iterations=2)
    plan = make_plan(6, schedule, offsets=(1, 2), cuts=(3,))
    assert plan.shots == ((0, 3), (3, 6))
    third = next(s for s in plan.pass_steps(1) if s.frame == 3)
    assert third.start.fresh is Init.CONTENT and third.iterations == 7 and third.temporal == () and third.from_scratch
    fifth = next(s for s in plan.pass_steps(1) if s.frame == 4)
    assert fifth.temporal == (Ref(1, 3),)  # offset 2 would reach across the cut
    assert all(min(a, b) >= 3 or max(a, b) < 3 for a, b in plan.flow_pairs)
    # Later passes sweep inside each shot: the first frame swept in a shot has no neighbour.
    second = plan.pass_steps(2)
    assert [s.frame for s in second] == [2, 1, 0, 5, 4, 3]
    assert second[0].start.neighbour is None and second[3].start.neighbour is None
    assert plan.final == tuple(Ref(2, f) for f in range(6))


def test_first_frames_and_keyframes_stop_on_their_own_tolerance():
    schedule = ScheduleConfig(chunk_frames=4, iterations_first=7, tolerance_first=2e-3, passes=2)
    plan = make_plan(12, schedule, offsets=(1,), cuts=(10,))
    stopping = {s.frame for s in plan.steps if s.tolerance is not None}
    keys = {s.frame for s in plan.pass_steps(1) if s.iterations == 7}
    assert stopping == keys == {0, 3, 6, 10}  # the shots' first frames and the keyframes between them
    assert {s.tolerance for s in plan.steps if s.frame in stopping and s.pass_index == 1} == {2e-3}
    assert all(s.tolerance is None for s in plan.pass_steps(2))
    # The paper preset leaves them to the per-frame tolerance, as Ruder's reference does.
    paper = make_plan(12, ScheduleConfig(tolerance_first=None), offsets=(1,))
    assert all(s.tolerance is None for s in paper.steps)


def test_cuts_outside_the_clip_are_refused():
    with pytest.raises(ConfigError, match="expected cuts between frame 2 and 6"):
        make_plan(6, ScheduleConfig(), cuts=(6,))


def test_a_long_shot_is_chunked_behind_keyframes():
    schedule = ScheduleConfig(chunk_frames=6, iterations_first=7, iterations=3, pass_iterations=2, passes=2)
    plan = make_plan(18, schedule, offsets=(1, 2))
    keys = [s for s in plan.pass_steps(1) if s.iterations == 7]
    assert [s.frame for s in keys] == [0, 6, 12]
    assert keys[1].start.result == Ref(1, 0) and keys[1].start.warped and keys[1].temporal == (Ref(1, 0),)
    chunk_steps = {s.frame: s for s in plan.pass_steps(1)}
    assert chunk_steps[7].temporal == (Ref(1, 6),)  # offset 2 would reach into the previous chunk
    # The tail of each chunk but the last runs into the next keyframe, its share growing towards it.
    assert [(f, chunk_steps[f].anchor, chunk_steps[f].anchor_weight) for f in range(1, 6)] == [
        (1, None, 0.0), (2, None, 0.0), (3, Ref(1, 6), 2 / 5), (4, Ref(1, 6), 1 / 2), (5, Ref(1, 6), 2 / 3)
    ]
    assert all(chunk_steps[f].anchor is None for f in range(13, 18))
    sweep = [s for s in plan.pass_steps(2) if 1 <= s.frame <= 5]
    assert [s.frame for s in sweep] == [5, 4, 3, 2, 1] and sweep[0].start.neighbour == Ref(1, 6)
    assert [(s.anchor, s.anchor_weight) for s in sweep[-2:]] == [(Ref(1, 0), 1 / 2), (Ref(1, 0), 2 / 3)]
    assert {f for f, ref in enumerate(plan.final) if ref.pass_index == 1} == {0, 6, 12}
    # Keyframes and anchors come along the consecutive flows, so the plan needs no longer pairs
    # than Ruder's offsets (here 1 and 2).
    assert {(4, 6, True), (5, 6, True), (2, 0, True), (1, 0, True), (6, 0, True)} <= {w for s in plan.steps for w in s.warps()}
    assert keys[1].chained and not keys[0].chained and not chunk_steps[7].chained
    assert {b - a for a, b in plan.flow_pairs} == {1, 2}
    assert keys[1].flow_pairs() == [(5, 6), (4, 5), (3, 4), (2, 3), (1, 2), (0, 1)]
    units = {u.key: u for u in plan.units}
    assert list(units)[:3] == ["shot0-key0", "shot0-key1", "shot0-key2"]
    kinds = {f"shot0-{kind}{c}" for kind in ("key", "chunk", "sweep") for c in range(3)}
    assert set(units) == kinds | {"shot0-tail0", "shot0-tail1"}
    assert set(units["shot0-chunk1"].needs) == {Ref(1, 6)}
    assert set(units["shot0-tail1"].needs) == {Ref(1, 7), Ref(1, 8), Ref(1, 12)}
    assert set(units["shot0-sweep1"].needs) == {Ref(1, f) for f in range(6, 13)}
    assert set(units["shot0-key2"].needs) == {Ref(1, 6)}


def test_chunks_keep_the_schedules_passes():
    plan = make_plan(12, ScheduleConfig(chunk_frames=4))
    assert plan.passes == 1 and plan.final == tuple(Ref(1, f) for f in range(12))


def test_anchored_steps_get_the_keyframe_as_their_last_temporal_target():
    plan = make_plan(12, ScheduleConfig(chunk_frames=6))
    seen = []

    def stylize(frame, init, temporal, iterations, pass_index):
        seen.append((frame, len(temporal), float(temporal[-1].warped.mean()) if temporal else None))
        return np.full((H, W, 3), frame / 100, np.float32)

    parts = fake_parts(MemoryStore(), [])
    parts.stylize = stylize
    execute(plan, parts)
    by_frame = {frame: (count, last) for frame, count, last in seen}
    assert by_frame[2] == (1, pytest.approx(0.01))  # the previous frame only
    assert by_frame[5] == (2, pytest.approx(0.06))  # the previous frame, then keyframe 7


def test_keyframes_and_anchors_are_warped_along_the_consecutive_flows():
    plan = make_plan(12, ScheduleConfig(chunk_frames=6))
    warps = []
    parts = fake_parts(MemoryStore(), [])
    plain = parts.warp

    def warp(image, i, j, chained=False):
        warps.append((i, j, chained))
        return plain(image, i, j)

    parts.warp = warp
    execute(plan, parts)
    assert (6, 0, True) in warps  # keyframe 7 from keyframe 1
    assert {(3, 6, True), (4, 6, True), (5, 6, True)} <= set(warps)  # the tail's anchor
    assert all(not chained for i, j, chained in warps if abs(i - j) == 1 and j != 6)
    assert plan.flow_pairs == tuple(dict.fromkeys(p for s in plan.steps for p in s.flow_pairs()))
    assert all(b - a == 1 for a, b in plan.flow_pairs)


def test_unchunked_shots_are_one_unit_each():
    plan = make_plan(6, ScheduleConfig(passes=3), cuts=(2,))
    # Longest work first: the 4-frame shot before the 2-frame one.
    assert [u.key for u in plan.units] == ["shot2", "shot0"] and all(u.needs == () for u in plan.units)


def test_chunked_units_give_the_same_frames_in_any_order_they_may_run():
    plan = make_plan(13, ScheduleConfig(chunk_frames=4, passes=3), offsets=(1, 2), cuts=(11,))
    whole = MemoryStore()
    execute(plan, fake_parts(whole, []))
    rng = np.random.default_rng(0)
    for _ in range(3):
        store, pending = MemoryStore(), list(plan.units)
        while pending:
            ready = [u for u in pending if all(store.has(r.pass_index, r.frame) for r in u.needs)]
            unit = ready[rng.integers(len(ready))]
            execute(plan, fake_parts(store, []), units=[unit.key])
            pending.remove(unit)
        assert store.frames.keys() == whole.frames.keys()
        for key in whole.frames:
            np.testing.assert_array_equal(store.frames[key], whole.frames[key])


def test_critical_path_shrinks_with_workers_and_chunks():
    unchunked = make_plan(1000, ScheduleConfig())
    assert unchunked.critical_path(8) == 1000
    chunked = make_plan(1000, ScheduleConfig(chunk_frames=25))
    assert chunked.critical_path(1) == len(chunked.steps)
    assert chunked.critical_path(64) < chunked.critical_path(8) < chunked.critical_path(1) / 4


def test_the_anchor_takes_its_share_of_the_temporal_weight_outside_ruders_exclusion():
    from types import SimpleNamespace

    import torch

    from artvid.rendering.execute import Temporal
    from artvid.rendering.parts import FrameStylizer
    from artvid.rendering.progress import Silent

    plan = make_plan(12, ScheduleConfig(chunk_frames=6), offsets=(1, 2))
    step = next(s for s in plan.steps if s.frame == 4)  # two frames before keyframe 7
    assert step.anchor == Ref(1, 6) and len(step.temporal) == 2
    received = []

    class Recording:
        def stylize(self, content, init, iterations, temporal, **kwargs):
            received.extend(t.weight for t in temporal)
            return SimpleNamespace(image=init, iterations=iterations, losses={})

    content = np.zeros((H, W, 3), np.uint8)
    frame_stylizer = FrameStylizer(Recording(), lambda i: content, plan, Silent(), torch.device("cpu"))
    init = np.zeros((H, W, 3), np.float32)
    previous = np.full((H, W), 0.5, np.float32)  # offset 1: half reliable
    further = np.ones((H, W), np.float32)  # offset 2 only counts where offset 1 does not
    key = np.full((H, W), 0.8, np.float32)
    temporal = [Temporal(init, previous), Temporal(init, further), Temporal(init, key)]
    frame_stylizer(4, init, temporal, 3, 1)
    got = [float(w.mean()) for w in received]
    a = step.anchor_weight
    assert a == 1 / 2 and got == pytest.approx([0.5 * (1 - a), 0.5 * (1 - a), 0.8 * a])


def test_critical_path_follows_the_drivers_policy_on_units_ordered_by_remaining_work():
    plan = make_plan(40, ScheduleConfig(chunk_frames=10, iterations_first=400))
    keys = [u.key for u in plan.units]
    assert keys[:4] == [f"shot0-key{c}" for c in range(4)] and keys.index("shot0-chunk3") < keys.index("shot0-tail0")
    # Worker 1 solves the keyframes (4 x 400 iterations) while worker 2 runs the heads of chunks
    # 0, 1, 2 (480 each, from 400, 880, 1360); at 1600 worker 1 takes chunk 3 (1080, no tail),
    # worker 2 the tails 0 and 1 (600 each) from 1840, and worker 1 tail 2 from 2680 until 3280.
    assert plan.critical_path(1, by_iterations=True) == plan.iterations() == 5920
    assert plan.critical_path(2, by_iterations=True) == 3280
    for workers in (2, 3, 8):
        assert plan.critical_path(workers, True) >= max(plan.iterations() / workers, 4 * 400 + 1080)


def test_only_chunk_tails_have_anchors():
    for plan in (make_plan(12, ScheduleConfig(passes=3)), make_plan(12, ScheduleConfig(passes=3, chunk_frames=6))):
        for step in plan.steps:
            assert (step.anchor is None) == (step.anchor_weight == 0.0)
    last_chunk = [s for s in make_plan(12, ScheduleConfig(passes=3, chunk_frames=6)).steps if s.frame > 6]
    assert {s.pass_index for s in last_chunk if s.anchor is not None} == {2}  # only its backward sweep


def test_the_anchor_counts_as_a_temporal_target_for_the_memory_check():
    plan = make_plan(12, ScheduleConfig(chunk_frames=6), offsets=(1, 2))
    assert make_plan(12, ScheduleConfig(), offsets=(1, 2)).most_temporal_targets() == 2
    assert plan.most_temporal_targets() == 3  # a tail frame: offsets 1 and 2, and its keyframe


def test_the_flow_warper_chains_consecutive_pairs():
    from types import SimpleNamespace

    from artvid.rendering.parts import flow_warper

    asked = []

    class Shifts:  # every frame moves one pixel right of the previous one
        def wait(self, i, j):
            asked.append((i, j))
            shift = np.zeros((H, W, 2), np.float32)
            shift[..., 0] = j - i
            return SimpleNamespace(flow=shift, reliability=np.ones((H, W), np.float32))

    image = np.random.default_rng(0).random((H, W, 3)).astype(np.float32)
    warp = flow_warper(Shifts(), "bicubic")
    chained, rel = warp(image, 0, 3, True)
    assert asked == [(0, 1), (1, 2), (2, 3)]
    direct, _ = warp(image, 0, 3)
    np.testing.assert_array_equal(chained, direct)
    assert rel[:, : W - 3].min() == 1.0 and rel[:, W - 3 :].max() == 0.0


def test_a_residual_carry_warps_the_difference_from_the_content_onto_the_new_content():
    from types import SimpleNamespace

    from artvid.rendering.parts import flow_warper

    class Shifts:  # every frame moves one pixel right of the previous one
        def wait(self, i, j):
            shift = np.zeros((H, W, 2), np.float32)
            shift[..., 0] = j - i
            return SimpleNamespace(flow=shift, reliability=np.ones((H, W), np.float32))

    rng = np.random.default_rng(1)
    content = {k: rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for k in (0, 1)}
    image = rng.random((H, W, 3)).astype(np.float32)
    carried, reliability = flow_warper(Shifts(), "bilinear", content.__getitem__)(image, 1, 0)
    moved, same = flow_warper(Shifts(), "bilinear")(image - content[0] / np.float32(255), 1, 0)
    np.testing.assert_allclose(carried, np.clip(content[1] / np.float32(255) + moved, 0, 1), atol=1e-6)
    np.testing.assert_array_equal(reliability, same)
    # Where the previous frame is its own content, the new frame starts from its own content.
    plain, _ = flow_warper(Shifts(), "bilinear", content.__getitem__)(content[0] / np.float32(255), 1, 0)
    np.testing.assert_allclose(plain[:, 1:], content[1][:, 1:] / 255, atol=1e-6)


def test_ray_units_receive_the_content_of_the_frames_they_warp_from():
    from artvid.rendering.ray_schedule import unit_inputs

    plan = make_plan(12, ScheduleConfig(chunk_frames=6, passes=2), offsets=(1,))
    for unit in plan.units:
        given = {key[1] for key in unit_inputs(unit) if key[0] == "content"}
        assert {j for step in unit.steps for _, j, _ in step.warps()} <= given


def test_carry_is_checked():
    assert make_plan(3, ScheduleConfig(carry="residual"), offsets=(1,)).carry == "residual"
    with pytest.raises(ConfigError, match="carry must be one of image, residual"):
        ScheduleConfig(carry="flow")


@pytest.mark.parametrize("offsets", [(1,), (1, 10)])
def test_a_chunked_plan_warps_with_no_pair_the_unchunked_plan_lacks(offsets):
    # So `artvid flow` (which knows nothing of chunks) precomputes every pair a chunked render reads.
    chunked = make_plan(40, ScheduleConfig(chunk_frames=9, passes=2), offsets)
    unchunked = make_plan(40, ScheduleConfig(passes=2), offsets)
    assert set(chunked.flow_pairs) <= set(unchunked.flow_pairs)


def test_a_frame_that_is_both_start_and_temporal_target_is_warped_once():
    plan = make_plan(5, ScheduleConfig(passes=2), offsets=(1, 2))
    warps = []
    parts = fake_parts(MemoryStore(), [])
    plain = parts.warp

    def warp(image, i, j, chained=False):
        warps.append((i, j))
        return plain(image, i, j)

    parts.warp = warp
    execute(plan, parts)
    assert len(warps) == len(set(warps))  # pass 1: the previous frame once; a sweep: its neighbour once
    assert len(warps) == sum(len(s.temporal) for s in plan.steps)


def test_the_presets_carry_the_residual_and_stretch_levels_except_the_papers():
    from artvid.config import build_config

    for quality in ("draft", "balanced"):
        config = build_config(quality)
        assert (config.schedule.carry, config.stylize.content_levels) == ("residual", "stretch")
    paper = build_config("paper")
    assert (paper.schedule.carry, paper.stylize.content_levels) == ("image", "none")
