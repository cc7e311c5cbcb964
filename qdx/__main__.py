"""``python -m qdx``."""

from qdx.cli import main

# Guarded: worker processes started by spawn (macOS, Windows) import the main module again.
if __name__ == "__main__":
    main()
