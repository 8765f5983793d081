"""The training tests' fixtures (tiny model, workspace store), shared with export tests."""

from training.conftest import tiny_model, ws_paths, ws_store

__all__ = ["tiny_model", "ws_paths", "ws_store"]
