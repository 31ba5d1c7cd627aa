"""Performance benchmarks of the embedded cluster (``make bench`` = ``python -m benchmarks``).

Each benchmark drives a real ``atoll cluster serve`` subprocess over HTTPS with an aiohttp
client and prints its figure beside the same operation done directly on SQLite in the same
run, as a ratio. Nothing here asserts on timings: the figures are for reading, and only a
crash makes the run fail.
"""
