"""Benchmarks: real experiments that write result records (not tests). Run one with `python -m benchmarks NAME`;
`python -m benchmarks` lists them. Shared helpers: `harness` (machine, data, lock, peers), `results_md` (records)."""
