"""The first launch: the bundled sample's workspace, built in the background (or by ``explorer sample``, which
``scripts/run-app.sh`` starts with the server), while the Map page shows its progress."""

from __future__ import annotations

import logging
import threading

from explorer.build.sample import build_sample_workspace
from explorer.embedding.encoders import Encoder
from explorer.errors import InputError

logger = logging.getLogger(__name__)


class SampleBuild:
    """One background build of the sample in this process; ``error`` says why it stopped, if it did."""

    def __init__(self, encoder: Encoder) -> None:
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(encoder,), name="sample-build", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self, encoder: Encoder) -> None:
        try:
            build_sample_workspace(encoder=encoder, owner="the app's first launch")
        except InputError as error:  # e.g. already being built by `explorer sample`: its progress is shown
            self.error = str(error)
            logger.info("sample build not started here: %s", error)
