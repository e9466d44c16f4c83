# The smoke suite that scripts/windows-check.sh (Wine) and scripts/aarch64-check.sh (QEMU) run
# against a footprint built for another platform: sourced by them, not run on its own.
#
# Every check prints PASS or FAIL with what was expected; `smoke_suite` returns 1 when any
# failed. What is "right" is the Linux x86-64 binary's answer to the same command (its output
# is the one tests/golden.rs pins), so the other platform must print the same bytes and exit
# with the same code; where the figures are measured, the check is on their shape instead.
#
# The caller defines:
#   TARGET=(...)          the command that runs the binary under test (Wine or QEMU and the
#                         binary); it is run from the repository root, stdin from /dev/null
#   target_path PATH      prints an absolute Unix PATH as the binary under test names it
#   HOST_BIN              the Linux x86-64 release binary (the reference)
#   SMOKE_OS              windows or linux (what the binary under test believes it runs on)
#   SMOKE_TMP             an empty scratch directory (absolute path)
#   EXIT3=(...)           a command, as the binary under test runs it, that exits with 3
#   BUSY3=(...)           one that uses some CPU for a second or so, then exits with 3
#   EXTRA_OUTPUTS=(...)   optional pairs "TARGET-PATH|UNIX-PATH" of further -o destinations
# and may set LOSS_TOLERANCE (relative; 0, the default, asks for the same bits as the host).

SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-600}
smoke_passed=0
smoke_failed=0
smoke_failures=()

pass() { # what passed
    smoke_passed=$((smoke_passed + 1))
    echo "PASS $1"
}

fail() { # what failed, then lines saying what was expected and what came
    smoke_failed=$((smoke_failed + 1))
    smoke_failures+=("$1")
    echo "FAIL $1"
    shift
    local line
    for line in "$@"; do
        echo "       $line"
    done
}

# t NAME ARGS...: runs the binary under test; stdout and stderr land in $SMOKE_TMP/NAME.t.out
# and .t.err with CRLF line ends made LF (counted in t_crlf), the exit code in t_rc.
t() {
    local name=$1
    shift
    t_rc=0
    timeout -k 10 "$SMOKE_TIMEOUT" "${TARGET[@]}" "$@" </dev/null \
        >"$SMOKE_TMP/$name.t.raw" 2>"$SMOKE_TMP/$name.t.err.raw" || t_rc=$?
    t_crlf=$(cat "$SMOKE_TMP/$name.t.raw" "$SMOKE_TMP/$name.t.err.raw" | tr -cd '\r' | wc -c)
    sed 's/\r$//' "$SMOKE_TMP/$name.t.raw" >"$SMOKE_TMP/$name.t.out"
    sed 's/\r$//' "$SMOKE_TMP/$name.t.err.raw" >"$SMOKE_TMP/$name.t.err"
}

# h NAME ARGS...: the same command with the host's binary, into NAME.h.out/.h.err and h_rc.
h() {
    local name=$1
    shift
    h_rc=0
    timeout -k 10 "$SMOKE_TIMEOUT" "$HOST_BIN" "$@" </dev/null \
        >"$SMOKE_TMP/$name.h.out" 2>"$SMOKE_TMP/$name.h.err" || h_rc=$?
}

# first_difference A B: the first line where the files differ, as expected/actual lines.
first_difference() {
    local n
    n=$(cmp "$1" "$2" 2>/dev/null | sed -n 's/.* line \([0-9]*\).*/\1/p')
    if [ -z "$n" ]; then
        local e a
        e=$(wc -l <"$1")
        a=$(wc -l <"$2")
        echo "expected $e lines, got $a (one is a prefix of the other)"
        # What the longer one has beyond the other, control characters shown (cat -v).
        if [ "$(wc -c <"$2")" -gt "$(wc -c <"$1")" ]; then
            echo "actual has more: $(tail -c +"$(($(wc -c <"$1") + 1))" "$2" | cat -v | head -c 160)"
        else
            echo "expected has more: $(tail -c +"$(($(wc -c <"$2") + 1))" "$1" | cat -v | head -c 160)"
        fi
        return
    fi
    echo "from line $n: expected: $(sed -n "${n}p" "$1" | cut -c1-160)"
    echo "from line $n: actual:   $(sed -n "${n}p" "$2" | cut -c1-160)"
}

