"""Every script in benchmarks/ runs at a tiny size and writes a result file with its provenance
and the results its README promises; the harness's budget and grid behave as documented."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from textgan.benchmarking import Budget, script_command, seeds
from textgan.results import PROVENANCE_FIELDS, read_result, write_result

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the a cat dog sat on mat ran far quick brown fox jumps over lazy river stone "
         "green hill old man saw").split()


def load(script: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{script}",
                                                  ROOT / "benchmarks" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  # dataclasses look it up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """300 training and 60 held-out short lines, prepared once for every script."""
    root = tmp_path_factory.mktemp("bench-corpus")
    rng = __import__("random").Random(0)
    for name, n in (("train.txt", 300), ("valid.txt", 60)):
        lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) for _ in range(n)]
        (root / name).write_text("\n".join(lines) + "\n")
    return {"train": root / "train.txt", "valid": root / "valid.txt", "data": root / "data"}


def corpus_args(c: dict[str, Path]) -> list[str]:
    return ["--corpus", str(c["train"]), "--valid", str(c["valid"]), "--data-dir", str(c["data"])]


def check_result(out: Path, name: str, script: str) -> dict[str, Any]:
    """The result file exists with every provenance field, names the script's command, and has
    its Markdown page beside it."""
    record = read_result(out / f"{name}.json")
    for key in PROVENANCE_FIELDS:
        assert key in record, key
    assert record["name"] == name
    assert record["command"].startswith(f"python benchmarks/{script}.py ")
    assert record["question"].endswith("?")
    assert isinstance(record["cpu_flags"], list) and record["cpu"]
    assert record["date"] and record["torch"] and record["device"] == "cpu"
    assert (out / f"{name}.md").read_text().startswith(f"# {name}\n")
    return record


def test_recipes(tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("recipes").main([*corpus_args(corpus), "--recipes", "cpu,paper", "--budget", "1",
                          "--eval-every", "0.5", "--samples", "32", "--dim", "8", "--out",
                          str(tmp_path), "--name", "r"])
    record = check_result(tmp_path, "r", "recipes")
    assert record["threads"] == 1
    results = record["results"]
    assert results["corpus"] == "train.txt" and results["train_lines"] > 200
    assert results["threshold_js4"] == pytest.approx(2 * results["floor_js4"], abs=1e-4)
    assert [s["recipe"] for s in results["summaries"]] == ["cpu", "paper"]
    assert results["recipes"]["cpu"] == {"preset": "cpu", "train": {}, "model": {}}
    for summary in results["summaries"]:
        assert summary["steps"] > 0 and summary["cpu_s"] >= 1.0
        assert 0 < summary["best_js4"] <= summary["final_js4"] <= 1
    cpu_points = [p for p in results["points"] if p["recipe"] == "cpu"]
    assert cpu_points[0]["step"] == 0 and cpu_points[0]["cpu_s"] == 0.0
    assert cpu_points[-1]["step"] == results["summaries"][0]["steps"]
    for point in cpu_points:
        assert {"js1", "js2", "js3", "js4", "js4_raw", "samples", "wall_s"} <= set(point)
    assert "js4_raw" not in results["points"][-1]  # the paper recipe keeps no moving average


def test_recipes_score_the_final_samples_and_run_the_mle_baseline(
        tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("recipes").main([*corpus_args(corpus), "--recipes", "mle", "--budget", "0.5",
                          "--eval-every", "0.5", "--samples", "16", "--dim", "8", "--lm",
                          "--out", str(tmp_path), "--name", "m"])
    summary, = check_result(tmp_path, "m", "recipes")["results"]["summaries"]
    assert summary["recipe"] == "mle" and summary["steps"] > 0
    assert summary["lm_forward_bpc"] > 0 and summary["lm_reverse_bpc"] > 0
    for n in (2, 3, 4, 5):  # Texygen BLEU and Self-BLEU of the samples, and of real lines
        for key in (f"texygen_bleu{n}", f"texygen_self_bleu{n}", f"texygen_bleu{n}_real"):
            assert 0 <= summary[key] <= 1, key
    assert summary["texygen_bleu2_real"] > summary["texygen_bleu5_real"]
    assert summary["lm_forward_bpc_raw"] > 0  # the cpu preset's moving average, and the raw LM


def test_a_sized_recipe_decays_to_zero_when_its_budget_ends(
        tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("recipes").main([*corpus_args(corpus), "--recipes", "cpu,cpu-sized", "--budget", "2",
                          "--eval-every", "1", "--samples", "16", "--dim", "8", "--out",
                          str(tmp_path), "--name", "s"])
    results = check_result(tmp_path, "s", "recipes")["results"]
    assert results["recipes"]["cpu-sized"]["size_after"] == 20
    plain, sized = results["summaries"]
    assert plain["schedule_steps"] == 22000  # the preset's, far beyond a 2-second run
    # sized after 20 steps to what fits in the rest of the budget (3% kept free), and trained to
    # it: more steps than 20, a schedule ending within a few steps of where the run stopped
    assert 20 < sized["schedule_steps"] and sized["steps"] <= sized["schedule_steps"]
    assert sized["steps"] >= 0.8 * sized["schedule_steps"]
    assert sized["schedule_steps"] < 1.5 * plain["steps"]
    assert results["size_schedule"] is False
    load("recipes").main([*corpus_args(corpus), "--recipes", "cpu", "--budget", "3",
                          "--size-schedule", "--samples", "16", "--dim", "8", "--out",
                          str(tmp_path), "--name", "t"])
    flagged = check_result(tmp_path, "t", "recipes")["results"]
    assert flagged["size_schedule"] is True
    assert flagged["summaries"][0]["schedule_steps"] < 22000  # --size-schedule sized it


def test_train_within_sizes_the_schedule_the_trainer_follows(
        tmp_path: Path, corpus: dict[str, Path]) -> None:
    from textgan.benchmarking import train_within

    recipes = load("recipes")
    args = recipes.parser().parse_args([*corpus_args(corpus), "--dim", "8"])
    done = train_within(recipes.recipe_config("cpu", args, 0), Budget(2.0), out=tmp_path / "r",
                        size_after=20)
    train = done.session.config.train
    assert done.session.trainer.config is train
    assert train.decay_from_step in (20, 200, 2000) and train.decay_from_step < done.steps
    assert done.steps <= train.steps == train.schedule_steps
    rates = [g["lr"] for g in done.session.trainer.opt_g.param_groups]
    assert max(rates) < 0.25 * 1e-3  # the cpu preset's 1e-3, decayed to near 0 by the end


def test_recipes_are_presets_with_changes() -> None:
    recipes = load("recipes")
    from textgan.text.presets import PRESETS

    assert recipes.RECIPES["cpu"].train == {} and recipes.RECIPES["cpu"].model == {}
    for name, recipe in recipes.RECIPES.items():
        assert recipe.preset in PRESETS, name
    assert recipes.RECIPES["cpu-constant"].train == {"lr_schedule": "constant"}
    # the recipes measured before the preset took the straight-through output keep softmax
    args = recipes.parser().parse_args(["--dim", "8"])
    outputs = {name: recipes.recipe_config(name, args, 0).model.gen_output
               for name in ("cpu", "cpu-softmax", "cpu-reps4", "cpu-st-reps4", "cpu-gumbel")}
    assert outputs == {"cpu": "straight-through", "cpu-softmax": "softmax",
                       "cpu-reps4": "softmax", "cpu-st-reps4": "straight-through",
                       "cpu-gumbel": "gumbel"}


def test_a_tuning_studys_trial_is_a_recipe(tmp_path: Path) -> None:
    """study:FILE#N is the N-th best trial of a text-tuning result file, its schedule sized when
    the study's were; a missing file or rank is one line."""
    recipes = load("recipes")
    best = [{"preset": "cpu", "train": {"steps": 22000, "lr": 5e-4}, "model": {"dim": 96}},
            {"preset": "cpu", "train": {"steps": 22000, "critic_iters": 2},
             "model": {"gen_output": "softmax"}}]
    path = tmp_path / "tune.json"
    path.write_text(json.dumps({"results": {"best": best, "facts": {"sized_to_budget": True}}}))
    second = recipes.study_recipe(f"study:{path}#2")
    assert (second.preset, second.train, second.model) == ("cpu", best[1]["train"],
                                                           best[1]["model"])
    assert second.size_after == recipes.SIZE_AFTER
    assert recipes.label_of(f"study:{path}#2") == "tune#2"
    args = recipes.parser().parse_args(["--dim", "8"])
    config = recipes.recipe_config(f"study:{path}", args, 0)  # no rank: the best
    assert config.train.lr == 5e-4 and config.model.dim == 96
    assert config.model.gen_output == "straight-through"  # the preset's, unchanged
    for bad in (f"study:{path}#3", f"study:{tmp_path}/none.json#1", f"study:{path}#x"):
        with pytest.raises(SystemExit, match="not the N-th best trial"):
            recipes.study_recipe(bad)


