#!/bin/sh
# Resolves the Swift package graph to exactly the versions in Package.pins and fails if the
# result differs (deploy review H3: CI and every image build use the same, tested versions).
# Direct dependencies are `exact:` in Package.swift; the transitive ones are pinned here with
# `swift package resolve <identity> --version <version>`. The Dockerfile and CI run it.
# Needs only sh, awk and swift (it runs in the swift build image).
set -eu
cd "$(dirname "$0")/.."
pins=Package.pins

resolved_versions() { # "identity version" per line, sorted, from Package.resolved
  awk -F'"' '/"identity" *:/ { id = $4 } /"version" *: *"/ { print id, $4 }' Package.resolved | sort
}
wanted_versions() {
  grep -v '^[[:space:]]*#' "$pins" | awk 'NF == 2 { print $1, $2 }' | sort
}

swift package resolve
wanted_versions | while read -r id version; do
  current="$(resolved_versions | awk -v id="$id" '$1 == id { print $2 }')"
  if [ "$current" != "$version" ]; then
    echo "pin-dependencies: $id ${current:-(not in the graph)} -> $version"
    swift package resolve "$id" --version "$version"
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
resolved_versions >"$work/resolved"
wanted_versions >"$work/wanted"
if ! diff -u "$work/wanted" "$work/resolved" >"$work/diff"; then
  echo "pin-dependencies: the resolved graph differs from $pins (- pinned, + resolved):" >&2
  cat "$work/diff" >&2
  echo "pin-dependencies: add a new package to $pins, or fix the version in Package.swift/$pins" >&2
  exit 1
fi
echo "pin-dependencies: $(wc -l <"$work/resolved" | tr -d ' ') packages at the versions of $pins"
