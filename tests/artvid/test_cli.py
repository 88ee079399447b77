"""The command line: options map to configs, errors become one line and a non-zero exit."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from artvid import cli
from artvid.config import PRESETS, Quality, build_config
from artvid.errors import ConfigError
from tests.helpers import tiny_draft_budget, translating_clip, write_frame_folder


@pytest.fixture
def runner():
    return CliRunner()


def test_presets_only_name_real_fields():
    for quality, sections in PRESETS.items():
        config = build_config(quality)
        for section, values in sections.items():
            for name, value in values.items():
                assert getattr(getattr(config, section), name) == value


def test_build_config_refuses_unknown_settings():
    with pytest.raises(ConfigError, match=r"unknown schedule settings \['bogus'\]"):
        build_config(schedule={"bogus": 3})
    with pytest.raises(ConfigError, match="unknown configuration sections"):
        build_config(render={"passes": 2})


def test_explicit_options_override_the_preset(runner, monkeypatch, clip, style, tmp_path):
    seen = {}

    def fake_render(clip, styles, output, config, options):
        seen["config"], seen["options"] = config, options
        from artvid.rendering import RenderSummary

        return RenderSummary(str(output), "w", "cpu", 4, 1, [32, 40])

    monkeypatch.setattr("artvid.rendering.run.render", fake_render)
    result = runner.invoke(
        cli.main,
        ["render", str(clip), "--style", str(style), "--quality", "paper", "--iterations", "7",
         "--long-term", "1,2", "--init", "prev", "--flow-method", "deepflow", "-o", str(tmp_path / "o.mp4"), "-q"],
    )
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert config.schedule.iterations == 7
    assert config.schedule.iterations_first == PRESETS[Quality.PAPER]["schedule"]["iterations_first"]
    assert config.flow.long_term == (1, 2) and config.flow.method == "deepflow"
    assert config.schedule.init.value == "prev"


def test_flow_command_fills_then_reuses_and_exports(runner, clip, tmp_path):
    args = ["flow", str(clip), "--cache-dir", str(tmp_path / "c"), "--workers", "1", "--json", "-q"]
    first = runner.invoke(cli.main, args + ["--export", str(tmp_path / "x")])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["pairs"] == 3 and summary["computed"] == 3 and summary["exported_files"] == 12
    assert (tmp_path / "x" / "backward_2_1.flo").exists()
    second = runner.invoke(cli.main, args)
    assert json.loads(second.stdout)["computed"] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["flow", "{missing}"], "does not exist"),
        (["flow", "{garbage}"], "Error:"),
        (["flow", "{clip}", "--method", "farneback"], "farneback"),
        (["flow", "{clip}", "--long-term", "1,x"], "offsets"),
        (["flow", "{clip}", "--long-term", "1,40"], "40"),
        (["flow", "{clip}", "--cache-dir", "{blocker}/sub"], "flow cache"),
        (["render", "{clip}", "--style", "{garbage}"], "Error:"),
        (["render", "{clip}", "--style", "{style}", "--passes", "0"], "passes"),
        (["render", "{clip}", "--style", "{style}", "--content-weight", "-1"], "content"),
        (["render", "{clip}", "--style", "{style}", "-o", "{tmp}/missing/out.mp4"], "does not exist"),
        (["render", "{clip}", "--style", "{style}", "-o", "{tmp}/out.avi"], "must end"),
        (["render", "{clip}", "--style", "{style}", "--long-term", "1,10"], "10"),
        (["render", "{clip}", "--style", "{style}", "--device", "cuda:7"], "CUDA"),
        (["render", "{clip}", "--style", "{style}", "--style-layers", "relu9_9"], "relu9_9"),
        (["render", "{clip}", "--style", "{style}", "--weights", "{garbage}"], "Error:"),
        (["image", "{style}", "--style", "{style}", "-o", "{tmp}/missing/x.png"], "does not exist"),
        (["image", "{style}", "--style", "{style}", "-o", "{tmp}/x.gif"], "image suffix"),
        (["image", "{style}", "--style", "{style}", "-o", "{style}"], "input"),
        (["flow", "{clip}", "--size", "100000"], "--upscale"),
        (["render", "{clip}", "--style", "{style}", "--size", "100000"], "--upscale"),
        (["render", "{clip}", "--style", "{style}", "-o", "{clip}"], "input"),
        (["render", "{clip}", "--style", "{style}", "--cuts", "1"], "cuts"),
        (["render", "{clip}", "--style", "{style}", "--cuts", "9"], "frame 9"),
        (["render", "{clip}", "--style", "{style}", "--size", "16"], "at least 16 px on each side"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(runner, clip, style, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_text("this is not a video")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    fill = {"missing": tmp_path / "nope.mp4", "garbage": garbage, "clip": clip, "style": style,
            "tmp": tmp_path, "blocker": blocker}
    result = runner.invoke(cli.main, [a.format(**fill) for a in args] + ["-q"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert message in result.output
    assert not list(tmp_path.glob("*.artvid-work")), "a refused render must not leave a work directory"
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1, result.output


def test_version_and_help(runner):
    assert runner.invoke(cli.main, ["--version"]).exit_code == 0
    for command in ("flow", "render", "image"):
        result = runner.invoke(cli.main, [command, "-h"])
        assert result.exit_code == 0 and "Example:" in result.output


def test_compare_command_with_baselines_writes_a_report(runner, clip, style, tmp_path, monkeypatch):
    tiny_draft_budget(monkeypatch)  # the baselines use a preset budget: keep the test in seconds
    report = tmp_path / "report"
    result = runner.invoke(cli.main, [
        "compare", str(clip), str(clip), "--names", "itself", "--style", str(style), "--baselines",
        "--quality", "draft", "--flow-method", "dis", "--long-term", "2", "--workers", "1",
        "--device", "cpu", "-o", str(report), "-q", "--json",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [i["name"] for i in summary["inputs"]] == ["content", "independent", "single-pass", "itself"]
    assert summary["summary"]["itself"]["ruder"] == pytest.approx(summary["summary"]["content"]["ruder"])
    for name in ("metrics.csv", "summary.json", "metrics.png", "side_by_side.mp4"):
        assert (report / name).exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["compare", "{clip}"], "nothing to compare"),
        (["compare", "{clip}", "--baselines"], "--baselines needs --style"),
        (["compare", "{clip}", "{short}"], "frames"),
        (["compare", "{clip}", "{clip}", "--size", "16"], "too small to score"),
    ],
)
def test_compare_errors(runner, clip, tmp_path, args, message):
    short = tmp_path / "short"
    write_frame_folder(short, translating_clip(3, 32, 40, 2, 1))
    result = runner.invoke(cli.main, [a.format(clip=clip, short=short) for a in args] + ["-q"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert message in result.output


@pytest.mark.parametrize(
    "extra",
    [
        ["--optimizer", "adam", "--learning-rate", "5", "--init", "content", "--init-first", "content"],
        ["--style", "{style}", "--style-blend-weights", "1,3", "--style-scale", "0.5", "--original-colors"],
        ["--passes", "2", "--long-term", "1,2", "--blend-weight", "0.5", "--temporal-from-pass", "2", "--check", "photometric"],
        ["--init", "first", "--tv-weight", "0", "--pooling", "avg", "--tolerance", "0", "--seed", "3"],
        ["--init", "prev", "--flow-method", "deepflow", "--content-layers", "relu3_2,relu4_2", "--style-layers", "relu1_1,relu2_1"],
        ["--size", "32", "--coarse-to-fine", "1", "--iterations-first", "1", "--iterations", "1"],
    ],
)
def test_render_option_values_end_to_end(runner, clip, style, tmp_path, monkeypatch, extra):
    tiny_draft_budget(monkeypatch)
    out = tmp_path / "frames"
    args = ["render", str(clip), "--style", str(style), "--quality", "draft", "--workers", "1", "--device", "cpu",
            "--cache-dir", str(tmp_path / "c"), "-o", str(out), "-q", "--json"]
    result = runner.invoke(cli.main, args + [a.format(style=style) for a in extra])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["frames_stylized"] == 4 * summary["passes"]
    assert len(list(out.glob("*.png"))) == 4


def test_render_of_a_narrow_strip(runner, style, tmp_path, monkeypatch):
    # 16x160 frames: cut detection measures them at 128x13, where OpenCV's DIS used to crash the
    # process (a segmentation fault, no message).
    tiny_draft_budget(monkeypatch)
    strip = tmp_path / "strip"
    write_frame_folder(strip, translating_clip(3, 16, 160, 2, 0))
    out = tmp_path / "out"
    args = ["render", str(strip), "--style", str(style), "--quality", "draft", "--device", "cpu",
            "--cache-dir", str(tmp_path / "c"), "-o", str(out), "-q"]
    result = runner.invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("*.png"))) == 3


def test_the_default_output_name_of_long_names_fits_the_file_system(runner, make_clip, style, tmp_path, monkeypatch):
    # Downloaded clips often have titles of 200 characters and more; <clip>-<style>.mp4 and the
    # names made from it (work directory, temporary video) went over the 255 bytes a name may have.
    tiny_draft_budget(monkeypatch)
    monkeypatch.chdir(tmp_path)
    title = ("Très long titre d'une vidéo téléchargée " * 6)[:225].strip()  # 225 characters, 251 bytes
    clip = make_clip(name=title)
    args = ["render", str(clip), "--style", str(style), "--quality", "draft", "--workers", "1", "--device", "cpu", "-q"]
    result = runner.invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    [video] = tmp_path.glob("*.mp4")
    stem = video.name.removesuffix("-style.mp4")
    assert title.startswith(stem) and 98 <= len(stem.encode()) <= 100  # cut on a character boundary
    assert (tmp_path / f"{video.name}.artvid-work").is_dir()


def test_render_default_output_name_and_resume_message(runner, clip, style, tmp_path, monkeypatch):
    tiny_draft_budget(monkeypatch)
    monkeypatch.chdir(tmp_path)
    args = ["render", str(clip), "--style", str(style), "--quality", "draft", "--workers", "1", "--device", "cpu"]
    result = runner.invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "clip-style.mp4").exists()
    assert "wrote clip-style.mp4" in result.stderr
    # Where the finished frames stay, and how much they take: an HD render's can be tens of GB.
    work = tmp_path / "clip-style.mp4.artvid-work"
    size = sum(f.stat().st_size for f in work.rglob("*") if f.is_file())
    assert f"its frames are kept in clip-style.mp4.artvid-work ({size / 1e3:.0f} kB) to resume" in result.stderr
    again = runner.invoke(cli.main, args + ["--json", "-q"])
    assert json.loads(again.stdout)["frames_resumed"] == 4


def test_interrupted_render_says_how_to_resume(runner, clip, style, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("artvid.rendering.run.render", interrupt)
    result = runner.invoke(cli.main, ["render", str(clip), "--style", str(style), "-o", str(tmp_path / "o.mp4")])
    assert result.exit_code == 130
    assert "run the same command again to resume" in result.output


def test_image_command(runner, style, tmp_path):
    from artvid import images

    content = tmp_path / "content.png"
    images.save_image(content, translating_clip(1, 40, 48)[0])
    out = tmp_path / "out.png"
    result = runner.invoke(cli.main, ["image", str(content), "--style", str(style), "-o", str(out), "--iterations", "2",
                                      "--device", "cpu", "--init", "content", "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["iterations"] == 2
    assert images.load_image(out).shape == (40, 48, 3)


def test_the_image_bar_ends_at_the_last_iteration(style, tmp_path, capsys):
    from artvid import images
    from artvid.still import stylize_image
    from artvid.stylize import StylizeConfig

    content = tmp_path / "content.png"
    images.save_image(content, translating_clip(1, 40, 48)[0])
    stylize_image(content, [style], tmp_path / "out.png", StylizeConfig(tolerance=0.0), iterations=12, device="cpu")
    err = capsys.readouterr().err
    assert "12/12" in err and "content=" in err


def test_flow_rejects_a_folder_of_mixed_sizes(runner, tmp_path):
    folder = tmp_path / "mixed"
    write_frame_folder(folder, translating_clip(3, 32, 40))
    from artvid import images

    images.save_image(folder / "003.png", translating_clip(1, 30, 40)[0])
    result = runner.invoke(cli.main, ["flow", str(folder), "-q"])
    assert result.exit_code == 1 and "003.png" in result.output and "Traceback" not in result.output


def test_flow_rejects_a_zero_frame_video(runner, tmp_path):
    import av

    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        container.start_encoding()
    result = runner.invoke(cli.main, ["flow", str(path), "-q"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len([l for l in result.output.splitlines() if l.startswith("Error")]) == 1


def test_flow_rejects_a_truncated_video(runner, tmp_path):
    from artvid.video import VideoWriter

    full = tmp_path / "full.mp4"
    with VideoWriter(full, 10, 40, 32) as writer:
        for frame in translating_clip(20, 32, 40):
            writer.write(frame)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.8)])
    result = runner.invoke(cli.main, ["flow", str(cut), "-q"])
    assert result.exit_code == 1 and "truncated" in result.output and "Traceback" not in result.output


def test_options_of_fields_new_to_the_cli_reach_the_config(runner, monkeypatch, clip, style, tmp_path):
    seen = {}

    def fake_render(clip, styles, output, config, options):
        seen["config"] = config
        from artvid.rendering import RenderSummary

        return RenderSummary(str(output), "w", "cpu", 4, 1, [32, 40])

    monkeypatch.setattr("artvid.rendering.run.render", fake_render)
    result = runner.invoke(cli.main, [
        "render", str(clip), "--style", str(style), "--lbfgs-history", "7", "--tolerance-window", "3", "--no-amp",
        "--size", "48", "--temporal-weight", "0", "--seed", "5", "-o", str(tmp_path / "o.mp4"), "-q",
    ])
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert (config.stylize.lbfgs_history, config.stylize.tolerance_window, config.stylize.amp) == (7, 3, False)
    assert (config.size, config.stylize.temporal_weight, config.schedule.seed) == (48, 0.0, 5)


def test_image_options_reach_the_stylizer(runner, monkeypatch, style, tmp_path):
    seen = {}

    def fake_stylize_image(content, styles, output, config, **kwargs):
        seen.update(kwargs, config=config)
        return {"iterations": kwargs["iterations"]}

    monkeypatch.setattr("artvid.still.stylize_image", fake_stylize_image)
    result = runner.invoke(cli.main, [
        "image", str(style), "--style", str(style), "-o", str(tmp_path / "x.png"), "--iterations", "9", "--init",
        "random", "--seed", "4", "--size", "32", "--style-weight", "7", "--tolerance-window", "2", "--device", "cpu",
        "--json", "-q",
    ])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"iterations": 9}
    assert (seen["iterations"], seen["init"].value, seen["seed"], seen["size"], seen["device"]) == (9, "random", 4, 32, "cpu")
    assert (seen["config"].style_weight, seen["config"].tolerance_window) == (7.0, 2)


def test_compare_options_reach_the_compare_config(runner, monkeypatch, clip, style, tmp_path):
    from artvid.errors import CompareError

    seen = {}

    def fake_run_compare(content, stylized, config, progress):
        seen["config"] = config
        raise CompareError("stopped here")

    monkeypatch.setattr("artvid.compare.run_compare", fake_run_compare)
    result = runner.invoke(cli.main, [
        "compare", str(clip), str(clip), "--names", "a", "--style", str(style), "--no-perceptual", "--weights",
        "torchvision", "--flow-method", "dis", "--long-term", "3", "--size", "32", "--workers", "1",
        "--cache-dir", str(tmp_path / "c"), "-q",
    ])
    assert result.exit_code == 1 and "stopped here" in result.output
    config = seen["config"]
    assert (config.names, config.style, config.perceptual, config.weights) == (("a",), style, False, "torchvision")
    assert (config.flow_method, config.long_term, config.size, config.workers) == ("dis", 3, 32, 1)
    assert (config.device, config.cache_dir) == ("auto", tmp_path / "c")


def test_absurd_weights_are_one_clear_line_not_an_unstylized_result(runner, clip, style, tmp_path):
    result = runner.invoke(cli.main, [
        "render", str(clip), "--style", str(style), "-o", str(tmp_path / "out/"), "--style-weight", "1e38",
        "--iterations-first", "12", "--device", "cpu", "-q",
    ])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert [line for line in result.output.splitlines() if line.startswith("Error")] == result.output.splitlines()
    assert not list((tmp_path / "out").glob("0*.png"))


def test_render_ray_options_reach_the_run_options(runner, clip, style, tmp_path, monkeypatch):
    from artvid.rendering import OverallProgress

    seen = {}

    def fake(clip, styles, output, config, options):
        seen["options"] = options
        raise KeyboardInterrupt

    monkeypatch.setattr("artvid.rendering.run.render", fake)
    args = ["render", str(clip), "--style", str(style), "-o", str(tmp_path / "o.mp4"), "--backend", "ray",
            "--ray-address", "auto", "--ray-workers", "3", "--gpus-per-worker", "0.5"]
    assert runner.invoke(cli.main, args).exit_code == 130
    options = seen["options"]
    assert (options.backend, options.ray_address, options.ray_workers, options.gpus_per_worker) == ("ray", "auto", 3, 0.5)
    assert isinstance(options.progress, OverallProgress)
    bad = runner.invoke(cli.main, args[:6] + ["--gpus-per-worker", "0"])
    assert bad.exit_code == 2 and "gpus-per-worker" in bad.output


def test_summaries_count_in_words():
    from artvid.cli.output import plural

    assert [plural(1, "frame"), plural(12, "frame"), plural(1, "pass"), plural(3, "pass")] == [
        "1 frame", "12 frames", "1 pass", "3 passes",
    ]


def test_a_warning_during_a_progress_bar_gets_a_line_of_its_own():
    # A library warning mid-render (a small style image, a worker retried) used to be glued onto
    # the end of the bar's line. The command's own logging set-up, in a process of its own (under
    # pytest the root logger already has handlers, and basicConfig would do nothing).
    import subprocess
    import sys

    code = (
        "import logging; from tqdm import tqdm; from artvid.cli.output import setup_logging; setup_logging(False); "
        "bar = tqdm(total=4, desc='pass 1/1'); bar.update(1); "
        "logging.getLogger('artvid.stylize').warning('style image of 48x48 px is enlarged'); bar.update(1); bar.close()"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.replace("\r", "\n").splitlines()
    assert "artvid: style image of 48x48 px is enlarged" in lines, run.stderr
