"""Regenerate the README's results sections from the files in ``results/``.

``python scripts/readme.py [README [RESULTS_DIR]]`` (``make readme``; ``make run`` and
``make bench`` call it last). Each section sits between ``<!-- BEGIN name -->`` and
``<!-- END name -->`` markers; a section whose source file is missing says so instead of
keeping stale numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):  # run as `python scripts/readme.py`: the checkout's `benchmarks` is importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.report import read_make_run  # noqa: E402  (the one reading of make_run.json, the bench's too)
from helpers.atomic import write_text  # noqa: E402
from helpers.config import project_root
from helpers.papers import PAPER000_TABLES, PAPER001, PAPER001_CORRECT, PAPER001_TEST_CLIPS
from helpers.results import to_markdown
from helpers.stats import (
    ALPHA,
    COMPARISON_COLUMNS,
    POST_HOC,
    compare_seeds,
    difference_interval,
    format_p,
    wilson_interval,
)
from helpers.synthetic import GENERATOR_VERSION, rendered_version

ROOT = Path(__file__).resolve().parent.parent


def _rounded(table: pd.DataFrame, *, decimals: int = 4) -> str:
    """``table`` as Markdown with each float column to the precision its measurement has:
    milliseconds to 0.1 ms, seconds to 1 s, GFLOPs to 3 places, losses/accuracies/rates to ``decimals``."""
    def fmt(column: str) -> str:
        name = column.lower()
        if name.endswith("_ms") or "ms_per" in name:
            return ".1f"
        if name.endswith("_s") or name.endswith("seconds"):
            return ".0f"
        return ".3f" if "gflops" in name else f".{decimals}f"

    shown = table.astype(object)
    for column in table.columns:
        if table[column].dtype.kind == "f":
            shown[column] = [format(v, fmt(column)) for v in table[column]]
    return to_markdown(shown)


def _dataset_line(results_dir: Path) -> str:
    meta_path = results_dir / "dataset.json"
    if not meta_path.exists():
        return "Dataset: unknown (no results/dataset.json)."
    meta = json.loads(meta_path.read_text())
    groups = f" ({meta['num_groups']} groups per class)" if meta.get("num_groups") else ""
    line = (f"Dataset: **{meta['dataset']}**, {meta['num_clips']} clips{groups}, {meta['num_classes']} classes, "
            f"{meta['num_frames']} frames of {meta['image_size']}x{meta['image_size']} per clip.")
    if meta.get("embedded"):
        # results recorded before dataset.json carried the version: ask the dataset folder
        version = meta.get("generator_version")
        if version is None:
            version = rendered_version(meta.get("dataset_dir"))
        if version == GENERATOR_VERSION:
            line = line.replace("UCF50 layout)", f"UCF50 layout, generator v{version})", 1)
        else:
            rendered = "an older generator" if version is None else f"generator v{version}"
            line += (f" **Out of date:** these numbers come from the embedded dataset rendered by {rendered}; "
                     f"the code now renders v{GENERATOR_VERSION}, and `make run` brings them up to date.")
    return line


def section_paper001(results_dir: Path) -> str:
    path = results_dir / "paper001.csv"
    if not path.exists():
        return "_Not produced yet: run `make run` (notebooks 01 and 02)._\n"
    table = pd.read_csv(path)
    paper = pd.DataFrame(PAPER001).T.add_prefix("paper_")
    table = table.join(paper, on="model")[["model", "protocol", "loss", "accuracy", "ms_per_step",
                                           "paper_loss", "paper_accuracy", "paper_ms_per_step"]]
    return (f"{_dataset_line(results_dir)} Protocol `random_clip` = the paper's clip-level split (leaks groups); "
            f"`group` = whole groups held out (honest). ms/step = `model.evaluate` per batch of 32 on this "
            f"machine's CPU. Source: `results/paper001.csv`.\n\n" + _rounded(table))


def section_paper000(results_dir: Path) -> str:
    path = results_dir / "paper000.csv"
    if not path.exists():
        return "_Not produced yet: run `make run` (notebook 03)._\n"
    return f"{_dataset_line(results_dir)} Source: `results/paper000.csv`.\n\n" + _rounded(pd.read_csv(path))


def section_model_comparison(results_dir: Path) -> str:
    path = results_dir / "model_comparison.csv"
    if not path.exists():
        return "_Not produced yet: run `make run` (notebook 05)._\n"
    text = (f"{_dataset_line(results_dir)} Every model on the same group-wise split: the LRCN, ConvLSTM, CNN, RNN "
            "and hybrid are the models notebooks 01-03 trained and saved, the transferred model notebook 10's, the "
            "other families are trained in notebook 05 with one budget (`trained_in` says which notebook and budget; "
            "`train_s` is that notebook's recorded training time); accuracy on held-out groups; GFLOPs per clip "
            "counted layer by layer (multiply-add = 2); "
            "latency = one compiled forward pass on one clip on this machine's CPU; `robust_*` = accuracy on the same "
            "perturbed test clips (noise sigma 20, blur sigma 1.5 px, brightness +40, 25% of frames dropped). "
            "Source: `results/model_comparison.csv`.\n\n" + _rounded(pd.read_csv(path), decimals=3))
    gan = results_dir / "gan_augmentation.csv"
    if gan.exists():
        text += ("\n\nGAN augmentation (notebook 08: conditional DCGAN frames added to a frame classifier's "
                 "training set; held-out groups; mean and std over seeds). Source: `results/gan_augmentation.csv`.\n\n"
                 + _rounded(pd.read_csv(gan), decimals=3))
    return text


def section_deployment(results_dir: Path) -> str:
    path = results_dir / "deployment.csv"
    if not path.exists():
        return "_Not produced yet: run `make run` (notebook 06)._\n"
    return (f"{_dataset_line(results_dir)} The LRCN, the ConvLSTM and the most accurate other family of notebook 05, "
            "each as its `.keras` file (`keras`: float32, the compiled Keras forward pass) and as LiteRT/TFLite files"
            " (`python -m helpers export`): float32, float16 weights, dynamic-range (int8 weights) and full int8 "
            "(calibrated on training clips; one scale per weight tensor, `tflite_int8_per_channel` one per output "
            "channel); `pruned_NN_int8` = NN % of every kernel's smallest weights zeroed, a short fine-tune, then "
            "full int8. size_kb = the file; latency_ms = one clip through the runtime that would serve it (LiteRT "
            "for `.tflite`) on every core of this machine's CPU; accuracy on held-out groups; agreement = "
            "share of held-out clips labelled as the float32 Keras model labels them. Notebook 06 checks the LRCN "
            "int8 targets (>= 3.5x smaller than float32, accuracy within 2 SE, agreement >= 0.97, latency no worse "
            "than Keras). "
            "Source: `results/deployment.csv`.\n\n" + _rounded(pd.read_csv(path), decimals=3))


def _comparison_rows(table: pd.DataFrame) -> pd.DataFrame:
    """comparisons.csv rows for reading: p-values as text (``< 0.001``), the interval in one column."""
    t = table.reindex(columns=COMPARISON_COLUMNS)  # a table from before the policy lacks the new columns
    return pd.DataFrame({
        "a": t.a, "b": t.b, "accuracy_a": t.accuracy_a, "accuracy_b": t.accuracy_b, "clips": t.clips.astype("Int64"),
        "only a / only b": [f"{x:.0f} / {y:.0f}" if pd.notna(x) and pd.notna(y) else ""
                            for x, y in zip(t.only_a, t.only_b, strict=True)],
        "difference [95% CI]": [f"{x - y:+.3f}" + (f" [{lo:+.3f}, {hi:+.3f}]" if pd.notna(lo) else "")
                                for x, y, lo, hi in zip(t.accuracy_a, t.accuracy_b, t.ci_low, t.ci_high, strict=True)],
        "test": t.test, "p": [format_p(p) for p in t.p_value], "p (Holm)": [format_p(p) for p in t.p_adjusted],
        "verdict": t.verdict}).reset_index(drop=True)


def section_leak(results_dir: Path) -> str:
    path = results_dir / "leak.csv"
    if not path.exists():
        return "_Not produced yet: run `make run` (notebook 09, the leak)._\n"
    text = (f"{_dataset_line(results_dir)} A memoriser (1-nearest-neighbour on colour histograms, "
            "remembering the training clips: it knows which colours a clip shows, not where, when or what moves) "
            "and the LRCN, each on the leaky `random_clip` split and on held-out "
            "groups (`group`); 95% Wilson intervals from the number of test clips. The paper's LRCN row is 116 of "
            "its 122 UCF50 test clips. How large the leak is depends on the model and on how often a test clip's "
            "twin (a clip of its group) is in training; notebook 09 computes that share and explains the numbers. "
            "Source: `results/leak.csv`.\n\n" + to_markdown(pd.read_csv(path), floatfmt=".3f"))
    comparisons = results_dir / "comparisons.csv"
    if comparisons.exists():
        gaps = pd.read_csv(comparisons)
        gaps = gaps[(gaps.notebook == "09_leak") & gaps.test.str.startswith("unpaired")]
        if len(gaps):
            text += ("\n\nThe leak gap, `random_clip` minus `group`: different test clips, so an unpaired "
                     "comparison, decided by one method (Newcombe's interval, and the p-value at which that interval "
                     "touches 0); the `test` column says how many clips the two test sets share. Source: "
                     "`results/comparisons.csv`.\n\n" + to_markdown(_comparison_rows(gaps), floatfmt=".3f"))
    return text


def section_comparisons(results_dir: Path) -> str:
    path = results_dir / "comparisons.csv"
    if not path.exists():
        return "_Not produced yet: run `make run` (notebooks 01-03)._\n"
    table = pd.read_csv(path, dtype={"notebook": str, "family": str})
    policy = ""
    if "p_adjusted" in table.columns:
        counted = table[table.verdict != POST_HOC]
        better = counted.verdict.str.endswith("better")
        raw_better = (counted.p_value < ALPHA) & (counted.accuracy_a != counted.accuracy_b)
        post_hoc = int((table.verdict == POST_HOC).sum())
        policy = (f"The verdict reads the Holm-adjusted p-value (`p (Holm)`: Holm-Bonferroni within each notebook's "
                  f"family, `helpers/stats.py`): {int(better.sum())} of {len(counted)} comparisons name a better "
                  f"model ({int(raw_better.sum())} would on the raw p-values)"
                  + (f"; {post_hoc} post hoc row(s) (a choice made after seeing test numbers) are not counted"
                     if post_hoc else "") + ". ")
    else:
        policy = "**Out of date:** this table predates the multiplicity policy; `make run` brings it up to date. "
    return ("Every \"A beats B\" of the notebooks, each pair tested once, on the same test clips with McNemar's "
            "exact test (the unpaired rows compare different test sets); `difference` = accuracy_a - accuracy_b "
            f"with the 95% interval of the same method as `p` (both unadjusted); the more accurate one is better only "
            f"when `p (Holm)` < {ALPHA}. "
            + policy + f"One seed each (the seed spread below). Rows from notebooks "
            f"{', '.join(sorted(table.notebook.astype(str).unique()))}. Source: `results/comparisons.csv`.\n\n"
            + to_markdown(pd.concat([table[["notebook"]].reset_index(drop=True), _comparison_rows(table)], axis=1),
                          floatfmt=".3f"))


#: The verdicts ``make seeds`` makes across seeds: (name, a, b), each (model, protocol), and the single-seed row
#: of ``comparisons.csv`` (notebook, a, b) that decides the same question from one seed.
SEED_VERDICTS = (
    ("the leak: LRCN on the clip split vs on held-out groups", ("lrcn", "random_clip"), ("lrcn", "group"),
     ("09_leak", "lrcn (random_clip)", "lrcn (group)")),
    ("LRCN vs ConvLSTM (held-out groups)", ("lrcn", "group"), ("convlstm", "group"),
     ("02_convlstm", "lrcn (group)", "convlstm (group)")),
)


def _read_seeds(path: Path) -> pd.DataFrame:
    seeds = pd.read_csv(path)
    if "protocol" not in seeds.columns:  # rows from before `make seeds` trained other protocols: all `group`
        seeds["protocol"] = "group"
    return seeds


def seed_verdicts(results_dir: Path) -> str:
    """The five-vs-five verdicts (Welch's t-test) beside the single-seed McNemar/unpaired rows, and which one counts."""
    seeds = _read_seeds(results_dir / "seeds.csv") if (results_dir / "seeds.csv").exists() else None
    single = pd.read_csv(results_dir / "comparisons.csv") if (results_dir / "comparisons.csv").exists() else None
    rows, missing = [], []
    for question, a, b, (notebook, single_a, single_b) in SEED_VERDICTS:
        if single is not None and {"notebook", "a", "b"} <= set(single.columns):
            hit = single[(single.notebook == notebook) & (single.a == single_a) & (single.b == single_b)]
            if len(hit):
                r = hit.iloc[0]
                p_holm = format_p(r["p_adjusted"]) if "p_adjusted" in hit.columns else "not adjusted"
                rows.append({"question": question, "evidence": f"one seed (27), {r['test'].split(';')[0]}",
                             "a": single_a, "b": single_b, "a - b": f"{r['accuracy_a'] - r['accuracy_b']:+.3f}",
                             "95% CI": (f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
                                        if pd.notna(r.get("ci_low", float("nan"))) else ""),
                             "p": f"{format_p(r['p_value'])} (Holm {p_holm})", "verdict": r["verdict"]})
        values = [None if seeds is None else seeds[(seeds.model == m) & (seeds.protocol == p)].accuracy.to_numpy()
                  for m, p in (a, b)]
        if any(v is None or len(v) < 2 for v in values):
            missing.append(question)
            rows.append({"question": question, "evidence": "seeds", "a": f"{a[0]} ({a[1]})", "b": f"{b[0]} ({b[1]})",
                         "a - b": "", "95% CI": "", "p": "", "verdict": "not measured yet: run `make seeds`"})
            continue
        result = compare_seeds(*values, a=f"{a[0]} ({a[1]})", b=f"{b[0]} ({b[1]})")
        rows.append({"question": question,
                     "evidence": f"{result['seeds_a']} vs {result['seeds_b']} seeds, {result['test']} (SciPy)",
                     "a": result["a"], "b": result["b"], "a - b": f"{result['mean_a'] - result['mean_b']:+.3f}",
                     "95% CI": f"[{result['ci_low']:+.3f}, {result['ci_high']:+.3f}]", "p": format_p(result["p_value"]),
                     "verdict": result["verdict"]})
    rests = ("The conclusion rests on the seed rows: the single-seed row compares one training run of each model, "
             "so it cannot tell a difference between models from a difference between runs (the spread above); it "
             "is shown beside them for the record.")
    if missing:
        rests = (f"{'; '.join(missing)}: not measured yet: run `make seeds`. Until then the conclusion rests on the "
                 "single-seed row, which compares one training run of each model and cannot tell a difference between "
                 "models from one between runs.")
    return ("Verdicts across seeds (`helpers.stats.compare_seeds`: Welch's t-test on the per-seed accuracies, its 95% "
            "interval of the difference of means), beside the single-seed rows of `results/comparisons.csv`. "
            + rests + "\n\n" + to_markdown(pd.DataFrame(rows)))


def section_seeds(results_dir: Path) -> str:
    path = results_dir / "seeds.csv"
    if not path.exists():
        return "_Not produced yet: run `make seeds`._\n"
    seeds = _read_seeds(path)
    single = {}
    if (results_dir / "paper001.csv").exists():
        p001 = pd.read_csv(results_dir / "paper001.csv")
        single.update({(m, p): a for m, p, a in p001[["model", "protocol", "accuracy"]].itertuples(index=False)})
    if (results_dir / "paper000.csv").exists():
        p000 = pd.read_csv(results_dir / "paper000.csv")
        single.update({(m, "group"): a for m, a in
                       p000[p000.set == "validation"][["model", "accuracy"]].itertuples(index=False)})
    grouped = seeds.groupby(["model", "protocol"], sort=False)
    table = grouped["accuracy"].agg(["mean", "std", "min", "max", "count"])
    table.insert(0, "single_seed", [single.get(key, float("nan")) for key in table.index])
    if "seconds" in seeds.columns:
        table["train minutes (all seeds)"] = grouped["seconds"].sum(min_count=1) / 60
    table = table.rename(columns={"single_seed": "accuracy (notebook, seed 27)", "mean": "accuracy mean",
                                  "std": "accuracy std", "count": "seeds"}).reset_index()
    return (f"{_dataset_line(results_dir)} Held-out accuracy of the LRCN (`group` and the paper's `random_clip` "
            "protocol, notebook 01), the ConvLSTM (`group`, notebook 02) and paper 000's CNN, RNN and hybrid "
            f"(notebook 03) over the seeds {sorted(set(seeds.seed))} (`make seeds`): the seed changes the initial "
            "weights and the batch order; data and split are the notebooks'. The single-seed column is the number "
            "in the tables above; training minutes are measured by `make seeds` on this machine. "
            "Source: `results/seeds.csv`.\n\n" + to_markdown(table, floatfmt=".3f") + "\n\n"
            + seed_verdicts(results_dir))


# --- The reproduction report: one verdict per claim of papers 001 and 000, then the checklist ---

REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE = "reproduced", "not reproduced", "not testable here"


def _csv(results_dir: Path, name: str) -> pd.DataFrame | None:
    path = results_dir / name
    return pd.read_csv(path, dtype={"notebook": str, "family": str, "settings": str}) if path.exists() else None


def _json(results_dir: Path, name: str) -> dict | None:
    path = results_dir / name
    return json.loads(path.read_text()) if path.exists() else None


class _Results:
    """The files of one results folder the report reads (None where missing)."""

    def __init__(self, results_dir: Path):
        self.dir = results_dir
        self.dataset = _json(results_dir, "dataset.json") or {}
        self.paper001, self.paper000 = _csv(results_dir, "paper001.csv"), _csv(results_dir, "paper000.csv")
        self.comparisons, self.parameters = _csv(results_dir, "comparisons.csv"), _csv(results_dir, "parameters.csv")
        self.claims000 = _csv(results_dir, "paper000_claims.csv")
        self.seeds = _read_seeds(results_dir / "seeds.csv") if (results_dir / "seeds.csv").exists() else None

    def comparison(self, notebook: str, a: str, b: str) -> pd.Series | None:
        c = self.comparisons
        if c is None or "clips" not in c.columns:
            return None
        hit = c[(c.notebook == notebook) & (c.a == a) & (c.b == b)]
        return hit.iloc[0] if len(hit) else None

    def test_clips(self, notebook: str) -> int | None:
        """Test clips of ``notebook``'s held-out set, from its rows of comparisons.csv (McNemar rows: same clips)."""
        c = self.comparisons
        if c is None or "clips" not in c.columns:
            return None
        rows = c[(c.notebook == notebook) & (c.test == "McNemar exact")]
        return int(rows.clips.iloc[0]) if len(rows) else None

    def seed_accuracies(self, model: str, protocol: str = "group") -> list[float]:
        s = self.seeds
        return [] if s is None else s[(s.model == model) & (s.protocol == protocol)].accuracy.tolist()


def _with_interval(accuracy: float, clips: int | None) -> str:
    if clips is None:
        return f"{accuracy:.3f}"
    low, high = wilson_interval(round(accuracy * clips), clips)
    return f"{accuracy:.3f} [{low:.3f}, {high:.3f}] ({round(accuracy * clips)}/{clips})"


def _spread(values: list[float], *, seeds_ran: bool) -> str:
    if len(values) < 2:  # no seeds.csv yet, or a model `make seeds` does not retrain (the ConvLSTM on random_clip)
        return "one seed (not in `results/seeds.csv`)" if seeds_ran else "one seed (`make seeds`: not measured yet)"
    return f"{pd.Series(values).mean():.3f} ± {pd.Series(values).std():.3f} ({len(values)} seeds)"


def _relative(res: _Results, *, a: tuple[str, str], b: tuple[str, str], single: tuple[str, str, str]
              ) -> tuple[str, str]:
    """'a is more accurate than b' on our data: (ours, verdict) from the seeds if measured, else the single-seed row."""
    xs, ys = res.seed_accuracies(*a), res.seed_accuracies(*b)
    if len(xs) >= 2 and len(ys) >= 2:
        r = compare_seeds(xs, ys, a=a[0], b=b[0])
        ours = (f"{r['mean_a'] - r['mean_b']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}], Welch p "
                f"{format_p(r['p_value'])} over {r['seeds_a']} vs {r['seeds_b']} seeds")
        outcome = r["verdict"]
    else:
        row = res.comparison(*single)
        if row is None:
            return "not produced yet (`make run`)", NOT_TESTABLE + " (no results yet)"
        ours = (f"{row['accuracy_a'] - row['accuracy_b']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}], "
                f"McNemar p {format_p(row['p_value'])}, Holm {format_p(row['p_adjusted'])}, one seed")
        outcome = row["verdict"]
    if outcome == "a better":
        return ours, f"{REPRODUCED} (on this dataset)"
    why = "the other is better" if outcome == "b better" else "no clear difference"
    return ours, f"{NOT_REPRODUCED} ({why}, on this dataset)"


def _on_paper_data(res: _Results, *, dataset: str, classes: int) -> str | None:
    """None when the results are on the paper's data; else why an absolute number is not testable here."""
    name = str(res.dataset.get("dataset", ""))
    if not res.dataset:
        return f"needs {dataset} (no results/dataset.json)"
    if res.dataset.get("embedded") or not name.upper().startswith(dataset.upper()):
        return f"needs {dataset}: these results are on {name or 'another dataset'}"
    if int(res.dataset.get("num_classes", 0)) != classes:
        return f"needs the paper's {classes} classes of {dataset} (here {res.dataset.get('num_classes')})"
    return None


def report_paper001(res: _Results) -> pd.DataFrame:
    rows = []
    leak = res.comparison("09_leak", "lrcn (random_clip)", "lrcn (group)")
    random_clips = None if leak is None else int(leak["clips"])
    p001 = None if res.paper001 is None else res.paper001.set_index(["model", "protocol"])
    not_here = _on_paper_data(res, dataset="UCF50", classes=4)
    for model, title in (("lrcn", "LRCN"), ("convlstm", "ConvLSTM")):
        paper = PAPER001[model]
        ours_acc = ours_loss = "not produced yet (`make run`)"
        verdict_acc = verdict_loss = f"{NOT_TESTABLE} ({not_here})" if not_here else NOT_TESTABLE + " (no results yet)"
        if p001 is not None and (model, "random_clip") in p001.index:
            acc, loss = p001.loc[(model, "random_clip"), ["accuracy", "loss"]]
            ours_acc, ours_loss = _with_interval(acc, random_clips), f"{loss:.4f}"
            if not not_here and random_clips:
                # two estimates on different test sets (ours, the paper's 116/122): Newcombe's interval of the
                # difference, the project's one method for unpaired accuracies, reproduced when it holds 0
                low, high = difference_interval(round(acc * random_clips), random_clips, PAPER001_CORRECT[model],
                                                PAPER001_TEST_CLIPS)
                verdict_acc = REPRODUCED if low <= 0 <= high else NOT_REPRODUCED
                losses = [] if res.seeds is None else res.seeds[(res.seeds.model == model)
                                                                 & (res.seeds.protocol == "random_clip")].loss.tolist()
                verdict_loss = ((REPRODUCED if min(losses) <= paper["loss"] <= max(losses) else NOT_REPRODUCED)
                                if len(losses) >= 2 else f"{NOT_TESTABLE} (one run gives no spread: `make seeds`)")
        rows.append({"claim": f"{title} test accuracy (clip split, the paper's protocol)",
                     "paper": f"{paper['accuracy']:.4f}", "ours [95% CI]": ours_acc,
                     "seed spread": _spread(res.seed_accuracies(model, "random_clip"), seeds_ran=res.seeds is not None),
                     "verdict": verdict_acc})
        rows.append({"claim": f"{title} test loss", "paper": f"{paper['loss']:.4f}", "ours [95% CI]": ours_loss,
                     "seed spread": "", "verdict": verdict_loss})
        params = res.parameters
        hit = None if params is None else params[(params.model == model) & (params.num_classes == 4)]
        if hit is None or not len(hit):
            rows.append({"claim": f"{title} parameters with 4 classes", "paper": f"{paper['params']:,.0f}",
                         "ours [95% CI]": "not produced yet (`make run`)", "seed spread": "",
                         "verdict": NOT_TESTABLE + " (no results yet)"})
        else:
            count = int(hit.params.iloc[0])
            rows.append({"claim": f"{title} parameters with 4 classes", "paper": f"{paper['params']:,.0f}",
                         "ours [95% CI]": f"{count:,}", "seed spread": "exact",
                         "verdict": REPRODUCED if count == paper["params"] else NOT_REPRODUCED})
        rows.append({"claim": f"{title} ms/step", "paper": f"{paper['ms_per_step']:.0f}",
                     "ours [95% CI]": (f"{p001.loc[(model, 'group'), 'ms_per_step']:.1f}"
                                       if p001 is not None and (model, "group") in p001.index else "not produced yet"),
                     "seed spread": "", "verdict": f"{NOT_TESTABLE} (the paper names no hardware)"})
    faster = "not produced yet (`make run`)", NOT_TESTABLE + " (no results yet)"
    if p001 is not None and {("lrcn", "group"), ("convlstm", "group")} <= set(p001.index):
        lrcn_ms = p001.loc[("lrcn", "group"), "ms_per_step"]
        convlstm_ms = p001.loc[("convlstm", "group"), "ms_per_step"]
        faster = (f"{convlstm_ms / lrcn_ms:.1f}x ({lrcn_ms:.1f} vs {convlstm_ms:.1f} ms/step)",
                  REPRODUCED if lrcn_ms < convlstm_ms else NOT_REPRODUCED)
    rows.append({"claim": "the LRCN is faster than the ConvLSTM (ConvLSTM / LRCN ms/step)",
                 "paper": f"{PAPER001['convlstm']['ms_per_step'] / PAPER001['lrcn']['ms_per_step']:.1f}x",
                 "ours [95% CI]": faster[0], "seed spread": "", "verdict": faster[1]})
    ours, verdict = _relative(res, a=("lrcn", "group"), b=("convlstm", "group"),
                              single=("02_convlstm", "lrcn (group)", "convlstm (group)"))
    rows.append({"claim": "the LRCN is more accurate than the ConvLSTM (LRCN - ConvLSTM, held-out groups)",
                 "paper": f"{PAPER001['lrcn']['accuracy'] - PAPER001['convlstm']['accuracy']:+.4f}",
                 "ours [95% CI]": ours, "seed spread": "", "verdict": verdict})
    return pd.DataFrame(rows)


def report_paper000(res: _Results) -> pd.DataFrame:
    rows = []
    clips = res.test_clips("03_cnn_rnn_hybrid")
    val = None if res.paper000 is None else res.paper000[res.paper000.set == "validation"].set_index("model")
    why = ("needs UCF101's 10 classes and the paper's architectures, which it does not give; different data, "
           "not comparable")
    for model in ("hybrid", "cnn", "rnn"):
        paper = PAPER000_TABLES[model]["validation"]
        has = val is not None and model in val.index
        rows.append({"claim": f"{model} validation accuracy (Tables I-III)", "paper": f"{paper['accuracy']:.4f}",
                     "ours [95% CI]": _with_interval(val.loc[model, "accuracy"], clips) if has else "not produced yet",
                     "seed spread": _spread(res.seed_accuracies(model), seeds_ran=res.seeds is not None),
                     "verdict": f"{NOT_TESTABLE} ({why})"})
        rows.append({"claim": f"{model} validation loss", "paper": f"{paper['loss']:.4f}",
                     "ours [95% CI]": f"{val.loc[model, 'loss']:.4f}" if has else "not produced yet",
                     "seed spread": "", "verdict": f"{NOT_TESTABLE} ({why})"})
    for other in ("cnn", "rnn"):
        ours, verdict = _relative(res, a=("hybrid", "group"), b=(other, "group"),
                                  single=("03_cnn_rnn_hybrid", "hybrid", other))
        paper_gap = (PAPER000_TABLES["hybrid"]["validation"]["accuracy"]
                     - PAPER000_TABLES[other]["validation"]["accuracy"])
        rows.append({"claim": f"the hybrid beats the {other} (hybrid - {other})", "paper": f"{paper_gap:+.4f}",
                     "ours [95% CI]": ours, "seed spread": "", "verdict": verdict})
    claims = res.claims000
    for start, claim, yes in (("SGD is the best optimizer", "SGD is the best optimizer for the hybrid", "yes"),
                              ("alpha = 0.7 is the best", "alpha = 0.7 is the best fusion weight", "yes"),
                              ("the RNN on raw pixels learns nothing",
                               "the RNN learns nothing (at chance; ours on raw pixels)", "at chance")):
        hit = None if claims is None else claims[claims.claim.str.startswith(start)]
        if hit is None or not len(hit):
            rows.append({"claim": claim, "paper": "", "ours [95% CI]": "not produced yet (`make run`)",
                         "seed spread": "", "verdict": NOT_TESTABLE + " (no results yet)"})
            continue
        r = hit.iloc[0]
        verdict = (f"{REPRODUCED} (on this dataset)" if str(r["verdict"]) == yes
                   else f"{NOT_REPRODUCED} ({r['verdict']}, on this dataset)")
        rows.append({"claim": claim, "paper": "" if pd.isna(r["paper"]) else f"{r['paper']:+.4f}",
                     "ours [95% CI]": f"{r['ours']:+.3f} ({r['test']}, one seed)", "seed spread": "",
                     "verdict": verdict})
    return pd.DataFrame(rows)


def report_checklist(res: _Results) -> str:
    """The reproducibility checklist (ML Reproducibility Challenge, NeurIPS, REFORMS), each item answered by a link."""
    d, env = res.dataset, _json(res.dir, "environment.json")
    data = (f"{d.get('dataset')}, {d.get('num_clips')} clips, {d.get('num_classes')} classes (`results/dataset.json`)"
            if d else "not produced yet (`results/dataset.json`)")
    alphas = _csv(res.dir, "paper000_alpha.csv")
    optimizers = _csv(res.dir, "paper000_optimizers.csv")
    tried = []
    if alphas is not None:
        tried.append("alpha " + ", ".join(f"{a:g}" for a in alphas.alpha) + " (`results/paper000_alpha.csv`)")
    if optimizers is not None:
        tried.append("optimizers " + ", ".join(optimizers.optimizer) + " (`results/paper000_optimizers.csv`)")
    seeds = res.seeds
    runs = ("one seed (27) per notebook number; " + (
        "; ".join(f"{m} ({p}): {n} seeds" for (m, p), n in seeds.groupby(["model", "protocol"]).size().items())
        + " in `results/seeds.csv`, spread in [Seed spread](#seed-spread-make-seeds)" if seeds is not None
        else "`make seeds` not run yet: no spread measured"))
    if seeds is not None and len(res.seed_accuracies("convlstm")) >= 2:
        runs += (f". The yardstick for a number that moves across CPUs is the ConvLSTM's seed spread: std "
                 f"{pd.Series(res.seed_accuracies('convlstm')).std():.3f}")
    seconds, note = read_make_run([res.dir / "make_run.json"])
    compute = ("not measured yet: `make run` writes `results/make_run.json`" if seconds is None else
               f"`make run` {seconds:.0f} s wall time ({note}); per training run: `train_s` in "
               "`results/trained_models.csv`, `seconds` in `results/seeds.csv`")
    machine = ("not recorded yet (`results/environment.json`)" if env is None else
               f"{env['cpu_model']} ({env['isa_family']}), {env['cpu_count']} CPUs, TensorFlow "
               f"{env['packages'].get('tensorflow', '?')} (`results/environment.json`); which numbers move across "
               "CPUs: [Numbers that depend on the CPU](#numbers-that-depend-on-the-cpu)")
    items = [
        ("Data and splits", f"{data}; what the embedded data is and the shortcuts it offers: "
                            "[docs/datasheet.md](docs/datasheet.md); "
                            "protocols and why the clip split leaks: [docs/datasets.md](docs/datasets.md); "
                            "the split of every notebook: `protocol_split` in [helpers/splits.py](helpers/splits.py)"),
        ("Hyperparameters and ranges tried", "the `parameters` and config cells of each notebook "
                                             "([notebooks/](notebooks/)); ranges tried: "
                                             + ("; ".join(tried) if tried else "not produced yet")
                                             + "; winners chosen on the early-stopping groups, not the test clips"),
        ("Runs per number and their variation", runs),
        ("Statistics", "McNemar exact (paired), Newcombe (unpaired), Welch over seeds; Holm within each notebook's "
                       "family: [helpers/stats.py](helpers/stats.py), rows in `results/comparisons.csv`"),
        ("Compute", compute),
        ("Machine", machine),
        ("Environment", "exact pins: [requirements.txt](requirements.txt); ranges: [pyproject.toml](pyproject.toml)"),
    ]
    return to_markdown(pd.DataFrame(items, columns=["checklist item", "where the project shows it"]))


def section_report(results_dir: Path) -> str:
    res = _Results(results_dir)
    verdicts = pd.concat([report_paper001(res), report_paper000(res)]).verdict
    counts = {v: int(verdicts.str.startswith(v).sum()) for v in (REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE)}
    return (f"{_dataset_line(results_dir)} One verdict per claim: *{REPRODUCED}*, *{NOT_REPRODUCED}* or "
            f"*{NOT_TESTABLE}* (with the reason). Our accuracies carry a 95% Wilson interval over the test clips "
            "and, where `make seeds` ran, the spread over seeds; a claim that one model beats another is tested on "
            "this dataset (over seeds when measured, else the notebooks' Holm-adjusted single-seed test); an absolute "
            "number of a paper is testable only on its data, and an accuracy is reproduced when Newcombe's interval of "
            "ours minus the paper's (its correct clips of its test clips) holds 0; a loss, when the paper's lies in "
            "our range over seeds (a range, not a test). The papers' numbers come from `helpers/papers.py`, ours "
            f"from `results/`. Verdicts: {counts[REPRODUCED]} {REPRODUCED}, {counts[NOT_REPRODUCED]} "
            f"{NOT_REPRODUCED}, {counts[NOT_TESTABLE]} {NOT_TESTABLE}.\n\n"
            "**Paper 001** (UCF50, 4 classes, clip-level split, 122 test clips):\n\n"
            + to_markdown(report_paper001(res)) + "\n**Paper 000** (UCF101, 10 classes):\n\n"
            + to_markdown(report_paper000(res)) + "\n**Checklist**\n\n" + report_checklist(res))


# --- Which numbers depend on the CPU: benchmarks/cpu_dependence.py's table ---

#: Issue #24: a full ``make run`` on an AMD EPYC against this README's Intel Xeon numbers (quoted, not rerun):
#: the models whose rows were bit-identical and those whose rows moved.
CROSS_CPU_IDENTICAL = ("lrcn", "cnn")
CROSS_CPU_MOVED = ("convlstm", "rnn", "hybrid", "c3d", "two_stream")
#: A setting whose step time is at most this many times the default's costs nothing worth a choice.
FREE_COST = 1.1


def _moved_cell(row: pd.Series) -> str:
    """``=`` for bit-identical, ``failed`` where the setting could not run it, else the largest difference."""
    if row.identical:
        return "="
    return "failed" if row.error else f"{row.max_abs_diff:.0e}"


def _names(items: Sequence[str]) -> str:
    items = list(items)
    return "none" if not items else items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _layer_types(components: Sequence[str]) -> list[str]:
    """``"Conv2D 3->16, 64x64 (LRCN conv1)"`` -> ``"Conv2D"``: the layer classes, in first-seen order."""
    return list(dict.fromkeys(c.split()[0] for c in components))


def _cost(steps: pd.DataFrame, setting: str) -> str:
    """``setting``'s CPU ms per step over the default's: the median over models and the range."""
    ratio = (steps[setting] / steps["default"]).dropna()
    return f"{ratio.median():.2f}x (median over models; {ratio.min():.2f}-{ratio.max():.2f}x)"


def section_cpu_dependence(results_dir: Path) -> str:
    """Which layers and models move under which oneDNN/thread setting, what a setting costs, and the choice
    (``benchmarks/cpu_dependence.py``'s table)."""
    table = _csv(results_dir, "cpu_dependence.csv")
    if table is None:
        return ("_Not produced yet: `python -m benchmarks.cpu_dependence` writes `results/cpu_dependence.csv` "
                "(about ten minutes on 2 cores)._\n")
    for column in ("error", "env", "onednn_isa"):
        table[column] = [("" if pd.isna(v) else str(v)) for v in table[column]]  # empty cells read as NaN
    settings = list(dict.fromkeys(table.setting))
    others = [s for s in settings if s != "default"]
    head = table.drop_duplicates("setting").set_index("setting")
    env = _json(results_dir, "environment.json") or {}
    rerun = table[table.setting == "default_rerun"]
    control = ("gave bit-identical numbers in every row, so each difference below is the setting's"
               if len(rerun) and rerun.identical.all() else
               "did NOT give identical numbers: the rows below do not isolate the settings' effect")
    text = (f"Measured by `python -m benchmarks.cpu_dependence` on {env.get('cpu_model', 'an unrecorded CPU')} "
            f"({env.get('isa_family', '?')}, {env.get('cpu_count', '?')} CPUs), emulating other CPUs: each setting "
            "runs in a fresh process; per layer of the models, at the notebooks' shapes with 2 clips, the forward "
            "output and the gradients (weights and input) of a fixed projection of it; per model, a few seeded Adam "
            "steps on fixed random clips with the notebooks' batch sizes, then every weight. A cell is `=` when every "
            "array is bit-identical to the setting's reference (`np.array_equal`), else the largest absolute "
            "difference; `failed` where the setting cannot run it. The control, a second process with nothing "
            f"changed (`default_rerun`), {control}. Source: `results/cpu_dependence.csv`.\n\n")
    legend = pd.DataFrame({"setting": others,
                           "environment": [f"`{head.env[s]}`" if head.env[s] else "" for s in others],
                           "compared with": [head.reference[s] for s in others],
                           "oneDNN reports": [head.onednn_isa[s] or "no primitive (its ops off)" for s in others],
                           "threads": [f"{head.threads[s]:.0f}" if pd.notna(head.threads[s]) else "" for s in others]})
    text += to_markdown(legend) + "\n"
    moved = table[(table.setting != "default") & ~table.identical]
    layers, models = table[table.kind == "layer"], table[table.kind == "model"]
    shown = [c for c in dict.fromkeys(table.component) if c in set(moved.component) or c in set(models.component)]
    cells = table[table.setting != "default"].assign(cell=lambda t: t.apply(_moved_cell, axis=1))
    grid = cells.pivot(index="component", columns="setting", values="cell").loc[shown, others]
    grid.insert(0, "kind", table.drop_duplicates("component").set_index("component").kind.loc[shown])
    steady = [c for c in dict.fromkeys(layers.component) if c not in set(moved.component)]
    text += to_markdown(grid.reset_index()) + f"\nBit-identical under every setting: {_names(steady)}.\n\n"
    # what each emulated CPU moves, and whether one reproduces the AMD run of issue #24
    emulations = [s for s in others if head.reference[s] == "default" and s != "default_rerun"
                  and "TF_ENABLE_ONEDNN_OPTS" not in head.env[s]]
    sentences, matches = [], []
    for s in emulations:
        moved_layers = _layer_types(layers[(layers.setting == s) & ~layers.identical].component)
        moved_models = list(models[(models.setting == s) & ~models.identical].component)
        matches += [s] if set(moved_models) == set(CROSS_CPU_MOVED) else []
        sentences.append(f"`{s}` moves the layers {_names(moved_layers)} and the models {_names(moved_models)}"
                         if moved_layers or moved_models else f"`{s}` moves nothing")
    text += ("**What moves.** " + "; ".join(sentences) + ". Issue #24's AMD EPYC run left the "
             f"{_names(CROSS_CPU_IDENTICAL)} bit-identical and moved the {_names(CROSS_CPU_MOVED)}: ")
    text += (f"{_names([f'`{s}`' for s in matches])} reproduces that pattern.\n\n" if matches else
             "no emulation here reproduces that pattern (each one moves the LRCN or the CNN too, or leaves one of the "
             "five alone), so that run differed by something that capping the instruction set or changing the thread "
             "count alone does not emulate (oneDNN also sizes its blocks by the CPU's caches; untested here).\n\n")
    # cost: process CPU ms per step (steadier than wall time on a shared machine), against the default's
    steps = models.pivot(index="component", columns="setting", values="step_cpu_ms")[settings]
    text += ("**Cost.** Process CPU ms per training step, the median of the steps after the first (which traces the "
             "graph); wall times are in the CSV. Two runs of the same setting differ by "
             f"{_cost(steps, 'default_rerun') if 'default_rerun' in steps else 'an unmeasured amount'} on this "
             "machine, the noise floor of every ratio below.\n\n"
             + to_markdown(steps.map(lambda v: "failed" if pd.isna(v) else f"{v:.1f}").rename(
                 columns=lambda c: f"{c}_ms").reset_index().rename(columns={"component": "model"})) + "\n")
    # the choice: a setting that stays identical when the CPU changes (its emulated variants compared with it)
    stable, verdicts = [], []
    for s in [s for s in others if any(head.reference[o] == s for o in others if o != s)]:
        variants = [o for o in others if head.reference[o] == s and o != s]
        rows = models[models.setting.isin([s, *variants])]
        failed = list(dict.fromkeys(rows[rows.error != ""].component))
        still = list(dict.fromkeys(rows[rows.setting.isin(variants) & ~rows.identical & (rows.error == "")].component))
        if not failed and not still:
            stable.append(s)
        verdict = (f"`{s}` (`{head.env[s]}`) costs {_cost(steps, s)} the default's CPU time per step; under "
                   f"{_names([f'`{v}`' for v in variants])} it still moves the "
                   f"{_names(still) if still else 'no model'}")
        if failed:
            broken = layers[(layers.setting == s) & (layers.error != "")].component
            verdict += (f", and the {_names(failed)} cannot train under it (failing layers: {_names(broken)}; "
                        f"{rows[rows.error != ''].error.iloc[0]})")
        verdicts.append(verdict)
    text += "**Choice.** " + "; ".join(verdicts) + ". " if verdicts else "**Choice.** "
    if stable:
        s = min(stable, key=lambda s: (steps[s] / steps["default"]).median())
        free = (steps[s] / steps["default"]).median() <= FREE_COST
        text += (f"`{s}` keeps every model identical across the emulated CPUs: "
                 + ("at that cost, the project recommends it." if free else
                    "the project keeps the default for speed; a move across CPUs is judged against the seed spread."))
    else:
        pin = "" if "isa_avx2" not in steps else (
            " Capping at AVX2 and fixing the thread count (`TF_NUM_INTRAOP_THREADS`) would remove both sources "
            f"measured here, at {_cost(steps, 'isa_avx2')} the default's CPU time per step for the cap on this "
            "machine (fewer threads than a CPU's cores would cost that CPU more), but neither source "
            "reproduces the AMD run's pattern, so nothing here shows that it would have made that run identical.")
        text += ("No setting measured here keeps every model identical across the emulated CPUs." + pin
                 + " The project keeps the defaults (oneDNN on, the CPU's full instruction set, TensorFlow's thread "
                 "count), records the CPU and library versions in `results/environment.json`, and treats a move "
                 "across kinds of CPU like a change of seed: a conclusion stands only where it holds over the seed "
                 "spread (`make seeds`), never on one run's last digits.")
    return text + "\n"


def section_markdown_file(name: str) -> Callable[[Path], str]:
    def render(results_dir: Path) -> str:
        path = results_dir / name
        if not path.exists():
            return f"_Not produced yet: `results/{name}` is missing._\n"
        return path.read_text()
    return render


def section_bench(results_dir: Path) -> str:
    """``results/bench.md``, with its ``make run`` row read again from ``results/make_run.json``: the benchmark
    does not time ``make run``, it quotes that file, so a full run after the benchmark updates the row here too
    (the README's *How long* and the table then name the same run)."""
    text = section_markdown_file("bench.md")(results_dir)
    seconds, note = read_make_run([results_dir / "make_run.json"])
    if seconds is None:
        return text

    def row(match: re.Match) -> str:
        cells = match.group(0).split(" | ")
        return " | ".join([cells[0], f"{seconds:,.0f}", *cells[2:-1], f"{note} |"])

    return re.sub(r"^\| `make run` wall time, s \|.*$", row, text, count=1, flags=re.MULTILINE)


def section_bench_extraction(results_dir: Path) -> str:
    intro = ("The frame-extraction part alone (`python -m benchmarks.bench --only extraction`, seconds instead of "
             "minutes) is rerun whenever the extraction code changes")
    path = results_dir / "bench_extraction.md"
    if not path.exists():
        return (f"{intro}; it writes `results/bench_extraction.md`, which this checkout has not produced yet, so "
                "the extraction rows are those of the full benchmark above.\n")
    return f"{intro}; its latest table:\n\n{path.read_text()}"


_MAKE_RUN_ROW = re.compile(r"^\| `make run` wall time, s \| ([\d,]+) \|.*?per notebook: ([^|]*?) \|$", re.MULTILINE)


def section_make_run(results_dir: Path, *, readme_text: str = "") -> str:
    """How long ``make run`` took: ``results/make_run.json`` (written by it), else the benchmark table's row."""
    path = results_dir / "make_run.json"
    if path.exists():
        record = json.loads(path.read_text())
        per, source = record.get("notebooks_s", {}), "`results/make_run.json`"
        seconds, note = read_make_run([path])  # after an incremental run: the sum of each notebook's last execution
        if seconds is None:
            return f"`make run` has not been timed: {note}.\n"
        if seconds != record["make_run_s"]:
            source += (f"; the sum of each notebook's last execution: the last `make run` ran "
                       f"{len(record.get('ran', []))} of them in {record['make_run_s']:,} s and skipped the rest, "
                       "up to date")
    elif match := _MAKE_RUN_ROW.search(readme_text):
        seconds = int(match.group(1).replace(",", ""))
        per = {name: int(t) for name, t in re.findall(r"(\w+) (\d+) s", match.group(2))}
        source = "the benchmark table below"
    else:
        return "`make run` has not been timed yet: it writes `results/make_run.json` when it finishes.\n"
    longest = max(per, key=per.get) if per else None
    slowest = f"; the longest notebook, {longest}, took {per[longest]:,} s" if longest else ""
    how = ""
    if path.exists() and seconds == record["make_run_s"]:  # the invocation's own record: how it ran, how busy
        how = f" with `JOBS={record['jobs']}`" if "jobs" in record else ""
        if "cpu_busy_pct" in record:
            how += (f", the machine's CPUs {record['cpu_busy_pct']:.0f} % busy over it (every process) and "
                    f"{record['cpu_steal_pct']:.1f} % stolen by the hypervisor")
    return (f"**How long.** The last measured `make run` took {seconds:,.0f} s, about {seconds / 3600:.1f} hours"
            f"{how}{slowest} (source: {source}). The quick profile (`make test`) takes minutes.\n")


def section_colab(results_dir: Path) -> str:
    """The Colab set-up cell, as ``scripts/colab_setup.py`` holds it (notebook 00 starts with it too)."""
    return f"```python\n{(ROOT / 'scripts' / 'colab_setup.py').read_text()}```\n"


SECTIONS: dict[str, Callable[[Path], str]] = {
    "make_run": section_make_run,
    "colab": section_colab,
    "paper001": section_paper001,
    "leak": section_leak,
    "paper000": section_paper000,
    "seeds": section_seeds,
    "report": section_report,
    "comparisons": section_comparisons,
    "cpu_dependence": section_cpu_dependence,
    "model_comparison": section_model_comparison,
    "deployment": section_deployment,
    "bench": section_bench,
    "bench_extraction": section_bench_extraction,
}


def update_readme(readme: Path, results_dir: Path, *, sections: Sequence[str] | None = None) -> list[str]:
    """Rewrite the marked sections of ``readme`` (all, or only those named in ``sections``);
    returns the names of the sections updated."""
    unknown = sorted(set(sections or ()) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown README sections {unknown}; choose from {list(SECTIONS)}")
    text = readme.read_text()
    updated = []
    for name, render in SECTIONS.items():
        if sections is not None and name not in sections:
            continue
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(.*?)(<!-- END {name} -->)", re.DOTALL)
        if pattern.search(text):
            body = render(results_dir, readme_text=text) if render is section_make_run else render(results_dir)
            text = pattern.sub(lambda m, body=body: m.group(1) + body.rstrip("\n") + "\n" + m.group(3), text)
            updated.append(name)
    write_text(readme, text)
    return updated


def main(argv: list[str] | None = None) -> int:
    """``python scripts/readme.py [README [RESULTS_DIR]] [--sections leak,seeds]``: ``--sections`` refreshes
    only those sections (the results of a partial run), leaving the others as they are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", nargs="?", type=Path, default=ROOT / "README.md")
    # the embedded full run's tables, where the notebooks write them: under $HAR_HOME when it is set
    parser.add_argument("results_dir", nargs="?", type=Path, default=project_root() / "results")
    parser.add_argument("--sections", help=f"comma-separated subset of {','.join(SECTIONS)}")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sections = [n for n in args.sections.split(",") if n] if args.sections else None
    readme, results_dir = args.readme, args.results_dir
    try:
        names = update_readme(readme, results_dir, sections=sections)
    except ValueError as error:
        parser.error(str(error))
    print(f"updated {readme}: sections {', '.join(names) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
