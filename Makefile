# Local Lambda stack: `make demo` and `make test` do their own set-up from a fresh clone.
PY := .venv/bin/python
FUNCTION ?=
EVENT ?=
TAG ?=
RULE ?=
AT ?=

.PHONY: help new-function compose check-template setup lock lock-check up down logs status events trace fire token invoke executions callback resume-wait debug place-orders analytics simulate-tractors seed-friends bench-etl bench-fanout demo demo-images test test-docker conformance ci-images docker-engine lint build push deploy destroy bench bench-imports bench-images bench-invoke bench-events bench-reload bench-durable chaos

## help: this list (the default target)
help:
	@echo "make TARGET, where TARGET is one of:"
	@sed -n 's/^## \([a-z-]*\): /  \1\t/p' $(MAKEFILE_LIST) | expand -t 22

## new-function: scaffold functions/NAME/, events/NAME/ and its template entry (NAME=kebab-name)
new-function: setup
	@test -n "$(NAME)" || { echo "usage: make new-function NAME=<kebab-name> [DESCRIPTION='...']"; exit 2; }
	@$(PY) -m tools.new_function "$(NAME)" $(if $(DESCRIPTION),--description "$(DESCRIPTION)")

## compose: render compose.yaml's function services from template.yaml (make up does it too)
compose: setup
	@$(PY) -m lambda_local render-compose

## check-template: read template.yaml as the local stack does and list what it declares
check-template: setup
	@$(PY) -m lambda_local check

## setup: the virtualenv (from its lock, re-locking what changed), the RIE and (host mode) MariaDB
setup:
	@tools/setup.sh

## lock: re-resolve every lock (.venv's, each image's) to the newest versions the requirements allow
lock: setup
	@$(PY) -m lambda_local.environments.locks ensure --upgrade
	@tools/setup.sh

## lock-check: fail naming each lock that is stale against its requirements files (no network)
lock-check:
	@$(if $(wildcard $(PY)),$(PY),python3) -m lambda_local.environments.locks check

## up: start the local stack (Docker mode with an engine, else host mode)
# The template is read first: a mistake in it is one line naming the place, before anything starts.
up: setup
	@$(PY) -m lambda_local check --quiet
	@$(PY) -m lambda_local render-compose --quiet
	@$(PY) -m tools.stack up

## down: stop it and remove its state
down:
	@if [ -x $(PY) ]; then $(PY) -m tools.stack down; fi

## status: each service's state; exits 1 unless all are up
status:
	@$(PY) -m tools.stack status

## logs: the services' logs ([FUNCTION=name]: one function's lines; LAMBDA_LOCAL_LOG_LEVEL=DEBUG|INFO|WARNING at make up)
logs:
	@$(PY) -m tools.stack logs $(if $(FUNCTION),--function "$(FUNCTION)")

## events: follow the plane's delivery lines
events:
	@$(PY) -m tools.stack events

## trace: one trace as an indented tree with durations (ID=trace id or request id; no ID: the recent traces)
trace:
	@$(PY) -m tools.stack trace $(if $(ID),"$(ID)")

## place-orders: a day of café orders into the database (N=200)
place-orders: up
	@$(PY) -m tools.place_orders --orders "$(or $(N),200)"

## simulate-tractors: tractor telemetry into the Kinesis stream (TRACTORS=n)
simulate-tractors: up
	@$(PY) -m tools.simulate_tractors $(if $(TRACTORS),--tractors $(TRACTORS))

## seed-friends: a user's friends and devices for the status fan-out (USER_ID=alice FRIENDS=1000)
seed-friends: up
	@$(PY) -m tools.seed_friends --user "$(or $(USER_ID),alice)" --friends "$(or $(FRIENDS),1000)"

## analytics: revenue per product group per day from the warehouse the order ETL loads
analytics: up
	@$(PY) -m tools.analytics

## token: a development JWT for the local API's authorizers (SUB=user)
token:
	@test -n "$(SUB)" || { echo "usage: make token SUB=<user> [CLAIMS='{\"email\": \"a@b.c\"}'] [AUTHORIZER=<name>]"; exit 2; }
	@$(PY) -m tools.stack token "$(SUB)" '$(CLAIMS)' "$(AUTHORIZER)"

## fire: fire a schedule rule now (RULE=name [AT=ISO time])
fire:
	@test -n "$(RULE)" || { echo "usage: make fire RULE=<schedule rule name> [AT=2026-11-20T20:00:00Z]"; exit 2; }
	@$(PY) -m tools.stack fire "$(RULE)" $(AT)

## invoke: invoke a function with an event file (FUNCTION=name EVENT=file)
invoke:
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<name> EVENT=<file>"; exit 2; }
	@$(PY) -m tools.stack invoke "$(FUNCTION)" "$(EVENT)"

## executions: a durable function's executions with status, age and what each waits for (FUNCTION=name)
executions:
	@test -n "$(FUNCTION)" || { echo "usage: make executions FUNCTION=<durable function>"; exit 2; }
	@$(PY) -m tools.stack executions "$(FUNCTION)"

