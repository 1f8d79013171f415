"""kobench: evaluate vision-language models on Korean benchmarks."""

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate"]


def __getattr__(name: str):
    # Lazy so that `import kobench` (and `kobench --help`) stays fast and torch-free.
    if name == "evaluate":
        from kobench.api import evaluate

        return evaluate
    raise AttributeError(name)
