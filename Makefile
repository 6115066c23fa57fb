# cloudstack_kvm.networking: developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/.tmp/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)
SANITY_ROOT := $(CURDIR)/.tmp/sanity
RENDER_DIR ?= $(CURDIR)/out

-include lab/lab.mk

.PHONY: help setup demo test lint sanity unit matrix core-edges fuzz render-check build validate-collection ee docs docs-check changelog-lint clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: ## install Debian packages, the pinned virtualenv and the collections path
	scripts/setup.sh

demo: setup ## the main job on a local lab: two simulated hypervisors, site.yml, verify summary
	scripts/demo.sh

test: setup ## the whole suite CI runs: lint, sanity, unit, render check, build, lab tiers
	scripts/run-tests.sh

lint: setup ## ansible-lint (production profile) and role defaults vs meta/argument_specs.yml
	$(BIN)/ansible-lint --profile production
	$(BIN)/python scripts/check-argument-specs.py

sanity: setup ## ansible-test sanity on a copy placed under ansible_collections/
	scripts/sanity.sh

unit: setup ## unit tests: model, renderers, modules on recorded output and on a scratch ovsdb-server
	tests/unit/tools/fetch-ovs-binaries.sh
	$(BIN)/python -m pytest -q -n 2 tests/unit

matrix: setup ## every ansible-core claimed (tests/matrix/cores.txt): units and sanity on each, the modules' units on Python 3.6, site.yml on the oldest and the newest in the lab
	time scripts/core-matrix.sh --py36
	time $(BIN)/python -m pytest -q -p no:cacheprovider -x tests/lab/test_core_versions.py

core-edges: setup ## the oldest and the newest ansible-core: units and sanity; the modules' units on Python 3.6 (make test; the lab part is in lab-safe-apply)
	scripts/core-matrix.sh --edges --py36

fuzz: setup ## property tests (hypothesis) with many examples: 2000 per property, 300 rendered for netplan/ifquery
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_no_traceback.py

render-check: setup ## render seed 000 on both backends for every system and validate with netplan/ifquery
	scripts/render-check.sh $(RENDER_DIR)

build: setup ## build the collection tarball and install it offline into a scratch path
	scripts/build-check.sh

validate-collection: setup ## the tarball as Galaxy sees it: no developer files, galaxy-importer, antsibull-docs lint
	scripts/validate-collection.sh

ee: setup ## the execution environment image (ansible-builder on podman, offline): localhost/cskl-ee:current
	time ee/build.sh

docs: setup ## render docs/modules/*.md from the modules' DOCUMENTATION and docs/roles/variables/*.md from the roles' argument specs (docs-check: fail when stale)
	$(BIN)/python scripts/render-module-docs.py

docs-check: setup
	$(BIN)/python scripts/render-module-docs.py --check

changelog-lint: setup ## validate changelog fragments
	$(BIN)/antsibull-changelog lint

molecule-%: setup ## one Molecule scenario on the lab, e.g. make molecule-network_containers
	time $(LAB_MOLECULE) test -s $*

clean: ## remove build and render output (not the venv or the lab image cache)
	rm -rf out .tmp/sanity .tmp/build tests/output
