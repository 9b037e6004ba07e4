"""Every function's folder on the import path, as its task root is in its image: tests import a
function's pure modules by name (`import renditions`). Found by walking functions/, so a new function
needs no entry here."""

import sys
from pathlib import Path

for folder in sorted((Path(__file__).parent / "functions").iterdir()):
    if (folder / "app.py").is_file() and str(folder) not in sys.path:
        sys.path.append(str(folder))
