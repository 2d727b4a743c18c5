"""Numbered, ordered steps that bring a store to the current schema (run by vision_cache.migrate).

Add a step as ``NNNN_what_it_does.py`` defining ``upgrade(store)``. A step must be idempotent
(it runs again if a crash interrupts it) and must never drop a committed ``vision`` verdict.
Shipped inside the package as ``vision_cache.migrations``.
"""
