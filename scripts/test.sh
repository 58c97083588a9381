#!/usr/bin/env bash
# Runs the whole Corral test suite: installs what the tests need, builds once, runs every test
# project, and ends with one line "N passed, N failed, N skipped" summed over all of them.
# Exit status: 0 only when at least one test ran and none failed or was skipped.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! dotnet build Corral.slnx -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

results="$root/TestResults"
rm -rf "$results"
mkdir -p "$results"

status=0
projects=()
for p in tests/*/*.csproj; do
  grep -q 'Microsoft.NET.Test.Sdk' "$p" && projects+=("$p")
done

for p in "${projects[@]}"; do
  name="$(basename "$p" .csproj)"
  echo "=== $name"
  # The tests signal the processes they start (SIGINT to corral dev, SIGHUP to an agent). A runner started in the
  # background ('cmd &' in a script ignores SIGINT and SIGQUIT, nohup ignores SIGHUP) passes those signals on as
  # ignored, and .NET keeps them ignored: the tests then fail for a reason that is not Corral's. Restore them.
  if ! env --default-signal=HUP,INT,QUIT dotnet test "$p" -c Release --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
      --results-directory "$results" --blame-hang-timeout 10m; then
    status=1
  fi
done

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*' "$trx" | head -n 1)"
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]\+' || echo 0; }
  p="$(get passed)"; f="$(get failed)"; e="$(get error)"; t="$(get timeout)"; a="$(get aborted)"
  total="$(get total)"; exec_="$(get executed)"
  # A failure outside any test (a class fixture's cleanup that found processes left behind) is not in the
  # counters: the TRX has it as a run-level error. Count each one as a failure. (A failed test also leaves a
  # run-level error, its "[FAIL]" line; that one is already counted.)
  r="$(awk '/<RunInfo [^>]*outcome="Error"/ { e = 1; next } e && /<Text>/ && !/\[FAIL\]<\/Text>/ { n++ } /<\/RunInfo>/ { e = 0 } END { print n + 0 }' "$trx")"
  passed=$((passed + p))
  failed=$((failed + f + e + t + a + r))
  skipped=$((skipped + total - exec_))
done

# Name every failed test, with the first lines of its message, right above the summary line, so the tail
# of a CI log says what failed without the whole log.
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  awk '
    /<UnitTestResult / {
      failed_result = ($0 ~ /outcome="(Failed|Error|Timeout|Aborted)"/); grab = 0; shown = 0
      if (failed_result && match($0, /testName="[^"]*"/)) print "FAILED " substr($0, RSTART + 10, RLENGTH - 11)
    }
    failed_result && /<Message>/ { grab = 1 }
    failed_result && grab {
      line = $0; sub(/.*<Message>/, "", line); sub(/<\/Message>.*/, "", line)
      if (shown < 4) print "    " line
      shown++
      if ($0 ~ /<\/Message>/) grab = 0
    }
    /<\/UnitTestResult>/ { failed_result = 0; grab = 0 }
    /<RunInfo [^>]*outcome="Error"/ { run_error = 1; next }
    run_error && /<Text>/ && !/\[FAIL\]<\/Text>/ {
      line = $0; sub(/.*<Text>/, "", line); sub(/<\/Text>.*/, "", line); sub(/^\[xUnit\.net [0-9:.]*\] */, "", line)
      print "FAILED (outside a test) " line
    }
    /<\/RunInfo>/ { run_error = 0 }
  ' "$trx"
done

if [ "$files" -ne "${#projects[@]}" ]; then
  echo "only $files of ${#projects[@]} test projects wrote results (a test host crashed?)"
  status=1
  [ "$failed" -eq 0 ] && failed=1
fi
[ "$passed" -eq 0 ] && status=1
[ "$failed" -ne 0 ] && status=1
# A skipped test means a real dependency was missing: that is a failure, not a pass.
[ "$skipped" -ne 0 ] && status=1

echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
