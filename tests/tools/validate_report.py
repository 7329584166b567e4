#!/usr/bin/env python3
"""Validates bootsim reports against docs/report.schema.json (Debian's
python3-jsonschema). Exit 0 when every report is valid, 1 (with one line per
problem) when one is not, 2 when a file cannot be read."""
import json
import sys
from pathlib import Path

import jsonschema

schema_path = Path(__file__).resolve().parents[2] / "docs" / "report.schema.json"


def main(paths):
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in paths:
        try:
            report = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            print(f"{path}: cannot read: {e}")
            return 2
        for error in sorted(validator.iter_errors(report), key=lambda e: e.json_path):
            print(f"{path}: {error.json_path}: {error.message[:300]}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: validate_report.py REPORT.json...")
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