def test_time_to_threshold(tmp_path: Path) -> None:
    points = ([{"recipe": "paper", "seed": 0, "step": 10 * t, "cpu_s": t, "js4": js}
               for t, js in ((0, 1.0), (50, 0.7), (100, 0.5))]
              + [{"recipe": "cpu", "seed": 0, "step": 10 * t, "cpu_s": t, "js4": js}
                 for t, js in ((0, 1.0), (25, 0.5), (100, 0.3))])
    source = write_result(tmp_path, "rec", "q?", {"threshold_js4": 0.5, "points": points},
                          command="python benchmarks/recipes.py")
    load("time_to_threshold").main([str(source), "--thresholds", "0.5,0.4", "--out",
                                    str(tmp_path), "--name", "ttt"])
    record = check_result(tmp_path, "ttt", "time_to_threshold")
    assert record["baseline"] == "paper" and record["sources"] == ["rec.json"]
    by = {(r["threshold_js4"], r["recipe"]): r for r in record["results"]}
    assert by[(0.5, "cpu")]["cpu_s"] == 25 and by[(0.5, "cpu")]["speedup_vs_paper"] == "4.0x"
    assert by[(0.5, "paper")]["speedup_vs_paper"] == "1.0x"
    assert by[(0.4, "cpu")]["cpu_s"] == 100 and by[(0.4, "cpu")]["speedup_vs_paper"] == ">1.0x"
    assert by[(0.4, "paper")]["cpu_s"] is None and by[(0.4, "paper")]["best_js4"] == 0.5


