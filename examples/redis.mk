# The runbook's make targets on top of kubectl-redis. Include it from your
# Makefile (`include redis.mk`) or run it directly (`make -f redis.mk ...`).
#
#   make redis-backup                      # NS, APP_LABEL, BACKUPS_DIR as before
#   make redis-list-backups
#   make redis-restore BACKUP=./backups/redis-backup-20251024_180500.rdb
#   make redis-restore BACKUP=... YES=1    # no prompt (CI, cron)
#
# Differences from the old scripts: the file appears whole or not at all
# (mode 0600), writers come back at their own replica count (not 1), and a
# restore with appendonly yes really takes effect.
NS ?= october
APP_LABEL ?= redis
BACKUPS_DIR ?= ./backups
# Empty: the plugin stops deploy/worker if it exists. Set it to name another.
WORKER_DEPLOY ?=
KUBECTL ?= kubectl

.PHONY: redis-backup redis-list-backups redis-restore

redis-backup:
	$(KUBECTL) redis backup -n $(NS) -l app=$(APP_LABEL) --out-dir $(BACKUPS_DIR)

redis-list-backups:
	$(KUBECTL) redis list --out-dir $(BACKUPS_DIR)

redis-restore:
	@test -n "$(BACKUP)" || { echo "usage: make redis-restore BACKUP=./backups/FILE.rdb" >&2; exit 2; }
	$(KUBECTL) redis restore -n $(NS) -l app=$(APP_LABEL) --file $(BACKUP) \
	  $(if $(WORKER_DEPLOY),--scale-down deploy/$(WORKER_DEPLOY)) $(if $(YES),--yes)
