"""benchmarks/uda.py report: the per-seed gaps pair each UDA run with the supervised run of the same seed."""

import uda


def _run(arm, seed, accuracy):
    return {"arm": arm, "seed": seed, "test_accuracy": accuracy}


def test_per_seed_gaps_pair_runs_by_seed_not_by_order():
    runs = [_run("uda", 2, 0.90), _run("supervised", 1, 0.60), _run("uda", 1, 0.55), _run("supervised", 2, 0.80)]
    line = uda.paired_differences(runs)[1]
    assert "seed 1 -5.0, seed 2 +10.0" in line
    assert line.endswith("UDA ahead in 1 of 2 seeds.")


def test_a_seed_missing_one_arm_is_left_out():
    runs = [_run("supervised", 1, 0.60), _run("uda", 1, 0.70), _run("supervised", 3, 0.50)]
    assert uda.paired_differences(runs)[1] == ("Per seed (UDA - supervised, same labeled subset): seed 1 +10.0; "
                                               "UDA ahead in 1 of 1 seeds.")
    assert uda.paired_differences([_run("uda", 1, 0.70)]) == []


def test_settings_line_describes_the_recipe_config_not_fixed_text():
    from types import SimpleNamespace

    args = SimpleNamespace(data="imdb", labeled_per_class=10, pretrained="minilm", block=None, limit_train=None,
                           validation_limit=300, limit_test=1000, unlabeled_limit=None, steps=50, batch_size=8,
                           unsup_ratio=3, rounds=1, extra=None, note="", seeds=[1], arms=["uda"],
                           uda_variants=["base"], supervised_variants=["base"])
    params = SimpleNamespace(augmentation="uniform", augmentation_probability=0.2, tsa="exp", softmax_temperature=0.4,
                             confidence_threshold=0.8, uda_coeff=2.0, learning_rate=3e-5, schedule="linear",
                             warmup_fraction=0.1, sequence_length=256, truncation="head_tail", pooling="cls",
                             precision="float32")
    sizes = {"train": 100, "validation": 10, "test": 20, "unsup": 0}
    settings = next(line for line in uda.report(args, {"runs": []}, sizes, "cmd", params).splitlines()
                    if line.startswith("Settings:"))
    for expected in ("augmentation uniform-0.2", "TSA exp", "softmax temperature 0.4", "confidence mask 0.8",
                     "uda_coeff 2", "lr 3e-05", "sequence length 256 (head_tail truncation)", "cls pooling"):
        assert expected in settings


def _variant_run(seed, variant, validation, accuracy):
    run = {"arm": "uda", "seed": seed, "test_accuracy": accuracy, "test_macro_f1": accuracy, "train_seconds": 60.0,
           "test_seconds": 6.0, "peak_rss_gib": 1.0, "fit": {"best_validation_accuracy": validation}}
    if variant != "base":  # runs stored before --uda-variants existed have no variant: they are `base`
        run["variant"] = variant
    return run


def _two_seed_report(runs, *, uda_variants, supervised_variants) -> str:
    """The IMDB block for seeds 1-2 and both arms, from `runs`, with these variants."""
    from types import SimpleNamespace

    args = SimpleNamespace(data="imdb", labeled_per_class=10, pretrained="minilm", block=None, limit_train=None,
                           validation_limit=300, limit_test=1000, unlabeled_limit=None, steps=50, batch_size=8,
                           unsup_ratio=3, rounds=1, extra=None, note="", seeds=[1, 2], arms=["supervised", "uda"],
                           uda_variants=uda_variants, supervised_variants=supervised_variants)
    params = SimpleNamespace(augmentation="tf_idf", augmentation_probability=0.3, tsa="linear",
                             softmax_temperature=0.85, confidence_threshold=-1.0, uda_coeff=1.0, learning_rate=5e-5,
                             schedule="linear", warmup_fraction=0.1, sequence_length=128, truncation="head_tail",
                             pooling="mean", precision="float32")
    sizes = {"train": 100, "validation": 10, "test": 20, "unsup": 0}
    return uda.report(args, {"runs": runs}, sizes, "cmd", params)


def test_each_seed_keeps_the_variant_best_on_validation_not_on_test():
    mask = "params.confidence_threshold=0.7"
    runs = [_variant_run(1, "base", 0.60, 0.90), _variant_run(1, mask, 0.70, 0.50),
            _variant_run(2, mask, 0.80, 0.70), _variant_run(2, "base", 0.80, 0.60)]
    kept = uda.kept_runs(runs, ["base", mask], "uda")
    assert [(run["seed"], run.get("variant", "base")) for run in kept] == [(1, mask), (2, "base")]  # tie: base


def test_report_compares_supervised_with_the_kept_variant_of_each_seed():
    mask = "params.confidence_threshold=0.7"
    supervised = [dict(_variant_run(seed, "base", 0.6, 0.60), arm="supervised") for seed in (1, 2)]
    runs = supervised + [_variant_run(1, "base", 0.60, 0.70), _variant_run(1, mask, 0.65, 0.62),
                         _variant_run(2, "base", 0.70, 0.72), _variant_run(2, mask, 0.60, 0.90),
                         _variant_run(2, "params.confidence_threshold=0.9", 0.99, 0.99)]  # not in this grid
    text = _two_seed_report(runs, uda_variants=["base", mask], supervised_variants=["base"])
    assert "UDA - supervised: +7.0 points" in text  # kept: seed 1 mask 0.62, seed 2 base 0.72
    assert "| uda `params.confidence_threshold=0.7` (kept) | 1 |" in text
    assert "| uda `base` (kept) | 2 |" in text
    assert "0.9900" not in text and "partial" not in text
    assert "| uda `base` alone | 2 | 0.7100 |" in text


def test_both_arms_can_tune_a_knob_on_validation_and_the_gap_uses_each_arms_kept_runs():
    exp = "params.tsa=exp"
    supervised = [dict(_variant_run(1, "base", 0.60, 0.60), arm="supervised"),
                  dict(_variant_run(1, exp, 0.50, 0.99), arm="supervised"),  # best on test, not on validation
                  dict(_variant_run(2, "base", 0.60, 0.60), arm="supervised"),
                  dict(_variant_run(2, exp, 0.70, 0.66), arm="supervised")]
    runs = supervised + [_variant_run(1, "base", 0.60, 0.70), _variant_run(1, exp, 0.65, 0.72),
                         _variant_run(2, "base", 0.70, 0.80), _variant_run(2, exp, 0.60, 0.90)]
    text = _two_seed_report(runs, uda_variants=["base", exp], supervised_variants=["base", exp])
    # supervised kept: seed 1 base 0.60, seed 2 exp 0.66 (mean 0.63); UDA kept: seed 1 exp 0.72, seed 2 base 0.80
    assert "UDA - supervised: +13.0 points" in text
    assert "seed 1 +12.0, seed 2 +14.0" in text
    assert "| supervised `params.tsa=exp` (kept) | 2 |" in text and "| supervised `base` (kept) | 1 |" in text
    assert "| supervised (kept per seed) | 2 | 0.6300 |" in text
    assert "| supervised `params.tsa=exp` alone | 2 | 0.8250 |" in text
    assert "Supervised variants, one kept per seed" in text and "UDA variants, one kept per seed" in text
    assert "partial" not in text
