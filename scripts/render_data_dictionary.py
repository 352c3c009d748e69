"""Rewrite docs/data_dictionary.md from the table declarations in reporting/schema.py. Run
after editing a declaration (tests/test_data_dictionary.py fails until you do):

    python scripts/render_data_dictionary.py
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY = ROOT / "docs" / "data_dictionary.md"
sys.path.insert(0, str(ROOT))

from reporting.dictionary import data_dictionary_markdown  # noqa: E402


def main() -> None:
    DICTIONARY.write_text(data_dictionary_markdown(), encoding="utf-8")
    print(f"wrote {DICTIONARY}")


if __name__ == "__main__":
    main()
