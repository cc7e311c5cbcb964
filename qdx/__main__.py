"""``python -m qdx``."""

from qdx.cli import main

main()
