"""How much of a whole render is done and how long the rest takes: work weighted by iterations and
pixels, the pace measured on the frames this run computed."""

from __future__ import annotations

import pytest

from artvid.config import build_config

from artvid.multipass import ScheduleConfig
from artvid.rendering import Progress, RunOptions, TqdmProgress, make_plan, render
from artvid.rendering.progress import RemainingTime

SCHEDULE = ScheduleConfig(iterations_first=10, iterations=4, pass_iterations=2, passes=2)


def test_the_work_of_every_scale_and_pass_is_counted_by_iterations_and_pixels():
    small, large = make_plan(3, SCHEDULE), make_plan(3, SCHEDULE)
    # Each plan: pass 1 = 10 + 4 + 4 iterations, pass 2 = 3 x 2: 24 iterations; large has 4x the pixels.
    remaining = RemainingTime([(small, 100), (large, 400)])
    assert remaining.fraction == 0 and remaining.seconds_left is None
    first = small.steps[0]
    remaining.frame_done(small, first, iterations=10, seconds=2.0)  # 1000 units in 2 s
    assert remaining.fraction == pytest.approx(1000 / (24 * 100 + 24 * 400))
    assert remaining.seconds_left == pytest.approx((24 * 500 - 1000) * 2.0 / 1000)
    assert remaining.describe() == "render 8%, ~22s left"


def test_resumed_frames_are_done_but_do_not_set_the_pace():
    plan = make_plan(3, SCHEDULE)
    remaining = RemainingTime([(plan, 100)])
    remaining.frame_done(plan, plan.steps[0])  # found finished
    assert remaining.fraction == pytest.approx(10 / 24) and remaining.seconds_left is None
    remaining.frame_done(plan, plan.steps[1], iterations=4, seconds=4.0)
    assert remaining.seconds_left == pytest.approx(10 * 100 * 4.0 / 400)


def test_a_frame_that_stopped_early_sets_the_pace_by_the_iterations_it_ran():
    plan = make_plan(2, SCHEDULE)
    remaining = RemainingTime([(plan, 1)])
    remaining.frame_done(plan, plan.steps[0], iterations=5, seconds=5.0)  # stopped at 5 of 10
    assert remaining.seconds_left == pytest.approx(4 + 2 + 2)  # 1 s an iteration, caps still to run
    assert remaining.fraction == pytest.approx(5 / (5 + 4 + 2 + 2))  # done as far as it ran


@pytest.mark.parametrize(("seconds", "text"), [(42, "42s"), (754, "12m34s"), (3900, "1h05m")])
def test_durations_read_as_hours_minutes_seconds(seconds, text):
    plan = make_plan(2, ScheduleConfig(iterations_first=1, iterations=1, passes=1))
    remaining = RemainingTime([(plan, 1)])
    remaining.frame_done(plan, plan.steps[0], iterations=1, seconds=seconds)
    assert remaining.describe() == f"render 50%, ~{text} left"


def _run(progress, plans, scales=None) -> None:
    """Feeds ``progress`` every step of ``plans`` (scales, in order) as a render would."""
    if scales is not None:
        progress.render_started(scales)
    for plan in plans:
        progress.start(plan)
        for step in plan.steps:
            progress.frame_started(step)
            progress.frame_done(step, resumed=False)
        progress.close()


def test_the_bar_shows_the_whole_render(capsys):
    plan = make_plan(3, SCHEDULE)
    _run(TqdmProgress(), [plan], [(plan, 100)])
    err = capsys.readouterr().err
    assert "pass 1/2 (render 75%" in err and "pass 2/2 (render 100%, ~0s left)" in err


def test_without_the_render_announced_the_bar_is_per_pass_only(capsys):
    _run(TqdmProgress(), [make_plan(2, SCHEDULE)])
    err = capsys.readouterr().err
    assert "pass 2/2:" in err and "render" not in err


def test_the_overall_bar_of_a_multi_scale_render_shows_the_whole_render(capsys):
    from artvid.rendering import OverallProgress

    small, large = make_plan(3, SCHEDULE), make_plan(3, SCHEDULE)
    _run(OverallProgress(), [small, large], [(small, 100), (large, 400)])
    err = capsys.readouterr().err
    assert "render 20%" in err and "render 100%, ~0s left" in err


class _Iterations(Progress):
    every = 10

    def __init__(self) -> None:
        self.last: dict[tuple[int, int], int] = {}

    def iteration(self, step, iteration, losses) -> None:
        self.last[step.pass_index, step.frame] = iteration


def test_frames_shorter_than_the_report_interval_report_their_last_iteration(tmp_path, clip, style):
    # Draft later passes run 10 iterations, scales after the first 15: the bar's "it 10/15" (or a
    # first frame's stale numbers on frames that run fewer than 10) would never show a frame end.
    progress = _Iterations()
    config = build_config(schedule={"iterations_first": 12, "iterations": 3, "pass_iterations": 2, "passes": 2})
    render(clip, [style], tmp_path / "out", config,
           RunOptions(device="cpu", workers=1, cache_dir=tmp_path / "cache", progress=progress))
    first = {(1, 0): 12}
    assert progress.last == {**{(1, f): 3 for f in range(1, 4)}, **first, **{(2, f): 2 for f in range(4)}}
