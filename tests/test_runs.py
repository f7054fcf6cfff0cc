"""Run folders and TensorBoard summaries."""

import numpy as np

from tfsenti.config import build_config
from tfsenti.runs import Run, confusion_image, log_evaluation, log_hparams


def _tags(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for events in log_dir.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events.parent), size_guidance={"tensors": 0})
        accumulator.Reload()
        tags |= set(accumulator.Tags()["tensors"])
    return tags


def test_run_folder_and_summaries(tmp_path):
    config = build_config("nbbon", "imdb", default_file=False)
    run = Run.create(config, root=tmp_path)
    assert run.path.name.startswith("imdb-nbbon-")
    assert "recipe: nbbon" in (run.path / "config.yaml").read_text()
    log_evaluation(run.log_dir, "test", {"accuracy": 0.5}, confusion=np.array([[3, 1], [2, 4]]),
                   class_names=("negative", "positive"), examples=[("bad | film", 1, 0, 0.9)])
    log_hparams(run.log_dir, config, {"test_accuracy": 0.5})
    tags = _tags(run.path)
    assert {"test/accuracy", "test/confusion_matrix", "test/misclassified"} <= tags
    assert any(tag.startswith("_hparams_") for tag in tags)


def test_two_runs_in_one_second_get_distinct_folders(tmp_path):
    config = build_config("nbbon", "imdb", default_file=False)
    assert Run.create(config, root=tmp_path).path != Run.create(config, root=tmp_path).path


def test_confusion_image_is_rgb():
    image = confusion_image(np.array([[5, 1], [0, 7]]), ["n", "p"])
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8


def test_evaluation_report_is_a_text_summary(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tfsenti import evaluation

    labels, probabilities = [0, 1, 2, 2], np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2], [0, 0, 1.0]])
    names = ["negative", "neutral", "positive"]
    report = evaluation.format_report(evaluation.per_class_report(labels, probabilities, names),
                                      evaluation.confusion_matrix(labels, probabilities.argmax(1), 3), names)
    log_evaluation(tmp_path, "test", {"accuracy": 0.75}, report=report)
    accumulator = EventAccumulator(str(tmp_path / "test"), size_guidance={"tensors": 0})
    accumulator.Reload()
    (event,) = accumulator.Tensors("test/report")
    written = event.tensor_proto.string_val[0].decode()
    assert written.splitlines() == ["    " + line for line in report.splitlines()]  # a Markdown code block
    assert "weighted avg" in written and "confusion matrix" in written