# same_as_host NAME ARGS...: runs ARGS with both binaries; `diffs` is empty when they answer
# with the same exit code, stdout and stderr, otherwise lines that say how they differ.
same_as_host() {
    local name=$1
    shift
    t "$name" "$@"
    h "$name" "$@"
    diffs=$(
        [ "$t_rc" = "$h_rc" ] || echo "exit code: expected $h_rc (as on Linux x86-64), got $t_rc"
        cmp -s "$SMOKE_TMP/$name.h.out" "$SMOKE_TMP/$name.t.out" ||
            first_difference "$SMOKE_TMP/$name.h.out" "$SMOKE_TMP/$name.t.out" | sed 's/^/stdout /'
        cmp -s "$SMOKE_TMP/$name.h.err" "$SMOKE_TMP/$name.t.err" ||
            first_difference "$SMOKE_TMP/$name.h.err" "$SMOKE_TMP/$name.t.err" | sed 's/^/stderr /'
    )
}

# check_same DESCRIPTION NAME ARGS...: one PASS/FAIL line for same_as_host.
check_same() {
    local what=$1
    shift
    same_as_host "$@"
    if [ -z "$diffs" ]; then
        pass "$what: stdout, stderr and exit $h_rc as on Linux x86-64"
    else
        local lines=()
        mapfile -t lines <<<"$diffs"
        fail "$what: expected the Linux x86-64 binary's stdout, stderr and exit code" "${lines[@]}"
    fi
}

# json_value FILE KEY: the first scalar written as `"KEY": value` in a pretty-printed JSON file.
json_value() {
    sed -n "s/^ *\"$2\": \(.*\)$/\1/p" "$1" | head -1 | sed 's/,$//; s/^"\(.*\)"$/\1/'
}

# loss FILE: "first last" of the measurement's training loss.
loss() {
    sed -n '/"loss": {/,/}/p' "$1" | sed -n 's/^ *"\(first\|last\)": \([^,]*\),*$/\2/p' | tr '\n' ' ' |
        sed 's/ $//'
}

# close_enough A B TOLERANCE: whether |A - B| <= TOLERANCE * |B| (awk's doubles).
close_enough() {
    awk -v a="$1" -v b="$2" -v tol="$3" \
        'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(d <= tol * m) }'
}

suite_version() {
    check_same "--version" version --version
}

