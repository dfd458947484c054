"""benchmarks/cpu_dependence.py: the bitwise comparison on synthetic arrays, the oneDNN header it records, and
one real worker process per setting (a tiny layer, default against default: must be bit-identical)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks import cpu_dependence as cd

TINY_LAYER = "Dense 32->8 softmax (classifier)"


def test_identical_arrays_compare_equal_and_a_last_bit_difference_does_not():
    rng = np.random.default_rng(0)
    a = {"output": rng.random((3, 4), dtype=np.float32), "grad kernel": rng.random(5, dtype=np.float32)}
    same = {k: v.copy() for k, v in a.items()}
    assert cd.compare_arrays(a, same) == {"identical": True, "max_abs_diff": 0.0, "differs": []}
    moved = {k: v.copy() for k, v in a.items()}
    moved["grad kernel"][2] = np.nextafter(moved["grad kernel"][2], np.float32(2))  # one ulp
    result = cd.compare_arrays(a, moved)
    assert not result["identical"] and result["differs"] == ["grad kernel"]
    assert result["max_abs_diff"] == pytest.approx(float(abs(moved["grad kernel"][2] - a["grad kernel"][2])))
    assert 0 < result["max_abs_diff"] < 1e-6


def test_nans_in_the_same_place_are_equal_but_missing_arrays_or_shapes_are_errors():
    a = {"loss": np.array([1.0, np.nan], np.float32)}
    assert cd.compare_arrays(a, {"loss": np.array([1.0, np.nan], np.float32)})["identical"]
    assert not cd.compare_arrays(a, {"loss": np.array([1.0, 2.0], np.float32)})["identical"]
    with pytest.raises(ValueError, match="different arrays"):
        cd.compare_arrays(a, {"other": a["loss"]})
    with pytest.raises(ValueError, match="shapes differ"):
        cd.compare_arrays(a, {"loss": np.zeros(3, np.float32)})


def test_compare_runs_makes_one_tidy_row_per_component_and_setting():
    base = {"conv": {"output": np.ones(3, np.float32)}, "lrcn": {"w": np.zeros(2, np.float32)}}
    moved = {"conv": {"output": np.array([1, 1, 1.5], np.float32)}, "lrcn": {"w": np.zeros(2, np.float32)}}
    table = cd.compare_runs({"default": base, "isa_avx2": moved}, kinds={"conv": "layer", "lrcn": "model"},
                            timings={"default": {"lrcn": {"step_ms": 10.0, "step_cpu_ms": 19.0}},
                                     "isa_avx2": {"lrcn": {"step_ms": 12.0, "step_cpu_ms": 23.0}}},
                            headers={"default": {"onednn_isa": "AMX", "threads": "2"}})
    assert list(table.columns) == cd.COLUMNS
    row = table.set_index(["setting", "component"]).loc[("isa_avx2", "conv")]
    assert not row.identical and row.max_abs_diff == 0.5 and row.differs == "output" and row.reference == "default"
    assert row.env == "ONEDNN_MAX_CPU_ISA=AVX2"
    assert table.set_index(["setting", "component"]).loc[("isa_avx2", "lrcn")].identical
    assert table.set_index(["setting", "component"]).loc[("default", "lrcn")].step_ms == 10.0
    assert table.set_index(["setting", "component"]).loc[("isa_avx2", "lrcn")].step_cpu_ms == 23.0
    assert pd.isna(table.set_index(["setting", "component"]).loc[("isa_avx2", "conv")].step_ms)  # layers: untimed
    with pytest.raises(ValueError, match="reference 'onednn_off'"):
        cd.compare_runs({"default": base, "onednn_off_avx2": base}, kinds={"conv": "layer", "lrcn": "model"},
                        timings={}, headers={})


def test_the_onednn_header_is_read_from_verbose_output():
    out = ("onednn_verbose,v1,info,oneDNN v3.7.3 (commit N/A)\nonednn_verbose,v1,info,cpu,runtime:threadpool,nthr:8\n"
           "onednn_verbose,v1,info,cpu,isa:Intel AVX2\nonednn_verbose,v1,primitive,create:cache_miss,...\n")
    assert cd.onednn_header(out) == {"onednn_isa": "Intel AVX2", "threads": "8"}
    assert cd.onednn_header("") == {"onednn_isa": "", "threads": ""}


def test_a_tensorflow_graph_error_is_named_by_its_message_and_op():
    text = ("Graph execution error:\n\nDetected at node gradient_tape/x/Conv2DBackpropInput defined at:\n"
            "  File \"a.py\", line 1, in f\n\nfilter_size does not have enough elements, requested 2304, got 576\n"
            "\t [[{{node gradient_tape/x/Conv2DBackpropInput}}]] [Op:__inference_f_1]")
    assert cd.error_line(ValueError(text)) == ("ValueError: filter_size does not have enough elements, requested 2304, "
                                               "got 576 (op Conv2DBackpropInput)")
    assert cd.error_line(RuntimeError("plain\nmore")) == "RuntimeError: plain"


def test_every_setting_compares_with_a_setting_that_exists():
    assert all(reference in cd.SETTINGS for _, reference in cd.SETTINGS.values())


def test_a_second_process_with_the_same_setting_is_bit_identical_and_a_cap_is_applied(tmp_path):
    """Real workers: one small Dense layer, forward and gradients, default twice and capped at AVX2."""
    runs, headers = {}, {}
    for setting in ("default", "default_rerun", "isa_avx2"):
        runs[setting], meta, headers[setting] = cd.run_setting(setting, tmp_path, steps=2, quick=True,
                                                               layers_only=[TINY_LAYER], models_only=[],
                                                               timeout=120)
        assert meta["kinds"] == {TINY_LAYER: "layer"}
    arrays = runs["default"][TINY_LAYER]
    assert set(arrays) == {"output", "grad dense/kernel", "grad dense/bias", "grad input0"}
    assert np.allclose(arrays["output"].sum(axis=-1), 1, atol=1e-5)  # a softmax really ran
    table = cd.compare_runs(runs, kinds=meta["kinds"], timings={}, headers=headers)
    assert table.set_index("setting").loc["default_rerun"].identical
    if headers["default"]["onednn_isa"]:  # oneDNN ran and said which kernels: the cap must show in its header
        assert headers["isa_avx2"]["onednn_isa"] == "Intel AVX2"


def test_bad_arguments_exit_2_with_one_line(capsys):
    for argv, message in ((["--settings", "default_rerun,fast"], "unknown fast"), (["--steps", "1"], "at least 2")):
        with pytest.raises(SystemExit) as stop:
            cd.main(argv)
        assert stop.value.code == 2 and message in capsys.readouterr().err
