"""Simulator tests: the independent payload parsers (simfigures.py) live beside the tests."""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
