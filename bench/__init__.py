"""The performance benchmark: the app against the raw SDK, on 127.0.0.1. Run ``python -m bench.run``."""