# Every shipped run file (examples/**/*.toml) in every format `estimate` prints.
suite_estimate_examples() {
    local file fmt name all
    while IFS= read -r file; do
        all=()
        for fmt in table json csv markdown html; do
            name=estimate-$(echo "$file" | tr '/.' '__')-$fmt
            same_as_host "$name" estimate "$file" -f "$fmt"
            [ -z "$diffs" ] || all+=("-f $fmt:" "$diffs")
        done
        if [ ${#all[@]} -eq 0 ]; then
            pass "estimate $file -f table|json|csv|markdown|html: output and exit code as on Linux x86-64"
        else
            local lines=()
            mapfile -t lines < <(printf '%s\n' "${all[@]}")
            fail "estimate $file: expected the Linux x86-64 binary's output and exit code" "${lines[@]}"
        fi
    done < <(find examples -name '*.toml' | LC_ALL=C sort)
}

suite_sweep_profiles() {
    check_same "sweep (table)" sweep-table sweep examples/laptop-finetune.toml --device L4,H100,A100-80GB --region FR,PL,aws:us-west-2
    check_same "sweep -f csv" sweep-csv sweep examples/laptop-finetune.toml --device all --count 1,2 -f csv
    check_same "sweep -f html" sweep-html sweep examples/laptop-finetune.toml --device L4,H100 -f html
    check_same "profiles list gpus" profiles-gpus profiles list gpus
    check_same "profiles show aws:us-east-1" profiles-aws profiles show aws:us-east-1
}

suite_check() {
    check_same "check within budget (exit 0)" check-within check examples/ci/budgeted-run.toml
    [ "$t_rc" = 0 ] || fail "check within budget: expected exit 0, got $t_rc"
    check_same "check over budget with --strict (exit 1)" check-over check examples/ci/budgeted-run.toml --strict
    [ "$t_rc" = 1 ] || fail "check over budget: expected exit 1, got $t_rc"
    check_same "check a measurement report within --max-energy" check-meas-within \
        check tests/fixtures/measurement-cpu.json --max-energy 1kWh -f json
    check_same "check a measurement report over --max-co2e -f markdown" check-meas-over \
        check tests/fixtures/measurement-cpu.json --max-co2e 1g -f markdown
}

# Every file of the hostile-input suite: exit 2, one message, the same as on Linux.
suite_bad_inputs() {
    local file name n=0 bad=0 separators=()
    for file in tests/bad_inputs/*; do
        [ "$(basename "$file")" = expected.toml ] && continue
        n=$((n + 1))
        name=bad-$(basename "$file" | tr '.' '_')
        same_as_host "$name" estimate "$file"
        # On Windows a path footprint joins (the run file's folder and a path in it) is
        # written with Windows' separator: tests/bad_inputs\nope.json. Allowed, and listed.
        if [ -n "$diffs" ] && [ "$SMOKE_OS" = windows ] && [ "$t_rc" = "$h_rc" ] &&
            cmp -s "$SMOKE_TMP/$name.h.out" "$SMOKE_TMP/$name.t.out" &&
            [ "$(tr '\\' / <"$SMOKE_TMP/$name.t.err")" = "$(cat "$SMOKE_TMP/$name.h.err")" ]; then
            diffs=
            separators+=("$file: $(cat "$SMOKE_TMP/$name.t.err")")
        fi
        if [ -n "$diffs" ] || [ "$t_rc" != 2 ]; then
            bad=$((bad + 1))
            local lines=()
            mapfile -t lines <<<"$diffs"
            fail "estimate $file: expected exit 2 and the Linux x86-64 binary's message" \
                "exit code: $t_rc" "${lines[@]}"
        fi
    done
    [ "$bad" -gt 0 ] || pass "estimate on each of the $n files in tests/bad_inputs/: exit 2 and the same message as on Linux x86-64"
    [ ${#separators[@]} -eq 0 ] || printf '     (the same but for the path separator: %s)\n' "${separators[@]}"
    t missing estimate examples/no-such-run.toml
    if [ "$t_rc" = 2 ] && grep -q 'no-such-run.toml' "$SMOKE_TMP/missing.t.err" && [ ! -s "$SMOKE_TMP/missing.t.out" ]; then
        pass "estimate on a missing file: exit 2, the message names it ($(head -1 "$SMOKE_TMP/missing.t.err"))"
    else
        fail "estimate on a missing file: expected exit 2 and a message naming it" \
            "got exit $t_rc, stderr: $(head -1 "$SMOKE_TMP/missing.t.err")"
    fi
}

# -o into the platform's own paths, and over a file that is there already.
suite_outputs() {
    h out-ref estimate examples/laptop-finetune.toml -f json
    local dir=$SMOKE_TMP/out pairs=() pair tp up
    mkdir -p "$dir"
    pairs+=("$(target_path "$dir/report.json")|$dir/report.json")
    pairs+=("${EXTRA_OUTPUTS[@]}")
    for pair in "${pairs[@]}"; do
        tp=${pair%%|*}
        up=${pair#*|}
        mkdir -p "$(dirname "$up")"
        rm -f "$up"
        t out-new estimate examples/laptop-finetune.toml -o "$tp"
        if [ "$t_rc" = 0 ] && cmp -s "$SMOKE_TMP/out-ref.h.out" "$up"; then
            pass "estimate -o '$tp': exit 0, the file holds the JSON report (as Linux's -f json)"
        else
            fail "estimate -o '$tp': expected exit 0 and $up equal to Linux's -f json output" \
                "got exit $t_rc; $( [ -e "$up" ] && first_difference "$SMOKE_TMP/out-ref.h.out" "$up" | head -1 || echo "no file at $up")" \
                "stderr: $(head -2 "$SMOKE_TMP/out-new.t.err")"
        fi
        # Over an existing file: replaced whole, and nothing left beside it.
        printf 'the previous report, longer than nothing\n%.0s' $(seq 1 500) >"$up"
        local before
        before=$(ls -A "$(dirname "$up")")
        t out-over estimate examples/laptop-finetune.toml -f json -o "$tp"
        local after
        after=$(ls -A "$(dirname "$up")")
        if [ "$t_rc" = 0 ] && cmp -s "$SMOKE_TMP/out-ref.h.out" "$up" && [ "$before" = "$after" ]; then
            pass "estimate -f json -o '$tp' over an existing file: replaced by the new JSON, no temporary file left"
        else
            fail "estimate -f json -o '$tp' over an existing file: expected exit 0, the new JSON and no file left beside it" \
                "got exit $t_rc; files before: $(echo $before); after: $(echo $after)" \
                "$(cmp "$SMOKE_TMP/out-ref.h.out" "$up" 2>&1 | head -1)"
        fi
    done
    # Several -o in one run, each in its extension's format.
    local j c
    j=$(target_path "$dir/two.json")
    c=$(target_path "$dir/two.csv")
    h out-csv estimate examples/laptop-finetune.toml -f csv
    t out-two estimate examples/laptop-finetune.toml -o "$j" -o "$c"
    if [ "$t_rc" = 0 ] && cmp -s "$SMOKE_TMP/out-ref.h.out" "$dir/two.json" && cmp -s "$SMOKE_TMP/out-csv.h.out" "$dir/two.csv"; then
        pass "estimate -o '$j' -o '$c': both written, each in its extension's format"
    else
        fail "estimate -o '$j' -o '$c': expected exit 0, the JSON and the CSV as Linux writes them" \
            "got exit $t_rc; stderr: $(head -2 "$SMOKE_TMP/out-two.t.err")"
    fi
}

# measure -- CMD: the command's exit code passed through, its report written.
suite_measure_command() {
    local dir=$SMOKE_TMP/measure
    mkdir -p "$dir"
    t measure-exit3 measure --no-progress -o "$(target_path "$dir/exit3.json")" -- "${EXIT3[@]}"
    local mode code
    mode=$(json_value "$dir/exit3.json" mode 2>/dev/null)
    code=$(json_value "$dir/exit3.json" exit_code 2>/dev/null)
    if [ "$t_rc" = 3 ] && [ "$mode" = command ] && [ "$code" = 3 ]; then
        pass "measure -- ${EXIT3[*]}: exit 3 passed through, -o report with mode command and exit_code 3"
    else
        fail "measure -- ${EXIT3[*]}: expected exit 3 and a report with mode command, exit_code 3" \
            "got exit $t_rc, report mode '${mode}', exit_code '${code}'" \
            "stderr: $(head -3 "$SMOKE_TMP/measure-exit3.t.err" | tr '\n' ' ')"
    fi

    # A command that works for a while: the sampler and the CPU-time model see it.
    t measure-busy measure --no-progress --interval-ms 50 -o "$(target_path "$dir/busy.json")" -- "${BUSY3[@]}"
    local cpu energy counted readings
    cpu=$(json_value "$dir/busy.json" cpu_seconds 2>/dev/null)
    energy=$(json_value "$dir/busy.json" energy_j 2>/dev/null)
    readings=$(json_value "$dir/busy.json" readings 2>/dev/null)
    counted=$(sed -n '/"counted": \[/,/\]/p' "$dir/busy.json" 2>/dev/null | grep -c '"cpu-model"')
    if [ "$t_rc" = 3 ] && awk -v c="${cpu:-0}" -v e="${energy:-0}" -v r="${readings:-0}" \
        'BEGIN { exit !(c > 0 && e > 0 && r >= 3) }' && [ "$counted" -ge 1 ]; then
        pass "measure -- (a busy command exiting 3): exit 3, cpu_seconds $cpu > 0, energy_j $energy > 0, $readings readings, cpu-model counted"
    else
        fail "measure -- (a busy command exiting 3): expected exit 3, cpu_seconds > 0, energy_j > 0, >= 3 readings, cpu-model counted" \
            "got exit $t_rc, cpu_seconds '$cpu', energy_j '$energy', readings '$readings', cpu-model counted: $counted" \
            "stderr: $(head -3 "$SMOKE_TMP/measure-busy.t.err" | tr '\n' ' ')"
    fi
}

# The training loop for a few steps: the loss it reports, against the host's.
suite_training() {
    local dir=$SMOKE_TMP/train tol=${LOSS_TOLERANCE:-0}
    mkdir -p "$dir"
    local -a runs=(
        "mlp|--steps 5 --warmup 1"
        "transformer|--workload transformer --steps 3 --warmup 1 --width 64 --depth 2 --heads 4 --seq-len 32 --batch-size 4"
    )
    local r name args tl hl
    for r in "${runs[@]}"; do
        name=${r%%|*}
        read -ra args <<<"${r#*|}"
        t "train-$name" measure --no-progress "${args[@]}" -o "$(target_path "$dir/$name.json")"
        h "train-$name" measure --no-progress "${args[@]}" -o "$dir/$name.host.json"
        tl=$(loss "$dir/$name.json" 2>/dev/null)
        hl=$(loss "$dir/$name.host.json")
        local mode steps
        mode=$(json_value "$dir/$name.json" mode 2>/dev/null)
        steps=$(json_value "$dir/$name.json" steps 2>/dev/null)
        if [ "$t_rc" != 0 ] || [ "$mode" != training ] || [ -z "$tl" ] ||
            ! grep -q '^Loss\|│ Loss' "$SMOKE_TMP/train-$name.t.out"; then
            fail "measure ${args[*]}: expected exit 0, a training report and its table" \
                "got exit $t_rc, mode '$mode', steps '$steps', loss '$tl'" \
                "stderr: $(head -3 "$SMOKE_TMP/train-$name.t.err" | tr '\n' ' ')"
            continue
        fi
        if [ "$tl" = "$hl" ]; then
            pass "measure ${args[*]}: $steps steps, loss first/last $tl, the same bits as on Linux x86-64"
        elif [ "$tol" != 0 ] && close_enough "${tl% *}" "${hl% *}" "$tol" && close_enough "${tl#* }" "${hl#* }" "$tol"; then
            pass "measure ${args[*]}: $steps steps, loss first/last $tl; Linux x86-64: $hl (within $tol, not the same bits)"
        else
            fail "measure ${args[*]}: expected the loss first/last of Linux x86-64${tol:+ (relative tolerance $tol)}" \
                "expected: $hl" "actual:   $tl"
        fi
    done
}

# The notes of a Windows run name what Windows has: no /sys or /proc path, and NVML's note
# names the library tried there (nvml.dll), as Linux's names libnvidia-ml.so.1.
suite_windows_notes() {
    local hits
    hits=$(grep -n -E '/sys|/proc|\\class\\|powercap|libnvidia-ml\.so' \
        "$SMOKE_TMP"/measure-*.t.err "$SMOKE_TMP"/train-*.t.out "$SMOKE_TMP"/train-*.t.err \
        "$SMOKE_TMP"/measure/*.json "$SMOKE_TMP"/train/mlp.json "$SMOKE_TMP"/train/transformer.json 2>/dev/null |
        sed "s|^$SMOKE_TMP/||" | cut -c1-200 | sort -u)
    if [ -z "$hits" ]; then
        pass "Windows notes (measure's stderr, its table and JSON): no Linux path (/sys, /proc, powercap, .so)"
    else
        local lines=()
        mapfile -t lines < <(echo "$hits" | head -8)
        fail "Windows notes: expected no Linux path (/sys, /proc, powercap, .so) in measure's notes; found:" "${lines[@]}"
    fi
    local nvml
    nvml=$(grep -h -o 'NVML: .*' "$SMOKE_TMP/measure-exit3.t.err" | head -1)
    if [ -z "$nvml" ] || grep -qi 'nvml\.dll' <<<"$nvml"; then
        pass "Windows notes: NVML's note names nvml.dll (${nvml:-no NVML note})"
    else
        fail "Windows notes: expected NVML's note to name the library tried (nvml.dll)" "got: $nvml"
    fi
}

smoke_suite() {
    local t0=$SECONDS
    suite_version
    if [ "$t_rc" != 0 ]; then
        fail "the binary does not start: nothing else is checked" "stderr: $(head -5 "$SMOKE_TMP/version.t.err" | tr '\n' ' ')"
        return 1
    fi
    suite_estimate_examples
    suite_sweep_profiles
    suite_check
    suite_bad_inputs
    suite_outputs
    suite_measure_command
    suite_training
    [ "$SMOKE_OS" != windows ] || suite_windows_notes
    echo "smoke suite: $smoke_passed passed, $smoke_failed failed, in $((SECONDS - t0)) s"
    if [ "$smoke_failed" -gt 0 ]; then
        printf '  failed: %s\n' "${smoke_failures[@]}"
        return 1
    fi
}
