"""Checks of ECG Backend's deployment files (Dockerfile, compose/, infra/aws/, the workflows), run by
`make test` through infra/validate.sh. The services' variables, ports, topics and consumer groups come
from the built executables (`<service> print-settings --json`), not from tables kept here."""