def test_screen(tmp_path: Path) -> None:
    def run(recipe: str, seed: int, js4: float, fwd: float) -> dict:
        return {"recipe": recipe, "seed": seed, "steps": 100 + seed, "final_js4": js4,
                "best_js4": js4 - 0.01, "lm_forward_bpc": fwd, "lm_reverse_bpc": 4.0,
                "texygen_bleu4": 0.05, "texygen_self_bleu4": 0.07}

    a = write_result(tmp_path, "a", "q?", {"floor_js4": 0.2, "summaries": [
        run("cpu", 0, 0.60, 5.0), run("cpu", 1, 0.64, 5.2),
        run("lever", 0, 0.50, 4.0), run("lever", 1, 0.55, 4.2)]},
        command="python benchmarks/recipes.py")
    b = write_result(tmp_path, "b", "q?", {"floor_js4": 0.2, "summaries": [
        run("noisy", 0, 0.58, 5.0), run("noisy", 1, 0.70, 5.0),
        run("bad", 0, 0.70, 6.0), run("bad", 1, 0.65, 6.0)]},
        command="python benchmarks/recipes.py")
    load("screen").main([str(a), str(b), "--baseline", "cpu", "--out", str(tmp_path),
                         "--name", "scr"])
    record = check_result(tmp_path, "scr", "screen")
    assert record["baseline"] == "cpu" and record["sources"] == ["a.json", "b.json"]
    by = {r["recipe"]: r for r in record["results"]}
    assert list(by) == ["cpu", "lever", "noisy", "bad"]
    assert by["cpu"]["verdict"] == "baseline" and by["cpu"]["js4"] == 0.62
    assert by["lever"]["verdict"] == "better" and by["lever"]["js4_vs_cpu"] == -0.095
    assert by["lever"]["lm_forward_bpc"] == 4.1 and by["lever"]["js4_spread"] == 0.05
    assert by["noisy"]["verdict"] == "within seed noise" and by["bad"]["verdict"] == "worse"
    assert by["bad"]["steps"] == 100 and by["bad"]["js4_seeds"] == "0.700 / 0.650"
    with pytest.raises(SystemExit, match="baseline recipe 'paper'"):
        load("screen").main([str(a), "--baseline", "paper", "--out", str(tmp_path)])