## callback: answer a durable execution's callback (ID=callback id [RESULT=...|ERROR=...|HEARTBEAT=1])
callback:
	@test -n "$(ID)" || { echo "usage: make callback ID=<callback id> [RESULT=<result>|ERROR=<message>|HEARTBEAT=1]"; exit 2; }
	@$(PY) -m tools.stack callback "$(ID)" $(if $(RESULT),--result '$(value RESULT)') $(if $(ERROR),--error '$(value ERROR)') $(if $(HEARTBEAT),--heartbeat)

## resume-wait: time control: a durable execution's pending wait ends now (ARN=execution ARN [OPERATION=id])
resume-wait:
	@test -n "$(ARN)" || { echo "usage: make resume-wait ARN=<execution ARN> [OPERATION=<operation id>]"; exit 2; }
	@$(PY) -m tools.stack resume-wait '$(value ARN)' $(if $(OPERATION),--operation "$(OPERATION)")

## debug: run a function's next invocation under debugpy on 127.0.0.1:5678 (FUNCTION=name [OFF=1])
debug:
	@test -n "$(FUNCTION)" || { echo "usage: make debug FUNCTION=<name> [OFF=1]"; exit 2; }
	@$(PY) -m tools.stack debug "$(FUNCTION)" $(if $(OFF),--off)

## demo: the café sales report end to end
demo: up
	@$(PY) -m tools.demo

## demo-images: upload a generated photo and show its renditions and labels
demo-images: up
	@$(PY) -m tools.demo_images

## test: unit and integration tests (starts the stack when none runs)
test: setup
	@$(PY) -m pytest --cov=functions --cov=shared --cov=lambda_local --cov=stack --cov=tools --cov-report=term:skip-covered

## test-docker: the integration suite with the stack in containers, and the image tests
# The integration suite again with the stack in containers, plus the sandbox and push tests.
test-docker: setup
	@STACK_MODE=docker $(PY) -m pytest tests/integration tests/docker

## conformance: AWS's durable execution conformance requirements on a probe plane in the stack's mode: conforming per suite
conformance: setup
	@$(PY) -m pytest tests/conformance -q --tb=no -rN

## docker-engine: Debian without Docker: the engine, Compose and buildx plugins, a local registry (root)
docker-engine:
	@tools/docker/install_engine.sh

## ci-images: offline machines only: stand-ins for the registry images (tests/standins/README.md)
ci-images: setup
	@tests/standins/build.sh

## lint: ruff, mypy --strict, hadolint, the locks current, cfn-lint, the compose spec
lint: setup
	@$(PY) -m tools.lint

## build: build every function's image
build: setup
	@$(PY) -m tools.images build

## push: push the images to ECR (TAG=...)
push: setup
	@$(PY) -m tools.images push $(if $(TAG),--tag $(TAG))

## deploy: sam deploy of template.yaml with the pushed images
deploy: setup
	@$(PY) -m tools.deploy deploy

## destroy: sam delete of the deployed stack (the photo buckets and orders tables are retained)
destroy: setup
	@$(PY) -m tools.deploy destroy

## bench: cold and warm invokes of every function
bench: up
	@$(PY) -m bench.extractor_bench

## bench-imports: where each function's Init goes (python -X importtime)
bench-imports: setup
	@$(PY) -m bench.imports_bench

## bench-images: image-resize's rendition code against naive Pillow and libvips
bench-images: setup
	@$(PY) -m pip install --quiet -r bench/requirements.txt
	@$(PY) -m bench.images_bench

## bench-invoke: what the plane adds to an invocation, and how it scales out
bench-invoke: up
	@$(PY) -m bench.invoke_bench
	@$(PY) -m bench.shim_bench

## bench-fanout: POST /status for users with 100 and 1,000 friends, against moto's own SNS rate
bench-fanout: up
	@$(PY) -m bench.fanout_bench

## bench-etl: orders through the DynamoDB stream into the warehouse, batched against row by row
bench-etl: up
	@$(PY) -m bench.etl_bench

## bench-reload: edit -> new code served, in the stack's mode (host: against a plane restart)
bench-reload: up
	@$(PY) -m bench.reload_bench

## bench-events: the upload path's latency through S3 -> SNS -> the plane, the stream and SQS mappings
bench-events: up
	@$(PY) -m bench.events_bench
	@$(PY) -m bench.streams_bench
	@$(PY) -m bench.sqs_bench

## bench-durable: durable functions: checkpoint round trip, a 10-step workflow against plain, 200 waits at once
bench-durable: setup
	@$(PY) -m bench.durable_bench

## chaos: mixed load on a probe plane SIGKILLed and restarted ROUNDS times (5): anything accepted lost?
chaos: up
	@$(PY) -m bench.chaos_bench --rounds "$(or $(ROUNDS),5)"
