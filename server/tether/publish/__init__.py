"""Publishing a trained agent: exporting its corpus (and, later, serving it)."""

from tether.publish.export import FORMATS, ExportSummary, export, prompt_messages, rows_for

__all__ = ["FORMATS", "ExportSummary", "export", "prompt_messages", "rows_for"]
