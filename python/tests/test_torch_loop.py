"""A real (tiny) PyTorch training loop recording through runlog: a plain
torch loop driving the Lightning logger's API (Lightning itself is not a
Debian package), with 0-d tensors as metric values, torch objects in the
hyperparameters, and system metrics on. Skipped, saying why, without
python3-torch."""

import sys

import pytest

torch = pytest.importorskip(
    "torch", reason="python3-torch is not installed (Debian: apt-get install "
    "python3-torch); the real torch loop test needs it")

from runlog.integrations.lightning import RunlogLogger  # noqa: E402


def test_a_torch_loop_is_recorded(repo):
    torch.manual_seed(0)
    x = torch.randn(256, 3)
    y = x @ torch.tensor([1.5, -2.0, 0.5]) + 0.1 * torch.randn(256)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    logger = RunlogLogger(repo=repo, experiment="torch", system_metrics=True,
                          system_metrics_interval=0.001)
    logger.log_hyperparams({"lr": 0.1, "dtype": x.dtype,
                            "device": x.device, "seed": torch.tensor(0)})
    losses = []
    try:
        for step in range(60):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x).squeeze(1), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            logger.log_metrics({"loss": loss.detach(), "epoch": step // 20},
                               step=step)
    except BaseException:
        logger.finalize("failed")
        raise
    logger.finalize("success")

    record = repo.get_run(logger.version)
    assert record.status == "finished"
    assert record.params == {"lr": 0.1, "dtype": "torch.float32",
                             "device": "cpu", "seed": 0}
    reader = repo.open_run(record.id)
    s = reader.series("loss")
    assert s.steps.tolist() == list(range(60))
    assert s.values.tolist() == pytest.approx(losses)
    assert s.values[-1] < s.values[0] / 10  # it learned
    assert s.epochs.tolist() == [float(i // 20) for i in range(60)]
    rss = reader.series("__system__/rss_bytes", {"device": "process"})
    assert rss.steps.size >= 1 and rss.values.min() > 0
    print(f"torch {torch.__version__}: {rss.steps.size} system samples",
          file=sys.stderr)
