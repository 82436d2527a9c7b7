#!/bin/bash
# Structural patterns, side by side with ast-grep (issue [6]): wall time (median of 3) of
#   ast-grep run -p P -l elixir --json=stream TREE
# against `elixirscope query "pattern 'P'" TREE` in four states: the first pattern on a warm
# index (its candidate files parsed, their call sites stored), from the stored call sites (the
# query text changed so no stored answer serves it), from the query cache, and --no-cache.
#
#   scripts/patterns-vs-ast-grep.sh BIN TREE
set -euo pipefail
B=$1; T=$2; C=$(mktemp -d); trap 'rm -rf "$C"' EXIT
"$B" query "modules count" "$T" --cache-dir "$C" -q --format json >/dev/null
"$B" query "files count" "$T" --cache-dir "$C" -q --format json >/dev/null
ms() { local s e; s=$(date +%s%N); "$@" > "$C/out" 2>/dev/null || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
med() { printf "%s\n" "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
rows() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['count'])" "$C/out"; }
echo "| pattern | ast-grep | rows (ast-grep / ours) | first | from call sites | cached | --no-cache |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for p in 'Repo.get($S, $ID)' 'Enum.map($L, $F)' 'Map.get($M, $K, $_)' 'String.to_atom($A)'; do
  a=(); for i in 1 2 3; do a+=("$(ms ast-grep run -p "$p" -l elixir "$T" --json=stream)"); done
  found=$( (ast-grep run -p "$p" -l elixir "$T" --json=stream || true) | wc -l)
  first=$(ms "$B" query "pattern '$p'" "$T" --cache-dir "$C" -q --format json); ours=$(rows)
  s=(); for i in 1 2 3; do s+=("$(ms "$B" query "pattern '$p' limit $((1000000 + i))" "$T" --cache-dir "$C" -q --format json)"); done
  c=(); for i in 1 2 3; do c+=("$(ms "$B" query "pattern '$p'" "$T" --cache-dir "$C" -q --format json)"); done
  cold=$(ms "$B" query "pattern '$p'" "$T" --no-cache -q --format json)
  echo "| \`$p\` | $(med "${a[@]}") ms | $found / $ours | $first ms | $(med "${s[@]}") ms | $(med "${c[@]}") ms | $cold ms |"
done