def test_screen_reads_the_synthetic_accept_rate_from_summaries_or_last_points(tmp_path: Path):
    def run(recipe: str, seed: int, js4: float) -> dict:
        return {"recipe": recipe, "seed": seed, "steps": 10, "final_js4": js4, "best_js4": js4}

    old = write_result(tmp_path, "old", "q?", {"floor_js4": 0.05, "summaries": [
        run("cpu", 0, 0.3), run("cpu", 1, 0.4)], "points": [
        {"recipe": "cpu", "seed": 0, "js4": 0.5, "accept": 0.01},
        {"recipe": "cpu", "seed": 0, "js4": 0.3, "accept": 0.02},
        {"recipe": "cpu", "seed": 1, "js4": 0.4, "accept": 0.04}]},
        command="python benchmarks/recipes.py")
    new = write_result(tmp_path, "new", "q?", {"floor_js4": 0.05, "summaries": [
        {**run("st", 0, 0.2), "final_accept": 0.1}, {**run("st", 1, 0.25), "final_accept": 0.2}],
        "points": [{"recipe": "st", "seed": 0, "js4": 0.2, "accept": 0.9}]},
        command="python benchmarks/recipes.py")
    load("screen").main([str(old), str(new), "--baseline", "cpu", "--out", str(tmp_path),
                         "--name", "syn"])
    by = {r["recipe"]: r for r in check_result(tmp_path, "syn", "screen")["results"]}
    assert by["cpu"]["accept"] == 0.03 and by["cpu"]["accept_seeds"] == "0.020 / 0.040"
    assert by["st"]["accept"] == 0.15 and by["st"]["verdict"] == "better"


def test_step_speed(tmp_path: Path) -> None:
    load("step_speed").main(["--dim", "4", "--batch-size", "2", "--seq-len", "4", "--vocab", "5",
                             "--repeats", "1", "--profile-steps", "1", "--out", str(tmp_path)])
    results = check_result(tmp_path, "step-speed", "step_speed")["results"]
    assert results["shape"] == {"dim": 4, "batch_size": 2, "critic_iters": 1, "seq_len": 4,
                                "vocab": 5}
    assert set(results["threads"]) == {"1", "2"} and results["speedup_threads"] > 0
    for timing in results["threads"].values():
        assert set(timing["implementations"]) == {"textgan", "textgan-joint", "reference"}
        for row in timing["implementations"].values():
            assert row["gflop_per_gen_iter"] > 0 and row["s_per_gen_iter"] > 0
    shares = results["self_time_shares"]
    assert shares["convolution"] > 0 and abs(sum(shares.values()) - 1) < 1e-3


