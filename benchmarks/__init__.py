"""Performance benchmarks of the embedded cluster (``make bench`` = ``python -m benchmarks``).

Each benchmark drives a real ``atoll cluster serve`` subprocess over HTTPS with an aiohttp
client and prints its figure beside a baseline measured in the same run, as a ratio: the
same operation done directly on SQLite, or for the controllers the raw API writes their job
contains. Nothing here asserts on timings: the figures are for reading, and only a crash
makes the run fail.
"""
