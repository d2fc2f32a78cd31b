#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/lint-corpus/expected.json: every model folder of the public-config
corpus loaded into the real tritonserver 2.51 (scripts/triton-verdicts.py), once per repository
folder (<owner>__<repo>, a Triton model repository) and per mode (--disable-auto-complete-config,
then the default auto-complete mode). Needs the project venv (make setup).

Usage: scripts/lint-corpus-verdicts.py [CORPUS_DIR]
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests/Fixtures/lint-corpus")
expected = {}
for repository in sorted(d for d in os.listdir(corpus) if os.path.isdir(os.path.join(corpus, d))):
    for mode, flags in (("strict", ["--disable-auto-complete-config"]), ("default", [])):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(
                [sys.executable, os.path.join(ROOT, "scripts/triton-verdicts.py"), os.path.join(corpus, repository), out.name] + flags,
                check=True)
            for model, verdict in json.load(open(out.name)).items():
                expected.setdefault(f"{repository}/{model}", {})[mode] = verdict
with open(os.path.join(corpus, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"{len(expected)} models")
