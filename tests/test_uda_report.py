"""benchmarks/uda.py report: the per-seed gaps pair each UDA run with the supervised run of the same seed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import uda  # noqa: E402


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
