"""seva.runtime: what `rasa run` loaded at start is kept out of full garbage collections."""
import gc

from seva.runtime import freeze_loaded_objects


def test_objects_loaded_before_the_freeze_are_frozen():
    loaded = [{"n": n} for n in range(1000)]  # stands in for the model, catalog, speech model
    try:
        freeze_loaded_objects()
        assert gc.get_freeze_count() >= len(loaded)
        assert not any(loaded[0] is o for o in gc.get_objects(generation=2))  # not walked any more
    finally:
        gc.unfreeze()
