from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Synthetic data and benchmarks (`generate_data`, `benchmark`): development only.

    Production images leave this folder out, and settings install the app only where it is
    present.
    """

    name = "bench"
    verbose_name = "Benchmarks"
