"""kobench: evaluate vision-language models on Korean benchmarks."""

from kobench.provenance import VERSION as __version__

__all__ = ["__version__", "evaluate"]


def __getattr__(name: str):
    # Lazy so that `import kobench` (and `kobench --help`) stays fast and torch-free.
    if name == "evaluate":
        from kobench.api import evaluate

        return evaluate
    raise AttributeError(name)
