"""Package.swift, Package.pins and this machine's Package.resolved: exact versions, the same everywhere."""
import json
import os
import re

from .problems import problem


def package_identity(url):
    return url.rstrip("/").split("/")[-1].removesuffix(".git").lower()


def check_pins(package_swift, pins_path, resolved_path):
    text = open(package_swift).read()
    pins = {}
    for line in open(pins_path):
        line = line.strip()
        if line and not line.startswith("#"):
            identity, version = line.split()
            pins[identity] = version
    deps = re.findall(r'\.package\(\s*url:\s*"([^"]+)"\s*,\s*(\w+):\s*"([^"]+)"', text)
    if not deps:
        problem("Package.swift: no dependencies found")
    if re.search(r"\.package\([^)]*\b(from|branch|revision):", text) or re.search(r'"[0-9.]+"\s*(\.\.<|\.\.\.)', text):
        problem("Package.swift: every dependency must be `exact:` (no from:, ranges, branches)")
    for url, kind, version in deps:
        identity = package_identity(url)
        if kind != "exact":
            problem(f"Package.swift: {identity} is `{kind}: {version}`, must be `exact:`")
        if pins.get(identity) != version:
            problem(f"Package.swift: {identity} {version} differs from Package.pins ({pins.get(identity)})")
    # Where this machine resolved the graph, it must be the pinned one.
    if resolved_path and os.path.exists(resolved_path):
        resolved = {p["identity"]: (p.get("state") or {}).get("version") for p in json.load(open(resolved_path)).get("pins", [])}
        if resolved != pins:
            diff = sorted(set(resolved.items()) ^ set(pins.items()))
            problem(f"Package.resolved (this machine's resolution) differs from Package.pins: {diff}")


