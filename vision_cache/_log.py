"""The library's logger, imported only when there is something to say (``logging`` costs ~9 ms to import)."""


def logger():
    import logging

    return logging.getLogger("vision_cache")
