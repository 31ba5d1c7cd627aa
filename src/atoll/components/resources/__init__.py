"""The cached resource API: lists of any kind served from memory, filtered, sorted and paged."""