def test_overhead(tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("overhead").main([*corpus_args(corpus), "--steps", "2", "--block", "1", "--warmup",
                           "1", "--samples", "16", "--penalties", "--out", str(tmp_path)])
    results = check_result(tmp_path, "overhead", "overhead")["results"]
    assert set(results["cpu_s_per_step"]) == {"plain", "ema", "joint-penalty", "penalty_every_4"}
    assert all(v > 0 for v in results["cpu_s_per_step"].values())
    from textgan.text.presets import PRESETS

    assert results["eval_every"] == PRESETS["cpu"]["train"]["eval_every"]
    assert results["steps"] == 2 and results["eval_samples"] == 16
    assert results["eval_cpu_s"] > 0 and results["eval_overhead"] > 0


def test_zoo_step_time(tmp_path: Path) -> None:
    load("zoo_step_time").main(["--dim", "2", "--batch-size", "2", "--repeats", "1", "--warmup",
                                "0", "--archs", "dcgan64-g-mlp,resnet101", "--objectives",
                                "gan,wgan-gp", "--out", str(tmp_path)])
    results = check_result(tmp_path, "zoo-step-time", "zoo_step_time")["results"]
    rows = results["rows"]
    assert [(r["arch"], r["objective"]) for r in rows] == [
        ("dcgan64-g-mlp", "gan"), ("dcgan64-g-mlp", "wgan-gp"), ("resnet101", "gan"),
        ("resnet101", "wgan-gp")]
    assert [r["critic_iters"] for r in rows] == [1, 5, 1, 5]
    assert all(r["cpu_s_per_step"] > 0 and r["wall_s_per_step"] > 0 for r in rows)
    pixels = 3 * 64 * 64  # the MLP at DIM 2: 16 wide
    assert rows[0]["g_params"] == (128 * 16 + 16) + 3 * (16 * 16 + 16) + (16 * pixels + pixels)
    assert results["size"] == 64 and results["dim"] == 2


def test_gan_vs_mle(tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("gan_vs_mle").main([*corpus_args(corpus), "--budget", "0.5", "--dim", "8", "--samples",
                             "40", "--temperatures", "1", "--no-report", "--runs", str(tmp_path / "runs"),
                             "--out", str(tmp_path)])
    results = check_result(tmp_path, "gan-vs-mle", "gan_vs_mle")["results"]
    assert set(results["models"]) == {"gan", "mle"}
    for model in results["models"].values():
        assert model["steps"] > 0 and model["parameters"] > 0
        assert 0 <= model["metrics"]["js4"] <= 1
        assert [p["temperature"] for p in model["sweep"]["points"]] == [1.0]
    assert results["table"][0] == {"metric": "parameters",
                                   "gan": results["models"]["gan"]["parameters"],
                                   "mle": results["models"]["mle"]["parameters"]}
    assert any(row["metric"] == "JS-4" and row["real_vs_real"] is not None
               for row in results["table"])
    assert (tmp_path / "runs" / "gan" / "eval" / "sweep.json").is_file()
    assert not (tmp_path / "runs" / "report").exists()


def test_conditional_text(tmp_path: Path) -> None:
    load("conditional_text").main(["--methods", "ac", "--steps", "2", "--budget", "60",
                                   "--dim", "8", "--max-lines", "500", "--eval-every", "0",
                                   "--samples", "20", "--per-class", "2", "--data-dir",
                                   str(tmp_path / "data"), "--out", str(tmp_path)])
    results = check_result(tmp_path, "conditional-text", "conditional_text")["results"]
    (measured,) = results["methods"]["ac"]
    assert measured["step"] == 2 and measured["samples"] == 20
    for key in ("class_accuracy", "chance", "swapped", "class_start", "class_end",
                "grammar_accept_rate"):
        assert 0 <= measured[key] <= 1, key
    assert measured["chance"] == measured["grammar_accept_rate"] / 2
    assert set(measured["examples"]) == {"question", "statement"}


def test_memory_vs_corpus_size(tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("memory_vs_corpus_size").main([*corpus_args(corpus), "--gb", "0.002", "--steps", "1",
                                        "--dim", "8", "--out", str(tmp_path)])
    rows = check_result(tmp_path, "memory-vs-corpus-size", "memory_vs_corpus_size")["results"]
    small, big = rows
    assert (small["corpus"], big["corpus"]) == ("small", "big")
    assert big["train_rows"] == 0.002 * 2**30 // (32 * 1) and big["train_rows"] > small["train_rows"]
    assert big["train_bin_mb"] == pytest.approx(0.002 * 1024, abs=0.1)
    for row in rows:
        assert row["steps"] == 1 and row["peak_rss_mb"] > row["rss_anon_mb"] > 0


def test_ddp_train_alone(tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("ddp_train").main([*corpus_args(corpus), "--steps", "2", "--dim", "8", "--batch-size",
                            "4", "--critic-iters", "1", "--device", "cpu", "--out",
                            str(tmp_path)])
    results = check_result(tmp_path, "ddp", "ddp_train")["results"]
    assert results["world_size"] == 1 and results["ranks_identical"] is True
    assert results["global_batch"] == 4 and results["timed_steps"] == 2
    assert results["samples_per_s"] == pytest.approx(4 / results["s_per_gen_iter"], rel=1e-3)


def test_startup(tmp_path: Path, corpus: dict[str, Path]) -> None:
    load("startup").main([*corpus_args(corpus)[:2], *corpus_args(corpus)[4:], "--repeats", "1",
                          "--top", "3", "--out", str(tmp_path)])
    record = check_result(tmp_path, "startup", "startup")
    assert [r["command"] for r in record["results"]] == ["textgan --help", "textgan sample -n 5"]
    help_row = record["results"][0]
    assert "torch" not in help_row["heavy_imports"]  # --help imports no torch
    assert len(help_row["wall_s"]) == 1 and len(help_row["slowest_imports"]) <= 3
    assert record["repeats"] == 1


def test_bench_eval(tmp_path: Path) -> None:
    load("bench_eval").main(["--lines", "2000", "--samples", "50", "--kn-lines", "2000",
                             "--bleu-refs", "50", "--bleu-chars", "64", "--nltk-samples", "2",
                             "--out", str(tmp_path)])
    results = check_result(tmp_path, "bench-eval", "bench_eval")["results"]
    assert {"refstats", "refset", "score", "kn", "bleu"} <= set(results)
    assert results["refstats"]["lines"] == 2000 and results["kn"]["lines"] == 2000
    assert results["score"]["samples"] == 50 and set(results["score"]["js"]) >= {"js4"}
    assert results["bleu"]["samples"] == 50


def test_reference_wgan_gp(tmp_path: Path) -> None:
    load("reference_wgan_gp").main(["--dim", "8", "--batch-size", "4", "--critic-iters", "1",
                                    "--seq-len", "8", "--vocab", "10", "--repeats", "2",
                                    "--out", str(tmp_path)])
    results = check_result(tmp_path, "reference-wgan-gp", "reference_wgan_gp")["results"]
    assert results["dim"] == 8 and len(results["s_per_gen_iter_all"]) == 2
    assert results["s_per_gen_iter"] > 0


def test_every_script_has_a_smoke_test() -> None:
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    tested |= {"ddp_train"}  # test_ddp_train_alone
    assert scripts <= tested, scripts - tested


def test_scripts_run_nothing_at_import() -> None:
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        source = path.read_text()
        assert 'if __name__ == "__main__":\n    main(' in source, path.name
        assert "/work/" not in source and "/home/" not in source, path.name


# --- the harness ---------------------------------------------------------------------------------


class FakeClock:
    """Stands in for time.process_time: advanced by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_budget_counts_cpu_time_and_excludes_paused_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(time, "process_time", clock)
    budget = Budget(5.0, "cpu")
    clock.now += 3.0
    with budget.paused():
        clock.now += 10.0  # an evaluation
    assert budget.cpu_seconds() == 3.0 and budget.elapsed() == 3.0 and not budget.exhausted()
    clock.now += 2.0
    assert budget.exhausted() and budget.cpu_seconds() == 5.0
    budget.restart()
    assert budget.cpu_seconds() == 0.0 and not budget.exhausted()
    assert Budget(100, "cpu", max_steps=3).exhausted(step=3)
    assert not Budget(100, "cpu", max_steps=3).exhausted(step=2)


def test_train_within_stops_at_the_budget_and_evaluates_at_both_ends(
        tmp_path: Path, corpus: dict[str, Path]) -> None:
    from textgan.benchmarking import configure, train_within

    seen = []

    def evaluate(session: Any) -> dict[str, Any]:
        seen.append(session.trainer.step)
        return {"params": sum(p.numel() for p in session.setup.generator.parameters())}

    config = configure("cpu", train={"device": "cpu", "eval_every": 0, "sample_every": 0,
                                     "batch_size": 4},
                       data={"corpus": str(corpus["train"]), "valid_path": str(corpus["valid"]),
                             "data_dir": str(corpus["data"])}, model={"dim": 8})
    done = train_within(config, Budget(1e9, "cpu", max_steps=3), out=tmp_path / "run",
                        evaluate=evaluate)
    assert done.steps == 3 and seen == [0, 3]
    assert [p["step"] for p in done.points] == [0, 3] and done.points[0]["cpu_s"] == 0.0
    assert done.points[1]["params"] == done.points[0]["params"] > 0
    assert done.run_dir == tmp_path / "run"
    # the stop is checkpointed, as by Ctrl-C
    assert (tmp_path / "run" / "checkpoints" / "step_00000003.pt").is_file()


def test_wall_budget_and_bad_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu, wall = FakeClock(), FakeClock()
    monkeypatch.setattr(time, "process_time", cpu)
    monkeypatch.setattr(time, "perf_counter", wall)
    budget = Budget(2.0, "wall")
    wall.now += 2.5  # waiting: wall-clock time passes, no CPU time
    assert budget.exhausted() and budget.wall_seconds() == 2.5 and budget.cpu_seconds() == 0.0
    monkeypatch.undo()
    with pytest.raises(ValueError, match="unknown clock"):
        Budget(1, "gpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="0 seconds or more"):
        Budget(-1)


def test_seeds() -> None:
    assert seeds(3, 2) == [3, 4]
    with pytest.raises(ValueError):
        seeds(0, 0)


def test_script_command_is_relative(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = ROOT / "benchmarks" / "recipes.py"
    monkeypatch.chdir(ROOT)
    assert script_command(script, ["--budget", "1", "a b"]) == (
        "python benchmarks/recipes.py --budget 1 'a b'")
    monkeypatch.chdir(tmp_path)
    assert script_command(script, []) == "python benchmarks/recipes.py"
    json.dumps(script_command(script, None))  # the process's own arguments
