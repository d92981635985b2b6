#!/bin/sh
# Writes BuildInfo+Generated.swift: the git commit and dirty flag of the source tree at build time,
# so `backdrop --version` and every stored run name the code that was compiled, wherever the
# binary later runs. Outside a git checkout (a source archive) both read as unknown.
# Usage: build-info.sh PACKAGE_DIR OUTPUT_DIR
set -u
package_dir=$1
output_dir=$2
mkdir -p "$output_dir"
commit=$(git -C "$package_dir" rev-parse HEAD 2>/dev/null) || commit=unknown
dirty=nil
if [ "$commit" != unknown ]; then
  if [ -z "$(git -C "$package_dir" status --porcelain 2>/dev/null)" ]; then dirty=false; else dirty=true; fi
fi
target="$output_dir/BuildInfo+Generated.swift"
tmp="$target.tmp.$$"
cat > "$tmp" <<SWIFT
// Generated at build time by scripts/build-info.sh; not committed.
let generatedGitCommit = "$commit"
let generatedGitDirty: Bool? = $dirty
SWIFT
# Rewrite only on change, so an unchanged tree does not recompile the module.
if cmp -s "$tmp" "$target"; then rm -f "$tmp"; else mv "$tmp" "$target"; fi
