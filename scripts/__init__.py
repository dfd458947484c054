"""Project tools run from the repository root (``make readme``, ``make export``); not part of ``helpers``."""
