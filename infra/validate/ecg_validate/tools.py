"""External tools: the linters in the project's venv, and running a command for a check."""
import os
import shutil
import subprocess
import sys

from .problems import problem


def venv_bin(name):
    """A tool of the venv this Python runs in (infra/local/deps.sh installs them), else from PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.access(candidate, os.X_OK) else (shutil.which(name) or name)


def run(command, **kwargs):
    """(exit status, stdout and stderr together) of command."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    return result.returncode, result.stdout


def tool_passes(command, **kwargs):
    """Runs a linter; its output lines are the problems when it fails."""
    status, output = run(command, **kwargs)
    if status != 0:
        for line in output.strip().splitlines() or [f"{command[0]} exited {status}"]:
            problem(line)


def hadolint(dockerfile):
    tool_passes([venv_bin("hadolint"), "--no-color", dockerfile])


def compose_schema(compose_file):
    tool_passes([venv_bin("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", compose_file])


def workflow_schema(*workflow_files):
    tool_passes([venv_bin("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflow_files])


def cfn_lint(*templates):
    tool_passes([venv_bin("cfn-lint"), "--non-zero-exit-code", "informational", "--", *templates])


def shell_scripts(*scripts):
    """bash -n or sh -n by the first line, and shellcheck -S warning when it is installed."""
    for script in scripts:
        with open(script) as f:
            shell = "bash" if "bash" in f.readline() else "sh"
        tool_passes([shell, "-n", script])
        if shutil.which("shellcheck"):
            tool_passes(["shellcheck", "-S", "warning", script])
