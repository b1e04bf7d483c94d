# Local infrastructure (Kafka, PostgreSQL and Keycloak without Docker); included by the
# root Makefile. Connection settings for a shell: eval "$(scripts/infra/env.sh)"

INFRA_SCRIPTS := $(CURDIR)/scripts/infra

.PHONY: infra-up infra-down infra-status kafka-up kafka-down pg-up pg-down idp-up idp-down

# All three start in parallel even without `make -j`: the JVMs' starts dominate.
infra-up:
	@$(INFRA_SCRIPTS)/postgres.sh start & pg=$$!; \
	$(INFRA_SCRIPTS)/kafka.sh start & kafka=$$!; \
	$(INFRA_SCRIPTS)/keycloak.sh start & idp=$$!; \
	rc=0; wait $$pg || rc=1; wait $$kafka || rc=1; wait $$idp || rc=1; exit $$rc

infra-down:
	@rc=0; $(INFRA_SCRIPTS)/keycloak.sh stop || rc=1; $(INFRA_SCRIPTS)/kafka.sh stop || rc=1; \
	$(INFRA_SCRIPTS)/postgres.sh stop || rc=1; exit $$rc

# Runs both checks so the output shows which one is down.
infra-status:
	@rc=0; $(INFRA_SCRIPTS)/kafka.sh status || rc=1; \
	$(INFRA_SCRIPTS)/postgres.sh status || rc=1; $(INFRA_SCRIPTS)/keycloak.sh status || rc=1; exit $$rc

kafka-up:
	@$(INFRA_SCRIPTS)/kafka.sh start

kafka-down:
	@$(INFRA_SCRIPTS)/kafka.sh stop

pg-up:
	@$(INFRA_SCRIPTS)/postgres.sh start

pg-down:
	@$(INFRA_SCRIPTS)/postgres.sh stop

# The OpenID Connect provider (Keycloak, realm in deploy/keycloak/): http://127.0.0.1:18080/realms/ecomops
idp-up:  ## start the local OpenID Connect provider with the demo realm (docs/identity.md)
	@$(INFRA_SCRIPTS)/keycloak.sh start

idp-down:
	@$(INFRA_SCRIPTS)/keycloak.sh stop
