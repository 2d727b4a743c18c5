"""How a verdict is reached on a miss (docs/design.md, "The lookup pipeline", step 6). Nothing here runs on a hit."""
