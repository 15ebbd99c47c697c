from __future__ import annotations

import sys
from pathlib import Path

# Make tests/mediagen.py importable as `mediagen` (tests/ is not a package).
sys.path.insert(0, str(Path(__file__).parent))
