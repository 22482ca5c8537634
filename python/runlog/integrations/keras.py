"""Keras: a callback that records a fit() into runlog.

    from runlog.integrations.keras import RunlogCallback

    model.fit(x, y, validation_split=0.1, epochs=10,
              callbacks=[RunlogCallback(repo="/data/runs", experiment="cnn",
                                        batch_interval=50)])

What it stores:
  - params `keras`: the fit parameters Keras passes (epochs, steps,
    verbose), `model`: the model's name, class and parameter count, and
    `optimizer`: the optimizer's get_config() -- at on_train_begin;
  - at every epoch end, each number of the logs as a series at step =
    the epoch (0-based, as Keras counts) with the points' epoch the same:
    `val_x` as series x with context {subset: val}, the rest as x
    {subset: train};
  - with batch_interval=N, every N-th training batch's logs as series x
    with context {subset: train, per: batch} at step = batches since fit
    began, epoch = the current epoch (a series apart from the epoch-level
    one, so that each keeps its own step axis);
  - evaluate() outside fit: its logs (on_test_end) as x {subset: val}, one
    point per evaluate() at the series' next step. The validation inside fit() is
    recorded once, from the epoch's val_ logs.
on_train_end commits the run (end_on_train_end=False keeps it open, e.g. to
record a model.evaluate() afterwards; then call `callback.end()`). An
exception inside fit() leaves the run open, and runlog's lifecycle rules end
it (at interpreter exit per on_exception; Ctrl-C: committed as failed,
"interrupted"); or call `callback.end(reason)` where it is caught.

Overriding on_train_batch_end makes Keras call the batch hooks inline rather
than on its thread pool; with batch_interval unset the hook returns at once.

Subclasses keras.callbacks.Callback (Keras 3, or tf.keras) when installed;
otherwise a plain class with every hook Keras' CallbackList calls.
"""

from runlog.integrations import _RunHolder, to_params

__all__ = ["RunlogCallback"]


def _keras_callback_base():
    try:
        from keras.callbacks import Callback
        return Callback
    except ImportError:
        pass
    try:
        from tensorflow.keras.callbacks import Callback
        return Callback
    except ImportError:
        return object


_Base = _keras_callback_base()


def _split(key):
    if key.startswith("val_") and len(key) > 4:
        return key[4:], {"subset": "val"}
    return key, {"subset": "train"}


def _split_batch(key):
    return key, {"subset": "train", "per": "batch"}


class _DuckHooks:
    """Keras' Callback for when Keras is not installed: the attributes
    CallbackList sets and the hooks it calls that runlog does not use. (With
    Keras installed they are its own, so Keras still sees them as defaults
    and keeps its asynchronous batch dispatch.)"""

    params = None
    model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class RunlogCallback(_Base if _Base is not object else _DuckHooks):
    """A Keras callback writing one runlog run.

    repo: a path or a runlog.Repo; batch_interval: also record every N-th
    training batch's logs (None: epochs only); run_options: those of
    Repo.create_run."""

    def __init__(self, repo=None, *, batch_interval=None,
                 end_on_train_end=True, **run_options):
        if _Base is not object:
            super().__init__()
        if batch_interval is not None and (
                isinstance(batch_interval, bool)
                or not isinstance(batch_interval, int) or batch_interval < 1):
            raise ValueError("RunlogCallback: batch_interval must be a "
                             f"positive int, not {batch_interval!r}")
        self._holder = _RunHolder("RunlogCallback", repo, run_options)
        self._batch_interval = batch_interval
        self._end_on_train_end = end_on_train_end
        self._in_fit = False
        self._epoch = 0
        self._batches = 0
        if _Base is not object and batch_interval is None:
            # Keras runs batch hooks on its thread pool unless a callback
            # overrides them: without batch logging, leave Keras' own.
            self.on_train_batch_end = super().on_train_batch_end

    @property
    def run(self):
        return self._holder.run()

    def end(self, reason=None):
        """Commits the run, or as failed with `reason`."""
        self._holder.end(reason)

    # ---- training ---------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._batches = 0
        if self._holder.ended:
            return
        params = {"keras": to_params(dict(self.params or {}))}
        params.update(self._model_params())
        self._holder.run()
        self._holder.set_params(params)

    def _model_params(self):
        out = {}
        model = self.model
        if model is None:
            return out
        info = {"class": type(model).__name__}
        for attr in ("name",):
            if isinstance(getattr(model, attr, None), str):
                info[attr] = getattr(model, attr)
        try:
            info["count_params"] = int(model.count_params())
        except Exception:  # an unbuilt model cannot count; not worth failing
            pass
        out["model"] = info
        optimizer = getattr(model, "optimizer", None)
        get_config = getattr(optimizer, "get_config", None)
        if callable(get_config):
            try:
                out["optimizer"] = to_params(get_config())
            except Exception:  # a custom optimizer's config may not serialize
                pass
        return out

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch
        if logs:
            self._holder.track(logs, step=int(epoch), epoch=float(epoch),
                               rename=_split)

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if (self._batch_interval is None or not logs
                or self._batches % self._batch_interval != 0):
            return
        self._holder.track(logs, step=self._batches, epoch=float(self._epoch),
                           rename=_split_batch)

    def on_train_end(self, logs=None):
        self._in_fit = False
        if self._end_on_train_end:
            self._holder.end()

    # ---- evaluation -------------------------------------------------------
    def on_test_end(self, logs=None):
        # Inside fit() the validation's logs come again, prefixed val_, at
        # the epoch's end: recorded there.
        if self._in_fit or not logs:
            return
        self._holder.track(logs, rename=lambda k: (k, {"subset": "val"}))
