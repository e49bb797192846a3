# ECG Backend: local commands (SPEC section 2). No Docker needed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build run start stop status test bench clean-data

help:
	@echo "make run         install, build, start everything in the foreground (Ctrl-C stops)"
	@echo "make start|stop  the same stack in the background / stop it"
	@echo "make status      one line per component"
	@echo "make test        build, start a throwaway stack, swift test, tear it down"
	@echo "make build       swift build"
	@echo "make clean-data  stop and delete .data/"

deps:
	@infra/local/deps.sh

build: deps
	swift build

run: deps build
	STACK_PROFILE=dev infra/local/stack.sh run

start: deps build
	STACK_PROFILE=dev infra/local/stack.sh start

stop:
	@STACK_PROFILE=dev infra/local/stack.sh stop

status:
	@STACK_PROFILE=dev infra/local/stack.sh status

test:
	infra/local/test.sh

bench:
	@bench/run.sh

clean-data:
	@STACK_PROFILE=test infra/local/stack.sh stop
	@STACK_PROFILE=dev infra/local/stack.sh stop
	rm -rf .data
