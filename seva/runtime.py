"""Process-level tuning for `rasa run`, applied by the WhatsApp channel once the server has
started (Rasa loads the agent, and the channel the speech model, before that)."""
from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def freeze_loaded_objects() -> None:
    """Take everything loaded so far out of the garbage collector's full passes.

    `rasa run` holds millions of long-lived objects (TensorFlow, the model, the catalog,
    the speech model) that are never freed. Each full (generation 2) collection walked all
    of them: 420-500 ms pauses in the middle of a citizen's turn, seen with gc.callbacks
    under bench/turns.py. After ``gc.freeze()`` a full pass walks only what came later.
    """
    gc.collect()
    gc.freeze()
    logger.info("Froze %d objects loaded at start out of garbage collection", gc.get_freeze_count())
