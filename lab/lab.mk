# The lab: simulated KVM hypervisors on this machine (lab/README.md). Included by the root Makefile.
#   make lab-images                                   build/reuse the cached images
#   make lab-up LAB_TIER=containers|vms LAB_HOSTS=N   bring a lab up, print its inventory path
#   make lab-down [LAB_ID=id]                         tear down one lab, or every lab
#   make lab-status                                   labs, hosts, leftovers
#   make lab-test                                     container smoke + VM smoke (Molecule)
LAB_CLI := $(CURDIR)/lab/lab
LAB_TIER ?= containers
LAB_HOSTS ?= 2
LAB_ID ?=
MOLECULE_BASE := $(CURDIR)/molecule/_shared/base.yml
LAB_MOLECULE := $(BIN)/molecule -c $(MOLECULE_BASE)

.PHONY: lab-images lab-up lab-down lab-status lab-leftovers lab-unit lab-test lab-test-containers lab-test-vms lab-safe-apply lab-change-catalogue lab-change-catalogue-vms lab-takeover-vms lab-lacp-vms lab-fleet-load lab-libvirt lab-awx

lab-images: setup ## build (or reuse from the cache) the lab's container and VM images
	$(LAB_CLI) images

lab-up: setup ## bring up a lab: LAB_TIER=containers|vms LAB_HOSTS=N [LAB_ID=id]; prints the inventory
	$(LAB_CLI) $(if $(LAB_ID),--lab $(LAB_ID)) up --tier $(LAB_TIER) --hosts $(LAB_HOSTS)

lab-down: setup ## tear down LAB_ID, or every lab when LAB_ID is empty (nothing left behind)
	$(LAB_CLI) $(if $(LAB_ID),--lab $(LAB_ID)) down

lab-status: setup ## the labs that are up, their hosts, and any leftover lab object
	$(LAB_CLI) status

lab-leftovers: setup ## fail if any lab object (netns, link, container, QEMU, mount) is left
	$(LAB_CLI) leftovers

lab-unit: setup ## offline tests of the lab code and verify-helper parsers (no root needed)
	$(BIN)/python -m pytest -q -p no:cacheprovider lab/tests

lab-test-containers: setup ## Molecule: the container tier's smoke scenario (OVS bond, VLAN fake bridge, failover)
	time $(LAB_MOLECULE) test -s lab_containers_smoke

lab-test-vms: setup ## Molecule: the VM tier's smoke scenario (Linux bond, 802.1Q, failover, reboot)
	time $(LAB_MOLECULE) test -s lab_vms_smoke

lab-test: setup lab-unit ## both lab smoke scenarios (containers, then VMs)
	time $(LAB_MOLECULE) test -s lab_containers_smoke
	time $(LAB_MOLECULE) test -s lab_vms_smoke
	$(LAB_CLI) --lab lab_containers_smoke leftovers >/dev/null
	$(LAB_CLI) --lab lab_vms_smoke leftovers >/dev/null

# One in-band lab for all three (tests/lab/conftest.py): safe apply first (it starts from installer-made
# hosts), then the change catalogue on the hosts it leaves, then site.yml as AWX runs it (ansible-runner
# jobs and two slices; the runner job with a rolled-back apply, about 45 s, is make lab-awx's, for
# CI's time: test_safe_apply's test 3 proves the same rollback through ansible-playbook).
lab-safe-apply: setup ## in-band container lab: commit-confirm, rollbacks, controller killed, the change catalogue, ansible-runner jobs, site.yml on the oldest and newest core, rollout waves, takeover of hand-built hosts, LACP with a real partner
	time $(BIN)/python -m pytest -q -p no:cacheprovider -x --durations=20 tests/lab/test_safe_apply.py tests/lab/test_change_catalogue.py \
	  tests/lab/test_runner_jobs.py::test_1_site_yml_through_runner_converges_then_changes_nothing \
	  tests/lab/test_runner_jobs.py::test_3_two_slices_run_in_parallel_converge_every_host_once \
	  tests/lab/test_core_versions.py tests/lab/test_rollout_waves.py tests/lab/test_takeover.py tests/lab/test_lacp.py

lab-change-catalogue: setup ## the change catalogue alone (tests/lab/changes.yml); WRITE=1 puts its table into docs/disruption.md
	time $(BIN)/python -m pytest -q -p no:cacheprovider -x tests/lab/test_change_catalogue.py
	$(if $(WRITE),$(BIN)/python tests/lab/test_change_catalogue.py --write)

# Not in CI (about 30 min under TCG): the catalogue's Linux bond and VLAN cases on two VMs.
lab-change-catalogue-vms: setup ## the change catalogue's Linux bond and VLAN device cases on two VMs (netplan, ifupdown); WRITE=1 as above
	time env INBAND_TIER=vms $(BIN)/python -m pytest -q -p no:cacheprovider -x tests/lab/test_change_catalogue.py
	$(if $(WRITE),$(BIN)/python tests/lab/test_change_catalogue.py --write)

# In CI (make test's takeover_vms stage, about 5 min).
lab-takeover-vms: setup ## hand-built hosts taken over on two VMs: seed 000's netplan host (Linux bonds, VLAN device) and its Open vSwitch host (kernel datapath), no ping lost
	time env INBAND_TIER=vms $(BIN)/python -m pytest -q -p no:cacheprovider -x tests/lab/test_takeover.py

lab-lacp-vms: setup ## LACP with a real partner on two VMs: a Linux 802.3ad bond (netplan) and an Open vSwitch kernel bond (ifupdown), one leg cut under traffic (docs/lacp.md)
	time env INBAND_TIER=vms $(BIN)/python -m pytest -q -p no:cacheprovider -x -s tests/lab/test_lacp.py

# Not in CI, as issue 23 allows (about 6 min; docs/performance.md has the last measured run).
lab-fleet-load: setup ## 20 in-band container hosts: site.yml converges them in one run, the next cuts 3 off (they heal by themselves: their own pings, or their timers; the 17 others report changed=0 and lose no ping); wall and controller time recorded
	time bench/fleet-load

# Two containers of the libvirt flavour (lab/flavours/libvirt), guests booted under TCG inside them.
lab-libvirt: setup ## libvirt networks on a real libvirtd: NAT/isolated/routed/bridge/Open vSwitch, live updates, restart with guests plugged back
	time $(BIN)/python -m pytest -q -p no:cacheprovider -x tests/lab/test_libvirt_lab.py

# Not in CI, for its time (about 3 min; docs/awx.md has the last measured run): on one fresh
# in-band lab, the execution environment image's jobs first (they migrate the installer-made hosts
# and roll them back), then ansible-runner's (a broken apply, job slicing).
lab-awx: ee ## AWX's way on a fresh in-band lab: site.yml and rollback.yml inside the EE image, ansible-runner jobs, a rolled-back apply, job slicing
	time $(BIN)/python -m pytest -q -p no:cacheprovider -x tests/lab/test_execution_environment.py tests/lab/test_runner_jobs.py
