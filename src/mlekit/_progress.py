"""A progress bar for long runs (bootstrap batches, many fits): rich, on stderr, imported only
when asked for."""

from __future__ import annotations


def progress_bar(label: str = "bootstrap"):
    """A progress(done, total) callback drawing a rich bar on stderr (bootstrap batches, many
    fits)."""
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    state = {}

    def progress(done: int, total: int) -> None:
        if "task" not in state:
            bar.start()
            state["task"] = bar.add_task(label, total=total)
        bar.update(state["task"], completed=done)
        if done >= total:
            bar.stop()

    return progress
