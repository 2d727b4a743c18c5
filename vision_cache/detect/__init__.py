"""How a verdict is reached on a miss (DESIGN section 4). Nothing here runs on a cache hit."""
